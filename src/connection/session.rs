//! [`Session`]: one connected (or connecting) user and the lifetime of its connection
//! thread: who it is, how it authenticates, its connection id, and the signals that stop
//! or pause the thread. The hub decides when a session starts and ends; the socket reads
//! it; neither is known here.

use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use stream_chat_protocol::User;

use super::state::ConnectionData;
use crate::rest::Auth;
use crate::token::TokenManager;

/// How a session authenticates.
pub(crate) enum AuthMode {
    Jwt(Arc<TokenManager>),
    Anonymous,
}

/// Runs once the connection thread has ended (see [`Session::on_exit`]).
pub(crate) type ExitHook = Box<dyn FnOnce() + Send>;

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
    hooks: Vec<ExitHook>,
}

struct Inner {
    user: User,
    connection_id: Option<String>,
    ever_connected: bool,
}

impl Session {
    /// Session number `id` of `user`, whose first connect has until `connect_deadline`;
    /// its thread is not started yet.
    pub(crate) fn new(id: u64, user: User, auth: AuthMode, connect_deadline: Instant) -> Self {
        let (stop_tx, stop_rx) = crossbeam_channel::bounded(0);
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
            signal: Mutex::new((Some(stop_tx), stop_rx)),
            stream: Mutex::new(None),
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

    /// Stopped or paused: the connection thread is to end.
    pub(crate) fn is_halted(&self) -> bool {
        self.is_stopped() || self.is_paused()
    }

    /// Fires (by disconnecting) when the session is stopped or paused.
    pub(crate) fn stop_signal(&self) -> Receiver<()> {
        lock(&self.signal).1.clone()
    }

    /// Pauses the session and wakes its thread so it closes the socket and ends; false
    /// when it was already paused or stopped.
    pub(crate) fn pause(&self) -> bool {
        if self.is_stopped() || self.paused.swap(true, Ordering::AcqRel) {
            return false;
        }
        self.wake();
        true
    }

    /// Ends a pause with a fresh wake signal, the next connect having until `deadline`;
    /// true when the thread has ended and must be started again (otherwise it runs again
    /// by itself, see [`exited`](Self::exited)).
    pub(crate) fn unpause(&self, deadline: Instant) -> bool {
        *lock(&self.connect_deadline) = deadline;
        let mut exit = lock(&self.exit);
        let (tx, rx) = crossbeam_channel::bounded(0);
        *lock(&self.signal) = (Some(tx), rx);
        self.paused.store(false, Ordering::Release);
        exit.generation += 1;
        std::mem::replace(&mut exit.ended, false)
    }

    /// Undoes [`unpause`](Self::unpause) when the thread could not be started again.
    pub(crate) fn repause(&self) {
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

    /// Runs `hook` once the connection thread has ended; hands it back when the thread
    /// has ended already (run it yourself, outside every lock).
    pub(crate) fn on_exit(&self, hook: ExitHook) -> Result<(), ExitHook> {
        let mut exit = lock(&self.exit);
        if exit.ended {
            return Err(hook);
        }
        exit.hooks.push(hook);
        Ok(())
    }

    /// The thread's body, started at `generation`, returned. When the session was
    /// resumed meanwhile, returns the generation to run again; otherwise the thread ends
    /// and the exit hooks run.
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

    /// The generation the thread starts at (see [`exited`](Self::exited)).
    pub(crate) fn generation(&self) -> u64 {
        lock(&self.exit).generation
    }

    /// Stops the connection thread of a session that ended: every blocking point (read,
    /// backoff, dial, token wait) wakes at once. Does not wait for the thread.
    pub(crate) fn stop(&self) {
        if !self.stopped.swap(true, Ordering::AcqRel) {
            self.wake();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
