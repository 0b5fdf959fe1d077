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
mod config;
mod domain;
mod error;
pub(crate) mod limits;
mod routes;
mod serve;
mod webhooks;
mod ws;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use stream_chat_protocol::{jwt, time};
use tokio::runtime::Runtime;

use crate::app::AppState;
use crate::config::{
    Config, LISTEN_BACKLOG, MAX_HEALTH_CHECK_INTERVAL, MIN_HEALTH_CHECK_INTERVAL, MIN_TIMEOUT,
    SHUTDOWN_RUNTIME_TIMEOUT, SHUTDOWN_STEP_TIMEOUT, WORKER_THREADS,
};
pub use crate::config::{
    DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_TIMEOUT,
    DEFAULT_HEALTH_CHECK_INTERVAL, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_PORT,
    KICK_CLOSE_CODE, LAGGING_CLOSE_CODE,
};
pub use crate::domain::usage::{Counters, Usage};
pub use crate::limits::RateLimits;

/// Entry point: `Server::builder()...start()`.
///
/// ```
/// let server = stream_chat_server::Server::builder().api_key("k").start().unwrap();
/// assert_eq!(server.api_key(), "k");
/// ```
#[derive(Debug)]
pub struct Server;

impl Server {
    /// A builder with the development defaults: [`DEFAULT_API_KEY`], [`DEFAULT_API_SECRET`],
    /// auth checks on, single-tenant, `127.0.0.1:0`, health checks every 30 s.
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// assert_eq!(server.api_key(), stream_chat_server::DEFAULT_API_KEY);
    /// ```
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            config: Config::default(),
        }
    }
}

/// Configures and starts a server.
///
/// ```
/// use std::time::Duration;
/// let server = stream_chat_server::Server::builder()
///     .api_key("key")
///     .api_secret("secret")
///     .disable_auth_checks(true)
///     .multi_tenant(false)
///     .addr("127.0.0.1:0".parse().unwrap())
///     .health_check_interval(Duration::from_secs(5))
///     .start()
///     .unwrap();
/// assert_eq!(server.api_secret(), "secret");
/// ```
#[derive(Clone, Debug)]
pub struct ServerBuilder {
    config: Config,
}

