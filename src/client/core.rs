//! [`Core`]: what every API handler stands on, and all it may use. A handler (an `impl
//! ChatClient` block in `client/`, or [`ChannelClient`](crate::ChannelClient) in
//! `channel/`) makes its calls with:
//!
//! - [`Core::call`]: REST as the current user, on the worker pool ([`Rest`]);
//! - [`Core::on_connection`]: REST on a live WebSocket connection, waiting for one first
//!   and sent once more if the connection is replaced meanwhile ([`Live`]);
//! - [`Core::events`]: the event bus, to register listeners.
//!
//! The state machine, the transport and the worker pool stay behind it.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use stream_chat_callbacks::{Call, CancelToken, ChatError, ChatResult, Completer, ErrorKind};
use stream_chat_callbacks::{Executor, Expire, WorkerPool};
use stream_chat_protocol::{ChannelState, codes};
use url::Url;

use super::timeouts::Timeouts;
pub(crate) use super::typing::Typing;
use crate::connection::{Connection, Hub, Session, shut_down_error};
use crate::events::EventBus;
use crate::rest::{Auth, Http, Request};
use crate::state::Store;

/// A client's shared internals; cheap to clone (clones share everything).
#[derive(Clone)]
pub(crate) struct Core {
    shared: Arc<Shared>,
}

/// What a client is made of. Dropping the last handle shuts it down.
pub(super) struct Shared {
    pub(super) http: Arc<Http>,
    pub(super) hub: Arc<Hub>,
    pub(super) bus: EventBus,
    pub(super) pool: WorkerPool,
    pub(super) executor: Executor,
    pub(super) store: Arc<Store>,
    pub(super) base_url: Url,
    pub(super) api_key: String,
    pub(super) timeouts: Timeouts,
    // Typing (messages surface): per channel and thread, for `keystroke`.
    pub(super) typing: Typing,
    // The offline store (issue 12), when built with `offline(path)`.
    #[cfg(feature = "offline")]
    pub(super) offline: Option<Arc<dyn Attached>>,
}

/// A store that lives as long as the client (the offline store, `src/offline/`): told the
/// connected user at shutdown, and shut down after the state store. A trait, so the core
/// does not depend on the offline module, which is built on the core; the module gets its
/// store back with [`Core::attached`] and a downcast.
#[cfg(feature = "offline")]
pub(crate) trait Attached: std::any::Any + Send + Sync {
    /// The connected user, written even if its first event never reached the store.
    fn remember(&self, user: stream_chat_protocol::User);
    /// Writes what is left and stops.
    fn shutdown(&self);
    /// Itself, for a downcast to the concrete store.
    fn into_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync>;
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Shared {
    fn shutdown(&self) {
        // The connected user is in the file even if its first event never reached the
        // store (a connect, then at once a shutdown).
        #[cfg(feature = "offline")]
        if let (Some(offline), Some(session)) = (&self.offline, self.hub.current()) {
            offline.remember(session.user());
        }
        self.hub.shutdown();
        self.pool.shutdown();
        self.bus.shutdown();
        self.store.shutdown();
        // After the store: its last snapshot is written before this returns.
        #[cfg(feature = "offline")]
        if let Some(offline) = &self.offline {
            offline.shutdown();
        }
    }
}

impl Core {
    pub(super) fn new(shared: Shared) -> Self {
        Core {
            shared: Arc::new(shared),
        }
    }

    /// The internals, for the client's own flows (connect, accessors).
    pub(super) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Whether both are handles of one client.
    pub(super) fn same(&self, other: &Core) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Shuts the client down (see `ChatClient::shutdown`).
    pub(super) fn shutdown(&self) {
        self.shared.shutdown();
    }

    /// The state store: call responses are applied here before their callbacks run.
    pub(crate) fn store(&self) -> &Store {
        &self.shared.store
    }

