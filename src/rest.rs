//! REST over ureq `Agent`s shared by the clients of a process: Stream's headers and query
//! parameters, error bodies mapped to `ChatError`, and the code-40 token refresh with a
//! rebuilt request.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;
use stream_chat_callbacks::{CancelToken, ChatError, ErrorKind};
use stream_chat_protocol::codes;
use stream_chat_protocol::names::auth_type;
use url::Url;

use crate::api_error::{error_from_body, is_dev_token, requested_wait};
use crate::tls::{Roots, tls_cause, tls_hint, tls_message};
use crate::token::{Interrupt, TokenManager, TokenWaitError};

/// Dependencies whose TRACE records dump raw requests: tungstenite the WebSocket upgrade
/// (the token rides in its URL), ureq-proto the REST bytes (the `Authorization` header).
const WIRE_TRACE_TARGETS: [&str; 2] = ["tungstenite", "ureq_proto"];

/// Warns (once per process) when the logger takes TRACE records of a target that dumps raw
/// requests: the SDK keeps tokens out of its own records but cannot filter those.
pub(crate) fn warn_if_wire_tracing() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if log::max_level() < log::LevelFilter::Trace || WARNED.load(Ordering::Relaxed) {
        return;
    }
    let tracing = |target: &str| {
        let meta = log::Metadata::builder()
            .level(log::Level::Trace)
            .target(target)
            .build();
        log::logger().enabled(&meta)
    };
    let on: Vec<_> = WIRE_TRACE_TARGETS
        .into_iter()
        .filter(|t| tracing(t))
        .collect();
    if !on.is_empty() && !WARNED.swap(true, Ordering::Relaxed) {
        log::warn!(
            "TRACE logging is on for {on:?}: those records dump raw requests, auth tokens \
             included; cap these targets at DEBUG outside local debugging"
        );
    }
}

/// The largest response body read (ureq's default); a larger one fails with
/// [`ErrorKind::Parse`].
const MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;

/// The `X-Stream-Client` value of every request and WebSocket connection.
pub(crate) const CLIENT_ID: &str = concat!("stream-chat-rust-v", env!("CARGO_PKG_VERSION"));

/// Who a request is made as.
pub(crate) enum Auth {
    /// No user: `stream-auth-type: anonymous`, no `Authorization`, no `user_id` (`POST /guest`).
    None,
    /// The anonymous user: no `Authorization`, but `user_id` and `connection_id`.
    Anonymous {
        user_id: String,
        connection_id: Option<String>,
    },
    /// A JWT user.
    Jwt {
        tokens: Arc<TokenManager>,
        user_id: String,
        connection_id: Option<String>,
    },
    /// A server token (`ServerClient`): `Authorization` with `stream-auth-type: jwt`, no
    /// `user_id`, no connection.
    Server { token: String },
}

impl Auth {
    /// The user the request is made as, if any.
    pub(crate) fn user_id(&self) -> Option<&str> {
        match self {
            Auth::None | Auth::Server { .. } => None,
            Auth::Anonymous { user_id, .. } | Auth::Jwt { user_id, .. } => Some(user_id),
        }
    }
}

/// The request a call wants to make; turned into a ureq request once per attempt so a
/// retry after a token refresh carries the new token.
pub(crate) struct Request<'a> {
    pub(crate) method: &'static str,
    pub(crate) path: &'a str,
    pub(crate) query: Vec<(&'a str, String)>,
    pub(crate) body: Option<Vec<u8>>,
}

impl<'a> Request<'a> {
    pub(crate) fn get(path: &'a str) -> Self {
        Request {
            method: "GET",
            path,
            query: Vec::new(),
            body: None,
        }
    }

    pub(crate) fn delete(path: &'a str) -> Self {
        Request {
            method: "DELETE",
            ..Request::get(path)
        }
    }

    pub(crate) fn post(path: &'a str, body: &impl Serialize) -> Result<Self, ChatError> {
        let body = serde_json::to_vec(body).map_err(|e| {
            ChatError::new(
                ErrorKind::InvalidArgument,
                "the request body cannot be encoded",
            )
            .with_source(e)
        })?;
        Ok(Request {
            method: "POST",
            path,
            query: Vec::new(),
            body: Some(body),
        })
    }