impl ServerBuilder {
    /// The API key clients must send as `api_key`.
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().api_key("k");
    /// # drop(b);
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.config.api_key = key.into();
        self
    }

    /// The secret tokens are signed with.
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().api_secret("s");
    /// # drop(b);
    /// ```
    pub fn api_secret(mut self, secret: impl Into<String>) -> Self {
        self.config.api_secret = secret.into();
        self
    }

    /// Accept development tokens (signature `devtoken`), like Stream's "Disable Auth Checks".
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().disable_auth_checks(true);
    /// # drop(b);
    /// ```
    pub fn disable_auth_checks(mut self, disable: bool) -> Self {
        self.config.disable_auth_checks = disable;
        self
    }

    /// Multi-tenancy (teams) on: users see and touch only channels (their `team`) and users
    /// (their `teams`) of their own teams, code 17 otherwise; server tokens and admins are not
    /// restricted; guest users are refused.
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().multi_tenant(true);
    /// # drop(b);
    /// ```
    pub fn multi_tenant(mut self, on: bool) -> Self {
        self.config.multi_tenant = on;
        self
    }

    /// Address to listen on; port 0 picks a free port.
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().addr(([127, 0, 0, 1], 0).into());
    /// # drop(b);
    /// ```
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.config.addr = addr;
        self
    }

    /// Interval of the unsolicited `health.check` frames (at least 1 ms, at most a year).
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().health_check_interval(std::time::Duration::from_millis(200));
    /// # drop(b);
    /// ```
    pub fn health_check_interval(mut self, interval: Duration) -> Self {
        self.config.health_check_interval =
            interval.clamp(MIN_HEALTH_CHECK_INTERVAL, MAX_HEALTH_CHECK_INTERVAL);
        self
    }

    /// How many frames may wait for one WebSocket client (default 1024, at least 1). A client
    /// that falls further behind, e.g. a stalled reader, is disconnected with close code
    /// [`LAGGING_CLOSE_CODE`] instead of letting the server's memory grow; see
    /// [`ServerHandle::slow_consumer_disconnects`]. The queue comes on top of the kernel's
    /// socket buffers.
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().max_queued_frames(64);
    /// # drop(b);
    /// ```
    pub fn max_queued_frames(mut self, frames: usize) -> Self {
        self.config.max_queued_frames = frames.max(1);
        self
    }

    // Uploads, the server-side client and webhooks.

    /// The largest file `POST /channels/{type}/{id}/file|image` accepts, in bytes (default
    /// [`DEFAULT_MAX_UPLOAD_BYTES`], Stream's 100 MB); larger ones get code 22, HTTP 413.
    /// Only the upload routes take bodies this large: every other route keeps its 1 MiB.
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().max_upload_bytes(10 * 1024 * 1024);
    /// # drop(b);
    /// ```
    pub fn max_upload_bytes(mut self, bytes: u64) -> Self {
        self.config.max_upload_bytes = bytes;
        self
    }

    /// Keep the chat state under `dir` (created if missing) instead of in memory, so it
    /// survives a restart: users, channels, members, messages, reactions, reads, mutes, bans,
    /// flags, blocks and usage in the SQLite database `dir/chat.sqlite3` (every write on disk
    /// before its request is answered), uploaded files in `dir/uploads/`. The directory is
    /// locked while the server runs: [`ServerBuilder::start`] fails with an error naming it
    /// when another server holds it, and with one naming the database when that is corrupt
    /// or from a newer server.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("stream-doc-{}", std::process::id()));
    /// let server = stream_chat_server::Server::builder().data_dir(&dir).start().unwrap();
    /// assert!(dir.join("uploads").is_dir() && dir.join("chat.sqlite3").is_file());
    /// let second = stream_chat_server::Server::builder().data_dir(&dir).start();
    /// assert!(second.unwrap_err().to_string().contains("in use by another server"));
    /// # drop(server); std::fs::remove_dir_all(dir).unwrap();
    /// ```
    pub fn data_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.config.data_dir = Some(dir.into());
        self
    }

    /// The data directory set by [`ServerBuilder::data_dir`], if any.
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().data_dir("/tmp/chat");
    /// assert_eq!(b.configured_data_dir(), Some(std::path::Path::new("/tmp/chat")));
    /// ```
    pub fn configured_data_dir(&self) -> Option<&std::path::Path> {
        self.config.data_dir.as_deref()
    }

    /// POST every event the server emits to `url` (`http://`), as Stream's webhooks do:
    /// the event's JSON, signed in `X-Signature` with the API secret, retried on failure,
    /// one delivery at a time in the order the events happened. See `docs/server-side.md`.
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().webhook_url("http://127.0.0.1:9/hook");
    /// # drop(b);
    /// ```
    pub fn webhook_url(mut self, url: impl Into<String>) -> Self {
        self.config.webhook_url = Some(url.into());
        self
    }

    // Connections (issue 15).

    /// How long a client may take to send a request's head (request line and headers),
    /// counted from the connection's accept or the end of its previous response; then the
    /// connection is closed. Default [`DEFAULT_HEADER_TIMEOUT`] (30 s), at least 1 ms.
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().header_timeout(std::time::Duration::from_secs(5));
    /// # drop(b);
    /// ```
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_timeout = timeout.clamp(MIN_TIMEOUT, MAX_HEALTH_CHECK_INTERVAL);
        self
    }

    /// How long a client may take to send a request's body once its head arrived; then it
    /// is answered 408 (code 4) and the connection closed. Default [`DEFAULT_BODY_TIMEOUT`]
    /// (30 s), at least 1 ms.
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().body_timeout(std::time::Duration::from_secs(5));
    /// # drop(b);
    /// ```
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.config.body_timeout = timeout.clamp(MIN_TIMEOUT, MAX_HEALTH_CHECK_INTERVAL);
        self
    }

    /// How long an HTTP connection may stay open without a request in flight before the
    /// server closes it. WebSocket connections are not affected (they have health checks).
    /// Default [`DEFAULT_IDLE_TIMEOUT`] (30 s), at least 1 ms.
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().idle_timeout(std::time::Duration::from_secs(5));
    /// # drop(b);
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.config.idle_timeout = timeout.clamp(MIN_TIMEOUT, MAX_HEALTH_CHECK_INTERVAL);
        self
    }

    /// How many connections (HTTP and WebSocket) may be open at once (at least 1). A new
    /// connection beyond it closes the HTTP connection idle the longest (no request in
    /// flight); when every one is busy, the new one is answered 503 and closed. So a flood
    /// of idle sockets cannot stop the server answering. Default: the process's soft
    /// file-descriptor limit less an eighth and 32 (on Linux; 100,000 elsewhere), so the
    /// server sheds before `accept` runs out of descriptors.
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().max_connections(1000);
    /// # drop(b);
    /// ```
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.config.max_connections = Some(connections.max(1));
        self
    }

    /// Per-user, per-endpoint rate limits: [`RateLimits::stream`] by default (60 requests a
    /// minute per user and endpoint, Stream's app-wide tiers for server-side calls, with
    /// `X-RateLimit-*` headers and 429 / code 9), [`RateLimits::off`] for load tests.
    ///
    /// ```
    /// use stream_chat_server::{RateLimits, Server};
    /// let b = Server::builder().rate_limits(RateLimits::off());
    /// # drop(b);
    /// ```
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.config.rate_limits = limits;
        self
    }

    /// The largest custom data of a user, a channel or a message, in bytes of JSON: Stream's
    /// 5 KB (5,120) by default. A write that would make an object's custom data larger is
    /// answered 413 with code 22 and changes nothing.
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().max_custom_data(64 * 1024);
    /// # drop(b);
    /// ```
    pub fn max_custom_data(mut self, bytes: usize) -> Self {
        self.config.max_custom_data = bytes;
        self
    }

    // Seed, snapshot and the dashboard (issue 13).

    /// Loads the snapshot document at `path` (the shape [`ServerHandle::export`] writes:
    /// users, channels, members, reads, messages and reactions) when the server starts. A
    /// file that cannot be read or is not a valid document makes [`ServerBuilder::start`]
    /// fail with [`std::io::ErrorKind::InvalidData`] naming the problem. See
    /// `docs/local-server.md`.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("stream-doc-seed-{}.json", std::process::id()));
    /// std::fs::write(&path, r#"{"version": 1, "users": [{"id": "alice"}]}"#).unwrap();
    /// let server = stream_chat_server::Server::builder().import(&path).start().unwrap();
    /// let doc = String::from_utf8(server.export().unwrap()).unwrap();
    /// assert!(doc.contains("\"alice\""));
    /// # drop(server); std::fs::remove_file(path).unwrap();
    /// ```
    pub fn import(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.config.import = Some(path.into());
        self
    }

    /// Writes the state to `path` (as [`ServerHandle::export`]) when the server shuts down,
    /// before it closes its connections: on [`ServerHandle::shutdown`], on drop, and in the
    /// binary on SIGINT/SIGTERM. The file is replaced whole (written beside it, then renamed).
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("stream-doc-exit-{}.json", std::process::id()));
    /// let server = stream_chat_server::Server::builder().export_on_exit(&path).start().unwrap();
    /// server.shutdown();
    /// assert!(std::fs::read_to_string(&path).unwrap().contains("\"version\": 1"));
    /// # std::fs::remove_file(path).unwrap();
    /// ```
    pub fn export_on_exit(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.config.export_on_exit = Some(path.into());
        self
    }

    /// Serve the dashboard (`GET /dashboard` and its `/dashboard/api/*` endpoints) to every
    /// client, not only loopback ones. Off by default: the dashboard can mint tokens and
    /// kick connections, so open it only on a network you trust.
    ///
    /// ```
    /// let b = stream_chat_server::Server::builder().dashboard_public(true);
    /// # drop(b);
    /// ```
    pub fn dashboard_public(mut self, public: bool) -> Self {
        self.config.dashboard_public = public;
        self
    }

    /// Binds the address and starts serving on a runtime of its own (two worker threads).
    ///
    /// Usable from plain blocking code; the returned handle stops the server when dropped.
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// assert_ne!(server.addr().port(), 0);
    /// ```
    pub fn start(self) -> std::io::Result<ServerHandle> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("stream-chat-server")
            .enable_all()
            .build()?;
        if let Some(dir) = &self.config.data_dir {
            std::fs::create_dir_all(dir.join(domain::UPLOADS_DIR)).map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let chat = domain::Chat::open(&self.config)?;
        if let Some(url) = &self.config.webhook_url {
            webhooks::Target::parse(url).map_err(std::io::Error::other)?;
        }
        let seed = match &self.config.import {
            Some(path) => Some(read_snapshot(path)?),
            None => None,
        };
        let listener = listen(&runtime, self.config.addr)?;
        let addr = listener.local_addr()?;
        let config = Config {
            addr,
            ..self.config
        };
        let state = Arc::new(AppState::with_chat(config, chat));
        if let Some(seed) = seed {
            state.chat.import(seed).map_err(|e| {
                std::io::Error::other(format!(
                    "--import: cannot load the snapshot: {}",
                    e.0.message
                ))
            })?;
        }
        if let (Some(url), Some(queue)) = (
            state.config.webhook_url.as_deref(),
            state.chat.take_hook_receiver(),
        ) {
            let deliverer = webhooks::Deliverer {
                target: webhooks::Target::parse(url).map_err(std::io::Error::other)?,
                api_key: state.config.api_key.clone(),
                secret: state.config.api_secret.clone(),
            };
            runtime.spawn(deliverer.run(queue, state.shutdown.subscribe()));
        }
        let app = routes::router(state.clone());
        let serve_state = state.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let serve = runtime.spawn(async move {
            let listener = match tokio::net::TcpListener::from_std(listener) {
                Ok(l) => {
                    let _ = ready_tx.send(Ok(()));
                    l
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            serve::serve(listener, app, serve_state).await;
        });
        ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("server task ended before listening"))??;
        tracing::info!(%addr, "stream-chat-server listening");
        Ok(ServerHandle {
            addr,
            state,
            running: Mutex::new(Some((runtime, serve))),
        })
    }
}

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
        let state = std::sync::Arc::new(super::AppState::new(builder.config));
        crate::routes::router(state)
    }
}

