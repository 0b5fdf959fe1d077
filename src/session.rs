//! The connection state machine: which session (user + connection thread) is current,
//! its `ConnectionState`, and waiting for a session to connect.

use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use stream_chat_callbacks::{CancelToken, ChatError, ErrorKind};
use stream_chat_protocol::User;

use crate::client::ConnectionData;
use crate::events::{ChatEvent, ConnectionState, EventSender};
use crate::recovery::Tracker;
use crate::socket::SocketConfig;
use crate::token::TokenManager;

/// How a session authenticates.
pub(crate) enum AuthMode {
    Jwt(Arc<TokenManager>),
    Anonymous,
}

/// The shared connection state of one client.
pub(crate) struct Hub {
    slot: Mutex<Slot>,
    /// Notified on every change of the slot (session or state).
    slot_changed: Condvar,
    events: EventSender,
    socket: SocketConfig,
    tracker: Arc<Tracker>,
}

pub(crate) struct Slot {
    pub(crate) current: Option<Arc<Session>>,
    pub(crate) state: ConnectionState,
    next_id: u64,
    /// How the last session ended: its id, user and terminal error (for waiting calls).
    ended: Option<(u64, String, Option<ChatError>)>,
}

/// One connected (or connecting) user and its connection thread.
pub(crate) struct Session {
    id: u64,
    pub(crate) user_id: String,
    pub(crate) auth: AuthMode,
    initial_details: User,
    inner: Mutex<Inner>,
    changed: Condvar,
    stopped: AtomicBool,
    /// Waiting connect calls; changed only under the hub's slot lock.
    waiters: AtomicUsize,
    stop_tx: Mutex<Option<Sender<()>>>,
    stop_rx: Receiver<()>,
    stream: Mutex<Option<TcpStream>>,
    /// The thread's exit signal (its sender drops when the body returns) and handle.
    thread: Mutex<Option<(Receiver<()>, std::thread::JoinHandle<()>)>>,
}

struct Inner {
    user: User,
    connection_id: Option<String>,
    ever_connected: bool,
    failed: Option<ChatError>,
}

/// Why waiting for a connection ended without one.
pub(crate) enum WaitEnd {
    Failed(ChatError),
    Cancelled,
    TimedOut,
}

impl Hub {
    pub(crate) fn new(events: EventSender, socket: SocketConfig, tracker: Arc<Tracker>) -> Self {
        Hub {
            slot: Mutex::new(Slot {
                current: None,
                state: ConnectionState::Disconnected,
                next_id: 1,
                ended: None,
            }),
            slot_changed: Condvar::new(),
            events,
            socket,
            tracker,
        }
    }

    pub(crate) fn tracker(&self) -> &Arc<Tracker> {
        &self.tracker
    }

