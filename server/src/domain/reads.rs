//! Read state: a user marks a channel read up to a message; the watchers and the reader's
//! other connections are told. (Unread counts are kept by the store as messages arrive.)

use stream_chat_protocol::{MarkReadRequest, MessageReadEvent, NotificationMarkReadEvent};

use super::Chat;
use super::caller::Actor;
use super::channels::ChannelKey;
use super::permissions::Action;
use super::store::ReadRecord;
use crate::error::ApiResult;

impl Chat {
    /// `POST /channels/{type}/{id}/read`: the reader has read up to a message (the newest by
    /// default); `message.read` to the watchers, `notification.mark_read` to the reader's
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
        let cid = &key.cid;
        let last_id = match mark.message_id {
            Some(id) => Some(id),
            None => world.store.newest_message_id(cid)?,
        };
        world.ensure_user(&reader)?;
        let read = ReadRecord {
            last_read: world.now(),
            last_read_message_id: last_id.clone(),
            unread: 0,
        };
        world.store.put_read(cid, &reader, read)?;
        let event = MessageReadEvent {
            user: Some(world.user_response(&reader)?),
            last_read_message_id: last_id,
            watcher_count: Some(world.conns.watcher_count(cid)),
            ..world.channel_event(cid)
        };
        world.broadcast(cid, &event);
        let unread = world.store.unread_counts(&reader)?;
        let note = NotificationMarkReadEvent {
            user: event.user.clone(),
            total_unread_count: Some(unread.messages),
            unread_channels: Some(unread.channels),
            unread_count: Some(unread.messages),
            ..world.channel_event(cid)
        };
        world.send_to_user(&reader, &note);
        Ok(event)
    }
}
