//! The offline store (cargo feature `offline`): the state store persisted in SQLite, and
//! messages sent while disconnected kept and sent once the socket is back.
//!
//! - **Persisting.** Every snapshot the state store publishes (after events, call
//!   responses and the re-watches of a recovery alike) goes to one writer thread, which
//!   keeps the latest, compares it with the last one it wrote (snapshots share structure:
//!   an unchanged channel or message is the same allocation) and writes only what changed,
//!   in one transaction. Snapshots without a current user (before a connect, after
//!   `disconnect`) are not written and delete nothing.
//! - **Loading.** When the client is built, the file's user, channels, messages (with their
//!   status) and query lists go into the store, so `state()`, `channel.state()` and every
//!   observer see them before any network; `watch`/`query_channels` then merge the fresh
//!   state in as usual.
//! - **Sending later.** A message sent while the socket is not connected, or whose send
//!   fails with a retryable error, is queued (table `pending`) and its call succeeds with the
//!   message as stored, `SyncStatus::Pending` in the state. When the socket connects the
//!   writer thread sends the queue in order, each once (its id is chosen by the client: a
//!   "message with ID .. already exists" answer means it was sent). A permanent error marks
//!   it `SyncStatus::Failed`; `retry_message` sends it again.

mod db;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use rusqlite::Connection;
use stream_chat_callbacks::{ChatError, ErrorKind};
use stream_chat_protocol::{
    ChannelState as ChannelResponse, Message, MessageResponse, SendMessageRequest, codes,
};

use crate::client::core::{Attached, Core, WeakCore};
use crate::rest::Request;
use crate::state::{ChannelState, ClientState, MessageItem, PublishHook, Store};

/// An open offline store: the file, its writer thread and the queue of messages to send.
pub(crate) struct Offline {
    path: PathBuf,
    db: Arc<Mutex<Connection>>,
    jobs: Mutex<Option<Sender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    core: Arc<OnceLock<WeakCore>>,
}

pub(crate) enum Job {
    /// A new snapshot of the store.
    Persist(Arc<ClientState>),
    /// The socket connected, or a message was queued while connected: send the queue.
    Flush,
    /// The connected user, when the client shuts down: the file's user from now on.
    Remember(Box<stream_chat_protocol::User>),
    /// `clear_offline_data`: answered once the rows are gone. Nothing more is written
    /// (snapshots, the shutdown's user) until the next connect call ([`Job::Resume`]).
    Clear(Sender<Result<(), ChatError>>),
    /// A connect call: writing starts again after a clear.
    Resume,
}