    /// A `PATCH` with a JSON body (partial updates).
    pub(crate) fn patch(path: &'a str, body: &impl Serialize) -> Result<Self, ChatError> {
        Ok(Request {
            method: "PATCH",
            ..Request::post(path, body)?
        })
    }

    /// A `PUT` with a JSON body (partial message updates).
    pub(crate) fn put(path: &'a str, body: &impl Serialize) -> Result<Self, ChatError> {
        Ok(Request {
            method: "PUT",
            ..Request::post(path, body)?
        })
    }

    /// Adds every pair (`protocol::query::to_pairs` of a request struct).
    pub(crate) fn queries(self, pairs: &'a [(String, String)]) -> Self {
        pairs.iter().fold(self, |r, (k, v)| r.query(k, v.clone()))
    }

    pub(crate) fn query(mut self, key: &'a str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }
}

pub(crate) struct Http {
    agent: ureq::Agent,
    base: Url,
    api_key: String,
    timeout: Duration,
}

/// The agent of the clients with this connect timeout and proxy rule, made on first use.
/// Sharing it shares its pool: at most 8 idle keep-alive connections per host for all the
/// process's clients together, instead of one or more per client, each holding 36 KiB of
/// buffers (1,000 clients kept 1,000 of them). A pooled connection the server has closed
/// is not reused (ureq probes it first), and every request carries its own client's key,
/// token and deadline, so nothing of one client travels with another's request.
fn shared_agent(connect_timeout: Duration, loopback: bool, roots: &Roots) -> ureq::Agent {
    type Key = (Duration, bool, Roots);
    static AGENTS: LazyLock<Mutex<HashMap<Key, ureq::Agent>>> = LazyLock::new(Mutex::default);
    let mut agents = AGENTS.lock().unwrap_or_else(|e| e.into_inner());
    agents
        .entry((connect_timeout, loopback, roots.clone()))
        .or_insert_with(|| new_agent(connect_timeout, loopback, roots))
        .clone()
}

fn new_agent(connect_timeout: Duration, loopback: bool, roots: &Roots) -> ureq::Agent {
    // No agent-wide global timeout: each attempt gets what is left of its call's.
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(connect_timeout))
        .user_agent(CLIENT_ID)
        .max_idle_connections_per_host(8)
        // Sized for chat: ureq's 128 KiB defaults stay resident per pooled connection
        // (a quarter of a client's memory). Bodies stream through these buffers, so a
        // large answer or upload is read in more, smaller steps, never refused; a head
        // over MAX_RESPONSE_HEAD is a `Protocol` error (the input buffer must exceed it).
        .max_response_header_size(MAX_RESPONSE_HEAD)
        .input_buffer_size(MAX_RESPONSE_HEAD + 4 * 1024)
        .output_buffer_size(16 * 1024);
    if loopback {
        // A proxy from the environment must not capture traffic to a local server.
        config = config.proxy(None);
    }
    if let Some(tls) = crate::tls::agent_config(roots) {
        config = config.tls_config(tls);
    }
    ureq::Agent::with_parts(
        config.build(),
        ureq::unversioned::transport::DefaultConnector::default(),
        LiteralFirstResolver::default(),
    )
}

/// `messages/{id}`; an id that is empty or would leave the path is refused.
pub(crate) fn message_path(id: &str) -> Result<String, ChatError> {
    if id.is_empty() || id.contains(['/', '?', '#', '%']) {
        return Err(ChatError::new(
            ErrorKind::InvalidArgument,
            format!("invalid message id '{id}'"),
        ));
    }
    Ok(format!("messages/{id}"))
}

/// The largest HTTP response head the SDK reads (status line and headers). Stream's heads
/// are under 2 KiB.
pub(crate) const MAX_RESPONSE_HEAD: usize = 16 * 1024;

