//! Settings, defaults and limits: the builder's settings ([`Config`]) and every number the
//! server enforces, in one place. The public defaults are re-exported by the crate root.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The development API key used when none is configured. Not a secret.
pub const DEFAULT_API_KEY: &str = "stream-local-key";
/// The development API secret used when none is configured. Only for local use.
pub const DEFAULT_API_SECRET: &str = "stream-local-secret-for-development-only";
/// The port the binary listens on by default (3030 is avoided: the JS client maps it to 8800 for WebSockets).
pub const DEFAULT_PORT: u16 = 3031;
/// The default interval of unsolicited `health.check` frames.
pub const DEFAULT_HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(30);
/// The close code used by [`crate::ServerHandle::kick_connections`] (clients reconnect after it).
pub const KICK_CLOSE_CODE: u16 = 1012;
/// The largest uploaded file by default: Stream's 100 MB ("The maximum file size is 100MB").
///
/// ```
/// assert_eq!(stream_chat_server::DEFAULT_MAX_UPLOAD_BYTES, 100 * 1024 * 1024);
/// ```
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;
/// The close code for a client that fell too far behind ("try again later"; clients reconnect
/// and recover their state). See [`crate::ServerBuilder::max_queued_frames`].
///
/// ```
/// // Not 1000: the JS client treats 1000 as final and would not reconnect.
/// assert_eq!(stream_chat_server::LAGGING_CLOSE_CODE, 1013);
/// ```
pub const LAGGING_CLOSE_CODE: u16 = 1013;

/// Settings the running server reads.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub api_key: String,
    pub api_secret: String,
    pub disable_auth_checks: bool,
    pub multi_tenant: bool,
    pub addr: SocketAddr,
    pub health_check_interval: Duration,
    /// Frames queued for one connection before it counts as too slow and is closed.
    pub max_queued_frames: usize,
    // Uploads, the server-side client and webhooks.
    /// Largest uploaded file, in bytes (code 22 / HTTP 413 beyond).
    pub max_upload_bytes: u64,
    /// Where uploaded files are kept; in memory when `None`.
    pub data_dir: Option<PathBuf>,
    /// Where every event is POSTed, signed; no webhooks when `None`.
    pub webhook_url: Option<String>,
    // Connections (issue 15).
    /// How long a client may take to send a request head (also the keep-alive wait).
    pub header_timeout: Duration,
    /// How long a client may take to send a request body.
    pub body_timeout: Duration,
    /// How long an HTTP connection may stay without a request in flight.
    pub idle_timeout: Duration,
    /// Open connections (HTTP and WebSocket) before the longest-idle one is shed; `None`:
    /// from the process's file-descriptor limit at start ([`default_max_connections`]).
    pub max_connections: Option<usize>,
    /// Per-user, per-endpoint rate limits (issue 15).
    pub rate_limits: crate::limits::RateLimits,
    /// Largest custom data of a user, channel or message, in bytes (issue 15).
    pub max_custom_data: usize,
    // Seed, snapshot and the dashboard (issue 13).
    /// A snapshot document loaded at start.
    pub import: Option<PathBuf>,
    /// Where the state is written when the server shuts down.
    pub export_on_exit: Option<PathBuf>,
    /// The dashboard answers every client, not only loopback ones.
    pub dashboard_public: bool,
}

impl Default for Config {
    /// The development defaults: [`DEFAULT_API_KEY`], [`DEFAULT_API_SECRET`], auth checks on,
    /// single-tenant, `127.0.0.1:0`, health checks every 30 s.
    fn default() -> Self {
        Config {
            api_key: DEFAULT_API_KEY.to_owned(),
            api_secret: DEFAULT_API_SECRET.to_owned(),
            disable_auth_checks: false,
            multi_tenant: false,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            health_check_interval: DEFAULT_HEALTH_CHECK_INTERVAL,
            max_queued_frames: DEFAULT_MAX_QUEUED_FRAMES,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            data_dir: None,
            webhook_url: None,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: None,
            rate_limits: crate::limits::RateLimits::stream(),
            max_custom_data: crate::limits::MAX_CUSTOM_DATA_BYTES,
            import: None,
            export_on_exit: None,
            dashboard_public: false,
        }
    }
}

// The server process.

/// Worker threads of the server's own tokio runtime.
pub(crate) const WORKER_THREADS: usize = 2;
/// Pending TCP connections the listener accepts before the kernel drops SYNs (capped by the
/// system's `somaxconn`). The usual 128 makes bursts of connects stall for a second.
pub(crate) const LISTEN_BACKLOG: u32 = 4096;
/// How long a shutdown waits for the listener to stop, then for the sockets to close.
pub(crate) const SHUTDOWN_STEP_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a shutdown waits for the runtime's remaining tasks.
pub(crate) const SHUTDOWN_RUNTIME_TIMEOUT: Duration = Duration::from_secs(1);