impl Offline {
    /// Opens (or creates, or replaces a corrupt) `path` and starts the writer thread.
    pub(crate) fn open(path: &Path) -> Result<Arc<Offline>, ChatError> {
        let conn = db::open(path)?;
        if let Err(err) = db::drop_unreadable(&conn) {
            log::warn!("offline: cannot read the send queue: {err}");
        }
        let db = Arc::new(Mutex::new(conn));
        let (tx, rx) = crossbeam_channel::unbounded();
        let core: Arc<OnceLock<WeakCore>> = Arc::default();
        let writer = Writer {
            db: Arc::clone(&db),
            core: Arc::clone(&core),
            last: None,
            unowned: None,
            user: None,
            cleared: false,
        };
        let handle = std::thread::Builder::new()
            .name("stream-chat-offline".into())
            .spawn(move || writer.run(&rx))
            .map_err(|e| {
                ChatError::new(ErrorKind::ShutDown, "cannot start the offline thread")
                    .with_source(e)
            })?;
        Ok(Arc::new(Offline {
            path: path.to_owned(),
            db,
            jobs: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(handle)),
            core,
        }))
    }

    /// Attaches the client (the queue is sent with it) and loads the file into its store.
    pub(crate) fn attach(&self, core: &Core, store: &Store) {
        let _ = self.core.set(core.downgrade());
        let cached = match db::load(&lock(&self.db)) {
            Ok(cached) => cached,
            Err(err) => {
                log::warn!("offline: cannot read {}: {err}", self.path.display());
                return;
            }
        };
        let channels = cached.channels.len();
        store.restore(cached.me, cached.channels, cached.queries);
        log::debug!("offline: loaded {channels} cached channels");
    }

    /// The sender of jobs for the writer (for the store's hook); `None` once shut down.
    pub(crate) fn sender(&self) -> Option<Sender<Job>> {
        lock(&self.jobs).clone()
    }

    fn send(&self, job: Job) {
        if let Some(tx) = lock(&self.jobs).as_ref() {
            let _ = tx.send(job);
        }
    }

    /// The client's offline store, when it was built with one.
    pub(crate) fn of(core: &Core) -> Option<Arc<Offline>> {
        core.attached()?.downcast().ok()
    }

    /// Records `user` as the file's user (see [`Job::Remember`]).
    pub(crate) fn remember(&self, user: stream_chat_protocol::User) {
        self.send(Job::Remember(Box::new(user)));
    }

    /// A connect call (after a clear, writing starts again).
    pub(crate) fn resume(&self) {
        self.send(Job::Resume);
    }

    /// The socket connected: send the queue.
    pub(crate) fn connected(&self) {
        self.send(Job::Flush);
    }

    /// The user the file's data belongs to (the last one connected).
    pub(crate) fn user(&self) -> Option<stream_chat_protocol::User> {
        db::user(&lock(&self.db)).unwrap_or_else(|err| {
            log::warn!("offline: cannot read the last user: {err}");
            None
        })
    }

    /// Deletes every row, after what the writer has queued.
    pub(crate) fn clear(&self) -> Result<(), ChatError> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.send(Job::Clear(tx));
        rx.recv().unwrap_or_else(|_| {
            // The writer is gone (the client shut down): clear on this thread.
            db::clear(&lock(&self.db)).map_err(|e| sql_error("clear the offline data", e))
        })
    }

    /// Whether a send to `cid` must wait in the queue: the socket is not connected, or
    /// earlier messages of `cid` wait (order per channel).
    fn must_queue(&self, cid: &str, connected: bool) -> bool {
        !connected || db::has_queued(&lock(&self.db), cid).unwrap_or(false)
    }

    /// Queues `message` for `cid` at `at`; `false` (logged) when the file refuses the write.
    fn queue(&self, cid: &str, at: i64, message: &Message) -> bool {
        match db::queue(&lock(&self.db), at, cid, message) {
            Ok(()) => true,
            Err(err) => {
                log::warn!("offline: cannot queue message {}: {err}", message.id);
                false
            }
        }
    }

    /// Stops the writer after what it was given (called when the client shuts down).
    pub(crate) fn shutdown(&self) {
        lock(&self.jobs).take();
        let handle = lock(&self.writer).take();
        if let Some(handle) = handle
            && handle.thread().id() != std::thread::current().id()
        {
            let _ = handle.join();
        }
    }
}

impl Attached for Offline {
    fn remember(&self, user: stream_chat_protocol::User) {
        Offline::remember(self, user);
    }

    fn shutdown(&self) {
        Offline::shutdown(self);
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync> {
        self
    }
}

/// A time stamp in ns since the epoch, unique and increasing within the process: when a
/// send was made (`send_message` called), which orders the pending messages in the state
/// and in the queue, whichever thread runs their calls first.
pub(crate) fn stamp() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = i64::try_from(stream_chat_protocol::time::now_nanos()).unwrap_or(i64::MAX);
    let previous = LAST
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(now.max(last.saturating_add(1)))
        })
        .unwrap_or(now);
    now.max(previous.saturating_add(1))
}

/// `send_message` with the offline store: see the module doc. `path` is the channel's
/// `message` endpoint; `at` the call's [`stamp`].
pub(crate) fn send_message(
    offline: &Offline,
    core: &Core,
    rest: &crate::client::core::Rest<'_>,
    (cid, path): (&str, &str),
    message: Message,
    at: i64,
) -> Result<Message, ChatError> {
    let store = core.store();
    store.pending_at(cid, &message, i128::from(at));
    if offline.must_queue(cid, core.is_connected()) && offline.queue(cid, at, &message) {
        offline.send(Job::Flush);
        return Ok(message);
    }
    let body = SendMessageRequest {
        message,
        ..SendMessageRequest::default()
    };
    match rest.send::<MessageResponse>(&Request::post(path, &body)?) {
        Ok(response) => {
            store.synced(cid, &response.message);
            Ok(response.message)
        }
        Err(err) if transient(&err) && offline.queue(cid, at, &body.message) => {
            log::info!(
                "offline: message {} queued after a failed send ({err})",
                body.message.id
            );
            Ok(body.message)
        }
        Err(err) => {
            store.failed(cid, &body.message.id);
            Err(err)
        }
    }
}

