//! Channel administration: full update (data, slow mode, the membership operations of
//! `members.rs`, a system message), partial update (custom data, `frozen`, `cooldown`),
//! delete, truncate, hide and show; and what every new message does to a channel
//! (un-hides it, counts it unread, starts the poster's slow-mode cooldown).

use serde_json::{Value, json};
use stream_chat_protocol::events::{
    ChannelDeletedEvent, ChannelHiddenEvent, ChannelTruncatedEvent, ChannelUpdatedEvent,
    ChannelVisibleEvent, NotificationChannelDeletedEvent, NotificationChannelTruncatedEvent,
};
use stream_chat_protocol::names::message_type;
use stream_chat_protocol::{
    Channel, HideChannelRequest, Message, NewMessageEvent, PartialUpdateChannelRequest,
    TruncateChannelRequest, TruncateChannelResponse, UpdateChannelRequest, UpdateChannelResponse,
    time,
};

use super::caller::{Actor, Caller};
use super::channels::{ChannelKey, Loaded, RESERVED_CHANNEL_KEYS};
use super::fanout::Withheld;
use super::permissions::Action;
use super::store::ReadRecord;
use super::{Chat, World, random_id};
use crate::config::MAX_MESSAGE_LENGTH;
use crate::error::{ApiError, ApiResult};

/// The longest slow-mode cooldown, in seconds (Stream's limit).
pub(crate) const MAX_COOLDOWN_SECONDS: i64 = 120;

/// Channel fields a partial update may not touch.
const FIXED_CHANNEL_KEYS: [&str; 13] = [
    "id",
    "cid",
    "type",
    "config",
    "own_capabilities",
    "created_at",
    "updated_at",
    "member_count",
    "last_message_at",
    "deleted_at",
    "members",
    "created_by",
    "truncated_at",
];

/// Code 4 unless `value` is a cooldown in seconds Stream accepts (0 turns slow mode off).
fn cooldown(op: &str, value: &Value) -> ApiResult<u32> {
    match value.as_i64() {
        Some(n) if (0..=MAX_COOLDOWN_SECONDS).contains(&n) => Ok(n as u32),
        _ => Err(ApiError::input(
            op,
            format!(
                "cooldown must be a number of seconds between 0 and {MAX_COOLDOWN_SECONDS}, not {value}"
            ),
        )),
    }
}

/// Code 4 unless `value` is a boolean.
fn flag(op: &str, key: &str, value: &Value) -> ApiResult<bool> {
    value
        .as_bool()
        .ok_or_else(|| ApiError::input(op, format!("{key} must be true or false, not {value}")))
}

impl World {
    /// What a new message does to its channel once stored: counts it unread for the
    /// members it counts for (`reads.rs`), marks it read for its author, starts the
    /// author's slow-mode cooldown, and shows the channel again to the members who hid it
    /// (`channel.visible` to their connections) unless the message is shadowed.
    pub(crate) fn after_post(&mut self, channel: &mut Loaded, message: &Message) -> ApiResult<()> {
        let cid = channel.record.cid.clone();
        let author = message
            .user
            .as_ref()
            .map(|u| u.id.clone())
            .unwrap_or_default();
        let at = message
            .created_at
            .as_deref()
            .and_then(time::parse_rfc3339_or_naive)
            .unwrap_or_else(time::now_nanos);
        self.last_posts.insert((cid.clone(), author), at);
        let mut shown_again = Vec::new();
        if message.shadowed != Some(true) {
            for member in channel.members.iter_mut().filter(|m| m.hidden) {
                member.hidden = false;
                self.store.put_member(&cid, member.clone())?;
                shown_again.push(member.user_id.clone());
            }
        }
        self.count_new_message(channel, message)?;
        if !shown_again.is_empty() {
            let view = self.channel_event_view(channel)?;
            for user_id in shown_again {
                let event = ChannelVisibleEvent {
                    user: Some(self.user_response(&user_id)?),
                    channel: Some(view.clone()),
                    ..self.channel_event(&cid)
                };
                self.send_to_user(&user_id, &event);
            }
        }
        Ok(())
    }

