//! Deferred completion: a call whose `start` hands a [`Completer`] to whatever finishes
//! the operation later (a socket thread, a timer), so no thread waits in between.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::select;

use crate::{CancelToken, ChatError, ChatResult, ErrorKind};

/// The start of a deferred call (see [`Call::deferred`](crate::Call::deferred)).
pub(crate) type Start<T> = Arc<dyn Fn(&CancelToken, Completer<T>) + Send + Sync>;

type Sink<T> = Box<dyn FnOnce(ChatResult<T>) + Send>;

/// Completes one run of a deferred [`Call`](crate::Call): call
/// [`complete`](Self::complete) exactly once, from any thread.
///
/// Dropping it without completing still resolves the call, so a callback can never be
/// lost: with [`ErrorKind::ShutDown`] normally (whatever was to finish the call went
/// away), or [`ErrorKind::Panicked`] when it is dropped by a panicking thread.
///
/// ```
/// use stream_chat_callbacks::{Call, ChatResult, ErrorKind, WorkerPool};
///
/// let pool = WorkerPool::new(1);
/// let call = Call::<u8>::deferred(&pool, |_token, completer| drop(completer));
/// assert_eq!(call.execute().error().kind(), ErrorKind::ShutDown);
/// ```
#[must_use = "a Completer dropped without completing fails its call"]
pub struct Completer<T> {
    sink: Option<Sink<T>>,
    started_at: Instant,
    caller_waits: bool,
}

impl<T> Completer<T> {
    pub(crate) fn new(started_at: Instant, caller_waits: bool, sink: Sink<T>) -> Self {
        Completer {
            sink: Some(sink),
            started_at,
            caller_waits,
        }
    }

    /// Whether a thread is blocked until this completer fires: the call was
    /// [`execute`](crate::Call::execute)d, or runs inside a combinator's work. Such a start
    /// should finish its work on the current thread rather than hand a step to the pool,
    /// because the waiting thread may be the pool's only free one.
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, ChatResult, WorkerPool};
    ///
    /// let pool = WorkerPool::new(1);
    /// let call = Call::deferred(&pool, |_token, completer| {
    ///     let waits = completer.caller_waits();
    ///     completer.complete(ChatResult::Success(waits));
    /// });
    /// assert_eq!(call.execute(), ChatResult::Success(true));
    /// ```
    pub fn caller_waits(&self) -> bool {
        self.caller_waits
    }

    /// Resolves the call with `result`. Never runs the user's callback on this thread
    /// while the pool is up: an enqueued call hands delivery to a pool thread.
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, ChatResult, WorkerPool};
    ///
    /// let pool = WorkerPool::new(1);
    /// let call = Call::deferred(&pool, |_token, completer| {
    ///     std::thread::spawn(move || completer.complete(ChatResult::Success(7)));
    /// });
    /// assert_eq!(call.execute(), ChatResult::Success(7));
    /// ```
    pub fn complete(mut self, result: ChatResult<T>) {
        if let Some(sink) = self.sink.take() {
            sink(result);
        }
    }

    /// This completer with `f` run on the result first, on the completing thread, before
    /// the call's caller or callback can see it (also for the failure of a drop without
    /// completing). For state the result must already show: the caller of a connect
    /// finds the connected user in the client's state.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use stream_chat_callbacks::{Call, ChatResult, WorkerPool};
    ///
    /// let pool = WorkerPool::new(1);
    /// let seen = Arc::new(Mutex::new(None));
    /// let record = Arc::clone(&seen);
    /// let call = Call::deferred(&pool, move |_token, completer| {
    ///     let record = Arc::clone(&record);
    ///     let completer = completer.before_complete(move |r: &ChatResult<u8>| {
    ///         *record.lock().unwrap() = Some(*r.data());
    ///     });
    ///     completer.complete(ChatResult::Success(3));
    /// });
    /// assert_eq!(call.execute(), ChatResult::Success(3));
    /// assert_eq!(*seen.lock().unwrap(), Some(3));
    /// ```
    pub fn before_complete(self, f: impl FnOnce(&ChatResult<T>) + Send + 'static) -> Completer<T>
    where
        T: 'static,
    {
        let started_at = self.started_at;
        let caller_waits = self.caller_waits;
        let inner = self;
        Completer::new(
            started_at,
            caller_waits,
            Box::new(move |result| {
                f(&result);
                inner.complete(result);
            }),
        )
    }

    /// When the call was executed or enqueued: the origin of deadlines that must include
    /// the time an enqueued call waited for a pool thread.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use stream_chat_callbacks::{Call, ChatResult, WorkerPool};
    ///
    /// let pool = WorkerPool::new(1);
    /// let before = Instant::now();
    /// let call = Call::deferred(&pool, |_token, completer| {
    ///     let deadline = completer.started_at() + Duration::from_secs(5);
    ///     completer.complete(ChatResult::Success(deadline));
    /// });
    /// assert!(*call.execute().data() >= before + Duration::from_secs(5));
    /// ```
    pub fn started_at(&self) -> Instant {
        self.started_at
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        let Some(sink) = self.sink.take() else {
            return;
        };
        let err = if std::thread::panicking() {
            let thread = std::thread::current();
            ChatError::new(
                ErrorKind::Panicked,
                format!(
                    "thread '{}' panicked before completing the call (the panic is in the log)",
                    thread.name().unwrap_or("unnamed")
                ),
            )
        } else {
            abandoned()
        };
        sink(ChatResult::Failure(err));
    }
}

impl<T> fmt::Debug for Completer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completer")
            .field("completed", &self.sink.is_none())
            .field("started_at", &self.started_at)
            .field("caller_waits", &self.caller_waits)
            .finish()
    }
}

pub(crate) fn abandoned() -> ChatError {
    ChatError::new(
        ErrorKind::ShutDown,
        "the call was abandoned: its Completer was dropped without completing it",
    )
}

/// Runs `start` on this thread and blocks until its completer fires or `token` is
/// cancelled (then the result is [`ChatError::cancelled`]).
pub(crate) fn block_on<T: Send + 'static>(
    start: &Start<T>,
    token: &CancelToken,
    started_at: Instant,
) -> ChatResult<T> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let (cancel_tx, cancelled) = crossbeam_channel::bounded::<()>(1);
    token.on_cancel(move || {
        let _ = cancel_tx.try_send(());
    });
    start(
        token,
        Completer::new(
            started_at,
            true,
            Box::new(move |result| {
                let _ = tx.send(result);
            }),
        ),
    );
    select! {
        recv(rx) -> result => result.unwrap_or_else(|_| ChatResult::Failure(abandoned())),
        recv(cancelled) -> _ => ChatResult::Failure(ChatError::cancelled()),
    }
}
