//! A local Stream Chat-compatible server for development and tests.
//!
//! It verifies JWTs, enforces Stream's default roles and grants for the built-in `messaging`
//! and `livestream` channel types, keeps users, channels, messages and watchers in memory,
//! and pushes events over the WebSocket `/connect` endpoint on the same port as the REST API.
//! The official JS (`stream-chat`) and Python (`stream-chat`) clients work against it
//! unmodified. See `docs/local-server.md`.
//!
//! ```
//! use stream_chat_server::Server;
//!
//! let server = Server::builder().start().unwrap();
//! assert!(server.base_url().starts_with("http://127.0.0.1:"));
//! server.shutdown();
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod app;
mod auth;
mod builder;
mod config;
mod domain;
mod error;
mod handle;
pub(crate) mod limits;
mod routes;
mod serve;
mod webhooks;
mod ws;

pub use crate::builder::{Server, ServerBuilder};
pub use crate::config::{
    DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT,
    DEFAULT_HEALTH_CHECK_INTERVAL, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_PORT,
    KICK_CLOSE_CODE, LAGGING_CLOSE_CODE,
};
pub use crate::domain::usage::{Counters, Usage};
pub use crate::handle::ServerHandle;
pub use crate::limits::RateLimits;

/// Benchmark hooks (`benches/persistence.rs`). Not part of the API.
#[doc(hidden)]
pub mod bench_hooks {
    /// Writes user `user`, channel `messaging:{channel}` and `count` of their messages
    /// straight into the `--data-dir` database under `dir`, in one transaction.
    pub fn seed_messages(
        dir: &std::path::Path,
        user: &str,
        channel: &str,
        count: usize,
    ) -> std::io::Result<()> {
        crate::domain::seed_store(dir, user, channel, count)
    }
}

/// Entry points for the fuzz targets in `fuzz/`: the query filter parser and the whole
/// REST router (extractors, request bodies, the chat domain) without sockets. Compiled
/// only with `--cfg fuzzing` (`scripts/fuzz.sh`). Not part of the API.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    use serde_json::{Map, Value};

    /// Validates a query filter as every query endpoint does first.
    pub fn validate_filter(filter: &Map<String, Value>) -> Result<(), String> {
        crate::domain::filter::validate(filter)
    }

    /// Whether `doc` matches `filter` (the filter validated or not).
    pub fn filter_matches(doc: &Value, filter: &Map<String, Value>) -> Result<bool, String> {
        crate::domain::filter::matches(doc, filter)
    }

    /// The REST router over a fresh in-memory state configured by `builder`.
    pub fn router(builder: super::ServerBuilder) -> axum::Router {
        let state = std::sync::Arc::new(crate::app::AppState::new(builder.config));
        crate::routes::router(state)
    }
}
