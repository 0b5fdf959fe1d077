//! What one client may ask of the server: the user-id rule shared by `POST /users` and
//! token claims, the custom-data size of users, channels and messages, and the per-user
//! per-endpoint rate limits (issue 15). No axum here: the HTTP side is `routes/limits.rs`.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use stream_chat_protocol::{codes, time};

use crate::error::{ApiError, ApiResult};

/// Longest user id, in bytes (code 4 beyond).
pub(crate) const MAX_USER_ID_BYTES: usize = 255;

/// Why `id` is not a valid user id, if it is not: the one rule for `POST /users`, members
/// and the `user_id` claim of tokens (REST and WebSocket). A long id is not echoed back.
pub(crate) fn user_id_problem(id: &str) -> Option<String> {
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '*';
    if id.is_empty() || id.len() > MAX_USER_ID_BYTES {
        return Some(format!(
            "user id is not valid: it has {} bytes, use 1 to {MAX_USER_ID_BYTES}",
            id.len()
        ));
    }
    if id.chars().any(bad_char) {
        return Some(format!(
            "user id '{}' is not valid: use 1 to {MAX_USER_ID_BYTES} characters without spaces, control characters or '*'",
            id.escape_debug()
        ));
    }
    None
}

/// Stream's limit on an object's custom data (users, channels, messages): 5 KB, counted
/// as the bytes of its custom fields serialized as JSON.
pub(crate) const MAX_CUSTOM_DATA_BYTES: usize = 5 * 1024;

/// Code 22 (HTTP 413) when `custom`, the custom data `what` (a user, a channel, a message)
/// would hold after this write, is over `max` bytes ([`MAX_CUSTOM_DATA_BYTES`] unless
/// configured). Checked before anything
/// is written, so one token cannot grow the server's memory 1 MB per object.
pub(crate) fn check_custom_data(
    op: &str,
    what: &str,
    custom: &Map<String, Value>,
    max: usize,
) -> ApiResult<()> {
    if custom.is_empty() {
        return Ok(());
    }
    let size = serde_json::to_vec(custom).map_or(usize::MAX, |v| v.len());
    if size > max {
        return Err(ApiError::op(
            op,
            codes::PAYLOAD_TOO_BIG,
            format!("{what} custom data is {size} bytes, more than the {max} bytes allowed"),
        ));
    }
    Ok(())
}

/// [`check_custom_data`] for `base` with `set` written over it and `unset` removed.
pub(crate) fn check_merged_custom_data<'a>(
    op: &str,
    what: &str,
    base: &Map<String, Value>,
    set: impl IntoIterator<Item = (&'a String, &'a Value)>,
    unset: &[String],
    max: usize,
) -> ApiResult<()> {
    let mut merged = base.clone();
    merged.extend(set.into_iter().map(|(k, v)| (k.clone(), v.clone())));
    unset.iter().for_each(|k| {
        merged.remove(k);
    });
    check_custom_data(op, what, &merged, max)
}

/// Per-user, per-endpoint rate limits, like Stream's (see [`crate::ServerBuilder::rate_limits`]).
///
/// Each (caller, endpoint) pair has a fixed window of [`RateLimits::window`] (a minute by
/// default) starting at its first request; within it a user may make
/// [`RateLimits::per_user`] requests (Stream: 60 per endpoint), server-side and anonymous
/// calls the app-wide number of the endpoint's tier (Stream's defaults: 10,000, 1,000, 300
/// or 60 per minute). Every limited answer carries `X-RateLimit-Limit`, `-Remaining` and
/// `-Reset` (the Unix time in seconds at which the window ends); one over the limit is
/// answered 429 with code 9 (and `Retry-After`).
///
/// ```
/// use std::time::Duration;
/// use stream_chat_server::RateLimits;
///
/// assert!(RateLimits::off().is_off());
/// let stream = RateLimits::stream();
/// assert_eq!((stream.per_user(), stream.window()), (60, Duration::from_secs(60)));
/// let tight = RateLimits::stream().with_per_user(5).with_window(Duration::from_secs(10));
/// assert_eq!(tight.per_user(), 5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    on: bool,
    per_user: u32,
    window: Duration,
}

