//! The SDK's integration tests, one binary: real sockets against the in-process server,
//! one module per area, helpers in `support`. Run one area with
//! `cargo test --test sdk recovery::`.
//!
//! The tests share one process and run in parallel. What is process-wide is handled once:
//! the logger is `support::logs` (tests tap it, filtered to what only they log), and a
//! test about the whole process (its threads, `ChatClient::instance()`, every log record)
//! runs in a child process of its own (`support::process::own_process!`). Each module
//! says at its top which it uses and why.

mod support;

mod channel_events;
mod channels;
mod connect_flows;
mod durations;
mod events;
mod instance;
mod logging;
mod logging_ws;
mod messages;
mod pause_resume;
mod pending_connects;
mod permissions;
mod pool_waits;
mod reconnect;
mod recovery;
mod rest;
mod shared;
mod shutdown;
mod socket_panic;
mod stale_connection;
mod threads;
mod timeouts;
mod token_loads;
mod tokens;
mod waiting;
// Channel administration, members, read state, moderation, presence, user updates.
mod channel_admin;
mod devices;
mod moderation;
// Reliability: fault classification, retries, the fault proxy (issue 15).
mod classification;
mod faults;
// Reactions, threads, typing, pins, search (messages surface).
mod pins;
mod reactions;
mod search;
mod thread_replies;
mod typing;
// Uploads, the server-side client and webhooks.
mod server_side;
mod uploads;
// The state store (issue 12).
mod state;
mod state_sharing;
// TLS: private roots, https and wss through a TLS-terminating proxy.
mod tls_paths;
// The offline store (issue 12, feature `offline`: on for this binary, see Cargo.toml).
#[cfg(feature = "offline")]
mod offline;
