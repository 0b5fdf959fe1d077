//! Helpers of the callbacks tests: waiting on channels with a deadline.
#![allow(dead_code, unused_imports)]

use std::time::Duration;

pub use crossbeam_channel::{Receiver, Sender, unbounded};

/// Generous bound for anything the tests wait for; reaching it fails the test.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Receives one message or fails the test after [`TIMEOUT`].
#[track_caller]
pub fn recv<T>(rx: &Receiver<T>) -> T {
    match rx.recv_timeout(TIMEOUT) {
        Ok(value) => value,
        Err(err) => panic!("nothing received within {TIMEOUT:?}: {err}"),
    }
}

/// Asserts that the channel closes (every sender dropped, e.g. every callback consumed)
/// without delivering a message; fails after [`TIMEOUT`].
#[track_caller]
pub fn assert_silent<T: std::fmt::Debug>(rx: &Receiver<T>) {
    match rx.recv_timeout(TIMEOUT) {
        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {}
        Ok(value) => panic!("expected no message, got {value:?}"),
        Err(err) => panic!("a sender stayed alive for {TIMEOUT:?}: {err}"),
    }
}

/// The current thread's name ("" when unnamed).
pub fn thread_name() -> String {
    std::thread::current().name().unwrap_or("").to_owned()
}