impl Http {
    pub(crate) fn new(
        base: Url,
        api_key: String,
        connect_timeout: Duration,
        timeout: Duration,
        roots: &Roots,
    ) -> Self {
        let agent = shared_agent(connect_timeout, is_loopback(&base), roots);
        Http {
            agent,
            base,
            api_key,
            timeout,
        }
    }

    /// [`send`](Self::send) for a call: cancelling `cancel` wakes a wait for the token at
    /// once, and no attempt starts after it. (An attempt already on the wire runs to its
    /// end or the deadline; its answer is then dropped.)
    pub(crate) fn send_cancellable<T: DeserializeOwned>(
        &self,
        req: &Request<'_>,
        auth: &Auth,
        cancel: &CancelToken,
    ) -> Result<T, ChatError> {
        if let Auth::Jwt { tokens, .. } = auth {
            let tokens = Arc::downgrade(tokens);
            cancel.on_cancel(move || {
                if let Some(tokens) = tokens.upgrade() {
                    tokens.wake_all();
                }
            });
        }
        self.send(req, auth, &|| cancel.is_canceled())
    }

    /// Sends `req` as `auth` and decodes the JSON answer. On code 40 with a token provider
    /// the token is reloaded (shared with concurrent callers) and the request rebuilt and
    /// sent once more. The request timeout bounds the whole call: token waits and every
    /// attempt share one deadline.
    pub(crate) fn send<T: DeserializeOwned>(
        &self,
        req: &Request<'_>,
        auth: &Auth,
        stop: &dyn Fn() -> bool,
    ) -> Result<T, ChatError> {
        self.send_until(req, auth, stop, None)
    }

    /// [`send`](Self::send) that also ends by `limit` (a connect's deadline) when that
    /// comes before the request timeout: the attempt on the wire is abandoned then, so
    /// the thread is free at `limit`.
    pub(crate) fn send_until<T: DeserializeOwned>(
        &self,
        req: &Request<'_>,
        auth: &Auth,
        stop: &dyn Fn() -> bool,
        limit: Option<Instant>,
    ) -> Result<T, ChatError> {
        warn_if_wire_tracing();
        // `None` (no limit) when the timeout is too large to add to the clock.
        let deadline = match (Instant::now().checked_add(self.timeout), limit) {
            (Some(own), Some(limit)) => Some(own.min(limit)),
            (own, limit) => own.or(limit),
        };
        let mut token = match auth {
            Auth::Jwt { tokens, .. } => Some(wait_token(tokens.get(stop, deadline))?),
            Auth::Server { token } => Some(crate::token::Token {
                value: token.clone(),
                version: 0,
            }),
            _ => None,
        };
        let mut refreshed = false;
        loop {
            if stop() {
                return Err(ChatError::cancelled());
            }
            let remaining = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Err(self.timed_out(req)),
                },
                None => None,
            };
            let token_value = token.as_ref().map(|t| t.value.as_str());
            let result = self
                .send_once(req, auth, token_value, remaining)
                .map_err(|e| match e.kind() {
                    ErrorKind::Timeout => e.with_message(self.timeout_message(req)),
                    _ => e,
                });
            match (&result, auth) {
                (Err(err), Auth::Jwt { tokens, .. })
                    if err.stream_code().is_some_and(codes::should_refresh_token)
                        && tokens.has_provider()
                        && !refreshed =>
                {
                    log::info!(
                        "{} {}: token expired, reloading it and retrying once",
                        req.method,
                        req.path
                    );
                    let stale = token.as_ref().map_or(0, |t| t.version);
                    token = Some(wait_token(tokens.refresh(stale, stop, deadline))?);
                    refreshed = true;
                }
                _ => return result,
            }
        }
    }

    fn timed_out(&self, req: &Request<'_>) -> ChatError {
        ChatError::new(ErrorKind::Timeout, self.timeout_message(req))
    }

    fn timeout_message(&self, req: &Request<'_>) -> String {
        format!(
            "{} {} did not complete within the request timeout ({:?})",
            req.method, req.path, self.timeout
        )
    }

    fn send_once<T: DeserializeOwned>(
        &self,
        req: &Request<'_>,
        auth: &Auth,
        token: Option<&str>,
        time_limit: Option<Duration>,
    ) -> Result<T, ChatError> {
        let mut url = self
            .base
            .join(req.path.trim_start_matches('/'))
            .map_err(|e| {
                ChatError::new(ErrorKind::InvalidArgument, "bad request path").with_source(e)
            })?;
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in &req.query {
                q.append_pair(k, v);
            }
            match auth {
                Auth::None | Auth::Server { .. } => {}
                Auth::Anonymous {
                    user_id,
                    connection_id,
                }
                | Auth::Jwt {
                    user_id,
                    connection_id,
                    ..
                } => {
                    q.append_pair("user_id", user_id);
                    if let Some(id) = connection_id {
                        q.append_pair("connection_id", id);
                    }
                }
            }
            q.append_pair("api_key", &self.api_key);
        }
        let auth_type = if matches!(auth, Auth::Jwt { .. } | Auth::Server { .. }) {
            auth_type::JWT
        } else {
            auth_type::ANONYMOUS
        };
        let mut builder = ureq::http::Request::builder()
            .method(req.method)
            .uri(url.as_str())
            .header(auth_type::HEADER, auth_type)
            .header("X-Stream-Client", CLIENT_ID)
            .header("x-client-request-id", new_request_id());
        if let Some(token) = token {
            builder = builder.header("Authorization", token);
        }
        if req.body.is_some() {
            builder = builder.header("Content-Type", "application/json");
        }
        let request = builder
            .body(req.body.clone().unwrap_or_default())
            .map_err(|e| {
                ChatError::new(ErrorKind::InvalidArgument, "cannot build the request")
                    .with_source(e)
            })?;
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(time_limit)
            .build();
        let started = Instant::now();
        let response = self.agent.run(request).map_err(map_transport_error)?;
        log::debug!(
            "{} {} -> {} in {:?}",
            req.method,
            req.path,
            response.status().as_u16(),
            started.elapsed()
        );
        read_answer(response, req.method, req.path, token)
    }
}

