use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What went wrong, as a closed set of cases callers can `match` on.
///
/// Errors returned by Stream's API carry [`ErrorKind::Api`] plus the server's
/// [`ChatError::stream_code`] and HTTP [`ChatError::status_code`]; so does any other HTTP
/// error answer (a proxy's HTML page), with the status only and no stream code. Every
/// other kind is a failure detected on the client side.
///
/// ```
/// use stream_chat_callbacks::{ChatError, ErrorKind};
///
/// let err = ChatError::new(ErrorKind::Timeout, "the server did not answer within 15s");
/// assert_eq!(err.kind(), ErrorKind::Timeout);
/// assert!(err.is_retryable());
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The server answered with an error: Stream's error body (`code`, `message`,
    /// `StatusCode`), or any other HTTP error answer (a proxy's or load balancer's page),
    /// which carries its status but no [`ChatError::stream_code`].
    Api,
    /// The request or socket failed at the transport level (refused, reset, DNS, a
    /// connection cut half way). Retryable.
    Network,
    /// The peer broke the protocol, so the same request to the same peer cannot succeed:
    /// a malformed, oversize or absurd WebSocket frame (a 2^63-byte header), invalid UTF-8
    /// in a text frame, an HTTP answer whose head cannot be read or is too large, or a TLS
    /// certificate the client does not trust. Not retryable: something between the client
    /// and Stream (a proxy, TLS interception, a wrong base URL) needs fixing first.
    Protocol,
    /// A response or event could not be parsed.
    Parse,
    /// The operation did not finish within its time limit.
    Timeout,
    /// The call was cancelled with [`crate::Call::cancel`].
    Cancelled,
    /// The [`TokenProvider`](https://docs.rs/stream-chat-client) returned an error.
    TokenProviderFailed,
    /// The token is empty.
    EmptyToken,
    /// The token is not a decodable JWT, or has no `user_id`.
    InvalidToken,
    /// The token's `user_id` differs from the id of the user being connected.
    TokenUserMismatch,
    /// The operation needs a connected user and none is connected.
    NotConnected,
    /// A different user is already connected; call `disconnect()` first.
    AlreadyConnected,
    /// The client or worker pool was shut down before the call could run.
    ShutDown,
    /// The call was already executed or enqueued once.
    AlreadyExecuted,
    /// The work of the call panicked; the panic message is in [`ChatError::message`].
    Panicked,
    /// An argument was rejected before any request was made.
    InvalidArgument,
    /// `ChatClient::instance()` was called before any client was built.
    NotInitialized,
}

