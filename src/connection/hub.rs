//! The connection state machine: which session (user + connection) is current,
//! its `ConnectionState`, and the connect and disconnect calls waiting on it. Every change
//! happens under one lock (the [`Slot`]); the calls it resolves are delivered once the
//! lock is released, so a callback always sees the state its outcome reports.
//!
//! Inputs come from the client (connect, disconnect, pause, resume, shutdown), from the
//! connection (through [`Reports`]) and from the waits' timer and cancel hooks
//! (`waits.rs`). Outputs are `connection.changed` events on the bus and server events,
//! which go through the recovery tracker on their way there.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use stream_chat_callbacks::{
    CancelToken, ChatError, ChatResult, Completer, DeadlineTimer, ErrorKind, Expire, deadline_after,
};
use stream_chat_protocol::{ANONYMOUS_USER_ID, User};

use super::recovery::Tracker;
use super::session::{AuthMode, Session};
use super::socket::{self, Reports, SocketConfig};
use super::state::{ConnectionData, ConnectionState};
use super::waits::{self, ConnWait, EXIT_WAIT, ExitWait, OnConnection, Pending};
use crate::events::{ChatEvent, EventSender};

/// The shared connection state of one client.
pub(crate) struct Hub {
    slot: Mutex<Slot>,
    events: EventSender,
    socket: SocketConfig,
    tracker: Arc<Tracker>,
    /// The shared timer (see `runtime`): it holds this hub's targets weakly, so nothing
    /// of a shut-down client stays alive in it.
    timer: Arc<DeadlineTimer>,
    shut_down: AtomicBool,
}

/// What the hub's lock guards.
pub(crate) struct Slot {
    current: Option<Arc<Session>>,
    state: ConnectionState,
    /// Connect calls waiting for the current session's next connection.
    waiters: Vec<Arc<Pending>>,
    next_id: u64,
    /// How the last session ended: its id, user and terminal error (for waiting calls).
    ended: Option<(u64, String, Option<ChatError>)>,
    /// Calls waiting for a connection, each with the session it last saw.
    conn_waits: Vec<(Arc<ConnWait>, Option<u64>)>,
    /// The session or state changed: the waits are settled when the lock is released.
    changed: bool,
    /// Calls resolved under the lock (see [`Slot::resolve`]), delivered once it is released.
    resolved: Vec<Delivery>,
}

/// A resolved call's completer with its result, to run once the slot is unlocked.
type Delivery = Box<dyn FnOnce() + Send>;

impl Slot {
    /// Resolves the connect `pending` with `result` unless it resolved already; true if
    /// this did it. Its callback runs once the slot is unlocked: every change made under
    /// the lock (state, current user, connection id) is visible to it. This is the one
    /// way a connect resolves, so it cannot report an outcome the state does not show yet.
    pub(crate) fn resolve(
        &mut self,
        pending: &Pending,
        result: Result<ConnectionData, ChatError>,
    ) -> bool {
        match pending.done.claim() {
            Some(done) => {
                self.resolved
                    .push(Box::new(move || done.complete(result.into())));
                true
            }
            None => false,
        }
    }

    /// Fails the connects waiting for `session`, if it is current, with `error`.
    fn fail_waiters(&mut self, session: &Session, error: &ChatError) {
        if !is_current(self, session) {
            return;
        }
        for waiter in std::mem::take(&mut self.waiters) {
            self.resolve(&waiter, Err(error.clone()));
        }
    }

    /// Takes `wait` out of the connection waits.
    pub(super) fn forget_wait(&mut self, wait: &ConnWait) {
        self.conn_waits
            .retain(|(w, _)| !std::ptr::eq(Arc::as_ptr(w), wait));
    }

    /// The user of the current session.
    pub(super) fn current_user_id(&self) -> Option<&str> {
        self.current.as_ref().map(|s| s.user_id.as_str())
    }
}

/// A locked [`Slot`]; releasing it after a change settles the connection waits (outside
/// the lock).
pub(crate) struct SlotGuard<'a> {
    hub: &'a Hub,
    guard: Option<MutexGuard<'a, Slot>>,
}

