//! The call machinery of the Stream Chat Rust SDK: [`Call`], [`ChatResult`], [`ChatError`],
//! the [`WorkerPool`] and callback [`Executor`]s. No networking lives here.
//!
//! Every SDK operation returns a cold [`Call<T>`]. Run it the way the Android SDK does:
//!
//! | Kotlin | Rust |
//! |---|---|
//! | `call.execute()` | [`call.execute()`](Call::execute): blocks the caller's thread |
//! | `call.enqueue { result -> }` | [`call.enqueue(\|result\| ..)`](Call::enqueue): work on the pool, callback through the executor |
//! | `call.enqueue { result -> textView.text = .. }` (main thread, touching UI state) | [`call.enqueue_local(&queue, \|result\| ..)`](Call::enqueue_local): the callback need not be `Send`; it runs on the thread that created the [`CallbackQueue`] |
//! | `call.cancel()` | [`call.cancel()`](Call::cancel): the callback is then never invoked |
//! | a call completed later by a socket or timer | [`Call::deferred`]: no pool thread waits; a [`Completer`] finishes it, a [`DeadlineTimer`] fails it at its deadline |
//! | `map`, `flatMap`, `zipWith`, `retry`, `onErrorReturn`, `doOnResult`, `withPrecondition`, `Call.of` | [`Call::map`], [`Call::flat_map`], [`Call::zip_with`], [`Call::retry`], [`Call::on_error_return`], [`Call::do_on_result`], [`Call::with_precondition`], [`Call::of`] |
//!
//! The guide with Kotlin beside Rust for every part: [`guides::calls`].
//!
//! Callbacks run where the call's [`Executor`] says: by default on the pool thread that
//! finished the work; with a [`CallbackQueue`] on your GUI loop's thread; or through any
//! closure ([`Executor::from_fn`]). `execute()` never waits for the pool, so it is safe
//! anywhere, including inside callbacks and on a one-thread pool.
//!
//! ```
//! use std::time::Duration;
//! use stream_chat_callbacks::{Call, CallbackQueue, ChatError, ChatResult, ErrorKind, FixedRetry, WorkerPool};
//!
//! let pool = WorkerPool::new(2);
//!
//! // A call whose work waits (cancellably) and then answers.
//! let greet = Call::new(&pool, |token| {
//!     if !token.sleep(Duration::from_millis(1)) {
//!         return ChatResult::Failure(ChatError::cancelled());
//!     }
//!     ChatResult::Success("hello")
//! })
//! .map(|s| s.to_uppercase())
//! .retry(FixedRetry { max_attempts: 2, delay: Duration::from_millis(5) });
//!
//! // Deliver on "our" thread, like a GUI loop would.
//! let queue = CallbackQueue::new();
//! let (tx, rx) = std::sync::mpsc::channel();
//! greet.enqueue_on(&queue.executor(), move |result| match result {
//!     ChatResult::Success(text) => tx.send(text).unwrap(),
//!     ChatResult::Failure(err) => eprintln!("failed: {err}"),
//! });
//! queue.wait_and_run(std::time::Instant::now() + Duration::from_secs(10));
//! assert_eq!(rx.try_recv().unwrap(), "HELLO");
//!
//! // A call runs once.
//! assert_eq!(greet.execute().error().kind(), ErrorKind::AlreadyExecuted);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod call;
mod cancel;
mod combinators;
mod deferred;
mod error;
mod executor;
mod local;
mod pool;
mod result;
mod retry;
mod timer;

pub use call::Call;
pub use cancel::{CancelHandle, CancelToken};
pub use deferred::Completer;
pub use error::{ChatError, ErrorClass, ErrorKind};
pub use executor::{CallbackQueue, Executor};
pub use pool::{WorkerPool, WorkerPoolBuilder};
pub use result::ChatResult;
pub use retry::{ExponentialBackoff, FixedRetry, MAX_RETRY_AFTER, NoRetry, RetryPolicy};
pub use timer::{DeadlineTimer, Expire, deadline_after};

/// The README's example runs against the real API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}

/// Guides, rendered here from this package's `docs/`; their Rust snippets run as doctests.
pub mod guides {
    #[doc = include_str!("../docs/calls.md")]
    pub mod calls {}
}

/// The text of a caught panic, for logs and [`ErrorKind::Panicked`] messages.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
