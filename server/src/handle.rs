//! [`ServerHandle`]: a running server's address, tokens, counters and waits, and its
//! shutdown (export on exit, then the runtime stopped within bounded steps).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use stream_chat_protocol::{jwt, time};
use tokio::runtime::Runtime;

use crate::app::AppState;
use crate::config::{SHUTDOWN_RUNTIME_TIMEOUT, SHUTDOWN_STEP_TIMEOUT};
use crate::domain::usage::{Counters, Usage};

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
    /// The handle of a server listening on `addr`, served by `serve` on `runtime`.
    pub(crate) fn new(
        addr: SocketAddr,
        state: Arc<AppState>,
        runtime: Runtime,
        serve: tokio::task::JoinHandle<()>,
    ) -> ServerHandle {
        ServerHandle {
            addr,
            state,
            running: Mutex::new(Some((runtime, serve))),
        }
    }

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

/// Writes `bytes` to `path` whole: to a file beside it, then renamed over it.
fn write_whole(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}
