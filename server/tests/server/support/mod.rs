//! Test helpers: an in-process server, a blocking HTTP client and a blocking WebSocket client.

pub mod receiver;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stream_chat_protocol::jwt;
use stream_chat_server::{Counters, Server, ServerBuilder, ServerHandle};
use tungstenite::protocol::CloseFrame;
use tungstenite::{Message, WebSocket};

/// Generous upper bound for anything that should happen "now".
pub const WITHIN: Duration = Duration::from_secs(5);

/// How a REST call authenticates.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// A server token.
    Server,
    /// A user token minted for this id.
    User(&'a str),
    /// This exact Authorization value, with `stream-auth-type: jwt`.
    Token(&'a str),
    /// `stream-auth-type: anonymous`, no Authorization.
    Anonymous,
}

pub struct Env {
    pub server: ServerHandle,
    agent: ureq::Agent,
    /// The fresh data directory of `STREAM_CHAT_TEST_STORE=sqlite`, removed after the
    /// server stops (fields drop in order).
    _data: Option<TempDir>,
}

/// `STREAM_CHAT_TEST_STORE=sqlite`: every [`Env`] server keeps its state in SQLite, in a
/// fresh data directory (unless the test sets its own), so the whole suite runs against
/// the durable store too. Unset or `memory`: the in-memory store.
pub fn sqlite_store() -> bool {
    match std::env::var("STREAM_CHAT_TEST_STORE").as_deref() {
        Ok("sqlite") => true,
        Ok("memory") | Ok("") | Err(_) => false,
        Ok(other) => panic!("STREAM_CHAT_TEST_STORE={other}: expected sqlite or memory"),
    }
}

/// A directory under the system's temp dir, unique to this process and call, removed on
/// drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("stream-chat-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Env {
    pub fn start() -> Env {
        Env::with(Server::builder())
    }

    pub fn with(mut builder: ServerBuilder) -> Env {
        let mut data = None;
        if sqlite_store() && builder.configured_data_dir().is_none() {
            let dir = TempDir::new("test-store");
            builder = builder.data_dir(&dir.0);
            data = Some(dir);
        }
        let server = builder.start().expect("server starts");
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        Env {
            server,
            agent,
            _data: data,
        }
    }

    pub fn token(&self, user_id: &str) -> String {
        self.server.create_token(user_id, None)
    }

    fn url(&self, path: &str, with_key: bool) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        if with_key {
            format!(
                "{}{path}{sep}api_key={}",
                self.server.base_url(),
                self.server.api_key()
            )
        } else {
            format!("{}{path}", self.server.base_url())
        }
    }

    /// Sends a request (api_key added) and returns status and JSON body.
    pub fn call(&self, method: &str, path: &str, auth: Auth, body: Option<Value>) -> (u16, Value) {
        self.call_url(method, &self.url(path, true), auth, body)
    }

    /// Like [`Env::call`] without adding `api_key`.
    pub fn call_url(
        &self,
        method: &str,
        url: &str,
        auth: Auth,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (token, auth_type) = match auth {
            Auth::Server => (Some(self.server.server_token()), "jwt"),
            Auth::User(id) => (Some(self.token(id)), "jwt"),
            Auth::Token(t) => (Some(t.to_owned()), "jwt"),
            Auth::Anonymous => (None, "anonymous"),
        };
        let add = |mut headers: Vec<(&'static str, String)>| {
            headers.push(("stream-auth-type", auth_type.to_owned()));
            if let Some(t) = &token {
                headers.push(("Authorization", t.clone()));
            }
            headers
        };
        let headers = add(Vec::new());
        let response = match method {
            "GET" => headers
                .iter()
                .fold(self.agent.get(url), |r, (k, v)| r.header(*k, v))
                .call(),
            "DELETE" => headers
                .iter()
                .fold(self.agent.delete(url), |r, (k, v)| r.header(*k, v))
                .call(),
            m => {
                let builder = match m {
                    "POST" => self.agent.post(url),
                    "PATCH" => self.agent.patch(url),
                    "PUT" => self.agent.put(url),
                    _ => panic!("unsupported method {m}"),
                };
                let builder = headers.iter().fold(builder, |r, (k, v)| r.header(*k, v));
                builder.send_json(body.unwrap_or_else(|| json!({})))
            }
        };
        read(response.expect("request completes"))
    }

    /// Posts raw bytes.
    pub fn post_raw(&self, path: &str, bytes: &[u8]) -> (u16, Value) {
        let response = self
            .agent
            .post(&self.url(path, true))
            .header("Authorization", &self.server.server_token())
            .header("Content-Type", "application/json")
            .send(bytes)
            .expect("request completes");
        read(response)
    }

    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// Creates users (server side).
    pub fn upsert(&self, ids: &[&str]) {
        let users: serde_json::Map<String, Value> = ids
            .iter()
            .map(|id| (id.to_string(), json!({"id": id})))
            .collect();
        let (status, body) = self.call(
            "POST",
            "/users",
            Auth::Server,
            Some(json!({"users": users})),
        );
        assert_eq!(status, 200, "{body}");
    }

    /// Waits until the server's counters satisfy `fact` (checked again each time one changes,
    /// no polling) and returns them; fails the test after [`WITHIN`].
    pub fn wait_for(&self, what: &str, fact: impl FnMut(&Counters) -> bool) -> Counters {
        self.server
            .wait_for(WITHIN, fact)
            .unwrap_or_else(|last| panic!("timed out waiting for {what}; last seen {last:?}"))
    }

    /// Opens a WebSocket as a JWT user.
    pub fn connect(&self, user_id: &str) -> (Ws, Value) {
        self.connect_with(&self.user_params(user_id))
    }

    /// Opens an anonymous WebSocket, as the JS client does.
    pub fn connect_anonymous(&self) -> (Ws, Value) {
        self.connect_with(&[
            (
                "json",
                json!({"user_id": "0b9c-anon", "user_details": {"id": "0b9c-anon", "anon": true}})
                    .to_string(),
            ),
            ("authorization", String::new()),
            ("stream-auth-type", "anonymous".into()),
        ])
    }

    /// Opens a WebSocket with these query parameters (api_key added) and reads the first frame.
    pub fn connect_with(&self, params: &[(&str, String)]) -> (Ws, Value) {
        let mut ws = self.open_ws(params, true);
        let first = ws.next_json(WITHIN);
        (ws, first)
    }

    pub fn open_ws(&self, params: &[(&str, String)], with_key: bool) -> Ws {
        let mut query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        if with_key {
            query.push(format!("api_key={}", encode(self.server.api_key())));
        }
        let url = format!("ws://{}/connect?{}", self.server.addr(), query.join("&"));
        Ws::open(&url, self.server.addr())
    }

    /// Sends a WebSocket upgrade request to `/connect` (api_key added) that expects to be
    /// refused: returns the HTTP status and the JSON body of the answer.
    pub fn connect_refused(&self, params: &[(&str, String)]) -> (u16, Value) {
        use std::io::{BufRead, BufReader, Read, Write};
        let mut query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        query.push(format!("api_key={}", encode(self.server.api_key())));
        let mut tcp = TcpStream::connect_timeout(&self.server.addr(), WITHIN).unwrap();
        tcp.set_read_timeout(Some(WITHIN)).unwrap();
        write!(
            tcp,
            "GET /connect?{} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            query.join("&"),
            self.server.addr()
        )
        .unwrap();
        let mut reader = BufReader::new(tcp);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let status: u16 = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut length = 0;
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    /// The `/connect` parameters of a JWT user, as [`Env::connect`] sends them.
    pub fn user_params(&self, user_id: &str) -> Vec<(&'static str, String)> {
        vec![
            (
                "json",
                json!({"user_id": user_id, "user_details": {"id": user_id}}).to_string(),
            ),
            ("authorization", self.token(user_id)),
            ("stream-auth-type", "jwt".into()),
        ]
    }

    /// Gets or creates channel `cid` over REST (`POST /channels/{type}/{id}/query`).
    pub fn query_channel(&self, auth: Auth, cid: &str, body: Option<Value>) -> (u16, Value) {
        let (kind, id) = cid.split_once(':').unwrap();
        self.call("POST", &format!("/channels/{kind}/{id}/query"), auth, body)
    }

    /// Creates channel `cid` server-side with `creator` and `members`.
    pub fn create_channel(&self, cid: &str, creator: &str, members: &[&str]) {
        let data = json!({"data": {"created_by_id": creator, "members": members}});
        let (status, body) = self.query_channel(Auth::Server, cid, Some(data));
        assert_eq!(status, 200, "{body}");
    }

    /// Watches a channel over REST from a connection; returns the channel state.
    pub fn watch(&self, auth: Auth, cid: &str, connection_id: &str) -> (u16, Value) {
        let (kind, id) = cid.split_once(':').unwrap();
        self.call(
            "POST",
            &format!("/channels/{kind}/{id}/query?connection_id={connection_id}"),
            auth,
            Some(json!({"data": {}, "state": true, "watch": true, "presence": false})),
        )
    }

    /// Marks channel `cid` read (`POST /channels/{type}/{id}/read`).
    pub fn mark_read(&self, auth: Auth, cid: &str, body: Option<Value>) -> (u16, Value) {
        let (kind, id) = cid.split_once(':').unwrap();
        self.call("POST", &format!("/channels/{kind}/{id}/read"), auth, body)
    }

    pub fn send(&self, auth: Auth, cid: &str, text: &str) -> (u16, Value) {
        let (kind, id) = cid.split_once(':').unwrap();
        self.call(
            "POST",
            &format!("/channels/{kind}/{id}/message"),
            auth,
            Some(json!({"message": {"text": text}})),
        )
    }
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body reads");
    let body =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text:?}"));
    (status, body)
}

