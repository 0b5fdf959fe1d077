//! The WebSocket of a session: a task on the reactor (`crate::reactor`) that connects,
//! keeps the link alive with pings, declares it dead after a silent spell, and reconnects
//! with Stream's back-off. It never blocks its reactor thread: the token wait and the DNS
//! lookup, when they are needed, run on a short-lived thread that mails the result back;
//! the TCP connect, the handshakes and every read and write are non-blocking and resumed
//! when the socket is ready. `Session::stop` and `pause` reach it through its mailbox.
//! What happens on the link goes to whoever implements [`Reports`] (the hub): the socket
//! knows nothing above its session. (Over ~700 lines: one state machine, whose phases
//! read best side by side.)

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::Interest;
use mio::net::TcpStream;
use stream_chat_callbacks::{ChatError, ErrorKind, MAX_RETRY_AFTER, deadline_after};
use stream_chat_protocol::User;
use stream_chat_protocol::events::{AnyEvent, HealthCheckEvent};
use tungstenite::Message;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use url::Url;

use super::dial::{
    Handshake, Mid, Ws, connect_error, connect_url, host_port, needs_lookup, resolve,
    resume_handshake, start_handshake, ws_error,
};
use super::policy::{
    Attempt, Verdict, backoff, classify, is_refreshable, is_token_error, load_token, timeout_error,
};
use super::session::{AuthMode, Session};
use crate::api_error::{api_error, is_dev_token};
use crate::events::{ChatEvent, from_server};
use crate::reactor::{Cx, Task};
use crate::rest::new_request_id;
use crate::token::Token;

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

/// What a connection reports about its session's link. Reports of a session that
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

/// How long past its deadline an attempt waits for its token wait or DNS lookup (which
/// end by the deadline themselves, unless a lookup hangs) before it gives up on them.
const PREPARE_GRACE: Duration = Duration::from_secs(1);

/// Starts the connection of `session` on the shared reactor: it connects, reconnects
/// when the link breaks, and runs again instead of ending when the session is resumed
/// while it ends (see [`Session::exited`]).
pub(crate) fn start(
    hub: Arc<dyn Reports>,
    cfg: SocketConfig,
    session: Arc<Session>,
) -> Result<(), ChatError> {
    let runtime = crate::runtime::shared()?;
    runtime
        .reactor
        .place(Box::new(Connection::new(hub, cfg, session)))
        .map_err(|e| {
            ChatError::new(ErrorKind::Network, "cannot start the connection").with_source(e)
        })
}

/// What reaches a connection through its mailbox.
enum Msg {
    /// The session was stopped, paused or resumed: look at it.
    Wake,
    /// Attempt number `attempt` has its token and addresses (or cannot have them:
    /// `Err(None)` when the session stopped meanwhile).
    Prepared {
        attempt: u64,
        result: Result<Prepared, Option<ChatError>>,
    },
}

/// What an attempt needs before it dials.
struct Prepared {
    url: Url,
    host: String,
    port: u16,
    addrs: Vec<SocketAddr>,
    /// The token's version (for a refresh when the server rejects it).
    version: Option<u64>,
    dev_token: bool,
}

/// The `/connect` URL and the addresses of an attempt with `token`; the DNS lookup, for
/// a host name, blocks.
fn prepare(
    cfg: &SocketConfig,
    session: &Session,
    token: Option<&Token>,
) -> Result<Prepared, ChatError> {
    let url = connect_url(&cfg.ws_base, &cfg.api_key, session, token)?;
    let (host, port) = host_port(&url);
    let addrs = resolve(&host, port)?;
    if addrs.is_empty() {
        return Err(ChatError::new(
            ErrorKind::Network,
            format!("{host} has no address"),
        ));
    }
    Ok(Prepared {
        url,
        host,
        port,
        addrs,
        version: token.map(|t| t.version),
        dev_token: is_dev_token(token.map(|t| t.value.as_str())),
    })
}

/// Where a connection is.
enum Phase {
    /// Backing off before the next attempt (the timer ends it).
    Waiting,
    /// The token or the addresses are being obtained off the reactor.
    Preparing,
    Dialing(Box<Dial>),
    Handshaking(Box<Mid>),
    Open(Box<Open>),
    /// Ended, or between two phases.
    Ended,
}