impl ErrorKind {
    /// A short, stable, lower-case name for logs and metrics.
    ///
    /// ```
    /// assert_eq!(stream_chat_callbacks::ErrorKind::TokenUserMismatch.as_str(), "token user mismatch");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Api => "api error",
            ErrorKind::Network => "network error",
            ErrorKind::Protocol => "protocol error",
            ErrorKind::Parse => "parse error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::TokenProviderFailed => "token provider failed",
            ErrorKind::EmptyToken => "empty token",
            ErrorKind::InvalidToken => "invalid token",
            ErrorKind::TokenUserMismatch => "token user mismatch",
            ErrorKind::NotConnected => "not connected",
            ErrorKind::AlreadyConnected => "already connected",
            ErrorKind::ShutDown => "shut down",
            ErrorKind::AlreadyExecuted => "already executed",
            ErrorKind::Panicked => "panicked",
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::NotInitialized => "not initialized",
        }
    }

    /// Advice appended to the message by `Display`. A kind whose messages already say
    /// what to do (`AlreadyConnected`: the SDK names the connected user and the calls to
    /// make) has none, so the advice is not printed twice.
    fn hint(self) -> Option<&'static str> {
        Some(match self {
            ErrorKind::Network => "check that the server is reachable at the client's base URL",
            ErrorKind::Protocol => {
                "the peer at the client's base URL broke the protocol; retrying will not help: \
                 check that the URL is Stream's (or the local server's) and that no proxy or \
                 TLS interception alters the traffic"
            }
            ErrorKind::Timeout => "retry, or raise the timeout on the client builder",
            ErrorKind::TokenProviderFailed => "check the TokenProvider's backend",
            ErrorKind::EmptyToken => "pass a JWT or a TokenProvider that returns one",
            ErrorKind::InvalidToken => "pass a JWT whose payload has a user_id claim",
            ErrorKind::TokenUserMismatch => {
                "create the token for the same user id that you connect"
            }
            ErrorKind::NotConnected => "call connect_user (or a guest/anonymous connect) first",
            ErrorKind::AlreadyExecuted => "create a new call for each execution",
            ErrorKind::NotInitialized => "build a ChatClient with ChatClient::builder first",
            _ => return None,
        })
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the code of a server error means for the caller, set by whoever turns the server's
/// answer into a [`ChatError`] (this crate knows no server's codes). It drives
/// [`ChatError::is_retryable`], [`ChatError::is_auth_error`] and so the ready-made
/// [`RetryPolicy`](crate::RetryPolicy)s.
///
/// ```
/// use stream_chat_callbacks::{ChatError, ErrorClass};
///
/// let limited = ChatError::api(9, 400, "rate limited").with_class(ErrorClass::Retryable);
/// assert!(limited.is_retryable());
/// assert_eq!(ChatError::api(9, 400, "rate limited").class(), ErrorClass::Unclassified);
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Nothing is known beyond the [`ErrorKind`] and the HTTP status (the default).
    #[default]
    Unclassified,
    /// The same request may succeed later (an internal error, a rate limit, a server-side
    /// timeout).
    Retryable,
    /// The credentials were rejected: another token may succeed, the same one will not.
    Auth,
}