    /// Whether the socket is connected now.
    #[cfg(feature = "offline")]
    pub(crate) fn is_connected(&self) -> bool {
        self.shared.hub.state().is_connected()
    }

    /// The user connected or connecting, as the session knows it.
    #[cfg(feature = "offline")]
    pub(crate) fn current_user(&self) -> Option<stream_chat_protocol::User> {
        self.shared.hub.current().map(|s| s.user())
    }

    /// The store attached to the client (the offline store), when it was built with one.
    #[cfg(feature = "offline")]
    pub(crate) fn attached(&self) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        self.shared.offline.clone().map(Attached::into_any)
    }

    /// The event bus: listeners register here.
    pub(crate) fn events(&self) -> &EventBus {
        &self.shared.bus
    }

    // Typing (messages surface).

    /// The typing state of this client's channels (see `client/typing.rs`).
    pub(crate) fn typing(&self) -> &Typing {
        &self.shared.typing
    }

    /// Resolves `target` at `at` on the shared timer thread, unless it is dropped or done
    /// by then.
    pub(crate) fn schedule(&self, at: Instant, target: Weak<dyn Expire>) {
        self.shared.hub.schedule(at, target);
    }

    /// The id of the user connected or connecting, as the session knows it.
    pub(crate) fn current_user_id(&self) -> Option<String> {
        self.shared.hub.current().map(|s| s.user_id.clone())
    }

    /// Runs `job` on the client's pool; fails once the client shut down.
    pub(crate) fn spawn(&self, job: impl FnOnce() + Send + 'static) -> Result<(), ChatError> {
        self.shared.pool.spawn(job)
    }

    /// A handle that does not keep the client alive (for timer targets).
    pub(crate) fn downgrade(&self) -> WeakCore {
        WeakCore(Arc::downgrade(&self.shared))
    }

    /// A call whose `work` runs on the worker pool (or the caller's thread for
    /// `execute()`), sending REST requests as the user connected when it runs.
    pub(crate) fn call<T: Send + 'static>(
        &self,
        work: impl Fn(&Rest<'_>) -> Result<T, ChatError> + Send + Sync + 'static,
    ) -> Call<T> {
        let core = self.clone();
        Call::new(&self.shared.pool, move |cancel| {
            work(&Rest {
                core: &core,
                cancel,
            })
            .into()
        })
        .with_executor(self.shared.executor.clone())
    }

    /// A deferred call on the client's pool, delivering through its executor: `start`
    /// hands its [`Completer`] to whatever resolves it later.
    pub(super) fn deferred<T: Send + 'static>(
        &self,
        start: impl Fn(&CancelToken, Completer<T>) + Send + Sync + 'static,
    ) -> Call<T> {
        Call::deferred(&self.shared.pool, start).with_executor(self.shared.executor.clone())
    }

    /// A call that runs `work` on a live connection, waiting for one (bounded by
    /// `wait_for_connection_timeout`, see `Hub::wait_connection`) without holding a
    /// thread when enqueued; `execute()` waits and sends on the caller's thread. When the
    /// server calls the connection id stale (`codes::CONNECTION_ID_NOT_FOUND`) or the
    /// connection was replaced meanwhile, `work` runs once more on a newer connection.
    pub(crate) fn on_connection<T: Send + 'static>(
        &self,
        work: impl Fn(&Live<'_>) -> Result<T, ChatError> + Send + Sync + 'static,
    ) -> Call<T> {
        let origin = self.shared.hub.current().map(|s| s.id());
        let (core, work) = (self.clone(), Arc::new(work) as Arc<LiveWork<T>>);
        self.deferred(move |cancel, done| {
            let connected = Connected {
                core: core.clone(),
                cancel: cancel.clone(),
                work: Arc::clone(&work),
            };
            // A blocked caller (execute, or a combinator's work) sends on its own thread: the
            // pool may have no other thread to run the request.
            if !done.caller_waits() {
                connected.deferred(done.started_at(), origin, None, done);
            } else {
                let result = connected.blocking(done.started_at(), origin);
                done.complete(result.into());
            }
        })
    }

    /// REST auth of the current session (connected or connecting).
    fn auth(&self) -> Result<Auth, ChatError> {
        let session = self
            .shared
            .hub
            .current()
            .ok_or_else(|| ChatError::new(ErrorKind::NotConnected, "no user is connected"))?;
        let connection_id = session.connection_id();
        Ok(session.rest_auth(connection_id))
    }

    /// Sends `req` as `auth`; cancelling the call abandons it.
    fn send<T: DeserializeOwned>(
        &self,
        req: &Request<'_>,
        auth: &Auth,
        cancel: &CancelToken,
    ) -> Result<T, ChatError> {
        self.shared.http.send_cancellable(req, auth, cancel)
    }

    // Uploads, the server-side client and webhooks.

    /// The client's callback executor (an upload's progress reports run there).
    pub(crate) fn executor(&self) -> &Executor {
        &self.shared.executor
    }
}