/// Percent-encodes everything but unreserved characters.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A token with custom claims signed with the server's secret.
pub fn signed(env: &Env, claims: Value) -> String {
    let claims: jwt::Claims = serde_json::from_value(claims).unwrap();
    jwt::sign(&claims, env.server.api_secret().as_bytes())
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A blocking WebSocket test client.
pub struct Ws {
    ws: WebSocket<TcpStream>,
}

impl Ws {
    fn open(url: &str, addr: std::net::SocketAddr) -> Ws {
        let tcp = TcpStream::connect_timeout(&addr, WITHIN).expect("tcp connects");
        let (ws, _) = tungstenite::client(url, tcp).expect("websocket handshake");
        Ws { ws }
    }

    /// The next message, waiting for it until `deadline` at most (`Ok(None)` once it
    /// passed): one blocking read whose timeout is the time left, repeated only when the
    /// read returns early without a whole message.
    fn read_before(&mut self, deadline: Instant) -> Result<Option<Message>, tungstenite::Error> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.ws.get_ref().set_read_timeout(Some(left)).unwrap();
            match self.ws.read() {
                Ok(m) => return Ok(Some(m)),
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            // A read with SO_RCVTIMEO is not restarted after a signal handler
                            // ran (signal(7)); the persistence tests' child processes raise SIGCHLD.
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next message within `within`, or `None` on timeout.
    pub fn next(&mut self, within: Duration) -> Option<Message> {
        self.read_before(Instant::now() + within)
            .unwrap_or_else(|e| panic!("websocket error: {e}"))
    }

    /// A frame that has already arrived, without waiting for one.
    pub fn try_next(&mut self) -> Option<Message> {
        let tcp = self.ws.get_ref();
        tcp.set_nonblocking(true).unwrap();
        let read = self.ws.read();
        self.ws.get_ref().set_nonblocking(false).unwrap();
        match read {
            Ok(m) => Some(m),
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => None,
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                self.try_next()
            }
            Err(e) => panic!("websocket error: {e}"),
        }
    }

    /// The next text frame as JSON (panics on timeout or a non-text frame).
    pub fn next_json(&mut self, within: Duration) -> Value {
        match self.next(within) {
            Some(Message::Text(t)) => serde_json::from_str(t.as_str()).expect("frame is JSON"),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// The next event of type `kind`, skipping others (health checks, watching events, ...).
    pub fn next_event(&mut self, kind: &str) -> Value {
        let deadline = Instant::now() + WITHIN;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                Some(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap();
                    if v["type"] == kind {
                        return v;
                    }
                }
                Some(_) => {}
                None => panic!("no {kind} event within {WITHIN:?}"),
            }
        }
    }

    /// Asserts no text frame of type `kind` arrives within `within`.
    pub fn assert_no_event(&mut self, kind: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while let Some(m) = self.next(deadline.saturating_duration_since(Instant::now())) {
            if let Message::Text(t) = m {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                assert_ne!(v["type"], kind, "unexpected {v}");
            }
        }
    }

    /// Waits for the server's close frame and returns it.
    pub fn expect_close(&mut self) -> CloseFrame {
        let deadline = Instant::now() + WITHIN;
        loop {
            match self.next(deadline.saturating_duration_since(Instant::now())) {
                Some(Message::Close(Some(frame))) => return frame,
                Some(Message::Close(None)) => panic!("close frame without a code"),
                Some(_) => {}
                None => panic!("no close frame within {WITHIN:?}"),
            }
        }
    }

    /// Reads until the connection ends: the close code, or `None` if it dropped without one.
    pub fn read_until_closed(&mut self) -> Option<u16> {
        let deadline = Instant::now() + WITHIN;
        loop {
            match self.read_before(deadline) {
                Ok(Some(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Ok(Some(_)) => {}
                Ok(None) => panic!("connection still open after {WITHIN:?}"),
                Err(_) => return None,
            }
        }
    }

    pub fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).expect("send");
    }

    /// Sends without asserting success (the server may close mid-frame).
    pub fn try_send_text(&mut self, text: &str) -> bool {
        self.ws.send(Message::text(text)).is_ok()
    }

    pub fn send(&mut self, message: Message) {
        self.ws.send(message).expect("send");
    }

    /// Closes from the client side and drives the close handshake.
    pub fn close(mut self) {
        let _ = self.ws.close(None);
        let deadline = Instant::now() + WITHIN;
        // Until the server's close (or any end of the connection) or the deadline.
        while let Ok(Some(_)) = self.read_before(deadline) {}
    }
}

/// Text frames up to and including the `message.new` whose text is `marker`.
pub fn frames_until_marker(ws: &mut Ws, marker: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let frame = ws.next_json(WITHIN);
        let done = frame["type"] == "message.new" && frame["message"]["text"] == marker;
        seen.push(frame);
        if done {
            return seen;
        }
    }
}
