use std::collections::HashMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::thread::{self, JoinHandle};

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

struct PoolOwner {
    shared: Arc<PoolShared>,
    workers: Vec<JoinHandle<()>>,
    threads: usize,
    name: String,
}

/// State shared by the owner, the workers and (weakly) the calls.
pub(crate) struct PoolShared {
    sender: RwLock<Option<Sender<Job>>>,
    shut_down: AtomicBool,
    /// Tokens of the enqueued calls not yet resolved, cancelled at shutdown.
    live: Mutex<Live>,
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
    /// Queues `job`, or hands it back when the pool is shut down.
    pub(crate) fn submit(&self, job: Job) -> Result<(), Job> {
        let sender = self.sender.read().unwrap_or_else(|e| e.into_inner());
        match sender.as_ref() {
            Some(tx) => tx.send(job).map_err(|e| e.into_inner()),
            None => Err(job),
        }
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
        self.shut_down.load(Ordering::Acquire)
    }

    fn lock_live(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Closes the queue and cancels every tracked token. Returns false if it already was.
    fn shut_down(&self) -> bool {
        {
            let mut sender = self.sender.write().unwrap_or_else(|e| e.into_inner());
            if self.shut_down.swap(true, Ordering::AcqRel) {
                return false;
            }
            *sender = None;
        }
        // `track` checks the flag under this lock, so no token slips past.
        let tokens = std::mem::take(&mut self.lock_live().tokens);
        for token in tokens.into_values() {
            token.cancel();
        }
        true
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

    /// How many threads the pool runs (fewer than asked only if the OS refused to spawn).
    ///
    /// ```
    /// assert_eq!(stream_chat_callbacks::WorkerPool::new(3).threads(), 3);
    /// ```
    pub fn threads(&self) -> usize {
        self.owner.threads
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
            log::debug!("worker pool '{}' shutting down", self.owner.name);
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
            .field("name", &self.owner.name)
            .field("threads", &self.threads())
            .finish()
    }
}

impl Drop for PoolOwner {
    fn drop(&mut self) {
        if self.shared.shut_down() {
            log::debug!("worker pool '{}' shutting down", self.name);
        }
        let workers = std::mem::take(&mut self.workers);
        let me = thread::current().id();
        if workers.iter().any(|w| w.thread().id() == me) {
            // Dropped by one of our own jobs: joining would wait for ourselves. The
            // workers see the closed channel, fail what is queued and exit.
            return;
        }
        for worker in workers {
            let _ = worker.join();
        }
    }
}

fn worker_loop(jobs: Receiver<Job>, shared: Arc<PoolShared>) {
    for job in jobs.iter() {
        let run = !shared.shut_down.load(Ordering::Acquire);
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
        let shared = Arc::new(PoolShared {
            sender: RwLock::new(Some(tx)),
            shut_down: AtomicBool::new(false),
            live: Mutex::new(Live::default()),
        });
        let mut workers = Vec::with_capacity(threads);
        for index in 0..threads {
            let mut builder = thread::Builder::new().name(format!("{name}-{index}"));
            if let Some(bytes) = self.stack_size {
                builder = builder.stack_size(bytes);
            }
            let (rx, shared) = (rx.clone(), shared.clone());
            match builder.spawn(move || worker_loop(rx, shared)) {
                Ok(handle) => workers.push(handle),
                Err(err) => log::error!("could not start worker thread {name}-{index}: {err}"),
            }
        }
        if workers.is_empty() {
            shared.shut_down();
        }
        WorkerPool {
            owner: Arc::new(PoolOwner {
                shared,
                threads: workers.len(),
                workers,
                name,
            }),
        }
    }
}
