//! Peers in front of, or instead of, the local server: a [`Proxy`] that forwards, holds,
//! gates or answers each request by its path, and a [`silent_peer`] that never answers.
//! The proxy is also the fault injector: a slow network ([`Route::Delay`]), a dropped request
//! ([`Route::Close`]), an answer or a socket cut half way ([`Route::CutAfter`]), a black
//! hole ([`Route::Hold`]), its own answers (429/503 bursts with `Retry-After`,
//! [`Route::Answer`]) and a test's own peer on the connection ([`Route::Raw`]).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use stream_chat_server::ServerHandle;

/// What a [`Proxy`] does with one request, chosen by its path (without the query).
pub enum Route {
    /// Pass it to the server. A REST request goes on a connection of its own (the proxy
    /// asks the server to close after its answer), so every request is routed and reported.
    Forward,
    /// Accept it and never answer; the connection stays open until the proxy is dropped.
    /// Reported on [`Proxy::seen`].
    Hold,
    /// Forward it once `gate` yields a message or is dropped. Reported on [`Proxy::seen`].
    After(Receiver<()>),
    /// Answer Stream's code 40, as if the token had expired since the socket connected.
    TokenExpired,
    /// Forward it after this delay (a slow network; not a synchronisation).
    Delay(Duration),
    /// Close the connection at once, before any byte of an answer (a dropped request).
    Close,
    /// Forward it, but cut the connection after the server's first `n` bytes: a REST
    /// answer cut half way, or a WebSocket cut in the middle of a frame.
    CutAfter(usize),
    /// Answer with the proxy's own HTTP answer, then close.
    Answer(Answer),
    /// Hand the connection, with the request head already read, to a test's own peer.
    Raw(Arc<dyn Fn(String, TcpStream) + Send + Sync>),
}

/// An HTTP answer of the proxy's own.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub reason: &'static str,
    /// Extra header lines (`Content-Length` and `Connection: close` are added).
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    /// Stream's rate-limit answer: 429, code 9, with `Retry-After: retry_after` when given.
    pub fn rate_limited(retry_after: Option<&str>) -> Answer {
        Answer {
            status: 429,
            reason: "Too Many Requests",
            headers: retry_after
                .map(|v| vec![("Retry-After".to_owned(), v.to_owned())])
                .unwrap_or_default(),
            body: r#"{"code":9,"message":"Too many requests, check response headers for more information.","StatusCode":429,"duration":"0.00ms","more_info":"https://getstream.io/chat/docs/rate_limits/"}"#.to_owned(),
        }
    }

    /// A load balancer's 503 page with `Retry-After: retry_after`.
    pub fn unavailable(retry_after: &str) -> Answer {
        Answer {
            status: 503,
            reason: "Service Unavailable",
            headers: vec![("Retry-After".to_owned(), retry_after.to_owned())],
            body: "<html><body><h1>503 Service Unavailable</h1></body></html>".to_owned(),
        }
    }

    /// Adds a header line.
    pub fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The answer's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(self.body.as_bytes());
        bytes
    }
}

/// A proxy in front of a local server.
pub struct Proxy {
    /// `http://ip:port` of the proxy.
    pub url: String,
    /// The request line of every REST request (not WebSocket upgrades), whatever its route.
    pub rest: Receiver<String>,
    /// The path of every request it holds or gates.
    pub seen: Receiver<String>,
    addr: SocketAddr,
    swap: Arc<Mutex<Option<(String, String)>>>,
    held: Arc<Mutex<Vec<TcpStream>>>,
    stopped: Arc<AtomicBool>,
}