/// An error after which the message may still go through later: the network, a timeout,
/// no connection, a retryable API answer (429, 5xx), a shutdown or a cancel.
fn transient(err: &ChatError) -> bool {
    err.is_retryable()
        || matches!(
            err.kind(),
            ErrorKind::NotConnected | ErrorKind::ShutDown | ErrorKind::Cancelled
        )
}

/// The server already has this message id: an earlier send of ours went through.
fn already_sent(err: &ChatError) -> bool {
    err.stream_code() == Some(codes::INPUT) && err.message().contains("already exists")
}

/// The writer thread's state.
struct Writer {
    db: Arc<Mutex<Connection>>,
    core: Arc<OnceLock<WeakCore>>,
    /// The last snapshot written (`None`: nothing to compare with, so nothing is deleted).
    last: Option<Arc<ClientState>>,
    /// The newest snapshot not written because no user was known for it yet (before the
    /// first `me` of a connect, once the session had ended too: a shutdown right after a
    /// call's response). The shutdown's [`Job::Remember`] writes it as that user's.
    unowned: Option<Arc<ClientState>>,
    /// The user whose data the file holds.
    user: Option<String>,
    /// `clear_offline_data` ran and no connect call came since: nothing is written. The
    /// store publishes on its event thread, so snapshots of events received before the
    /// clear (the connect's `me`, the disconnect's) can reach the writer after it; they
    /// must not bring the cleared user back.
    cleared: bool,
}

impl Writer {
    fn run(mut self, rx: &Receiver<Job>) {
        self.user = db::user(&lock(&self.db)).ok().flatten().map(|u| u.id);
        while let Ok(first) = rx.recv() {
            // Coalesce: only the newest snapshot of a burst is written.
            let mut latest: Option<Arc<ClientState>> = None;
            let mut flush = false;
            for job in std::iter::once(first).chain(rx.try_iter()) {
                match job {
                    Job::Persist(_) | Job::Remember(_) if self.cleared => {}
                    Job::Resume => self.cleared = false,
                    Job::Persist(state) => {
                        // The last state with a user is written before one without (a
                        // disconnect empties the store): never coalesced away.
                        if state.me.is_none()
                            && let Some(with_user) =
                                latest.take_if(|l: &mut Arc<ClientState>| l.me.is_some())
                        {
                            self.persist(with_user);
                        }
                        latest = Some(state);
                    }
                    Job::Flush => flush = true,
                    Job::Remember(user) => {
                        if let Some(state) = latest.take() {
                            self.persist(state);
                        }
                        if let Some(state) = self.unowned.take() {
                            self.persist_as(state, Some(Arc::new((*user).clone())));
                        }
                        self.remember(&user);
                    }
                    Job::Clear(done) => {
                        // What came before the clear is written (and then deleted with
                        // the rest) so the writer's bookkeeping stays simple.
                        if let Some(state) = latest.take() {
                            self.persist(state);
                        }
                        let result = db::clear(&lock(&self.db))
                            .map_err(|e| sql_error("clear the offline data", e));
                        self.last = None;
                        self.unowned = None;
                        self.user = None;
                        self.cleared = true;
                        let _ = done.send(result);
                    }
                }
            }
            if let Some(state) = latest {
                self.persist(state);
            }
            if flush {
                self.flush();
            }
        }
    }