/// A non-blocking TCP connect to one of the attempt's addresses.
struct Dial {
    prepared: Prepared,
    /// The index of the address being tried.
    next: usize,
    tcp: TcpStream,
}

/// An open WebSocket.
struct Open {
    ws: Ws,
    client_id: String,
    /// The server confirmed the connection (its first `health.check`).
    connected: bool,
    last_frame: Instant,
    next_ping: Instant,
}

/// What a step on an open link decided.
enum Flow {
    Continue,
    End(Attempt),
}

/// How `attempt` ends when the link breaks with `err`.
fn ended(connected: bool, err: ChatError) -> Flow {
    Flow::End(if connected {
        Attempt::Lost(err)
    } else {
        Attempt::Failed(err)
    })
}

/// One session's connection: its attempts, their back-off and the open link.
struct Connection {
    hub: Arc<dyn Reports>,
    cfg: SocketConfig,
    session: Arc<Session>,
    /// The session generation this run serves (see [`Session::exited`]).
    generation: u64,
    /// The first connect's deadline, counted from its call's start.
    initial_deadline: Instant,
    failures: u32,
    auth_failures: u32,
    /// Attempts in a row that ended with a protocol fault.
    protocol_faults: u32,
    /// The version of a token the server rejected: the next attempt loads a newer one.
    stale_token: Option<u64>,
    /// Numbers the attempts, so a late answer to an abandoned one is ignored.
    attempt: u64,
    /// The current attempt's deadline.
    deadline: Instant,
    /// The current attempt's token: its version, and whether it is a development token.
    used_version: Option<u64>,
    dev_token: bool,
    phase: Phase,
}

impl Connection {
    fn new(hub: Arc<dyn Reports>, cfg: SocketConfig, session: Arc<Session>) -> Self {
        Connection {
            hub,
            cfg,
            generation: session.generation(),
            initial_deadline: session.connect_deadline(),
            session,
            failures: 0,
            auth_failures: 0,
            protocol_faults: 0,
            stale_token: None,
            attempt: 0,
            deadline: Instant::now(),
            used_version: None,
            dev_token: false,
            phase: Phase::Waiting,
        }
    }

    /// Lets a stop, pause or resume of the session reach this task.
    fn arm(&self, cx: &mut Cx<'_>) {
        let mailbox = cx.mailbox();
        self.session.set_waker(Some(Box::new(move || {
            mailbox.send(Box::new(Msg::Wake));
        })));
    }

    /// Starts the next attempt: inline when the token is at hand and the host is an
    /// address, else on a short-lived thread that mails the result back (a token wait or
    /// a DNS lookup blocks; the reactor must not).
    fn begin(&mut self, cx: &mut Cx<'_>) {
        if self.session.is_halted() {
            return self.finish(cx);
        }
        self.attempt += 1;
        self.used_version = None;
        self.deadline = if self.session.ever_connected() {
            deadline_after(Instant::now(), self.cfg.connect_timeout)
        } else {
            self.initial_deadline
        };
        let at_hand = match &self.session.auth {
            AuthMode::Jwt(tokens) => tokens.ready(self.stale_token).map(Some),
            AuthMode::Anonymous => Some(None),
        };
        if let Some(token) = at_hand
            && !needs_lookup(&host_port(&self.cfg.ws_base).0)
        {
            let prepared = prepare(&self.cfg, &self.session, token.as_ref());
            return self.prepared(cx, prepared.map_err(Some));
        }
        let (attempt, cfg, session) = (self.attempt, self.cfg.clone(), Arc::clone(&self.session));
        let (stale, deadline, mailbox) = (self.stale_token, self.deadline, cx.mailbox());
        let spawned = std::thread::Builder::new()
            .name("stream-chat-dial".into())
            .spawn(move || {
                let result = load_token(&session, stale, deadline)
                    .and_then(|token| prepare(&cfg, &session, token.as_ref()).map_err(Some));
                mailbox.send(Box::new(Msg::Prepared { attempt, result }));
            });
        match spawned {
            Ok(_) => {
                self.phase = Phase::Preparing;
                cx.wake_at(Some(self.deadline + PREPARE_GRACE));
            }
            Err(e) => {
                let err = ChatError::new(ErrorKind::Network, "cannot start a thread to connect")
                    .with_source(e);
                self.after(cx, Attempt::Failed(err));
            }
        }
    }