/// The error of every failed [`crate::Call`]: a typed [`ErrorKind`], a message, and for
/// server errors Stream's error code, the HTTP status and the code's [`ErrorClass`].
///
/// It is cheap to clone (one `Arc`), so a single failure can be handed to several
/// callers, and [`std::error::Error::source`] returns the underlying cause.
///
/// ```
/// use stream_chat_callbacks::{ChatError, ErrorKind};
///
/// let err = ChatError::api(40, 401, "JWTAuth error: token is expired (exp)");
/// assert_eq!(err.kind(), ErrorKind::Api);
/// assert_eq!(err.stream_code(), Some(40));
/// assert_eq!(err.status_code(), Some(401));
/// assert!(err.to_string().contains("stream code 40"));
/// ```
#[derive(Clone)]
pub struct ChatError {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    message: String,
    stream_code: Option<i32>,
    status_code: Option<u16>,
    class: ErrorClass,
    more_info: Option<String>,
    hint: Option<String>,
    retry_after: Option<Duration>,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

impl ChatError {
    /// A client-side error of `kind`.
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ErrorKind};
    /// let err = ChatError::new(ErrorKind::NotConnected, "no user is connected");
    /// assert_eq!(err.message(), "no user is connected");
    /// ```
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ChatError {
            inner: Arc::new(Inner {
                kind,
                message: message.into(),
                stream_code: None,
                status_code: None,
                class: ErrorClass::Unclassified,
                more_info: None,
                hint: None,
                retry_after: None,
                source: None,
            }),
        }
    }

    /// An error reported by Stream's API: `code` from the body, the HTTP status and the
    /// message. Set what the code means with [`with_class`](Self::with_class).
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatError;
    /// let err = ChatError::api(17, 403, "not allowed");
    /// assert_eq!((err.stream_code(), err.status_code()), (Some(17), Some(403)));
    /// ```
    pub fn api(stream_code: i32, status_code: u16, message: impl Into<String>) -> Self {
        ChatError::new(ErrorKind::Api, message)
            .with_stream_code(stream_code)
            .with_status_code(status_code)
    }

    /// The error for a cancelled call.
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatError;
    /// assert!(ChatError::cancelled().is_cancelled());
    /// ```
    pub fn cancelled() -> Self {
        ChatError::new(
            ErrorKind::Cancelled,
            "the call was cancelled before it completed",
        )
    }

    /// Attaches the underlying cause, returned by [`std::error::Error::source`].
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ErrorKind};
    /// use std::error::Error;
    /// let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
    /// let err = ChatError::new(ErrorKind::Network, "connect failed").with_source(io);
    /// assert_eq!(err.source().unwrap().to_string(), "refused");
    /// ```
    pub fn with_source(self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.map_inner(|i| i.source = Some(Arc::new(source)))
    }

    /// Attaches a boxed cause (as returned by a `TokenProvider`).
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ErrorKind};
    /// use std::error::Error;
    /// let cause: Box<dyn Error + Send + Sync> = "backend down".into();
    /// let err = ChatError::new(ErrorKind::TokenProviderFailed, "no token").with_boxed_source(cause);
    /// assert_eq!(err.source().unwrap().to_string(), "backend down");
    /// ```
    pub fn with_boxed_source(self, source: Box<dyn StdError + Send + Sync + 'static>) -> Self {
        self.map_inner(|i| i.source = Some(Arc::from(source)))
    }

    /// Sets Stream's error code.
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ErrorKind};
    /// let err = ChatError::new(ErrorKind::Api, "expired").with_stream_code(40);
    /// assert_eq!(err.stream_code(), Some(40));
    /// ```
    pub fn with_stream_code(self, code: i32) -> Self {
        self.map_inner(|i| i.stream_code = Some(code))
    }

    /// Sets what the error's server code means for the caller.
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ErrorClass};
    /// let err = ChatError::api(43, 401, "bad signature").with_class(ErrorClass::Auth);
    /// assert!(err.is_auth_error());
    /// ```
    pub fn with_class(self, class: ErrorClass) -> Self {
        self.map_inner(|i| i.class = class)
    }

    /// Sets the HTTP status.
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ErrorKind};
    /// let err = ChatError::new(ErrorKind::Network, "bad gateway").with_status_code(502);
    /// assert_eq!(err.status_code(), Some(502));
    /// ```
    pub fn with_status_code(self, status: u16) -> Self {
        self.map_inner(|i| i.status_code = Some(status))
    }

    /// Sets the `more_info` link of a server error.
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatError;
    /// let err = ChatError::api(4, 400, "bad input").with_more_info("https://getstream.io/chat/docs/");
    /// assert!(err.more_info().is_some());
    /// ```
    pub fn with_more_info(self, more_info: impl Into<String>) -> Self {
        self.map_inner(|i| i.more_info = Some(more_info.into()))
    }

    /// Sets the advice `Display` appends for this error, in place of its kind's (the SDK
    /// sets one for Stream codes whose remedy is known, such as a development token
    /// refused by a server that checks signatures).
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatError;
    /// let err = ChatError::api(43, 401, "signature is not valid").with_hint("use a signed token");
    /// assert_eq!(err.hint(), Some("use a signed token"));
    /// assert!(err.to_string().ends_with("; use a signed token"));
    /// ```
    pub fn with_hint(self, hint: impl Into<String>) -> Self {
        let hint = hint.into();
        self.map_inner(|i| i.hint = Some(hint))
    }

    /// Sets how long the server asked the client to wait before trying again (its
    /// `Retry-After` or `X-RateLimit-Reset` header).
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatError;
    /// use std::time::Duration;
    /// let err = ChatError::api(9, 429, "Too many requests").with_retry_after(Duration::from_secs(5));
    /// assert_eq!(err.retry_after(), Some(Duration::from_secs(5)));
    /// ```
    pub fn with_retry_after(self, wait: Duration) -> Self {
        self.map_inner(|i| i.retry_after = Some(wait))
    }

    /// Replaces the message, keeping kind, codes and cause.
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ErrorKind};
    /// let err = ChatError::new(ErrorKind::Timeout, "x").with_message("connect timed out");
    /// assert_eq!(err.message(), "connect timed out");
    /// ```
    pub fn with_message(self, message: impl Into<String>) -> Self {
        let message = message.into();
        self.map_inner(|i| i.message = message)
    }

    fn map_inner(self, edit: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Arc::try_unwrap(self.inner).unwrap_or_else(|shared| (*shared).clone());
        edit(&mut inner);
        ChatError {
            inner: Arc::new(inner),
        }
    }

    /// The kind of failure.
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ErrorKind};
    /// assert_eq!(ChatError::cancelled().kind(), ErrorKind::Cancelled);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The human-readable message (the server's message for API errors).
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatError;
    /// assert_eq!(ChatError::api(2, 401, "api_key not found").message(), "api_key not found");
    /// ```
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Stream's server error code (e.g. 40 token expired, 43 bad signature, 17 not allowed).
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ErrorKind};
    /// assert_eq!(ChatError::new(ErrorKind::Network, "reset").stream_code(), None);
    /// ```
    pub fn stream_code(&self) -> Option<i32> {
        self.inner.stream_code
    }

    /// The HTTP status of the failed request, when there was one.
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatError;
    /// assert_eq!(ChatError::api(17, 403, "no").status_code(), Some(403));
    /// ```
    pub fn status_code(&self) -> Option<u16> {
        self.inner.status_code
    }

    /// What the server code means, as set by [`with_class`](Self::with_class).
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ErrorClass};
    /// assert_eq!(ChatError::api(17, 403, "no").class(), ErrorClass::Unclassified);
    /// ```
    pub fn class(&self) -> ErrorClass {
        self.inner.class
    }

    /// The `more_info` link of a server error.
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatError;
    /// assert_eq!(ChatError::api(17, 403, "no").more_info(), None);
    /// ```
    pub fn more_info(&self) -> Option<&str> {
        self.inner.more_info.as_deref()
    }

    /// The advice `Display` appends: the one set with [`with_hint`](Self::with_hint), else
    /// the kind's own (`None` for kinds whose messages already say what to do).
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ErrorKind};
    /// let err = ChatError::new(ErrorKind::Network, "connection refused");
    /// assert!(err.hint().unwrap().contains("reachable"));
    /// assert_eq!(ChatError::api(17, 403, "not allowed").hint(), None);
    /// ```
    pub fn hint(&self) -> Option<&str> {
        self.inner
            .hint
            .as_deref()
            .or_else(|| self.inner.kind.hint())
    }

    /// How long the server asked the client to wait before the next attempt, as of when
    /// its answer arrived: the `Retry-After` header of a 429 or 503 (seconds or an HTTP
    /// date), else `X-RateLimit-Reset` (the Unix time at which Stream's rate-limit window
    /// resets). `None` when the answer said nothing. The ready-made
    /// [`RetryPolicy`](crate::RetryPolicy)s wait at least this long, up to
    /// [`MAX_RETRY_AFTER`](crate::MAX_RETRY_AFTER).
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ErrorKind};
    /// assert_eq!(ChatError::new(ErrorKind::Network, "reset").retry_after(), None);
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// True for [`ErrorKind::Cancelled`].
    ///
    /// ```
    /// # use stream_chat_callbacks::ChatError;
    /// assert!(ChatError::cancelled().is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.inner.kind == ErrorKind::Cancelled
    }

    /// True for rejected credentials: [`ErrorClass::Auth`], which the SDK sets for Stream's
    /// codes 5 and 40–43.
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ErrorClass};
    /// assert!(ChatError::api(43, 401, "signature").with_class(ErrorClass::Auth).is_auth_error());
    /// assert!(!ChatError::api(17, 403, "no").is_auth_error());
    /// ```
    pub fn is_auth_error(&self) -> bool {
        self.inner.class == ErrorClass::Auth
    }

    /// Whether trying again later may succeed: transport failures, timeouts, and server
    /// errors that are [`ErrorClass::Retryable`] (the SDK sets it for Stream's codes -1, 9
    /// and 23) or answered with HTTP 408, 429 or 5xx. The HTTP rule needs no server
    /// knowledge, so it lives here. [`ErrorKind::Protocol`] is not retryable: the peer
    /// would break the protocol the same way again.
    ///
    /// ```
    /// # use stream_chat_callbacks::{ChatError, ErrorClass, ErrorKind};
    /// assert!(ChatError::new(ErrorKind::Network, "reset").is_retryable());
    /// assert!(!ChatError::new(ErrorKind::Protocol, "invalid UTF-8 in a text frame").is_retryable());
    /// assert!(ChatError::api(9, 429, "rate limited").is_retryable());
    /// assert!(ChatError::api(23, 400, "timeout").with_class(ErrorClass::Retryable).is_retryable());
    /// assert!(!ChatError::api(17, 403, "not allowed").is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Network | ErrorKind::Timeout => true,
            ErrorKind::Api => {
                self.inner.class == ErrorClass::Retryable
                    || matches!(self.inner.status_code, Some(408 | 429 | 500..=599))
            }
            _ => false,
        }
    }
}

