use std::collections::HashMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, Weak};
use std::thread::{self, JoinHandle, ThreadId};

use crossbeam_channel::{Receiver, Sender};

use crate::{CancelToken, ChatError, ErrorKind, panic_message};

/// A queued unit of work. Called with `true` to run it, or `false` when the pool shut down
/// before it could run (the job then reports [`ErrorKind::ShutDown`] where it has a callback).
pub(crate) type Job = Box<dyn FnOnce(bool) + Send>;

const DEFAULT_THREAD_NAME: &str = "stream-chat-worker";

/// The fixed-size thread pool that runs enqueued [`Call`](crate::Call)s.
///
/// Cloning is cheap and shares the pool. When the last `WorkerPool` handle is dropped (or
/// [`shutdown`](Self::shutdown) is called) the pool shuts down: calls still queued are
/// failed with [`ErrorKind::ShutDown`] (their callbacks fire once); the [`CancelToken`]s
/// of running calls and of pending [deferred](crate::Call::deferred) calls are cancelled,
/// so work that waits through its token (a retry back-off, for example) ends at once and
/// its callback gets [`ErrorKind::ShutDown`]. Dropping the last handle then joins the
/// threads, except when it is dropped on one of the pool's own threads, which then exit
/// on their own. Calls keep only a weak reference, so pending calls never keep a pool
/// alive.
///
/// A [`scoped`](Self::scoped) pool runs on the same threads with a shutdown of its own:
/// many users (clients) share a few threads, and each one's shutdown still fails and
/// cancels exactly its own calls.
///
/// A panic in a job is caught and logged; the thread keeps serving.
///
/// ```
/// use stream_chat_callbacks::WorkerPool;
///
/// let pool = WorkerPool::builder().threads(2).thread_name("chat-io").build();
/// assert_eq!(pool.threads(), 2);
/// let (tx, rx) = std::sync::mpsc::channel();
/// pool.spawn(move || tx.send(std::thread::current().name().map(String::from)).unwrap())?;
/// let name = rx.recv().unwrap().unwrap();
/// assert!(name.starts_with("chat-io-"), "{name}");
/// # Ok::<(), stream_chat_callbacks::ChatError>(())
/// ```
#[derive(Clone)]
pub struct WorkerPool {
    owner: Arc<PoolOwner>,
}

/// The last handle of a pool (or scope): dropping it shuts the scope down and waits.
struct PoolOwner {
    shared: Arc<PoolShared>,
}

/// The threads, shared by a pool and its scopes. Dropping the last reference closes the
/// queue and joins them (unless dropped on one of them).
struct Threads {
    sender: RwLock<Option<Sender<Job>>>,
    /// Set when the queue closes: workers fail what is still queued.
    closed: Arc<AtomicBool>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    ids: Vec<ThreadId>,
    name: String,
}

impl Threads {
    fn on_worker(&self) -> bool {
        let me = thread::current().id();
        self.ids.contains(&me)
    }

    /// Closes the queue: threads fail what is queued and exit. False if it already was.
    fn close(&self) -> bool {
        let mut sender = self.sender.write().unwrap_or_else(|e| e.into_inner());
        if sender.is_none() {
            return false;
        }
        self.closed.store(true, Ordering::Release);
        *sender = None;
        true
    }

    fn send(&self, job: Job) -> Result<(), Job> {
        let sender = self.sender.read().unwrap_or_else(|e| e.into_inner());
        match sender.as_ref() {
            Some(tx) => tx.send(job).map_err(|e| e.into_inner()),
            None => Err(job),
        }
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        if self.close() {
            log::debug!("worker pool '{}' shutting down", self.name);
        }
        let workers = std::mem::take(self.workers.get_mut().unwrap_or_else(|e| e.into_inner()));
        if self.on_worker() {
            // Dropped by one of our own jobs: joining would wait for ourselves. The
            // workers see the closed channel, fail what is queued and exit.
            return;
        }
        for worker in workers {
            let _ = worker.join();
        }
    }
}

/// State of one pool or scope, shared by its owner, its queued jobs and (weakly) its calls.
pub(crate) struct PoolShared {
    threads: Arc<Threads>,
    /// A pool made by the builder owns its threads: its shutdown closes them.
    root: bool,
    shut_down: AtomicBool,
    /// Tokens of the enqueued calls not yet resolved, cancelled at shutdown.
    live: Mutex<Live>,
    /// Jobs of this scope queued or running, for the owner's drop to wait for.
    inflight: Mutex<usize>,
    idle: Condvar,
}

