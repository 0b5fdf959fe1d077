use std::sync::Arc;
use std::time::Duration;

use crate::ChatError;

/// Decides whether [`Call::retry`](crate::Call::retry) runs the work again, and how long
/// it waits first (Kotlin's `RetryPolicy`, with a `Duration` instead of milliseconds).
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
/// classified [`Retryable`](crate::ErrorClass::Retryable)).
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
        attempt <= self.max_attempts && error.is_retryable()
    }
    fn delay(&self, _attempt: u32, _error: &ChatError) -> Duration {
        self.delay
    }
}

/// Retries up to `max_attempts` times, only [retryable](ChatError::is_retryable) errors,
/// waiting `initial_delay`, then twice as long each time, capped at `max_delay`.
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
        attempt <= self.max_attempts && error.is_retryable()
    }
    fn delay(&self, attempt: u32, _error: &ChatError) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_delay
            .saturating_mul(factor)
            .min(self.max_delay)
    }
}
