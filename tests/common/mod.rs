//! Helpers shared by the integration tests: a local server, clients pointed at it, and
//! waiting on events with deadlines (never sleeping to synchronise).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender};
use stream_chat_client::{
    ChatClient, ChatClientBuilder, ChatEvent, ChatResult, ConnectionState, Subscription,
    TokenError, TokenSource,
};
use stream_chat_server::{Server, ServerHandle};

/// Generous upper bound for anything that should happen "soon".
pub const WAIT: Duration = Duration::from_secs(20);

pub fn server() -> ServerHandle {
    Server::builder().start().expect("local server starts")
}

pub fn builder(server: &ServerHandle) -> ChatClientBuilder {
    ChatClient::builder(server.api_key()).base_url(server.base_url())
}

pub fn client(server: &ServerHandle) -> ChatClient {
    builder(server).build().expect("client builds")
}

pub fn addr(server: &ServerHandle) -> SocketAddr {
    let url = server.base_url();
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("base_url is http://ip:port")
}

/// A loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Runs `call.enqueue` and waits for its single callback; fails the test after `WAIT`.
pub fn enqueue_and_wait<T: Send + 'static>(call: &stream_chat_client::Call<T>) -> ChatResult<T> {
    let (tx, rx) = crossbeam_channel::unbounded();
    call.enqueue(move |r| tx.send(r).unwrap());
    let result = rx.recv_timeout(WAIT).expect("the callback fires");
    assert_silent(&rx);
    result
}

/// Asserts that nothing more arrives on `rx` and that all its senders are gone: a
/// callback owning the `Sender` is dropped once it ran or was discarded, which
/// disconnects the channel. Fails on a message or on a sender still alive after `WAIT`.
#[track_caller]
pub fn assert_silent<T>(rx: &Receiver<T>) {
    match rx.recv_timeout(WAIT) {
        Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {}
        Ok(_) => panic!("expected no more messages, got one (a second callback?)"),
        Err(err) => panic!("a sender (an undelivered callback?) stayed alive for {WAIT:?}: {err}"),
    }
}

/// A token provider that counts its calls and hands out the tokens `make(n)` returns for
/// the n-th call (0-based).
pub fn counting_provider(
    make: impl Fn(usize) -> String + Send + Sync + 'static,
) -> (TokenSource, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let source = TokenSource::provider(move || -> Result<String, TokenError> {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        Ok(make(n))
    });
    (source, calls)
}

/// Records every event of a client into a channel.
pub struct Recorder {
    pub rx: Receiver<(Instant, ChatEvent)>,
    _subscription: Subscription,
}

impl Recorder {
    pub fn new(client: &ChatClient) -> Self {
        let (tx, rx): (Sender<(Instant, ChatEvent)>, _) = crossbeam_channel::unbounded();
        let subscription = client.subscribe(move |e| {
            let _ = tx.send((Instant::now(), e.clone()));
        });
        Recorder {
            rx,
            _subscription: subscription,
        }
    }

    /// Waits for the next `connection.changed` to `state` (skipping others); returns when
    /// it was delivered and the error it carried.
    pub fn wait_state(
        &self,
        state: ConnectionState,
        limit: Duration,
    ) -> (Instant, Option<stream_chat_client::ChatError>) {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok((at, ChatEvent::ConnectionChanged { state: s, error })) if s == state => {
                    return (at, error);
                }
                Ok(_) => {}
                Err(_) => panic!("no connection.changed to {state} within {limit:?}"),
            }
        }
    }

    /// The states of the `connection.changed` events received so far.
    pub fn states_so_far(&self) -> Vec<ConnectionState> {
        self.rx
            .try_iter()
            .filter_map(|(_, e)| match e {
                ChatEvent::ConnectionChanged { state, .. } => Some(state),
                _ => None,
            })
            .collect()
    }
}

/// Threads of this process whose name starts with `prefix` (Linux only; `None` elsewhere).
pub fn threads_named(prefix: &str) -> Option<usize> {
    let dir = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        dir.filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
            .filter(|name| name.trim_end().starts_with(prefix))
            .count(),
    )
}

/// Connects `id` as a regular user with a token from the server.
pub fn connect_as(
    client: &ChatClient,
    server: &ServerHandle,
    id: &str,
) -> stream_chat_client::ConnectionData {
    client
        .connect_user(
            stream_chat_client::User::new(id),
            server.create_token(id, None),
        )
        .execute()
        .into_result()
        .unwrap_or_else(|e| panic!("connect {id}: {e}"))
}

