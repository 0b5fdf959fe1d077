use std::sync::Arc;
use std::time::Duration;

use crate::ChatError;

/// The longest wait a ready-made [`RetryPolicy`] accepts from a server's
/// [`retry_after`](ChatError::retry_after) (one minute: Stream's rate-limit windows are a
/// minute long, so a reset is never further away). When a server asks for longer, the
/// policy does not retry: the call fails with that error, whose `retry_after()` says when
/// to try again, so no call blocks for an unbounded time.
///
/// ```
/// use std::time::Duration;
/// use stream_chat_callbacks::{ChatError, FixedRetry, MAX_RETRY_AFTER, RetryPolicy};
/// let policy = FixedRetry { max_attempts: 3, delay: Duration::from_millis(100) };
/// let later = ChatError::api(9, 429, "Too many requests").with_retry_after(MAX_RETRY_AFTER * 2);
/// assert!(!policy.should_retry(1, &later));
/// ```
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Whether a server's requested wait (if any) is one a ready-made policy honours.
fn wait_is_acceptable(error: &ChatError) -> bool {
    error
        .retry_after()
        .is_none_or(|wait| wait <= MAX_RETRY_AFTER)
}

/// `own`, or the server's requested wait when that is longer (at most [`MAX_RETRY_AFTER`]).
fn at_least_requested(own: Duration, error: &ChatError) -> Duration {
    match error.retry_after() {
        Some(wait) => own.max(wait.min(MAX_RETRY_AFTER)),
        None => own,
    }
}

/// Decides whether [`Call::retry`](crate::Call::retry) runs the work again, and how long
/// it waits first (Kotlin's `RetryPolicy`, with a `Duration` instead of milliseconds).
/// A policy of your own should wait at least [`ChatError::retry_after`] when the server
/// sent one, as the ready-made ones do.
///
/// `attempt` counts retries: it is 1 after the first failure, 2 after the second, ...
///
/// ```
/// use std::time::Duration;
/// use stream_chat_callbacks::{ChatError, ErrorKind, RetryPolicy};
///
/// /// Retries rate limits (HTTP 429) up to 5 times, one second apart.
/// struct RateLimited;
/// impl RetryPolicy for RateLimited {
///     fn should_retry(&self, attempt: u32, error: &ChatError) -> bool {
///         attempt <= 5 && error.status_code() == Some(429)
///     }
///     fn delay(&self, _attempt: u32, _error: &ChatError) -> Duration {
///         Duration::from_secs(1)
///     }
/// }
/// assert!(RateLimited.should_retry(1, &ChatError::api(9, 429, "slow down")));
/// assert!(!RateLimited.should_retry(1, &ChatError::new(ErrorKind::Network, "reset")));
/// ```
pub trait RetryPolicy: Send + Sync {
    /// Whether to run the work again after its `attempt`-th failure (1-based).
    ///
    /// ```
    /// use stream_chat_callbacks::{ChatError, ErrorKind, FixedRetry, RetryPolicy};
    /// let policy = FixedRetry { max_attempts: 1, delay: std::time::Duration::ZERO };
    /// assert!(policy.should_retry(1, &ChatError::new(ErrorKind::Timeout, "slow")));
    /// ```
    fn should_retry(&self, attempt: u32, error: &ChatError) -> bool;
    /// How long to wait before retry number `attempt`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use stream_chat_callbacks::{ChatError, ErrorKind, ExponentialBackoff, RetryPolicy};
    /// let policy = ExponentialBackoff::default();
    /// assert_eq!(policy.delay(2, &ChatError::new(ErrorKind::Network, "reset")), Duration::from_millis(500));
    /// ```
    fn delay(&self, attempt: u32, error: &ChatError) -> Duration;
}

impl<P: RetryPolicy + ?Sized> RetryPolicy for Box<P> {
    fn should_retry(&self, attempt: u32, error: &ChatError) -> bool {
        (**self).should_retry(attempt, error)
    }
    fn delay(&self, attempt: u32, error: &ChatError) -> Duration {
        (**self).delay(attempt, error)
    }
}

impl<P: RetryPolicy + ?Sized> RetryPolicy for Arc<P> {
    fn should_retry(&self, attempt: u32, error: &ChatError) -> bool {
        (**self).should_retry(attempt, error)
    }
    fn delay(&self, attempt: u32, error: &ChatError) -> Duration {
        (**self).delay(attempt, error)
    }
}

/// Never retries (the Android SDK's default `NoRetryPolicy`).
///
/// ```
/// use stream_chat_callbacks::{ChatError, ErrorKind, NoRetry, RetryPolicy};
/// assert!(!NoRetry.should_retry(1, &ChatError::new(ErrorKind::Network, "reset")));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoRetry;

impl RetryPolicy for NoRetry {
    fn should_retry(&self, _attempt: u32, _error: &ChatError) -> bool {
        false
    }
    fn delay(&self, _attempt: u32, _error: &ChatError) -> Duration {
        Duration::ZERO
    }
}

