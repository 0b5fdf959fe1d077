use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Instant;

use crate::local::{self, LocalCallback, Owner, OwnerQueue, describe_current, free_queue};
use crate::{ChatResult, panic_message};

type Task = Box<dyn FnOnce() + Send>;
type UserExecutor = dyn Fn(Box<dyn FnOnce() + Send>) + Send + Sync;

/// Where a [`Call`](crate::Call)'s callback runs.
///
/// - [`Executor::pool_thread`] (the default): right where the work finished, i.e. on the
///   pool thread for enqueued calls (on the caller's thread for calls without a pool,
///   such as [`Call::of`](crate::Call::of)).
/// - [`CallbackQueue::executor`]: queued until a GUI loop drains the queue.
/// - [`Executor::from_fn`]: handed to your own closure.
///
/// Set it per call with [`Call::with_executor`](crate::Call::with_executor) or
/// [`Call::enqueue_on`](crate::Call::enqueue_on). Cloning is cheap.
///
/// ```
/// use stream_chat_callbacks::{Call, ChatResult, Executor};
///
/// let (tx, rx) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
/// let tx = std::sync::Mutex::new(tx);
/// let executor = Executor::from_fn(move |task| tx.lock().unwrap().send(task).unwrap());
/// Call::of(ChatResult::Success(5)).enqueue_on(&executor, |r| assert_eq!(*r.data(), 5));
/// rx.recv().unwrap()(); // the callback runs here
/// ```
#[derive(Clone)]
pub struct Executor {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Inline,
    Fn(Arc<UserExecutor>),
    Queue(Arc<QueueShared>),
    /// The queue, with tasks that must run on its owner thread (`Call::enqueue_local`).
    LocalQueue(Arc<QueueShared>),
}

impl Executor {
    /// Runs callbacks on the thread that finished the call's work: a pool thread for
    /// enqueued calls. [`execute`](Self::execute) on it runs the task immediately.
    ///
    /// ```
    /// use stream_chat_callbacks::Executor;
    /// let mut ran = false;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// Executor::pool_thread().execute(Box::new(move || tx.send(()).unwrap()));
    /// assert!(rx.try_recv().is_ok(), "ran inline");
    /// ```
    pub fn pool_thread() -> Executor {
        Executor { kind: Kind::Inline }
    }

    /// Hands every callback to `f`, which must eventually run it (on whatever thread it
    /// likes) for the callback to fire. A panic inside `f` is caught and logged.
    ///
    /// ```
    /// use stream_chat_callbacks::Executor;
    /// let executor = Executor::from_fn(|task| {
    ///     std::thread::spawn(task);
    /// });
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// executor.execute(Box::new(move || tx.send(7).unwrap()));
    /// assert_eq!(rx.recv().unwrap(), 7);
    /// ```
    pub fn from_fn(f: impl Fn(Box<dyn FnOnce() + Send>) + Send + Sync + 'static) -> Executor {
        Executor {
            kind: Kind::Fn(Arc::new(f)),
        }
    }

    /// Schedules `task` on this executor.
    ///
    /// ```
    /// use stream_chat_callbacks::CallbackQueue;
    /// let queue = CallbackQueue::new();
    /// queue.executor().execute(Box::new(|| println!("later")));
    /// assert_eq!(queue.len(), 1);
    /// assert_eq!(queue.run_pending(), 1);
    /// ```
    pub fn execute(&self, task: Box<dyn FnOnce() + Send>) {
        match &self.kind {
            Kind::Inline => task(),
            Kind::Fn(f) => {
                if let Err(payload) = catch_unwind(AssertUnwindSafe(|| f(task))) {
                    log::error!("a callback executor panicked: {}", panic_message(&*payload));
                }
            }
            Kind::Queue(queue) => queue.push(task),
            Kind::LocalQueue(queue) => queue.push_local(task),
        }
    }
}

