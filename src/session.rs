//! The connection state machine: which session (user + connection thread) is current,
//! its `ConnectionState`, and the connect and disconnect calls waiting on it. Those wait
//! without a thread: the connection thread resolves them, or the hub's timer when their
//! deadline passes.

use std::net::{Shutdown, TcpStream};
use std::ops::{Deref, DerefMut};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use stream_chat_callbacks::{
    CancelToken, ChatError, ChatResult, Completer, DeadlineTimer, ErrorKind, Expire, deadline_after,
};
use stream_chat_protocol::{ANONYMOUS_USER_ID, User};

use crate::connection::{ConnectionData, ConnectionState};
use crate::events::{ChatEvent, EventSender};
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
    events: EventSender,
    socket: SocketConfig,
    tracker: Arc<Tracker>,
    timer: DeadlineTimer,
    shut_down: AtomicBool,
}

pub(crate) struct Slot {
    pub(crate) current: Option<Arc<Session>>,
    pub(crate) state: ConnectionState,
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

    /// Fails the connects waiting for `session` with `error`.
    fn fail_waiters(&mut self, session: &Session, error: &ChatError) {
        let waiters = std::mem::take(&mut *lock(&session.waiters));
        for waiter in waiters {
            self.resolve(&waiter, Err(error.clone()));
        }
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
            self.hub.settle(&mut slot)
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

/// A live connection: its session and connection id.
pub(crate) type Connection = (Arc<Session>, String);

type OnConnection = Box<dyn FnOnce(Result<Connection, ChatError>) + Send>;

/// A call waiting for a connection (see [`Hub::wait_connection`]). It resolves exactly
/// once: connected (the connection thread), the session ended, the deadline (the hub's
/// timer), the call cancelled (its cancel hook) or the client shut down.
pub(crate) struct ConnWait {
    done: Mutex<Option<OnConnection>>,
    /// A connection id the server called stale: wait for another one.
    stale: Option<String>,
    limit: Duration,
    hub: Weak<Hub>,
}

impl ConnWait {
    fn resolve(&self, result: Result<Connection, ChatError>) {
        let done = lock(&self.done).take();
        if let Some(done) = done {
            done(result);
        }
    }

    /// Takes it out of the hub's list and resolves it with the error `why` gives for the
    /// slot as it is, unless it resolved already.
    fn end(&self, why: impl FnOnce(&Slot) -> ChatError) {
        let Some(hub) = self.hub.upgrade() else {
            return self.resolve(Err(shut_down_error()));
        };
        let err = {
            let mut slot = hub.lock();
            slot.conn_waits
                .retain(|(w, _)| !std::ptr::eq(Arc::as_ptr(w), self));
            why(&slot)
        };
        self.resolve(Err(err));
    }
}

impl Expire for ConnWait {
    fn expire(&self) {
        let limit = self.limit;
        self.end(|slot| match &slot.current {
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

    fn is_done(&self) -> bool {
        lock(&self.done).is_none()
    }
}

/// One connected (or connecting) user and its connection thread.
pub(crate) struct Session {
    id: u64,
    pub(crate) user_id: String,
    pub(crate) auth: AuthMode,
    initial_details: User,
    /// The deadline of the connect (or `reconnect_socket`) that started the thread, from
    /// its call's start; enforced by the thread too until the first connection.
    connect_deadline: Mutex<Instant>,
    inner: Mutex<Inner>,
    stopped: AtomicBool,
    /// `disconnect_socket()`: the thread ends, the session stays current.
    paused: AtomicBool,
    /// Connect calls waiting for the next connection; changed under the hub's slot lock.
    waiters: Mutex<Vec<Arc<Pending>>>,
    exit: Mutex<Exit>,
    /// Dropping the sender wakes every blocking point of the thread (stop or pause); a
    /// resume arms a fresh pair.
    signal: Mutex<(Option<Sender<()>>, Receiver<()>)>,
    stream: Mutex<Option<TcpStream>>,
}

/// The connection thread's lifetime, for the calls that wait for it to end.
struct Exit {
    /// Whether the thread's body returned.
    ended: bool,
    /// Bumped by each resume; a thread that sees it change before it ends runs again.
    generation: u64,
    waits: Vec<Arc<ExitWait>>,
}

struct Inner {
    user: User,
    connection_id: Option<String>,
    ever_connected: bool,
}

/// A completer that several parties (connection thread, timer, cancel hook) race to
/// resolve; the first one wins.
struct Once<T>(Mutex<Option<Completer<T>>>);

impl<T> Once<T> {
    fn new(done: Completer<T>) -> Self {
        Once(Mutex::new(Some(done)))
    }

    /// Resolves with `result` unless already resolved; true if this call did it. Never
    /// call it under the hub's or a session's lock: delivery may run user code when the
    /// pool is gone.
    fn resolve(&self, result: Result<T, ChatError>) -> bool {
        match self.claim() {
            Some(done) => {
                done.complete(result.into());
                true
            }
            None => false,
        }
    }

    /// Takes the completer, to complete it later (e.g. once a lock is released); `None`
    /// when another party resolved it already.
    fn claim(&self) -> Option<Completer<T>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn is_resolved(&self) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).is_none()
    }
}

/// One connect call waiting for its outcome. It resolves exactly once: connected, failed,
/// stopped, timed out (the hub's timer) or cancelled (the call's cancel hook), always
/// through [`Slot::resolve`], in the same locked step as the state change it reports.
pub(crate) struct Pending {
    done: Once<ConnectionData>,
    pub(crate) deadline: Instant,
    limit: Duration,
    label: String,
    hub: Weak<Hub>,
    /// The session it waits for, once it joined or started one.
    session: Mutex<Weak<Session>>,
}

impl Pending {
    /// A connect of `label` (the user id) started at `done.started_at()`, with `limit` to
    /// connect. Arms the timer and the cancel hook; check [`is_finished`](Self::is_finished)
    /// before each step that starts something.
    pub(crate) fn start(
        hub: &Arc<Hub>,
        cancel: &CancelToken,
        done: Completer<ConnectionData>,
        limit: Duration,
        label: &str,
    ) -> Arc<Pending> {
        let pending = Arc::new(Pending {
            deadline: deadline_after(done.started_at(), limit),
            done: Once::new(done),
            limit,
            label: label.to_owned(),
            hub: Arc::downgrade(hub),
            session: Mutex::new(Weak::new()),
        });
        hub.timer.schedule(
            pending.deadline,
            Arc::downgrade(&pending) as Weak<dyn Expire>,
        );
        let weak = Arc::downgrade(&pending);
        cancel.on_cancel(move || {
            if let Some(pending) = weak.upgrade() {
                pending.end(ChatError::cancelled());
            }
        });
        pending
    }

    /// Resolves the call with an outcome that changes no connection state (a refused
    /// argument, a connect that could not start); true if this did it. Never call it
    /// with the hub's slot locked: use [`Slot::resolve`] there.
    pub(crate) fn finish(&self, result: Result<ConnectionData, ChatError>) -> bool {
        match self.hub.upgrade() {
            Some(hub) => hub.lock().resolve(self, result),
            None => self.done.resolve(result),
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.done.is_resolved()
    }

    /// Resolves the call on its own (timer, cancel): a connect nobody waits for any
    /// more is abandoned first, so its callback sees the session gone.
    fn end(&self, error: ChatError) {
        match self.hub.upgrade() {
            Some(hub) => hub.abandon(self, error),
            None => {
                self.done.resolve(Err(error));
            }
        }
    }
}

impl Expire for Pending {
    fn expire(&self) {
        self.end(ChatError::new(
            ErrorKind::Timeout,
            format!(
                "'{}' was not connected within the connect timeout ({:?})",
                self.label, self.limit
            ),
        ));
    }

    fn is_done(&self) -> bool {
        self.is_finished()
    }
}

/// A disconnect call waiting for the connection thread to end (or 1 s, then it resolves
/// anyway and logs).
pub(crate) struct ExitWait {
    done: Once<()>,
    user_id: String,
}

impl Expire for ExitWait {
    fn expire(&self) {
        if self.done.resolve(Ok(())) {
            log::warn!(
                "the connection thread of '{}' did not end within {EXIT_WAIT:?}",
                self.user_id
            );
        }
    }

    fn is_done(&self) -> bool {
        self.done.is_resolved()
    }
}

/// How long `disconnect()` waits for the connection thread to end.
const EXIT_WAIT: Duration = Duration::from_secs(1);

impl Hub {
    pub(crate) fn new(
        events: EventSender,
        socket: SocketConfig,
        tracker: Arc<Tracker>,
    ) -> std::io::Result<Self> {
        Ok(Hub {
            slot: Mutex::new(Slot {
                current: None,
                state: ConnectionState::Disconnected,
                next_id: 1,
                ended: None,
                conn_waits: Vec::new(),
                changed: false,
                resolved: Vec::new(),
            }),
            events,
            socket,
            tracker,
            timer: DeadlineTimer::start("stream-chat-timer")?,
            shut_down: AtomicBool::new(false),
        })
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Acquire)
    }

    /// Refuses new connects, ends the current session (its waiting connects fail with
    /// [`ErrorKind::ShutDown`]) and stops the timer thread. Idempotent.
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
        self.timer.stop();
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
                            let mut waiters = lock(&current.waiters);
                            waiters.push(Arc::clone(pending));
                            log::debug!(
                                "a connect of '{}' joins the attempt in progress ({} waiting)",
                                user.id,
                                waiters.len()
                            );
                            drop(waiters);
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

    /// `done` resolves once the connection thread of `session` has ended (at most
    /// [`EXIT_WAIT`] from now); no thread waits meanwhile.
    fn wait_exit(&self, session: &Session, done: Completer<()>) {
        let wait = Arc::new(ExitWait {
            done: Once::new(done),
            user_id: session.user_id.clone(),
        });
        {
            let mut exit = lock(&session.exit);
            if !exit.ended {
                exit.waits.push(Arc::clone(&wait));
                drop(exit);
                let at = deadline_after(Instant::now(), EXIT_WAIT);
                self.timer
                    .schedule(at, Arc::downgrade(&wait) as Weak<dyn Expire>);
                return;
            }
        }
        wait.done.resolve(Ok(()));
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
                    if session.lock().connection_id.take().is_some() {
                        self.tracker.lost(session.id);
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
                lock(&session.waiters).push(Arc::clone(pending));
                self.reopen(&mut slot, &session, pending.deadline)?;
            }
        }
        Ok(())
    }

    /// `pending` resolves on its own with `error` (timer, cancel), unless it resolved
    /// already: if it started or joined a session that never connected and nobody else
    /// waits for, that attempt is abandoned in the same locked step, so the callback sees
    /// the state `Disconnected` and no current user.
    fn abandon(&self, pending: &Pending, error: ChatError) {
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
                let mut waiters = lock(&session.waiters);
                waiters.retain(|w| !std::ptr::eq(Arc::as_ptr(w), pending));
                let unwaited = waiters.is_empty();
                drop(waiters);
                unwaited && !session.ever_connected() && self.end_session(&mut slot, session, cause)
            })
        };
        // The callback ran (or was handed to its executor) when the slot was released.
        if let Some(session) = abandoned {
            log::info!("connect of '{}' abandoned", session.user_id);
            session.stop();
        }
    }

    pub(crate) fn tracker(&self) -> &Arc<Tracker> {
        &self.tracker
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
        let wait = Arc::new(ConnWait {
            done: Mutex::new(Some(done)),
            stale,
            limit,
            hub: Arc::downgrade(self),
        });
        {
            let mut slot = self.lock();
            slot.conn_waits.push((Arc::clone(&wait), origin));
            // Settles it at once when connected, or its session is gone already.
            slot.changed = true;
        }
        self.timer.schedule(
            deadline_after(start, limit),
            Arc::downgrade(&wait) as Weak<dyn Expire>,
        );
        let weak = Arc::downgrade(&wait);
        cancel.on_cancel(move || {
            if let Some(wait) = weak.upgrade() {
                wait.end(|_| ChatError::cancelled());
            }
        });
    }

    /// The waits the slot as it is resolves, taken out of the list.
    fn settle(&self, slot: &mut Slot) -> Vec<(Arc<ConnWait>, Result<Connection, ChatError>)> {
        let current = slot.current.clone();
        let connected = current
            .as_ref()
            .and_then(|s| s.connection_id().map(|id| (Arc::clone(s), id)));
        let shut_down = self.is_shut_down();
        let ended = slot.ended.clone();
        let mut settled = Vec::new();
        slot.conn_waits.retain_mut(|(wait, seen)| {
            if wait.is_done() {
                return false;
            }
            let result = match (&current, &connected) {
                (_, Some((session, id))) if wait.stale.as_deref() != Some(id.as_str()) => {
                    Ok((Arc::clone(session), id.clone()))
                }
                (Some(session), _) => {
                    *seen = Some(session.id);
                    return true;
                }
                (None, _) => match *seen {
                    Some(gone) => Err(disconnected(&ended, gone)),
                    None if shut_down => Err(shut_down_error()),
                    None => return true,
                },
            };
            settled.push((Arc::clone(wait), result));
            false
        });
        settled
    }

    pub(crate) fn socket_config(&self) -> SocketConfig {
        self.socket.clone()
    }

    pub(crate) fn lock(&self) -> SlotGuard<'_> {
        SlotGuard {
            hub: self,
            guard: Some(self.slot.lock().unwrap_or_else(|e| e.into_inner())),
        }
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
        let (stop_tx, stop_rx) = crossbeam_channel::bounded(0);
        let session = Arc::new(Session {
            id: slot.next_id,
            user_id: user.id.clone(),
            auth,
            initial_details: user.clone(),
            connect_deadline: Mutex::new(first.deadline),
            inner: Mutex::new(Inner {
                user,
                connection_id: None,
                ever_connected: false,
            }),
            stopped: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            waiters: Mutex::new(vec![Arc::clone(first)]),
            exit: Mutex::new(Exit {
                ended: false,
                generation: 0,
                waits: Vec::new(),
            }),
            signal: Mutex::new((Some(stop_tx), stop_rx)),
            stream: Mutex::new(None),
        });
        slot.next_id += 1;
        self.spawn_thread(&session)?;
        slot.current = Some(Arc::clone(&session));
        self.tracker.reset(session.id);
        self.set_state(slot, ConnectionState::Connecting, None);
        Ok(session)
    }

    /// Starts the connection thread of `session`. It runs again instead of ending when the
    /// session was resumed while it was ending.
    fn spawn_thread(self: &Arc<Self>, session: &Arc<Session>) -> Result<(), ChatError> {
        let (hub, session) = (Arc::clone(self), Arc::clone(session));
        std::thread::Builder::new()
            .name("stream-chat-ws".into())
            .spawn(move || {
                let mut generation = lock(&session.exit).generation;
                loop {
                    let run = catch_unwind(AssertUnwindSafe(|| {
                        crate::socket::run(Arc::clone(&hub), Arc::clone(&session))
                    }));
                    if let Err(payload) = run {
                        let why = panic_text(&*payload);
                        log::error!(
                            "the connection thread of '{}' panicked: {why}",
                            session.user_id
                        );
                        hub.on_failed(
                            &session,
                            ChatError::new(
                                ErrorKind::Panicked,
                                format!("the connection thread panicked: {why}"),
                            ),
                        );
                    }
                    match session.exited(generation) {
                        Some(resumed) => generation = resumed,
                        None => break,
                    }
                }
            })
            .map(drop)
            .map_err(|e| {
                ChatError::new(ErrorKind::Network, "cannot start the connection thread")
                    .with_source(e)
            })
    }

    /// Restarts the connection thread of a paused `session` (current, slot locked); the
    /// attempt has until `deadline` while it never connected.
    fn reopen(
        self: &Arc<Self>,
        slot: &mut Slot,
        session: &Arc<Session>,
        deadline: Instant,
    ) -> Result<(), ChatError> {
        if !session.paused.load(Ordering::Acquire) || session.is_stopped() {
            return Ok(());
        }
        log::info!("reopening the socket of '{}'", session.user_id);
        *lock(&session.connect_deadline) = deadline;
        if session.unpause()
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
        let waiters_get = error.clone().unwrap_or_else(|| {
            ChatError::new(
                ErrorKind::NotConnected,
                "disconnect() or switch_user() ended the session before the connection was established",
            )
        });
        self.set_state(slot, ConnectionState::Disconnected, error);
        slot.fail_waiters(session, &waiters_get);
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

    /// The first `health.check` arrived. Returns false when `session` is no longer current.
    pub(crate) fn on_connected(
        &self,
        session: &Arc<Session>,
        connection_id: &str,
        me: Option<User>,
    ) -> bool {
        let mut slot = self.lock();
        if !is_current(&slot, session) || session.is_halted() {
            return false;
        }
        let data = {
            let mut inner = session.lock();
            if let Some(me) = me {
                inner.user = me;
            }
            inner.connection_id = Some(connection_id.to_owned());
            inner.ever_connected = true;
            ConnectionData {
                user: inner.user.clone(),
                connection_id: connection_id.to_owned(),
            }
        };
        self.set_state(&mut slot, ConnectionState::Connected, None);
        slot.changed = true;
        let waiters = std::mem::take(&mut *lock(&session.waiters));
        for waiter in waiters {
            slot.resolve(&waiter, Ok(data.clone()));
        }
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
        session.lock().connection_id = None;
        self.end_session(&mut slot, session, Some(error.clone()));
        // Waiters of a session that was not current any more failed when it ended.
        slot.fail_waiters(session, &error);
    }

    /// Publishes a server event (through the tracker) if `session` is still current.
    pub(crate) fn emit(&self, session: &Arc<Session>, event: ChatEvent) {
        let slot = self.lock();
        if is_current(&slot, session) && !session.is_halted() {
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// Why a wait fails when the session `gone` it saw ended without a successor.
fn disconnected(ended: &Option<(u64, String, Option<ChatError>)>, gone: u64) -> ChatError {
    let (user, why) = match ended {
        Some((id, user, why)) if *id == gone => (user.as_str(), why.clone()),
        _ => ("the user", None),
    };
    let err = ChatError::new(
        ErrorKind::NotConnected,
        format!("'{user}' was disconnected before the call got a connection"),
    );
    match why {
        Some(cause) => err.with_source(cause),
        None => err,
    }
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

    /// Stopped or paused: the connection thread is to end.
    pub(crate) fn is_halted(&self) -> bool {
        self.is_stopped() || self.paused.load(Ordering::Acquire)
    }

    /// Fires (by disconnecting) when the session is stopped or paused.
    pub(crate) fn stop_signal(&self) -> Receiver<()> {
        lock(&self.signal).1.clone()
    }

    /// Pauses the session and wakes its thread so it closes the socket and ends; false
    /// when it was already paused or stopped.
    fn pause(&self) -> bool {
        if self.is_stopped() || self.paused.swap(true, Ordering::AcqRel) {
            return false;
        }
        self.wake();
        true
    }

    /// Ends a pause with a fresh wake signal; true when the thread has ended and must be
    /// started again (otherwise it runs again by itself, see [`exited`](Self::exited)).
    fn unpause(&self) -> bool {
        let mut exit = lock(&self.exit);
        let (tx, rx) = crossbeam_channel::bounded(0);
        *lock(&self.signal) = (Some(tx), rx);
        self.paused.store(false, Ordering::Release);
        exit.generation += 1;
        std::mem::replace(&mut exit.ended, false)
    }

    /// Undoes [`unpause`](Self::unpause) when the thread could not be started again.
    fn repause(&self) {
        let mut exit = lock(&self.exit);
        self.paused.store(true, Ordering::Release);
        exit.ended = true;
    }

    /// Wakes every blocking point of the thread (read, back-off, dial, token wait).
    fn wake(&self) {
        drop(lock(&self.signal).0.take());
        if let Some(stream) = lock(&self.stream).as_ref() {
            // Only the read half: the thread still sends its close frame before it ends.
            let _ = stream.shutdown(Shutdown::Read);
        }
        if let Some(tokens) = self.tokens() {
            tokens.wake_all();
        }
    }

    /// Sleeps for `d`; false when the session was stopped meanwhile.
    pub(crate) fn sleep(&self, d: Duration) -> bool {
        if d.is_zero() {
            return !self.is_halted();
        }
        matches!(
            self.stop_signal().recv_timeout(d),
            Err(crossbeam_channel::RecvTimeoutError::Timeout)
        )
    }

    /// Registers the socket that `stop` shuts down; false when already stopped.
    pub(crate) fn set_stream(&self, stream: Option<TcpStream>) -> bool {
        let mut slot = self.stream.lock().unwrap_or_else(|e| e.into_inner());
        if stream.is_some() && self.is_halted() {
            return false;
        }
        *slot = stream;
        true
    }

    /// The first connect's deadline, measured from its call's start.
    pub(crate) fn connect_deadline(&self) -> Instant {
        *lock(&self.connect_deadline)
    }

    /// The connection data while connected.
    fn connected(&self) -> Option<ConnectionData> {
        let inner = self.lock();
        inner.connection_id.as_ref().map(|id| ConnectionData {
            user: inner.user.clone(),
            connection_id: id.clone(),
        })
    }

    /// The thread's body, started at `generation`, returned. When the session was
    /// resumed meanwhile, returns the generation to run again; otherwise the thread ends
    /// and the calls waiting for that resolve.
    fn exited(&self, generation: u64) -> Option<u64> {
        let waits = {
            let mut exit = lock(&self.exit);
            if exit.generation != generation && !self.is_halted() {
                return Some(exit.generation);
            }
            exit.ended = true;
            std::mem::take(&mut exit.waits)
        };
        for wait in waits {
            wait.done.resolve(Ok(()));
        }
        None
    }

    /// Stops the connection thread of a session that ended (see [`Hub::end_session`],
    /// which failed its waiting connects): every blocking point (read, backoff, dial,
    /// token wait) wakes at once. Does not wait for the thread.
    pub(crate) fn stop(&self) {
        if !self.stopped.swap(true, Ordering::AcqRel) {
            self.wake();
        }
    }
}