// HTTP.

/// Largest accepted REST body (1 MiB); larger ones get code 22 / HTTP 413.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How much of a too-large body is still read (and discarded) so the client, which is still
/// sending, gets the 413 instead of a reset connection. Larger bodies are cut off.
pub(crate) const DRAIN_BODY_BYTES: u64 = 32 * 1024 * 1024;
/// How long draining a too-large body may take.
pub(crate) const DRAIN_BODY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long CORS preflight answers may be cached (`Access-Control-Max-Age`).
pub(crate) const CORS_MAX_AGE: Duration = Duration::from_secs(86_400);

/// Default of [`Config::header_timeout`].
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of [`Config::body_timeout`].
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of [`Config::idle_timeout`].
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Lower bound of the HTTP timeouts.
pub(crate) const MIN_TIMEOUT: Duration = Duration::from_millis(1);
/// Upper bound of the connection cap when the descriptor limit allows more.
pub(crate) const MAX_CONNECTIONS_CEILING: usize = 100_000;
/// File descriptors kept free of connections: the listener, the runtime, stdio, logs.
pub(crate) const RESERVED_DESCRIPTORS: usize = 32;
/// How long the accept loop waits when out of descriptors with nothing to shed.
pub(crate) const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(50);
/// How long writing the 503 to a connection over the cap may take.
pub(crate) const REFUSE_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// The connection cap when none is configured: the soft `RLIMIT_NOFILE` (read from
/// `/proc/self/limits`) less [`RESERVED_DESCRIPTORS`] and an eighth of it, so accepting never
/// runs out of descriptors; [`MAX_CONNECTIONS_CEILING`] where the limit is unknown.
pub(crate) fn default_max_connections() -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).map(str::to_owned))
        })
        .and_then(|v| v.parse::<usize>().ok());
    match soft {
        Some(soft) => soft
            .saturating_sub(RESERVED_DESCRIPTORS + soft / 8)
            .clamp(1, MAX_CONNECTIONS_CEILING),
        None => MAX_CONNECTIONS_CEILING,
    }
}

// WebSocket.

/// Largest accepted WebSocket message.
pub(crate) const MAX_WS_MESSAGE_BYTES: usize = 1024 * 1024;
/// WebSocket read/write buffer size.
pub(crate) const WS_BUFFER_BYTES: usize = 4096;
/// Default of [`Config::max_queued_frames`].
pub(crate) const DEFAULT_MAX_QUEUED_FRAMES: usize = 1024;
/// Lower bound of the health-check interval.
pub(crate) const MIN_HEALTH_CHECK_INTERVAL: Duration = Duration::from_millis(1);
/// Upper bound of the health-check interval (larger values would overflow timer arithmetic).
pub(crate) const MAX_HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(365 * 24 * 3600);
/// How long a single frame write may take before the connection counts as dead.
pub(crate) const WS_WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long sending our close frame, and then waiting for the peer's, may take.
pub(crate) const WS_CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the close frame (1013) to a client that fell behind may take to be written: it
/// queues behind what fills the kernel's buffers, so it reaches a reader that stalled for
/// up to this long and then reads again (issue 15).
pub(crate) const LAGGING_CLOSE_TIMEOUT: Duration = Duration::from_secs(15);
/// How long [`crate::ServerHandle::freeze_connections`] waits for a socket's task to put a
/// freeze in force: longer than a stuck write ([`WS_WRITE_TIMEOUT`]) may last before the
/// socket is dropped.
pub(crate) const FREEZE_ACK_TIMEOUT: Duration = Duration::from_secs(15);

// The chat domain.

/// Longest message text, in characters (code 20 beyond).
pub(crate) const MAX_MESSAGE_LENGTH: usize = 5000;
/// Longest client-chosen message id, in bytes (code 4 beyond).
pub(crate) const MAX_MESSAGE_ID_BYTES: usize = 255;
/// Messages in a channel state unless `messages.limit` says otherwise.
pub(crate) const DEFAULT_MESSAGE_LIMIT: u32 = 100;
/// Messages per channel in query-channels results unless `message_limit` says otherwise.
pub(crate) const DEFAULT_QUERY_CHANNELS_MESSAGE_LIMIT: u32 = 25;
/// Largest page of messages.
pub(crate) const MAX_MESSAGE_LIMIT: u32 = 300;
/// Watchers listed in a channel state unless `watchers.limit` says otherwise.
pub(crate) const DEFAULT_WATCHER_LIMIT: u32 = 100;
/// Largest page of watchers.
pub(crate) const MAX_WATCHER_LIMIT: u32 = 300;
/// Channels in a query-channels page unless `limit` says otherwise.
pub(crate) const DEFAULT_CHANNEL_LIMIT: u32 = 10;
/// Largest page of channels.
pub(crate) const MAX_CHANNEL_LIMIT: u32 = 100;
/// Users in a query-users page unless `limit` says otherwise.
pub(crate) const DEFAULT_USER_LIMIT: u32 = 30;
/// Largest page of users.
pub(crate) const MAX_USER_LIMIT: u32 = 100;

