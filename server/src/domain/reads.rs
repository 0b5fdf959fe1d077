//! Read state: per member `last_read`, `last_read_message_id` and `unread_messages`, and
//! per user the totals (`total_unread_count`, `unread_channels`).
//!
//! **The invariant** every path keeps: a member's `unread_messages` in a channel is the
//! number of the channel's messages created after their `last_read` that count for them
//! ([`counts_for`]: not theirs, not a system, deleted, shadowed or silent message, not a
//! thread-only reply, not from a user they muted, not in their hidden history). A new
//! message adds one for each member it counts for (the hot path, no scan); every other
//! change (mark read up to a message, mark unread, truncate, delete a message, mute or
//! unmute a user, hide with cleared history) recounts from the messages. The totals sum
//! the channels a user is a member of, less those hidden for them or muted (`Store::
//! unread_counts`). `domain::reads::tests` checks all this against a model with random
//! sequences of operations.

use std::collections::{BTreeMap, HashSet};

use stream_chat_protocol::events::NotificationMarkUnreadEvent;
use stream_chat_protocol::names::message_type;
use stream_chat_protocol::{
    MarkAllReadRequest, MarkReadRequest, MarkUnreadRequest, Message, MessageReadEvent,
    NotificationMarkReadEvent, UnreadChannel, UnreadChannelType, UnreadCountsResponse, time,
};

use super::caller::Actor;
use super::channels::{ChannelKey, Loaded};
use super::permissions::Action;
use super::store::ReadRecord;
use super::{Chat, World};
use crate::error::{ApiError, ApiResult};

/// How many of a channel's newest messages may be marked unread (Stream's limit).
const MARK_UNREAD_WINDOW: usize = 100;

/// Whether `message` counts as unread for `reader`, who muted `muted`.
pub(crate) fn counts_for(message: &Message, reader: &str, muted: &HashSet<String>) -> bool {
    let author = message
        .user
        .as_ref()
        .map(|u| u.id.as_str())
        .unwrap_or_default();
    let kind = message.kind.as_deref().unwrap_or(message_type::REGULAR);
    let thread_only = message.parent_id.is_some() && message.show_in_channel != Some(true);
    author != reader
        && !muted.contains(author)
        && !matches!(kind, message_type::SYSTEM | message_type::DELETED)
        && kind != "ephemeral"
        && kind != "error"
        && message.shadowed != Some(true)
        && message.silent != Some(true)
        && !thread_only
}

fn nanos(t: &str) -> i128 {
    time::parse_rfc3339_or_naive(t).unwrap_or_default()
}

fn message_nanos(m: &Message) -> i128 {
    m.created_at.as_deref().map(nanos).unwrap_or_default()
}

impl World {
    /// Sets `user_id`'s unread messages in `channel` from the messages after their
    /// `last_read` (the invariant above). No-op for a non-member.
    pub(crate) fn recount(&mut self, channel: &Loaded, user_id: &str) -> ApiResult<()> {
        let Some(member) = channel.members.iter().find(|m| m.user_id == user_id) else {
            return Ok(());
        };
        let cid = &channel.record.cid;
        let mut read = self
            .store
            .reads(cid)?
            .into_iter()
            .find(|(id, _)| id == user_id)
            .map(|(_, r)| r)
            .unwrap_or_default();
        let floor = member.history_before.as_deref().map(nanos);
        let since = nanos(&read.last_read).max(floor.unwrap_or(i128::MIN));
        let muted = self.muted_users(user_id)?;
        read.unread = self
            .store
            .messages_since(cid, since)?
            .iter()
            .filter(|m| counts_for(m, user_id, &muted))
            .count() as u64;
        self.store.put_read(cid, user_id, read)?;
        Ok(())
    }

    /// Recounts every member of `channel`.
    pub(crate) fn recount_channel(&mut self, channel: &Loaded) -> ApiResult<()> {
        for member in channel.member_ids() {
            self.recount(channel, &member)?;
        }
        Ok(())
    }

    /// Recounts `user_id` in every channel they are a member of.
    pub(crate) fn recount_user(&mut self, user_id: &str) -> ApiResult<()> {
        for record in self.store.channels()? {
            let members = self.store.members(&record.cid)?;
            if members.iter().any(|m| m.user_id == user_id) {
                self.recount(&Loaded { record, members }, user_id)?;
            }
        }
        Ok(())
    }

