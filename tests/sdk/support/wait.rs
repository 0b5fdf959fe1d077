//! The one bounded poll of the SDK tests, for facts that nothing notifies.
//!
//! Everything the SDK or a peer reports is awaited on a channel with a deadline (see
//! `Recorder`, `Events`, `enqueue_and_wait`). Two kinds of fact have no notification a
//! test can wait on: the threads of this process (the OS offers no wake-up when a thread
//! ends) and the counters of the local server (`ServerHandle::usage()`,
//! `refused_connections()`), which it updates on its own tasks and only lets tests read.
//! Those, and only those, are checked here: repeatedly, with a growing pause between
//! checks, until they hold or the limit passes.

use std::time::{Duration, Instant};

/// The first pause between two checks; it doubles up to [`LONGEST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(1);
/// The longest pause between two checks: a fact is seen at most this late.
const LONGEST_PAUSE: Duration = Duration::from_millis(20);

/// Checks `fact` until it holds (returns how long that took) or `limit` passes (`None`).
/// Only for facts with no notification (see the module documentation): say which at the
/// call.
pub fn poll_external(limit: Duration, mut fact: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    let mut pause = FIRST_PAUSE;
    loop {
        if fact() {
            return Some(started.elapsed());
        }
        let left = limit.saturating_sub(started.elapsed());
        if left.is_zero() {
            return None;
        }
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

/// Like [`poll_external`], but fails the test with `what` when `limit` passes.
#[track_caller]
pub fn assert_external(what: &str, limit: Duration, fact: impl FnMut() -> bool) {
    if poll_external(limit, fact).is_none() {
        panic!("{what} within {limit:?}");
    }
}