impl Deref for SlotGuard<'_> {
    type Target = Slot;
    fn deref(&self) -> &Slot {
        self.guard.as_ref().expect("held until dropped")
    }
}

impl DerefMut for SlotGuard<'_> {
    fn deref_mut(&mut self) -> &mut Slot {
        self.guard.as_mut().expect("held until dropped")
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        let Some(mut slot) = self.guard.take() else {
            return;
        };
        let settled = if std::mem::take(&mut slot.changed) {
            let slot = &mut *slot;
            waits::settle(
                &mut slot.conn_waits,
                slot.current.as_ref(),
                slot.ended.as_ref(),
                self.hub.is_shut_down(),
            )
        } else {
            Vec::new()
        };
        let resolved = std::mem::take(&mut slot.resolved);
        drop(slot);
        for deliver in resolved {
            deliver();
        }
        for (wait, result) in settled {
            wait.resolve(result);
        }
    }
}

impl Hub {
    pub(crate) fn new(
        events: EventSender,
        socket: SocketConfig,
        tracker: Arc<Tracker>,
        timer: Arc<DeadlineTimer>,
    ) -> Self {
        Hub {
            slot: Mutex::new(Slot {
                current: None,
                state: ConnectionState::Disconnected,
                waiters: Vec::new(),
                next_id: 1,
                ended: None,
                conn_waits: Vec::new(),
                changed: false,
                resolved: Vec::new(),
            }),
            events,
            socket,
            tracker,
            timer,
            shut_down: AtomicBool::new(false),
        }
    }

    pub(crate) fn lock(&self) -> SlotGuard<'_> {
        SlotGuard {
            hub: self,
            guard: Some(self.slot.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }

    /// The current session (connected or connecting).
    pub(crate) fn current(&self) -> Option<Arc<Session>> {
        self.lock().current.clone()
    }

    pub(crate) fn state(&self) -> ConnectionState {
        self.lock().state
    }

    /// The state and the current session, read together.
    pub(crate) fn status(&self) -> (ConnectionState, Option<Arc<Session>>) {
        let slot = self.lock();
        (slot.state, slot.current.clone())
    }

    pub(crate) fn tracker(&self) -> &Arc<Tracker> {
        &self.tracker
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Acquire)
    }

    /// Resolves `target` at `at` unless it is dropped or done by then. The timer is
    /// shared and outlives the client: what a shut-down client scheduled still resolves
    /// (a wait fails at its deadline instead of hanging), and what it dropped is forgotten.
    pub(crate) fn schedule(&self, at: Instant, target: Weak<dyn Expire>) {
        self.timer.schedule(at, target);
    }

    /// Refuses new connects, ends the current session (its waiting connects fail with
    /// [`ErrorKind::ShutDown`]). The shared timer goes on. Idempotent.
    pub(crate) fn shutdown(&self) {
        let session = {
            let mut slot = self.lock();
            self.shut_down.store(true, Ordering::Release);
            // Waits for a first connect now fail.
            slot.changed = true;
            let current = slot.current.clone();
            if let Some(session) = &current {
                slot.fail_waiters(
                    session,
                    &ChatError::new(
                        ErrorKind::ShutDown,
                        "the client was shut down before the connection was established",
                    ),
                );
                self.end_session(&mut slot, session, None);
            }
            current
        };
        if let Some(session) = session {
            session.stop();
        }
    }

