//! The machinery every client of the process shares by default: one worker pool, one
//! event dispatcher pool and one deadline timer, started on first use and kept for the
//! life of the process, so the thread count does not grow with the number of clients.
//!
//! Each client still owns its part of them: a [scope](WorkerPool::scoped) of the worker
//! pool (its shutdown fails and cancels its own calls only), a serial queue of its events
//! on the dispatcher (a strand: its events reach its listeners in order, one at a time)
//! and its own timer targets (the timer holds them weakly). Every WebSocket runs on the
//! reactor's threads (`reactor`).

use std::sync::{Arc, Mutex, OnceLock};

use stream_chat_callbacks::{ChatError, DeadlineTimer, ErrorKind, WorkerPool};

use crate::reactor::Reactor;

/// Threads of the shared worker pool: REST calls hold one while they run, so it is not
/// smaller than this even on a machine with fewer CPUs.
const MIN_SHARED_WORKERS: usize = 4;
/// Threads that run the event strands (and, with the default executor, the listeners):
/// two, so one client's blocked listener leaves the other clients' events flowing.
const EVENT_THREADS: usize = 2;
/// Most reactor threads (one per CPU up to this): they run every WebSocket of the process.
const MAX_REACTOR_THREADS: usize = 4;

/// The process-wide default machinery (see the module docs).
pub(crate) struct Runtime {
    /// Runs enqueued calls (each client on a scope of it).
    pub(crate) pool: WorkerPool,
    /// Runs the clients' event strands.
    pub(crate) events: WorkerPool,
    /// Resolves every client's deadlines (connect and wait timeouts, typing stops). It
    /// runs no user code: what it resolves hands callbacks to a pool.
    pub(crate) timer: Arc<DeadlineTimer>,
    /// Runs every WebSocket of the process (see `reactor`).
    pub(crate) reactor: Reactor,
}

static SHARED: OnceLock<Runtime> = OnceLock::new();
/// Serialises the first start, so a failed one (no thread for the timer) can be retried.
static STARTING: Mutex<()> = Mutex::new(());

/// The shared machinery, started on first use. Fails with [`ErrorKind::ShutDown`] only
/// when the OS refuses the timer's thread (then a later call tries again).
pub(crate) fn shared() -> Result<&'static Runtime, ChatError> {
    if let Some(runtime) = SHARED.get() {
        return Ok(runtime);
    }
    let _starting = STARTING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(runtime) = SHARED.get() {
        return Ok(runtime);
    }
    let timer = DeadlineTimer::start("stream-chat-timer").map_err(|e| {
        ChatError::new(ErrorKind::ShutDown, "cannot start the timer thread").with_source(e)
    })?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cpus.max(MIN_SHARED_WORKERS);
    let reactor = Reactor::start(cpus.min(MAX_REACTOR_THREADS), "stream-chat-io").map_err(|e| {
        ChatError::new(ErrorKind::ShutDown, "cannot start the reactor threads").with_source(e)
    })?;
    let runtime = Runtime {
        pool: WorkerPool::builder()
            .threads(workers)
            .thread_name("stream-chat-pool")
            .build(),
        events: WorkerPool::builder()
            .threads(EVENT_THREADS)
            .thread_name("stream-chat-events")
            .build(),
        timer: Arc::new(timer),
        reactor,
    };
    Ok(SHARED.get_or_init(|| runtime))
}