    /// Makes `user` the file's user unless it already is (another user's data goes).
    fn remember(&mut self, user: &stream_chat_protocol::User) {
        if self.user.as_deref() == Some(user.id.as_str()) {
            return;
        }
        let conn = lock(&self.db);
        let json = serde_json::to_string(user).unwrap_or_default();
        let result = db::clear(&conn).and_then(|()| db::set_user(&conn, &json));
        drop(conn);
        match result {
            Ok(()) => self.user = Some(user.id.clone()),
            Err(err) => log::warn!("offline: cannot record the user: {err}"),
        }
        self.last = None;
    }

    fn persist(&mut self, state: Arc<ClientState>) {
        self.persist_as(state, None);
    }

    /// [`persist`](Self::persist), with `owner` as the user when the snapshot has none.
    fn persist_as(
        &mut self,
        state: Arc<ClientState>,
        owner: Option<Arc<stream_chat_protocol::User>>,
    ) {
        // Before the first health.check reaches the store, the session knows the user: a
        // call's response can come first (a watch right after the connect call returned,
        // then a shutdown before the event: its channel was never written). Not right
        // after a state with a user: that is `disconnect()` emptying the store while its
        // session ends.
        let before_me = self.last.as_ref().is_none_or(|l| l.me.is_none());
        let me = state.me.clone().or(owner).or_else(|| {
            if !before_me {
                return None;
            }
            let core = self.core.get().and_then(WeakCore::upgrade)?;
            core.current_user().map(Arc::new)
        });
        let Some(me) = me else {
            // Not connected yet, or disconnected: keep the file as it is.
            if before_me {
                self.unowned = Some(state);
            }
            self.last = None;
            return;
        };
        self.unowned = None;
        let mut conn = lock(&self.db);
        let result = (|| -> rusqlite::Result<()> {
            if self.user.as_deref() != Some(me.id.as_str()) {
                if self.user.is_some() {
                    log::info!("offline: another user connected; the cached data is replaced");
                }
                db::clear(&conn)?;
                self.last = None;
            }
            let tx = conn.transaction()?;
            let last = self.last.as_deref();
            if last
                .and_then(|l| l.me.as_ref())
                .is_none_or(|m| !Arc::ptr_eq(m, &me))
            {
                let json = serde_json::to_string(&*me).unwrap_or_default();
                db::set_meta(&tx, "user", &json)?;
            }
            for (cid, channel) in state.channels.iter() {
                let old = last.and_then(|l| l.channels.get(cid));
                if old.is_some_and(|o| Arc::ptr_eq(o, channel)) {
                    continue;
                }
                write_channel(&tx, channel, old.map(|o| &**o))?;
            }
            if let Some(last) = last {
                for cid in last.channels.keys() {
                    if !state.channels.contains_key(cid) {
                        db::delete_channel(&tx, cid)?;
                    }
                }
            }
            // With nothing to compare (after a start or a disconnect), an empty list set
            // deletes nothing.
            let queries = match last {
                Some(l) => !Arc::ptr_eq(&l.queries, &state.queries),
                None => !state.queries.is_empty(),
            };
            if queries {
                db::put_queries(&tx, &state.queries)?;
            }
            tx.commit()
        })();
        drop(conn);
        match result {
            Ok(()) => {
                self.user = Some(me.id.clone());
                self.last = Some(state);
            }
            Err(err) => {
                log::warn!("offline: cannot write the state: {err}");
                self.last = None;
            }
        }
    }

    /// Sends the queue, oldest first, while connected.
    fn flush(&self) {
        let Some(core) = self.core.get().and_then(WeakCore::upgrade) else {
            return;
        };
        loop {
            if !core.is_connected() {
                return;
            }
            let queued = match db::first_queued(&lock(&self.db)) {
                Ok(Some(queued)) => queued,
                Ok(None) => return,
                Err(err) => {
                    log::warn!("offline: cannot read the send queue: {err}");
                    return;
                }
            };
            let Some(outcome) = send_queued(&core, &queued) else {
                return;
            };
            // Off the queue before the state says so: a send made once the state shows it
            // sent does not wait behind it.
            if let Err(err) = db::unqueue(&lock(&self.db), queued.seq) {
                log::warn!(
                    "offline: cannot unqueue message {}: {err}",
                    queued.message.id
                );
                return;
            }
            let store = core.store();
            match outcome {
                Ok(message) => store.synced(&queued.cid, &message),
                Err(()) => store.failed(&queued.cid, &queued.message.id),
            }
        }
    }
}