/// A client of `server` with `id` connected.
pub fn connected(server: &ServerHandle, id: &str) -> ChatClient {
    let client = client(server);
    connect_as(&client, server, id);
    client
}

/// Typed events of one kind, collected into a channel as they are delivered.
pub struct Events<T> {
    pub rx: Receiver<T>,
    _subscription: Subscription,
}

impl<T: stream_chat_client::EventKind> Events<T> {
    /// Every `T` of the client.
    pub fn of(client: &ChatClient) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        let sub = client.subscribe_for_type::<T>(move |e| {
            let _ = tx.send(e.clone());
        });
        Events {
            rx,
            _subscription: sub,
        }
    }

    /// The `T`s of one channel.
    pub fn on(channel: &stream_chat_client::ChannelClient) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        let sub = channel.subscribe_for_type::<T>(move |e| {
            let _ = tx.send(e.clone());
        });
        Events {
            rx,
            _subscription: sub,
        }
    }

    /// The next event; fails the test after `WAIT`.
    pub fn next(&self) -> T {
        self.rx
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("no {} within {WAIT:?}", T::TYPE))
    }

    /// The next `n` events.
    pub fn take(&self, n: usize) -> Vec<T> {
        (0..n).map(|_| self.next()).collect()
    }
}

/// The texts of new-message events, in order.
pub fn texts(events: &[stream_chat_client::NewMessageEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.message.text.clone().unwrap_or_default())
        .collect()
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

/// A proxy in front of a local server; `rest` reports each REST request line.
pub struct Proxy {
    pub url: String,
    pub rest: Receiver<String>,
    swap: Arc<std::sync::Mutex<Option<(String, String)>>>,
}

impl Proxy {
    /// From now on, requests carrying `token` (header or URL) reach the server with
    /// `expired` instead: the server itself answers code 40, as if `token` had expired.
    pub fn expire(&self, token: &str, expired: &str) {
        *self.swap.lock().unwrap() = Some((token.to_owned(), expired.to_owned()));
    }
}

/// Starts a [`Proxy`] in front of `server`.
pub fn proxy(server: &ServerHandle, upgrades: Upgrades, rest: Rest) -> Proxy {
    let upstream = addr(server);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = crossbeam_channel::unbounded();
    let upgraded = Arc::new(AtomicUsize::new(0));
    let swap = Arc::new(std::sync::Mutex::new(None::<(String, String)>));
    let swapping = Arc::clone(&swap);
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (tx, upgraded, swap) = (tx.clone(), Arc::clone(&upgraded), Arc::clone(&swapping));
            std::thread::spawn(move || {
                let Some(mut head) = read_head(&client) else {
                    return;
                };
                if let Some((token, expired)) = swap.lock().unwrap().as_ref() {
                    head = head.replace(token.as_str(), expired);
                }
                if head.starts_with("GET /connect") {
                    let first = upgraded.fetch_add(1, Ordering::SeqCst) == 0;
                    match upgrades {
                        Upgrades::Forward => forward(&head, client, upstream),
                        Upgrades::ForwardFirst if first => forward(&head, client, upstream),
                        // Until the client gives up and closes.
                        _ => drop(std::io::copy(&mut &client, &mut std::io::sink())),
                    }
                    return;
                }
                let _ = tx.send(head.lines().next().unwrap_or_default().to_owned());
                match rest {
                    Rest::Forward => forward(&close_after(&head), client, upstream),
                    Rest::TokenExpired => answer_token_expired(&head, &client),
                }
            });
        }
    });
    Proxy {
        url,
        rest: rx,
        swap,
    }
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
/// request comes on a connection of its own (and is reported).
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
    let (client2, server2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut &server2, &mut &client2);
        let _ = client2.shutdown(Shutdown::Both);
    });
    let _ = std::io::copy(&mut &client, &mut &server);
    let _ = server.shutdown(Shutdown::Both);
    let _ = back.join();
}

/// A TCP peer that accepts connections and never answers: its base URL and the accepted
/// streams (hold them, or the client sees EOF instead of silence).
pub fn silent_peer() -> (String, crossbeam_channel::Receiver<std::net::TcpStream>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
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
