//! Opening a WebSocket: the `/connect` URL, TCP within a deadline (on a helper thread,
//! so a stop is never held up by DNS or a slow connect), then the TLS and WebSocket
//! handshake. `socket.rs` runs what this opens.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, after, select};
use stream_chat_callbacks::{ChatError, ErrorKind};
use stream_chat_protocol::names::auth_type;
use stream_chat_protocol::{ConnectPayload, User};
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Connector, WebSocket};
use url::Url;

use super::session::Session;
use crate::api_error::{error_from_body, requested_wait};
use crate::rest::{
    CLIENT_ID, TLS_HINT, new_request_id, tls_cause, tls_hint, tls_message, warn_if_wire_tracing,
};
use crate::token::Token;

/// A connected WebSocket, TLS or not.
pub(super) type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

/// The `/connect` URL of `session`'s next attempt: the connect payload, the API key and
/// the token (anonymous without one) as query parameters, on `ws_base`.
pub(super) fn connect_url(
    ws_base: &Url,
    api_key: &str,
    session: &Session,
    token: Option<&Token>,
) -> Result<Url, ChatError> {
    let details = if session.ever_connected() {
        // Reconnects send only the id, so server-side updates to the user are kept.
        User::new(session.user_id.clone())
    } else {
        session.initial_details()
    };
    let payload = ConnectPayload {
        user_id: session.user_id.clone(),
        user_details: Some(details),
        server_determines_connection_id: Some(true),
        client_request_id: Some(new_request_id()),
        ..ConnectPayload::default()
    };
    let json = serde_json::to_string(&payload).map_err(|e| {
        ChatError::new(ErrorKind::InvalidArgument, "the user cannot be encoded").with_source(e)
    })?;
    let mut url = ws_base.join("connect").map_err(|e| {
        ChatError::new(ErrorKind::InvalidArgument, "bad WebSocket URL").with_source(e)
    })?;
    url.query_pairs_mut()
        .append_pair("json", &json)
        .append_pair("api_key", api_key)
        .append_pair("authorization", token.map_or("", |t| t.value.as_str()))
        .append_pair(
            auth_type::HEADER,
            if token.is_some() {
                auth_type::JWT
            } else {
                auth_type::ANONYMOUS
            },
        )
        .append_pair("X-Stream-Client", CLIENT_ID);
    Ok(url)
}

/// Resolves and connects on a helper thread, so that `stop` is not held up by a slow DNS
/// lookup or TCP connect. The helper skips DNS for IP addresses, gives up at `deadline`,
/// and closes what it connected if the session was stopped meanwhile.
pub(super) fn dial(
    url: &Url,
    deadline: Instant,
    session: &Session,
) -> Result<TcpStream, Option<ChatError>> {
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let (tx, rx) = crossbeam_channel::bounded(1);
    let halted = session.stop_signal();
    let stop = halted.clone();
    let spawned = std::thread::Builder::new()
        .name("stream-chat-dial".into())
        .spawn(move || {
            let result = connect_tcp(&host, port, deadline, &stop);
            // Nobody waits any more: the stream (if any) is closed by dropping it.
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return Err(Some(
            ChatError::new(ErrorKind::Network, "cannot start the dial thread").with_source(e),
        ));
    }
    let remaining = deadline.saturating_duration_since(Instant::now());
    select! {
        recv(rx) -> r => match r {
            Ok(Ok(tcp)) => Ok(tcp),
            Ok(Err(e)) => Err(Some(e)),
            Err(_) => Err(Some(ChatError::new(ErrorKind::Network, "the dial thread ended without a result"))),
        },
        recv(halted) -> _ => Err(None),
        recv(after(remaining)) -> _ => Err(Some(ChatError::new(ErrorKind::Timeout, "the TCP connection was not established in time"))),
    }
}

fn is_stopped(stop: &Receiver<()>) -> bool {
    matches!(
        stop.try_recv(),
        Err(crossbeam_channel::TryRecvError::Disconnected)
    )
}

fn connect_tcp(
    host: &str,
    port: u16,
    deadline: Instant,
    stop: &Receiver<()>,
) -> Result<TcpStream, ChatError> {
    let stopped = || ChatError::new(ErrorKind::Network, "the session was stopped");
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => (host, port)
            .to_socket_addrs()
            .map_err(|e| {
                ChatError::new(ErrorKind::Network, format!("cannot resolve {host}")).with_source(e)
            })?
            .collect(),
    };
    let mut last = None;
    for addr in addrs {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            break;
        }
        if is_stopped(stop) {
            return Err(stopped());
        }
        match TcpStream::connect_timeout(&addr, remaining) {
            Ok(tcp) if is_stopped(stop) => {
                let _ = tcp.shutdown(std::net::Shutdown::Both);
                return Err(stopped());
            }
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) if e.kind() == io::ErrorKind::TimedOut => ChatError::new(
            ErrorKind::Timeout,
            format!("connecting to {host}:{port} timed out"),
        )
        .with_source(e),
        Some(e) => ChatError::new(
            ErrorKind::Network,
            format!("cannot connect to {host}:{port}: {e}"),
        )
        .with_source(e),
        None => ChatError::new(
            ErrorKind::Timeout,
            format!("connecting to {host}:{port} timed out"),
        ),
    })
}

