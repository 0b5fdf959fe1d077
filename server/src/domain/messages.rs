//! Messages: send (with `message.new` to the watchers and `notification.message_new` to the
//! members who do not watch), get, update and delete; what a client may write of a message.
//! A send may be a thread reply (`threads.rs`), quote a message, or pin it (`pins.rs`);
//! every message leaves through `message_view.rs`.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use stream_chat_protocol::names::message_type;
use stream_chat_protocol::{
    Message, MessageDeletedEvent, MessageUpdatedEvent, NewMessageEvent,
    NotificationMessageNewEvent, codes,
};

use super::caller::{Actor, Caller};
use super::channels::{ChannelKey, Loaded};
use super::fanout::Withheld;
use super::message_rules::{author, custom_fields, require_own, server_fields};
use super::message_view::{Viewer, clear_pin, pin_active};
use super::permissions::Action;
use super::pins::{Expiry, parse_expiry, pin};
use super::{Chat, World, random_id};
use crate::config::{MAX_MESSAGE_ID_BYTES, MAX_MESSAGE_LENGTH};
use crate::error::{ApiError, ApiResult};

/// What a client writes of a message when sending or updating it, validated.
struct MessageContent {
    text: String,
    html: String,
    attachments: Vec<Value>,
    /// Users, resolved from the ids (or `{id}` objects) in the request.
    mentioned_users: Vec<Value>,
}

impl MessageContent {
    /// Code 4 without text and attachments, code 20 for a text that is too long.
    fn validate(world: &World, op: &str, input: &Message) -> ApiResult<Self> {
        let text = input.text.clone().unwrap_or_default();
        let attachments = input.attachments.clone().unwrap_or_default();
        if text.trim().is_empty() && attachments.is_empty() {
            return Err(ApiError::input(
                op,
                "message.text or message.attachments is required",
            ));
        }
        if text.chars().count() > MAX_MESSAGE_LENGTH {
            return Err(ApiError::op(
                op,
                codes::MESSAGE_TOO_LONG,
                format!("message is too long: at most {MAX_MESSAGE_LENGTH} characters"),
            ));
        }
        let mentioned_users = input
            .mentioned_users
            .iter()
            .flatten()
            .filter_map(|m| {
                m.as_str()
                    .map(str::to_owned)
                    .or_else(|| m.get("id")?.as_str().map(str::to_owned))
            })
            .map(|id| {
                let user = world.user_response(&id)?;
                Ok(serde_json::to_value(user).unwrap_or_default())
            })
            .collect::<ApiResult<_>>()?;
        let html = if text.is_empty() {
            String::new()
        } else {
            format!("<p>{}</p>\n", escape_html(&text))
        };
        Ok(MessageContent {
            text,
            html,
            attachments,
            mentioned_users,
        })
    }
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
}

impl World {
    /// Message `id` and its channel (code 16 when there is none).
    pub(crate) fn find_message(&self, op: &str, id: &str) -> ApiResult<(Message, Loaded)> {
        let not_found = || ApiError::not_found(op, format!("message '{id}' does not exist"));
        let message = self.store.message(id)?.ok_or_else(not_found)?;
        let cid = message.cid.clone().unwrap_or_default();
        let channel = self.find_channel(&cid)?.ok_or_else(not_found)?;
        Ok((message, channel))
    }

    /// Writes what a client writes of a message (`input`'s text, attachments and mentioned
    /// users, validated: code 4 without text and attachments, 20 for a text too long) into
    /// `message`, with its HTML.
    pub(crate) fn write_content(
        &self,
        op: &str,
        message: &mut Message,
        input: &Message,
    ) -> ApiResult<()> {
        let content = MessageContent::validate(self, op, input)?;
        message.text = Some(content.text);
        message.html = Some(content.html);
        message.attachments = Some(content.attachments);
        message.mentioned_users = Some(content.mentioned_users);
        Ok(())
    }

    /// Code 4 unless `quoted` is a message of channel `cid`.
    pub(crate) fn check_quote(&self, op: &str, cid: &str, quoted: &str) -> ApiResult<()> {
        match self.store.message(quoted)? {
            Some(m) if m.cid.as_deref() == Some(cid) => Ok(()),
            _ => Err(ApiError::input(
                op,
                format!("quoted message '{quoted}' does not exist in channel {cid}"),
            )),
        }
    }

