//! Dropping the last pool handle: queued calls fail with ShutDown, callbacks fire once.
//!
//! The binary's only logger is installed here (`log` allows one per process): it forwards
//! the "shutting down" record of the pool named `sd`, a name no other test gives a pool, so
//! the records of the other tests running in parallel pass through unseen.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::support::*;
use stream_chat_callbacks::{Call, CallbackQueue, ChatResult, ErrorKind, WorkerPool};

/// Forwards the pool's "shutting down" debug line, so a test can tell that shutdown has
/// begun while the pool's drop is still blocked joining a busy thread.
struct ShutdownSignal;

static SIGNAL: OnceLock<Mutex<Option<Sender<()>>>> = OnceLock::new();

impl log::Log for ShutdownSignal {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        if record.args().to_string().contains("'sd' shutting down")
            && let Some(slot) = SIGNAL.get()
            && let Some(tx) = slot.lock().unwrap().as_ref()
        {
            let _ = tx.send(());
        }
    }
    fn flush(&self) {}
}

fn shutdown_signal() -> Receiver<()> {
    let (tx, rx) = unbounded();
    *SIGNAL.get_or_init(|| Mutex::new(None)).lock().unwrap() = Some(tx);
    static LOGGER: ShutdownSignal = ShutdownSignal;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
    rx
}

const QUEUED: usize = 100;

/// Enqueues `QUEUED` calls (half through `queue`) that count runs and report results.
fn enqueue_many(
    pool: &WorkerPool,
    queue: &CallbackQueue,
    ran: &Arc<AtomicUsize>,
) -> Receiver<(usize, ChatResult<usize>)> {
    let (tx, rx) = unbounded();
    for i in 0..QUEUED {
        let (ran, tx) = (ran.clone(), tx.clone());
        let call = Call::new(pool, move |_| {
            ran.fetch_add(1, Ordering::SeqCst);
            ChatResult::Success(i)
        });
        let callback = move |r| tx.send((i, r)).unwrap();
        if i % 2 == 0 {
            call.enqueue(callback);
        } else {
            call.enqueue_on(&queue.executor(), callback);
        }
    }
    rx
}

fn assert_all_shut_down_once(rx: &Receiver<(usize, ChatResult<usize>)>) {
    let mut seen = [false; QUEUED];
    for _ in 0..QUEUED {
        let (i, result) = recv(rx);
        assert_eq!(result.error().kind(), ErrorKind::ShutDown, "call {i}");
        assert!(!seen[i], "call {i} called back twice");
        seen[i] = true;
    }
    // Every callback is consumed now; the channel closes without a further message.
    match rx.recv_timeout(TIMEOUT) {
        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {}
        other => panic!("expected the results channel to close, got {other:?}"),
    }
}

#[test]
fn dropping_the_last_handle_fails_queued_calls_and_joins_threads() {
    let signal = shutdown_signal();
    let pool = WorkerPool::builder().threads(1).thread_name("sd").build();
    let (busy_tx, busy) = unbounded();
    let (gate_tx, gate) = unbounded::<()>();
    let (finished_tx, finished) = unbounded();
    pool.spawn(move || {
        busy_tx.send(()).unwrap();
        let _ = gate.recv();
        finished_tx.send(thread_name()).unwrap();
    })
    .unwrap();
    recv(&busy);

    let queue = CallbackQueue::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let results = enqueue_many(&pool, &queue, &ran);

    let (dropped_tx, dropped) = unbounded();
    let dropper = std::thread::spawn(move || {
        drop(pool);
        dropped_tx.send(()).unwrap();
    });
    recv(&signal); // shutdown has begun; drop now waits for the busy job
    assert!(
        dropped.try_recv().is_err(),
        "drop must wait for the running job"
    );
    drop(gate_tx);
    recv(&dropped);
    dropper.join().unwrap();
    assert_eq!(recv(&finished), "sd-0", "the running job finished normally");

    assert_eq!(
        ran.load(Ordering::SeqCst),
        0,
        "no queued work ran after shutdown"
    );
    assert_eq!(queue.run_pending(), QUEUED / 2);
    assert_all_shut_down_once(&results);
}

