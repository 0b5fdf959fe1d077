//! Worker pool: size, names, panic isolation.

use std::collections::HashSet;

use crate::support::*;
use stream_chat_callbacks::{Call, ChatResult, ErrorKind, WorkerPool};

/// Proves that `threads` distinct pool threads are alive and serving: each of `threads`
/// jobs reports in and then blocks until all have reported.
fn assert_all_threads_serve(pool: &WorkerPool, threads: usize) -> HashSet<String> {
    let (arrived_tx, arrived) = unbounded();
    let (gate_tx, gate) = unbounded::<()>();
    for _ in 0..threads {
        let (arrived_tx, gate) = (arrived_tx.clone(), gate.clone());
        pool.spawn(move || {
            arrived_tx.send(thread_name()).unwrap();
            let _ = gate.recv(); // returns once the gate sender is dropped
        })
        .unwrap();
    }
    let names: HashSet<String> = (0..threads).map(|_| recv(&arrived)).collect();
    drop(gate_tx);
    assert_eq!(names.len(), threads, "{names:?}");
    names
}

#[test]
fn builder_sets_size_and_names() {
    let pool = WorkerPool::builder()
        .threads(3)
        .thread_name("named")
        .build();
    assert_eq!(pool.threads(), 3);
    let names = assert_all_threads_serve(&pool, 3);
    let expected: HashSet<String> = (0..3).map(|i| format!("named-{i}")).collect();
    assert_eq!(names, expected);
}

#[test]
fn zero_means_available_parallelism_at_least_two() {
    let expected = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    let pool = WorkerPool::new(0);
    assert_eq!(pool.threads(), expected);
    assert_all_threads_serve(&pool, expected);
}

#[test]
fn panics_in_work_callbacks_and_jobs_leave_every_thread_working() {
    let pool = WorkerPool::builder().threads(3).thread_name("iso").build();

    let (tx, rx) = unbounded();
    for i in 0..12 {
        let tx = tx.clone();
        Call::<()>::new(&pool, move |_| panic!("work {i} exploded"))
            .enqueue(move |r| tx.send(r).unwrap());
    }
    for _ in 0..12 {
        let result = recv(&rx);
        assert_eq!(result.error().kind(), ErrorKind::Panicked);
        assert!(result.error().message().contains("exploded"));
    }

    let (done_tx, done) = unbounded();
    for _ in 0..12 {
        let done_tx = done_tx.clone();
        Call::new(&pool, |_| ChatResult::Success(())).enqueue(move |_| {
            done_tx.send(()).unwrap();
            panic!("callback exploded");
        });
        pool.spawn(|| panic!("job exploded")).unwrap();
    }
    for _ in 0..12 {
        recv(&done);
    }

    assert_eq!(pool.threads(), 3);
    assert_all_threads_serve(&pool, 3);
    // And ordinary calls still complete.
    let (tx, rx) = unbounded();
    Call::new(&pool, |_| ChatResult::Success(1)).enqueue(move |r| tx.send(r).unwrap());
    assert_eq!(recv(&rx), ChatResult::Success(1));
}

#[test]
fn pool_handles_are_shared_clones() {
    let pool = WorkerPool::new(2);
    let clone = pool.clone();
    drop(pool);
    let (tx, rx) = unbounded();
    clone.spawn(move || tx.send(()).unwrap()).unwrap();
    recv(&rx);
    assert!(format!("{clone:?}").contains("stream-chat-worker"));
}