    /// Who a new message is not delivered to over the socket: for a shadowed message,
    /// everyone but its author; otherwise the users who blocked its author (a reverse lookup,
    /// usually none), whatever the size of the channel's audience.
    pub(crate) fn not_delivered_to(&self, message: &Message) -> ApiResult<Withheld> {
        let author = message
            .user
            .as_ref()
            .map(|u| u.id.as_str())
            .unwrap_or_default();
        if message.shadowed == Some(true) {
            return Ok(Withheld::AllBut(author.to_owned()));
        }
        if author.is_empty() {
            return Ok(Withheld::default());
        }
        Ok(Withheld::Users(
            self.store.blockers_of(author)?.into_iter().collect(),
        ))
    }

    /// Posts a system message from `user` in `channel` (a channel change's note):
    /// `message.new` to the watchers, `notification.message_new` to the members who do not
    /// watch. System messages never count as unread.
    pub(crate) fn post_system_message(
        &mut self,
        op: &str,
        channel: &mut Loaded,
        user: &str,
        input: Message,
    ) -> ApiResult<Message> {
        let text = input.text.clone().unwrap_or_default();
        if text.trim().is_empty() {
            return Err(ApiError::input(op, "message.text is required"));
        }
        if text.chars().count() > MAX_MESSAGE_LENGTH {
            return Err(ApiError::op(
                op,
                stream_chat_protocol::codes::MESSAGE_TOO_LONG,
                format!("message is too long: at most {MAX_MESSAGE_LENGTH} characters"),
            ));
        }
        let cid = channel.record.cid.clone();
        let now = self.now();
        let mut extra = input.extra.clone();
        for key in ["pinned_at", "pinned_by", "pin_expires"] {
            extra.insert(key.to_owned(), Value::Null);
        }
        let html = format!(
            "<p>{}</p>\n",
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        );
        let message = Message {
            id: if input.id.is_empty() {
                random_id()
            } else {
                input.id.clone()
            },
            text: Some(text),
            html: Some(html),
            kind: Some(message_type::SYSTEM.into()),
            user: Some(self.user_response(user)?),
            cid: Some(cid.clone()),
            attachments: Some(Vec::new()),
            mentioned_users: Some(Vec::new()),
            latest_reactions: Some(Vec::new()),
            own_reactions: Some(Vec::new()),
            reaction_counts: Some(Default::default()),
            reaction_scores: Some(Default::default()),
            reply_count: Some(0),
            deleted_reply_count: Some(0),
            shadowed: Some(false),
            silent: Some(false),
            pinned: Some(false),
            created_at: Some(now.clone()),
            updated_at: Some(now.clone()),
            extra,
            ..Message::default()
        };
        if self.store.message(&message.id)?.is_some() {
            return Err(ApiError::input(
                op,
                format!("a message with ID {} already exists", message.id),
            ));
        }
        self.store.append_message(message.clone())?;
        channel.record.last_message_at = Some(now);
        self.store.put_channel(channel.record.clone())?;
        self.after_post(channel, &message)?;
        let event = NewMessageEvent {
            message: message.clone(),
            user: message.user.clone(),
            message_id: Some(message.id.clone()),
            watcher_count: Some(self.conns.watcher_count(&cid)),
            channel_member_count: Some(channel.members.len() as u64),
            ..self.channel_event(&cid)
        };
        self.broadcast_new_message(channel, &event, &Withheld::default())?;
        self.notify_members(channel, user, &event, &Withheld::default())?;
        Ok(message)
    }

    /// `channel.updated` to the watchers, with the whole channel and who changed it.
    pub(crate) fn announce_update(
        &mut self,
        channel: &Loaded,
        user: Option<&str>,
        message: Option<Message>,
    ) -> ApiResult<()> {
        let cid = &channel.record.cid;
        let event = ChannelUpdatedEvent {
            user: user.map(|u| self.user_response(u)).transpose()?,
            channel: Some(self.channel_event_view(channel)?),
            message,
            ..self.channel_event(cid)
        };
        self.broadcast(cid, &event);
        Ok(())
    }
}

/// The acting user of a channel change: the caller, or for server tokens the body's
/// `user_id` / `user` if any.
pub(crate) fn acting(
    op: &str,
    caller: &Caller,
    user_id: Option<&str>,
    user: Option<&stream_chat_protocol::User>,
) -> ApiResult<Option<String>> {
    if caller.is_server() && user_id.is_none() && user.is_none() {
        return Ok(None);
    }
    caller.acting_user(op, "", user_id, user).map(Some)
}