/// What every connection of one proxy shares.
struct Shared {
    upstream: SocketAddr,
    route: Box<dyn Fn(&str) -> Route + Send + Sync>,
    rest: Sender<String>,
    seen: Sender<String>,
    swap: Arc<Mutex<Option<(String, String)>>>,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    /// Starts a proxy in front of `server` that routes each request with `route(path)`.
    pub fn start(
        server: &ServerHandle,
        route: impl Fn(&str) -> Route + Send + Sync + 'static,
    ) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (rest_tx, rest) = crossbeam_channel::unbounded();
        let (seen_tx, seen) = crossbeam_channel::unbounded();
        let swap = Arc::new(Mutex::new(None));
        let held = Arc::new(Mutex::new(Vec::new()));
        let stopped = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared {
            upstream: server.addr(),
            route: Box::new(route),
            rest: rest_tx,
            seen: seen_tx,
            swap: Arc::clone(&swap),
            held: Arc::clone(&held),
        });
        let stop = Arc::clone(&stopped);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || serve(client, &shared));
            }
        });
        Proxy {
            url: format!("http://{addr}"),
            rest,
            seen,
            addr,
            swap,
            held,
            stopped,
        }
    }

    /// From now on, requests carrying `token` (header or URL) reach the server with
    /// `expired` instead: the server itself answers code 40, as if `token` had expired.
    pub fn expire(&self, token: &str, expired: &str) {
        *self.swap.lock().unwrap() = Some((token.to_owned(), expired.to_owned()));
    }
}