/// Retries up to `max_attempts` times with the same `delay`, only errors for which
/// [`ChatError::is_retryable`] holds (network, timeout, HTTP 408/429/5xx, and server codes
/// classified [`Retryable`](crate::ErrorClass::Retryable)). When the server said how long
/// to wait ([`ChatError::retry_after`]: `Retry-After`, `X-RateLimit-Reset`), it waits that
/// long if it is longer than `delay`; a wait over [`MAX_RETRY_AFTER`] ends the retries.
///
/// ```
/// use std::time::Duration;
/// use stream_chat_callbacks::{ChatError, ErrorKind, FixedRetry, RetryPolicy};
/// let policy = FixedRetry { max_attempts: 2, delay: Duration::from_millis(100) };
/// let reset = ChatError::new(ErrorKind::Network, "reset");
/// assert!(policy.should_retry(2, &reset));
/// assert!(!policy.should_retry(3, &reset));
/// assert!(!policy.should_retry(1, &ChatError::api(17, 403, "not allowed")));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedRetry {
    /// How many retries at most (not counting the first run).
    pub max_attempts: u32,
    /// The wait before each retry.
    pub delay: Duration,
}

impl RetryPolicy for FixedRetry {
    fn should_retry(&self, attempt: u32, error: &ChatError) -> bool {
        attempt <= self.max_attempts && error.is_retryable() && wait_is_acceptable(error)
    }
    fn delay(&self, _attempt: u32, error: &ChatError) -> Duration {
        at_least_requested(self.delay, error)
    }
}

/// Retries up to `max_attempts` times, only [retryable](ChatError::is_retryable) errors,
/// waiting `initial_delay`, then twice as long each time, capped at `max_delay`. A
/// server's [`retry_after`](ChatError::retry_after) lengthens a wait (beyond `max_delay`
/// too, up to [`MAX_RETRY_AFTER`]); a longer one ends the retries.
///
/// ```
/// use std::time::Duration;
/// use stream_chat_callbacks::{ChatError, ErrorKind, ExponentialBackoff, RetryPolicy};
/// let policy = ExponentialBackoff::new(5, Duration::from_millis(100), Duration::from_millis(300));
/// let e = ChatError::new(ErrorKind::Timeout, "slow");
/// assert_eq!(policy.delay(1, &e), Duration::from_millis(100));
/// assert_eq!(policy.delay(2, &e), Duration::from_millis(200));
/// assert_eq!(policy.delay(3, &e), Duration::from_millis(300));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExponentialBackoff {
    /// How many retries at most (not counting the first run).
    pub max_attempts: u32,
    /// The wait before the first retry.
    pub initial_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
}

impl ExponentialBackoff {
    /// A backoff of at most `max_attempts` retries from `initial_delay` up to `max_delay`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = stream_chat_callbacks::ExponentialBackoff::new(3, Duration::from_millis(250), Duration::from_secs(5));
    /// assert_eq!(p.max_attempts, 3);
    /// ```
    pub fn new(max_attempts: u32, initial_delay: Duration, max_delay: Duration) -> Self {
        ExponentialBackoff {
            max_attempts,
            initial_delay,
            max_delay,
        }
    }
}

impl Default for ExponentialBackoff {
    /// 5 retries, from 250 ms up to 5 s.
    fn default() -> Self {
        ExponentialBackoff::new(5, Duration::from_millis(250), Duration::from_secs(5))
    }
}

impl RetryPolicy for ExponentialBackoff {
    fn should_retry(&self, attempt: u32, error: &ChatError) -> bool {
        attempt <= self.max_attempts && error.is_retryable() && wait_is_acceptable(error)
    }
    fn delay(&self, attempt: u32, error: &ChatError) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        let own = self
            .initial_delay
            .saturating_mul(factor)
            .min(self.max_delay);
        at_least_requested(own, error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn ready_made_policies_wait_at_least_what_the_server_asked() {
        let fixed = FixedRetry {
            max_attempts: 5,
            delay: Duration::from_millis(10),
        };
        let backoff =
            ExponentialBackoff::new(5, Duration::from_millis(10), Duration::from_millis(40));
        let limited =
            ChatError::api(9, 429, "Too many requests").with_retry_after(Duration::from_secs(5));
        for policy in [&fixed as &dyn RetryPolicy, &backoff] {
            assert!(policy.should_retry(1, &limited));
            assert_eq!(policy.delay(1, &limited), Duration::from_secs(5));
            assert_eq!(policy.delay(4, &limited), Duration::from_secs(5));
            // A shorter request does not shorten the policy's own wait.
            let soon = limited.clone().with_retry_after(Duration::from_millis(1));
            assert!(policy.delay(1, &soon) >= Duration::from_millis(10));
            // Longer than the cap: no retry, the caller gets the error and its wait.
            let later = limited
                .clone()
                .with_retry_after(MAX_RETRY_AFTER + Duration::from_secs(1));
            assert!(!policy.should_retry(1, &later));
            assert_eq!(policy.delay(1, &later), MAX_RETRY_AFTER);
            assert!(!policy.should_retry(1, &ChatError::new(ErrorKind::Protocol, "bad frame")));
        }
    }
}