    /// A new message in `channel` (stored already): one more unread message for each
    /// member it counts for; the sender, if a member, has read up to it. Returns the
    /// members it counted for.
    pub(crate) fn count_new_message(
        &mut self,
        channel: &Loaded,
        message: &Message,
    ) -> ApiResult<Vec<String>> {
        let cid = &channel.record.cid;
        let sender = message
            .user
            .as_ref()
            .map(|u| u.id.clone())
            .unwrap_or_default();
        let mut readers = Vec::new();
        for member in &channel.members {
            let muted = self.muted_users(&member.user_id)?;
            if counts_for(message, &member.user_id, &muted) {
                readers.push(member.user_id.clone());
            }
        }
        self.store.count_unread(cid, &readers)?;
        if channel.is_member(&sender) {
            let read = ReadRecord {
                last_read: message.created_at.clone().unwrap_or_default(),
                last_read_message_id: Some(message.id.clone()),
                unread: 0,
            };
            self.store.put_read(cid, &sender, read)?;
        }
        Ok(readers)
    }

    /// The newest message shown in the channel (no thread-only replies), if any.
    fn newest_shown(&self, cid: &str) -> ApiResult<Option<Message>> {
        // One message from the store: the newest page of one, every viewer's.
        let page = super::store::MessagePage {
            limit: 1,
            offset: 0,
            lower: Vec::new(),
            upper: Vec::new(),
            around: None,
            floor: None,
            viewer: None,
        };
        Ok(self.store.messages(cid, &page)?.pop())
    }

    /// Marks `reader` read in `channel` up to `upto` (the newest message without one):
    /// stores the read state, `message.read` to the watchers and, with `notify`,
    /// `notification.mark_read` to the reader's connections. Returns the `message.read`
    /// event.
    fn read_up_to(
        &mut self,
        channel: &Loaded,
        reader: &str,
        upto: Option<Message>,
        notify: bool,
    ) -> ApiResult<MessageReadEvent> {
        let cid = &channel.record.cid;
        let now = self.now();
        let (last_read, last_id) = match &upto {
            Some(m) => (
                m.created_at.clone().unwrap_or_else(|| now.clone()),
                Some(m.id.clone()),
            ),
            None => (now.clone(), self.newest_shown(cid)?.map(|m| m.id)),
        };
        let read = ReadRecord {
            last_read,
            last_read_message_id: last_id.clone(),
            unread: 0,
        };
        self.store.put_read(cid, reader, read)?;
        if upto.is_some() {
            self.recount(channel, reader)?;
        }
        let event = MessageReadEvent {
            user: Some(self.user_response(reader)?),
            last_read_message_id: last_id,
            watcher_count: Some(self.conns.watcher_count(cid)),
            created_at: Some(now.clone()),
            ..self.channel_event(cid)
        };
        self.broadcast(cid, &event);
        if !notify {
            return Ok(event);
        }
        let unread = self.store.unread_counts(reader)?;
        let channel_unread = self.unread_in(cid, reader)?;
        let note = NotificationMarkReadEvent {
            user: event.user.clone(),
            total_unread_count: Some(unread.messages),
            unread_channels: Some(unread.channels),
            unread_count: Some(unread.messages),
            extra: [
                (
                    "last_read_message_id".to_owned(),
                    serde_json::json!(event.last_read_message_id),
                ),
                (
                    "unread_messages".to_owned(),
                    serde_json::json!(channel_unread),
                ),
            ]
            .into_iter()
            .collect(),
            ..self.channel_event(cid)
        };
        self.send_to_user(reader, &note);
        Ok(event)
    }

    /// `user_id`'s unread messages in `cid`.
    pub(crate) fn unread_in(&self, cid: &str, user_id: &str) -> ApiResult<u64> {
        Ok(self
            .store
            .reads(cid)?
            .into_iter()
            .find(|(id, _)| id == user_id)
            .map_or(0, |(_, r)| r.unread))
    }
}