/// Reads a response: the decoded JSON of a success, or the error of a failure (Stream's
/// error body, with the wait the server asked for in `Retry-After`/`X-RateLimit-Reset`).
/// `token`: the token the request carried (it picks the advice for code 43).
fn read_answer<T: DeserializeOwned>(
    mut response: ureq::http::Response<ureq::Body>,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> Result<T, ChatError> {
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let wait = requested_wait(
        header("retry-after").as_deref(),
        header("x-ratelimit-reset").as_deref(),
        SystemTime::now(),
    );
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(limit) => ChatError::new(
                ErrorKind::Parse,
                format!("the response of {method} {path} is larger than {limit} bytes"),
            )
            .with_status_code(status)
            .with_source(e),
            other => map_transport_error(other),
        })?;
    if status >= 400 {
        let err = error_from_body(status, &body, is_dev_token(token));
        return Err(match wait {
            Some(wait) => err.with_retry_after(wait),
            None => err,
        });
    }
    serde_json::from_slice(&body).map_err(|e| {
        ChatError::new(
            ErrorKind::Parse,
            format!("the response of {method} {path} cannot be parsed"),
        )
        .with_source(e)
        .with_status_code(status)
    })
}

// Uploads, the server-side client and webhooks: a streaming multipart request.

/// A request whose body streams from a reader (an upload): sent once, never retried (the
/// reader cannot be rewound), with no overall deadline (a large file takes what it takes)
/// but each write and the wait for the answer bounded by the request timeout.
pub(crate) struct StreamRequest<'a> {
    pub(crate) path: &'a str,
    pub(crate) content_type: String,
    /// `Content-Length` when known; chunked otherwise.
    pub(crate) length: Option<u64>,
}

