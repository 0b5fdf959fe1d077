//! `Call::deferred`: completion from another thread, without holding a pool thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::*;
use stream_chat_callbacks::{
    Call, CallbackQueue, ChatError, ChatResult, Completer, ErrorKind, FixedRetry, WorkerPool,
};

/// A deferred call whose completer is handed to the test through `completers`.
fn parked<T: Send + 'static>(pool: &WorkerPool, completers: &Sender<Completer<T>>) -> Call<T> {
    let completers = completers.clone();
    Call::deferred(pool, move |_token, completer| {
        completers.send(completer).unwrap()
    })
}

#[test]
fn every_callback_fires_exactly_once_when_completed_from_other_threads() {
    const CALLS: usize = 2_000;
    let pool = WorkerPool::new(2);
    let (completers_tx, completers) = unbounded::<Completer<usize>>();
    let completing: Vec<_> = (0..4)
        .map(|_| {
            let completers = completers.clone();
            std::thread::spawn(move || {
                for (i, completer) in completers.iter().enumerate() {
                    completer.complete(ChatResult::Success(i));
                }
            })
        })
        .collect();
    let (tx, rx) = unbounded();
    for id in 0..CALLS {
        let tx = tx.clone();
        parked(&pool, &completers_tx).enqueue(move |r| {
            assert!(r.is_success());
            tx.send(id).unwrap()
        });
    }
    drop(tx);
    let mut seen = vec![false; CALLS];
    for _ in 0..CALLS {
        let id = recv(&rx);
        assert!(!seen[id], "call {id} called back twice");
        seen[id] = true;
    }
    assert_silent(&rx);
    drop(completers_tx);
    for t in completing {
        t.join().unwrap();
    }
}

#[test]
fn a_one_thread_pool_with_fifty_pending_calls_still_runs_other_work() {
    let pool = WorkerPool::new(1);
    let (completers_tx, completers) = unbounded::<Completer<usize>>();
    let (tx, rx) = unbounded();
    for id in 0..50 {
        let tx = tx.clone();
        parked(&pool, &completers_tx).enqueue(move |r| tx.send((id, r)).unwrap());
    }
    let pending: Vec<_> = (0..50).map(|_| recv(&completers)).collect();

    // All 50 are pending; the only thread is free for other calls.
    let (other_tx, other) = unbounded();
    Call::new(&pool, |_| ChatResult::Success("other")).enqueue(move |r| other_tx.send(r).unwrap());
    assert_eq!(recv(&other), ChatResult::Success("other"));
    assert!(rx.try_recv().is_err(), "nothing completed yet");

    for (i, completer) in pending.into_iter().enumerate() {
        completer.complete(ChatResult::Success(i));
    }
    drop(tx);
    let mut seen = [false; 50];
    for _ in 0..50 {
        let (id, result) = recv(&rx);
        assert!(result.is_success());
        assert!(!seen[id], "call {id} called back twice");
        seen[id] = true;
    }
    assert_silent(&rx);
}

#[test]
fn the_callback_runs_on_a_pool_thread_not_the_completing_one() {
    let pool = WorkerPool::builder().threads(1).thread_name("dp").build();
    let (completers_tx, completers) = unbounded::<Completer<()>>();
    let (tx, rx) = unbounded();
    parked(&pool, &completers_tx).enqueue(move |_| tx.send(thread_name()).unwrap());
    let completer = recv(&completers);
    std::thread::Builder::new()
        .name("completing".into())
        .spawn(move || completer.complete(ChatResult::Success(())))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(recv(&rx), "dp-0");
}

#[test]
fn execute_blocks_until_another_thread_completes() {
    let pool = WorkerPool::new(1);
    let call = Call::deferred(&pool, |_token, completer| {
        std::thread::spawn(move || completer.complete(ChatResult::Success(5)));
    });
    assert_eq!(call.execute(), ChatResult::Success(5));
    assert_eq!(call.execute().error().kind(), ErrorKind::AlreadyExecuted);
}

