//! In-memory state: users, channels, messages, connections and usage. One std `Mutex`,
//! held only for short synchronous sections (never across `.await`, never while writing to a
//! socket: events are queued on bounded per-connection queues).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use serde_json::{Map, Value};
use stream_chat_protocol::events::{ChannelEvent, UserStartWatchingEvent, UserStopWatchingEvent};
use stream_chat_protocol::{Member, Message, Read, User, time};
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, watch};

use crate::config::Config;

/// Why the server closes a connection on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// [`crate::ServerHandle::kick_connections`].
    Kicked,
    /// Its outgoing queue overflowed: the client reads too slowly.
    Lagging,
}

/// An open WebSocket connection.
pub(crate) struct Conn {
    /// Stored user id, or `!anon`.
    pub user_id: String,
    pub anonymous: bool,
    /// Serialized frames waiting to be written (bounded).
    pub tx: mpsc::Sender<Utf8Bytes>,
    /// Asks the connection task to close the socket.
    pub close: watch::Sender<Option<CloseReason>>,
    pub freeze: Arc<Freeze>,
    /// cids this connection watches.
    pub watching: HashSet<String>,
}

impl Conn {
    /// Queues a frame without waiting. A full queue means the client has fallen too far
    /// behind: the connection is asked to close instead of buffering without bound. A frozen
    /// connection drops it here, when it is published: left in the queue, a task running
    /// behind would only see it after a thaw, and write it.
    pub(crate) fn send(&self, frame: &Utf8Bytes) {
        if self.freeze.is_frozen() {
            return;
        }
        if let Err(TrySendError::Full(_)) = self.tx.try_send(frame.clone()) {
            self.request_close(CloseReason::Lagging);
        }
    }

    /// Asks the connection task to close the socket; the first request wins.
    pub(crate) fn request_close(&self, reason: CloseReason) {
        self.close.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            *current = Some(reason);
            true
        });
    }
}

/// The freeze switch of one connection. Its task acknowledges each change once it is in
/// force (no write in progress, none started until the next change), so [`Freeze::set`]
/// callers can wait for that.
pub(crate) struct Freeze {
    /// `(frozen, generation)`, watched by the connection task.
    switch: watch::Sender<(bool, u64)>,
    /// The last generation in force, and whether the task has ended.
    applied: Mutex<(u64, bool)>,
    changed: Condvar,
}

impl Freeze {
    /// A thawed switch and the receiver its connection task watches.
    pub(crate) fn new() -> (Arc<Freeze>, watch::Receiver<(bool, u64)>) {
        let (switch, rx) = watch::channel((false, 0));
        let freeze = Freeze {
            switch,
            applied: Mutex::new((0, false)),
            changed: Condvar::new(),
        };
        (Arc::new(freeze), rx)
    }

    /// Flips the switch; returns the generation to wait for.
    pub(crate) fn set(&self, frozen: bool) -> u64 {
        let mut generation = 0;
        self.switch.send_modify(|(f, g)| {
            *f = frozen;
            *g += 1;
            generation = *g;
        });
        generation
    }

    /// Whether the switch is set to frozen (in force or not yet acknowledged).
    pub(crate) fn is_frozen(&self) -> bool {
        self.switch.borrow().0
    }

    /// The task: `generation` is now in force.
    pub(crate) fn applied(&self, generation: u64) {
        self.update(|a| a.0 = a.0.max(generation));
    }

    /// The task has ended: nothing will be written any more.
    pub(crate) fn ended(&self) {
        self.update(|a| a.1 = true);
    }

    fn update(&self, f: impl FnOnce(&mut (u64, bool))) {
        f(&mut self.applied.lock().unwrap_or_else(PoisonError::into_inner));
        self.changed.notify_all();
    }