impl Chat {
    /// `POST /channels/{type}/{id}`: the membership operations (`members.rs`), slow mode
    /// (top-level `cooldown`, UpdateChannelCooldown), a data update (replaces the custom
    /// data; UpdateChannel, plus UpdateChannelFrozen / UpdateChannelCooldown for `frozen` /
    /// `cooldown` in it) and a system message. `channel.updated` to the watchers when the
    /// channel's data changed.
    pub(crate) fn update_channel(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        body: UpdateChannelRequest,
    ) -> ApiResult<UpdateChannelResponse> {
        let (mut world, caller) = self.enter(actor)?;
        let user = acting(op, &caller, body.user_id.as_deref(), body.user.as_ref())?;
        let mut channel = world.existing_channel(op, &key.cid)?;
        let mut changed = false;
        if let Some(seconds) = body.cooldown {
            channel.require(op, &caller, Action::UpdateChannelCooldown)?;
            channel.record.cooldown = cooldown(op, &json!(seconds))?;
            changed = true;
        }
        if let Some(mut data) = body.data.clone() {
            channel.require(op, &caller, Action::UpdateChannel)?;
            if let Some(frozen) = data.get("frozen") {
                let frozen = flag(op, "frozen", frozen)?;
                if frozen != channel.record.frozen {
                    channel.require(op, &caller, Action::UpdateChannelFrozen)?;
                }
                channel.record.frozen = frozen;
            }
            if let Some(value) = data.get("cooldown") {
                let seconds = cooldown(op, value)?;
                if seconds != channel.record.cooldown {
                    channel.require(op, &caller, Action::UpdateChannelCooldown)?;
                }
                channel.record.cooldown = seconds;
            }
            RESERVED_CHANNEL_KEYS.iter().for_each(|k| {
                data.remove(*k);
            });
            crate::limits::check_custom_data(op, "channel", &data, world.max_custom_data)?;
            channel.record.custom = data;
            changed = true;
        }
        world.apply_member_ops(op, &caller, user.as_deref(), &mut channel, &body)?;
        if changed {
            channel.record.updated_at = world.now();
            world.store.put_channel(channel.record.clone())?;
        }
        let message = match body.message {
            Some(input) => {
                let author = user
                    .clone()
                    .or_else(|| input.user_id.clone())
                    .or_else(|| input.user.as_ref().map(|u| u.id.clone()))
                    .ok_or_else(|| {
                        ApiError::input(
                            op,
                            "either message.user or message.user_id must be provided when using server side auth.",
                        )
                    })?;
                Some(world.post_system_message(op, &mut channel, &author, input)?)
            }
            None => None,
        };
        if changed {
            world.announce_update(&channel, user.as_deref(), message.clone())?;
        }
        Ok(UpdateChannelResponse {
            channel: world.channel_view(&channel, &caller)?,
            members: world.member_views(&channel)?,
            message,
            duration: String::new(),
        })
    }

