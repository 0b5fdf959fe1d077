//! Waiting for facts that no SDK event reports.
//!
//! Everything the SDK or a peer reports is awaited on a channel with a deadline (see
//! `Recorder`, `Events`, `enqueue_and_wait`). The local server's counters (open connections,
//! refused connects, ...) change on the server's own tasks: [`assert_server`] waits on
//! `ServerHandle::wait_for`, which wakes at each change. One kind of fact has no
//! notification at all: the threads of this process (the OS offers no wake-up when a thread
//! ends). Those, and only those, are checked by [`poll_external`]: repeatedly, with a
//! growing pause between checks, until they hold or the limit passes.

use std::time::{Duration, Instant};

use stream_chat_server::{Counters, ServerHandle};

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

/// Waits until the server's counters satisfy `fact` (woken by each change, no polling) and
/// returns them; fails the test with `what` and the counters last seen when `limit` passes.
#[track_caller]
pub fn assert_server(
    server: &ServerHandle,
    what: &str,
    limit: Duration,
    fact: impl FnMut(&Counters) -> bool,
) -> Counters {
    match server.wait_for(limit, fact) {
        Ok(counters) => counters,
        Err(last) => panic!("{what} within {limit:?}; the server's counters: {last:?}"),
    }
}
