//! Open WebSocket connections: each one's outgoing queue with its close and freeze switches,
//! who is online, which channels each connection watches, and the test hooks that refuse
//! connects. Live state only: it lives and dies with the process, unlike the store.
//!
//! Events are queued here as [`Frame`]s (serialized once, shared by every recipient) on
//! bounded per-connection queues; the connection's task (`ws.rs`) writes them to its socket.
//! Nothing here waits: a full queue closes the connection instead.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, watch};

/// A serialized event (JSON text), ready to be shared between connections.
#[derive(Clone, Debug)]
pub(crate) struct Frame(Bytes);

impl Frame {
    /// `event` as JSON; `None` if it does not serialize.
    pub(crate) fn of(event: &impl Serialize) -> Option<Frame> {
        serde_json::to_vec(event)
            .ok()
            .map(|json| Frame(Bytes::from(json)))
    }

    /// The JSON text as bytes (always UTF-8).
    pub(crate) fn into_bytes(self) -> Bytes {
        self.0
    }
}

/// Why the server closes a connection on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// [`crate::ServerHandle::kick_connections`].
    Kicked,
    /// Its outgoing queue overflowed: the client reads too slowly.
    Lagging,
}

/// An open connection, as the domain sees it.
pub(crate) struct Conn {
    /// Stored user id, or `!anon`.
    pub user_id: String,
    pub anonymous: bool,
    /// When it opened (RFC 3339), for the dashboard.
    pub since: String,
    /// Serialized frames waiting to be written (bounded).
    tx: mpsc::Sender<Frame>,
    /// Asks the connection task to close the socket.
    close: watch::Sender<Option<CloseReason>>,
    pub freeze: Arc<Freeze>,
    /// cids this connection watches.
    watching: HashSet<String>,
    /// Presence subscriptions (queries with `presence: true`): whether it asked at all,
    /// the users it asked about, the channels whose members and watchers it asked about.
    presence: bool,
    presence_users: HashSet<String>,
    presence_channels: HashSet<String>,
}

impl Conn {
    /// Queues a frame without waiting. A full queue means the client has fallen too far
    /// behind: the connection is asked to close instead of buffering without bound. A frozen
    /// connection drops it here, when it is published: left in the queue, a task running
    /// behind would only see it after a thaw, and write it.
    pub(crate) fn send(&self, frame: &Frame) {
        if self.freeze.is_frozen() {
            return;
        }
        if let Err(TrySendError::Full(_)) = self.tx.try_send(frame.clone()) {
            self.request_close(CloseReason::Lagging);
        }
    }

    /// Whether the connection asked for presence changes of `user_id`: the user was in a
    /// presence query's results, or is a member (`member_of`) or watcher of a channel it
    /// watches or asked presence for.
    pub(crate) fn wants_presence_of(
        &self,
        user_id: &str,
        member_of: &HashSet<String>,
        watched_by: &HashSet<String>,
    ) -> bool {
        self.presence
            && !self.anonymous
            && self.user_id != user_id
            && (self.presence_users.contains(user_id)
                || self
                    .watching
                    .iter()
                    .chain(&self.presence_channels)
                    .any(|cid| member_of.contains(cid) || watched_by.contains(cid)))
    }