impl Default for Executor {
    fn default() -> Self {
        Executor::pool_thread()
    }
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            Kind::Inline => "Executor::pool_thread",
            Kind::Fn(_) => "Executor::from_fn",
            Kind::Queue(_) => "Executor(CallbackQueue)",
            Kind::LocalQueue(_) => "Executor(CallbackQueue, owner thread only)",
        })
    }
}

/// A queue of callbacks for a GUI event loop (or any single thread that owns the state
/// the callbacks touch).
///
/// Calls enqueued with [`executor`](Self::executor) push their callback here; the loop
/// runs them on its own thread with [`run_pending`](Self::run_pending) (never blocks),
/// [`run_until`](Self::run_until) or [`wait_and_run`](Self::wait_and_run). A callback that
/// panics is caught and logged; the others still run. Callbacks left in a queue that is
/// dropped never run.
///
/// A queue belongs to the thread that creates it (the GUI main thread). Besides `Send`
/// callbacks it takes callbacks that are **not** `Send`, through
/// [`Call::enqueue_local`](crate::Call::enqueue_local), so they can capture `Rc`/`RefCell`
/// UI state as Android's main-thread callbacks touch views. Those run only on the owner
/// thread: while one is queued, draining the queue on another thread panics (see
/// [`run_pending`](Self::run_pending)).
///
/// To wake a sleeping loop, pass a waker to [`with_waker`](Self::with_waker); it is called
/// (on the pushing thread) after every push:
/// - winit: `let proxy = event_loop.create_proxy();` then
///   `CallbackQueue::with_waker(move || { let _ = proxy.send_event(UserEvent::Callbacks); })`
///   and call `queue.run_pending()` in `user_event` (your `ApplicationHandler`).
/// - glib/GTK: `let (tx, rx) = async_channel::unbounded();`, waker `move || { let _ = tx.try_send(()); }`,
///   and on the main context `glib::spawn_future_local(async move { while rx.recv().await.is_ok() { queue.run_pending(); } })`
///   (the pattern gtk-rs recommends for waking `MainContext` from other threads).
/// - egui: clone the `egui::Context` into the waker: `move || ctx.request_repaint()`, and
///   call `queue.run_pending()` at the top of your `update`.
///
/// ```
/// use stream_chat_callbacks::{Call, CallbackQueue, ChatResult, WorkerPool};
///
/// let pool = WorkerPool::new(2);
/// let queue = CallbackQueue::new();
/// let ui_thread = std::thread::current().id();
/// Call::new(&pool, |_| ChatResult::Success("hello"))
///     .with_executor(queue.executor())
///     .enqueue(move |r| {
///         assert_eq!(std::thread::current().id(), ui_thread);
///         assert_eq!(*r.data(), "hello");
///     });
/// let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
/// assert_eq!(queue.wait_and_run(deadline), 1);
/// ```
#[derive(Clone)]
pub struct CallbackQueue {
    shared: Arc<QueueShared>,
}

pub(crate) struct QueueShared {
    /// Tells this queue's callbacks apart in the owner thread's table of local callbacks.
    pub(crate) id: u64,
    /// The thread that created the queue, the only one that may run local tasks.
    pub(crate) owner: Owner,
    tasks: Mutex<VecDeque<Queued>>,
    available: Condvar,
    waker: Option<Box<dyn Fn() + Send + Sync>>,
}

/// A queued task; `local` ones must run on the owner thread.
struct Queued {
    task: Task,
    local: bool,
}

static NEXT_QUEUE_ID: AtomicU64 = AtomicU64::new(1);

impl QueueShared {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Queued>> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, task: Task) {
        self.push_queued(Queued { task, local: false });
    }

    /// Queues a task that runs only on the owner thread.
    pub(crate) fn push_local(&self, task: Task) {
        self.push_queued(Queued { task, local: true });
    }

    fn push_queued(&self, queued: Queued) {
        self.lock().push_back(queued);
        self.available.notify_all();
        if let Some(waker) = &self.waker
            && let Err(payload) = catch_unwind(AssertUnwindSafe(waker))
        {
            log::error!(
                "a CallbackQueue waker panicked: {}",
                panic_message(&*payload)
            );
        }
    }
}

