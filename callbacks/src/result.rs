use crate::ChatError;

/// The outcome of a [`crate::Call`]: the data on success, a [`ChatError`] on failure.
///
/// Kotlin's `if (result.isSuccess) result.data() else result.error()` reads the same in
/// Rust, and the enum can be matched directly:
///
/// ```
/// use stream_chat_callbacks::{ChatError, ChatResult, ErrorKind};
///
/// let result: ChatResult<u32> = ChatResult::Success(7);
/// if result.is_success() {
///     assert_eq!(*result.data(), 7);
/// }
/// match ChatResult::<u32>::Failure(ChatError::new(ErrorKind::Timeout, "slow")) {
///     ChatResult::Success(n) => println!("{n}"),
///     ChatResult::Failure(e) => assert_eq!(e.kind(), ErrorKind::Timeout),
/// }
/// ```
#[must_use = "a ChatResult may hold an error that should be handled"]
#[derive(Clone, Debug, PartialEq)]
pub enum ChatResult<T> {
    /// The call succeeded with this data.
    Success(T),
    /// The call failed with this error.
    Failure(ChatError),
}

impl<T> ChatResult<T> {
    /// True when the call succeeded.
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatResult;
    /// assert!(ChatResult::Success(()).is_success());
    /// ```
    pub fn is_success(&self) -> bool {
        matches!(self, ChatResult::Success(_))
    }

    /// True when the call failed.
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ChatResult};
    /// assert!(ChatResult::<()>::Failure(ChatError::cancelled()).is_error());
    /// ```
    pub fn is_error(&self) -> bool {
        !self.is_success()
    }

    /// The data of a successful result.
    ///
    /// # Panics
    /// Panics when the result is a failure, as Kotlin's `data()` throws: check
    /// [`is_success`](Self::is_success) first, or use [`as_result`](Self::as_result).
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatResult;
    /// assert_eq!(ChatResult::Success("hi").data(), &"hi");
    /// ```
    #[track_caller]
    pub fn data(&self) -> &T {
        match self {
            ChatResult::Success(data) => data,
            ChatResult::Failure(err) => panic!(
                "ChatResult is not successful ({err}). Check result.is_success() before reading result.data()."
            ),
        }
    }

    /// The error of a failed result.
    ///
    /// # Panics
    /// Panics when the result is a success: check [`is_error`](Self::is_error) first.
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ChatResult};
    /// let r: ChatResult<()> = ChatResult::Failure(ChatError::cancelled());
    /// assert!(r.error().is_cancelled());
    /// ```
    #[track_caller]
    pub fn error(&self) -> &ChatError {
        match self {
            ChatResult::Failure(err) => err,
            ChatResult::Success(_) => panic!(
                "ChatResult is successful, not an error. Check result.is_error() before reading result.error()."
            ),
        }
    }

    /// The data, or `None` on failure.
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatResult;
    /// assert_eq!(ChatResult::Success(1).data_or_none(), Some(&1));
    /// ```
    pub fn data_or_none(&self) -> Option<&T> {
        match self {
            ChatResult::Success(data) => Some(data),
            ChatResult::Failure(_) => None,
        }
    }

    /// The error, or `None` on success.
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatResult;
    /// assert!(ChatResult::Success(1).error_or_none().is_none());
    /// ```
    pub fn error_or_none(&self) -> Option<&ChatError> {
        match self {
            ChatResult::Failure(err) => Some(err),
            ChatResult::Success(_) => None,
        }
    }

    /// Converts into a standard `Result`, for `?`.
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ChatResult};
    /// fn run() -> Result<u8, ChatError> {
    ///     let n = ChatResult::Success(3u8).into_result()?;
    ///     Ok(n + 1)
    /// }
    /// assert_eq!(run().unwrap(), 4);
    /// ```
    pub fn into_result(self) -> Result<T, ChatError> {
        self.into()
    }

    /// Borrows as a standard `Result`.
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatResult;
    /// assert_eq!(ChatResult::Success(2).as_result().ok(), Some(&2));
    /// ```
    pub fn as_result(&self) -> Result<&T, &ChatError> {
        match self {
            ChatResult::Success(data) => Ok(data),
            ChatResult::Failure(err) => Err(err),
        }
    }

    /// Maps the data of a success.
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatResult;
    /// assert_eq!(ChatResult::Success(2).map(|n| n * 10), ChatResult::Success(20));
    /// ```
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> ChatResult<U> {
        match self {
            ChatResult::Success(data) => ChatResult::Success(f(data)),
            ChatResult::Failure(err) => ChatResult::Failure(err),
        }
    }

    /// Chains a fallible step after a success.
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatResult;
    /// let r = ChatResult::Success(2).flat_map(|n| ChatResult::Success(n + 1));
    /// assert_eq!(r, ChatResult::Success(3));
    /// ```
    pub fn flat_map<U>(self, f: impl FnOnce(T) -> ChatResult<U>) -> ChatResult<U> {
        match self {
            ChatResult::Success(data) => f(data),
            ChatResult::Failure(err) => ChatResult::Failure(err),
        }
    }

    /// Runs `f` on the data of a success and returns the result unchanged.
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatResult;
    /// let mut seen = 0;
    /// let _ = ChatResult::Success(5).on_success(|n| seen = *n);
    /// assert_eq!(seen, 5);
    /// ```
    pub fn on_success(self, f: impl FnOnce(&T)) -> Self {
        if let ChatResult::Success(data) = &self {
            f(data);
        }
        self
    }

    /// Runs `f` on the error of a failure and returns the result unchanged.
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ChatResult};
    /// let mut cancelled = false;
    /// let _ = ChatResult::<()>::Failure(ChatError::cancelled()).on_error(|e| cancelled = e.is_cancelled());
    /// assert!(cancelled);
    /// ```
    pub fn on_error(self, f: impl FnOnce(&ChatError)) -> Self {
        if let ChatResult::Failure(err) = &self {
            f(err);
        }
        self
    }
}

impl<T> From<Result<T, ChatError>> for ChatResult<T> {
    fn from(result: Result<T, ChatError>) -> Self {
        match result {
            Ok(data) => ChatResult::Success(data),
            Err(err) => ChatResult::Failure(err),
        }
    }
}

impl<T> From<ChatResult<T>> for Result<T, ChatError> {
    fn from(result: ChatResult<T>) -> Self {
        match result {
            ChatResult::Success(data) => Ok(data),
            ChatResult::Failure(err) => Err(err),
        }
    }
}
