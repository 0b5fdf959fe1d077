//! Cancellation before, during and after the work.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::*;
use stream_chat_callbacks::{Call, CallbackQueue, ChatResult, ErrorKind, WorkerPool};

fn counting_call(pool: &WorkerPool, runs: &Arc<AtomicUsize>) -> Call<u32> {
    let runs = runs.clone();
    Call::new(pool, move |_| {
        runs.fetch_add(1, Ordering::SeqCst);
        ChatResult::Success(1)
    })
}

#[test]
fn cancel_before_enqueue_never_runs_work_nor_callback() {
    let pool = WorkerPool::new(2);
    let runs = Arc::new(AtomicUsize::new(0));
    let call = counting_call(&pool, &runs);
    call.cancel();
    assert!(call.is_canceled());
    let (tx, rx) = unbounded::<ChatResult<u32>>();
    call.enqueue(move |r| tx.send(r).unwrap());
    drop(pool); // joins: any queued job would have run by now
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert_silent(&rx);
}

#[test]
fn cancel_before_execute_returns_cancelled_without_running() {
    let pool = WorkerPool::new(2);
    let runs = Arc::new(AtomicUsize::new(0));
    let call = counting_call(&pool, &runs);
    call.cancel_handle().cancel();
    let result = call.execute();
    assert!(result.error().is_cancelled(), "{result:?}");
    assert_eq!(result.error().kind(), ErrorKind::Cancelled);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

#[test]
fn cancel_before_enqueue_of_a_ready_call_is_silent() {
    let (tx, rx) = unbounded::<ChatResult<u8>>();
    let call = Call::of(ChatResult::Success(1));
    call.cancel();
    call.enqueue(move |r| tx.send(r).unwrap());
    assert_silent(&rx);
}

/// Work that reports its start, registers a cancel hook and sleeps on its token.
struct Probe {
    started: Receiver<()>,
    hook_ran: Receiver<()>,
    slept_fully: Receiver<bool>,
}

fn sleeping_call(pool: &WorkerPool) -> (Call<u32>, Probe) {
    let (started_tx, started) = unbounded();
    let (hook_tx, hook_ran) = unbounded();
    let (slept_tx, slept_fully) = unbounded();
    let call = Call::new(pool, move |token| {
        let hook_tx = hook_tx.clone();
        token.on_cancel(move || hook_tx.send(()).unwrap());
        started_tx.send(()).unwrap();
        slept_tx
            .send(token.sleep(Duration::from_secs(600)))
            .unwrap();
        ChatResult::Success(7)
    });
    (
        call,
        Probe {
            started,
            hook_ran,
            slept_fully,
        },
    )
}

#[test]
fn cancel_during_enqueued_work_wakes_it_runs_hooks_and_drops_the_result() {
    let pool = WorkerPool::new(2);
    let (call, probe) = sleeping_call(&pool);
    let (tx, rx) = unbounded::<ChatResult<u32>>();
    call.enqueue(move |r| tx.send(r).unwrap());
    recv(&probe.started);
    call.cancel();
    recv(&probe.hook_ran);
    assert!(
        !recv(&probe.slept_fully),
        "sleep woke early because of the cancel"
    );
    drop(pool);
    drop(call);
    assert_silent(&rx);
}

#[test]
fn cancel_during_execute_returns_cancelled() {
    let pool = WorkerPool::new(2);
    let (call, probe) = sleeping_call(&pool);
    let call = Arc::new(call);
    let (tx, rx) = unbounded();
    let runner = {
        let call = call.clone();
        std::thread::spawn(move || tx.send(call.execute()).unwrap())
    };
    recv(&probe.started);
    call.cancel();
    recv(&probe.hook_ran);
    assert!(!recv(&probe.slept_fully));
    assert!(recv(&rx).error().is_cancelled());
    runner.join().unwrap();
}

#[test]
fn cancel_after_work_but_before_delivery_suppresses_the_callback() {
    let pool = WorkerPool::new(2);
    let (woken_tx, woken) = unbounded();
    let queue = CallbackQueue::with_waker(move || woken_tx.send(()).unwrap());
    let runs = Arc::new(AtomicUsize::new(0));
    let call = counting_call(&pool, &runs).with_executor(queue.executor());
    let (tx, rx) = unbounded::<ChatResult<u32>>();
    call.enqueue(move |r| tx.send(r).unwrap());
    recv(&woken); // the result now waits in the queue
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(queue.len(), 1);
    call.cancel();
    assert_eq!(
        queue.run_pending(),
        1,
        "the task ran but suppressed the callback"
    );
    assert_silent(&rx);
}

#[test]
fn cancel_from_another_thread_through_the_handle() {
    let pool = WorkerPool::new(2);
    let (call, probe) = sleeping_call(&pool);
    let handle = call.cancel_handle();
    let (tx, rx) = unbounded::<ChatResult<u32>>();
    call.enqueue(move |r| tx.send(r).unwrap());
    recv(&probe.started);
    std::thread::spawn(move || handle.cancel()).join().unwrap();
    assert!(call.is_canceled());
    assert!(!recv(&probe.slept_fully));
    drop(pool);
    drop(call);
    assert_silent(&rx);
}

#[test]
fn uncancelled_sleeping_work_completes_normally() {
    let pool = WorkerPool::new(2);
    let call = Call::new(&pool, |token| {
        let full = token.sleep(Duration::from_millis(2));
        ChatResult::Success(full)
    });
    let (tx, rx) = unbounded();
    call.enqueue(move |r| tx.send(r).unwrap());
    assert_eq!(recv(&rx), ChatResult::Success(true));
}

/// Hooks run newest first: those a call's work registered (undoing what it started, such as
/// a connection attempt) run before the one `execute()` registered before the work began,
/// which releases the blocked caller. So a caller that returns from a cancelled `execute()`
/// sees the work's cleanup done (issue 8: a cancelled connect returned while the state still
/// read `Connecting`).
#[test]
fn hooks_run_newest_first_so_the_works_cleanup_precedes_the_callers_release() {
    let token = stream_chat_callbacks::CancelToken::new();
    let (tx, order) = unbounded();
    for name in [
        "release the caller",
        "work: first step",
        "work: second step",
    ] {
        let tx = tx.clone();
        token.on_cancel(move || tx.send(name).unwrap());
    }
    drop(tx);
    token.cancel();
    let ran: Vec<_> = order.iter().collect();
    assert_eq!(
        ran,
        [
            "work: second step",
            "work: first step",
            "release the caller"
        ]
    );
}
