//! Who receives which event: the connections watching a channel, the connections of a user
//! (watching or not), one connection, and the members' connections that do not watch (for
//! `notification.*` events). Also the watching events themselves: a user who starts or stops
//! watching a channel with their first or last connection is announced to its watchers,
//! where the channel type has `connect_events` on (not livestream: announcing each of K
//! joiners to everyone there costs K² frames; `watcher_count` travels in the other events).
//!
//! An event is serialized once per fan-out and the frame shared by its recipients; queueing
//! never waits (see `connections.rs`). Events to watchers and to users are also offered to
//! the webhook queue (`hooks.rs`); per-connection copies (`send_to_conn`) are not.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use serde::Serialize;
use stream_chat_protocol::events::NewMessageEvent;
use stream_chat_protocol::{UserStartWatchingEvent, UserStopWatchingEvent};

use super::World;
use super::channels::Loaded;
use super::connections::Frame;
use super::store::StoreResult;

/// Who does not receive a new message over the socket.
#[derive(Debug)]
pub(crate) enum Withheld {
    /// These users (those who blocked its author; usually none).
    Users(HashSet<String>),
    /// Everyone but this user (a shadowed message reaches its author only).
    AllBut(String),
}

impl Default for Withheld {
    /// No one is left out.
    fn default() -> Self {
        Withheld::Users(HashSet::new())
    }
}

impl Withheld {
    /// Whether `user_id` (`!anon` for anonymous connections) does not receive it.
    pub(crate) fn excludes(&self, user_id: &str) -> bool {
        match self {
            Withheld::Users(users) => users.contains(user_id),
            Withheld::AllBut(author) => author != user_id,
        }
    }
}

impl World {
    /// Queues `event` for every connection watching `cid`.
    pub(crate) fn broadcast(&self, cid: &str, event: &impl Serialize) {
        let Some(frame) = Frame::of(event) else {
            return;
        };
        for conn in self.conns.watching(cid) {
            conn.send(&frame);
        }
        self.hooks.offer(&frame);
    }

    /// Queues `event` for every connection watching `cid`, except those of the users in
    /// `except`. The webhook gets it all the same: it is the app's, not a user's.
    pub(crate) fn broadcast_except(&self, cid: &str, event: &impl Serialize, except: &[String]) {
        let Some(frame) = Frame::of(event) else {
            return;
        };
        for conn in self.conns.watching(cid) {
            if !except.contains(&conn.user_id) {
                conn.send(&frame);
            }
        }
        self.hooks.offer(&frame);
    }