#[derive(Default)]
struct Live {
    next_id: u64,
    tokens: HashMap<u64, CancelToken>,
}

/// Keeps a call's token registered with its pool until dropped.
pub(crate) struct Tracked {
    shared: Weak<PoolShared>,
    id: u64,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            shared.lock_live().tokens.remove(&self.id);
        }
    }
}

impl PoolShared {
    fn new(threads: Arc<Threads>, root: bool) -> Arc<PoolShared> {
        Arc::new(PoolShared {
            threads,
            root,
            shut_down: AtomicBool::new(false),
            live: Mutex::new(Live::default()),
            inflight: Mutex::new(0),
            idle: Condvar::new(),
        })
    }

    /// Queues `job`, or hands it back when the pool (or scope) is shut down.
    pub(crate) fn submit(self: &Arc<Self>, job: Job) -> Result<(), Job> {
        if self.is_shut_down() {
            return Err(job);
        }
        self.queue(job)
    }

    /// Queues `job` to run as shut down (`false`) on a pool thread when this scope is shut
    /// down but the threads still serve others; hands it back only when no thread is left.
    /// So a completion never runs a callback on the thread that completed it (a timer, a
    /// socket thread) while the threads are up.
    pub(crate) fn submit_or_fail(self: &Arc<Self>, job: Job) -> Result<(), Job> {
        self.queue(job)
    }

    /// Sends `job` wrapped: it runs only while this scope is up, and it counts as this
    /// scope's until it ran or was dropped.
    fn queue(self: &Arc<Self>, job: Job) -> Result<(), Job> {
        *self.lock_inflight() += 1;
        let counted = Counted(Arc::downgrade(self));
        let wrapped: Job = Box::new(move |run| {
            let run = run && counted.0.upgrade().is_some_and(|s| !s.is_shut_down());
            job(run);
            drop(counted);
        });
        self.threads.send(wrapped)
    }

    fn finished(&self) {
        let mut inflight = self.lock_inflight();
        *inflight = inflight.saturating_sub(1);
        if *inflight == 0 {
            self.idle.notify_all();
        }
    }