// Reactions, threads, typing, pins, search (messages surface).

/// Reactions a message carries in `latest_reactions` (the newest; all of them through
/// `GET /messages/{id}/reactions`).
pub(crate) const LATEST_REACTIONS_LIMIT: usize = 10;
/// Reactions in a page unless `limit` says otherwise.
pub(crate) const DEFAULT_REACTION_LIMIT: u32 = 10;
/// Largest page of reactions.
pub(crate) const MAX_REACTION_LIMIT: u32 = 300;
/// Longest reaction type, in bytes (code 4 beyond).
pub(crate) const MAX_REACTION_TYPE_BYTES: usize = 255;
/// Replies in a page unless `limit` says otherwise.
pub(crate) const DEFAULT_REPLY_LIMIT: u32 = 100;
/// Threads in a query-threads page unless `limit` says otherwise.
pub(crate) const DEFAULT_THREAD_LIMIT: u32 = 10;
/// Largest page of threads.
pub(crate) const MAX_THREAD_LIMIT: u32 = 100;
/// Newest replies per thread unless `reply_limit` says otherwise.
pub(crate) const DEFAULT_THREAD_REPLY_LIMIT: u32 = 3;
/// Participants per thread in query threads unless `participant_limit` says otherwise.
pub(crate) const DEFAULT_THREAD_PARTICIPANT_LIMIT: u32 = 10;
/// Participants of the thread get-thread returns unless `participant_limit` says otherwise.
pub(crate) const DEFAULT_GET_THREAD_PARTICIPANT_LIMIT: u32 = 100;
/// Largest `reply_limit` and `participant_limit` of a thread.
pub(crate) const MAX_THREAD_ITEMS_LIMIT: u32 = 100;
/// Search results in a page unless `limit` says otherwise.
pub(crate) const DEFAULT_SEARCH_LIMIT: u32 = 100;
/// How far `offset` + `limit` reach into a search's results.
pub(crate) const MAX_SEARCH_RESULTS: u32 = 1000;
/// Channels one search looks at (more get a `results_warning`).
pub(crate) const MAX_SEARCH_CHANNELS: usize = 500;
/// Pinned messages in a page unless `limit` says otherwise.
pub(crate) const DEFAULT_PINNED_LIMIT: u32 = 30;
/// Largest page of pinned messages.
pub(crate) const MAX_PINNED_LIMIT: u32 = 300;
/// Pinned messages a channel state carries (the most recently pinned).
pub(crate) const CHANNEL_STATE_PINNED_LIMIT: usize = 10;
/// Largest custom event (its JSON, in bytes; code 22 beyond).
pub(crate) const MAX_CUSTOM_EVENT_BYTES: usize = 5 * 1024;
// Uploads, the server-side client and webhooks.

/// Multipart fields other than the file (`user`) may add this much to an upload's body.
pub(crate) const UPLOAD_FORM_OVERHEAD_BYTES: u64 = 64 * 1024;
/// Of an upload refused before its end (too large, not an image, not allowed), this much
/// more is still read and discarded so the client gets the answer rather than a reset.
pub(crate) const UPLOAD_DRAIN_BYTES: u64 = 256 * 1024 * 1024;
/// How long that draining may take.
pub(crate) const UPLOAD_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Uploaded bytes are stored in blocks of this size (one copy from the socket's buffers).
pub(crate) const UPLOAD_BLOCK_BYTES: usize = 256 * 1024;
/// Events waiting for webhook delivery; beyond, new events are counted and dropped.
pub(crate) const WEBHOOK_QUEUE_CAPACITY: usize = 10_000;
/// One webhook request, connect to status line (Stream's 6 s).
pub(crate) const WEBHOOK_REQUEST_TIMEOUT: Duration = Duration::from_secs(6);
/// One event's delivery with its retries (Stream's 15 s).
pub(crate) const WEBHOOK_DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);
/// The wait before the second attempt; doubled before each further one.
pub(crate) const WEBHOOK_FIRST_RETRY_DELAY: Duration = Duration::from_millis(250);
/// Attempts for a response of 408, 429 or 5xx, or a timed-out request.
pub(crate) const WEBHOOK_ATTEMPTS_ON_ERROR_STATUS: u32 = 3;
/// Attempts when the receiver cannot be reached.
pub(crate) const WEBHOOK_ATTEMPTS_ON_NETWORK_ERROR: u32 = 2;
/// Webhook events remembered to send each event once when it reaches several users.
pub(crate) const WEBHOOK_DEDUP_WINDOW: usize = 256;