impl Drop for Proxy {
    /// Closes the held connections and ends the accepting thread (woken by one last
    /// connection): tests share one process, so nothing of a proxy outlives it.
    fn drop(&mut self) {
        for stream in self.held.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        self.stopped.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// What a [`proxy`] does with WebSocket upgrades (`GET /connect`).
#[derive(Clone, Copy)]
pub enum Upgrades {
    /// Pass them to the server.
    Forward,
    /// Accept and never answer: the socket stays connecting.
    Hold,
    /// Forward the first, hold the others: reconnects stay reconnecting.
    ForwardFirst,
}

/// What a [`proxy`] does with REST requests.
#[derive(Clone, Copy)]
pub enum Rest {
    /// Pass them to the server, one connection each.
    Forward,
    /// Answer Stream's code 40, as if the token had expired since the socket connected.
    TokenExpired,
}

/// A [`Proxy`] in front of `server` that treats every upgrade alike and every REST
/// request alike.
pub fn proxy(server: &ServerHandle, upgrades: Upgrades, rest: Rest) -> Proxy {
    let upgraded = AtomicUsize::new(0);
    Proxy::start(server, move |path| {
        if path == "/connect" {
            let first = upgraded.fetch_add(1, Ordering::SeqCst) == 0;
            match upgrades {
                Upgrades::Forward => Route::Forward,
                Upgrades::ForwardFirst if first => Route::Forward,
                _ => Route::Hold,
            }
        } else {
            match rest {
                Rest::Forward => Route::Forward,
                Rest::TokenExpired => Route::TokenExpired,
            }
        }
    })
}

fn serve(client: TcpStream, shared: &Shared) {
    let Some(mut head) = read_head(&client) else {
        return;
    };
    if let Some((token, expired)) = shared.swap.lock().unwrap().as_ref() {
        head = head.replace(token.as_str(), expired);
    }
    let path = path_of(&head);
    let upgrade = path == "/connect";
    if !upgrade {
        let _ = shared
            .rest
            .send(head.lines().next().unwrap_or_default().to_owned());
    }
    match (shared.route)(&path) {
        Route::Forward => {}
        Route::Hold => {
            let _ = shared.seen.send(path);
            shared.held.lock().unwrap().push(client);
            return;
        }
        Route::After(gate) => {
            let _ = shared.seen.send(path);
            let _ = gate.recv();
        }
        Route::TokenExpired => {
            answer_token_expired(&head, &client);
            return;
        }
        Route::Delay(delay) => std::thread::sleep(delay),
        Route::Close => {
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        Route::CutAfter(n) => {
            let head = if upgrade { head } else { close_after(&head) };
            forward_cut(&head, client, shared.upstream, n);
            return;
        }
        Route::Answer(answer) => {
            let mut body = vec![0; content_length(&head)];
            if (&client).read_exact(&mut body).is_ok() {
                let _ = (&client).write_all(&answer.bytes());
            }
            let _ = client.shutdown(Shutdown::Write);
            return;
        }
        Route::Raw(peer) => {
            peer(head, client);
            return;
        }
    }
    let head = if upgrade { head } else { close_after(&head) };
    forward(&head, client, shared.upstream);
}

/// The path of a request head, without its query.
fn path_of(head: &str) -> String {
    head.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The request head up to and including the blank line, read byte by byte so that nothing
/// after it is consumed.
pub fn read_head(mut stream: &TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).ok()
}

/// The `Content-Length` of a request head (0 without one).
pub fn content_length(head: &str) -> usize {
    header_value(head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn header_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// `head` asking the server to close the connection after its answer, so that every
/// request comes on a connection of its own (and is routed and reported).
fn close_after(head: &str) -> String {
    let kept: String = head
        .split_inclusive("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    let end = kept.len() - 2; // before the blank line
    format!("{}Connection: close\r\n\r\n", &kept[..end])
}

fn answer_token_expired(head: &str, client: &TcpStream) {
    let mut body = vec![0; content_length(head)];
    if (&*client).read_exact(&mut body).is_err() {
        return;
    }
    let expired = br#"{"code":40,"message":"JWTAuth error: token is expired (exp)","StatusCode":401,"duration":"0.00ms","more_info":""}"#;
    let answer = format!(
        "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        expired.len()
    );
    let _ = (&*client)
        .write_all(answer.as_bytes())
        .and_then(|()| (&*client).write_all(expired));
}

/// Sends `head` upstream, then copies bytes both ways until either side closes.
fn forward(head: &str, client: TcpStream, upstream: SocketAddr) {
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    if (&server).write_all(head.as_bytes()).is_err() {
        return;
    }
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut &server2, &mut &client2);
        let _ = client2.shutdown(Shutdown::Both);
    });
    let _ = std::io::copy(&mut &client, &mut &server);
    let _ = server.shutdown(Shutdown::Both);
    let _ = back.join();
}

/// [`forward`], but only the server's first `limit` bytes reach the client; then both
/// connections are shut down.
fn forward_cut(head: &str, client: TcpStream, upstream: SocketAddr, limit: usize) {
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    if (&server).write_all(head.as_bytes()).is_err() {
        return;
    }
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let back = std::thread::spawn(move || {
        let mut left = limit;
        let mut buf = [0u8; 4096];
        while left > 0 {
            let n = match (&server2).read(&mut buf[..left.min(4096)]) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if (&client2).write_all(&buf[..n]).is_err() {
                break;
            }
            left -= n;
        }
        let _ = client2.shutdown(Shutdown::Both);
        let _ = server2.shutdown(Shutdown::Both);
    });
    let _ = std::io::copy(&mut &client, &mut &server);
    let _ = server.shutdown(Shutdown::Both);
    let _ = back.join();
}

/// A TCP peer that accepts connections and never answers: its base URL and the accepted
/// streams (hold them, or the client sees EOF instead of silence).
pub fn silent_peer() -> (String, Receiver<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if tx.send(stream).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

/// Answers a WebSocket upgrade (`head`, read already) with `101 Switching Protocols`, so
/// that a test's own peer ([`Route::Raw`]) can then write any frame it likes.
pub fn accept_upgrade(head: &str, stream: &TcpStream) -> bool {
    let Some(key) = header_value(head, "sec-websocket-key") else {
        return false;
    };
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    (&*stream).write_all(answer.as_bytes()).is_ok()
}

/// A TLS server on loopback whose certificate is self-signed (`support/tls/`), so no
/// client trusts it: its `https://` base URL and a report of each TLS handshake it ran
/// (`Err` with rustls' reason when the client refused it).
pub fn untrusted_tls_peer() -> (String, Receiver<Result<(), String>>) {
    let config = super::tls::server_config(
        include_bytes!("tls/self-signed-cert.der"),
        include_bytes!("tls/self-signed-key.pk8.der"),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
            let mut conn = rustls::ServerConnection::new(Arc::clone(&config)).unwrap();
            let mut result = Ok(());
            while conn.is_handshaking() {
                if let Err(e) = conn.complete_io(&mut stream) {
                    result = Err(e.to_string());
                    break;
                }
            }
            if tx.send(result).is_err() {
                return;
            }
        }
    });
    (url, rx)
}
