//! Combinators, cancellation propagation, retry counts and delays.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;
use stream_chat_callbacks::{
    Call, ChatError, ChatResult, ErrorKind, ExponentialBackoff, FixedRetry, NoRetry, RetryPolicy,
    WorkerPool,
};

fn network_error() -> ChatError {
    ChatError::new(ErrorKind::Network, "connection reset")
}

fn enqueue_and_wait<T: Send + std::fmt::Debug + 'static>(call: Call<T>) -> ChatResult<T> {
    let (tx, rx) = unbounded();
    call.enqueue(move |r| tx.send(r).unwrap());
    recv(&rx)
}

#[test]
fn map_transforms_success_and_passes_failures() {
    let pool = WorkerPool::new(2);
    let call = Call::new(&pool, |_| ChatResult::Success(20))
        .map(|n| n + 1)
        .map(|n| n * 2);
    assert_eq!(enqueue_and_wait(call), ChatResult::Success(42));

    let mapped = Arc::new(AtomicUsize::new(0));
    let m = mapped.clone();
    let failing = Call::<u8>::new(&pool, |_| ChatResult::Failure(network_error())).map(move |n| {
        m.fetch_add(1, Ordering::SeqCst);
        n
    });
    assert_eq!(failing.execute().error().kind(), ErrorKind::Network);
    assert_eq!(mapped.load(Ordering::SeqCst), 0);
}

#[test]
fn flat_map_chains_and_short_circuits() {
    let pool = WorkerPool::new(2);
    let p = pool.clone();
    let call = Call::new(&pool, |_| ChatResult::Success(3))
        .flat_map(move |n| Call::new(&p, move |_| ChatResult::Success(vec![n; n])));
    assert_eq!(enqueue_and_wait(call), ChatResult::Success(vec![3, 3, 3]));

    let called = Arc::new(AtomicUsize::new(0));
    let c = called.clone();
    let call = Call::<u8>::of(ChatResult::Failure(network_error())).flat_map(move |n| {
        c.fetch_add(1, Ordering::SeqCst);
        Call::of(ChatResult::Success(n))
    });
    assert_eq!(call.execute().error().kind(), ErrorKind::Network);
    assert_eq!(called.load(Ordering::SeqCst), 0);
}

#[test]
fn cancelling_a_flat_map_cancels_the_inner_call_created_at_run_time() {
    let pool = WorkerPool::new(2);
    let (started_tx, started) = unbounded();
    let (slept_tx, slept) = unbounded();
    let p = pool.clone();
    let call = Call::new(&pool, |_| ChatResult::Success(1)).flat_map(move |n| {
        let (started_tx, slept_tx) = (started_tx.clone(), slept_tx.clone());
        Call::new(&p, move |token| {
            started_tx.send(()).unwrap();
            slept_tx
                .send(token.sleep(Duration::from_secs(600)))
                .unwrap();
            ChatResult::Success(n)
        })
    });
    let (tx, rx) = unbounded::<ChatResult<i32>>();
    call.enqueue(move |r| tx.send(r).unwrap());
    recv(&started);
    call.cancel();
    assert!(!recv(&slept), "the inner call's token was cancelled");
    drop(call);
    drop(pool);
    assert_silent(&rx);
}

#[test]
fn zip_with_pairs_results_sequentially() {
    let pool = WorkerPool::new(2);
    let order = Arc::new(Mutex::new(Vec::new()));
    let (o1, o2) = (order.clone(), order.clone());
    let a = Call::new(&pool, move |_| {
        o1.lock().unwrap().push("a");
        ChatResult::Success(1)
    });
    let b = Call::new(&pool, move |_| {
        o2.lock().unwrap().push("b");
        ChatResult::Success("two")
    });
    assert_eq!(
        enqueue_and_wait(a.zip_with(b)),
        ChatResult::Success((1, "two"))
    );
    assert_eq!(*order.lock().unwrap(), vec!["a", "b"]);
}