#[test]
fn last_handle_dropped_on_a_pool_thread_does_not_self_join() {
    let pool = WorkerPool::builder().threads(1).thread_name("self").build();
    let (handle_tx, handle_rx) = unbounded::<WorkerPool>();
    let (dropped_tx, dropped) = unbounded();
    pool.spawn(move || {
        let last = handle_rx.recv().unwrap();
        drop(last); // shuts down from inside the pool
        dropped_tx.send(()).unwrap();
    })
    .unwrap();

    let queue = CallbackQueue::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let results = enqueue_many(&pool, &queue, &ran);
    let late = Call::new(&pool, |_| ChatResult::Success(0usize));
    handle_tx.send(pool).unwrap(); // hand over the last handle
    recv(&dropped);

    // The worker drains the queue, failing each call, and exits on its own.
    let deadline = std::time::Instant::now() + TIMEOUT;
    let mut delivered_through_queue = 0;
    while delivered_through_queue < QUEUED / 2 && std::time::Instant::now() < deadline {
        delivered_through_queue += queue.wait_and_run(deadline);
    }
    assert_eq!(delivered_through_queue, QUEUED / 2);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert_all_shut_down_once(&results);

    let (tx, rx) = unbounded();
    late.enqueue(move |r| tx.send(r).unwrap());
    assert_eq!(recv(&rx).error().kind(), ErrorKind::ShutDown);
}

#[test]
fn dropping_the_pool_interrupts_work_sleeping_in_a_retry_back_off() {
    let pool = WorkerPool::builder()
        .threads(1)
        .thread_name("backoff")
        .build();
    let (attempted_tx, attempted) = unbounded();
    let (tx, rx) = unbounded();
    let call = Call::<()>::new(&pool, move |_| {
        attempted_tx.send(()).unwrap();
        ChatResult::Failure(stream_chat_callbacks::ChatError::new(
            ErrorKind::Network,
            "reset",
        ))
    })
    .retry(stream_chat_callbacks::FixedRetry {
        max_attempts: 3,
        delay: std::time::Duration::MAX,
    });
    call.enqueue(move |r| tx.send(r).unwrap());
    // The first attempt failed: the work now sleeps "forever" in its back-off.
    recv(&attempted);

    let (dropped_tx, dropped) = unbounded();
    std::thread::spawn(move || {
        drop(pool);
        dropped_tx.send(()).unwrap();
    });
    recv(&dropped); // bounded: without cancelling the back-off this never arrives
    let err = recv(&rx).into_result().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ShutDown, "{err}");
    assert_silent(&rx);
    assert!(!call.is_canceled(), "the user did not cancel the call");
}

/// A scope's shutdown is its own: its queued calls fail with ShutDown, its running call's
/// back-off is cancelled, and dropping its last handle waits for those only; another
/// scope's queued call on the same threads still runs, and the threads stay.
#[test]
fn shutting_a_scope_down_fails_its_own_calls_only() {
    let pool = WorkerPool::builder()
        .threads(1)
        .thread_name("scopes")
        .build();
    let (mine, theirs) = (pool.scoped(), pool.scoped());

    // `mine` runs a call sleeping in a back-off; `theirs` queues one behind it.
    let (attempted_tx, attempted) = unbounded();
    let (slept_tx, slept) = unbounded();
    let sleeper = Call::<()>::new(&mine, move |_| {
        attempted_tx.send(()).unwrap();
        ChatResult::Failure(stream_chat_callbacks::ChatError::new(
            ErrorKind::Network,
            "reset",
        ))
    })
    .retry(stream_chat_callbacks::FixedRetry {
        max_attempts: 3,
        delay: std::time::Duration::MAX,
    });
    sleeper.enqueue(move |r| slept_tx.send(r).unwrap());
    recv(&attempted);
    let (other_tx, other) = unbounded();
    Call::new(&theirs, |_| ChatResult::Success(thread_name()))
        .enqueue(move |r| other_tx.send(r).unwrap());
    let queue = CallbackQueue::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let results = enqueue_many(&mine, &queue, &ran);

    // Dropping the scope's last handle returns once its own calls resolved.
    drop(mine);
    let err = recv(&slept).into_result().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ShutDown, "{err}");
    assert_silent(&slept);
    assert_eq!(
        queue.run_pending(),
        QUEUED / 2,
        "the queued callbacks all fired"
    );
    assert_all_shut_down_once(&results);
    assert_eq!(ran.load(Ordering::SeqCst), 0, "no queued work ran");

    // The other scope's call ran on the same thread, which still serves.
    let name = recv(&other).into_result().unwrap();
    assert_eq!(name, "scopes-0");
    let (tx, rx) = unbounded();
    theirs.spawn(move || tx.send(()).unwrap()).unwrap();
    recv(&rx);
    assert_eq!(pool.threads(), 1);
}