#[test]
fn cancel_before_enqueue_never_starts() {
    let pool = WorkerPool::new(1);
    let starts = Arc::new(AtomicUsize::new(0));
    let s = starts.clone();
    let call = Call::<()>::deferred(&pool, move |_, c| {
        s.fetch_add(1, Ordering::SeqCst);
        c.complete(ChatResult::Success(()));
    });
    call.cancel();
    let (tx, rx) = unbounded::<ChatResult<()>>();
    call.enqueue(move |r| tx.send(r).unwrap());
    drop(pool); // joins: a queued start would have run by now
    assert_eq!(starts.load(Ordering::SeqCst), 0);
    assert_silent(&rx);
}

#[test]
fn cancel_while_pending_runs_the_hooks_and_drops_the_late_result() {
    let pool = WorkerPool::new(1);
    let (completers_tx, completers) = unbounded::<Completer<u8>>();
    let (hook_tx, hook) = unbounded();
    let call = Call::deferred(&pool, move |token, completer| {
        let hook_tx = hook_tx.clone();
        token.on_cancel(move || hook_tx.send(()).unwrap());
        completers_tx.send(completer).unwrap();
    });
    let (tx, rx) = unbounded::<ChatResult<u8>>();
    call.enqueue(move |r| tx.send(r).unwrap());
    let completer = recv(&completers);
    call.cancel();
    recv(&hook); // the start's abort hook ran
    completer.complete(ChatResult::Success(1));
    assert_silent(&rx);
}

#[test]
fn cancel_after_completion_before_delivery_skips_the_callback() {
    let pool = WorkerPool::new(1);
    let (pushed_tx, pushed) = unbounded();
    let queue = CallbackQueue::with_waker(move || pushed_tx.send(()).unwrap());
    let call = Call::deferred(&pool, |_, c| c.complete(ChatResult::Success(1)))
        .with_executor(queue.executor());
    let (tx, rx) = unbounded::<ChatResult<u8>>();
    call.enqueue(move |r| tx.send(r).unwrap());
    recv(&pushed); // completed and waiting in the queue
    call.cancel();
    assert_eq!(queue.run_pending(), 1, "the callback's turn came");
    assert_silent(&rx);
}

#[test]
fn cancelling_execute_from_another_thread_returns_cancelled_and_runs_the_hook() {
    let pool = WorkerPool::new(1);
    let (hook_tx, hook) = unbounded();
    let (parked_tx, parked_rx) = unbounded::<Completer<()>>();
    let call = Call::deferred(&pool, move |token, completer| {
        let hook_tx = hook_tx.clone();
        token.on_cancel(move || hook_tx.send(()).unwrap());
        parked_tx.send(completer).unwrap();
    });
    let handle = call.cancel_handle();
    let canceller = std::thread::spawn(move || {
        let completer = recv(&parked_rx);
        handle.cancel();
        completer
    });
    assert!(call.execute().error().is_cancelled());
    recv(&hook);
    // Completing late is harmless.
    canceller.join().unwrap().complete(ChatResult::Success(()));
}

#[test]
fn a_dropped_completer_fails_the_call_with_a_typed_error() {
    let pool = WorkerPool::new(1);
    let dropping = || Call::<u8>::deferred(&pool, |_, completer| drop(completer));
    assert_eq!(dropping().execute().error().kind(), ErrorKind::ShutDown);
    let (tx, rx) = unbounded();
    dropping().enqueue(move |r| tx.send(r).unwrap());
    let err = recv(&rx).into_result().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ShutDown);
    assert!(err.message().contains("Completer"), "{err}");
    assert_silent(&rx);

    // Dropped later, on another thread.
    let (completers_tx, completers) = unbounded::<Completer<u8>>();
    let (tx, rx) = unbounded();
    parked(&pool, &completers_tx).enqueue(move |r| tx.send(r).unwrap());
    std::thread::spawn(move || drop(recv(&completers)))
        .join()
        .unwrap();
    assert_eq!(recv(&rx).error().kind(), ErrorKind::ShutDown);
    assert_silent(&rx);
}

#[test]
fn a_panicking_start_fails_the_call_with_panicked() {
    let pool = WorkerPool::new(1);
    let panicking = || Call::<u8>::deferred(&pool, |_, _completer| panic!("boom"));
    let err = panicking().execute().into_result().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Panicked);
    assert!(err.message().contains("boom"), "{err}");
    let (tx, rx) = unbounded();
    panicking().enqueue(move |r| tx.send(r).unwrap());
    assert_eq!(recv(&rx).error().kind(), ErrorKind::Panicked);
    assert_silent(&rx);
    // The pool kept its thread.
    assert_eq!(
        Call::new(&pool, |_| ChatResult::Success(1)).execute(),
        ChatResult::Success(1)
    );
}