impl RateLimits {
    /// Stream's limits: 60 requests per minute per user and endpoint; the app-wide tiers
    /// for server-side and anonymous calls.
    pub fn stream() -> RateLimits {
        RateLimits {
            on: true,
            per_user: 60,
            window: Duration::from_secs(60),
        }
    }

    /// No limits and no `X-RateLimit-*` headers (load tests, benchmarks).
    pub fn off() -> RateLimits {
        RateLimits {
            on: false,
            ..RateLimits::stream()
        }
    }

    /// These limits with `n` requests per window for each user and endpoint (at least 1).
    pub fn with_per_user(self, n: u32) -> RateLimits {
        RateLimits {
            per_user: n.max(1),
            ..self
        }
    }

    /// These limits with another window (at least 1 ms, at most a day).
    pub fn with_window(self, window: Duration) -> RateLimits {
        RateLimits {
            window: window.clamp(Duration::from_millis(1), Duration::from_secs(86_400)),
            ..self
        }
    }

    /// Whether limits are off.
    pub fn is_off(&self) -> bool {
        !self.on
    }

    /// Requests per window for each user and endpoint.
    pub fn per_user(&self) -> u32 {
        self.per_user
    }

    /// The length of a window.
    pub fn window(&self) -> Duration {
        self.window
    }
}

impl Default for RateLimits {
    /// [`RateLimits::stream`].
    fn default() -> Self {
        RateLimits::stream()
    }
}

/// Stream's app-wide limit per minute of an endpoint (`METHOD /route/{template}`), from
/// its documented tiers; 1,000 for the ones it does not list.
pub(crate) fn app_limit(endpoint: &str) -> u32 {
    let (method, path) = endpoint.split_once(' ').unwrap_or(("GET", endpoint));
    match (method, path) {
        ("POST", "/channels" | "/channels/read")
        | ("POST", "/channels/{type}/query")
        | ("POST", "/channels/{type}/{id}/query")
        | ("POST", "/channels/{type}/{id}/read")
        | ("POST", "/channels/{type}/{id}/event") => 10_000,
        ("POST", "/channels/{type}/{id}/truncate")
        | ("DELETE", "/channels/{type}/{id}")
        | ("PATCH", "/app")
        | ("DELETE", "/users/{id}") => 60,
        (_, p) if p.starts_with("/moderation/") => 300,
        ("POST", "/channels/{type}/{id}")
        | ("PATCH", "/channels/{type}/{id}")
        | ("POST", "/channels/{type}/{id}/hide")
        | ("POST", "/channels/{type}/{id}/show")
        | ("GET", "/members")
        | ("GET", "/search")
        | ("POST" | "PATCH", "/users")
        | ("POST", "/devices") => 300,
        _ => 1_000,
    }
}

/// Who is counted: a user's own counters, or the app-wide ones.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Counted {
    User(String),
    App,
}

/// The outcome of one request against its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Quota {
    pub limit: u32,
    pub remaining: u32,
    /// When the window ends, in Unix seconds.
    pub reset: i64,
    /// Over the limit: how long until the window ends.
    pub exceeded: Option<Duration>,
}

/// The counters. Memory: one entry per (caller, endpoint) with a request in the current
/// window; expired entries are swept once the table doubles, so one token flooding one
/// endpoint holds one entry.
pub(crate) struct RateLimiter {
    limits: RateLimits,
    windows: Mutex<Windows>,
}

struct Windows {
    map: HashMap<(Counted, String), Window>,
    /// Sweep expired windows when the map reaches this size.
    sweep_at: usize,
}

struct Window {
    start: Instant,
    count: u32,
}

/// Entries kept before the first sweep.
const SWEEP_MIN: usize = 1024;

