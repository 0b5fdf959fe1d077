//! Exactly-once delivery under concurrency.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier};

use crate::support::*;
use stream_chat_callbacks::{Call, ChatResult, WorkerPool};

const PRODUCERS: usize = 4;
const PER_PRODUCER: usize = 2_500;
const TOTAL: usize = PRODUCERS * PER_PRODUCER;

#[test]
fn ten_thousand_concurrent_enqueues_each_call_back_exactly_once() {
    let pool = WorkerPool::new(4);
    let counts: Arc<Vec<AtomicU32>> = Arc::new((0..TOTAL).map(|_| AtomicU32::new(0)).collect());
    let (tx, rx) = unbounded::<(usize, ChatResult<usize>)>();
    let start = Arc::new(Barrier::new(PRODUCERS));

    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let (pool, counts, tx, start) =
                (pool.clone(), counts.clone(), tx.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for i in 0..PER_PRODUCER {
                    let id = p * PER_PRODUCER + i;
                    let (counts, tx) = (counts.clone(), tx.clone());
                    Call::new(&pool, move |_| ChatResult::Success(id))
                        .map(|n| n * 2)
                        .enqueue(move |result| {
                            counts[id].fetch_add(1, Ordering::SeqCst);
                            tx.send((id, result)).unwrap();
                        });
                }
            })
        })
        .collect();
    drop(tx);

    for _ in 0..TOTAL {
        let (id, result) = recv(&rx);
        assert_eq!(result, ChatResult::Success(id * 2));
    }
    for producer in producers {
        producer.join().unwrap();
    }
    drop(pool); // joins the workers: no delivery can still be in flight
    assert_silent(&rx);
    for (id, count) in counts.iter().enumerate() {
        assert_eq!(count.load(Ordering::SeqCst), 1, "call {id}");
    }
}