/// A [`Core`] that does not keep the client alive: [`upgrade`](Self::upgrade) it while
/// the client is there.
#[derive(Clone)]
pub(crate) struct WeakCore(Weak<Shared>);

impl WeakCore {
    /// The client, unless it was dropped.
    pub(crate) fn upgrade(&self) -> Option<Core> {
        self.0.upgrade().map(|shared| Core { shared })
    }
}

/// REST for one run of a [`Core::call`]: as the current user, cancelled with the call.
pub(crate) struct Rest<'a> {
    core: &'a Core,
    cancel: &'a CancelToken,
}

impl Rest<'_> {
    /// Sends `req` as the current user (connected or connecting);
    /// [`ErrorKind::NotConnected`] without one.
    pub(crate) fn send<T: DeserializeOwned>(&self, req: &Request<'_>) -> Result<T, ChatError> {
        let auth = self.core.auth()?;
        self.core.send(req, &auth, self.cancel)
    }

    /// The current user's auth, for [`send_as`](Self::send_as).
    pub(crate) fn auth(&self) -> Result<Auth, ChatError> {
        self.core.auth()
    }

    /// Sends `req` as `auth`.
    pub(crate) fn send_as<T: DeserializeOwned>(
        &self,
        req: &Request<'_>,
        auth: &Auth,
    ) -> Result<T, ChatError> {
        self.core.send(req, auth, self.cancel)
    }

    /// Stops re-watching `cid` after reconnects.
    pub(crate) fn unwatched(&self, cid: &str) {
        self.core.shared.hub.tracker().unwatched(cid);
    }

    // Uploads, the server-side client and webhooks.

    /// Sends `req` with a streamed `body` as the current user (an upload).
    pub(crate) fn send_stream<T: DeserializeOwned>(
        &self,
        req: &crate::rest::StreamRequest<'_>,
        body: impl std::io::Read + Send + 'static,
    ) -> Result<T, ChatError> {
        let auth = self.core.auth()?;
        self.core
            .shared
            .http
            .send_stream(req, body, &auth, self.cancel)
    }

    /// The client's callback executor (progress reports run there).
    pub(crate) fn executor(&self) -> &Executor {
        &self.core.shared.executor
    }

    /// This run's cancel token.
    pub(crate) fn cancel_token(&self) -> &CancelToken {
        self.cancel
    }
}

/// The live connection one run of a [`Core::on_connection`] call got.
pub(crate) struct Live<'a> {
    core: &'a Core,
    cancel: &'a CancelToken,
    session: &'a Arc<Session>,
    connection_id: &'a str,
}

