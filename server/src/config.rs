//! Server settings, shared by the builder and the binary.

use std::net::SocketAddr;
use std::time::Duration;

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
}

/// Largest accepted REST body (1 MiB); larger ones get code 22 / HTTP 413.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How much of a too-large body is still read (and discarded) so the client, which is still
/// sending, gets the 413 instead of a reset connection. Larger bodies are cut off.
pub(crate) const DRAIN_BODY_BYTES: u64 = 32 * 1024 * 1024;
/// How long draining a too-large body may take.
pub(crate) const DRAIN_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Largest accepted WebSocket message.
pub(crate) const MAX_WS_MESSAGE_BYTES: usize = 1024 * 1024;
/// WebSocket read/write buffer size.
pub(crate) const WS_BUFFER_BYTES: usize = 4096;
/// Default of [`Config::max_queued_frames`].
pub(crate) const DEFAULT_MAX_QUEUED_FRAMES: usize = 1024;
/// Pending TCP connections the listener accepts before the kernel drops SYNs (capped by the
/// system's `somaxconn`). The usual 128 makes bursts of connects stall for a second.
pub(crate) const LISTEN_BACKLOG: u32 = 4096;
/// Upper bound of the health-check interval (larger values would overflow timer arithmetic).
pub(crate) const MAX_HEALTH_CHECK_INTERVAL: std::time::Duration =
    std::time::Duration::from_secs(365 * 24 * 3600);
/// How long [`crate::ServerHandle::freeze_connections`] waits for a socket's task to put a
/// freeze in force: longer than a stuck write may last before the socket is dropped.
pub(crate) const FREEZE_ACK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