    /// Blocks until `generation` is in force or the task has ended, at most `limit`.
    pub(crate) fn wait_applied(&self, generation: u64, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut applied = self.applied.lock().unwrap_or_else(PoisonError::into_inner);
        while applied.0 < generation && !applied.1 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            applied = self
                .changed
                .wait_timeout(applied, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

/// A channel member.
pub(crate) struct MemberRec {
    pub user_id: String,
    pub role: &'static str,
    pub created_at: String,
}

/// A user's read state in a channel.
#[derive(Default)]
pub(crate) struct ReadRec {
    pub last_read: String,
    pub last_read_message_id: Option<String>,
    pub unread: u64,
}

/// A stored channel.
pub(crate) struct ChannelRec {
    pub kind: String,
    pub id: String,
    pub cid: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub last_message_at: Option<String>,
    pub custom: Map<String, Value>,
    pub members: Vec<MemberRec>,
    pub messages: Vec<Message>,
    pub reads: HashMap<String, ReadRec>,
    /// Connection ids watching.
    pub watchers: HashSet<String>,
    /// Watching users (not anonymous) and how many of their connections watch.
    pub watching_users: HashMap<String, usize>,
    /// Anonymous connections watching (each counts as one watcher).
    pub anonymous_watchers: usize,
}

impl ChannelRec {
    pub(crate) fn is_member(&self, user_id: &str) -> bool {
        self.members.iter().any(|m| m.user_id == user_id)
    }
}

/// Everything behind the lock.
#[derive(Default)]
pub(crate) struct Inner {
    pub users: HashMap<String, User>,
    pub channels: HashMap<String, ChannelRec>,
    /// Message id to the cid of its channel.
    pub message_cids: HashMap<String, String>,
    pub conns: HashMap<String, Conn>,
    /// Open connections per (non-anonymous) user.
    online: HashMap<String, usize>,
    /// Month (`YYYY-MM`) to the users who connected in it.
    pub mau: HashMap<String, HashSet<String>>,
    /// Users whose `/connect` is refused ([`crate::ServerHandle::refuse_connections`]).
    pub refused_users: HashSet<String>,
    /// Connects refused so far, per user.
    pub refused_connects: HashMap<String, u64>,
    last_nanos: i128,
}

/// Usage figures, as `GET /emulator/usage` reports them.
///
/// ```
/// let u = stream_chat_server::Usage { monthly_active_users: 2, concurrent_connections: 3 };
/// assert_eq!(serde_json::to_value(u).unwrap()["concurrent_connections"], 3);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Usage {
    /// Distinct regular and guest users who connected this calendar month (UTC).
    pub monthly_active_users: u64,
    /// Open WebSocket connections, anonymous ones included.
    pub concurrent_connections: u64,
}

/// The server's counters at one moment, as [`crate::ServerHandle::wait_for`] hands them to
/// its condition.
///
/// ```
/// let counters = stream_chat_server::Counters::default();
/// assert_eq!(counters.usage.concurrent_connections, 0);
/// assert_eq!(counters.refused_connections("alice"), 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Monthly active users and open connections ([`crate::ServerHandle::usage`]).
    pub usage: Usage,
    /// Connections closed because their client fell too far behind
    /// ([`crate::ServerHandle::slow_consumer_disconnects`]).
    pub slow_consumer_disconnects: u64,
    /// Refused `/connect` attempts per user ([`crate::ServerHandle::refused_connections`]).
    refused: HashMap<String, u64>,
    /// Open connections per user (`!anon` for anonymous ones).
    connections: HashMap<String, u64>,
}

impl Counters {
    /// How many `/connect` attempts of `user_id` were refused so far.
    ///
    /// ```
    /// assert_eq!(stream_chat_server::Counters::default().refused_connections("bob"), 0);
    /// ```
    pub fn refused_connections(&self, user_id: &str) -> u64 {
        self.refused.get(user_id).copied().unwrap_or(0)
    }