    /// Queues a `message.new` for every connection watching the channel, except those of the
    /// users in `except`. Stream's payload is per recipient: a member gets it with their own
    /// `total_unread_count`, `unread_channels` and `unread_count` (counted once per member,
    /// one frame shared by that member's connections); other watchers (and anonymous ones)
    /// share one frame without them. The webhook gets the shared frame.
    pub(crate) fn broadcast_new_message(
        &self,
        channel: &Loaded,
        event: &NewMessageEvent,
        except: &Withheld,
    ) -> StoreResult<()> {
        let Some(shared) = Frame::of(event) else {
            return Ok(());
        };
        let mut own: HashMap<&str, Option<Frame>> = HashMap::new();
        for conn in self.conns.watching(&channel.record.cid) {
            if except.excludes(&conn.user_id) {
                continue;
            }
            if conn.anonymous || !channel.is_member(&conn.user_id) {
                conn.send(&shared);
                continue;
            }
            let frame = match own.entry(conn.user_id.as_str()) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => {
                    let unread = self.store.unread_counts(&conn.user_id)?;
                    e.insert(Frame::of(&NewMessageEvent {
                        total_unread_count: Some(unread.messages),
                        unread_channels: Some(unread.channels),
                        unread_count: Some(unread.messages),
                        ..event.clone()
                    }))
                }
            };
            conn.send(frame.as_ref().unwrap_or(&shared));
        }
        self.hooks.offer(&shared);
        Ok(())
    }

    /// Queues `event` for every connection of `user_id`, watching or not.
    pub(crate) fn send_to_user(&self, user_id: &str, event: &impl Serialize) {
        let Some(frame) = Frame::of(event) else {
            return;
        };
        for conn in self.conns.of_user(user_id).filter(|c| !c.anonymous) {
            conn.send(&frame);
        }
        self.hooks.offer(&frame);
    }

    /// Queues `event` for one connection (dropped silently if it is gone).
    pub(crate) fn send_to_conn(&self, conn_id: &str, event: &impl Serialize) {
        if let Some(conn) = self.conns.get(conn_id)
            && let Some(frame) = Frame::of(event)
        {
            conn.send(&frame);
        }
    }

    /// Whether `user_id` has any open connection (not anonymous).
    pub(crate) fn is_connected(&self, user_id: &str) -> bool {
        self.conns.of_user(user_id).any(|c| !c.anonymous)
    }

    /// The connections (id, user id) of `members` that do not watch `cid`, except those of
    /// `except` (the user the event is about, who knows already).
    pub(crate) fn members_not_watching(
        &self,
        cid: &str,
        members: &[String],
        except: &str,
    ) -> Vec<(String, String)> {
        if members.is_empty() {
            return Vec::new();
        }
        self.conns
            .iter()
            .filter(|(id, conn)| {
                !conn.anonymous
                    && conn.user_id != except
                    && !self.conns.watches(cid, id)
                    && members.contains(&conn.user_id)
            })
            .map(|(id, conn)| (id.clone(), conn.user_id.clone()))
            .collect()
    }

    /// Subscribes `conn_id` to `cid`; `user.watching.start` to the watchers (the new one
    /// included) when its user was not watching yet and the channel type has connect events.
    pub(crate) fn start_watching(&mut self, cid: &str, conn_id: &str) -> StoreResult<()> {
        let Some(user_id) = self.conns.watch(cid, conn_id) else {
            return Ok(());
        };
        if !connect_events(cid) {
            return Ok(());
        }
        let event = UserStartWatchingEvent {
            user: Some(self.user_response(&user_id)?),
            watcher_count: Some(self.conns.watcher_count(cid)),
            ..self.channel_event(cid)
        };
        self.broadcast(cid, &event);
        Ok(())
    }

    /// Unsubscribes `conn_id` (of `user_id`) from `cid`; `user.watching.stop` to the
    /// remaining watchers when it was the user's last watching connection and the channel
    /// type has connect events.
    pub(crate) fn stop_watching(
        &mut self,
        cid: &str,
        conn_id: &str,
        user_id: &str,
        anonymous: bool,
    ) -> StoreResult<()> {
        if !self.conns.unwatch(cid, conn_id, user_id, anonymous) || !connect_events(cid) {
            return Ok(());
        }
        let event = UserStopWatchingEvent {
            user: Some(self.user_response(user_id)?),
            watcher_count: Some(self.conns.watcher_count(cid)),
            ..self.channel_event(cid)
        };
        self.broadcast(cid, &event);
        Ok(())
    }

    /// Removes a connection; it stops watching everything (announced as above). Returns
    /// whether it was open.
    pub(crate) fn drop_connection(&mut self, conn_id: &str) -> bool {
        let Some(closed) = self.conns.close(conn_id) else {
            return false;
        };
        for cid in &closed.watching {
            if let Err(e) = self.stop_watching(cid, conn_id, &closed.user_id, closed.anonymous) {
                tracing::error!(error = %e.0, %cid, "cannot announce a watcher leaving");
            }
        }
        if !closed.anonymous
            && !self.conns.is_online(&closed.user_id)
            && let Err(e) = self.went_offline(&closed.user_id)
        {
            tracing::error!(error = %e.0.message, "cannot announce a user going offline");
        }
        true
    }
}

/// Whether the type of channel `cid` (`type:id`) sends connect events (`user.watching.*`,
/// presence changes of the users seen through it).
pub(crate) fn connect_events(cid: &str) -> bool {
    let kind = cid.split_once(':').map_or(cid, |(kind, _)| kind);
    super::permissions::connect_events(kind)
}