#[test]
fn zip_with_first_error_wins_and_second_does_not_run() {
    let pool = WorkerPool::new(2);
    let b_runs = Arc::new(AtomicUsize::new(0));
    let r = b_runs.clone();
    let a = Call::<u8>::new(&pool, |_| {
        ChatResult::Failure(ChatError::new(ErrorKind::Timeout, "a"))
    });
    let b = Call::<u8>::new(&pool, move |_| {
        r.fetch_add(1, Ordering::SeqCst);
        ChatResult::Failure(network_error())
    });
    let result = enqueue_and_wait(a.zip_with(b));
    assert_eq!(result.error().kind(), ErrorKind::Timeout);
    assert_eq!(b_runs.load(Ordering::SeqCst), 0);

    let a = Call::new(&pool, |_| ChatResult::Success(1));
    let b = Call::<u8>::new(&pool, |_| ChatResult::Failure(network_error()));
    assert_eq!(a.zip_with(b).execute().error().kind(), ErrorKind::Network);
}

#[test]
fn cancelling_a_zip_cancels_the_second_call_while_it_runs() {
    let pool = WorkerPool::new(2);
    let (started_tx, started) = unbounded();
    let (slept_tx, slept) = unbounded();
    let a = Call::new(&pool, |_| ChatResult::Success(1));
    let b = Call::new(&pool, move |token| {
        started_tx.send(()).unwrap();
        slept_tx
            .send(token.sleep(Duration::from_secs(600)))
            .unwrap();
        ChatResult::Success(2)
    });
    let b_handle = b.cancel_handle();
    let zipped = a.zip_with(b);
    let (tx, rx) = unbounded::<ChatResult<(i32, i32)>>();
    zipped.enqueue(move |r| tx.send(r).unwrap());
    recv(&started);
    zipped.cancel();
    assert!(!recv(&slept));
    assert!(b_handle.is_canceled());
    drop(zipped);
    drop(pool);
    assert_silent(&rx);
}

#[test]
fn cancelling_a_zip_during_the_first_call_keeps_the_second_from_running() {
    let pool = WorkerPool::new(2);
    let (started_tx, started) = unbounded();
    let b_runs = Arc::new(AtomicUsize::new(0));
    let r = b_runs.clone();
    let a = Call::new(&pool, move |token| {
        started_tx.send(()).unwrap();
        token.sleep(Duration::from_secs(600));
        ChatResult::Success(1)
    });
    let b = Call::new(&pool, move |_| {
        ChatResult::Success(r.fetch_add(1, Ordering::SeqCst))
    });
    let zipped = Arc::new(a.zip_with(b));
    let runner = {
        let zipped = zipped.clone();
        std::thread::spawn(move || zipped.execute())
    };
    recv(&started);
    zipped.cancel();
    assert!(runner.join().unwrap().error().is_cancelled());
    assert_eq!(b_runs.load(Ordering::SeqCst), 0);
}

/// Fails `failures` times with a network error, then succeeds with the run count.
fn flaky(pool: &WorkerPool, failures: u32, runs: &Arc<AtomicU32>) -> Call<u32> {
    let runs = runs.clone();
    Call::new(pool, move |_| {
        let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
        if run <= failures {
            ChatResult::Failure(network_error().with_message(format!("failure {run}")))
        } else {
            ChatResult::Success(run)
        }
    })
}

/// Records the attempt numbers it is asked about.
struct Recording {
    max: u32,
    delay: Duration,
    asked: Arc<Mutex<Vec<u32>>>,
}

impl RetryPolicy for Recording {
    fn should_retry(&self, attempt: u32, _error: &ChatError) -> bool {
        self.asked.lock().unwrap().push(attempt);
        attempt <= self.max
    }
    fn delay(&self, _attempt: u32, _error: &ChatError) -> Duration {
        self.delay
    }
}