    /// Changes the reply count of `parent` by `delta`, if it is a message of `cid`.
    fn count_reply(&mut self, cid: &str, parent: Option<&str>, delta: i64) -> ApiResult<()> {
        let Some(parent) = parent else {
            return Ok(());
        };
        let Some(mut p) = self.store.message(parent)? else {
            return Ok(());
        };
        if p.cid.as_deref() != Some(cid) {
            return Ok(());
        }
        p.reply_count = Some(if delta > 0 {
            p.reply_count.unwrap_or(0) + 1
        } else {
            p.reply_count.unwrap_or(1).saturating_sub(1)
        });
        self.store.put_message(p)?;
        Ok(())
    }

    /// A full update's `pinned`, when it changes whether the message is pinned: pins (with
    /// the update's `pin_expires`) or unpins, with `PinMessage`.
    #[allow(clippy::too_many_arguments)]
    fn repin_on_update(
        &self,
        op: &str,
        caller: &Caller,
        channel: &Loaded,
        message: &mut Message,
        input: &Message,
        editor: &str,
        now: &str,
    ) -> ApiResult<()> {
        let now_nanos = stream_chat_protocol::time::now_nanos();
        if message.pinned == Some(true) && !pin_active(message, now_nanos) {
            clear_pin(message);
        }
        let Some(wanted) = input.pinned else {
            return Ok(());
        };
        if wanted == (message.pinned == Some(true)) {
            return Ok(());
        }
        let mut rel = channel.relation(caller);
        rel.author = !caller.is_server() && author(message) == caller.id;
        caller.require(op, &channel.record.kind, rel, Action::PinMessage)?;
        if wanted {
            let expires = match &input.pin_expires {
                Some(t) => parse_expiry(op, &json!(t), now_nanos)?,
                None => Expiry::Never,
            };
            pin(
                message,
                self.user_response(editor)?,
                now.to_owned(),
                expires,
            );
        } else {
            clear_pin(message);
        }
        Ok(())
    }

    /// `notification.message_new` to the members' connections that do not watch the
    /// channel (the sender's and those of `except` excepted), each with its user's unread
    /// counts.
    pub(crate) fn notify_members(
        &self,
        channel: &Loaded,
        sender: &str,
        new: &NewMessageEvent,
        except: &Withheld,
    ) -> ApiResult<()> {
        let mut members = channel.member_ids();
        members.retain(|m| !except.excludes(m));
        for (conn_id, user_id) in self.members_not_watching(&channel.record.cid, &members, sender) {
            let caller = Caller::user(self.store.as_ref(), &user_id)?;
            let unread = self.store.unread_counts(&user_id)?;
            // The watchers' message.new, for a member's connection that does not watch.
            let event = NotificationMessageNewEvent {
                cid: new.cid.clone(),
                channel_type: new.channel_type.clone(),
                channel_id: new.channel_id.clone(),
                created_at: new.created_at.clone(),
                user: new.user.clone(),
                channel: Some(self.channel_view(channel, &caller)?),
                message: new.message.clone(),
                message_id: new.message_id.clone(),
                watcher_count: new.watcher_count,
                channel_member_count: new.channel_member_count,
                total_unread_count: Some(unread.messages),
                unread_count: Some(unread.messages),
                unread_channels: Some(unread.channels),
                extra: new.extra.clone(),
            };
            self.send_to_conn(&conn_id, &event);
        }
        Ok(())
    }
}