    /// The attempt has what it needs (or failed to get it): dial.
    fn prepared(&mut self, cx: &mut Cx<'_>, result: Result<Prepared, Option<ChatError>>) {
        match result {
            Ok(prepared) => {
                self.stale_token = None;
                self.used_version = prepared.version;
                self.dev_token = prepared.dev_token;
                self.dial(cx, prepared, 0, None);
            }
            Err(None) => self.after(cx, Attempt::Stopped),
            Err(Some(e)) => self.after(cx, Attempt::Failed(e)),
        }
    }

    /// Connects to the first of `prepared.addrs[next..]` that takes a connect.
    fn dial(
        &mut self,
        cx: &mut Cx<'_>,
        prepared: Prepared,
        mut next: usize,
        mut last_error: Option<io::Error>,
    ) {
        while let Some(&addr) = prepared.addrs.get(next) {
            let registered = TcpStream::connect(addr).and_then(|mut tcp| {
                cx.registry()
                    .register(
                        &mut tcp,
                        cx.token(),
                        Interest::READABLE | Interest::WRITABLE,
                    )
                    .map(|()| tcp)
            });
            match registered {
                Ok(tcp) => {
                    self.phase = Phase::Dialing(Box::new(Dial {
                        prepared,
                        next,
                        tcp,
                    }));
                    cx.wake_at(Some(self.deadline));
                    return;
                }
                Err(e) => {
                    last_error = Some(e);
                    next += 1;
                }
            }
        }
        let err = connect_error(&prepared.host, prepared.port, last_error);
        self.after(cx, Attempt::Failed(err));
    }