impl OwnerQueue for QueueShared {
    fn run_on_owner(&self, task: Task) {
        self.push_local(task);
    }
}

impl CallbackQueue {
    /// An empty queue without a waker.
    ///
    /// ```
    /// assert!(stream_chat_callbacks::CallbackQueue::new().is_empty());
    /// ```
    pub fn new() -> Self {
        CallbackQueue::build(None)
    }

    /// An empty queue that calls `waker` after each push, so a sleeping loop can wake up
    /// and call [`run_pending`](Self::run_pending).
    ///
    /// ```
    /// use stream_chat_callbacks::CallbackQueue;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let queue = CallbackQueue::with_waker(move || { let _ = tx.send(()); });
    /// queue.executor().execute(Box::new(|| {}));
    /// assert!(rx.try_recv().is_ok(), "woken on push");
    /// ```
    pub fn with_waker(waker: impl Fn() + Send + Sync + 'static) -> Self {
        CallbackQueue::build(Some(Box::new(waker)))
    }

    fn build(waker: Option<Box<dyn Fn() + Send + Sync>>) -> Self {
        CallbackQueue {
            shared: Arc::new(QueueShared {
                id: NEXT_QUEUE_ID.fetch_add(1, Ordering::Relaxed),
                owner: Owner::current(),
                tasks: Mutex::new(VecDeque::new()),
                available: Condvar::new(),
                waker,
            }),
        }
    }

    /// The executor that pushes callbacks into this queue.
    ///
    /// ```
    /// # use stream_chat_callbacks::CallbackQueue;
    /// let queue = CallbackQueue::new();
    /// queue.executor().execute(Box::new(|| {}));
    /// assert_eq!(queue.len(), 1);
    /// ```
    pub fn executor(&self) -> Executor {
        Executor {
            kind: Kind::Queue(self.shared.clone()),
        }
    }

    /// The executor of [`Call::enqueue_local`](crate::Call::enqueue_local): its tasks run
    /// on the owner thread only (draining them elsewhere panics, see
    /// [`run_pending`](Self::run_pending)). For tasks that reach values kept on that
    /// thread, such as the SDK's local state observers.
    ///
    /// ```
    /// # use stream_chat_callbacks::CallbackQueue;
    /// let queue = CallbackQueue::new();
    /// queue.local_executor().execute(Box::new(|| {}));
    /// assert_eq!(queue.run_pending(), 1);
    /// ```
    pub fn local_executor(&self) -> Executor {
        Executor {
            kind: Kind::LocalQueue(self.shared.clone()),
        }
    }

