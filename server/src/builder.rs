//! [`Server`] and [`ServerBuilder`]: the configuration, checked and clamped, and the start
//! (runtime, listener, the serve task) that hands back a [`ServerHandle`].

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Runtime;

use crate::ServerHandle;
use crate::app::AppState;
use crate::config::{
    Config, LISTEN_BACKLOG, MAX_HEALTH_CHECK_INTERVAL, MIN_HEALTH_CHECK_INTERVAL, MIN_TIMEOUT,
    WORKER_THREADS,
};
use crate::limits::RateLimits;
use crate::{domain, routes, serve, webhooks};

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
    pub(crate) config: Config,
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
        Ok(ServerHandle::new(addr, state, runtime, serve))
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