    /// How many WebSocket connections of `user_id` (`"!anon"` for anonymous ones) are open.
    ///
    /// ```
    /// assert_eq!(stream_chat_server::Counters::default().connections_of("bob"), 0);
    /// ```
    pub fn connections_of(&self, user_id: &str) -> u64 {
        self.connections.get(user_id).copied().unwrap_or(0)
    }
}

/// A generation number bumped whenever a counter changes, with a condition variable that
/// wakes whoever waits for a change: counters are read under the state lock, and a waiter
/// reads the generation before it reads them, so no change can slip between the two.
#[derive(Default)]
pub(crate) struct Signal {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Signal {
    /// Something changed: wakes every waiter.
    pub(crate) fn bump(&self) {
        *self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += 1;
        self.changed.notify_all();
    }

    /// The current generation.
    pub(crate) fn generation(&self) -> u64 {
        *self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocks until the generation is no longer `seen` or `deadline` passes; returns whether
    /// it changed.
    pub(crate) fn wait_past(&self, seen: u64, deadline: Instant) -> bool {
        let mut generation = self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *generation == seen {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            generation = self
                .changed
                .wait_timeout(generation, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

/// Shared server state.
pub(crate) struct AppState {
    pub config: Config,
    inner: Mutex<Inner>,
    /// Flips to `true` when the server shuts down; connection tasks watch it.
    pub shutdown: watch::Sender<bool>,
    /// Number of running WebSocket tasks (shutdown waits for zero).
    pub connections_open: watch::Sender<usize>,
    /// Connections closed because they fell too far behind.
    pub slow_consumer_disconnects: AtomicU64,
    /// Bumped after every change of a [`Counters`] figure.
    pub counters_changed: Signal,
}

/// Counts a running WebSocket task while alive.
pub(crate) struct TaskGuard<'a>(&'a watch::Sender<usize>);

impl Drop for TaskGuard<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl AppState {
    pub(crate) fn new(config: Config) -> Self {
        AppState {
            config,
            inner: Mutex::new(Inner::default()),
            shutdown: watch::Sender::new(false),
            connections_open: watch::Sender::new(0),
            slow_consumer_disconnects: AtomicU64::new(0),
            counters_changed: Signal::default(),
        }
    }

    /// Marks a WebSocket task as running until the guard drops.
    pub(crate) fn task_guard(&self) -> TaskGuard<'_> {
        self.connections_open.send_modify(|n| *n += 1);
        TaskGuard(&self.connections_open)
    }

    /// Locks the state; a panic elsewhere never wedges the server.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn usage(&self) -> Usage {
        let inner = self.lock();
        let month = month(time::now_nanos());
        Usage {
            monthly_active_users: inner.mau.get(&month).map_or(0, |s| s.len() as u64),
            concurrent_connections: inner.conns.len() as u64,
        }
    }

    /// Every counter, read at one moment.
    pub(crate) fn counters(&self) -> Counters {
        let (refused, connections) = {
            let inner = self.lock();
            let mut connections = HashMap::new();
            for conn in inner.conns.values() {
                *connections.entry(conn.user_id.clone()).or_default() += 1;
            }
            (inner.refused_connects.clone(), connections)
        };
        Counters {
            usage: self.usage(),
            slow_consumer_disconnects: self.slow_consumer_disconnects(),
            refused,
            connections,
        }
    }

    /// Blocks until `condition` holds for the counters (checked again after each change) or
    /// `timeout` passes: the counters that satisfied it, or the last ones seen.
    pub(crate) fn wait_for(
        &self,
        timeout: Duration,
        mut condition: impl FnMut(&Counters) -> bool,
    ) -> Result<Counters, Counters> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.counters_changed.generation();
            let counters = self.counters();
            if condition(&counters) {
                return Ok(counters);
            }
            if Instant::now() >= deadline || !self.counters_changed.wait_past(seen, deadline) {
                return Err(counters);
            }
        }
    }

    /// Connections closed so far because their outgoing queue overflowed.
    pub(crate) fn slow_consumer_disconnects(&self) -> u64 {
        self.slow_consumer_disconnects.load(Ordering::Relaxed)
    }