    /// Joins the current session of `user.id`, or starts one (ending the current one
    /// first when `replace`), and registers `pending` to be resolved by it. Returns the
    /// error that should fail `pending`, if any.
    pub(crate) fn join_or_start(
        self: &Arc<Self>,
        pending: &Arc<Pending>,
        user: User,
        auth: impl FnOnce() -> Result<AuthMode, ChatError>,
        replace: bool,
    ) -> Result<(), ChatError> {
        let anonymous = user.id == ANONYMOUS_USER_ID;
        let mut replaced = None;
        let result = (|| {
            let mut slot = self.lock();
            if self.is_shut_down() {
                return Err(shut_down_error());
            }
            if pending.is_finished() {
                // Cancelled or timed out meanwhile: start nothing.
                return Ok(());
            }
            match slot.current.clone() {
                Some(current) if replace => {
                    self.end_session(&mut slot, &current, None);
                    replaced = Some(current);
                }
                Some(current)
                    if current.user_id == user.id && current.is_anonymous() == anonymous =>
                {
                    *lock(&pending.session) = Arc::downgrade(&current);
                    match current.connected() {
                        Some(data) => {
                            slot.resolve(pending, Ok(data));
                        }
                        None => {
                            slot.waiters.push(Arc::clone(pending));
                            log::debug!(
                                "a connect of '{}' joins the attempt in progress ({} waiting)",
                                user.id,
                                slot.waiters.len()
                            );
                            // After disconnect_socket(), connecting the kept user reopens it.
                            self.reopen(&mut slot, &current, pending.deadline)?;
                        }
                    }
                    return Ok(());
                }
                Some(current) => return Err(already_connected(&current.user_id)),
                None => {}
            }
            log::info!("connecting '{}'", user.id);
            let session = self.start_session(&mut slot, user, auth()?, pending)?;
            *lock(&pending.session) = Arc::downgrade(&session);
            Ok(())
        })();
        // Stopped even when starting its successor failed.
        if let Some(old) = replaced {
            old.stop();
        }
        result
    }

    /// Ends the current session for `disconnect()`; `done` resolves once its connection
    /// thread has ended (at most [`EXIT_WAIT`] later).
    pub(crate) fn disconnect(&self, done: Completer<()>) {
        let session = {
            let mut slot = self.lock();
            let current = slot.current.clone();
            if let Some(session) = &current {
                self.end_session(&mut slot, session, None);
            }
            current
        };
        let Some(session) = session else {
            done.complete(ChatResult::Failure(ChatError::new(
                ErrorKind::NotConnected,
                "no user is connected",
            )));
            return;
        };
        // The session ended above (state, user, connection id, waiting connects): `done`
        // resolves with the thread's end, after all of it.
        session.stop();
        self.wait_exit(&session, done);
    }

    /// `done` resolves once the connection of `session` has ended (at most
    /// [`EXIT_WAIT`] from now); no thread waits meanwhile.
    fn wait_exit(&self, session: &Session, done: Completer<()>) {
        let wait = Arc::new(ExitWait::new(done, &session.user_id));
        let on_exit = Arc::clone(&wait);
        match session.on_exit(Box::new(move || on_exit.exited())) {
            Ok(()) => self.schedule(
                deadline_after(Instant::now(), EXIT_WAIT),
                Arc::downgrade(&wait) as Weak<dyn Expire>,
            ),
            Err(_) => wait.exited(),
        }
    }

    /// `disconnect_socket()`: closes the socket of the current session and ends its
    /// thread, keeping the session (user, token, watched channels) current. `done`
    /// resolves once the thread has ended.
    pub(crate) fn pause(&self, done: Completer<()>) {
        let session = {
            let mut slot = self.lock();
            let current = slot.current.clone();
            if let Some(session) = &current {
                if session.pause() {
                    if session.clear_connection().is_some() {
                        self.tracker.lost(session.id());
                    }
                    self.set_state(&mut slot, ConnectionState::Disconnected, None);
                    slot.changed = true;
                }
                slot.fail_waiters(
                    session,
                    &ChatError::new(
                        ErrorKind::NotConnected,
                        "disconnect_socket() closed the socket before it was connected",
                    ),
                );
            }
            current
        };
        let Some(session) = session else {
            done.complete(ChatResult::Failure(ChatError::new(
                ErrorKind::NotConnected,
                "no user is set: connect_user() first",
            )));
            return;
        };
        self.wait_exit(&session, done);
    }

    /// `reconnect_socket()`: `pending` resolves with the current session's next
    /// connection (at once when it is up), reopening the socket if it was paused.
    pub(crate) fn resume(self: &Arc<Self>, pending: &Arc<Pending>) -> Result<(), ChatError> {
        let mut slot = self.lock();
        if self.is_shut_down() {
            return Err(shut_down_error());
        }
        if pending.is_finished() {
            return Ok(());
        }
        let Some(session) = slot.current.clone() else {
            return Err(ChatError::new(
                ErrorKind::NotConnected,
                "no user is set: connect_user() first",
            ));
        };
        *lock(&pending.session) = Arc::downgrade(&session);
        match session.connected() {
            Some(data) => {
                slot.resolve(pending, Ok(data));
            }
            None => {
                slot.waiters.push(Arc::clone(pending));
                self.reopen(&mut slot, &session, pending.deadline)?;
            }
        }
        Ok(())
    }

