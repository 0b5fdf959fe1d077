//! Each executor runs the callback on the thread it promises.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::*;
use stream_chat_callbacks::{Call, CallbackQueue, ChatResult, Executor, WorkerPool};

#[test]
fn pool_thread_executor_calls_back_on_the_worker_that_ran_the_work() {
    let pool = WorkerPool::builder()
        .threads(2)
        .thread_name("exec-pool")
        .build();
    let (tx, rx) = unbounded();
    for _ in 0..20 {
        let tx = tx.clone();
        Call::new(&pool, |_| ChatResult::Success(thread::current().id())).enqueue(move |r| {
            tx.send((*r.data(), thread::current().id(), thread_name()))
                .unwrap()
        });
    }
    for _ in 0..20 {
        let (work_thread, callback_thread, name) = recv(&rx);
        assert_eq!(work_thread, callback_thread);
        assert!(name.starts_with("exec-pool-"), "{name}");
    }
}

#[test]
fn default_pool_threads_are_named_stream_chat_worker() {
    let pool = WorkerPool::new(0);
    assert!(pool.threads() >= 2);
    let (tx, rx) = unbounded();
    Call::new(&pool, |_| ChatResult::Success(())).enqueue(move |_| tx.send(thread_name()).unwrap());
    let name = recv(&rx);
    assert!(name.starts_with("stream-chat-worker-"), "{name}");
}

#[test]
fn callback_queue_runs_callbacks_on_the_draining_thread() {
    let pool = WorkerPool::new(2);
    let queue = CallbackQueue::new();
    let (tx, rx) = unbounded();
    for i in 0..10 {
        let tx = tx.clone();
        Call::new(&pool, move |_| ChatResult::Success(i))
            .with_executor(queue.executor())
            .enqueue(move |r| tx.send((*r.data(), thread::current().id())).unwrap());
    }
    drop(tx);
    let gui = {
        let queue = queue.clone();
        thread::Builder::new()
            .name("gui".into())
            .spawn(move || {
                let deadline = Instant::now() + TIMEOUT;
                let mut ran = 0;
                while ran < 10 && Instant::now() < deadline {
                    ran += queue.wait_and_run(deadline);
                }
                (thread::current().id(), ran)
            })
            .unwrap()
    };
    let (gui_id, ran) = gui.join().unwrap();
    assert_eq!(ran, 10);
    let mut seen: Vec<_> = rx.iter().collect();
    assert_eq!(seen.len(), 10);
    assert!(seen.iter().all(|(_, thread)| *thread == gui_id));
    seen.sort_by_key(|(i, _)| *i);
    assert_eq!(
        seen.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
}

#[test]
fn callback_queue_waits_for_run_pending_and_wakes_on_each_push() {
    let pool = WorkerPool::new(2);
    let wakes = Arc::new(AtomicUsize::new(0));
    let (woken_tx, woken) = unbounded();
    let w = wakes.clone();
    let queue = CallbackQueue::with_waker(move || {
        w.fetch_add(1, Ordering::SeqCst);
        woken_tx.send(()).unwrap();
    });
    let (tx, rx) = unbounded();
    for i in 0..3 {
        let tx = tx.clone();
        Call::new(&pool, move |_| ChatResult::Success(i))
            .enqueue_on(&queue.executor(), move |r| tx.send(*r.data()).unwrap());
    }
    for _ in 0..3 {
        recv(&woken);
    }
    assert_eq!(wakes.load(Ordering::SeqCst), 3);
    assert_eq!(queue.len(), 3);
    assert!(
        rx.try_recv().is_err(),
        "nothing delivered before the loop drains"
    );
    assert_eq!(queue.run_pending(), 3);
    assert_eq!(queue.run_pending(), 0, "never blocks when empty");
    let mut got: Vec<_> = rx.try_iter().collect();
    got.sort();
    assert_eq!(got, vec![0, 1, 2]);
}

#[test]
fn run_until_runs_callbacks_arriving_before_the_deadline() {
    let queue = CallbackQueue::new();
    let executor = queue.executor();
    let (tx, rx) = unbounded();
    let pusher = {
        let executor = executor.clone();
        let tx = tx.clone();
        thread::spawn(move || {
            for i in 0..5 {
                let tx = tx.clone();
                executor.execute(Box::new(move || tx.send(i).unwrap()));
            }
        })
    };
    drop(tx);
    pusher.join().unwrap();
    let ran = queue.run_until(Instant::now() + Duration::from_millis(50));
    assert_eq!(ran, 5);
    assert_eq!(rx.iter().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
}

#[test]
fn a_panicking_queued_callback_does_not_stop_the_others() {
    let queue = CallbackQueue::new();
    let (tx, rx) = unbounded();
    Call::<u8>::of(ChatResult::Success(1)).enqueue_on(&queue.executor(), |_| panic!("ui bug"));
    Call::of(ChatResult::Success(2))
        .enqueue_on(&queue.executor(), move |r| tx.send(*r.data()).unwrap());
    assert_eq!(queue.run_pending(), 2);
    assert_eq!(recv(&rx), 2);
}

#[test]
fn from_fn_executor_hands_callbacks_to_the_user_closure() {
    let pool = WorkerPool::new(2);
    let (task_tx, task_rx) = unbounded::<Box<dyn FnOnce() + Send>>();
    let consumer = thread::Builder::new()
        .name("consumer".into())
        .spawn(move || task_rx.iter().for_each(|task| task()))
        .unwrap();
    let executor = Executor::from_fn(move |task| task_tx.send(task).unwrap());
    let (tx, rx) = unbounded();
    for i in 0..10 {
        let tx = tx.clone();
        Call::new(&pool, move |_| ChatResult::Success(i))
            .with_executor(executor.clone())
            .enqueue(move |r| tx.send((*r.data(), thread_name())).unwrap());
    }
    drop(tx);
    for _ in 0..10 {
        let (_, name) = recv(&rx);
        assert_eq!(name, "consumer");
    }
    drop(pool);
    drop(executor); // closes the task channel: the consumer ends
    consumer.join().unwrap();
}

#[test]
fn enqueue_on_overrides_the_call_executor() {
    let pool = WorkerPool::builder()
        .threads(1)
        .thread_name("override")
        .build();
    let queue = CallbackQueue::new();
    let (tx, rx) = unbounded();
    Call::new(&pool, |_| ChatResult::Success(()))
        .with_executor(queue.executor())
        .enqueue_on(&Executor::pool_thread(), move |_| {
            tx.send(thread_name()).unwrap()
        });
    assert_eq!(recv(&rx), "override-0");
    assert!(queue.is_empty());
}