/// Sends one queued message: the server's copy, `Err` when it was refused for good, or
/// `None` when it must stay queued (a retryable error).
fn send_queued(core: &Core, queued: &db::Queued) -> Option<Result<Message, ()>> {
    let (cid, message) = (&queued.cid, &queued.message);
    let Some((kind, id)) = cid.split_once(':') else {
        return Some(Err(()));
    };
    let path = format!("channels/{kind}/{id}/message");
    let body = SendMessageRequest {
        message: message.clone(),
        ..SendMessageRequest::default()
    };
    let result = core
        .call(move |rest| rest.send::<MessageResponse>(&Request::post(&path, &body)?))
        .execute()
        .into_result();
    match result {
        Ok(response) => Some(Ok(response.message)),
        Err(err) if already_sent(&err) => {
            // The server's copy (its created_at); ours if that fails too.
            let stored = crate::rest::message_path(&message.id)
                .ok()
                .and_then(|path| {
                    core.call(move |rest| rest.send::<MessageResponse>(&Request::get(&path)))
                        .execute()
                        .into_result()
                        .ok()
                });
            Some(Ok(stored.map_or_else(|| message.clone(), |r| r.message)))
        }
        Err(err) if transient(&err) => {
            log::info!("offline: message {} stays queued ({err})", message.id);
            None
        }
        Err(err) => {
            log::warn!(
                "offline: message {} was refused ({err}): failed",
                message.id
            );
            Some(Err(()))
        }
    }
}

/// Writes one channel: its row, and the messages that differ from `old`'s.
fn write_channel(
    tx: &rusqlite::Transaction<'_>,
    channel: &ChannelState,
    old: Option<&ChannelState>,
) -> rusqlite::Result<()> {
    let row = ChannelResponse {
        channel: (*channel.channel).clone(),
        pinned_messages: (*channel.pinned_messages).clone(),
        members: channel.members.values().cloned().collect(),
        membership: channel.membership.as_deref().cloned(),
        read: channel.reads.values().cloned().collect(),
        watcher_count: channel.watcher_count,
        ..ChannelResponse::default()
    };
    db::put_channel(
        tx,
        &channel.cid,
        &serde_json::to_string(&row).unwrap_or_default(),
    )?;
    if old.is_some_and(|o| {
        Arc::ptr_eq(&o.replies, &channel.replies) && o.messages.shares(&channel.messages)
    }) {
        return Ok(());
    }
    let items = |c: &ChannelState| -> HashMap<String, *const MessageItem> {
        all_items(c)
            .map(|m| (m.message.id.clone(), m as *const MessageItem))
            .collect()
    };
    let before = old.map(items).unwrap_or_default();
    let mut now = HashMap::new();
    for item in all_items(channel) {
        now.insert(item.message.id.clone(), ());
        if before
            .get(&item.message.id)
            .is_some_and(|p| std::ptr::eq(*p, item))
        {
            continue;
        }
        let data = serde_json::to_string(&item.message).unwrap_or_default();
        db::put_message(
            tx,
            &channel.cid,
            item.created_at_nanos(),
            item.status,
            &data,
            &item.message.id,
        )?;
    }
    for id in before.keys() {
        if !now.contains_key(id) {
            db::delete_message(tx, id)?;
        }
    }
    Ok(())
}

/// A channel's messages and thread replies (a reply shown in the channel twice).
fn all_items(c: &ChannelState) -> impl Iterator<Item = &MessageItem> {
    c.messages
        .iter()
        .chain(c.replies.values().flat_map(|r| r.iter()))
}

fn sql_error(what: &str, err: rusqlite::Error) -> ChatError {
    ChatError::new(ErrorKind::InvalidArgument, format!("cannot {what}")).with_source(err)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The store's hook: each published snapshot to the writer.
pub(crate) fn persist_hook(tx: Sender<Job>) -> PublishHook {
    Box::new(move |state| {
        let _ = tx.send(Job::Persist(Arc::clone(state)));
    })
}
