//! `Call::enqueue_local`: callbacks that are not `Send` run on the thread that created the
//! `CallbackQueue`, exactly once, and a wrong thread is a clear panic.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::thread::{self, ThreadId};
use std::time::Instant;

use crate::support::*;
use stream_chat_callbacks::{Call, CallbackQueue, ChatError, ChatResult, WorkerPool};

/// A queue whose waker reports every push, so a test waits for a delivery on a channel.
fn woken_queue() -> (CallbackQueue, Receiver<()>) {
    let (tx, rx) = unbounded();
    let queue = CallbackQueue::with_waker(move || {
        let _ = tx.send(());
    });
    (queue, rx)
}

/// Records on which thread it was dropped (the callback's captures are dropped with it).
struct DropProbe {
    dropped_on: Rc<Cell<Option<ThreadId>>>,
}

impl Drop for DropProbe {
    fn drop(&mut self) {
        self.dropped_on.set(Some(thread::current().id()));
    }
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn a_callback_that_is_not_send_touches_thread_bound_state_on_the_owner_thread() {
    let pool = WorkerPool::builder()
        .threads(2)
        .thread_name("local")
        .build();
    let queue = CallbackQueue::new();
    let main = thread::current().id();
    let screen: Rc<RefCell<Vec<(u32, ThreadId)>>> = Rc::default();
    for i in 0..20 {
        let screen = Rc::clone(&screen);
        Call::new(&pool, move |_| ChatResult::Success(i)).enqueue_local(&queue, move |r| {
            screen
                .borrow_mut()
                .push((*r.data(), thread::current().id()));
        });
    }
    let deadline = Instant::now() + TIMEOUT;
    while screen.borrow().len() < 20 && Instant::now() < deadline {
        queue.wait_and_run(deadline);
    }
    let mut seen: Vec<u32> = screen.borrow().iter().map(|(i, _)| *i).collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..20).collect::<Vec<_>>(),
        "each callback exactly once"
    );
    assert!(screen.borrow().iter().all(|(_, t)| *t == main));
    assert!(queue.is_empty());
    assert_eq!(queue.run_pending(), 0, "nothing runs twice");
}

#[test]
fn failures_and_call_of_are_delivered_through_the_queue_too() {
    let queue = CallbackQueue::new();
    let got: Rc<RefCell<Vec<String>>> = Rc::default();
    let sink = Rc::clone(&got);
    Call::<()>::of(ChatResult::Failure(
        ChatError::cancelled().with_message("nope"),
    ))
    .enqueue_local(&queue, move |r| {
        sink.borrow_mut().push(r.error().message().to_owned())
    });
    assert!(
        got.borrow().is_empty(),
        "never inline, even for a completed call"
    );
    assert_eq!(queue.run_pending(), 1);
    assert_eq!(*got.borrow(), ["nope"]);
}

#[test]
fn enqueue_local_on_another_thread_panics_and_says_why() {
    let queue = CallbackQueue::new();
    let elsewhere = queue.clone();
    let outcome = thread::Builder::new()
        .name("not-the-ui".into())
        .spawn(move || {
            catch_unwind(AssertUnwindSafe(|| {
                Call::of(ChatResult::Success(1)).enqueue_local(&elsewhere, |_| {});
            }))
        })
        .unwrap()
        .join()
        .unwrap();
    let text = panic_text(outcome.expect_err("enqueue_local on a foreign thread must panic"));
    assert!(text.contains("enqueue_local"), "{text}");
    assert!(
        text.contains("\"not-the-ui\""),
        "names the wrong thread: {text}"
    );
    assert!(text.contains("created the CallbackQueue"), "{text}");
    assert!(queue.is_empty(), "nothing was queued");
}

#[test]
fn draining_on_another_thread_panics_and_leaves_the_callbacks_to_the_owner() {
    let pool = WorkerPool::new(1);
    let (queue, pushed) = woken_queue();
    let ran = Rc::new(Cell::new(0));
    let count = Rc::clone(&ran);
    Call::new(&pool, |_| ChatResult::Success(()))
        .enqueue_local(&queue, move |_| count.set(count.get() + 1));
    recv(&pushed);

    let drainer = queue.clone();
    let outcome = thread::Builder::new()
        .name("wrong-drainer".into())
        .spawn(move || catch_unwind(AssertUnwindSafe(|| drainer.run_pending())))
        .unwrap()
        .join()
        .unwrap();
    let text = panic_text(outcome.expect_err("a foreign drain must panic"));
    assert!(text.contains("\"wrong-drainer\""), "{text}");
    assert!(text.contains("enqueue_local"), "{text}");
    assert_eq!(ran.get(), 0);
    assert_eq!(queue.len(), 1, "the callback is still queued");

    assert_eq!(queue.run_pending(), 1, "the owner thread runs it");
    assert_eq!(ran.get(), 1);
}