    /// `PATCH /channels/{type}/{id}`: sets and unsets fields (UpdateChannel; `frozen` also
    /// needs UpdateChannelFrozen, `cooldown` UpdateChannelCooldown); `channel.updated` to the
    /// watchers.
    pub(crate) fn partial_update_channel(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        body: PartialUpdateChannelRequest,
    ) -> ApiResult<UpdateChannelResponse> {
        let (mut world, caller) = self.enter(actor)?;
        let user = acting(op, &caller, body.user_id.as_deref(), None)?;
        let mut channel = world.existing_channel(op, &key.cid)?;
        channel.require(op, &caller, Action::UpdateChannel)?;
        for k in body.set.keys().chain(body.unset.iter()) {
            if FIXED_CHANNEL_KEYS.contains(&k.as_str()) {
                return Err(ApiError::input(
                    op,
                    format!("field '{k}' cannot be changed"),
                ));
            }
        }
        let record = &mut channel.record;
        for (k, v) in &body.set {
            match k.as_str() {
                "frozen" => {
                    let frozen = flag(op, k, v)?;
                    if frozen != record.frozen {
                        caller.require(
                            op,
                            &record.kind,
                            channel_relation(&caller, &channel.members, record),
                            Action::UpdateChannelFrozen,
                        )?;
                    }
                    record.frozen = frozen;
                }
                "cooldown" => {
                    let seconds = cooldown(op, v)?;
                    if seconds != record.cooldown {
                        caller.require(
                            op,
                            &record.kind,
                            channel_relation(&caller, &channel.members, record),
                            Action::UpdateChannelCooldown,
                        )?;
                    }
                    record.cooldown = seconds;
                }
                "hidden" | "disabled" | "team" | "truncated_by" => {
                    return Err(ApiError::input(
                        op,
                        format!("field '{k}' cannot be changed"),
                    ));
                }
                _ => {
                    record.custom.insert(k.clone(), v.clone());
                }
            }
        }
        for k in &body.unset {
            match k.as_str() {
                "frozen" => record.frozen = false,
                "cooldown" => record.cooldown = 0,
                _ => {
                    record.custom.remove(k);
                }
            }
        }
        crate::limits::check_custom_data(op, "channel", &record.custom, world.max_custom_data)?;
        record.updated_at = world.now();
        world.store.put_channel(channel.record.clone())?;
        world.announce_update(&channel, user.as_deref(), None)?;
        Ok(UpdateChannelResponse {
            channel: world.channel_view(&channel, &caller)?,
            members: world.member_views(&channel)?,
            message: None,
            duration: String::new(),
        })
    }

    /// `DELETE /channels/{type}/{id}`: deletes the channel with its messages (DeleteChannel);
    /// `channel.deleted` to the watchers, `notification.channel_deleted` to the members who
    /// do not watch. The id may be used again for a new channel; the channel's uploaded
    /// files are deleted with it. Returns the channel with `deleted_at`.
    pub(crate) fn delete_channel(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
    ) -> ApiResult<Channel> {
        let (mut world, caller) = self.enter(actor)?;
        let channel = world.existing_channel(op, &key.cid)?;
        channel.require(op, &caller, Action::DeleteChannel)?;
        let cid = &key.cid;
        let now = world.now();
        let view = Channel {
            deleted_at: Some(now.clone()),
            ..world.channel_event_view(&channel)?
        };
        let user = (!caller.is_server()).then(|| caller.id.clone());
        let members = channel.member_ids();
        let not_watching = world.members_not_watching(cid, &members, "");
        world.store.remove_channel(cid)?;
        for member in &members {
            world.store.remove_channel_mute(member, cid)?;
        }
        let event = ChannelDeletedEvent {
            user: user
                .as_deref()
                .map(|u| world.user_response(u))
                .transpose()?,
            channel: Some(view.clone()),
            ..world.channel_event(cid)
        };
        world.broadcast(cid, &event);
        for (conn_id, user_id) in not_watching {
            let unread = world.store.unread_counts(&user_id)?;
            let note = NotificationChannelDeletedEvent {
                channel: Some(view.clone()),
                total_unread_count: Some(unread.messages),
                unread_channels: Some(unread.channels),
                ..world.channel_event(cid)
            };
            world.send_to_conn(&conn_id, &note);
        }
        world.conns.forget_channel(cid);
        drop(world);
        tracing::debug!(%cid, "channel deleted");
        // Its uploaded files go with it (outside the world's lock: with `--data-dir` this
        // touches the disk). The channel is gone either way; a file that could not be
        // removed is logged and stays unreachable through this channel's routes.
        if let Err(e) = self.delete_channel_files(cid) {
            tracing::error!(%cid, error = %e, "could not delete the channel's uploaded files");
        }
        Ok(view)
    }