#[test]
fn started_at_is_when_the_call_was_enqueued_not_when_a_thread_took_it() {
    let pool = WorkerPool::new(1);
    let (gate_tx, gate) = unbounded::<()>();
    let (busy_tx, busy) = unbounded();
    pool.spawn(move || {
        busy_tx.send(()).unwrap();
        let _ = gate.recv();
    })
    .unwrap();
    recv(&busy);
    let (tx, rx) = unbounded();
    let call = Call::deferred(&pool, |_, completer: Completer<(Instant, Instant)>| {
        let started_at = completer.started_at();
        completer.complete(ChatResult::Success((started_at, Instant::now())));
    });
    let before = Instant::now();
    call.enqueue(move |r| tx.send(r).unwrap());
    let after = Instant::now();
    drop(gate_tx); // the worker becomes free only now
    let (started_at, ran_at) = recv(&rx).into_result().unwrap();
    assert!(before <= started_at && started_at <= after);
    assert!(ran_at >= after);
}

#[test]
fn combinators_over_a_deferred_call_block_inside_their_work() {
    let pool = WorkerPool::new(1);
    let later = |n: u32| {
        Call::deferred(&pool, move |_, completer| {
            std::thread::spawn(move || completer.complete(ChatResult::Success(n)));
        })
    };
    assert_eq!(later(2).map(|n| n * 10).execute(), ChatResult::Success(20));
    let (tx, rx) = unbounded();
    later(3)
        .zip_with(later(4))
        .enqueue(move |r| tx.send(r).unwrap());
    assert_eq!(recv(&rx), ChatResult::Success((3, 4)));

    // retry runs the start again for each attempt.
    let starts = Arc::new(AtomicUsize::new(0));
    let s = starts.clone();
    let flaky = Call::deferred(&pool, move |_, completer| {
        let n = s.fetch_add(1, Ordering::SeqCst);
        std::thread::spawn(move || {
            completer.complete(if n < 2 {
                ChatResult::Failure(ChatError::new(ErrorKind::Network, "reset"))
            } else {
                ChatResult::Success(n)
            })
        });
    })
    .retry(FixedRetry {
        max_attempts: 3,
        delay: Duration::from_millis(1),
    });
    let (tx, rx) = unbounded();
    flaky.enqueue(move |r| tx.send(r).unwrap());
    assert_eq!(recv(&rx), ChatResult::Success(2));
    assert_eq!(starts.load(Ordering::SeqCst), 3);
    assert_silent(&rx);
}

#[test]
fn shutting_the_pool_down_resolves_pending_calls_with_shut_down() {
    let pool = WorkerPool::new(1);
    let (started_tx, started) = unbounded();
    let call = Call::<u8>::deferred(&pool, move |token, completer| {
        // Like the SDK: a cancel hook aborts the operation, which resolves the completer.
        token.on_cancel(move || completer.complete(ChatResult::Failure(ChatError::cancelled())));
        started_tx.send(()).unwrap();
    });
    let (tx, rx) = unbounded();
    call.enqueue(move |r| tx.send(r).unwrap());
    recv(&started);
    pool.shutdown();
    assert_eq!(recv(&rx).error().kind(), ErrorKind::ShutDown);
    assert_silent(&rx);
    assert!(!call.is_canceled(), "the user did not cancel");
}

#[test]
fn the_completer_says_whether_a_caller_waits_for_it() {
    let pool = WorkerPool::new(1);
    let probe = || {
        Call::deferred(&pool, |_token, completer| {
            let waits = completer.caller_waits();
            completer.complete(ChatResult::Success(waits));
        })
    };
    assert_eq!(
        probe().execute(),
        ChatResult::Success(true),
        "execute blocks"
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let sent = tx.clone();
    probe().enqueue(move |r| sent.send(r).unwrap());
    assert_eq!(
        rx.recv().unwrap(),
        ChatResult::Success(false),
        "enqueue does not"
    );
    probe()
        .map(|waits| waits)
        .enqueue(move |r| tx.send(r).unwrap());
    assert_eq!(
        rx.recv().unwrap(),
        ChatResult::Success(true),
        "a combinator's work blocks on it"
    );
}