    /// Waits until a session is connected, for calls that need a connection id. `origin`
    /// is the session current when the call was made: if it (or a session seen while
    /// waiting) ends without a successor, the wait fails with
    /// [`ErrorKind::NotConnected`] at once. A call made while nobody was connected waits
    /// for the next connect. When `limit` passes: [`ErrorKind::Timeout`] if a user is set
    /// but the socket is not up, [`ErrorKind::NotConnected`] if nobody is connected.
    pub(crate) fn wait_connected(
        self: &Arc<Self>,
        cancel: &CancelToken,
        limit: Duration,
        origin: Option<u64>,
    ) -> Result<(Arc<Session>, String), ChatError> {
        let deadline = Instant::now() + limit;
        let weak = Arc::downgrade(self);
        cancel.on_cancel(move || {
            if let Some(hub) = weak.upgrade() {
                let _slot = hub.lock();
                hub.slot_changed.notify_all();
            }
        });
        let mut slot = self.lock();
        let mut seen = origin;
        loop {
            match &slot.current {
                Some(session) => {
                    if let Some(id) = session.connection_id() {
                        return Ok((Arc::clone(session), id));
                    }
                    seen = Some(session.id);
                }
                None => {
                    if let Some(gone) = seen {
                        let (user, why) = match &slot.ended {
                            Some((id, user, why)) if *id == gone => (user.as_str(), why.clone()),
                            _ => ("the user", None),
                        };
                        let err = ChatError::new(
                            ErrorKind::NotConnected,
                            format!("'{user}' was disconnected before the call got a connection"),
                        );
                        return Err(match why {
                            Some(cause) => err.with_source(cause),
                            None => err,
                        });
                    }
                }
            }
            if cancel.is_canceled() {
                return Err(ChatError::cancelled());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(match &slot.current {
                    Some(s) => ChatError::new(
                        ErrorKind::Timeout,
                        format!(
                            "the connection of '{}' was not up within {limit:?} (wait_for_connection_timeout)",
                            s.user_id
                        ),
                    ),
                    None => ChatError::new(
                        ErrorKind::NotConnected,
                        format!("no user connected within {limit:?} (wait_for_connection_timeout)"),
                    ),
                });
            }
            slot = self
                .slot_changed
                .wait_timeout(slot, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    pub(crate) fn socket_config(&self) -> SocketConfig {
        self.socket.clone()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a session for `user` in state `Connecting` and starts its thread. Called
    /// with the slot locked and empty.
    pub(crate) fn start_session(
        self: &Arc<Self>,
        slot: &mut Slot,
        user: User,
        auth: AuthMode,
    ) -> Result<Arc<Session>, ChatError> {
        let (stop_tx, stop_rx) = crossbeam_channel::bounded(0);
        let (exit_tx, exit_rx) = crossbeam_channel::bounded::<()>(0);
        let session = Arc::new(Session {
            id: slot.next_id,
            user_id: user.id.clone(),
            auth,
            initial_details: user.clone(),
            inner: Mutex::new(Inner {
                user,
                connection_id: None,
                ever_connected: false,
                failed: None,
            }),
            changed: Condvar::new(),
            stopped: AtomicBool::new(false),
            waiters: AtomicUsize::new(1),
            stop_tx: Mutex::new(Some(stop_tx)),
            stop_rx,
            stream: Mutex::new(None),
            thread: Mutex::new(None),
        });
        slot.next_id += 1;
        let (hub, thread_session) = (Arc::clone(self), Arc::clone(&session));
        let handle = std::thread::Builder::new()
            .name("stream-chat-ws".into())
            .spawn(move || {
                let _exit = exit_tx;
                crate::socket::run(hub, thread_session);
            })
            .map_err(|e| {
                ChatError::new(ErrorKind::Network, "cannot start the connection thread")
                    .with_source(e)
            })?;
        *session.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some((exit_rx, handle));
        slot.current = Some(Arc::clone(&session));
        self.tracker.reset(session.id);
        self.set_state(slot, ConnectionState::Connecting, None);
        Ok(session)
    }

    /// Removes `session` if it is current: state `Disconnected`, its thread stopped.
    /// Returns whether it was current.
    pub(crate) fn end_session(
        &self,
        slot: &mut Slot,
        session: &Arc<Session>,
        error: Option<ChatError>,
    ) -> bool {
        if !is_current(slot, session) {
            return false;
        }
        slot.current = None;
        slot.ended = Some((session.id, session.user_id.clone(), error.clone()));
        self.tracker.reset(0);
        self.set_state(slot, ConnectionState::Disconnected, error);
        self.slot_changed.notify_all();
        true
    }

    fn set_state(&self, slot: &mut Slot, state: ConnectionState, error: Option<ChatError>) {
        if slot.state == state && error.is_none() {
            return;
        }
        log::info!("connection state: {} -> {state}", slot.state);
        slot.state = state;
        self.events
            .send(ChatEvent::ConnectionChanged { state, error });
        self.slot_changed.notify_all();
    }

    /// The first `health.check` arrived. Returns false when `session` is no longer current.
    pub(crate) fn on_connected(
        &self,
        session: &Arc<Session>,
        connection_id: &str,
        me: Option<User>,
    ) -> bool {
        let mut slot = self.lock();
        if !is_current(&slot, session) {
            return false;
        }
        {
            let mut inner = session.lock();
            if let Some(me) = me {
                inner.user = me;
            }
            inner.connection_id = Some(connection_id.to_owned());
            inner.ever_connected = true;
        }
        session.changed.notify_all();
        self.set_state(&mut slot, ConnectionState::Connected, None);
        true
    }

    /// A connected link broke; the thread will reconnect.
    pub(crate) fn on_lost(&self, session: &Arc<Session>, error: ChatError) {
        let mut slot = self.lock();
        if is_current(&slot, session) {
            session.lock().connection_id = None;
            self.tracker.lost(session.id);
            self.set_state(&mut slot, ConnectionState::Disconnected, Some(error));
        }
    }

    pub(crate) fn on_reconnecting(&self, session: &Arc<Session>) {
        let mut slot = self.lock();
        if is_current(&slot, session) {
            self.set_state(&mut slot, ConnectionState::Reconnecting, None);
        }
    }

    /// The session ends with a terminal error: pending connects fail with it.
    pub(crate) fn on_failed(&self, session: &Arc<Session>, error: ChatError) {
        log::warn!("connection of '{}' ended: {error}", session.user_id);
        let mut slot = self.lock();
        {
            let mut inner = session.lock();
            inner.connection_id = None;
            inner.failed = Some(error.clone());
        }
        session.changed.notify_all();
        self.end_session(&mut slot, session, Some(error));
    }

    /// Publishes a server event (through the tracker) if `session` is still current.
    pub(crate) fn emit(&self, session: &Arc<Session>, event: ChatEvent) {
        let slot = self.lock();
        if is_current(&slot, session) {
            self.tracker.dispatch(event);
        }
    }

    /// The connection is confirmed and its first health check published: after a
    /// reconnect, the watched channels are recovered.
    pub(crate) fn after_connected(
        &self,
        session: &Arc<Session>,
        connection_id: &str,
        reconnect: bool,
    ) {
        let slot = self.lock();
        if is_current(&slot, session) {
            self.tracker.connected(session, connection_id, reconnect);
        }
    }
}

fn is_current(slot: &Slot, session: &Arc<Session>) -> bool {
    slot.current.as_ref().is_some_and(|c| c.id == session.id)
}

impl Session {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Unique per client: tells sessions apart after a switch.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn is_anonymous(&self) -> bool {
        matches!(self.auth, AuthMode::Anonymous)
    }

    pub(crate) fn has_provider(&self) -> bool {
        matches!(&self.auth, AuthMode::Jwt(t) if t.has_provider())
    }

    pub(crate) fn tokens(&self) -> Option<&Arc<TokenManager>> {
        match &self.auth {
            AuthMode::Jwt(t) => Some(t),
            AuthMode::Anonymous => None,
        }
    }

    pub(crate) fn initial_details(&self) -> User {
        self.initial_details.clone()
    }

    pub(crate) fn user(&self) -> User {
        self.lock().user.clone()
    }

    pub(crate) fn connection_id(&self) -> Option<String> {
        self.lock().connection_id.clone()
    }

    pub(crate) fn ever_connected(&self) -> bool {
        self.lock().ever_connected
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Fires (by disconnecting) when the session is stopped.
    pub(crate) fn stop_signal(&self) -> &Receiver<()> {
        &self.stop_rx
    }

    /// Sleeps for `d`; false when the session was stopped meanwhile.
    pub(crate) fn sleep(&self, d: Duration) -> bool {
        if d.is_zero() {
            return !self.is_stopped();
        }
        matches!(
            self.stop_rx.recv_timeout(d),
            Err(crossbeam_channel::RecvTimeoutError::Timeout)
        )
    }

    /// Registers the socket that `stop` shuts down; false when already stopped.
    pub(crate) fn set_stream(&self, stream: Option<TcpStream>) -> bool {
        let mut slot = self.stream.lock().unwrap_or_else(|e| e.into_inner());
        if stream.is_some() && self.is_stopped() {
            return false;
        }
        *slot = stream;
        true
    }

    pub(crate) fn add_waiter(&self) {
        self.waiters.fetch_add(1, Ordering::AcqRel);
    }

    /// Removes a waiter; returns how many remain.
    pub(crate) fn remove_waiter(&self) -> usize {
        self.waiters.fetch_sub(1, Ordering::AcqRel) - 1
    }

    /// Stops the connection thread: every blocking point (read, backoff, dial, token
    /// wait) wakes at once. Does not wait for it; see [`Session::join`].
    pub(crate) fn stop(&self) {
        if self.stopped.swap(true, Ordering::AcqRel) {
            return;
        }
        drop(
            self.stop_tx
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        if let Some(stream) = self
            .stream
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            // Only the read half: the thread still sends its close frame before it ends.
            let _ = stream.shutdown(Shutdown::Read);
        }
        if let Some(tokens) = self.tokens() {
            tokens.wake_all();
        }
        let _guard = self.lock();
        self.changed.notify_all();
    }

    /// Waits up to `limit` for the connection thread to end; true if it did.
    pub(crate) fn join(&self, limit: Duration) -> bool {
        let Some((exited, handle)) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take()
        else {
            return true;
        };
        let done = matches!(
            exited.recv_timeout(limit),
            Err(crossbeam_channel::RecvTimeoutError::Disconnected)
        );
        if done {
            // The body has returned, so this join is immediate.
            let _ = handle.join();
        } else {
            log::warn!(
                "the connection thread of '{}' did not end within {limit:?}",
                self.user_id
            );
        }
        done
    }

    /// Blocks until the session is connected, fails, is stopped, `cancel` fires or
    /// `deadline` passes.
    pub(crate) fn wait_connected(
        self: &Arc<Self>,
        cancel: &CancelToken,
        deadline: Instant,
    ) -> Result<ConnectionData, WaitEnd> {
        let weak = Arc::downgrade(self);
        cancel.on_cancel(move || {
            if let Some(session) = weak.upgrade() {
                let _guard = session.lock();
                session.changed.notify_all();
            }
        });
        let mut inner = self.lock();
        loop {
            if let Some(connection_id) = &inner.connection_id {
                return Ok(ConnectionData {
                    user: inner.user.clone(),
                    connection_id: connection_id.clone(),
                });
            }
            if let Some(err) = &inner.failed {
                return Err(WaitEnd::Failed(err.clone()));
            }
            if self.is_stopped() {
                return Err(WaitEnd::Failed(ChatError::new(
                    ErrorKind::NotConnected,
                    "disconnect() was called before the connection was established",
                )));
            }
            if cancel.is_canceled() {
                return Err(WaitEnd::Cancelled);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(WaitEnd::TimedOut);
            }
            inner = self
                .changed
                .wait_timeout(inner, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}
