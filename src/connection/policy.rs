//! Stream's reconnect policy, apart from the I/O that follows it (`socket.rs`): the
//! back-off, which failures end a session and which ones earn a new token, and the wait
//! for the token of an attempt.

use std::sync::Arc;
use std::time::{Duration, Instant};

use stream_chat_callbacks::{ChatError, ErrorKind};
use stream_chat_protocol::codes;

use super::session::{AuthMode, Session};
use crate::token::{Interrupt, Token, TokenWaitError};

/// Stream's shortest reconnect delay; `max_reconnect_delay` is never below it.
pub(crate) const MIN_RECONNECT_DELAY: Duration = Duration::from_millis(250);

/// Auth failures (codes 5, 40–43) tolerated in a row before the error becomes terminal.
pub(crate) const MAX_AUTH_RETRIES: u32 = 3;

/// Attempts in a row that may end with a protocol fault ([`ErrorKind::Protocol`]: a
/// malformed or oversize frame, invalid UTF-8, a refused TLS certificate) before the
/// session gives up with it. A reconnect gets another chance (a middlebox may have
/// garbled one connection), but a peer that breaks the protocol every time would
/// otherwise be reconnected to forever.
pub(crate) const MAX_PROTOCOL_FAULTS: u32 = 3;

/// Stream's reconnect delay for the `n`-th consecutive failure: uniform in
/// `[min(max(250, (n-1)*2000), 25000), min(500 + n*2000, 25000))` ms, at most `cap`, and
/// never below 250 ms whatever `cap` says (no busy reconnect loop).
pub(crate) fn backoff(n: u32, cap: Duration) -> Duration {
    let n = u64::from(n);
    let lo = n.saturating_sub(1).saturating_mul(2000).clamp(250, 25_000);
    let hi = n.saturating_mul(2000).saturating_add(500).min(25_000);
    let ms = if hi > lo { fastrand::u64(lo..hi) } else { lo };
    Duration::from_millis(ms).min(cap).max(MIN_RECONNECT_DELAY)
}

/// How one attempt ended.
pub(super) enum Attempt {
    /// `Session::stop` was called.
    Stopped,
    /// The attempt never got to `Connected`.
    Failed(ChatError),
    /// It was connected, then the link broke.
    Lost(ChatError),
}

/// What to do after a failure.
pub(super) enum Verdict {
    /// Give up: the session ends with this error.
    Terminal,
    /// Load a new token, then retry.
    Refresh,
    /// Retry with back-off.
    Retry,
}

pub(super) fn classify(
    err: &ChatError,
    has_provider: bool,
    auth_failures: u32,
    protocol_faults: u32,
) -> Verdict {
    if err.kind() == ErrorKind::Protocol && protocol_faults >= MAX_PROTOCOL_FAULTS {
        return Verdict::Terminal;
    }
    match err.stream_code() {
        Some(code) if codes::is_terminal_for_socket(code) => Verdict::Terminal,
        Some(code) if codes::is_auth_error(code) => {
            if auth_failures >= MAX_AUTH_RETRIES {
                Verdict::Terminal
            } else if codes::should_refresh_token(code) {
                if has_provider {
                    Verdict::Refresh
                } else {
                    Verdict::Terminal
                }
            } else {
                Verdict::Retry
            }
        }
        // A provider that fails or hands out unusable tokens gets the same bounded retries.
        _ if is_token_error(err) && auth_failures >= MAX_AUTH_RETRIES => Verdict::Terminal,
        _ => Verdict::Retry,
    }
}

pub(super) fn is_token_error(err: &ChatError) -> bool {
    matches!(
        err.kind(),
        ErrorKind::EmptyToken
            | ErrorKind::InvalidToken
            | ErrorKind::TokenUserMismatch
            | ErrorKind::TokenProviderFailed
    )
}

pub(super) fn is_refreshable(err: &ChatError, session: &Session) -> bool {
    err.stream_code().is_some_and(codes::should_refresh_token) && session.has_provider()
}