    /// `pending` resolves on its own with `error` (timer, cancel), unless it resolved
    /// already: if it started or joined a session that never connected and nobody else
    /// waits for, that attempt is abandoned in the same locked step, so the callback sees
    /// the state `Disconnected` and no current user.
    pub(super) fn abandon(&self, pending: &Pending, error: ChatError) {
        // A timed-out attempt reports why in its `connection.changed`; a cancelled one not.
        let cause = (!error.is_cancelled()).then(|| error.clone());
        let abandoned = {
            let mut slot = self.lock();
            if !slot.resolve(pending, Err(error)) {
                return;
            }
            // Set under the slot lock when it joined or started one.
            let session = lock(&pending.session).upgrade();
            session.filter(|session| {
                // A session no longer current failed its waiters when it ended.
                if !is_current(&slot, session) {
                    return false;
                }
                slot.waiters
                    .retain(|w| !std::ptr::eq(Arc::as_ptr(w), pending));
                slot.waiters.is_empty()
                    && !session.ever_connected()
                    && self.end_session(&mut slot, session, cause)
            })
        };
        // The callback ran (or was handed to its executor) when the slot was released.
        if let Some(session) = abandoned {
            log::info!("connect of '{}' abandoned", session.user_id);
            session.stop();
        }
    }

    /// Calls `done` once a session is connected, for calls that need a connection id;
    /// no thread waits meanwhile. `origin` is the session current when the call was made:
    /// if it (or a session seen while waiting) ends without a successor, `done` gets
    /// [`ErrorKind::NotConnected`] at once. A call made while nobody was connected waits
    /// for the next connect. At `start + limit`: [`ErrorKind::Timeout`] if a user is set
    /// but the socket is not up, [`ErrorKind::NotConnected`] if nobody is connected.
    /// A connection whose id is `stale` does not count. `done` never runs under the lock.
    pub(crate) fn wait_connection(
        self: &Arc<Self>,
        cancel: &CancelToken,
        start: Instant,
        limit: Duration,
        origin: Option<u64>,
        stale: Option<String>,
        done: OnConnection,
    ) {
        let wait = ConnWait::new(self, limit, stale, done);
        {
            let mut slot = self.lock();
            slot.conn_waits.push((Arc::clone(&wait), origin));
            // Settles it at once when connected, or its session is gone already.
            slot.changed = true;
        }
        self.schedule(
            deadline_after(start, limit),
            Arc::downgrade(&wait) as Weak<dyn Expire>,
        );
        wait.cancel_with(cancel);
    }

    /// Creates a session for `user` in state `Connecting` with `first` waiting for it, and
    /// starts its thread. Called with the slot locked and empty.
    fn start_session(
        self: &Arc<Self>,
        slot: &mut Slot,
        user: User,
        auth: AuthMode,
        first: &Arc<Pending>,
    ) -> Result<Arc<Session>, ChatError> {
        let session = Arc::new(Session::new(slot.next_id, user, auth, first.deadline));
        slot.next_id += 1;
        self.spawn_thread(&session)?;
        slot.current = Some(Arc::clone(&session));
        slot.waiters = vec![Arc::clone(first)];
        self.tracker.reset(session.id());
        self.set_state(slot, ConnectionState::Connecting, None);
        Ok(session)
    }

    /// Starts the connection of `session` (a task on the reactor). It runs again instead
    /// of ending when the session was resumed while it was ending.
    fn spawn_thread(self: &Arc<Self>, session: &Arc<Session>) -> Result<(), ChatError> {
        socket::start(
            Arc::clone(self) as Arc<dyn Reports>,
            self.socket.clone(),
            Arc::clone(session),
        )
    }