/// Read and write timeouts of the stream (at least 1 ms: zero would mean none).
pub(super) fn set_timeouts(control: &TcpStream, read: Duration, write: Duration) {
    let floor = Duration::from_millis(1);
    let _ = control.set_read_timeout(Some(read.max(floor)));
    let _ = control.set_write_timeout(Some(write.max(floor)));
}

/// The TLS (for `wss`) and WebSocket handshake on `tcp`, by `deadline`; `control` is a
/// clone of the stream, to set its timeouts. `dev_token`: the URL carries a development
/// token (it picks the advice for a refusal with code 43).
pub(super) fn handshake(
    url: Url,
    tcp: TcpStream,
    control: &TcpStream,
    tls: Option<&Arc<rustls::ClientConfig>>,
    deadline: Instant,
    dev_token: bool,
) -> Result<Ws, ChatError> {
    let remaining = deadline.saturating_duration_since(Instant::now());
    set_timeouts(control, remaining, remaining);
    let request = url.as_str().into_client_request().map_err(|e| {
        ChatError::new(ErrorKind::InvalidArgument, "bad WebSocket URL").with_source(e)
    })?;
    let connector = match tls {
        Some(tls) if url.scheme() == "wss" => Connector::Rustls(Arc::clone(tls)),
        _ => Connector::Plain,
    };
    // Chat frames are small: start the read buffer at 8 KiB (it grows for a larger frame)
    // instead of tungstenite's 128 KiB, which stays resident per socket; write each frame
    // at once (every send is flushed anyway), so no write buffer is kept either.
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(16 << 20))
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0);
    // tungstenite's TRACE dumps the request line, token included.
    warn_if_wire_tracing();
    let mut result =
        tungstenite::client_tls_with_config(request, tcp, Some(ws_config), Some(connector));
    loop {
        match result {
            Ok((ws, _response)) => return Ok(ws),
            Err(HandshakeError::Interrupted(mid)) => {
                let remaining = deadline.saturating_duration_since(Instant::now());
                if remaining.is_zero() {
                    return Err(ChatError::new(
                        ErrorKind::Timeout,
                        "the server did not complete the WebSocket handshake in time",
                    ));
                }
                set_timeouts(control, remaining, remaining);
                result = mid.handshake();
            }
            Err(HandshakeError::Failure(e)) => return Err(handshake_error(e, dev_token)),
        }
    }
}

fn handshake_error(e: tungstenite::Error, dev_token: bool) -> ChatError {
    match e {
        tungstenite::Error::Http(response) => {
            let status = response.status().as_u16();
            let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
            let wait = requested_wait(
                header("retry-after"),
                header("x-ratelimit-reset"),
                SystemTime::now(),
            );
            let body = response.body().as_deref().unwrap_or_default();
            let err = error_from_body(status, body, dev_token);
            match wait {
                Some(wait) => err.with_retry_after(wait),
                None => err,
            }
        }
        tungstenite::Error::Io(io)
            if matches!(
                io.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            ChatError::new(ErrorKind::Timeout, "the WebSocket handshake timed out").with_source(io)
        }
        other => ws_error("the WebSocket handshake failed", other),
    }
}

/// A WebSocket failure as a `ChatError` whose message starts with `what`: a
/// [`ErrorKind::Protocol`] fault when the peer broke the protocol (a malformed, oversize
/// or absurd frame, invalid UTF-8, an unreadable or oversize HTTP head, a refused TLS
/// certificate), else [`ErrorKind::Network`] (reset, closed, cut half way).
pub(super) fn ws_error(what: &str, e: tungstenite::Error) -> ChatError {
    use tungstenite::error::ProtocolError as P;
    let tls = match &e {
        tungstenite::Error::Io(io) => tls_cause(io).map(|tls| (tls_message(tls), tls_hint(tls))),
        tungstenite::Error::Tls(tls) => {
            Some((format!("the TLS handshake failed: {tls}"), TLS_HINT))
        }
        _ => None,
    };
    if let Some((message, hint)) = tls {
        return ChatError::new(ErrorKind::Protocol, format!("{what}: {message}"))
            .with_hint(hint)
            .with_source(e);
    }
    let protocol = match &e {
        tungstenite::Error::Capacity(_)
        | tungstenite::Error::Utf8(_)
        | tungstenite::Error::AttackAttempt
        | tungstenite::Error::HttpFormat(_) => true,
        tungstenite::Error::Io(io) => io.kind() == io::ErrorKind::InvalidData,
        // A connection cut before the handshake ended, or without a close frame, is the
        // network's doing; every other protocol error is the peer's.
        tungstenite::Error::Protocol(p) => {
            !matches!(p, P::HandshakeIncomplete | P::ResetWithoutClosingHandshake)
        }
        _ => false,
    };
    let kind = if protocol {
        ErrorKind::Protocol
    } else {
        ErrorKind::Network
    };
    ChatError::new(kind, format!("{what}: {e}")).with_source(e)
}