    /// The channels it watches, in cid order.
    pub(crate) fn watching(&self) -> Vec<String> {
        let mut cids: Vec<String> = self.watching.iter().cloned().collect();
        cids.sort_unstable();
        cids
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

/// What a connection's task receives: its frames, the close request, the freeze switch.
pub(crate) struct Inbox {
    pub frames: mpsc::Receiver<Frame>,
    pub close: watch::Receiver<Option<CloseReason>>,
    /// `(frozen, generation)`; each generation is acknowledged through `freeze`.
    pub frozen: watch::Receiver<(bool, u64)>,
    pub freeze: Arc<Freeze>,
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

/// The watchers of one channel.
#[derive(Default)]
struct Watchers {
    /// Connection ids.
    conns: HashSet<String>,
    /// Watching users (not anonymous) and how many of their connections watch, in id order
    /// (a page of them costs its offset and length, not a sort of them all).
    users: BTreeMap<String, usize>,
    /// Anonymous connections watching (each counts as one watcher).
    anonymous: usize,
}

/// A connection that was closed, and what it watched.
pub(crate) struct Closed {
    pub user_id: String,
    pub anonymous: bool,
    pub watching: Vec<String>,
}

/// Every open connection and what it watches.
#[derive(Default)]
pub(crate) struct Connections {
    conns: HashMap<String, Conn>,
    /// Open connections per (non-anonymous) user.
    online: HashMap<String, usize>,
    /// Connection ids per user id (`!anon` for the anonymous ones), so that finding a user's
    /// connections does not scan them all.
    by_user: HashMap<String, HashSet<String>>,
    /// Open connections that asked for presence (a presence change scans them only if any).
    presence_subscribers: usize,
    /// cid to its watchers.
    watchers: HashMap<String, Watchers>,
    /// Users whose `/connect` is refused ([`crate::ServerHandle::refuse_connections`]).
    refused_users: HashSet<String>,
    /// Connects refused so far, per user.
    refused_connects: HashMap<String, u64>,
    /// Connections closed so far because they fell too far behind.
    slow_consumer_disconnects: u64,
}

impl Connections {
    /// Registers a connection of `user_id` (`!anon` when anonymous) with a queue of
    /// `queue` frames; returns its receiving side.
    pub(crate) fn open(
        &mut self,
        conn_id: &str,
        user_id: &str,
        anonymous: bool,
        queue: usize,
    ) -> Inbox {
        let (tx, frames) = mpsc::channel(queue);
        let (close, close_rx) = watch::channel(None);
        let (freeze, frozen) = Freeze::new();
        if !anonymous {
            *self.online.entry(user_id.to_owned()).or_default() += 1;
        }
        let conn = Conn {
            user_id: user_id.to_owned(),
            anonymous,
            since: stream_chat_protocol::time::format_rfc3339(
                stream_chat_protocol::time::now_nanos(),
            ),
            tx,
            close,
            freeze: freeze.clone(),
            watching: HashSet::new(),
            presence: false,
            presence_users: HashSet::new(),
            presence_channels: HashSet::new(),
        };
        self.conns.insert(conn_id.to_owned(), conn);
        self.by_user
            .entry(user_id.to_owned())
            .or_default()
            .insert(conn_id.to_owned());
        Inbox {
            frames,
            close: close_rx,
            frozen,
            freeze,
        }
    }

    /// Removes a connection and its watching (the caller tells the channels it left).
    pub(crate) fn close(&mut self, conn_id: &str) -> Option<Closed> {
        let conn = self.conns.remove(conn_id)?;
        if let Some(ids) = self.by_user.get_mut(&conn.user_id) {
            ids.remove(conn_id);
            if ids.is_empty() {
                self.by_user.remove(&conn.user_id);
            }
        }
        if conn.presence {
            self.presence_subscribers -= 1;
        }
        if !conn.anonymous
            && let Some(n) = self.online.get_mut(&conn.user_id)
        {
            *n -= 1;
            if *n == 0 {
                self.online.remove(&conn.user_id);
            }
        }
        Some(Closed {
            user_id: conn.user_id,
            anonymous: conn.anonymous,
            watching: conn.watching.into_iter().collect(),
        })
    }

    /// An open connection.
    pub(crate) fn get(&self, conn_id: &str) -> Option<&Conn> {
        self.conns.get(conn_id)
    }

    /// Every open connection, with its id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &Conn)> {
        self.conns.iter()
    }

    /// How many connections are open.
    pub(crate) fn len(&self) -> usize {
        self.conns.len()
    }

    /// The open connections of `user_id` (`!anon` for the anonymous ones).
    pub(crate) fn of_user<'a>(&'a self, user_id: &'a str) -> impl Iterator<Item = &'a Conn> {
        self.by_user
            .get(user_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.conns.get(id))
    }

    /// Whether any open connection asked for presence changes.
    pub(crate) fn any_presence_subscriber(&self) -> bool {
        self.presence_subscribers > 0
    }

    /// Whether `user_id` has an open (non-anonymous) connection.
    pub(crate) fn is_online(&self, user_id: &str) -> bool {
        self.online.contains_key(user_id)
    }

    /// How many (non-anonymous) connections `user_id` has open.
    pub(crate) fn online_count(&self, user_id: &str) -> usize {
        self.online.get(user_id).copied().unwrap_or(0)
    }

    /// Subscribes `conn_id` to the presence of `users`, and of the members and watchers of
    /// `cid` when given.
    pub(crate) fn subscribe_presence(
        &mut self,
        conn_id: &str,
        users: impl IntoIterator<Item = String>,
        cid: Option<&str>,
    ) {
        if let Some(conn) = self.conns.get_mut(conn_id) {
            if !conn.presence {
                self.presence_subscribers += 1;
            }
            conn.presence = true;
            conn.presence_users.extend(users);
            conn.presence_channels.extend(cid.map(str::to_owned));
        }
    }

    /// The channels `user_id` watches with any connection.
    pub(crate) fn watched_by(&self, user_id: &str) -> HashSet<String> {
        self.of_user(user_id)
            .flat_map(|c| c.watching.iter().cloned())
            .collect()
    }

    /// Stops watching `cid` everywhere (the channel is gone): no event is sent.
    pub(crate) fn forget_channel(&mut self, cid: &str) {
        self.watchers.remove(cid);
        for conn in self.conns.values_mut() {
            conn.watching.remove(cid);
            conn.presence_channels.remove(cid);
        }
    }

    /// Subscribes `conn_id` to `cid`. Returns the user id when that user starts watching
    /// with this connection (not anonymous, no other connection of theirs watching).
    pub(crate) fn watch(&mut self, cid: &str, conn_id: &str) -> Option<String> {
        let conn = self.conns.get_mut(conn_id)?;
        conn.watching.insert(cid.to_owned());
        let watchers = self.watchers.entry(cid.to_owned()).or_default();
        if !watchers.conns.insert(conn_id.to_owned()) {
            return None;
        }
        if conn.anonymous {
            watchers.anonymous += 1;
            return None;
        }
        let n = watchers.users.entry(conn.user_id.clone()).or_default();
        *n += 1;
        (*n == 1).then(|| conn.user_id.clone())
    }

    /// Unsubscribes `conn_id` (of `user_id`, open or just closed) from `cid`. Returns
    /// whether that user stopped watching (their last watching connection left).
    pub(crate) fn unwatch(
        &mut self,
        cid: &str,
        conn_id: &str,
        user_id: &str,
        anonymous: bool,
    ) -> bool {
        if let Some(conn) = self.conns.get_mut(conn_id) {
            conn.watching.remove(cid);
        }
        let Some(watchers) = self.watchers.get_mut(cid) else {
            return false;
        };
        if !watchers.conns.remove(conn_id) {
            return false;
        }
        let stopped = if anonymous {
            watchers.anonymous = watchers.anonymous.saturating_sub(1);
            false
        } else {
            match watchers.users.get_mut(user_id) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    false
                }
                Some(_) => watchers.users.remove(user_id).is_some(),
                None => false,
            }
        };
        if watchers.conns.is_empty() {
            self.watchers.remove(cid);
        }
        stopped
    }

