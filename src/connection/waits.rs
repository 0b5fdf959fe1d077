//! The calls waiting on the hub, each resolved exactly once by whichever comes first: the
//! connection, the hub's timer at the deadline, the call's cancel hook, or the end
//! of the session or client. No thread waits meanwhile.
//!
//! - [`Pending`]: a connect (or `reconnect_socket`) waiting for its outcome;
//! - [`ConnWait`]: a call waiting for a live connection to send on;
//! - [`ExitWait`]: a `disconnect`/`disconnect_socket` waiting for the thread to end.
//!
//! They and `hub.rs` know each other: a wait resolves under the hub's lock, in the same
//! step as the state change it reports.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use stream_chat_callbacks::{CancelToken, ChatError, Completer, ErrorKind, Expire, deadline_after};

use super::hub::{Hub, Slot, shut_down_error};
use super::session::Session;
use super::state::ConnectionData;

/// A live connection: its session and connection id.
pub(crate) type Connection = (Arc<Session>, String);

/// What a [`ConnWait`] calls with its outcome.
pub(crate) type OnConnection = Box<dyn FnOnce(Result<Connection, ChatError>) + Send>;

/// How long `disconnect()` waits for the connection to end.
pub(super) const EXIT_WAIT: Duration = Duration::from_secs(1);

/// A completer that several parties (connection, timer, cancel hook) race to
/// resolve; the first one wins.
pub(super) struct Once<T>(Mutex<Option<Completer<T>>>);

impl<T> Once<T> {
    pub(super) fn new(done: Completer<T>) -> Self {
        Once(Mutex::new(Some(done)))
    }

    /// Resolves with `result` unless already resolved; true if this call did it. Never
    /// call it under the hub's or a session's lock: delivery may run user code when the
    /// pool is gone.
    pub(super) fn resolve(&self, result: Result<T, ChatError>) -> bool {
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
    pub(super) fn claim(&self) -> Option<Completer<T>> {
        lock(&self.0).take()
    }

    fn is_resolved(&self) -> bool {
        lock(&self.0).is_none()
    }
}

/// One connect call waiting for its outcome. It resolves exactly once: connected, failed,
/// stopped, timed out (the hub's timer) or cancelled (the call's cancel hook), always
/// through [`Slot::resolve`], in the same locked step as the state change it reports.
pub(crate) struct Pending {
    pub(super) done: Once<ConnectionData>,
    pub(crate) deadline: Instant,
    limit: Duration,
    label: String,
    hub: Weak<Hub>,
    /// The session it waits for, once it joined or started one.
    pub(super) session: Mutex<Weak<Session>>,
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
        hub.schedule(
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

/// A call waiting for a connection (see [`Hub::wait_connection`]). It resolves exactly
/// once: connected (the connection), the session ended, the deadline (the hub's
/// timer), the call cancelled (its cancel hook) or the client shut down.
pub(crate) struct ConnWait {
    done: Mutex<Option<OnConnection>>,
    /// A connection id the server called stale: wait for another one.
    stale: Option<String>,
    limit: Duration,
    hub: Weak<Hub>,
}

impl ConnWait {
    /// A wait of at most `limit` for a connection other than `stale`, on `hub`.
    pub(super) fn new(
        hub: &Arc<Hub>,
        limit: Duration,
        stale: Option<String>,
        done: OnConnection,
    ) -> Arc<ConnWait> {
        Arc::new(ConnWait {
            done: Mutex::new(Some(done)),
            stale,
            limit,
            hub: Arc::downgrade(hub),
        })
    }

    /// Cancelling `cancel` ends the wait.
    pub(super) fn cancel_with(self: &Arc<Self>, cancel: &CancelToken) {
        let weak = Arc::downgrade(self);
        cancel.on_cancel(move || {
            if let Some(wait) = weak.upgrade() {
                wait.end(|_| ChatError::cancelled());
            }
        });
    }

    pub(super) fn resolve(&self, result: Result<Connection, ChatError>) {
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
            slot.forget_wait(self);
            why(&slot)
        };
        self.resolve(Err(err));
    }
}

impl Expire for ConnWait {
    fn expire(&self) {
        let limit = self.limit;
        self.end(|slot| match slot.current_user_id() {
            Some(user_id) => ChatError::new(
                ErrorKind::Timeout,
                format!(
                    "the connection of '{user_id}' was not up within {limit:?} (wait_for_connection_timeout)"
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

/// The outcome for each connection wait of a slot that is `current` (with its live
/// connection, if any) after sessions `ended`; the waits still waiting stay in `waits`,
/// each with the session it last saw.
pub(super) fn settle(
    waits: &mut Vec<(Arc<ConnWait>, Option<u64>)>,
    current: Option<&Arc<Session>>,
    ended: Option<&(u64, String, Option<ChatError>)>,
    shut_down: bool,
) -> Vec<(Arc<ConnWait>, Result<Connection, ChatError>)> {
    let connected = current.and_then(|s| s.connection_id().map(|id| (Arc::clone(s), id)));
    let mut settled = Vec::new();
    waits.retain_mut(|(wait, seen)| {
        if wait.is_done() {
            return false;
        }
        let result = match (current, &connected) {
            (_, Some((session, id))) if wait.stale.as_deref() != Some(id.as_str()) => {
                Ok((Arc::clone(session), id.clone()))
            }
            (Some(session), _) => {
                *seen = Some(session.id());
                return true;
            }
            (None, _) => match *seen {
                Some(gone) => Err(disconnected(ended, gone)),
                None if shut_down => Err(shut_down_error()),
                None => return true,
            },
        };
        settled.push((Arc::clone(wait), result));
        false
    });
    settled
}

/// Why a wait fails when the session `gone` it saw ended without a successor.
fn disconnected(ended: Option<&(u64, String, Option<ChatError>)>, gone: u64) -> ChatError {
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

/// A disconnect call waiting for the connection to end (or [`EXIT_WAIT`], then it
/// resolves anyway and logs).
pub(super) struct ExitWait {
    done: Once<()>,
    user_id: String,
}

impl ExitWait {
    pub(super) fn new(done: Completer<()>, user_id: &str) -> Self {
        ExitWait {
            done: Once::new(done),
            user_id: user_id.to_owned(),
        }
    }

    /// The thread ended.
    pub(super) fn exited(&self) {
        self.done.resolve(Ok(()));
    }
}

impl Expire for ExitWait {
    fn expire(&self) {
        if self.done.resolve(Ok(())) {
            log::warn!(
                "the connection of '{}' did not end within {EXIT_WAIT:?}",
                self.user_id
            );
        }
    }

    fn is_done(&self) -> bool {
        self.done.is_resolved()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
