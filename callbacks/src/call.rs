use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::panic_message;
use crate::pool::{Job, PoolShared, shut_down_error};
use crate::{CancelHandle, CancelToken, ChatError, ChatResult, ErrorKind, Executor, WorkerPool};

pub(crate) type Work<T> = Arc<dyn Fn(&CancelToken) -> ChatResult<T> + Send + Sync>;

/// A deferred operation producing a [`ChatResult<T>`], like the Android SDK's `Call<T>`.
///
/// A call is cold: nothing runs until you [`execute`](Self::execute) it (blocking, on your
/// thread) or [`enqueue`](Self::enqueue) it (on the [`WorkerPool`], with the result handed
/// to a callback through the call's [`Executor`]). A call runs once: a second
/// `execute`/`enqueue` yields [`ErrorKind::AlreadyExecuted`]. After [`cancel`](Self::cancel)
/// the callback is never invoked and `execute` returns a cancelled error.
///
/// ```
/// use stream_chat_callbacks::{Call, ChatResult, WorkerPool};
///
/// let pool = WorkerPool::new(2);
/// let call = Call::new(&pool, |_token| ChatResult::Success(21)).map(|n| n * 2);
/// let (tx, rx) = std::sync::mpsc::channel();
/// call.enqueue(move |result| {
///     if result.is_success() {
///         tx.send(*result.data()).unwrap();
///     }
/// });
/// assert_eq!(rx.recv().unwrap(), 42);
/// assert!(call.execute().error().kind() == stream_chat_callbacks::ErrorKind::AlreadyExecuted);
/// ```
pub struct Call<T> {
    pub(crate) work: Work<T>,
    pub(crate) pool: Option<Weak<PoolShared>>,
    pub(crate) executor: Executor,
    pub(crate) token: CancelToken,
    pub(crate) executed: AtomicBool,
}

pub(crate) fn already_executed() -> ChatError {
    ChatError::new(
        ErrorKind::AlreadyExecuted,
        "this call was already executed or enqueued",
    )
}

/// Runs `work`, turning a panic into an [`ErrorKind::Panicked`] failure.
pub(crate) fn run_work<T>(work: &Work<T>, token: &CancelToken) -> ChatResult<T> {
    catch_unwind(AssertUnwindSafe(|| work(token))).unwrap_or_else(|payload| {
        ChatResult::Failure(ChatError::new(
            ErrorKind::Panicked,
            format!("the call's work panicked: {}", panic_message(&*payload)),
        ))
    })
}

/// Hands `result` to `callback` through `executor`, unless `token` is cancelled by then.
fn deliver<T: Send + 'static>(
    executor: &Executor,
    token: &CancelToken,
    callback: impl FnOnce(ChatResult<T>) + Send + 'static,
    result: ChatResult<T>,
) {
    let token = token.clone();
    executor.execute(Box::new(move || {
        if token.is_canceled() {
            return;
        }
        if let Err(payload) = catch_unwind(AssertUnwindSafe(move || callback(result))) {
            log::error!("a Call callback panicked: {}", panic_message(&*payload));
        }
    }));
}

