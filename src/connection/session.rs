//! [`Session`]: one connected (or connecting) user and the lifetime of its connection
//! (a task on the reactor, see `socket.rs`): who it is, how it authenticates, its
//! connection id, and the signals that stop or pause the connection. The hub decides when
//! a session starts and ends; the socket reads it; neither is known here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use stream_chat_protocol::User;

use super::state::ConnectionData;
use crate::rest::Auth;
use crate::token::TokenManager;

/// How a session authenticates.
pub(crate) enum AuthMode {
    Jwt(Arc<TokenManager>),
    Anonymous,
}

/// Runs once the connection has ended (see [`Session::on_exit`]).
pub(crate) type ExitHook = Box<dyn FnOnce() + Send>;

/// Tells the connection a stop or pause happened (it runs on the reactor).
pub(crate) type Waker = Box<dyn Fn() + Send + Sync>;

/// One connected (or connecting) user and its connection.
pub(crate) struct Session {
    id: u64,
    pub(crate) user_id: String,
    pub(crate) auth: AuthMode,
    initial_details: User,
    /// The deadline of the connect (or `reconnect_socket`) that started the connection,
    /// from its call's start; enforced by the connection too until it first connects.
    connect_deadline: Mutex<Instant>,
    inner: Mutex<Inner>,
    stopped: AtomicBool,
    /// `disconnect_socket()`: the connection ends, the session stays current.
    paused: AtomicBool,
    exit: Mutex<Exit>,
    /// Wakes the connection on its reactor thread (stop or pause), once it has started.
    waker: Mutex<Option<Waker>>,
}

/// The connection's lifetime, for the calls that wait for it to end.
struct Exit {
    /// Whether the connection ended.
    ended: bool,
    /// Bumped by each resume; a connection that sees it change before it ends runs again.
    generation: u64,
    hooks: Vec<ExitHook>,
}

struct Inner {
    user: User,
    connection_id: Option<String>,
    ever_connected: bool,
}

impl Session {
    /// Session number `id` of `user`, whose first connect has until `connect_deadline`;
    /// its connection is not started yet.
    pub(crate) fn new(id: u64, user: User, auth: AuthMode, connect_deadline: Instant) -> Self {
        Session {
            id,
            user_id: user.id.clone(),
            auth,
            initial_details: user.clone(),
            connect_deadline: Mutex::new(connect_deadline),
            inner: Mutex::new(Inner {
                user,
                connection_id: None,
                ever_connected: false,
            }),
            stopped: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            exit: Mutex::new(Exit {
                ended: false,
                generation: 0,
                hooks: Vec::new(),
            }),
            waker: Mutex::new(None),
        }
    }

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

    /// The REST auth of this session's user, on `connection_id` when given.
    pub(crate) fn rest_auth(&self, connection_id: Option<String>) -> Auth {
        match self.tokens() {
            Some(tokens) => Auth::Jwt {
                tokens: Arc::clone(tokens),
                user_id: self.user_id.clone(),
                connection_id,
            },
            None => Auth::Anonymous {
                user_id: self.user_id.clone(),
                connection_id,
            },
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

    /// The server confirmed `connection_id` (and sent `me`, the user as it sees it):
    /// what the connects waiting for it resolve with.
    pub(crate) fn set_connected(&self, connection_id: &str, me: Option<User>) -> ConnectionData {
        let mut inner = self.lock();
        if let Some(me) = me {
            inner.user = me;
        }
        inner.connection_id = Some(connection_id.to_owned());
        inner.ever_connected = true;
        ConnectionData {
            user: inner.user.clone(),
            connection_id: connection_id.to_owned(),
        }
    }

    /// The connection is gone; returns its id, if it had one.
    pub(crate) fn clear_connection(&self) -> Option<String> {
        self.lock().connection_id.take()
    }

    /// The connection data while connected.
    pub(crate) fn connected(&self) -> Option<ConnectionData> {
        let inner = self.lock();
        inner.connection_id.as_ref().map(|id| ConnectionData {
            user: inner.user.clone(),
            connection_id: id.clone(),
        })
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// Stopped or paused: the connection is to end.
    pub(crate) fn is_halted(&self) -> bool {
        self.is_stopped() || self.is_paused()
    }

    /// How a stop or pause reaches the running connection (set when it starts; it checks
    /// [`is_halted`](Self::is_halted) after setting it, so no stop is missed).
    pub(crate) fn set_waker(&self, waker: Option<Waker>) {
        *lock(&self.waker) = waker;
    }

    /// Pauses the session and wakes its connection so it closes the socket and ends; false
    /// when it was already paused or stopped.
    pub(crate) fn pause(&self) -> bool {
        if self.is_stopped() || self.paused.swap(true, Ordering::AcqRel) {
            return false;
        }
        self.wake();
        true
    }

    /// Ends a pause, the next connect having until `deadline`; true when the connection
    /// has ended and must be started again (otherwise it runs again by itself, see
    /// [`exited`](Self::exited)).
    pub(crate) fn unpause(&self, deadline: Instant) -> bool {
        *lock(&self.connect_deadline) = deadline;
        let mut exit = lock(&self.exit);
        self.paused.store(false, Ordering::Release);
        exit.generation += 1;
        std::mem::replace(&mut exit.ended, false)
    }

    /// Undoes [`unpause`](Self::unpause) when the connection could not be started again.
    pub(crate) fn repause(&self) {
        let mut exit = lock(&self.exit);
        self.paused.store(true, Ordering::Release);
        exit.ended = true;
    }

    /// Wakes the connection (on the reactor) and every token wait of the session.
    fn wake(&self) {
        if let Some(waker) = lock(&self.waker).as_ref() {
            waker();
        }
        if let Some(tokens) = self.tokens() {
            tokens.wake_all();
        }
    }

    /// The first connect's deadline, measured from its call's start.
    pub(crate) fn connect_deadline(&self) -> Instant {
        *lock(&self.connect_deadline)
    }

    /// Runs `hook` once the connection has ended; hands it back when it has ended
    /// already (run it yourself, outside every lock).
    pub(crate) fn on_exit(&self, hook: ExitHook) -> Result<(), ExitHook> {
        let mut exit = lock(&self.exit);
        if exit.ended {
            return Err(hook);
        }
        exit.hooks.push(hook);
        Ok(())
    }

    /// The connection, started at `generation`, ended. When the session was resumed
    /// meanwhile, returns the generation to run again; otherwise the exit hooks run.
    pub(crate) fn exited(&self, generation: u64) -> Option<u64> {
        let hooks = {
            let mut exit = lock(&self.exit);
            if exit.generation != generation && !self.is_halted() {
                return Some(exit.generation);
            }
            exit.ended = true;
            std::mem::take(&mut exit.hooks)
        };
        for hook in hooks {
            hook();
        }
        None
    }

    /// The generation the connection starts at (see [`exited`](Self::exited)).
    pub(crate) fn generation(&self) -> u64 {
        lock(&self.exit).generation
    }

    /// Stops the connection of a session that ended: it wakes at once, wherever it is
    /// (reading, backing off, dialling, waiting for a token). Does not wait for it.
    pub(crate) fn stop(&self) {
        if !self.stopped.swap(true, Ordering::AcqRel) {
            self.wake();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