#[test]
fn send_callbacks_may_still_be_drained_anywhere_when_no_local_one_waits() {
    let queue = CallbackQueue::new();
    let (tx, rx) = unbounded();
    Call::of(ChatResult::Success(5))
        .enqueue_on(&queue.executor(), move |r| tx.send(*r.data()).unwrap());
    let drainer = queue.clone();
    assert_eq!(
        thread::spawn(move || drainer.run_pending()).join().unwrap(),
        1
    );
    assert_eq!(recv(&rx), 5);
}

#[test]
fn a_call_cancelled_before_enqueue_drops_the_callback_at_once_on_the_owner_thread() {
    let queue = CallbackQueue::new();
    let dropped_on = Rc::new(Cell::new(None));
    let probe = DropProbe {
        dropped_on: Rc::clone(&dropped_on),
    };
    let call = Call::of(ChatResult::Success(1));
    call.cancel();
    call.enqueue_local(&queue, move |_| {
        let _keep = &probe;
        panic!("a cancelled call's callback ran");
    });
    assert_eq!(dropped_on.get(), Some(thread::current().id()));
    assert_eq!(queue.run_pending(), 0);
}

#[test]
fn a_call_cancelled_while_running_never_calls_back_and_drops_the_callback_on_the_owner_thread() {
    let pool = WorkerPool::builder()
        .threads(1)
        .thread_name("cancel-local")
        .build();
    let (queue, pushed) = woken_queue();
    let (started_tx, started) = unbounded();
    let (release_tx, release) = unbounded::<()>();
    let call = Call::new(&pool, move |_| {
        started_tx.send(()).unwrap();
        let _ = release.recv_timeout(TIMEOUT);
        ChatResult::Success(())
    });
    let dropped_on = Rc::new(Cell::new(None));
    let probe = DropProbe {
        dropped_on: Rc::clone(&dropped_on),
    };
    let ran = Rc::new(Cell::new(false));
    let flag = Rc::clone(&ran);
    call.enqueue_local(&queue, move |_| {
        let _keep = &probe;
        flag.set(true);
    });
    recv(&started);
    call.cancel();
    release_tx.send(()).unwrap();
    recv(&pushed); // the delivery (or the slot's cleanup) reaches the queue
    assert_eq!(
        dropped_on.get(),
        None,
        "captures stay put until the owner drains"
    );
    queue.run_pending();
    assert!(!ran.get(), "a cancelled call never calls back");
    assert_eq!(dropped_on.get(), Some(thread::current().id()));
}

#[test]
fn a_local_callback_may_enqueue_another() {
    let queue = CallbackQueue::new();
    let log: Rc<RefCell<Vec<&'static str>>> = Rc::default();
    let (outer_log, inner_queue) = (Rc::clone(&log), queue.clone());
    Call::of(ChatResult::Success(())).enqueue_local(&queue, move |_| {
        outer_log.borrow_mut().push("first");
        let inner_log = Rc::clone(&outer_log);
        Call::of(ChatResult::Success(()))
            .enqueue_local(&inner_queue, move |_| inner_log.borrow_mut().push("second"));
    });
    assert_eq!(queue.run_pending(), 1);
    assert_eq!(
        queue.run_pending(),
        1,
        "queued by the first, run by the next drain"
    );
    assert_eq!(*log.borrow(), ["first", "second"]);
}

#[test]
fn dropping_the_queue_on_its_thread_drops_waiting_callbacks_there() {
    let queue = CallbackQueue::new();
    let dropped_on = Rc::new(Cell::new(None));
    let probe = DropProbe {
        dropped_on: Rc::clone(&dropped_on),
    };
    Call::of(ChatResult::Success(())).enqueue_local(&queue, move |_| {
        let _keep = &probe;
        panic!("a dropped queue's callback ran");
    });
    assert_eq!(queue.len(), 1);
    drop(queue);
    assert_eq!(dropped_on.get(), Some(thread::current().id()));
}

#[test]
fn a_panicking_local_callback_is_caught_and_the_others_run() {
    let queue = CallbackQueue::new();
    let ran = Rc::new(Cell::new(0));
    Call::of(ChatResult::Success(())).enqueue_local(&queue, |_| panic!("boom (expected)"));
    let count = Rc::clone(&ran);
    Call::of(ChatResult::Success(())).enqueue_local(&queue, move |_| count.set(count.get() + 1));
    assert_eq!(queue.run_pending(), 2);
    assert_eq!(ran.get(), 1);
}
