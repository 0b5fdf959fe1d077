//! Basic `Call` semantics: run once, AlreadyExecuted, panics in work, `Call::of`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::*;
use stream_chat_callbacks::{Call, CallbackQueue, ChatError, ChatResult, ErrorKind, WorkerPool};

#[test]
fn call_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Call<String>>();
    assert_send_sync::<Call<Vec<u8>>>();
}

#[test]
fn nothing_runs_until_asked() {
    let pool = WorkerPool::new(2);
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let call = Call::new(&pool, move |_| {
        r.fetch_add(1, Ordering::SeqCst);
        ChatResult::Success(())
    });
    drop(pool); // joins the threads: anything started would have finished
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert!(!call.is_executed());
}

#[test]
fn execute_twice_gives_already_executed_and_runs_work_once() {
    let pool = WorkerPool::new(2);
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let call = Call::new(&pool, move |_| {
        ChatResult::Success(r.fetch_add(1, Ordering::SeqCst))
    });
    assert_eq!(call.execute(), ChatResult::Success(0));
    assert!(call.is_executed());
    let second = call.execute();
    assert_eq!(second.error().kind(), ErrorKind::AlreadyExecuted);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[test]
fn second_enqueue_delivers_already_executed_to_its_own_callback_once() {
    let pool = WorkerPool::new(2);
    let call = Call::new(&pool, |_| ChatResult::Success(5));
    let (tx, rx) = unbounded();
    let first = tx.clone();
    call.enqueue(move |r| first.send(("first", r)).unwrap());
    let second = tx.clone();
    call.enqueue(move |r| second.send(("second", r)).unwrap());
    drop(tx);
    let mut got = [recv(&rx), recv(&rx)];
    got.sort_by_key(|(name, _)| *name);
    assert_eq!(got[0], ("first", ChatResult::Success(5)));
    assert_eq!(got[1].0, "second");
    assert_eq!(got[1].1.error().kind(), ErrorKind::AlreadyExecuted);
    drop(pool);
    assert_silent(&rx);
    assert_eq!(call.execute().error().kind(), ErrorKind::AlreadyExecuted);
}

#[test]
fn panic_in_work_is_an_error_for_execute_and_enqueue() {
    let pool = WorkerPool::new(2);
    let call: Call<()> = Call::new(&pool, |_| panic!("work exploded"));
    let result = call.execute();
    assert_eq!(result.error().kind(), ErrorKind::Panicked);
    assert!(
        result.error().message().contains("work exploded"),
        "{:?}",
        result
    );

    let (tx, rx) = unbounded();
    Call::<()>::new(&pool, |_| panic!("async exploded")).enqueue(move |r| tx.send(r).unwrap());
    let result = recv(&rx);
    assert_eq!(result.error().kind(), ErrorKind::Panicked);
    assert!(result.error().message().contains("async exploded"));
}

#[test]
fn of_enqueue_calls_back_inline_on_the_caller_thread() {
    let (tx, rx) = unbounded();
    let caller = std::thread::current().id();
    Call::of(ChatResult::Success("ready"))
        .enqueue(move |r| tx.send((std::thread::current().id(), r)).unwrap());
    let (thread, result) = rx.try_recv().expect("callback ran before enqueue returned");
    assert_eq!(thread, caller);
    assert_eq!(result, ChatResult::Success("ready"));
}

#[test]
fn of_enqueue_goes_through_the_executor_when_set() {
    let queue = CallbackQueue::new();
    let (tx, rx) = unbounded();
    Call::of(ChatResult::Success(1))
        .with_executor(queue.executor())
        .enqueue(move |r| tx.send(r).unwrap());
    assert!(rx.try_recv().is_err(), "waits in the queue");
    assert_eq!(queue.run_pending(), 1);
    assert_eq!(rx.try_recv().unwrap(), ChatResult::Success(1));
}

#[test]
fn of_failure_is_delivered() {
    let err = ChatError::new(ErrorKind::NotConnected, "no user");
    let call = Call::<u8>::of(ChatResult::Failure(err.clone()));
    assert_eq!(call.execute(), ChatResult::Failure(err));
}

#[test]
fn enqueue_after_the_pool_is_gone_delivers_shut_down() {
    let pool = WorkerPool::new(2);
    let call = Call::new(&pool, |_| ChatResult::Success(()));
    drop(pool);
    let (tx, rx) = unbounded();
    call.enqueue(move |r| tx.send(r).unwrap());
    assert_eq!(recv(&rx).error().kind(), ErrorKind::ShutDown);
    assert_silent(&rx);
}

#[test]
fn execute_does_not_need_the_pool() {
    let pool = WorkerPool::new(2);
    let call = Call::new(&pool, |_| ChatResult::Success(9));
    drop(pool);
    assert_eq!(call.execute(), ChatResult::Success(9));
}