    /// The freeze switches of every socket of `user_id`.
    pub(crate) fn user_freezes(&self, user_id: &str) -> Vec<Arc<Freeze>> {
        let inner = self.lock();
        inner
            .conns
            .values()
            .filter(|c| c.user_id == user_id)
            .map(|c| c.freeze.clone())
            .collect()
    }

    /// Applies `f` to every socket of `user_id` (kick); returns how many.
    pub(crate) fn for_user_conns(&self, user_id: &str, f: impl Fn(&Conn)) -> usize {
        let inner = self.lock();
        let conns: Vec<&Conn> = inner
            .conns
            .values()
            .filter(|c| c.user_id == user_id)
            .collect();
        conns.iter().for_each(|c| f(c));
        conns.len()
    }
}

impl Inner {
    /// A strictly increasing timestamp (nanos, RFC 3339), so stored times never tie.
    pub(crate) fn now(&mut self) -> String {
        let nanos = time::now_nanos().max(self.last_nanos + 1);
        self.last_nanos = nanos;
        time::format_rfc3339(nanos)
    }

    pub(crate) fn is_online(&self, user_id: &str) -> bool {
        self.online.contains_key(user_id)
    }

    /// Whether a `/connect` of `user_id` is refused now; counts it if so.
    pub(crate) fn refuse_connect(&mut self, user_id: &str) -> bool {
        if !self.refused_users.contains(user_id) {
            return false;
        }
        *self.refused_connects.entry(user_id.to_owned()).or_default() += 1;
        true
    }

    /// Registers an open connection.
    pub(crate) fn add_conn(&mut self, conn_id: String, conn: Conn) {
        if !conn.anonymous {
            *self.online.entry(conn.user_id.clone()).or_default() += 1;
        }
        self.conns.insert(conn_id, conn);
    }

    /// The user as API responses show it (`online` computed).
    pub(crate) fn user_response(&self, user_id: &str) -> User {
        let mut user = self.users.get(user_id).cloned().unwrap_or_else(|| User {
            role: Some("user".into()),
            banned: Some(false),
            ..User::new(user_id)
        });
        user.online = Some(self.is_online(user_id));
        user
    }

    /// The stored role of `user_id` (`user` for unknown users).
    pub(crate) fn role_of(&self, user_id: &str) -> String {
        self.users
            .get(user_id)
            .and_then(|u| u.role.clone())
            .unwrap_or_else(|| "user".into())
    }

    /// Creates `user_id` with role `user` if it does not exist.
    pub(crate) fn ensure_user(&mut self, user_id: &str) {
        if !self.users.contains_key(user_id) {
            let now = self.now();
            self.users
                .insert(user_id.to_owned(), new_user(user_id, "user", &now));
        }
    }

    /// Distinct watchers of a channel: users by id, anonymous connections each.
    pub(crate) fn watcher_count(&self, channel: &ChannelRec) -> u64 {
        (channel.watching_users.len() + channel.anonymous_watchers) as u64
    }

    /// One page of the users watching a channel, by id (anonymous watchers are not listed).
    pub(crate) fn watchers(&self, channel: &ChannelRec, offset: usize, limit: usize) -> Vec<User> {
        let mut ids: Vec<&String> = channel.watching_users.keys().collect();
        ids.sort_unstable();
        ids.into_iter()
            .skip(offset)
            .take(limit)
            .map(|id| self.user_response(id))
            .collect()
    }

    /// Queues `event` for one connection (dropped silently if it is gone).
    pub(crate) fn send_to(&self, conn_id: &str, event: &impl Serialize) {
        if let Some(conn) = self.conns.get(conn_id)
            && let Some(frame) = frame(event)
        {
            conn.send(&frame);
        }
    }

    /// Queues `event` for every connection of `user_id`, watching or not.
    pub(crate) fn send_to_user(&self, user_id: &str, event: &impl Serialize) {
        let Some(frame) = frame(event) else {
            return;
        };
        self.conns
            .values()
            .filter(|c| !c.anonymous && c.user_id == user_id)
            .for_each(|c| c.send(&frame));
    }

