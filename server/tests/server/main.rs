//! The server's integration tests, one binary: `api` (our own HTTP and WebSocket requests
//! against an in-process server and the binary) and `interop` (the official JS and Python
//! clients, unmodified, against the binary; skipped only with `STREAM_CHAT_SKIP_INTEROP=1`).
//! Helpers in `support`. Run one part with `cargo test -p stream-chat-server --test server
//! interop::`.
//!
//! The tests share one process and run in parallel; none uses process-wide state (no
//! logger, no global), and each starts its own server.

mod api;
mod interop;
mod support;
