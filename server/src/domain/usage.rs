//! Usage and the server's counters: monthly active users, open connections, refused
//! connects, slow-consumer disconnects; and waiting until they satisfy a condition, woken by
//! each change (the `Signal` of [`Chat`]), never by polling.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use stream_chat_protocol::time;

use super::caller::Actor;
use super::{Chat, World};
use crate::error::{ApiError, ApiResult};

/// Usage figures, as `GET /emulator/usage` reports them.
///
/// ```
/// let u = stream_chat_server::Usage { monthly_active_users: 2, concurrent_connections: 3 };
/// assert_eq!(serde_json::to_value(u).unwrap()["concurrent_connections"], 3);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Distinct regular and guest users who connected this calendar month (UTC).
    pub monthly_active_users: u64,
    /// Open WebSocket connections, anonymous ones included.
    pub concurrent_connections: u64,
}

/// The server's counters at one moment, as [`crate::ServerHandle::wait_for`] hands them to
/// its condition.
///
/// ```
/// let counters = stream_chat_server::Counters::default();
/// assert_eq!(counters.usage.concurrent_connections, 0);
/// assert_eq!(counters.refused_connections("alice"), 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Monthly active users and open connections ([`crate::ServerHandle::usage`]).
    pub usage: Usage,
    /// Connections closed because their client fell too far behind
    /// ([`crate::ServerHandle::slow_consumer_disconnects`]).
    pub slow_consumer_disconnects: u64,
    /// Refused `/connect` attempts per user ([`crate::ServerHandle::refused_connections`]).
    refused: HashMap<String, u64>,
    /// Open connections per user (`!anon` for anonymous ones).
    connections: HashMap<String, u64>,
}

impl Counters {
    /// How many `/connect` attempts of `user_id` were refused so far.
    ///
    /// ```
    /// assert_eq!(stream_chat_server::Counters::default().refused_connections("bob"), 0);
    /// ```
    pub fn refused_connections(&self, user_id: &str) -> u64 {
        self.refused.get(user_id).copied().unwrap_or(0)
    }

    /// How many WebSocket connections of `user_id` (`"!anon"` for anonymous ones) are open.
    ///
    /// ```
    /// assert_eq!(stream_chat_server::Counters::default().connections_of("bob"), 0);
    /// ```
    pub fn connections_of(&self, user_id: &str) -> u64 {
        self.connections.get(user_id).copied().unwrap_or(0)
    }
}

impl Chat {
    /// Usage now.
    pub(crate) fn usage(&self) -> Usage {
        self.lock().usage()
    }

    /// `GET /emulator/usage`: usage and slow-consumer disconnects, for server tokens only.
    pub(crate) fn usage_report(&self, op: &str, actor: Actor) -> ApiResult<(Usage, u64)> {
        if actor != Actor::Server {
            return Err(ApiError::forbidden(
                op,
                "usage is only available with a server token",
            ));
        }
        let world = self.lock();
        Ok((world.usage(), world.conns.slow_consumer_disconnects()))
    }

    /// Connections closed so far because their outgoing queue overflowed.
    pub(crate) fn slow_consumer_disconnects(&self) -> u64 {
        self.lock().conns.slow_consumer_disconnects()
    }

    /// Every counter, read at one moment.
    pub(crate) fn counters(&self) -> Counters {
        let world = self.lock();
        let mut connections = HashMap::new();
        for (_, conn) in world.conns.iter() {
            *connections.entry(conn.user_id.clone()).or_default() += 1;
        }
        Counters {
            usage: world.usage(),
            slow_consumer_disconnects: world.conns.slow_consumer_disconnects(),
            refused: world.conns.refused_connects().clone(),
            connections,
        }
    }

    /// Blocks until `condition` holds for the counters (checked again after each change) or
    /// `timeout` passes: the counters that satisfied it, or the last ones seen.
    pub(crate) fn wait_for(
        &self,
        timeout: Duration,
        mut condition: impl FnMut(&Counters) -> bool,
    ) -> Result<Counters, Counters> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.counters_changed.generation();
            let counters = self.counters();
            if condition(&counters) {
                return Ok(counters);
            }
            if Instant::now() >= deadline || !self.counters_changed.wait_past(seen, deadline) {
                return Err(counters);
            }
        }
    }
}

impl World {
    pub(crate) fn usage(&self) -> Usage {
        let month = month(time::now_nanos());
        let monthly_active_users = self.store.active_users(&month).unwrap_or_else(|e| {
            tracing::error!(error = %e.0, "cannot count the monthly active users");
            0
        });
        Usage {
            monthly_active_users,
            concurrent_connections: self.conns.len() as u64,
        }
    }
}

/// The calendar month (`YYYY-MM`, UTC) of a Unix time in nanoseconds: usage is counted
/// per month.
pub(crate) fn month(nanos: i128) -> String {
    time::format_rfc3339(nanos)[..7].to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn usage_is_counted_per_utc_month() {
        assert_eq!(super::month(1_604_342_161_000_000_000), "2020-11");
        assert_eq!(super::month(0), "1970-01");
    }
}
