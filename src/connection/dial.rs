//! Opening a WebSocket, without blocking the reactor: the `/connect` URL, the addresses
//! (a DNS lookup only for host names, which the caller runs off the reactor), a
//! non-blocking TCP connect, then the TLS and WebSocket handshake, resumed each time the
//! socket is ready. `socket.rs` drives what this opens.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::SystemTime;

use mio::net::TcpStream;
use stream_chat_callbacks::{ChatError, ErrorKind};
use stream_chat_protocol::names::auth_type;
use stream_chat_protocol::{ConnectPayload, User};
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Connector, WebSocket};
use url::Url;

use super::session::Session;
use crate::api_error::{error_from_body, requested_wait};
use crate::rest::{CLIENT_ID, new_request_id, warn_if_wire_tracing};
use crate::tls::{TLS_HINT, tls_cause, tls_hint, tls_message};
use crate::token::Token;

/// A connected WebSocket, TLS or not, on a non-blocking socket.
pub(super) type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

/// A WebSocket handshake waiting for its socket to be ready.
pub(super) type Mid = MidHandshake<ClientHandshake<MaybeTlsStream<TcpStream>>>;

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

/// The host and port `url` connects to (IPv6 literals without brackets).
pub(super) fn host_port(url: &Url) -> (String, u16) {
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .to_owned();
    (host, url.port_or_known_default().unwrap_or(443))
}

/// Whether finding the addresses of `host` takes a DNS lookup (which blocks).
pub(super) fn needs_lookup(host: &str) -> bool {
    host.parse::<IpAddr>().is_err()
}

/// The addresses of `host`: the address itself for an IP, else a DNS lookup (blocking).
pub(super) fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, ChatError> {
    match host.parse::<IpAddr>() {
        Ok(ip) => Ok(vec![SocketAddr::new(ip, port)]),
        Err(_) => (host, port)
            .to_socket_addrs()
            .map(Iterator::collect)
            .map_err(|e| {
                ChatError::new(ErrorKind::Network, format!("cannot resolve {host}")).with_source(e)
            }),
    }
}

/// Why no address of `host:port` took the connection: `last` is the last address's
/// error, `None` when the deadline came first.
pub(super) fn connect_error(host: &str, port: u16, last: Option<io::Error>) -> ChatError {
    match last {
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
    }
}

/// How far a handshake got.
pub(super) enum Handshake {
    Done(Box<Ws>),
    /// Waiting for the socket: resume with [`resume_handshake`] when it is ready.
    Pending(Box<Mid>),
    Failed(ChatError),
}

/// Starts the TLS (for `wss`) and WebSocket handshake on the connected `tcp`.
/// `dev_token`: the URL carries a development token (it picks the advice for a refusal
/// with code 43).
pub(super) fn start_handshake(
    url: &Url,
    tcp: TcpStream,
    tls: Option<&Arc<rustls::ClientConfig>>,
    dev_token: bool,
) -> Handshake {
    let request = match url.as_str().into_client_request() {
        Ok(request) => request,
        Err(e) => {
            return Handshake::Failed(
                ChatError::new(ErrorKind::InvalidArgument, "bad WebSocket URL").with_source(e),
            );
        }
    };
    let connector = match tls {
        Some(tls) if url.scheme() == "wss" => Connector::Rustls(Arc::clone(tls)),
        _ => Connector::Plain,
    };
    // Chat frames are small (a `message.new` is 1-2 KiB): start the read buffer at 4 KiB
    // (it grows for a larger frame) instead of tungstenite's 128 KiB, which stays resident
    // per socket (8 KiB was a sixth of a watching client's memory); write each frame at
    // once, so no write buffer is kept either.
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(16 << 20))
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    // tungstenite's TRACE dumps the request line, token included.
    warn_if_wire_tracing();
    outcome(
        tungstenite::client_tls_with_config(request, tcp, Some(ws_config), Some(connector)),
        dev_token,
    )
}

/// Goes on with a handshake whose socket became ready.
pub(super) fn resume_handshake(mid: Mid, dev_token: bool) -> Handshake {
    outcome(mid.handshake(), dev_token)
}

fn outcome<R>(
    result: Result<(Ws, R), HandshakeError<ClientHandshake<MaybeTlsStream<TcpStream>>>>,
    dev_token: bool,
) -> Handshake {
    match result {
        Ok((ws, _)) => Handshake::Done(Box::new(ws)),
        Err(HandshakeError::Interrupted(mid)) => Handshake::Pending(Box::new(mid)),
        Err(HandshakeError::Failure(e)) => Handshake::Failed(handshake_error(e, dev_token)),
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