    /// Stores `callback` in this thread's table and returns its ticket.
    ///
    /// Panics when this thread did not create the queue: the callback could never run.
    pub(crate) fn register_local<T: 'static>(
        &self,
        callback: impl FnOnce(ChatResult<T>) + 'static,
    ) -> LocalCallback<T> {
        let queue: Weak<QueueShared> = Arc::downgrade(&self.shared);
        local::register(
            self.shared.id,
            &self.shared.owner,
            queue as Weak<dyn OwnerQueue>,
            callback,
        )
    }

    /// Whether the current thread created this queue, i.e. may run its
    /// [`enqueue_local`](crate::Call::enqueue_local) callbacks.
    ///
    /// ```
    /// use stream_chat_callbacks::CallbackQueue;
    /// let queue = CallbackQueue::new();
    /// assert!(queue.is_owner_thread());
    /// let elsewhere = queue.clone();
    /// assert!(!std::thread::spawn(move || elsewhere.is_owner_thread()).join().unwrap());
    /// ```
    pub fn is_owner_thread(&self) -> bool {
        self.shared.owner.is_current()
    }

    /// Runs the callbacks queued right now, on this thread, and returns how many ran.
    /// Never blocks; callbacks queued meanwhile (even by these callbacks) wait for the
    /// next call.
    ///
    /// # Panics
    ///
    /// When a callback of [`Call::enqueue_local`](crate::Call::enqueue_local) is queued and
    /// this is not the thread that created the queue: such a callback is not `Send` and can
    /// only run there. Nothing is run or removed then, so the owner thread still runs every
    /// callback. [`run_until`](Self::run_until) and [`wait_and_run`](Self::wait_and_run)
    /// panic alike.
    ///
    /// ```
    /// # use stream_chat_callbacks::CallbackQueue;
    /// let queue = CallbackQueue::new();
    /// assert_eq!(queue.run_pending(), 0);
    /// ```
    pub fn run_pending(&self) -> usize {
        let batch = {
            let mut tasks = self.shared.lock();
            if tasks.iter().any(|queued| queued.local) && !self.shared.owner.is_current() {
                drop(tasks);
                panic!(
                    "CallbackQueue drained on thread {}, but it holds callbacks of \
                     Call::enqueue_local, which are not Send and run only on the thread that \
                     created the queue ({}): drain it there",
                    describe_current(),
                    self.shared.owner.describe(),
                );
            }
            std::mem::take(&mut *tasks)
        };
        let count = batch.len();
        for Queued { task, .. } in batch {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(task)) {
                log::error!("a queued callback panicked: {}", panic_message(&*payload));
            }
        }
        count
    }

    /// Runs callbacks as they arrive until `deadline`, then returns how many ran.
    ///
    /// ```
    /// # use stream_chat_callbacks::CallbackQueue;
    /// use std::time::{Duration, Instant};
    /// let queue = CallbackQueue::new();
    /// queue.executor().execute(Box::new(|| {}));
    /// assert_eq!(queue.run_until(Instant::now() + Duration::from_millis(5)), 1);
    /// ```
    pub fn run_until(&self, deadline: Instant) -> usize {
        let mut count = self.run_pending();
        while self.wait_for_task(deadline) {
            count += self.run_pending();
        }
        count
    }

    /// Waits until at least one callback is queued (or `deadline` passes), then runs all
    /// queued callbacks; returns how many ran (0 on timeout). Handy for a dedicated
    /// callback thread or for tests.
    ///
    /// ```
    /// # use stream_chat_callbacks::CallbackQueue;
    /// use std::time::{Duration, Instant};
    /// let queue = CallbackQueue::new();
    /// assert_eq!(queue.wait_and_run(Instant::now() + Duration::from_millis(1)), 0);
    /// ```
    pub fn wait_and_run(&self, deadline: Instant) -> usize {
        self.wait_for_task(deadline);
        self.run_pending()
    }

    /// Blocks until a task is queued (true) or the deadline passed (false).
    fn wait_for_task(&self, deadline: Instant) -> bool {
        let mut tasks = self.shared.lock();
        loop {
            if !tasks.is_empty() {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            tasks = self
                .shared
                .available
                .wait_timeout(tasks, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// How many callbacks are waiting.
    ///
    /// ```
    /// # use stream_chat_callbacks::CallbackQueue;
    /// assert_eq!(CallbackQueue::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.shared.lock().len()
    }

    /// True when no callback is waiting.
    ///
    /// ```
    /// # use stream_chat_callbacks::CallbackQueue;
    /// assert!(CallbackQueue::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for CallbackQueue {
    fn default() -> Self {
        CallbackQueue::new()
    }
}

impl fmt::Debug for CallbackQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackQueue")
            .field("pending", &self.len())
            .field("waker", &self.shared.waker.is_some())
            .field("owner", &self.shared.owner.id)
            .finish()
    }
}

impl Drop for QueueShared {
    fn drop(&mut self) {
        // Local callbacks still waiting never run; drop them now if this is their thread
        // (otherwise they go when the owner thread exits).
        if self.owner.is_current() {
            // The queued tickets first: their drop would otherwise queue cleanups.
            let queued = std::mem::take(&mut *self.lock());
            drop(queued);
            free_queue(self.id);
        }
    }
}
