//! The WebSocket: one thread per session owns the tungstenite socket, keeps it alive
//! with pings, declares it dead after a silent spell, and reconnects with Stream's
//! back-off. `Session::stop` wakes it at once by shutting down the TCP stream. What
//! happens on the link goes to whoever implements [`Reports`] (the hub): the socket
//! knows nothing above its session.

use std::io;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use stream_chat_callbacks::{ChatError, ErrorKind, MAX_RETRY_AFTER, deadline_after};
use stream_chat_protocol::events::{AnyEvent, HealthCheckEvent};
use stream_chat_protocol::{User, codes};
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use url::Url;

use super::dial::{Ws, connect_url, dial, handshake, set_timeouts, ws_error};
use super::session::{AuthMode, Session};
use crate::api_error::{api_error, is_dev_token};
use crate::events::{ChatEvent, from_server};
use crate::rest::new_request_id;
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

/// Connection settings fixed when the client is built.
#[derive(Clone)]
pub(crate) struct SocketConfig {
    pub(crate) ws_base: Url,
    pub(crate) api_key: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) health_check_interval: Duration,
    pub(crate) dead_connection_timeout: Duration,
    pub(crate) max_reconnect_delay: Duration,
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
}

/// What a connection thread reports about its session's link. Reports of a session that
/// is no longer current change nothing.
pub(crate) trait Reports: Send + Sync {
    /// The server confirmed the connection (its first `health.check`, with `me`, the user
    /// as it sees it). False when the session is no longer current: the thread then
    /// closes the socket and ends.
    fn connected(&self, session: &Arc<Session>, connection_id: &str, me: Option<User>) -> bool;
    /// A server event on a confirmed connection.
    fn event(&self, session: &Arc<Session>, event: ChatEvent);
    /// The connection is confirmed and its first health check reported; `reconnect`: it
    /// replaces a lost one. Sent before the next frame is read.
    fn ready(&self, session: &Arc<Session>, connection_id: &str, reconnect: bool);
    /// A confirmed connection broke; the thread reconnects.
    fn lost(&self, session: &Arc<Session>, error: ChatError);
    /// The thread starts another attempt after a lost connection.
    fn reconnecting(&self, session: &Arc<Session>);
    /// The session ends with a terminal error; the thread ends.
    fn failed(&self, session: &Arc<Session>, error: ChatError);
}

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
enum Attempt {
    /// `Session::stop` was called.
    Stopped,
    /// The attempt never got to `Connected`.
    Failed(ChatError),
    /// It was connected, then the link broke.
    Lost(ChatError),
}

/// What to do after a failure.
enum Verdict {
    /// Give up: the session ends with this error.
    Terminal,
    /// Load a new token, then retry.
    Refresh,
    /// Retry with back-off.
    Retry,
}