impl Live<'_> {
    /// Sends `req` as the connection's user, with its connection id.
    pub(crate) fn send<T: DeserializeOwned>(&self, req: &Request<'_>) -> Result<T, ChatError> {
        let auth = self.session.rest_auth(Some(self.connection_id.to_owned()));
        self.core.send(req, &auth, self.cancel)
    }

    /// The channels of `states` were watched on this connection: they are watched again,
    /// and their missed messages recovered, after reconnects.
    pub(crate) fn watched(&self, states: &[ChannelState]) {
        self.core
            .shared
            .hub
            .tracker()
            .watched(self.session, self.connection_id, states);
    }
}

type LiveWork<T> = dyn Fn(&Live<'_>) -> Result<T, ChatError> + Send + Sync;

/// One run of a call made with [`Core::on_connection`].
struct Connected<T> {
    core: Core,
    cancel: CancelToken,
    work: Arc<LiveWork<T>>,
}

impl<T: Send + 'static> Connected<T> {
    fn wait(
        &self,
        start: Instant,
        origin: Option<u64>,
        stale: Option<String>,
        done: Box<dyn FnOnce(Result<Connection, ChatError>) + Send>,
    ) {
        let shared = &self.core.shared;
        shared
            .hub
            .wait_connection(&self.cancel, start, self.limit(), origin, stale, done);
    }

    fn limit(&self) -> Duration {
        self.core.shared.timeouts.wait_for_connection_timeout
    }

    fn send(&self, (session, connection_id): &Connection) -> Result<T, ChatError> {
        (self.work)(&Live {
            core: &self.core,
            cancel: &self.cancel,
            session,
            connection_id,
        })
    }

    /// Whether `err` from a send on `connection` is worth one more send on a newer one.
    fn stale(&self, err: &ChatError, (session, connection_id): &Connection) -> bool {
        let retry = !err.is_cancelled()
            && !session.is_stopped()
            && (err.stream_code() == Some(codes::CONNECTION_ID_NOT_FOUND)
                || session.connection_id().as_deref() != Some(connection_id.as_str()));
        if retry {
            log::info!(
                "connection {connection_id} was replaced during the call ({err}); retrying once"
            );
        }
        retry
    }

    /// Waits on this thread, then sends (`execute()`).
    fn blocking(&self, start: Instant, origin: Option<u64>) -> Result<T, ChatError> {
        let wait_here = |start, origin, stale| {
            let (tx, rx) = crossbeam_channel::bounded(1);
            self.wait(
                start,
                origin,
                stale,
                Box::new(move |r| {
                    let _ = tx.send(r);
                }),
            );
            rx.recv().unwrap_or_else(|_| Err(shut_down_error()))
        };
        let connection = wait_here(start, origin, None)?;
        match self.send(&connection) {
            Err(err) if self.stale(&err, &connection) => {
                let (session, stale) = connection;
                self.send(&wait_here(Instant::now(), Some(session.id()), Some(stale))?)
            }
            result => result,
        }
    }

    /// Waits holding no thread, then sends on the pool and completes `done` (`enqueue`).
    /// With `stale` set this is the retry, which is not retried again.
    fn deferred(
        self,
        start: Instant,
        origin: Option<u64>,
        stale: Option<String>,
        done: Completer<T>,
    ) {
        let retried = stale.is_some();
        let core = self.core.clone();
        let waiting = Connected {
            core: core.clone(),
            cancel: self.cancel.clone(),
            work: Arc::clone(&self.work),
        };
        waiting.wait(
            start,
            origin,
            stale,
            Box::new(move |connection| {
                let connection = match connection {
                    Ok(connection) => connection,
                    Err(err) => return done.complete(ChatResult::Failure(err)),
                };
                // Refused only once the pool is shut down: `done` is dropped, failing the
                // call with ShutDown.
                let _ = core
                    .shared
                    .pool
                    .spawn(move || match self.send(&connection) {
                        Err(err) if !retried && self.stale(&err, &connection) => {
                            let (session, stale) = connection;
                            self.deferred(Instant::now(), Some(session.id()), Some(stale), done);
                        }
                        result => done.complete(result.into()),
                    });
            }),
        );
    }
}