impl Chat {
    /// `POST /channels/{type}/{id}/read`: the reader has read up to a message (the newest
    /// by default; `message_id` marks the messages after it still unread);
    /// `message.read` to the watchers, `notification.mark_read` to the reader's
    /// connections. Returns the `message.read` event.
    pub(crate) fn mark_read(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        mark: MarkReadRequest,
    ) -> ApiResult<MessageReadEvent> {
        let (mut world, caller) = self.enter(actor)?;
        let reader = caller.acting_user(op, "read", mark.user_id.as_deref(), mark.user.as_ref())?;
        let channel = world.existing_channel(op, &key.cid)?;
        channel.require(op, &caller, Action::MarkRead)?;
        world.ensure_user(&reader)?;
        let upto = match mark.message_id.filter(|id| !id.is_empty()) {
            Some(id) => {
                let message = world
                    .store
                    .message(&id)?
                    .filter(|m| m.cid.as_deref() == Some(&key.cid));
                Some(message.ok_or_else(|| {
                    ApiError::not_found(op, format!("message '{id}' is not in channel {}", key.cid))
                })?)
            }
            None => None,
        };
        world.read_up_to(&channel, &reader, upto, true)
    }

    /// `POST /channels/{type}/{id}/unread`: the channel is unread from a message (or the
    /// first message after a time) on, for the caller; one of the newest
    /// [`MARK_UNREAD_WINDOW`] messages. `notification.mark_unread` to their connections.
    pub(crate) fn mark_unread(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        mark: MarkUnreadRequest,
    ) -> ApiResult<()> {
        let (mut world, caller) = self.enter(actor)?;
        let reader = caller.acting_user(op, "read", mark.user_id.as_deref(), mark.user.as_ref())?;
        let channel = world.existing_channel(op, &key.cid)?;
        channel.require(op, &caller, Action::MarkRead)?;
        if mark.thread_id.is_some() {
            return Err(ApiError::input(
                op,
                "marking a thread unread is not supported",
            ));
        }
        if !channel.is_member(&reader) {
            return Err(ApiError::input(
                op,
                format!("user '{reader}' is not a member of channel {}", key.cid),
            ));
        }
        let shown: Vec<Message> = world
            .store
            .messages_since(&key.cid, i128::MIN)?
            .into_iter()
            .filter(|m| m.parent_id.is_none() || m.show_in_channel == Some(true))
            .collect();
        let index = match (
            mark.message_id.as_deref(),
            mark.message_timestamp.as_deref(),
        ) {
            (Some(id), _) => shown.iter().position(|m| m.id == id).ok_or_else(|| {
                ApiError::not_found(op, format!("message '{id}' is not in channel {}", key.cid))
            })?,
            (None, Some(t)) => {
                let at = time::parse_rfc3339_or_naive(t).ok_or_else(|| {
                    ApiError::input(op, "message_timestamp must be an RFC 3339 time")
                })?;
                shown
                    .iter()
                    .position(|m| message_nanos(m) > at)
                    .ok_or_else(|| ApiError::input(op, "no message after message_timestamp"))?
            }
            (None, None) => {
                return Err(ApiError::input(
                    op,
                    "message_id or message_timestamp is required",
                ));
            }
        };
        if shown.len() - index > MARK_UNREAD_WINDOW {
            return Err(ApiError::input(
                op,
                format!(
                    "only the last {MARK_UNREAD_WINDOW} messages of a channel can be marked unread"
                ),
            ));
        }
        let first = &shown[index];
        let last_read = time::format_rfc3339(message_nanos(first) - 1);
        let last_read_message_id = index.checked_sub(1).map(|i| shown[i].id.clone());
        let read = ReadRecord {
            last_read: last_read.clone(),
            last_read_message_id: last_read_message_id.clone(),
            unread: 0,
        };
        world.store.put_read(&key.cid, &reader, read)?;
        world.recount(&channel, &reader)?;
        let unread = world.store.unread_counts(&reader)?;
        let event = NotificationMarkUnreadEvent {
            user: Some(world.user_response(&reader)?),
            first_unread_message_id: Some(first.id.clone()),
            last_read_message_id,
            last_read_at: Some(last_read),
            unread_messages: world.unread_in(&key.cid, &reader)?,
            total_unread_count: Some(unread.messages),
            unread_channels: Some(unread.channels),
            unread_threads: Some(0),
            ..world.channel_event(&key.cid)
        };
        world.send_to_user(&reader, &event);
        Ok(())
    }