    /// `POST /channels/{type}/{id}/truncate`: removes the messages created before
    /// `truncated_at` (now by default; TruncateChannel) and posts the system message, if
    /// any; unread counts are recounted. `channel.truncated` to the watchers,
    /// `notification.channel_truncated` to the members who do not watch.
    pub(crate) fn truncate_channel(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        body: TruncateChannelRequest,
    ) -> ApiResult<TruncateChannelResponse> {
        let (mut world, caller) = self.enter(actor)?;
        let user = acting(op, &caller, body.user_id.as_deref(), body.user.as_ref())?;
        let mut channel = world.existing_channel(op, &key.cid)?;
        channel.require(op, &caller, Action::TruncateChannel)?;
        let cid = key.cid.clone();
        let now = world.now();
        let now_nanos = time::parse_rfc3339_or_naive(&now).unwrap_or_default();
        let at = match body.truncated_at.as_deref() {
            Some(t) => time::parse_rfc3339_or_naive(t)
                .ok_or_else(|| ApiError::input(op, "truncated_at must be an RFC 3339 time"))?
                .min(now_nanos),
            None => now_nanos,
        };
        world.store.remove_messages_before(&cid, at)?;
        let truncated_at = time::format_rfc3339(at);
        channel.record.truncated_at = Some(truncated_at);
        channel.record.truncated_by = user.clone();
        channel.record.last_message_at = world
            .store
            .messages_since(&cid, i128::MIN)?
            .last()
            .and_then(|m| m.created_at.clone());
        channel.record.updated_at = now;
        world.store.put_channel(channel.record.clone())?;
        world.recount_channel(&channel)?;
        let message = match body.message {
            Some(input) => {
                let author = user.clone().or_else(|| input.user_id.clone()).ok_or_else(|| {
                    ApiError::input(op, "either user or user_id must be provided with a message when using server side auth.")
                })?;
                Some(world.post_system_message(op, &mut channel, &author, input)?)
            }
            None => None,
        };
        let view = world.channel_event_view(&channel)?;
        let event = ChannelTruncatedEvent {
            user: user
                .as_deref()
                .map(|u| world.user_response(u))
                .transpose()?,
            channel: Some(view.clone()),
            message: message.clone(),
            ..world.channel_event(&cid)
        };
        world.broadcast(&cid, &event);
        for (conn_id, member) in world.members_not_watching(&cid, &channel.member_ids(), "") {
            let unread = world.store.unread_counts(&member)?;
            let note = NotificationChannelTruncatedEvent {
                channel: Some(view.clone()),
                total_unread_count: Some(unread.messages),
                unread_channels: Some(unread.channels),
                ..world.channel_event(&cid)
            };
            world.send_to_conn(&conn_id, &note);
        }
        Ok(TruncateChannelResponse {
            channel: world.channel_view(&channel, &caller)?,
            message,
            duration: String::new(),
        })
    }

    /// `POST /channels/{type}/{id}/hide` and `/show`: hides the channel for one member
    /// (it leaves their `query_channels` and unread totals until a new message or `show`;
    /// `clear_history` also hides its messages so far and marks them read) or shows it
    /// again. `channel.hidden` / `channel.visible` to the member's connections.
    pub(crate) fn hide_channel(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        body: HideChannelRequest,
        hide: bool,
    ) -> ApiResult<()> {
        let (mut world, caller) = self.enter(actor)?;
        let user = caller.acting_user(op, "", body.user_id.as_deref(), None)?;
        let mut channel = world.existing_channel(op, &key.cid)?;
        channel.require(op, &caller, Action::ReadChannel)?;
        let cid = key.cid.clone();
        let Some(member) = channel.members.iter_mut().find(|m| m.user_id == user) else {
            return Err(ApiError::input(
                op,
                format!("user '{user}' is not a member of channel {cid}"),
            ));
        };
        let clear = hide && body.clear_history == Some(true);
        member.hidden = hide;
        let now = world.now();
        if clear {
            member.history_before = Some(now.clone());
            let read = ReadRecord {
                last_read: now,
                last_read_message_id: None,
                unread: 0,
            };
            world.store.put_read(&cid, &user, read)?;
        }
        world.store.put_member(&cid, member.clone())?;
        let view = world.channel_view(&channel, &Caller::user(world.store.as_ref(), &user)?)?;
        let who = Some(world.user_response(&user)?);
        if hide {
            let event = ChannelHiddenEvent {
                user: who,
                channel: Some(view),
                clear_history: clear,
                ..world.channel_event(&cid)
            };
            world.send_to_user(&user, &event);
        } else {
            let event = ChannelVisibleEvent {
                user: who,
                channel: Some(view),
                ..world.channel_event(&cid)
            };
            world.send_to_user(&user, &event);
        }
        Ok(())
    }
}

/// The caller's relation to a channel whose record is borrowed mutably elsewhere.
fn channel_relation(
    caller: &Caller,
    members: &[super::store::MemberRecord],
    record: &super::store::ChannelRecord,
) -> super::permissions::Relation {
    caller.relation(record, members)
}
