use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use crate::deferred::{Start, block_on};
use crate::panic_message;
use crate::pool::{Job, PoolShared, shut_down_error};
use crate::{
    CallbackQueue, CancelHandle, CancelToken, ChatError, ChatResult, Completer, ErrorKind,
    Executor, WorkerPool,
};

pub(crate) type Work<T> = Arc<dyn Fn(&CancelToken) -> ChatResult<T> + Send + Sync>;
type Callback<T> = Box<dyn FnOnce(ChatResult<T>) + Send>;

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
    /// Set for [`Call::deferred`] until a combinator wraps it into blocking `work`.
    pub(crate) start: Option<Start<T>>,
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
pub(crate) fn run_work<T>(work: impl FnOnce() -> ChatResult<T>) -> ChatResult<T> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        ChatResult::Failure(ChatError::new(
            ErrorKind::Panicked,
            format!("the call's work panicked: {}", panic_message(&*payload)),
        ))
    })
}

/// The result to deliver once the work token fired without the call being cancelled:
/// the pool cancelled it while shutting down.
fn shut_down_if_interrupted<T>(
    user: &CancelToken,
    work: &CancelToken,
    result: ChatResult<T>,
) -> ChatResult<T> {
    if work.is_canceled() && !user.is_canceled() {
        ChatResult::Failure(
            shut_down_error().with_message("the worker pool was shut down while the call ran"),
        )
    } else {
        result
    }
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

    /// A call that completes later, from another thread, without holding a pool thread
    /// while it waits (a socket answer, a timer).
    ///
    /// `start` gets the call's [`CancelToken`] and a [`Completer`]; it should return
    /// quickly after handing the completer to whatever finishes the operation, which
    /// then calls [`Completer::complete`] once (dropping it fails the call instead, so
    /// the callback is never lost).
    ///
    /// - `execute()` runs `start` on the caller's thread and blocks until the completion
    ///   (or `cancel()`, which returns [`ChatError::cancelled`]).
    /// - `enqueue` runs `start` on a pool thread, which is free again as soon as `start`
    ///   returns; on completion the callback is delivered from a pool thread through the
    ///   executor (only once the pool is shut down does delivery, then with
    ///   [`ErrorKind::ShutDown`], happen on the completing thread).
    /// - `cancel()` runs the token's [`on_cancel`](CancelToken::on_cancel) hooks, so
    ///   `start` can register one to abort the operation; the callback is not invoked.
    /// - Shutting the pool down cancels the token of a pending call; its callback then
    ///   gets [`ErrorKind::ShutDown`].
    /// - Combinators ([`map`](Self::map), [`retry`](Self::retry), ...) turn it into a
    ///   blocking call: the combined work runs `start` and waits for the completion on
    ///   the thread that runs it (a pool thread when enqueued). `retry` runs `start`
    ///   again for each attempt.
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, ChatResult, WorkerPool};
    ///
    /// let pool = WorkerPool::new(1);
    /// let call = Call::deferred(&pool, |token, completer| {
    ///     // Hand the completer to whatever produces the answer; here, another thread.
    ///     let token = token.clone();
    ///     std::thread::spawn(move || {
    ///         if !token.is_canceled() {
    ///             completer.complete(ChatResult::Success("pong"));
    ///         }
    ///     });
    /// });
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// call.enqueue(move |result| tx.send(result).unwrap());
    /// assert_eq!(rx.recv().unwrap(), ChatResult::Success("pong"));
    /// ```
    pub fn deferred(
        pool: &WorkerPool,
        start: impl Fn(&CancelToken, Completer<T>) + Send + Sync + 'static,
    ) -> Call<T> {
        let start: Start<T> = Arc::new(start);
        let blocking = Arc::clone(&start);
        let mut call = Call::from_work(
            Arc::new(move |token: &CancelToken| block_on(&blocking, token, Instant::now())),
            Some(pool.downgrade()),
        );
        call.start = Some(start);
        call
    }

    pub(crate) fn from_work(work: Work<T>, pool: Option<Weak<PoolShared>>) -> Call<T> {
        Call {
            work,
            start: None,
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
        let started_at = Instant::now();
        if self.executed.swap(true, Ordering::AcqRel) {
            return ChatResult::Failure(already_executed());
        }
        if self.token.is_canceled() {
            return ChatResult::Failure(ChatError::cancelled());
        }
        let result = match &self.start {
            Some(start) => run_work(|| block_on(start, &self.token, started_at)),
            None => run_work(|| (self.work)(&self.token)),
        };
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
        let started_at = Instant::now();
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
        let shared = match &self.pool {
            None => {
                // No pool (`Call::of`): run inline, on the caller's thread.
                let result = run_work(|| (self.work)(&self.token));
                deliver(executor, &self.token, callback, result);
                return;
            }
            Some(pool) => pool.upgrade(),
        };
        let Some(shared) = shared else {
            deliver(
                executor,
                &self.token,
                callback,
                ChatResult::Failure(shut_down_error()),
            );
            return;
        };
        // The work sees its own token: cancelled with the call, or by the pool's shutdown
        // (which then reports ShutDown instead of dropping the callback).
        let work_token = CancelToken::new();
        self.token.link(&work_token);
        let tracked = shared.track(&work_token);
        let (user_token, executor) = (self.token.clone(), executor.clone());
        let callback: Callback<T> = Box::new(callback);
        let job: Job = match &self.start {
            None => {
                let work = self.work.clone();
                Box::new(move |run| {
                    let result = if !run {
                        ChatResult::Failure(shut_down_error())
                    } else if user_token.is_canceled() {
                        return;
                    } else {
                        run_work(|| work(&work_token))
                    };
                    drop(tracked);
                    let result = shut_down_if_interrupted(&user_token, &work_token, result);
                    deliver(&executor, &user_token, callback, result);
                })
            }
            Some(start) => {
                let start = Arc::clone(start);
                let pool = Arc::downgrade(&shared);
                Box::new(move |run| {
                    if !run {
                        deliver(
                            &executor,
                            &user_token,
                            callback,
                            ChatResult::Failure(shut_down_error()),
                        );
                        return;
                    }
                    if user_token.is_canceled() {
                        return;
                    }
                    let token = work_token.clone();
                    let sink = Box::new(move |result: ChatResult<T>| {
                        drop(tracked);
                        let result = shut_down_if_interrupted(&user_token, &work_token, result);
                        // Deliver from a pool thread, never from the completing thread.
                        let job: Job = Box::new(move |run| {
                            let result = if run {
                                result
                            } else {
                                ChatResult::Failure(shut_down_error())
                            };
                            deliver(&executor, &user_token, callback, result);
                        });
                        submit(&pool, job);
                    });
                    let completer = Completer::new(started_at, false, sink);
                    if let Err(payload) =
                        catch_unwind(AssertUnwindSafe(|| start(&token, completer)))
                    {
                        log::error!(
                            "a deferred call's start panicked: {}",
                            panic_message(&*payload)
                        );
                    }
                })
            }
        };
        if let Err(job) = shared.submit(job) {
            job(false);
        }
    }

    /// Like [`enqueue`](Self::enqueue), for a callback that is **not** `Send`: it runs on the
    /// thread that created `queue` (your GUI main thread) when that thread drains the queue,
    /// so it may capture `Rc`, `RefCell` and other thread-bound UI state, as Android's
    /// `enqueue` callbacks touch views on the main thread. The work still runs on the pool;
    /// the call's own executor is not used. Delivery rules are those of `enqueue`: exactly
    /// once, never after [`cancel`](Self::cancel) (the callback is then dropped, on the
    /// queue's thread, at its next drain).
    ///
    /// # Panics
    ///
    /// When called on a thread other than the one that created `queue`: the callback could
    /// never run. Draining the queue on another thread while such a callback waits panics
    /// too (see [`CallbackQueue::run_pending`]).
    ///
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    /// use std::time::{Duration, Instant};
    /// use stream_chat_callbacks::{Call, CallbackQueue, ChatResult, WorkerPool};
    ///
    /// let pool = WorkerPool::new(2);
    /// let queue = CallbackQueue::new(); // on the "main thread"
    /// let screen = Rc::new(RefCell::new(Vec::<String>::new())); // not Send
    ///
    /// let shown = Rc::clone(&screen);
    /// Call::new(&pool, |_| ChatResult::Success("hello"))
    ///     .enqueue_local(&queue, move |result| shown.borrow_mut().push(result.data().to_string()));
    ///
    /// queue.wait_and_run(Instant::now() + Duration::from_secs(10));
    /// assert_eq!(*screen.borrow(), ["hello"]);
    /// ```
    pub fn enqueue_local(
        &self,
        queue: &CallbackQueue,
        callback: impl FnOnce(ChatResult<T>) + 'static,
    ) {
        let ticket = queue.register_local(callback);
        self.enqueue_on(&queue.local_executor(), move |result| ticket.fire(result));
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

    /// Runs `hook` once when the call is cancelled (at once if it already was), whether or
    /// not its work started: for resources a call owns outside its work, such as a
    /// progress listener that must hear of a cancel that came before the first byte.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use stream_chat_callbacks::{Call, ChatResult};
    /// let call = Call::of(ChatResult::Success(1));
    /// let heard = Arc::new(AtomicBool::new(false));
    /// let flag = Arc::clone(&heard);
    /// call.on_cancel(move || flag.store(true, Ordering::SeqCst));
    /// call.cancel();
    /// assert!(heard.load(Ordering::SeqCst));
    /// ```
    pub fn on_cancel(&self, hook: impl FnOnce() + Send + 'static) {
        self.token.on_cancel(hook);
    }
}

/// Queues `job` on the pool (as shut down when its scope is), or runs it as shut down on
/// this thread when no pool thread is left.
fn submit(pool: &Weak<PoolShared>, job: Job) {
    match pool.upgrade() {
        Some(shared) => {
            if let Err(job) = shared.submit_or_fail(job) {
                job(false);
            }
        }
        None => job(false),
    }
}

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("executed", &self.executed.load(Ordering::Acquire))
            .field("canceled", &self.token.is_canceled())
            .field("executor", &self.executor)
            .field("pooled", &self.pool.is_some())
            .field("deferred", &self.start.is_some())
            .finish()
    }
}
