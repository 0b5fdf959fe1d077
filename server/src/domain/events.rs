//! Typing and custom events: sent by a client to a channel's watchers, with the type and
//! fields it chose.

use serde_json::Value;
use stream_chat_protocol::Event;

use super::Chat;
use super::caller::Actor;
use super::channels::ChannelKey;
use super::permissions::Action;
use crate::error::{ApiError, ApiResult};

impl Chat {
    /// `POST /channels/{type}/{id}/event`: a typing or custom event, with the type and fields
    /// the client chose, to the watchers. Returns it.
    pub(crate) fn send_event(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        input: Option<Event>,
    ) -> ApiResult<Event> {
        let Some(input) = input.filter(|e| !e.kind.is_empty()) else {
            return Err(ApiError::input(op, "event.type is required"));
        };
        let (mut world, caller) = self.enter(actor)?;
        let user = caller.acting_user(
            op,
            "event",
            input.extra.get("user_id").and_then(Value::as_str),
            input.user.as_ref(),
        )?;
        let channel = world.existing_channel(op, &key.cid)?;
        channel.require(op, &caller, Action::SendCustomEvent)?;
        let cid = &key.cid;
        let mut event = Event {
            kind: input.kind,
            extra: input.extra,
            user: Some(world.user_response(&user)?),
            watcher_count: Some(world.conns.watcher_count(cid)),
            ..world.channel_event(cid)
        };
        event.extra.remove("user_id");
        world.broadcast(cid, &event);
        Ok(event)
    }
}