    /// Whether `conn_id` watches `cid`.
    pub(crate) fn watches(&self, cid: &str, conn_id: &str) -> bool {
        self.watchers
            .get(cid)
            .is_some_and(|w| w.conns.contains(conn_id))
    }

    /// Distinct watchers of a channel: users by id, anonymous connections each.
    pub(crate) fn watcher_count(&self, cid: &str) -> u64 {
        self.watchers
            .get(cid)
            .map_or(0, |w| (w.users.len() + w.anonymous) as u64)
    }

    /// One page of the ids of the users watching a channel, in id order (anonymous
    /// watchers are not listed).
    pub(crate) fn watching_users(&self, cid: &str, offset: usize, limit: usize) -> Vec<String> {
        let Some(watchers) = self.watchers.get(cid) else {
            return Vec::new();
        };
        watchers
            .users
            .keys()
            .skip(offset)
            .take(limit)
            .cloned()
            .collect()
    }

    /// The connections watching a channel.
    pub(crate) fn watching(&self, cid: &str) -> impl Iterator<Item = &Conn> {
        self.watchers
            .get(cid)
            .into_iter()
            .flat_map(|w| w.conns.iter())
            .filter_map(|id| self.conns.get(id))
    }

    /// Refuses (or accepts again) the connects of `user_id`.
    pub(crate) fn refuse(&mut self, user_id: &str, refuse: bool) {
        if refuse {
            self.refused_users.insert(user_id.to_owned());
        } else {
            self.refused_users.remove(user_id);
        }
    }

    /// Whether a `/connect` of `user_id` is refused now; counts it if so.
    pub(crate) fn refuse_connect(&mut self, user_id: &str) -> bool {
        if !self.refused_users.contains(user_id) {
            return false;
        }
        *self.refused_connects.entry(user_id.to_owned()).or_default() += 1;
        true
    }

    /// Connects refused so far, per user.
    pub(crate) fn refused_connects(&self) -> &HashMap<String, u64> {
        &self.refused_connects
    }

    /// Counts a connection closed for falling too far behind.
    pub(crate) fn count_slow_consumer(&mut self) {
        self.slow_consumer_disconnects += 1;
    }

    /// Connections closed so far for falling too far behind.
    pub(crate) fn slow_consumer_disconnects(&self) -> u64 {
        self.slow_consumer_disconnects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event published while a connection is frozen is dropped then, not left queued
    /// for its task to drop: a task running behind dequeued it after the thaw and wrote it
    /// (`admin::a_freeze_is_in_force_when_it_returns` flaked under load).
    #[test]
    fn a_frozen_connection_queues_nothing_and_a_thawed_one_queues_again() {
        let mut conns = Connections::default();
        let mut inbox = conns.open("c1", "alice", false, 8);
        let conn = conns.get("c1").unwrap();
        let frame = |text: &str| Frame::of(&text).unwrap();
        inbox.freeze.set(true);
        conn.send(&frame("while frozen"));
        inbox.freeze.set(false);
        assert!(
            inbox.frames.try_recv().is_err(),
            "nothing queued while frozen"
        );
        conn.send(&frame("after"));
        let queued = inbox.frames.try_recv().unwrap().into_bytes();
        assert_eq!(&queued[..], br#""after""#);
    }
}