#[test]
fn retry_counts_attempts_from_one_and_waits_between_them() {
    let pool = WorkerPool::new(2);
    let runs = Arc::new(AtomicU32::new(0));
    let asked = Arc::new(Mutex::new(Vec::new()));
    let delay = Duration::from_millis(5);
    let call = flaky(&pool, 3, &runs).retry(Recording {
        max: 10,
        delay,
        asked: asked.clone(),
    });
    let started = Instant::now();
    assert_eq!(enqueue_and_wait(call), ChatResult::Success(4));
    let elapsed = started.elapsed();
    assert_eq!(runs.load(Ordering::SeqCst), 4);
    assert_eq!(*asked.lock().unwrap(), vec![1, 2, 3]);
    assert!(elapsed >= delay * 3, "waited {elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "waited {elapsed:?}");
}

#[test]
fn retry_gives_up_with_the_last_error() {
    let pool = WorkerPool::new(2);
    let runs = Arc::new(AtomicU32::new(0));
    let call = flaky(&pool, u32::MAX, &runs).retry(FixedRetry {
        max_attempts: 2,
        delay: Duration::from_millis(1),
    });
    let result = call.execute();
    assert_eq!(runs.load(Ordering::SeqCst), 3, "first run plus two retries");
    assert_eq!(result.error().message(), "failure 3");
}

#[test]
fn ready_policies_skip_errors_that_are_not_retryable() {
    let pool = WorkerPool::new(2);
    let runs = Arc::new(AtomicU32::new(0));
    let r = runs.clone();
    let call = Call::<()>::new(&pool, move |_| {
        r.fetch_add(1, Ordering::SeqCst);
        ChatResult::Failure(ChatError::api(17, 403, "not allowed"))
    })
    .retry(ExponentialBackoff::new(
        5,
        Duration::from_millis(1),
        Duration::from_millis(2),
    ));
    assert_eq!(call.execute().error().stream_code(), Some(17));
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    let runs = Arc::new(AtomicU32::new(0));
    let call = flaky(&pool, 1, &runs).retry(NoRetry);
    assert_eq!(call.execute().error().kind(), ErrorKind::Network);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[test]
fn exponential_backoff_doubles_and_caps() {
    let p = ExponentialBackoff::new(10, Duration::from_millis(10), Duration::from_millis(50));
    let e = network_error();
    let delays: Vec<_> = (1..=5).map(|a| p.delay(a, &e).as_millis()).collect();
    assert_eq!(delays, vec![10, 20, 40, 50, 50]);
    assert_eq!(
        p.delay(u32::MAX, &e),
        Duration::from_millis(50),
        "no overflow"
    );
    assert!(p.should_retry(10, &e));
    assert!(!p.should_retry(11, &e));
}

#[test]
fn cancel_interrupts_the_retry_wait() {
    let pool = WorkerPool::new(2);
    let (ran_tx, ran) = unbounded();
    let call = Call::<()>::new(&pool, move |_| {
        ran_tx.send(()).unwrap();
        ChatResult::Failure(network_error())
    })
    .retry(FixedRetry {
        max_attempts: 5,
        delay: Duration::from_secs(600),
    });
    let call = Arc::new(call);
    let runner = {
        let call = call.clone();
        std::thread::spawn(move || call.execute())
    };
    recv(&ran);
    call.cancel();
    let (done_tx, done) = unbounded();
    std::thread::spawn(move || done_tx.send(runner.join().unwrap()).unwrap());
    assert!(recv(&done).error().is_cancelled());
    assert!(ran.try_recv().is_err(), "no second attempt after cancel");
}

#[test]
fn on_error_return_replaces_failures_only() {
    let pool = WorkerPool::new(2);
    let recovered = Call::<Vec<u8>>::new(&pool, |_| ChatResult::Failure(network_error()))
        .on_error_return(|err| {
            assert_eq!(err.kind(), ErrorKind::Network);
            ChatResult::Success(vec![0])
        });
    assert_eq!(enqueue_and_wait(recovered), ChatResult::Success(vec![0]));

    let untouched = Call::new(&pool, |_| ChatResult::Success(vec![1]))
        .on_error_return(|_| ChatResult::Success(vec![0]));
    assert_eq!(untouched.execute(), ChatResult::Success(vec![1]));
}

#[test]
fn do_on_result_sees_the_result_before_the_callback() {
    let pool = WorkerPool::new(2);
    let order = Arc::new(Mutex::new(Vec::new()));
    let o = order.clone();
    let call = Call::new(&pool, |_| ChatResult::Success(5))
        .do_on_result(move |r| o.lock().unwrap().push(format!("side effect {}", r.data())));
    let (tx, rx) = unbounded();
    let o = order.clone();
    call.enqueue(move |r| {
        o.lock().unwrap().push(format!("callback {}", r.data()));
        tx.send(()).unwrap();
    });
    recv(&rx);
    assert_eq!(*order.lock().unwrap(), vec!["side effect 5", "callback 5"]);
}

#[test]
fn do_on_result_is_skipped_for_a_cancelled_call() {
    let pool = WorkerPool::new(2);
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    let call = Call::new(&pool, |token| {
        token.handle().cancel(); // cancelled while running
        ChatResult::Success(1)
    })
    .do_on_result(move |_| {
        s.fetch_add(1, Ordering::SeqCst);
    });
    assert!(call.execute().error().is_cancelled());
    assert_eq!(seen.load(Ordering::SeqCst), 0);
}

#[test]
fn with_precondition_blocks_or_lets_the_work_run() {
    let pool = WorkerPool::new(2);
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let blocked = Call::new(&pool, move |_| {
        ChatResult::Success(r.fetch_add(1, Ordering::SeqCst))
    })
    .with_precondition(|| {
        ChatResult::Failure(ChatError::new(ErrorKind::NotConnected, "connect first"))
    });
    assert_eq!(
        enqueue_and_wait(blocked).error().kind(),
        ErrorKind::NotConnected
    );
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    let r = runs.clone();
    let allowed = Call::new(&pool, move |_| {
        ChatResult::Success(r.fetch_add(1, Ordering::SeqCst))
    })
    .with_precondition(|| ChatResult::Success(()));
    assert_eq!(allowed.execute(), ChatResult::Success(0));
}

#[test]
fn cancel_handle_of_the_inner_call_cancels_the_combined_call() {
    let pool = WorkerPool::new(2);
    let inner = Call::new(&pool, |_| ChatResult::Success(1));
    let handle = inner.cancel_handle();
    let combined = inner.map(|n| n + 1).retry(NoRetry).do_on_result(|_| {});
    handle.cancel();
    assert!(combined.is_canceled());
    let (tx, rx) = unbounded::<ChatResult<i32>>();
    combined.enqueue(move |r| tx.send(r).unwrap());
    drop(pool);
    assert_silent(&rx);
}

#[test]
fn combining_an_executed_call_keeps_it_executed() {
    let call = Call::of(ChatResult::Success(1));
    let _ = call.execute();
    assert_eq!(
        call.map(|n| n + 1).execute().error().kind(),
        ErrorKind::AlreadyExecuted
    );
}

#[test]
fn of_combines_without_a_pool() {
    let call = Call::of(ChatResult::Success(2))
        .map(|n| n * 3)
        .zip_with(Call::of(ChatResult::Success("x")))
        .flat_map(|(n, s)| Call::of(ChatResult::Success(format!("{s}{n}"))));
    let (tx, rx) = unbounded();
    call.enqueue(move |r| tx.send(r).unwrap());
    assert_eq!(
        rx.try_recv().unwrap(),
        ChatResult::Success("x6".to_owned()),
        "inline"
    );
}