impl Chat {
    /// `POST /channels/{type}/{id}/message`: posts a message as the caller (or, server-side,
    /// as the user the message names); `message.new` to the watchers,
    /// `notification.message_new` to members who do not watch. Returns the stored message.
    pub(crate) fn send_message(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        input: Message,
    ) -> ApiResult<Message> {
        let (mut world, caller) = self.enter(actor)?;
        let sender =
            caller.acting_user(op, "message", input.user_id.as_deref(), input.user.as_ref())?;
        let mut channel = world.existing_channel(op, &key.cid)?;
        channel.require(op, &caller, Action::CreateMessage)?;
        let shadowed = world.check_can_post(op, &caller, &channel, &sender)?;
        let cid = &key.cid;
        let parent = match input.parent_id.as_deref() {
            Some(parent_id) => {
                channel.require(op, &caller, Action::CreateReply)?;
                Some(world.thread_parent(op, cid, parent_id)?)
            }
            None => None,
        };
        if let Some(quoted) = &input.quoted_message_id {
            world.check_quote(op, cid, quoted)?;
        }
        let content = MessageContent::validate(&world, op, &input)?;
        let message_id = if input.id.is_empty() {
            random_id()
        } else {
            input.id.clone()
        };
        if message_id.len() > MAX_MESSAGE_ID_BYTES {
            return Err(ApiError::input(
                op,
                "message.id is longer than 255 characters",
            ));
        }
        if world.store.message(&message_id)?.is_some() {
            return Err(ApiError::input(
                op,
                format!("a message with ID {message_id} already exists"),
            ));
        }
        world.ensure_user(&sender)?;
        let now = world.now();
        let user = world.user_response(&sender)?;
        let mut extra = custom_fields(&input.extra);
        crate::limits::check_custom_data(op, "message", &extra, world.max_custom_data)?;
        extra.insert("restricted_visibility".to_owned(), json!([]));
        let mut message = Message {
            id: message_id.clone(),
            text: Some(content.text),
            html: Some(content.html),
            kind: Some(
                if input.parent_id.is_some() {
                    message_type::REPLY
                } else {
                    message_type::REGULAR
                }
                .into(),
            ),
            user: Some(user.clone()),
            user_id: None,
            cid: Some(cid.clone()),
            attachments: Some(content.attachments),
            mentioned_users: Some(content.mentioned_users),
            latest_reactions: Some(Vec::new()),
            own_reactions: Some(Vec::new()),
            reaction_counts: Some(BTreeMap::new()),
            reaction_scores: Some(BTreeMap::new()),
            reaction_groups: Some(BTreeMap::new()),
            parent_id: input.parent_id.clone(),
            show_in_channel: input.show_in_channel,
            reply_count: Some(0),
            deleted_reply_count: Some(0),
            thread_participants: None,
            quoted_message_id: input.quoted_message_id.clone(),
            quoted_message: None,
            shadowed: Some(shadowed),
            silent: Some(input.silent.unwrap_or(false)),
            pinned: Some(false),
            pinned_at: None,
            pinned_by: None,
            pin_expires: None,
            created_at: Some(now.clone()),
            updated_at: Some(now.clone()),
            channel: None,
            extra,
        };
        world.pin_on_send(op, &caller, &channel, &mut message, &input, &user, &now)?;

        // A thread reply not also shown in the channel stays out of its list and unread
        // counts.
        let shown = parent.is_none() || input.show_in_channel == Some(true);
        world.store.append_message(message.clone())?;
        let parent = match parent {
            Some(p) => Some(world.record_reply(p, &message, &sender)?),
            None => None,
        };
        if shown {
            channel.record.last_message_at = Some(now.clone());
            world.store.put_channel(channel.record.clone())?;
            world.after_post(&mut channel, &message)?;
        }

        let event = NewMessageEvent {
            message: world.message_view(message.clone(), Viewer::Nobody)?,
            user: Some(user.clone()),
            message_id: Some(message_id),
            watcher_count: Some(world.conns.watcher_count(cid)),
            channel_member_count: Some(channel.members.len() as u64),
            ..world.channel_event(cid)
        };
        let except = world.not_delivered_to(&message)?;
        world.broadcast_new_message(&channel, &event, &except)?;
        if shown {
            world.notify_members(&channel, &sender, &event, &except)?;
        }
        if let Some(parent) = &parent {
            world.announce_reply(&channel, parent, &message, &user)?;
        }
        Ok(world.message_view(message, Viewer::User(&sender))?)
    }

    /// `GET /messages/{id}`: a message of a channel the caller may read (soft-deleted ones
    /// too).
    pub(crate) fn get_message(&self, op: &str, actor: Actor, id: &str) -> ApiResult<Message> {
        let (world, caller) = self.enter(actor)?;
        let (message, channel) = world.find_message(op, id)?;
        channel.require(op, &caller, Action::ReadChannel)?;
        Ok(world.message_view(message, Viewer::of(&caller))?)
    }