    fn lock_inflight(&self) -> MutexGuard<'_, usize> {
        self.inflight.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers `token` to be cancelled at shutdown (at once when already shut down).
    pub(crate) fn track(self: &Arc<Self>, token: &CancelToken) -> Tracked {
        let mut live = self.lock_live();
        if self.is_shut_down() {
            drop(live);
            token.cancel();
            return Tracked {
                shared: Weak::new(),
                id: 0,
            };
        }
        live.next_id += 1;
        let id = live.next_id;
        live.tokens.insert(id, token.clone());
        Tracked {
            shared: Arc::downgrade(self),
            id,
        }
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Acquire) || self.threads.closed.load(Ordering::Acquire)
    }

    fn lock_live(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Refuses new work and cancels every tracked token; a root pool also closes its
    /// threads. Returns false if it already was shut down.
    fn shut_down(&self) -> bool {
        {
            // Under the live lock: `track` checks the flag under it, so no token slips past.
            let _live = self.lock_live();
            if self.shut_down.swap(true, Ordering::AcqRel) {
                return false;
            }
        }
        if self.root {
            self.threads.close();
        }
        let tokens = std::mem::take(&mut self.lock_live().tokens);
        for token in tokens.into_values() {
            token.cancel();
        }
        true
    }

    fn log_shutdown(&self) {
        let what = if self.root { "" } else { " (a scope)" };
        log::debug!("worker pool '{}'{what} shutting down", self.threads.name);
    }

    /// Waits until no job of this scope is queued or running, unless called on one of
    /// the threads (a job dropping its own pool: waiting would wait for itself).
    fn wait_idle(&self) {
        if self.threads.on_worker() {
            return;
        }
        let mut inflight = self.lock_inflight();
        while *inflight > 0 {
            inflight = self.idle.wait(inflight).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// A job of a scope, counted until it ran or was dropped.
struct Counted(Weak<PoolShared>);

impl Drop for Counted {
    fn drop(&mut self) {
        if let Some(scope) = self.0.upgrade() {
            scope.finished();
        }
    }
}

pub(crate) fn shut_down_error() -> ChatError {
    ChatError::new(
        ErrorKind::ShutDown,
        "the worker pool was shut down before the call could run",
    )
}

impl WorkerPool {
    /// A pool of `threads` threads named `stream-chat-worker-N`; `0` picks the default:
    /// the available parallelism, at least 2.
    ///
    /// ```
    /// let pool = stream_chat_callbacks::WorkerPool::new(0);
    /// assert!(pool.threads() >= 2);
    /// ```
    pub fn new(threads: usize) -> WorkerPool {
        WorkerPool::builder().threads(threads).build()
    }

    /// A builder to set the thread count, name prefix and stack size.
    ///
    /// ```
    /// let pool = stream_chat_callbacks::WorkerPool::builder().threads(1).build();
    /// assert_eq!(pool.threads(), 1);
    /// ```
    pub fn builder() -> WorkerPoolBuilder {
        WorkerPoolBuilder::default()
    }

    /// Runs `job` on a pool thread. Fails with [`ErrorKind::ShutDown`] once the pool is
    /// shut down; a job still queued at shutdown is dropped without running.
    ///
    /// ```
    /// let pool = stream_chat_callbacks::WorkerPool::new(2);
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// pool.spawn(move || tx.send(6 * 7).unwrap())?;
    /// assert_eq!(rx.recv().unwrap(), 42);
    /// # Ok::<(), stream_chat_callbacks::ChatError>(())
    /// ```
    pub fn spawn(&self, job: impl FnOnce() + Send + 'static) -> Result<(), ChatError> {
        self.owner
            .shared
            .submit(Box::new(move |run| {
                if run {
                    job()
                }
            }))
            .map_err(|_| shut_down_error())
    }

    /// A pool on the same threads with a shutdown of its own: shutting it down (or
    /// dropping its last handle) fails its queued calls and cancels its running and
    /// pending ones, exactly as shutting down a pool of its own would, while the threads
    /// keep serving this pool and its other scopes. Dropping its last handle waits for its
    /// own queued and running jobs only (not when dropped on one of the threads). Shutting
    /// down the pool itself (not a scope) stops the threads: every scope's later calls
    /// then fail with [`ErrorKind::ShutDown`].
    ///
    /// ```
    /// use stream_chat_callbacks::{ErrorKind, WorkerPool};
    ///
    /// let pool = WorkerPool::new(2);
    /// let (a, b) = (pool.scoped(), pool.scoped());
    /// a.shutdown();
    /// assert_eq!(a.spawn(|| {}).unwrap_err().kind(), ErrorKind::ShutDown);
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// b.spawn(move || tx.send("still served").unwrap())?;
    /// assert_eq!(rx.recv().unwrap(), "still served");
    /// assert_eq!(b.threads(), 2);
    /// # Ok::<(), stream_chat_callbacks::ChatError>(())
    /// ```
    pub fn scoped(&self) -> WorkerPool {
        WorkerPool {
            owner: Arc::new(PoolOwner {
                shared: PoolShared::new(Arc::clone(&self.owner.shared.threads), false),
            }),
        }
    }

    /// How many threads the pool runs (fewer than asked only if the OS refused to spawn).
    ///
    /// ```
    /// assert_eq!(stream_chat_callbacks::WorkerPool::new(3).threads(), 3);
    /// ```
    pub fn threads(&self) -> usize {
        self.owner.shared.threads.ids.len()
    }

    /// Shuts the pool down now, as dropping the last handle does (see [`WorkerPool`]), but
    /// without waiting: queued calls fail with [`ErrorKind::ShutDown`], running and
    /// pending calls are cancelled and report [`ErrorKind::ShutDown`], and each thread
    /// exits once its running work returns (dropping the last handle then joins them).
    /// Later calls and `spawn`s fail with `ShutDown`. Idempotent.
    ///
    /// ```
    /// use std::time::Duration;
    /// use stream_chat_callbacks::{Call, ChatError, ChatResult, ErrorKind, WorkerPool};
    ///
    /// let pool = WorkerPool::new(1);
    /// let (started_tx, started) = std::sync::mpsc::channel();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// // Work waiting through its token, e.g. a long retry back-off.
    /// Call::new(&pool, move |token| {
    ///     started_tx.send(()).unwrap();
    ///     if !token.sleep(Duration::MAX) {
    ///         return ChatResult::Failure(ChatError::cancelled());
    ///     }
    ///     ChatResult::Success(())
    /// })
    /// .enqueue(move |r| tx.send(r.error().kind()).unwrap());
    /// started.recv().unwrap();
    /// pool.shutdown(); // returns at once: the sleep is cancelled
    /// assert_eq!(rx.recv().unwrap(), ErrorKind::ShutDown);
    /// assert!(pool.spawn(|| {}).is_err());
    /// ```
    pub fn shutdown(&self) {
        if self.owner.shared.shut_down() {
            self.owner.shared.log_shutdown();
        }
    }

    pub(crate) fn downgrade(&self) -> Weak<PoolShared> {
        Arc::downgrade(&self.owner.shared)
    }
}

impl Default for WorkerPool {
    fn default() -> Self {
        WorkerPool::new(0)
    }
}

impl fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerPool")
            .field("name", &self.owner.shared.threads.name)
            .field("threads", &self.threads())
            .finish()
    }
}

impl Drop for PoolOwner {
    fn drop(&mut self) {
        if self.shared.shut_down() {
            self.shared.log_shutdown();
        }
        // Its queued jobs fail and its running ones see their tokens cancelled; wait for
        // them, so every callback of this pool has fired when the last handle is gone.
        // A root pool's threads are then joined when `Threads` drops.
        self.shared.wait_idle();
    }
}

fn worker_loop(jobs: Receiver<Job>, closed: Arc<AtomicBool>) {
    for job in jobs.iter() {
        let run = !closed.load(Ordering::Acquire);
        if let Err(payload) = catch_unwind(AssertUnwindSafe(move || job(run))) {
            log::error!("a worker pool job panicked: {}", panic_message(&*payload));
        }
    }
}

/// Configures a [`WorkerPool`]; get one with [`WorkerPool::builder`].
///
/// ```
/// let pool = stream_chat_callbacks::WorkerPool::builder()
///     .threads(4)
///     .thread_name("my-app-chat")
///     .stack_size(256 * 1024)
///     .build();
/// assert_eq!(pool.threads(), 4);
/// ```
#[derive(Clone, Debug, Default)]
pub struct WorkerPoolBuilder {
    threads: usize,
    name: Option<String>,
    stack_size: Option<usize>,
}

impl WorkerPoolBuilder {
    /// Number of threads; `0` (the default) means the available parallelism, at least 2.
    ///
    /// ```
    /// let pool = stream_chat_callbacks::WorkerPool::builder().threads(2).build();
    /// assert_eq!(pool.threads(), 2);
    /// ```
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Thread name prefix; threads are named `{prefix}-0`, `{prefix}-1`, ...
    /// (default `stream-chat-worker`).
    ///
    /// ```
    /// let pool = stream_chat_callbacks::WorkerPool::builder().thread_name("io").threads(1).build();
    /// # drop(pool);
    /// ```
    pub fn thread_name(mut self, prefix: impl Into<String>) -> Self {
        self.name = Some(prefix.into());
        self
    }

    /// Stack size of each thread in bytes (default: the standard library's).
    ///
    /// ```
    /// let pool = stream_chat_callbacks::WorkerPool::builder().stack_size(512 * 1024).build();
    /// # drop(pool);
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Starts the threads. If the OS refuses a thread, the pool runs with those it got
    /// (see [`WorkerPool::threads`]); with none at all, every call fails with
    /// [`ErrorKind::ShutDown`] instead of hanging.
    ///
    /// ```
    /// let pool = stream_chat_callbacks::WorkerPool::builder().build();
    /// assert!(pool.threads() >= 2);
    /// ```
    pub fn build(self) -> WorkerPool {
        let threads = if self.threads == 0 {
            thread::available_parallelism().map_or(2, |n| n.get().max(2))
        } else {
            self.threads
        };
        let name = self.name.unwrap_or_else(|| DEFAULT_THREAD_NAME.to_owned());
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        let closed = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::with_capacity(threads);
        for index in 0..threads {
            let mut builder = thread::Builder::new().name(format!("{name}-{index}"));
            if let Some(bytes) = self.stack_size {
                builder = builder.stack_size(bytes);
            }
            let (rx, closed) = (rx.clone(), closed.clone());
            match builder.spawn(move || worker_loop(rx, closed)) {
                Ok(handle) => workers.push(handle),
                Err(err) => log::error!("could not start worker thread {name}-{index}: {err}"),
            }
        }
        let threads = Arc::new(Threads {
            sender: RwLock::new(Some(tx)),
            closed,
            ids: workers.iter().map(|w| w.thread().id()).collect(),
            workers: Mutex::new(workers),
            name,
        });
        if threads.ids.is_empty() {
            threads.close();
        }
        WorkerPool {
            owner: Arc::new(PoolOwner {
                shared: PoolShared::new(threads, true),
            }),
        }
    }
}