    /// Queues `event` for every connection watching `cid`; it is serialized once and the
    /// frame shared by all of them.
    pub(crate) fn broadcast(&self, cid: &str, event: &impl Serialize) {
        let Some(channel) = self.channels.get(cid) else {
            return;
        };
        let Some(frame) = frame(event) else {
            return;
        };
        for conn_id in &channel.watchers {
            if let Some(conn) = self.conns.get(conn_id) {
                conn.send(&frame);
            }
        }
    }

    /// An event of type `E` about `cid`, created now: cid, channel_id, channel_type,
    /// created_at set (the protocol's struct gives the type).
    pub(crate) fn channel_event<E: ChannelEvent>(&mut self, cid: &str) -> E {
        E::for_channel(cid, Some(self.now()))
    }

    /// The `watcher_count` events about `cid` carry (0 for a channel that is gone).
    pub(crate) fn watcher_count_of(&self, cid: &str) -> u64 {
        self.channels.get(cid).map_or(0, |c| self.watcher_count(c))
    }

    /// Members as API responses show them.
    pub(crate) fn members(&self, channel: &ChannelRec) -> Vec<Member> {
        channel.members.iter().map(|m| self.member(m)).collect()
    }

    pub(crate) fn member(&self, m: &MemberRec) -> Member {
        Member {
            user_id: Some(m.user_id.clone()),
            user: Some(self.user_response(&m.user_id)),
            status: Some("member".into()),
            role: Some(m.role.into()),
            channel_role: Some(
                if m.role == "owner" {
                    "channel_moderator"
                } else {
                    "channel_member"
                }
                .into(),
            ),
            banned: Some(false),
            shadow_banned: Some(false),
            notifications_muted: Some(false),
            created_at: Some(m.created_at.clone()),
            updated_at: Some(m.created_at.clone()),
            ..Member::default()
        }
    }

    /// Read states of a channel.
    pub(crate) fn reads(&self, channel: &ChannelRec) -> Vec<Read> {
        let mut ids: Vec<&String> = channel.reads.keys().collect();
        ids.sort();
        ids.into_iter()
            .map(|id| {
                let r = &channel.reads[id];
                Read {
                    user: self.user_response(id),
                    last_read: r.last_read.clone(),
                    unread_messages: r.unread,
                    last_read_message_id: r.last_read_message_id.clone(),
                    extra: Map::new(),
                }
            })
            .collect()
    }

    /// (unread messages, channels with unread messages) of a user.
    pub(crate) fn unread_counts(&self, user_id: &str) -> (u64, u64) {
        self.channels
            .values()
            .filter_map(|c| {
                c.reads
                    .get(user_id)
                    .filter(|r| r.unread > 0 && c.is_member(user_id))
            })
            .fold((0, 0), |(n, ch), r| (n + r.unread, ch + 1))
    }

    /// Removes a connection: it stops watching everything. Returns whether it existed.
    pub(crate) fn remove_conn(&mut self, conn_id: &str) -> bool {
        let Some(conn) = self.conns.remove(conn_id) else {
            return false;
        };
        if !conn.anonymous
            && let Some(n) = self.online.get_mut(&conn.user_id)
        {
            *n -= 1;
            if *n == 0 {
                self.online.remove(&conn.user_id);
            }
        }
        for cid in &conn.watching {
            self.stop_watching(cid, conn_id, &conn.user_id, conn.anonymous);
        }
        true
    }

