//! [`Timeouts`]: every time limit of a client in one value, and the rules it must keep.

use std::time::Duration;

use stream_chat_callbacks::{ChatError, ErrorKind};

use crate::connection::MIN_RECONNECT_DELAY;

/// Durations above this are capped to it: about 30 days, which is "no limit" in practice
/// and keeps every deadline computable.
const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Every time limit of a client in one value: set them together with
/// [`ChatClientBuilder::timeouts`] (or one by one with the builder's setters of the same
/// names, which document each), read them back with [`ChatClient::timeouts`].
///
/// [`ChatClientBuilder::timeouts`]: crate::ChatClientBuilder::timeouts
/// [`ChatClient::timeouts`]: crate::ChatClient::timeouts
///
/// ```
/// use std::time::Duration;
/// use stream_chat_client::{ChatClient, Timeouts};
///
/// let mut timeouts = Timeouts::default();
/// assert_eq!(timeouts.connect_timeout, Duration::from_secs(15));
/// timeouts.connect_timeout = Duration::from_secs(5);
/// timeouts.request_timeout = Duration::MAX; // "no limit": capped to 30 days
/// let client = ChatClient::builder("key").timeouts(timeouts).build().unwrap();
/// assert_eq!(client.timeouts().connect_timeout, Duration::from_secs(5));
/// assert_eq!(client.timeouts().request_timeout, Duration::from_secs(30 * 24 * 3600));
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// The limit of a connect, from its call's start (default 15 s); see
    /// [`ChatClientBuilder::connect_timeout`](crate::ChatClientBuilder::connect_timeout).
    pub connect_timeout: Duration,
    /// The limit of each REST call as a whole (default 30 s); see
    /// [`ChatClientBuilder::request_timeout`](crate::ChatClientBuilder::request_timeout).
    pub request_timeout: Duration,
    /// How often the client pings the server while connected (default 10 s).
    pub health_check_interval: Duration,
    /// Silence after which a connection is dead (default 30 s); above
    /// `health_check_interval`.
    pub dead_connection_timeout: Duration,
    /// The longest wait between reconnect attempts (default 25 s, at least 250 ms).
    pub max_reconnect_delay: Duration,
    /// How long calls that need the connection id wait for the socket (default 10 s); see
    /// [`ChatClientBuilder::wait_for_connection_timeout`].
    ///
    /// [`ChatClientBuilder::wait_for_connection_timeout`]: crate::ChatClientBuilder::wait_for_connection_timeout
    pub wait_for_connection_timeout: Duration,
}

impl Default for Timeouts {
    /// Stream's defaults: 15 s, 30 s, 10 s, 30 s, 25 s and 10 s.
    ///
    /// ```
    /// let t = stream_chat_client::Timeouts::default();
    /// assert!(t.dead_connection_timeout > t.health_check_interval);
    /// ```
    fn default() -> Self {
        Timeouts {
            connect_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(30),
            health_check_interval: Duration::from_secs(10),
            dead_connection_timeout: Duration::from_secs(30),
            max_reconnect_delay: Duration::from_secs(25),
            wait_for_connection_timeout: Duration::from_secs(10),
        }
    }
}

impl Timeouts {
    /// The values a client runs with: each above zero (but `max_reconnect_delay`, which
    /// is raised to Stream's 250 ms floor), at most 30 days, and a dead connection
    /// detected later than a ping is due.
    pub(super) fn validated(self) -> Result<Timeouts, ChatError> {
        let mut durations = [
            ("connect_timeout", self.connect_timeout),
            ("request_timeout", self.request_timeout),
            ("health_check_interval", self.health_check_interval),
            ("dead_connection_timeout", self.dead_connection_timeout),
            ("max_reconnect_delay", self.max_reconnect_delay),
            (
                "wait_for_connection_timeout",
                self.wait_for_connection_timeout,
            ),
        ];
        for (name, d) in &mut durations {
            if d.is_zero() && *name != "max_reconnect_delay" {
                return Err(invalid(format!("{name} must be above zero")));
            }
            *d = (*d).min(MAX_DURATION);
        }
        let [
            (_, connect_timeout),
            (_, request_timeout),
            (_, health_check_interval),
            (_, dead_connection_timeout),
            (_, max_reconnect_delay),
            (_, wait_for_connection_timeout),
        ] = durations;
        if dead_connection_timeout <= health_check_interval {
            return Err(invalid(format!(
                "dead_connection_timeout ({dead_connection_timeout:?}) must be above \
                 health_check_interval ({health_check_interval:?}), or every healthy \
                 connection is declared dead"
            )));
        }
        Ok(Timeouts {
            connect_timeout,
            request_timeout,
            health_check_interval,
            dead_connection_timeout,
            max_reconnect_delay: max_reconnect_delay.max(MIN_RECONNECT_DELAY),
            wait_for_connection_timeout,
        })
    }
}

/// A refused setting.
pub(super) fn invalid(message: String) -> ChatError {
    ChatError::new(ErrorKind::InvalidArgument, message)
}