    /// The dialling socket is ready: connected, refused, or not yet.
    fn dialled(&mut self, cx: &mut Cx<'_>, dial: Box<Dial>) {
        let failed = match dial.tcp.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => match dial.tcp.peer_addr() {
                Ok(_) => None,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    // Not connected yet: wait for the next readiness.
                    self.phase = Phase::Dialing(dial);
                    return;
                }
                Err(e) => Some(e),
            },
        };
        let Dial {
            prepared,
            next,
            tcp,
        } = *dial;
        if let Some(e) = failed {
            drop(tcp);
            return self.dial(cx, prepared, next + 1, Some(e));
        }
        let _ = tcp.set_nodelay(true);
        let handshake = start_handshake(&prepared.url, tcp, self.cfg.tls.as_ref(), self.dev_token);
        self.handshaking(cx, handshake);
    }

    fn handshaking(&mut self, cx: &mut Cx<'_>, handshake: Handshake) {
        match handshake {
            Handshake::Done(ws) => self.open(cx, *ws),
            Handshake::Pending(mid) => {
                self.phase = Phase::Handshaking(mid);
                cx.wake_at(Some(self.deadline));
            }
            Handshake::Failed(_) if self.session.is_halted() => self.after(cx, Attempt::Stopped),
            Handshake::Failed(e) => self.after(cx, Attempt::Failed(e)),
        }
    }

    /// The WebSocket is open: the server's confirmation (its first health check) is next.
    fn open(&mut self, cx: &mut Cx<'_>, ws: Ws) {
        let now = Instant::now();
        let mut open = Box::new(Open {
            ws,
            client_id: format!("{}--{}", self.session.user_id, new_request_id()),
            connected: false,
            last_frame: now,
            next_ping: deadline_after(now, self.cfg.health_check_interval),
        });
        // The handshake may have read frames already: no readiness will announce them.
        let flow = self.read(&mut open);
        self.settle(cx, open, flow);
    }

    /// After a step on the open link: the attempt ends, or the link waits for its next
    /// readiness or deadline (the dead-connection check or the next ping once confirmed,
    /// the attempt's deadline before).
    fn settle(&mut self, cx: &mut Cx<'_>, open: Box<Open>, flow: Flow) {
        match flow {
            Flow::Continue => {
                let at = if open.connected {
                    deadline_after(open.last_frame, self.cfg.dead_connection_timeout)
                        .min(open.next_ping)
                } else {
                    self.deadline
                };
                // Each frame moves the silence check later: keep the earlier timer, and let
                // `tick` find nothing due then (no stale timer per frame).
                cx.wake_by(at);
                self.phase = Phase::Open(open);
            }
            Flow::End(attempt) => {
                drop(open);
                self.after(cx, attempt);
            }
        }
    }

    /// Reads every frame that has arrived (the socket is edge-triggered).
    fn read(&self, open: &mut Open) -> Flow {
        loop {
            match open.ws.read() {
                Ok(Message::Text(text)) => {
                    open.last_frame = Instant::now();
                    if let Flow::End(attempt) = self.on_text(open, text.as_str()) {
                        return Flow::End(attempt);
                    }
                }
                Ok(Message::Close(frame)) => {
                    let _ = open.ws.flush();
                    let (code, reason) = frame.map_or((1005, String::new()), |f| {
                        (u16::from(f.code), f.reason.to_string())
                    });
                    if self.session.is_halted() {
                        return Flow::End(Attempt::Stopped);
                    }
                    let err = ChatError::new(
                        ErrorKind::Network,
                        format!("the server closed the connection (code {code}) {reason}")
                            .trim_end()
                            .to_owned(),
                    );
                    return ended(open.connected, err);
                }
                Ok(_) => open.last_frame = Instant::now(),
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Flow::Continue;
                }
                Err(_) if self.session.is_halted() => {
                    close_politely(&mut open.ws);
                    return Flow::End(Attempt::Stopped);
                }
                Err(e) => return ended(open.connected, ws_error("the connection failed", e)),
            }
        }
    }

    /// One text frame: the confirmation, a health check, an error or an event.
    fn on_text(&self, open: &mut Open, text: &str) -> Flow {
        let (hub, session) = (&*self.hub, &self.session);
        // One decode, straight into the event's struct.
        let event = match AnyEvent::from_json(text) {
            Ok(event) => event,
            Err(e) if !open.connected => {
                // Android's CANT_PARSE_EVENT: fail the connect now, not at its timeout.
                close_politely(&mut open.ws);
                let err = ChatError::new(
                    ErrorKind::Parse,
                    "the server's first frame is not a Stream event",
                )
                .with_source(e);
                return Flow::End(Attempt::Failed(err));
            }
            Err(e) => {
                log::warn!("ignoring an undecodable frame: {e}");
                return Flow::Continue;
            }
        };
        if let Some(body) = event.error() {
            let err = api_error(body, 0, self.dev_token);
            hub.event(session, ChatEvent::ConnectionError { error: err.clone() });
            close_politely(&mut open.ws);
            return ended(open.connected, err);
        }
        let AnyEvent::HealthCheck(check) = event else {
            if open.connected {
                hub.event(session, from_server(event));
            } else {
                log::debug!(
                    "ignoring '{}' before the connection was confirmed",
                    event.kind()
                );
            }
            return Flow::Continue;
        };
        let HealthCheckEvent {
            connection_id,
            created_at,
            me,
            ..
        } = *check;
        let mut reconnected = None;
        if !open.connected {
            if connection_id.is_empty() {
                return Flow::End(Attempt::Failed(ChatError::new(
                    ErrorKind::Parse,
                    "the server's first health.check has no connection_id",
                )));
            }
            let reconnect = session.ever_connected();
            if !hub.connected(session, &connection_id, me.clone()) {
                close_politely(&mut open.ws);
                return Flow::End(Attempt::Stopped);
            }
            open.connected = true;
            reconnected = Some(reconnect);
            open.next_ping = deadline_after(open.last_frame, self.cfg.health_check_interval);
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
        Flow::Continue
    }

    /// Writes what a full socket held back.
    fn flush(open: &mut Open) -> Flow {
        match open.ws.flush() {
            Ok(()) => Flow::Continue,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Flow::Continue
            }
            Err(e) => ended(open.connected, ws_error("the connection failed", e)),
        }
    }

    /// The open link's deadline: a dead connection, a ping due, or no confirmation.
    fn tick(&self, open: &mut Open) -> Flow {
        let now = Instant::now();
        if !open.connected {
            if now < self.deadline {
                return Flow::Continue;
            }
            return Flow::End(Attempt::Failed(ChatError::new(
                ErrorKind::Timeout,
                "the server did not confirm the connection in time",
            )));
        }
        let dead = self.cfg.dead_connection_timeout;
        if now >= deadline_after(open.last_frame, dead) {
            let err = ChatError::new(
                ErrorKind::Timeout,
                format!("no frame from the server for {dead:?}"),
            );
            return Flow::End(Attempt::Lost(err));
        }
        if now >= open.next_ping {
            let ping = serde_json::to_string(&[HealthCheckEvent::ping(open.client_id.as_str())])
                .unwrap_or_default();
            match open.ws.send(Message::text(ping)) {
                // A full socket keeps the frame and writes it when writable.
                Ok(()) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    return Flow::End(Attempt::Lost(ws_error("sending a health check failed", e)));
                }
            }
            open.next_ping = deadline_after(now, self.cfg.health_check_interval);
        }
        Flow::Continue
    }

    /// How an attempt ended decides what is next: the end, or another attempt after a
    /// back-off (Stream's policy: auth failures, refreshes, protocol faults, deadlines).
    fn after(&mut self, cx: &mut Cx<'_>, outcome: Attempt) {
        self.phase = Phase::Waiting;
        let session = Arc::clone(&self.session);
        let err = match outcome {
            Attempt::Stopped => return self.finish(cx),
            Attempt::Lost(err) => {
                log::info!("connection of '{}' lost: {err}", session.user_id);
                self.failures = 0;
                self.auth_failures = 0;
                self.hub.lost(&session, err.clone());
                err
            }
            Attempt::Failed(err) => {
                log::info!("connecting '{}' failed: {err}", session.user_id);
                self.failures = self.failures.saturating_add(1);
                err
            }
        };
        let is_auth = err.is_auth_error() || is_token_error(&err);
        self.protocol_faults = if err.kind() == ErrorKind::Protocol {
            self.protocol_faults.saturating_add(1)
        } else {
            0
        };
        let verdict = if !session.ever_connected() && !is_refreshable(&err, &session) {
            // The first connect reports its failure instead of retrying (code 40 with a
            // provider is the exception: the token is reloaded within the connect timeout).
            Verdict::Terminal
        } else {
            classify(
                &err,
                session.has_provider(),
                self.auth_failures,
                self.protocol_faults,
            )
        };
        if is_auth {
            self.auth_failures = self.auth_failures.saturating_add(1);
        }
        let delay = match verdict {
            Verdict::Terminal => {
                self.hub.failed(&session, err);
                return self.finish(cx);
            }
            // A new token is the change that can make the next attempt work: no wait.
            Verdict::Refresh => {
                self.stale_token = self.used_version;
                Duration::ZERO
            }
            // A server that said how long to wait (429/503 with `Retry-After`) is not
            // asked again sooner (up to the cap the retry policies use).
            Verdict::Retry => backoff(self.failures, self.cfg.max_reconnect_delay).max(
                err.retry_after()
                    .map_or(Duration::ZERO, |w| w.min(MAX_RETRY_AFTER)),
            ),
        };
        let now = Instant::now();
        if !session.ever_connected() && now >= self.initial_deadline {
            self.hub
                .failed(&session, timeout_error(self.cfg.connect_timeout));
            return self.finish(cx);
        }
        let delay = if session.ever_connected() {
            delay
        } else {
            delay.min(self.initial_deadline.saturating_duration_since(now))
        };
        log::debug!("'{}' retries in {delay:?}", session.user_id);
        cx.wake_at(Some(now + delay));
    }

    /// This run of the connection ends; it runs again when the session was resumed
    /// meanwhile (see [`Session::exited`]).
    fn finish(&mut self, cx: &mut Cx<'_>) {
        self.phase = Phase::Ended;
        cx.wake_at(None);
        self.session.set_waker(None);
        match self.session.exited(self.generation) {
            Some(generation) => {
                self.generation = generation;
                self.initial_deadline = self.session.connect_deadline();
                self.failures = 0;
                self.auth_failures = 0;
                self.protocol_faults = 0;
                self.stale_token = None;
                self.arm(cx);
                self.begin(cx);
            }
            None => {
                cx.done();
                // After `exited`: a logger that panics here cannot keep the session alive.
                log::debug!("connection of '{}' ends", self.session.user_id);
            }
        }
    }
}