    /// Unsubscribes `conn_id` from `cid`; emits `user.watching.stop` when the user's last
    /// watching connection leaves. The caller has already removed it from `conns` or not.
    pub(crate) fn stop_watching(
        &mut self,
        cid: &str,
        conn_id: &str,
        user_id: &str,
        anonymous: bool,
    ) {
        if let Some(conn) = self.conns.get_mut(conn_id) {
            conn.watching.remove(cid);
        }
        let Some(channel) = self.channels.get_mut(cid) else {
            return;
        };
        if !channel.watchers.remove(conn_id) {
            return;
        }
        if anonymous {
            channel.anonymous_watchers = channel.anonymous_watchers.saturating_sub(1);
            return;
        }
        let Some(n) = channel.watching_users.get_mut(user_id) else {
            return;
        };
        *n -= 1;
        if *n > 0 {
            return;
        }
        channel.watching_users.remove(user_id);
        let event = UserStopWatchingEvent {
            user: Some(self.user_response(user_id)),
            watcher_count: Some(self.watcher_count_of(cid)),
            ..self.channel_event(cid)
        };
        self.broadcast(cid, &event);
    }

    /// Subscribes `conn_id` to `cid`; emits `user.watching.start` for a newly watching user.
    pub(crate) fn start_watching(&mut self, cid: &str, conn_id: &str) {
        let Some(conn) = self.conns.get_mut(conn_id) else {
            return;
        };
        conn.watching.insert(cid.to_owned());
        let (user_id, anonymous) = (conn.user_id.clone(), conn.anonymous);
        let Some(channel) = self.channels.get_mut(cid) else {
            return;
        };
        if !channel.watchers.insert(conn_id.to_owned()) {
            return;
        }
        if anonymous {
            channel.anonymous_watchers += 1;
            return;
        }
        let n = channel.watching_users.entry(user_id.clone()).or_default();
        *n += 1;
        if *n > 1 {
            return;
        }
        let event = UserStartWatchingEvent {
            user: Some(self.user_response(&user_id)),
            watcher_count: Some(self.watcher_count_of(cid)),
            ..self.channel_event(cid)
        };
        self.broadcast(cid, &event);
    }
}

/// An event as a text frame, ready to be shared between connections.
pub(crate) fn frame(event: &impl Serialize) -> Option<Utf8Bytes> {
    serde_json::to_string(event).ok().map(Utf8Bytes::from)
}

/// The calendar month (`YYYY-MM`, UTC) of a Unix time in nanoseconds: usage is counted
/// per month.
pub(crate) fn month(nanos: i128) -> String {
    time::format_rfc3339(nanos)[..7].to_owned()
}

/// A freshly created stored user.
pub(crate) fn new_user(id: &str, role: &str, now: &str) -> User {
    User {
        role: Some(role.into()),
        created_at: Some(now.into()),
        updated_at: Some(now.into()),
        banned: Some(false),
        ..User::new(id)
    }
}

/// A random hex id shaped like a UUID.
pub(crate) fn random_id() -> String {
    let a = fastrand::u64(..);
    let b = fastrand::u64(..);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_counted_per_utc_month() {
        assert_eq!(super::month(1_604_342_161_000_000_000), "2020-11");
        assert_eq!(super::month(0), "1970-01");
    }

    fn conn() -> (Conn, mpsc::Receiver<Utf8Bytes>, Arc<Freeze>) {
        let (tx, rx) = mpsc::channel(8);
        let (freeze, _frozen) = Freeze::new();
        let conn = Conn {
            user_id: "alice".into(),
            anonymous: false,
            tx,
            close: watch::channel(None).0,
            freeze: Arc::clone(&freeze),
            watching: HashSet::new(),
        };
        (conn, rx, freeze)
    }

    /// An event published while a connection is frozen is dropped then, not left queued
    /// for its task to drop: a task running behind dequeued it after the thaw and wrote it
    /// (`admin::a_freeze_is_in_force_when_it_returns` flaked under load).
    #[test]
    fn a_frozen_connection_queues_nothing_and_a_thawed_one_queues_again() {
        let (conn, mut rx, freeze) = conn();
        freeze.set(true);
        conn.send(&Utf8Bytes::from_static("while frozen"));
        freeze.set(false);
        assert!(rx.try_recv().is_err(), "nothing queued while frozen");
        conn.send(&Utf8Bytes::from_static("after"));
        assert_eq!(rx.try_recv().unwrap().as_str(), "after");
    }
}