    /// Restarts the connection of a paused `session` (current, slot locked); the
    /// attempt has until `deadline` while it never connected.
    fn reopen(
        self: &Arc<Self>,
        slot: &mut Slot,
        session: &Arc<Session>,
        deadline: Instant,
    ) -> Result<(), ChatError> {
        if !session.is_paused() || session.is_stopped() {
            return Ok(());
        }
        log::info!("reopening the socket of '{}'", session.user_id);
        if session.unpause(deadline)
            && let Err(err) = self.spawn_thread(session)
        {
            // Still paused, with no thread: a later reconnect_socket() tries again.
            session.repause();
            return Err(err);
        }
        self.set_state(slot, ConnectionState::Connecting, None);
        Ok(())
    }

    /// Removes `session` if it is current: state `Disconnected`, and the connects still
    /// waiting for it fail with `error` (a terminal failure) or, without one,
    /// [`ErrorKind::NotConnected`]. The caller stops its thread once the slot is released.
    /// Returns whether it was current.
    fn end_session(
        &self,
        slot: &mut Slot,
        session: &Arc<Session>,
        error: Option<ChatError>,
    ) -> bool {
        if !is_current(slot, session) {
            return false;
        }
        slot.current = None;
        let waiters = std::mem::take(&mut slot.waiters);
        slot.ended = Some((session.id(), session.user_id.clone(), error.clone()));
        self.tracker.reset(0);
        let waiters_get = error.clone().unwrap_or_else(|| {
            ChatError::new(
                ErrorKind::NotConnected,
                "disconnect() or switch_user() ended the session before the connection was established",
            )
        });
        self.set_state(slot, ConnectionState::Disconnected, error);
        for waiter in waiters {
            slot.resolve(&waiter, Err(waiters_get.clone()));
        }
        slot.changed = true;
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
        slot.changed = true;
    }
}

/// What the connection reports, applied to the state under the lock; reports of a
/// session that is no longer current change nothing.
impl Reports for Hub {
    fn connected(&self, session: &Arc<Session>, connection_id: &str, me: Option<User>) -> bool {
        let mut slot = self.lock();
        if !is_current(&slot, session) || session.is_halted() {
            return false;
        }
        let data = session.set_connected(connection_id, me);
        self.set_state(&mut slot, ConnectionState::Connected, None);
        slot.changed = true;
        for waiter in std::mem::take(&mut slot.waiters) {
            slot.resolve(&waiter, Ok(data.clone()));
        }
        true
    }

    fn event(&self, session: &Arc<Session>, event: ChatEvent) {
        let slot = self.lock();
        if is_current(&slot, session) && !session.is_halted() {
            self.tracker.dispatch(event);
        }
    }

    fn ready(&self, session: &Arc<Session>, connection_id: &str, reconnect: bool) {
        let slot = self.lock();
        if is_current(&slot, session) {
            self.tracker.connected(session, connection_id, reconnect);
        }
    }

    fn lost(&self, session: &Arc<Session>, error: ChatError) {
        let mut slot = self.lock();
        if is_current(&slot, session) {
            session.clear_connection();
            self.tracker.lost(session.id());
            self.set_state(&mut slot, ConnectionState::Disconnected, Some(error));
        }
    }

    fn reconnecting(&self, session: &Arc<Session>) {
        let mut slot = self.lock();
        if is_current(&slot, session) {
            self.set_state(&mut slot, ConnectionState::Reconnecting, None);
        }
    }

    fn failed(&self, session: &Arc<Session>, error: ChatError) {
        log::warn!("connection of '{}' ended: {error}", session.user_id);
        let mut slot = self.lock();
        session.clear_connection();
        // Its waiting connects fail with `error`; a session no longer current failed them
        // when it ended.
        self.end_session(&mut slot, session, Some(error));
    }
}

fn is_current(slot: &Slot, session: &Session) -> bool {
    slot.current
        .as_ref()
        .is_some_and(|c| c.id() == session.id())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn already_connected(current: &str) -> ChatError {
    ChatError::new(
        ErrorKind::AlreadyConnected,
        format!("'{current}' is connected; call disconnect() or switch_user() first"),
    )
}

pub(crate) fn shut_down_error() -> ChatError {
    ChatError::new(ErrorKind::ShutDown, "the client was shut down")
}