/// Reads and checks a snapshot document for `--import`.
fn read_snapshot(path: &std::path::Path) -> std::io::Result<domain::snapshot::Snapshot> {
    let bytes = std::fs::read(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("--import {}: {e}", path.display())))?;
    domain::snapshot::Snapshot::parse(&bytes).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("--import {}: {e}", path.display()),
        )
    })
}

/// Writes `bytes` to `path` whole: to a file beside it, then renamed over it.
fn write_whole(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}

/// Binds `addr` like `TcpListener::bind`, with a backlog long enough for bursts of connects.
fn listen(runtime: &Runtime, addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    // `listen` registers with the runtime's reactor; the server task registers it again.
    let _guard = runtime.enter();
    let listener = socket.listen(LISTEN_BACKLOG)?.into_std()?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// A running server. Dropping it shuts the server down.
///
/// ```
/// let server = stream_chat_server::Server::builder().start().unwrap();
/// let token = server.create_token("alice", None);
/// assert_eq!(token.split('.').count(), 3);
/// drop(server); // shuts down
/// ```
pub struct ServerHandle {
    addr: SocketAddr,
    state: Arc<AppState>,
    running: Mutex<Option<(Runtime, tokio::task::JoinHandle<()>)>>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// The bound address.
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// assert!(server.addr().ip().is_loopback());
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, the base URL for REST and WebSocket clients.
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// assert_eq!(server.base_url(), format!("http://{}", server.addr()));
    /// ```
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The data directory the chat state is kept in (`None`: in memory, gone on stop).
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// assert!(server.data_dir().is_none());
    /// ```
    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self.state.config.data_dir.as_deref()
    }

    /// The API key.
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// assert_eq!(server.api_key(), stream_chat_server::DEFAULT_API_KEY);
    /// ```
    pub fn api_key(&self) -> &str {
        &self.state.config.api_key
    }

    /// The API secret.
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// assert_eq!(server.api_secret(), stream_chat_server::DEFAULT_API_SECRET);
    /// ```
    pub fn api_secret(&self) -> &str {
        &self.state.config.api_secret
    }

    /// A user token for `user_id`, expiring after `expires_in` if given.
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().api_secret("secret").start().unwrap();
    /// assert_eq!(
    ///     server.create_token("alice", None),
    ///     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiYWxpY2UifQ.YbDM4fmZOvvxOWjBdMVV--0AGcSWNENiVdni8bfgD_M"
    /// );
    /// ```
    pub fn create_token(&self, user_id: &str, expires_in: Option<Duration>) -> String {
        let exp = expires_in.map(|d| {
            time::now_secs().saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        });
        jwt::user_token(self.api_secret().as_bytes(), user_id, exp)
    }

    /// A server token (`{"server": true}`), allowed everything.
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// let claims = stream_chat_protocol::jwt::decode_unverified(&server.server_token()).unwrap();
    /// assert!(claims.is_server());
    /// ```
    pub fn server_token(&self) -> String {
        jwt::server_token(self.api_secret().as_bytes())
    }

    /// Current usage: monthly active users and open connections.
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// assert_eq!(server.usage(), stream_chat_server::Usage::default());
    /// ```
    pub fn usage(&self) -> Usage {
        self.state.chat.usage()
    }

    /// Closes every socket of `user_id` with close code [`KICK_CLOSE_CODE`] (1012), so
    /// clients treat it as transient and reconnect. Returns how many sockets were closed.
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// assert_eq!(server.kick_connections("nobody"), 0);
    /// ```
    pub fn kick_connections(&self, user_id: &str) -> usize {
        self.state.chat.kick(user_id)
    }

    /// Refuses (`true`) or accepts again (`false`) new WebSocket connections of `user_id`
    /// (`"!anon"` for anonymous ones). While refused, `/connect` for that user answers
    /// **HTTP 503** with a Stream error body (code -1, `StatusCode` 503) without upgrading, a
    /// transient failure clients retry with back-off. Sockets already open stay open: pair it
    /// with [`ServerHandle::kick_connections`] to keep a client down while a test acts.
    /// Auth is checked first, so a bad token still gets its usual `connection.error`.
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// server.refuse_connections("alice", true);
    /// assert_eq!(server.refused_connections("alice"), 0); // nobody tried yet
    /// server.refuse_connections("alice", false);
    /// ```
    pub fn refuse_connections(&self, user_id: &str, refuse: bool) {
        self.state.chat.refuse_connections(user_id, refuse);
    }

    /// How many `/connect` attempts of `user_id` were refused so far by
    /// [`ServerHandle::refuse_connections`] (lets a test wait until a client has tried).
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// assert_eq!(server.refused_connections("nobody"), 0);
    /// ```
    pub fn refused_connections(&self, user_id: &str) -> u64 {
        self.state.chat.refused_connections(user_id)
    }

    /// How many WebSocket connections were closed so far because the client fell more than
    /// [`ServerBuilder::max_queued_frames`] frames behind (close code [`LAGGING_CLOSE_CODE`]).
    /// Also reported by `GET /emulator/usage` as `slow_consumer_disconnects`.
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// assert_eq!(server.slow_consumer_disconnects(), 0);
    /// ```
    pub fn slow_consumer_disconnects(&self) -> u64 {
        self.state.chat.slow_consumer_disconnects()
    }

    /// Blocks until `condition` holds for the server's counters, or `timeout` passes.
    ///
    /// The server changes its counters (open connections, monthly active users, refused
    /// connects, slow-consumer disconnects) on its own tasks; this wakes on each change and
    /// checks `condition` again, so a test waits for a fact without polling. Returns the
    /// counters that satisfied it, or `Err` with the last ones seen when `timeout` passed.
    ///
    /// ```
    /// use std::time::Duration;
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// let now = server.wait_for(Duration::from_secs(5), |c| c.usage.concurrent_connections == 0);
    /// assert!(now.is_ok());
    /// let never = server.wait_for(Duration::from_millis(10), |c| c.refused_connections("x") > 0);
    /// assert_eq!(never.unwrap_err().refused_connections("x"), 0);
    /// ```
    pub fn wait_for(
        &self,
        timeout: Duration,
        condition: impl FnMut(&Counters) -> bool,
    ) -> Result<Counters, Counters> {
        self.state.chat.wait_for(timeout, condition)
    }

    /// Freezes (`true`) or thaws (`false`) every socket of `user_id`: while frozen the server
    /// writes no frame to it (no events, no health checks; only a close frame if it is kicked
    /// or the server stops) and reads nothing from it, like a silently dead link. Events meant
    /// for it meanwhile are dropped. Returns how many sockets were affected.
    ///
    /// A freeze is in force when this returns: each socket's task has seen it, so nothing is
    /// written after the call, whether queued before it or sent after it. A write already in
    /// progress is waited for (at most the server's 10 s write timeout, after which that socket
    /// is dropped).
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// assert_eq!(server.freeze_connections("nobody", true), 0);
    /// ```
    pub fn freeze_connections(&self, user_id: &str, frozen: bool) -> usize {
        self.state.chat.freeze(user_id, frozen)
    }

    /// Removes every file uploaded to channel `cid` and returns how many there were: what
    /// deleting a channel does to its uploads (their URLs answer 404 afterwards).
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// assert_eq!(server.delete_channel_files("messaging:none").unwrap(), 0);
    /// ```
    pub fn delete_channel_files(&self, cid: &str) -> std::io::Result<usize> {
        self.state.chat.delete_channel_files(cid)
    }

    /// The whole chat state as a snapshot document (pretty-printed JSON, version 1): what
    /// `GET /emulator/export` answers and [`ServerBuilder::import`] reads. Importing it and
    /// exporting again gives the same bytes.
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// let doc: serde_json::Value = serde_json::from_slice(&server.export().unwrap()).unwrap();
    /// assert_eq!(doc["version"], 1);
    /// ```
    pub fn export(&self) -> std::io::Result<Vec<u8>> {
        self.state
            .chat
            .export()
            .map_err(|e| std::io::Error::other(e.0.message))
    }

    /// The dashboard's URL, `http://HOST:PORT/dashboard`.
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// assert!(server.dashboard_url().ends_with("/dashboard"));
    /// ```
    pub fn dashboard_url(&self) -> String {
        format!("{}/dashboard", self.base_url())
    }

    /// Stops the server: closes every WebSocket (code 1001), stops accepting, and frees the
    /// port before returning. Idempotent; also runs on drop. With
    /// [`ServerBuilder::export_on_exit`] the state is written first (a failure is logged;
    /// [`ServerHandle::stop`] reports it).
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// let addr = server.addr();
    /// server.shutdown();
    /// std::net::TcpListener::bind(addr).unwrap(); // the port is free again
    /// ```
    pub fn shutdown(&self) {
        if let Err(e) = self.stop() {
            tracing::error!(error = %e, "the export on exit failed");
        }
    }

    /// Like [`ServerHandle::shutdown`], but says whether the [`ServerBuilder::export_on_exit`]
    /// file was written (the server stops either way). `Ok` when there is nothing to write
    /// or the server was already stopped.
    ///
    /// ```
    /// let server = stream_chat_server::Server::builder().start().unwrap();
    /// server.stop().unwrap();
    /// ```
    pub fn stop(&self) -> std::io::Result<()> {
        let running = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some((runtime, serve)) = running else {
            return Ok(());
        };
        let exported = match &self.state.config.export_on_exit {
            Some(path) => self.export().and_then(|bytes| {
                write_whole(path, &bytes).map_err(|e| {
                    std::io::Error::new(
                        e.kind(),
                        format!("--export-on-exit {}: {e}", path.display()),
                    )
                })
            }),
            None => Ok(()),
        };
        self.state.shutdown.send_replace(true);
        let state = self.state.clone();
        // A separate thread, so shutting down from inside another async runtime cannot panic.
        let stopper = std::thread::spawn(move || {
            runtime.block_on(async {
                let _ = tokio::time::timeout(SHUTDOWN_STEP_TIMEOUT, serve).await;
                let mut conns = state.connections_open.subscribe();
                let _ =
                    tokio::time::timeout(SHUTDOWN_STEP_TIMEOUT, conns.wait_for(|n| *n == 0)).await;
            });
            runtime.shutdown_timeout(SHUTDOWN_RUNTIME_TIMEOUT);
        });
        let _ = stopper.join();
        tracing::info!(addr = %self.addr, "stream-chat-server stopped");
        exported
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpStream;

    use super::*;

    #[test]
    fn the_listener_holds_a_burst_of_connects_beyond_128() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .unwrap();
        let listener = listen(&runtime, SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let addr = listener.local_addr().unwrap();
        // The kernel caps the backlog at somaxconn (4096 on Linux since 5.4).
        let somaxconn = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(128);
        let burst = somaxconn.min(LISTEN_BACKLOG as usize).min(300);
        // Nobody accepts: each connect must still complete from the backlog, not stall.
        let conns: Vec<TcpStream> = (0..burst)
            .map(|i| {
                TcpStream::connect_timeout(&addr, Duration::from_millis(500))
                    .unwrap_or_else(|e| panic!("connect #{i} of {burst}: {e}"))
            })
            .collect();
        assert_eq!(conns.len(), burst);
    }
}