impl<T: Send + 'static> Call<T> {
    /// A call that runs `work` when executed or enqueued on `pool`.
    ///
    /// `work` gets the call's [`CancelToken`] and may be run more than once by
    /// [`retry`](Self::retry), hence `Fn`. The call keeps only a weak reference to `pool`:
    /// enqueueing after the pool was dropped delivers [`ErrorKind::ShutDown`].
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, ChatResult, WorkerPool};
    /// let pool = WorkerPool::new(2);
    /// let call = Call::new(&pool, |token| {
    ///     if token.is_canceled() { return ChatResult::Failure(stream_chat_callbacks::ChatError::cancelled()); }
    ///     ChatResult::Success("done")
    /// });
    /// assert_eq!(call.execute(), ChatResult::Success("done"));
    /// ```
    pub fn new(
        pool: &WorkerPool,
        work: impl Fn(&CancelToken) -> ChatResult<T> + Send + Sync + 'static,
    ) -> Call<T> {
        Call::from_work(Arc::new(work), Some(pool.downgrade()))
    }

    pub(crate) fn from_work(work: Work<T>, pool: Option<Weak<PoolShared>>) -> Call<T> {
        Call {
            work,
            pool,
            executor: Executor::pool_thread(),
            token: CancelToken::new(),
            executed: AtomicBool::new(false),
        }
    }

    /// An already completed call (Kotlin's `Call.of`/`ResultCall`). It has no pool:
    /// `enqueue` calls back right away on the caller's thread, or through the executor when
    /// one is set. A success value can be produced once; a failure is cloned on every run.
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, ChatResult};
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// Call::of(ChatResult::Success(1)).enqueue(move |r| tx.send(*r.data()).unwrap());
    /// assert_eq!(rx.try_recv().unwrap(), 1, "called back inline");
    /// ```
    pub fn of(result: ChatResult<T>) -> Call<T> {
        let slot = Mutex::new(Some(result));
        Call::from_work(
            Arc::new(move |_: &CancelToken| {
                let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
                match slot.take() {
                    Some(ChatResult::Failure(err)) => {
                        *slot = Some(ChatResult::Failure(err.clone()));
                        ChatResult::Failure(err)
                    }
                    Some(success) => success,
                    None => ChatResult::Failure(already_executed().with_message(
                        "the value of this Call::of was already taken by an earlier run",
                    )),
                }
            }),
            None,
        )
    }

    /// Sets the executor that [`enqueue`](Self::enqueue) delivers the callback through
    /// (default: [`Executor::pool_thread`]).
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, CallbackQueue, ChatResult};
    /// let queue = CallbackQueue::new();
    /// Call::of(ChatResult::Success(())).with_executor(queue.executor()).enqueue(|_| {});
    /// assert_eq!(queue.run_pending(), 1);
    /// ```
    pub fn with_executor(mut self, executor: Executor) -> Call<T> {
        self.executor = executor;
        self
    }

    /// Makes [`enqueue`](Self::enqueue) run the work on `pool`. Useful for calls built
    /// from [`Call::of`], which otherwise run inline on the caller's thread.
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, ChatResult, WorkerPool};
    /// let pool = WorkerPool::builder().threads(1).thread_name("bg").build();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// Call::of(ChatResult::Success(()))
    ///     .with_pool(&pool)
    ///     .enqueue(move |_| tx.send(std::thread::current().name().map(String::from)).unwrap());
    /// assert_eq!(rx.recv().unwrap().as_deref(), Some("bg-0"));
    /// ```
    pub fn with_pool(mut self, pool: &WorkerPool) -> Call<T> {
        self.pool = Some(pool.downgrade());
        self
    }

    /// Runs the call on the caller's thread and returns its result.
    ///
    /// Never waits for the pool, so it is safe inside callbacks and on pool threads. A
    /// panic in the work becomes an [`ErrorKind::Panicked`] failure; a cancelled call
    /// returns [`ChatError::cancelled`]; a second run returns [`ErrorKind::AlreadyExecuted`].
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, ChatResult, ErrorKind};
    /// let call = Call::of(ChatResult::Success(3));
    /// assert_eq!(call.execute(), ChatResult::Success(3));
    /// assert_eq!(call.execute().error().kind(), ErrorKind::AlreadyExecuted);
    /// ```
    pub fn execute(&self) -> ChatResult<T> {
        if self.executed.swap(true, Ordering::AcqRel) {
            return ChatResult::Failure(already_executed());
        }
        if self.token.is_canceled() {
            return ChatResult::Failure(ChatError::cancelled());
        }
        let result = run_work(&self.work, &self.token);
        if self.token.is_canceled() {
            return ChatResult::Failure(ChatError::cancelled());
        }
        result
    }

    /// Runs the call on its pool and hands the result to `callback` through the call's
    /// executor. The callback fires exactly once, unless the call is cancelled first (then
    /// never). Never blocks.
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, ChatResult, WorkerPool};
    /// let pool = WorkerPool::new(2);
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// Call::new(&pool, |_| ChatResult::Success("hi")).enqueue(move |r| tx.send(r).unwrap());
    /// assert_eq!(rx.recv().unwrap(), ChatResult::Success("hi"));
    /// ```
    pub fn enqueue(&self, callback: impl FnOnce(ChatResult<T>) + Send + 'static) {
        let executor = self.executor.clone();
        self.enqueue_on(&executor, callback);
    }

    /// Like [`enqueue`](Self::enqueue), delivering through `executor` instead of the
    /// call's own.
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, CallbackQueue, ChatResult};
    /// let queue = CallbackQueue::new();
    /// Call::of(ChatResult::Success(1)).enqueue_on(&queue.executor(), |r| assert!(r.is_success()));
    /// assert_eq!(queue.run_pending(), 1);
    /// ```
    pub fn enqueue_on(
        &self,
        executor: &Executor,
        callback: impl FnOnce(ChatResult<T>) + Send + 'static,
    ) {
        if self.executed.swap(true, Ordering::AcqRel) {
            deliver(
                executor,
                &self.token,
                callback,
                ChatResult::Failure(already_executed()),
            );
            return;
        }
        if self.token.is_canceled() {
            return;
        }
        let (work, token, executor) = (self.work.clone(), self.token.clone(), executor.clone());
        let job: Job = Box::new(move |run| {
            let result = if !run {
                ChatResult::Failure(shut_down_error())
            } else if token.is_canceled() {
                return;
            } else {
                run_work(&work, &token)
            };
            deliver(&executor, &token, callback, result);
        });
        match &self.pool {
            None => job(true),
            Some(pool) => match pool.upgrade() {
                Some(shared) => {
                    if let Err(job) = shared.submit(job) {
                        job(false);
                    }
                }
                None => job(false),
            },
        }
    }

    /// Cancels the call: work not started never starts, running work sees its
    /// [`CancelToken`] flip, and a result not yet delivered is dropped. Idempotent.
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, ChatResult};
    /// let call = Call::of(ChatResult::Success(1));
    /// call.cancel();
    /// assert!(call.execute().error().is_cancelled());
    /// ```
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// True once the call was cancelled.
    ///
    /// ```
    /// # use stream_chat_callbacks::{Call, ChatResult};
    /// let call = Call::of(ChatResult::Success(1));
    /// assert!(!call.is_canceled());
    /// ```
    pub fn is_canceled(&self) -> bool {
        self.token.is_canceled()
    }

    /// True once the call was executed or enqueued.
    ///
    /// ```
    /// # use stream_chat_callbacks::{Call, ChatResult};
    /// let call = Call::of(ChatResult::Success(1));
    /// let _ = call.execute();
    /// assert!(call.is_executed());
    /// ```
    pub fn is_executed(&self) -> bool {
        self.executed.load(Ordering::Acquire)
    }

    /// A handle to cancel the call from elsewhere, even after the call was moved or
    /// combined (the combined call shares its cancellation).
    ///
    /// ```
    /// # use stream_chat_callbacks::{Call, ChatResult};
    /// let call = Call::of(ChatResult::Success(1));
    /// let handle = call.cancel_handle();
    /// let mapped = call.map(|n| n + 1);
    /// handle.cancel();
    /// assert!(mapped.is_canceled());
    /// ```
    pub fn cancel_handle(&self) -> CancelHandle {
        self.token.handle()
    }
}

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("executed", &self.executed.load(Ordering::Acquire))
            .field("canceled", &self.token.is_canceled())
            .field("executor", &self.executor)
            .field("pooled", &self.pool.is_some())
            .finish()
    }
}