impl Http {
    /// Sends `req` with `body` as `auth` and decodes the JSON answer. Cancelling `cancel`
    /// wakes a wait for the token; the body reader is expected to fail its next read then
    /// (`upload.rs`), which closes the connection.
    pub(crate) fn send_stream<T: DeserializeOwned>(
        &self,
        req: &StreamRequest<'_>,
        body: impl io::Read + Send + 'static,
        auth: &Auth,
        cancel: &CancelToken,
    ) -> Result<T, ChatError> {
        warn_if_wire_tracing();
        let token = match auth {
            Auth::Jwt { tokens, .. } => {
                let tokens_weak = Arc::downgrade(tokens);
                cancel.on_cancel(move || {
                    if let Some(tokens) = tokens_weak.upgrade() {
                        tokens.wake_all();
                    }
                });
                let deadline = Instant::now().checked_add(self.timeout);
                Some(wait_token(tokens.get(&|| cancel.is_canceled(), deadline))?.value)
            }
            Auth::Server { token } => Some(token.clone()),
            Auth::None | Auth::Anonymous { .. } => None,
        };
        if cancel.is_canceled() {
            return Err(ChatError::cancelled());
        }
        let mut url = self
            .base
            .join(req.path.trim_start_matches('/'))
            .map_err(|e| {
                ChatError::new(ErrorKind::InvalidArgument, "bad request path").with_source(e)
            })?;
        {
            let mut q = url.query_pairs_mut();
            if let Auth::Anonymous {
                user_id,
                connection_id,
            }
            | Auth::Jwt {
                user_id,
                connection_id,
                ..
            } = auth
            {
                q.append_pair("user_id", user_id);
                if let Some(id) = connection_id {
                    q.append_pair("connection_id", id);
                }
            }
            q.append_pair("api_key", &self.api_key);
        }
        let mut builder = ureq::http::Request::builder()
            .method("POST")
            .uri(url.as_str())
            .header(
                "stream-auth-type",
                if token.is_some() { "jwt" } else { "anonymous" },
            )
            .header("X-Stream-Client", CLIENT_ID)
            .header("x-client-request-id", new_request_id())
            .header("Content-Type", &req.content_type);
        if let Some(token) = &token {
            builder = builder.header("Authorization", token);
        }
        if let Some(length) = req.length {
            builder = builder.header("Content-Length", length.to_string());
        }
        let request = builder
            .body(ureq::SendBody::from_owned_reader(body))
            .map_err(|e| {
                ChatError::new(ErrorKind::InvalidArgument, "cannot build the request")
                    .with_source(e)
            })?;
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(None)
            .timeout_per_write(Some(self.timeout))
            .timeout_recv_response(Some(self.timeout))
            .build();
        let started = Instant::now();
        let result = self.agent.run(request);
        if cancel.is_canceled() {
            return Err(ChatError::cancelled());
        }
        let response = result.map_err(|e| match e {
            // The body's own error (a reader that failed) says what went wrong.
            ureq::Error::Io(io) if io.get_ref().is_some_and(|e| e.is::<ChatError>()) => {
                let inner = io.into_inner().expect("checked above");
                *inner.downcast::<ChatError>().expect("checked above")
            }
            other => map_transport_error(other),
        })?;
        log::debug!(
            "POST {} (streamed) -> {} in {:?}",
            req.path,
            response.status().as_u16(),
            started.elapsed()
        );
        read_answer(response, "POST", req.path, token.as_deref())
    }
}

fn wait_token(
    r: Result<crate::token::Token, TokenWaitError>,
) -> Result<crate::token::Token, ChatError> {
    r.map_err(|e| match e {
        TokenWaitError::Failed(err) => err,
        TokenWaitError::Interrupted(Interrupt::Stopped) => ChatError::cancelled(),
        TokenWaitError::Interrupted(Interrupt::TimedOut) => ChatError::new(
            ErrorKind::Timeout,
            "the TokenProvider did not return a token in time",
        ),
    })
}