    /// `POST /channels/read`: every channel of the reader read (or those of
    /// `read_by_channel`, each up to its message); `message.read` to the watchers of each
    /// channel that had unread messages, then one `notification.mark_read` without `cid`
    /// to the reader's connections.
    pub(crate) fn mark_all_read(
        &self,
        op: &str,
        actor: Actor,
        mark: MarkAllReadRequest,
    ) -> ApiResult<()> {
        let (mut world, caller) = self.enter(actor)?;
        let reader = caller.acting_user(op, "read", mark.user_id.as_deref(), mark.user.as_ref())?;
        let only = mark.read_by_channel.as_ref();
        for record in world.store.channels()? {
            let cid = record.cid.clone();
            let members = world.store.members(&cid)?;
            if !members.iter().any(|m| m.user_id == reader) {
                continue;
            }
            let upto = match only.map(|o| o.get(&cid)) {
                Some(None) => continue,
                Some(Some(id)) => match id.as_str().filter(|id| !id.is_empty()) {
                    Some(id) => world
                        .store
                        .message(id)?
                        .filter(|m| m.cid.as_deref() == Some(&cid)),
                    None => None,
                },
                None => None,
            };
            let had_unread = world.unread_in(&cid, &reader)? > 0;
            let channel = Loaded { record, members };
            if had_unread || upto.is_some() {
                world.read_up_to(&channel, &reader, upto, false)?;
            } else {
                let now = world.now();
                let last = world.newest_shown(&cid)?.map(|m| m.id);
                let read = ReadRecord {
                    last_read: now,
                    last_read_message_id: last,
                    unread: 0,
                };
                world.store.put_read(&cid, &reader, read)?;
            }
        }
        let unread = world.store.unread_counts(&reader)?;
        let note = NotificationMarkReadEvent {
            user: Some(world.user_response(&reader)?),
            created_at: Some(world.now()),
            total_unread_count: Some(unread.messages),
            unread_channels: Some(unread.channels),
            unread_count: Some(unread.messages),
            ..NotificationMarkReadEvent::default()
        };
        world.send_to_user(&reader, &note);
        Ok(())
    }

    /// `GET /unread[?user_id=]`: the user's unread messages in total, per channel (those
    /// with unread messages that count in the totals) and per channel type.
    pub(crate) fn unread_counts(
        &self,
        op: &str,
        actor: Actor,
        user_id: Option<&str>,
    ) -> ApiResult<UnreadCountsResponse> {
        let (world, caller) = self.enter(actor)?;
        let user = caller.acting_user(op, "", user_id, None).map_err(|e| {
            if caller.is_server() {
                ApiError::input(op, "user_id is required when using server side auth.")
            } else {
                e
            }
        })?;
        let totals = world.store.unread_counts(&user)?;
        let mut channels = Vec::new();
        let mut types: BTreeMap<String, UnreadChannelType> = BTreeMap::new();
        for record in world.store.channels()? {
            let members = world.store.members(&record.cid)?;
            let Some(member) = members.iter().find(|m| m.user_id == user) else {
                continue;
            };
            if member.hidden || world.channel_muted(&user, &record.cid)? {
                continue;
            }
            let Some((_, read)) = world
                .store
                .reads(&record.cid)?
                .into_iter()
                .find(|(id, _)| *id == user)
            else {
                continue;
            };
            if read.unread == 0 {
                continue;
            }
            let entry = types
                .entry(record.kind.clone())
                .or_insert_with(|| UnreadChannelType {
                    channel_type: record.kind.clone(),
                    ..UnreadChannelType::default()
                });
            entry.channel_count += 1;
            entry.unread_count += read.unread;
            channels.push(UnreadChannel {
                channel_id: record.cid.clone(),
                last_read: read.last_read,
                unread_count: read.unread,
            });
        }
        Ok(UnreadCountsResponse {
            total_unread_count: totals.messages,
            total_unread_threads_count: 0,
            channels,
            channel_type: types.into_values().collect(),
            threads: Vec::new(),
            duration: String::new(),
        })
    }
}
