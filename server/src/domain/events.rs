//! Typing and custom events: sent by a client to a channel's watchers, with the type and
//! fields it chose; and custom events a server sends to one user's connections.
//!
//! A client may send `typing.start` / `typing.stop` (where the channel type has
//! `typing_events` on; `parent_id` for a thread), the AI indicator events, and custom types
//! outside the server's event families (`message.*`, `reaction.*`, ...: code 18). A custom
//! event is at most [`MAX_CUSTOM_EVENT_BYTES`] of JSON (code 22 beyond).

use serde::Serialize;
use serde_json::Value;
use stream_chat_protocol::events::types;
use stream_chat_protocol::{Event, TypingStartEvent, TypingStopEvent, User, codes};

use super::caller::Actor;
use super::channels::{ChannelKey, Loaded};
use super::permissions::{self, Action};
use super::{Chat, World};
use crate::config::MAX_CUSTOM_EVENT_BYTES;
use crate::error::{ApiError, ApiResult};

/// Code 4 without a type, 22 when the event is too large.
fn check_event(op: &str, input: Option<Event>) -> ApiResult<Event> {
    let Some(input) = input.filter(|e| !e.kind.is_empty()) else {
        return Err(ApiError::input(op, "event.type is required"));
    };
    let size = serde_json::to_vec(&input).map_or(0, |b| b.len());
    if size > MAX_CUSTOM_EVENT_BYTES {
        return Err(ApiError::op(
            op,
            codes::PAYLOAD_TOO_BIG,
            format!("the event is {size} bytes: at most {MAX_CUSTOM_EVENT_BYTES} are allowed"),
        ));
    }
    Ok(input)
}

/// Code 19 unless the channel type has `feature` on.
fn check_feature(op: &str, channel: &Loaded, on: bool, feature: &str) -> ApiResult<()> {
    if on {
        Ok(())
    } else {
        Err(ApiError::op(
            op,
            codes::CHANNEL_FEATURE_NOT_SUPPORTED,
            format!(
                "{feature} are disabled for channel type '{}'",
                channel.record.kind
            ),
        ))
    }
}

/// A typing event of type `E`, by `user`, about `parent_id`.
fn typing<E: Serialize>(event: E) -> ApiResult<Value> {
    serde_json::to_value(event).map_err(|e| ApiError::plain(codes::INTERNAL, e.to_string()))
}

impl World {
    /// Builds the event a client's `input` stands for, as the watchers receive it.
    fn channel_client_event(
        &mut self,
        op: &str,
        channel: &Loaded,
        mut input: Event,
        user: User,
    ) -> ApiResult<Value> {
        let cid = channel.record.cid.clone();
        let config = permissions::config(&channel.record.kind, "");
        input.extra.remove("user_id");
        if types::is_typing(&input.kind) {
            check_feature(op, channel, config.typing_events, "typing events")?;
            let parent_id = match input.extra.remove("parent_id") {
                None | Some(Value::Null) => None,
                Some(Value::String(id)) if id.is_empty() => None,
                Some(Value::String(id)) => Some(id),
                Some(_) => return Err(ApiError::input(op, "event.parent_id must be a string")),
            };
            return if input.kind == types::TYPING_START {
                typing(TypingStartEvent {
                    user: Some(user),
                    parent_id,
                    extra: input.extra,
                    ..self.channel_event(&cid)
                })
            } else {
                typing(TypingStopEvent {
                    user: Some(user),
                    parent_id,
                    extra: input.extra,
                    ..self.channel_event(&cid)
                })
            };
        }
        check_feature(op, channel, config.custom_events, "custom events")?;
        let event = Event {
            kind: input.kind,
            extra: input.extra,
            user: Some(user),
            message: input.message,
            watcher_count: Some(self.conns.watcher_count(&cid)),
            ..self.channel_event(&cid)
        };
        serde_json::to_value(event).map_err(|e| ApiError::plain(codes::INTERNAL, e.to_string()))
    }
}

impl Chat {
    /// `POST /channels/{type}/{id}/event`: a typing or custom event, with the fields the
    /// client chose, from the caller (server-side: the user `event.user` or `event.user_id`
    /// names) to the watchers, the sender's own connections included. Returns it.
    pub(crate) fn send_event(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        input: Option<Event>,
    ) -> ApiResult<Value> {
        let input = check_event(op, input)?;
        if !types::is_client_sendable(&input.kind) {
            return Err(ApiError::op(
                op,
                codes::EVENT_NOT_SUPPORTED,
                format!("event type '{}' is sent by the server only", input.kind),
            ));
        }
        let (mut world, caller) = self.enter(actor)?;
        let user = caller.acting_user(
            op,
            "event",
            input.extra.get("user_id").and_then(Value::as_str),
            input.user.as_ref(),
        )?;
        let channel = world.existing_channel(op, &key.cid)?;
        let action = if types::is_typing(&input.kind) {
            Action::SendTypingEvent
        } else {
            Action::SendCustomEvent
        };
        channel.require(op, &caller, action)?;
        world.ensure_user(&user)?;
        let user = world.user_response(&user)?;
        let event = world.channel_client_event(op, &channel, input, user)?;
        world.broadcast(&key.cid, &event);
        Ok(event)
    }

    /// `POST /users/{id}/event`: a custom event from the server to every connection of user
    /// `target`. Server-side only (code 17); code 16 for an unknown user, 4 for a type with
    /// a `.` (the server's event families use it).
    pub(crate) fn send_user_custom_event(
        &self,
        op: &str,
        actor: Actor,
        target: &str,
        input: Option<Event>,
    ) -> ApiResult<()> {
        if actor != Actor::Server {
            return Err(ApiError::forbidden(
                op,
                "user custom events can only be sent with server-side auth",
            ));
        }
        let input = check_event(op, input)?;
        if input.kind.contains('.') {
            return Err(ApiError::input(
                op,
                format!("custom event type '{}' must not contain '.'", input.kind),
            ));
        }
        let mut world = self.lock();
        if world.store.user(target)?.is_none() {
            return Err(ApiError::not_found(
                op,
                format!("user '{target}' does not exist"),
            ));
        }
        let event = Event {
            kind: input.kind,
            extra: input.extra,
            created_at: Some(world.now()),
            ..Event::default()
        };
        world.send_to_user(target, &event);
        Ok(())
    }
}