/// A transport failure as a `ChatError`: a timeout, a [`ErrorKind::Protocol`] fault (the
/// peer's answer broke HTTP or TLS: retrying cannot help), or a [`ErrorKind::Network`]
/// failure (refused, reset, cut half way: retrying may help).
fn map_transport_error(e: ureq::Error) -> ChatError {
    if let Some(tls) = rustls_error(&e) {
        let message = tls_message(tls);
        return ChatError::new(ErrorKind::Protocol, message)
            .with_hint(tls_hint(tls))
            .with_source(e);
    }
    match e {
        ureq::Error::Timeout(t) => {
            ChatError::new(ErrorKind::Timeout, format!("the request timed out ({t})"))
                .with_source(ureq::Error::Timeout(t))
        }
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            ChatError::new(ErrorKind::Timeout, "the request timed out").with_source(io)
        }
        ureq::Error::LargeResponseHeader(size, limit) => ChatError::new(
            ErrorKind::Protocol,
            format!("the response's head is larger than {limit} bytes ({size} read)"),
        )
        .with_source(e),
        ureq::Error::Protocol(_)
        | ureq::Error::Decompress(..)
        | ureq::Error::Tls(_)
        | ureq::Error::TlsRequired => ChatError::new(
            ErrorKind::Protocol,
            format!("the response is not valid HTTP: {e}"),
        )
        .with_source(e),
        other => ChatError::new(ErrorKind::Network, format!("the request failed: {other}"))
            .with_source(other),
    }
}

/// The rustls error behind `e`, if TLS failed (rustls reports through `io::Error`s).
fn rustls_error(e: &ureq::Error) -> Option<&rustls::Error> {
    match e {
        ureq::Error::Rustls(tls) => Some(tls),
        ureq::Error::Io(io) => tls_cause(io),
        _ => None,
    }
}

/// ureq's resolver, except that an IP-literal host (`127.0.0.1`, `[::1]`) is its own address.
///
/// Under a deadline, ureq's [`DefaultResolver`](ureq::unversioned::resolver::DefaultResolver)
/// looks every host up on a thread of its own, spawned per new connection and left to run
/// out (unnamed, so it carries the name of the thread that made the call, e.g. a pool
/// worker's). A literal needs no lookup: it gets no thread. Names still go to ureq, whose
/// thread lets a hung DNS lookup end at the call's deadline.
#[derive(Debug, Default)]
struct LiteralFirstResolver {
    names: ureq::unversioned::resolver::DefaultResolver,
}

impl ureq::unversioned::resolver::Resolver for LiteralFirstResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        if let Some(addr) = literal_addr(uri) {
            let mut addrs = self.empty();
            addrs.push(addr);
            return Ok(addrs);
        }
        self.names.resolve(uri, config, timeout)
    }
}

/// The socket address of a URI whose host is an IP literal (port explicit or the scheme's).
fn literal_addr(uri: &ureq::http::Uri) -> Option<std::net::SocketAddr> {
    let host = uri.host()?;
    let ip: std::net::IpAddr = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()?;
    let port = match (uri.port_u16(), uri.scheme_str()) {
        (Some(port), _) => port,
        (None, Some("http")) => 80,
        (None, Some("https")) => 443,
        _ => return None,
    };
    Some(std::net::SocketAddr::new(ip, port))
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A random UUIDv4 string (request and connection-attempt ids).
pub(crate) fn new_request_id() -> String {
    let mut b: [u8; 16] = fastrand::u128(..).to_le_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_v4() {
        let id = new_request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, new_request_id());
    }

    #[test]
    fn loopback_detection() {
        for (u, l) in [
            ("http://127.0.0.1:1", true),
            ("http://localhost:1", true),
            ("http://[::1]:1", true),
            ("https://chat.stream-io-api.com", false),
        ] {
            assert_eq!(is_loopback(&Url::parse(u).unwrap()), l, "{u}");
        }
    }

    #[test]
    fn ip_literals_need_no_lookup_and_names_do() {
        let addr = |u: &str| literal_addr(&u.parse().unwrap()).map(|a| a.to_string());
        assert_eq!(
            addr("http://127.0.0.1:3030/x").as_deref(),
            Some("127.0.0.1:3030")
        );
        assert_eq!(addr("http://10.0.0.7/").as_deref(), Some("10.0.0.7:80"));
        assert_eq!(addr("https://[::1]/channels").as_deref(), Some("[::1]:443"));
        assert_eq!(addr("http://[fe80::2]:9/").as_deref(), Some("[fe80::2]:9"));
        assert_eq!(addr("http://localhost:3030/"), None);
        assert_eq!(addr("https://chat.stream-io-api.com/"), None);
    }
}