    /// `POST /messages/{id}`: replaces what a client writes of a message (text, attachments,
    /// mentioned users, custom fields); `message.updated` to the channel's watchers.
    pub(crate) fn update_message(
        &self,
        op: &str,
        actor: Actor,
        id: &str,
        input: Message,
    ) -> ApiResult<Message> {
        if !input.id.is_empty() && input.id != id {
            return Err(ApiError::input(
                op,
                format!("message.id '{}' does not match the URL's '{id}'", input.id),
            ));
        }
        let (mut world, caller) = self.enter(actor)?;
        let (stored, channel) = world.find_message(op, id)?;
        let editor = match caller.actor {
            Actor::Server => input
                .user_id
                .clone()
                .or_else(|| input.user.as_ref().map(|u| u.id.clone()))
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| author(&stored)),
            _ => {
                caller.acting_user(op, "message", input.user_id.as_deref(), input.user.as_ref())?
            }
        };
        require_own(op, &caller, &channel, &stored, Action::UpdateMessage)?;
        if stored.kind.as_deref() == Some(message_type::DELETED) {
            return Err(ApiError::input(
                op,
                format!("message '{id}' was deleted and cannot be updated"),
            ));
        }
        let content = MessageContent::validate(&world, op, &input)?;
        let cid = &channel.record.cid;
        if let Some(quoted) = &input.quoted_message_id
            && stored.quoted_message_id.as_ref() != Some(quoted)
        {
            world.check_quote(op, cid, quoted)?;
        }
        let mut message = stored;
        let now = world.now();
        let mut extra = server_fields(&message.extra);
        let custom = custom_fields(&input.extra);
        crate::limits::check_custom_data(op, "message", &custom, world.max_custom_data)?;
        extra.extend(custom);
        if message.text.as_deref() != Some(content.text.as_str()) {
            extra.insert("message_text_updated_at".into(), json!(now));
        }
        message.extra = extra;
        message.text = Some(content.text);
        message.html = Some(content.html);
        message.attachments = Some(content.attachments);
        message.mentioned_users = Some(content.mentioned_users);
        if input.quoted_message_id.is_some() {
            message
                .quoted_message_id
                .clone_from(&input.quoted_message_id);
        }
        world.repin_on_update(op, &caller, &channel, &mut message, &input, &editor, &now)?;
        message.updated_at = Some(now);
        world.store.put_message(message.clone())?;

        let event = MessageUpdatedEvent {
            message: world.message_view(message.clone(), Viewer::Nobody)?,
            user: Some(world.user_response(&editor)?),
            watcher_count: Some(world.conns.watcher_count(cid)),
            ..world.channel_event(cid)
        };
        world.broadcast(cid, &event);
        Ok(world.message_view(message, Viewer::User(&editor))?)
    }

    /// `DELETE /messages/{id}?hard=true|false`: a soft delete keeps the message as type
    /// `deleted` with `deleted_at`; a hard delete removes it. `message.deleted` (with
    /// `hard_delete`) to the channel's watchers.
    pub(crate) fn delete_message(
        &self,
        op: &str,
        actor: Actor,
        id: &str,
        hard: Option<&str>,
    ) -> ApiResult<Message> {
        let hard = match hard.map(str::to_ascii_lowercase).as_deref() {
            None | Some("false" | "0") => false,
            Some("true" | "1") => true,
            Some(other) => {
                return Err(ApiError::input(
                    op,
                    format!("hard must be true or false, not '{other}'"),
                ));
            }
        };
        let (mut world, caller) = self.enter(actor)?;
        let (stored, channel) = world.find_message(op, id)?;
        require_own(op, &caller, &channel, &stored, Action::DeleteMessage)?;
        let deleter = match caller.actor {
            Actor::Server => author(&stored),
            _ => caller.id.clone(),
        };
        let already = stored.kind.as_deref() == Some(message_type::DELETED);
        if already && !hard {
            return Ok(world.message_view(stored, Viewer::of(&caller))?);
        }
        let cid = &channel.record.cid;
        let mut message = stored;
        let now = world.now();
        message.kind = Some(message_type::DELETED.into());
        if !already {
            message.extra.insert("deleted_at".into(), json!(now));
        }
        message.updated_at = Some(now);
        if hard {
            world.store.remove_message(id)?;
            world.count_reply(cid, message.parent_id.as_deref(), -1)?;
        } else {
            world.store.put_message(message.clone())?;
        }
        // A deleted message no longer counts as unread.
        world.recount_channel(&channel)?;

        let event = MessageDeletedEvent {
            message: world.message_view(message.clone(), Viewer::Nobody)?,
            user: Some(world.user_response(&deleter)?),
            hard_delete: hard,
            watcher_count: Some(world.conns.watcher_count(cid)),
            ..world.channel_event(cid)
        };
        world.broadcast(cid, &event);
        Ok(world.message_view(message, Viewer::of(&caller))?)
    }
}
