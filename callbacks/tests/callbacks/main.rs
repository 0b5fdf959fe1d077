//! The callbacks crate's integration tests, one binary: one module per area, helpers in
//! `support`. Run one area with `cargo test -p stream-chat-callbacks --test callbacks cancel::`.
//!
//! The tests share one process and run in parallel. Each builds its own pools with their
//! own thread names, so none counts or names another's threads; the one process-wide
//! thing, the logger, is installed by `shutdown` alone (see there).

mod support;

mod call;
mod cancel;
mod combinators;
mod deferred;
mod delivery;
mod executors;
mod local;
mod nested;
mod pool;
mod shutdown;
mod timer;