impl RateLimiter {
    pub(crate) fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter {
            limits,
            windows: Mutex::new(Windows {
                map: HashMap::new(),
                sweep_at: SWEEP_MIN,
            }),
        }
    }

    pub(crate) fn is_off(&self) -> bool {
        self.limits.is_off()
    }

    /// Counts one request of `who` on `endpoint` at `now`.
    pub(crate) fn hit(&self, who: Counted, endpoint: &str, now: Instant) -> Quota {
        let limit = match who {
            Counted::User(_) => self.limits.per_user,
            Counted::App => app_limit(endpoint),
        };
        let window = self.limits.window;
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if windows.map.len() >= windows.sweep_at {
            windows
                .map
                .retain(|_, w| now.duration_since(w.start) < window);
            windows.sweep_at = (windows.map.len() * 2).max(SWEEP_MIN);
        }
        let entry = windows
            .map
            .entry((who, endpoint.to_owned()))
            .or_insert(Window {
                start: now,
                count: 0,
            });
        if now.duration_since(entry.start) >= window {
            *entry = Window {
                start: now,
                count: 0,
            };
        }
        let ends = entry.start + window;
        let left = ends.saturating_duration_since(now);
        let reset = time::now_secs().saturating_add(left.as_secs_f64().ceil() as i64);
        if entry.count >= limit {
            return Quota {
                limit,
                remaining: 0,
                reset,
                exceeded: Some(left),
            };
        }
        entry.count += 1;
        Quota {
            limit,
            remaining: limit - entry.count,
            reset,
            exceeded: None,
        }
    }

    /// How many (caller, endpoint) windows are held (for the memory test).
    #[cfg(test)]
    fn held(&self) -> usize {
        self.windows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_its_limit_then_refuses_until_it_ends() {
        let limiter = RateLimiter::new(
            RateLimits::stream()
                .with_per_user(3)
                .with_window(Duration::from_secs(60)),
        );
        let t0 = Instant::now();
        let alice = || Counted::User("alice".into());
        let quotas: Vec<Quota> = (0..4)
            .map(|_| limiter.hit(alice(), "POST /x", t0))
            .collect();
        assert_eq!(
            quotas.iter().map(|q| q.remaining).collect::<Vec<_>>(),
            [2, 1, 0, 0]
        );
        assert_eq!(quotas[3].exceeded, Some(Duration::from_secs(60)));
        assert!(
            quotas[..3]
                .iter()
                .all(|q| q.exceeded.is_none() && q.limit == 3)
        );
        // Another endpoint and another user have their own windows.
        assert_eq!(limiter.hit(alice(), "POST /y", t0).remaining, 2);
        assert_eq!(
            limiter
                .hit(Counted::User("bob".into()), "POST /x", t0)
                .remaining,
            2
        );
        // The window ends a minute after its first request.
        let later = t0 + Duration::from_secs(60);
        assert_eq!(limiter.hit(alice(), "POST /x", later).remaining, 2);
        // Server-side calls count against the endpoint's app-wide tier.
        let app = limiter.hit(Counted::App, "POST /channels/{type}/{id}/message", t0);
        assert_eq!(app.limit, 1_000);
    }

    #[test]
    fn expired_windows_are_swept_so_the_table_stays_bounded() {
        let limiter = RateLimiter::new(RateLimits::stream().with_window(Duration::from_secs(1)));
        let t0 = Instant::now();
        for round in 0..10u64 {
            let now = t0 + Duration::from_secs(2 * round);
            for user in 0..1000 {
                limiter.hit(Counted::User(format!("u{user}")), "POST /x", now);
            }
        }
        assert!(limiter.held() <= 2 * SWEEP_MIN, "{}", limiter.held());
    }

    #[test]
    fn stream_tiers() {
        assert_eq!(app_limit("POST /channels"), 10_000);
        assert_eq!(app_limit("POST /moderation/ban"), 300);
        assert_eq!(app_limit("POST /channels/{type}/{id}/truncate"), 60);
        assert_eq!(app_limit("GET /messages/{id}"), 1_000);
    }
}