impl Task for Connection {
    fn start(&mut self, cx: &mut Cx<'_>) {
        log::debug!("connection of '{}' starts", self.session.user_id);
        self.arm(cx);
        self.begin(cx);
    }

    fn ready(&mut self, cx: &mut Cx<'_>, readable: bool, writable: bool) {
        match std::mem::replace(&mut self.phase, Phase::Ended) {
            Phase::Dialing(dial) => self.dialled(cx, dial),
            Phase::Handshaking(mid) => {
                let handshake = resume_handshake(*mid, self.dev_token);
                self.handshaking(cx, handshake);
            }
            Phase::Open(mut open) => {
                let mut flow = Flow::Continue;
                if writable {
                    flow = Self::flush(&mut open);
                }
                if readable && matches!(flow, Flow::Continue) {
                    flow = self.read(&mut open);
                }
                self.settle(cx, open, flow);
            }
            // Readiness of a socket that is gone.
            other => self.phase = other,
        }
    }

    fn timer(&mut self, cx: &mut Cx<'_>) {
        match std::mem::replace(&mut self.phase, Phase::Ended) {
            Phase::Waiting => {
                if self.session.is_halted() {
                    return self.finish(cx);
                }
                if self.session.ever_connected() {
                    self.hub.reconnecting(&self.session);
                }
                self.begin(cx);
            }
            Phase::Preparing => {
                let err = ChatError::new(
                    ErrorKind::Timeout,
                    "the token or the server's address was not ready within the connect timeout",
                );
                self.after(cx, Attempt::Failed(err));
            }
            Phase::Dialing(dial) => {
                let err = connect_error(&dial.prepared.host, dial.prepared.port, None);
                drop(dial);
                self.after(cx, Attempt::Failed(err));
            }
            Phase::Handshaking(mid) => {
                drop(mid);
                let err = ChatError::new(ErrorKind::Timeout, "the WebSocket handshake timed out");
                self.after(cx, Attempt::Failed(err));
            }
            Phase::Open(mut open) => {
                let flow = self.tick(&mut open);
                self.settle(cx, open, flow);
            }
            Phase::Ended => {}
        }
    }

    fn message(&mut self, cx: &mut Cx<'_>, message: crate::reactor::Message) {
        let Ok(message) = message.downcast::<Msg>() else {
            return;
        };
        match *message {
            Msg::Wake => {
                let resumed = self.session.generation() != self.generation;
                if !self.session.is_halted() && !resumed {
                    return;
                }
                if let Phase::Open(mut open) = std::mem::replace(&mut self.phase, Phase::Ended) {
                    close_politely(&mut open.ws);
                }
                self.finish(cx);
            }
            Msg::Prepared { attempt, result } => {
                if attempt == self.attempt && matches!(self.phase, Phase::Preparing) {
                    self.prepared(cx, result);
                }
            }
        }
    }

    fn panicked(&mut self, cx: &mut Cx<'_>, why: String) {
        self.phase = Phase::Ended;
        let err = ChatError::new(
            ErrorKind::Panicked,
            format!("the connection panicked: {why}"),
        );
        self.hub.failed(&self.session, err);
        self.finish(cx);
    }
}

/// Sends a close frame (code 1000) without waiting for the server's answer; what the
/// socket cannot take now is dropped with it.
fn close_politely(ws: &mut Ws) {
    let _ = ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "Connection close by client".into(),
    }));
    let _ = ws.flush();
}