fn classify(
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

fn is_token_error(err: &ChatError) -> bool {
    matches!(
        err.kind(),
        ErrorKind::EmptyToken
            | ErrorKind::InvalidToken
            | ErrorKind::TokenUserMismatch
            | ErrorKind::TokenProviderFailed
    )
}

/// The body of a connection thread: connects `session` and keeps it connected until it
/// is stopped, paused or fails for good, telling `hub` what happens.
pub(crate) fn run(hub: &dyn Reports, cfg: &SocketConfig, session: &Arc<Session>) {
    log::debug!("connection thread of '{}' starts", session.user_id);
    // The first connect's deadline counts from its call's start, not from here.
    let initial_deadline = session.connect_deadline();
    let mut failures: u32 = 0;
    let mut auth_failures: u32 = 0;
    // Attempts in a row that ended with a protocol fault, this one included.
    let mut protocol_faults: u32 = 0;
    let mut stale_token: Option<u64> = None;
    loop {
        if session.is_halted() {
            break;
        }
        let was_connected = session.ever_connected();
        let deadline = if was_connected {
            deadline_after(Instant::now(), cfg.connect_timeout)
        } else {
            initial_deadline
        };
        let outcome = match load_token(session, stale_token, deadline) {
            Ok(token) => {
                stale_token = None;
                let outcome = attempt(hub, session, cfg, token.as_ref(), deadline);
                (outcome, token.map(|t| t.version))
            }
            Err(None) => break,
            Err(Some(err)) => (Attempt::Failed(err), None),
        };
        let (outcome, used_version) = outcome;
        let err = match outcome {
            Attempt::Stopped => break,
            Attempt::Lost(err) => {
                log::info!("connection of '{}' lost: {err}", session.user_id);
                failures = 0;
                auth_failures = 0;
                hub.lost(session, err.clone());
                err
            }
            Attempt::Failed(err) => {
                log::info!("connecting '{}' failed: {err}", session.user_id);
                failures = failures.saturating_add(1);
                err
            }
        };
        let is_auth = err.is_auth_error() || is_token_error(&err);
        protocol_faults = if err.kind() == ErrorKind::Protocol {
            protocol_faults.saturating_add(1)
        } else {
            0
        };
        let verdict = if !session.ever_connected() && !is_refreshable(&err, session) {
            // The first connect reports its failure instead of retrying (code 40 with a
            // provider is the exception: the token is reloaded within the connect timeout).
            Verdict::Terminal
        } else {
            classify(&err, session.has_provider(), auth_failures, protocol_faults)
        };
        if is_auth {
            auth_failures = auth_failures.saturating_add(1);
        }
        let delay = match verdict {
            Verdict::Terminal => {
                hub.failed(session, err);
                break;
            }
            // A new token is the change that can make the next attempt work: no wait.
            Verdict::Refresh => {
                stale_token = used_version;
                Duration::ZERO
            }
            // A server that said how long to wait (429/503 with `Retry-After`) is not
            // asked again sooner (up to the cap the retry policies use).
            Verdict::Retry => backoff(failures, cfg.max_reconnect_delay).max(
                err.retry_after()
                    .map_or(Duration::ZERO, |w| w.min(MAX_RETRY_AFTER)),
            ),
        };
        if !session.ever_connected() && Instant::now() >= initial_deadline {
            hub.failed(session, timeout_error(cfg.connect_timeout));
            break;
        }
        let delay = if session.ever_connected() {
            delay
        } else {
            delay.min(initial_deadline.saturating_duration_since(Instant::now()))
        };
        log::debug!("'{}' retries in {delay:?}", session.user_id);
        if !session.sleep(delay) {
            break;
        }
        if session.ever_connected() {
            hub.reconnecting(session);
        }
    }
    log::debug!("connection thread of '{}' ends", session.user_id);
}

fn is_refreshable(err: &ChatError, session: &Session) -> bool {
    err.stream_code().is_some_and(codes::should_refresh_token) && session.has_provider()
}

fn timeout_error(limit: Duration) -> ChatError {
    ChatError::new(
        ErrorKind::Timeout,
        format!("the connection was not established within {limit:?}"),
    )
}

/// The token for the next attempt: `Ok(None)` for anonymous users, `Err(None)` when
/// stopped, `Err(Some(e))` when no token can be had.
fn load_token(
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

/// One connection attempt; when it connects, it also runs the read loop until the link
/// breaks or the session stops.
fn attempt(
    hub: &dyn Reports,
    session: &Arc<Session>,
    cfg: &SocketConfig,
    token: Option<&Token>,
    deadline: Instant,
) -> Attempt {
    let url = match connect_url(&cfg.ws_base, &cfg.api_key, session, token) {
        Ok(url) => url,
        Err(e) => return Attempt::Failed(e),
    };
    let tcp = match dial(&url, deadline, session) {
        Ok(tcp) => tcp,
        Err(None) => return Attempt::Stopped,
        Err(Some(e)) => return Attempt::Failed(e),
    };
    let Ok(control) = tcp.try_clone() else {
        return Attempt::Failed(ChatError::new(
            ErrorKind::Network,
            "cannot clone the TCP stream",
        ));
    };
    match control.try_clone() {
        Ok(clone) => {
            if !session.set_stream(Some(clone)) {
                return Attempt::Stopped;
            }
        }
        Err(e) => {
            return Attempt::Failed(
                ChatError::new(ErrorKind::Network, "cannot clone the TCP stream").with_source(e),
            );
        }
    }
    let dev_token = is_dev_token(token.map(|t| t.value.as_str()));
    let result = match handshake(url, tcp, &control, cfg.tls.as_ref(), deadline, dev_token) {
        Ok(mut ws) => read_loop(hub, session, cfg, &mut ws, &control, deadline, dev_token),
        Err(_) if session.is_halted() => Attempt::Stopped,
        Err(e) => Attempt::Failed(e),
    };
    session.set_stream(None);
    let _ = control.shutdown(std::net::Shutdown::Both);
    result
}

fn read_loop(
    hub: &dyn Reports,
    session: &Arc<Session>,
    cfg: &SocketConfig,
    ws: &mut Ws,
    control: &TcpStream,
    connect_deadline: Instant,
    dev_token: bool,
) -> Attempt {
    let client_id = format!("{}--{}", session.user_id, new_request_id());
    let write_timeout = cfg.health_check_interval.min(Duration::from_secs(5));
    let mut connected = false;
    let mut last_frame = Instant::now();
    let mut next_ping = deadline_after(last_frame, cfg.health_check_interval);
    let ended = |connected: bool, err: ChatError| {
        if connected {
            Attempt::Lost(err)
        } else {
            Attempt::Failed(err)
        }
    };
    loop {
        if session.is_halted() {
            close_politely(ws, control);
            return Attempt::Stopped;
        }
        let now = Instant::now();
        let wake_at = if connected {
            let dead_at = deadline_after(last_frame, cfg.dead_connection_timeout);
            if now >= dead_at {
                let err = ChatError::new(
                    ErrorKind::Timeout,
                    format!(
                        "no frame from the server for {:?}",
                        cfg.dead_connection_timeout
                    ),
                );
                return Attempt::Lost(err);
            }
            if now >= next_ping {
                let ping = serde_json::to_string(&[HealthCheckEvent::ping(client_id.as_str())])
                    .unwrap_or_default();
                if let Err(e) = ws.send(Message::text(ping)) {
                    return Attempt::Lost(ws_error("sending a health check failed", e));
                }
                next_ping = deadline_after(now, cfg.health_check_interval);
                continue;
            }
            dead_at.min(next_ping)
        } else {
            if now >= connect_deadline {
                return Attempt::Failed(ChatError::new(
                    ErrorKind::Timeout,
                    "the server did not confirm the connection in time",
                ));
            }
            connect_deadline
        };
        set_timeouts(
            control,
            wake_at.saturating_duration_since(now),
            write_timeout,
        );
        match ws.read() {
            Ok(Message::Text(text)) => {
                last_frame = Instant::now();
                // One decode, straight into the event's struct.
                let event = match AnyEvent::from_json(text.as_str()) {
                    Ok(event) => event,
                    Err(e) if !connected => {
                        // Android's CANT_PARSE_EVENT: fail the connect now, not at its timeout.
                        close_politely(ws, control);
                        return Attempt::Failed(
                            ChatError::new(
                                ErrorKind::Parse,
                                "the server's first frame is not a Stream event",
                            )
                            .with_source(e),
                        );
                    }
                    Err(e) => {
                        log::warn!("ignoring an undecodable frame: {e}");
                        continue;
                    }
                };
                if let Some(body) = event.error() {
                    let err = api_error(body, 0, dev_token);
                    hub.event(session, ChatEvent::ConnectionError { error: err.clone() });
                    close_politely(ws, control);
                    return ended(connected, err);
                }
                if let AnyEvent::HealthCheck(check) = event {
                    let HealthCheckEvent {
                        connection_id,
                        created_at,
                        me,
                        ..
                    } = *check;
                    let mut reconnected = None;
                    if !connected {
                        if connection_id.is_empty() {
                            return Attempt::Failed(ChatError::new(
                                ErrorKind::Parse,
                                "the server's first health.check has no connection_id",
                            ));
                        }
                        let reconnect = session.ever_connected();
                        if !hub.connected(session, &connection_id, me.clone()) {
                            close_politely(ws, control);
                            return Attempt::Stopped;
                        }
                        connected = true;
                        reconnected = Some(reconnect);
                        next_ping = deadline_after(last_frame, cfg.health_check_interval);
                    }
                    hub.event(
                        session,
                        ChatEvent::HealthCheck {
                            connection_id: connection_id.clone(),
                            created_at,
                            me: me.map(Box::new),
                        },
                    );
                    if let Some(reconnect) = reconnected {
                        // Before the next frame is read, so recovery holds back what follows.
                        hub.ready(session, &connection_id, reconnect);
                    }
                } else if connected {
                    hub.event(session, from_server(event));
                } else {
                    log::debug!(
                        "ignoring '{}' before the connection was confirmed",
                        event.kind()
                    );
                }
            }
            Ok(Message::Close(frame)) => {
                let _ = ws.flush();
                let (code, reason) = frame.map_or((1005, String::new()), |f| {
                    (u16::from(f.code), f.reason.to_string())
                });
                if session.is_halted() {
                    return Attempt::Stopped;
                }
                let err = ChatError::new(
                    ErrorKind::Network,
                    format!("the server closed the connection (code {code}) {reason}")
                        .trim_end()
                        .to_owned(),
                );
                return ended(connected, err);
            }
            Ok(_) => last_frame = Instant::now(),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                ) => {}
            Err(e) => {
                if session.is_halted() {
                    close_politely(ws, control);
                    return Attempt::Stopped;
                }
                return ended(connected, ws_error("the connection failed", e));
            }
        }
    }
}

/// Sends a close frame (code 1000) without waiting for the server's answer.
fn close_politely(ws: &mut Ws, control: &TcpStream) {
    let _ = control.set_write_timeout(Some(Duration::from_millis(200)));
    let _ = ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "Connection close by client".into(),
    }));
    let _ = ws.flush();
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