impl fmt::Display for ChatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        match (i.stream_code, i.status_code) {
            (Some(code), Some(status)) => {
                write!(f, "{} (stream code {code}, HTTP {status})", i.message)?
            }
            (Some(code), None) => write!(f, "{} (stream code {code})", i.message)?,
            (None, Some(status)) => write!(f, "{} (HTTP {status})", i.message)?,
            (None, None) => write!(f, "{}: {}", i.kind, i.message)?,
        }
        if let Some(hint) = self.hint() {
            write!(f, "; {hint}")?;
        }
        if let Some(more) = &i.more_info {
            write!(f, " (see {more})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ChatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let mut d = f.debug_struct("ChatError");
        d.field("kind", &i.kind).field("message", &i.message);
        if let Some(code) = i.stream_code {
            d.field("stream_code", &code);
        }
        if let Some(status) = i.status_code {
            d.field("status_code", &status);
        }
        if i.class != ErrorClass::Unclassified {
            d.field("class", &i.class);
        }
        if let Some(wait) = i.retry_after {
            d.field("retry_after", &wait);
        }
        if let Some(source) = &i.source {
            d.field("source", &source.to_string());
        }
        d.finish()
    }
}

impl StdError for ChatError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

impl PartialEq for ChatError {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.inner, &other.inner);
        a.kind == b.kind
            && a.message == b.message
            && a.stream_code == b.stream_code
            && a.status_code == b.status_code
            && a.class == b.class
            && a.retry_after == b.retry_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_one_pointer_wide() {
        assert_eq!(
            std::mem::size_of::<ChatError>(),
            std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn display_names_kind_and_hint_for_client_errors() {
        let err = ChatError::new(
            ErrorKind::TokenUserMismatch,
            "token is for 'a', user is 'b'",
        );
        let text = err.to_string();
        assert!(
            text.starts_with("token user mismatch: token is for 'a'"),
            "{text}"
        );
        assert!(text.contains("same user id"), "{text}");
    }

    #[test]
    fn a_set_hint_replaces_the_kinds_and_protocol_faults_do_not_say_reachable() {
        let protocol = ChatError::new(ErrorKind::Protocol, "invalid UTF-8 in a text frame");
        let text = protocol.to_string();
        assert!(text.starts_with("protocol error: invalid UTF-8"), "{text}");
        assert!(text.contains("retrying will not help"), "{text}");
        assert!(!text.contains("reachable"), "{text}");
        let tls = protocol.with_hint("check the certificate");
        assert!(
            tls.to_string().ends_with("; check the certificate"),
            "{tls}"
        );
        assert!(!tls.to_string().contains("retrying"), "{tls}");
    }
}
