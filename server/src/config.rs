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
}

/// Largest accepted REST body (1 MiB); larger ones get code 22 / HTTP 413.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest accepted WebSocket message.
pub(crate) const MAX_WS_MESSAGE_BYTES: usize = 1024 * 1024;
/// WebSocket read/write buffer size.
pub(crate) const WS_BUFFER_BYTES: usize = 4096;
