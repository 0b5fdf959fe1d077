use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender};

use crate::{ChatError, ErrorKind, panic_message};

/// A queued unit of work. Called with `true` to run it, or `false` when the pool shut down
/// before it could run (the job then reports [`ErrorKind::ShutDown`] where it has a callback).
pub(crate) type Job = Box<dyn FnOnce(bool) + Send>;

const DEFAULT_THREAD_NAME: &str = "stream-chat-worker";

/// The fixed-size thread pool that runs enqueued [`Call`](crate::Call)s.
///
/// Cloning is cheap and shares the pool. When the last `WorkerPool` handle is dropped the
/// pool shuts down: calls still queued are failed with [`ErrorKind::ShutDown`] (their
/// callbacks fire once), running work finishes, and the threads are joined, except when
/// the last handle is dropped on one of the pool's own threads, which then exit on their
/// own. Calls keep only a weak reference, so pending calls never keep a pool alive.
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
    name: String,
}

/// State shared by the owner, the workers and (weakly) the calls.
pub(crate) struct PoolShared {
    sender: RwLock<Option<Sender<Job>>>,
    shut_down: AtomicBool,
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

    fn shut_down(&self) {
        let mut sender = self.sender.write().unwrap_or_else(|e| e.into_inner());
        self.shut_down.store(true, Ordering::Release);
        *sender = None;
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
        self.owner.workers.len()
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
        self.shared.shut_down();
        log::debug!("worker pool '{}' shutting down", self.name);
        let me = thread::current().id();
        if self.workers.iter().any(|w| w.thread().id() == me) {
            // Dropped by one of our own jobs: joining would wait for ourselves. The
            // workers see the closed channel, fail what is queued and exit.
            return;
        }
        for worker in self.workers.drain(..) {
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
                workers,
                name,
            }),
        }
    }
}