pub(super) fn timeout_error(limit: Duration) -> ChatError {
    ChatError::new(
        ErrorKind::Timeout,
        format!("the connection was not established within {limit:?}"),
    )
}

/// The token for the next attempt: `Ok(None)` for anonymous users, `Err(None)` when
/// stopped, `Err(Some(e))` when no token can be had.
pub(super) fn load_token(
    session: &Arc<Session>,
    stale: Option<u64>,
    deadline: Instant,
) -> Result<Option<Token>, Option<ChatError>> {
    let AuthMode::Jwt(tokens) = &session.auth else {
        return Ok(None);
    };
    let stop = || session.is_halted();
    let result = match stale {
        Some(v) => tokens.refresh(v, &stop, Some(deadline)),
        None => tokens.get(&stop, Some(deadline)),
    };
    match result {
        Ok(token) => Ok(Some(token)),
        Err(TokenWaitError::Failed(e)) => Err(Some(e)),
        Err(TokenWaitError::Interrupted(Interrupt::Stopped)) => Err(None),
        Err(TokenWaitError::Interrupted(Interrupt::TimedOut)) => Err(Some(ChatError::new(
            ErrorKind::Timeout,
            "the TokenProvider did not return a token within the connect timeout",
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_follows_streams_formula() {
        let cap = Duration::from_secs(60);
        for _ in 0..200 {
            let ms = |n| backoff(n, cap).as_millis();
            assert!((250..500).contains(&ms(0)));
            assert!((250..2500).contains(&ms(1)));
            assert!((2000..4500).contains(&ms(2)));
            assert!((4000..6500).contains(&ms(3)));
            assert_eq!(ms(40), 25_000);
        }
        assert_eq!(
            backoff(5, Duration::from_millis(300)),
            Duration::from_millis(300)
        );
        // Never below Stream's floor, whatever the cap says: no busy reconnect loop.
        assert_eq!(backoff(5, Duration::ZERO), Duration::from_millis(250));
        assert_eq!(backoff(u32::MAX, Duration::MAX), Duration::from_secs(25));
    }

    #[test]
    fn terminal_and_auth_codes_are_classified() {
        let v = |code, provider, n| match classify(&ChatError::api(code, 401, "x"), provider, n, 0)
        {
            Verdict::Terminal => "terminal",
            Verdict::Refresh => "refresh",
            Verdict::Retry => "retry",
        };
        assert_eq!(v(2, true, 0), "terminal");
        assert_eq!(v(4, true, 0), "terminal");
        assert_eq!(v(40, true, 0), "refresh");
        assert_eq!(v(40, false, 0), "terminal");
        assert_eq!(v(43, true, 0), "retry");
        assert_eq!(v(43, true, MAX_AUTH_RETRIES), "terminal");
        assert_eq!(v(40, true, MAX_AUTH_RETRIES), "terminal");
        assert_eq!(v(-1, true, 99), "retry");
        let network = ChatError::new(ErrorKind::Network, "reset");
        assert!(matches!(classify(&network, false, 99, 0), Verdict::Retry));
        let provider = ChatError::new(ErrorKind::TokenProviderFailed, "backend down");
        assert!(matches!(classify(&provider, true, 0, 0), Verdict::Retry));
        assert!(matches!(
            classify(&provider, true, MAX_AUTH_RETRIES, 0),
            Verdict::Terminal
        ));
        // Protocol faults get a bounded number of reconnects; the count is theirs alone.
        let garbled = ChatError::new(ErrorKind::Protocol, "invalid UTF-8");
        assert!(matches!(classify(&garbled, true, 0, 1), Verdict::Retry));
        assert!(matches!(
            classify(&garbled, true, 0, MAX_PROTOCOL_FAULTS),
            Verdict::Terminal
        ));
        assert!(matches!(
            classify(&network, true, 0, MAX_PROTOCOL_FAULTS),
            Verdict::Retry
        ));
    }
}
