//! `execute` inside callbacks and on pool threads never deadlocks, even with one thread.

use std::time::Duration;

use crate::support::*;
use stream_chat_callbacks::{Call, CallbackQueue, ChatResult, FixedRetry, WorkerPool};

/// A combined call on `pool`: ((2 * 10, 3) -> 23), retried once on failure.
fn combined(pool: &WorkerPool) -> Call<i32> {
    let p = pool.clone();
    Call::new(pool, |_| ChatResult::Success(2))
        .map(|n| n * 10)
        .zip_with(Call::new(pool, |_| ChatResult::Success(3)))
        .flat_map(move |(a, b)| Call::new(&p, move |_| ChatResult::Success(a + b)))
        .retry(FixedRetry {
            max_attempts: 1,
            delay: Duration::from_millis(1),
        })
}

#[test]
fn execute_and_enqueue_inside_a_callback_on_a_one_thread_pool() {
    let pool = WorkerPool::builder().threads(1).thread_name("solo").build();
    let (tx, rx) = unbounded();
    let p = pool.clone();
    Call::new(&pool, |_| ChatResult::Success(1)).enqueue(move |outer| {
        assert_eq!(thread_name(), "solo-0");
        let nested = combined(&p).execute();
        let again = tx.clone();
        combined(&p).enqueue(move |r| again.send(("enqueued", r)).unwrap());
        tx.send(("nested", nested.map(|n| n + outer.data())))
            .unwrap();
    });
    let mut got = [recv(&rx), recv(&rx)];
    got.sort_by_key(|(k, _)| *k);
    assert_eq!(
        got,
        [
            ("enqueued", ChatResult::Success(23)),
            ("nested", ChatResult::Success(24))
        ]
    );
}

#[test]
fn execute_inside_work_on_a_one_thread_pool() {
    let pool = WorkerPool::builder().threads(1).build();
    let p = pool.clone();
    let outer = Call::new(&pool, move |_| combined(&p).execute().map(|n| n * 2));
    let (tx, rx) = unbounded();
    outer.enqueue(move |r| tx.send(r).unwrap());
    assert_eq!(recv(&rx), ChatResult::Success(46));
}

#[test]
fn execute_inside_a_queued_callback_on_the_loop_thread() {
    let pool = WorkerPool::builder().threads(1).build();
    let queue = CallbackQueue::new();
    let (tx, rx) = unbounded();
    let p = pool.clone();
    Call::new(&pool, |_| ChatResult::Success(()))
        .with_executor(queue.executor())
        .enqueue(move |_| tx.send(combined(&p).execute()).unwrap());
    let deadline = std::time::Instant::now() + TIMEOUT;
    assert_eq!(queue.wait_and_run(deadline), 1);
    assert_eq!(recv(&rx), ChatResult::Success(23));
}

#[test]
fn chains_of_enqueues_from_callbacks_complete_on_one_thread() {
    fn step(pool: WorkerPool, remaining: u32, done: Sender<u32>) {
        let p = pool.clone();
        Call::new(&pool, move |_| ChatResult::Success(remaining)).enqueue(move |r| {
            let left = *r.data();
            if left == 0 {
                done.send(left).unwrap();
            } else {
                step(p, left - 1, done);
            }
        });
    }
    let pool = WorkerPool::builder().threads(1).build();
    let (tx, rx) = unbounded();
    step(pool.clone(), 500, tx);
    assert_eq!(recv(&rx), 0);
}
