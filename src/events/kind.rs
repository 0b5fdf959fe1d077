//! [`EventKind`]: the typed events [`subscribe_for_type`](crate::ChatClient::subscribe_for_type)
//! can deliver, the server's (the protocol's serde types) and the SDK's local ones.

use stream_chat_protocol::events::{
    HealthCheckEvent, MessageDeletedEvent, MessageReadEvent, MessageUpdatedEvent, NewMessageEvent,
    NotificationAddedToChannelEvent, NotificationMarkReadEvent, NotificationMessageNewEvent,
    UserStartWatchingEvent, UserStopWatchingEvent, types,
};

use super::chat_event::ChatEvent;
// Channel administration, members, read state, moderation, presence, user updates.
use super::local::{ConnectionChangedEvent, ConnectionRecoveredEvent};
use stream_chat_protocol::events::{
    ChannelDeletedEvent, ChannelHiddenEvent, ChannelTruncatedEvent, ChannelUpdatedEvent,
    ChannelVisibleEvent, MemberAddedEvent, MemberRemovedEvent, MemberUpdatedEvent,
    NotificationChannelDeletedEvent, NotificationChannelMutesUpdatedEvent,
    NotificationChannelTruncatedEvent, NotificationInviteAcceptedEvent,
    NotificationInviteRejectedEvent, NotificationInvitedEvent, NotificationMarkUnreadEvent,
    NotificationMutesUpdatedEvent, NotificationRemovedFromChannelEvent, UserBannedEvent,
    UserPresenceChangedEvent, UserUnbannedEvent, UserUpdatedEvent,
};
// Reactions, threads, typing (messages surface).
use stream_chat_protocol::events::{
    NotificationThreadMessageNewEvent, ReactionDeletedEvent, ReactionNewEvent, ReactionUpdateEvent,
    TypingStartEvent, TypingStopEvent,
};

/// A typed event that [`ChatClient::subscribe_for_type`](crate::ChatClient::subscribe_for_type)
/// can deliver: its event type and how to get it out of a [`ChatEvent`] (Kotlin's
/// `subscribeFor<NewMessageEvent>`). The server's events are decoded once, straight into
/// these structs; `recovered` is true on a [`NewMessageEvent`] that state recovery
/// delivered after a reconnect instead of the server.
///
/// ```
/// use stream_chat_client::{ChatClient, ChatEvent, Event, EventKind, Message, NewMessageEvent};
///
/// let mut frame = Event::new("message.new");
/// frame.cid = Some("livestream:demo".into());
/// frame.message = Some(Message { id: "m1".into(), ..Message::with_text("hi") });
/// let event = ChatEvent::from(frame);
/// let typed = NewMessageEvent::from_chat_event(&event).unwrap();
/// assert_eq!((NewMessageEvent::TYPE, typed.channel_id.as_str()), ("message.new", "demo"));
///
/// # let client = ChatClient::builder("key").build().unwrap();
/// let _s = client.subscribe_for_type::<NewMessageEvent>(|e| {
///     println!("{}: {}", e.cid, e.message.text.as_deref().unwrap_or(""));
/// });
/// ```
pub trait EventKind: Clone + Send + Sync + 'static {
    /// The event type this struct stands for, e.g. `"message.new"`.
    const TYPE: &'static str;

    /// The typed event when `event` is one, `None` otherwise.
    fn from_chat_event(event: &ChatEvent) -> Option<Self>;

    /// Runs `f` on the typed event when `event` is one. The server's events are lent as
    /// the `ChatEvent` holds them, not copied: what `subscribe_for_type` hands each
    /// listener (a copy per listener and event was most of a delivery's cost).
    ///
    /// ```
    /// use stream_chat_client::{ChatEvent, Event, EventKind, Message, NewMessageEvent};
    /// let mut frame = Event::new("message.new");
    /// frame.cid = Some("livestream:demo".into());
    /// frame.message = Some(Message { id: "m1".into(), ..Message::with_text("hi") });
    /// let event = ChatEvent::from(frame);
    /// assert_eq!(NewMessageEvent::with_typed(&event, |e| e.message.id.clone()), Some("m1".into()));
    /// ```
    fn with_typed<R>(event: &ChatEvent, f: impl FnOnce(&Self) -> R) -> Option<R> {
        Self::from_chat_event(event).map(|typed| f(&typed))
    }
}

/// `EventKind` for a struct carried boxed by a `ChatEvent` tuple variant; the type name is
/// the struct's own `TYPE`.
macro_rules! tuple_kind {
    ($($ty:ident => $variant:ident),* $(,)?) => {
        $(
            impl EventKind for $ty {
                const TYPE: &'static str = $ty::TYPE;

                fn from_chat_event(event: &ChatEvent) -> Option<Self> {
                    match event {
                        ChatEvent::$variant(e) => Some((**e).clone()),
                        _ => None,
                    }
                }

                fn with_typed<R>(event: &ChatEvent, f: impl FnOnce(&Self) -> R) -> Option<R> {
                    match event {
                        ChatEvent::$variant(e) => Some(f(e)),
                        _ => None,
                    }
                }
            }
        )*
    };
}

tuple_kind! {
    NewMessageEvent => MessageNew,
    MessageUpdatedEvent => MessageUpdated,
    MessageDeletedEvent => MessageDeleted,
    MessageReadEvent => MessageRead,
    UserStartWatchingEvent => UserWatchingStart,
    UserStopWatchingEvent => UserWatchingStop,
    NotificationMessageNewEvent => NotificationMessageNew,
    NotificationMarkReadEvent => NotificationMarkRead,
    NotificationAddedToChannelEvent => NotificationAddedToChannel,
    ConnectionRecoveredEvent => ConnectionRecovered,
    // Channel administration, members, read state, moderation, presence, user updates.
    ChannelUpdatedEvent => ChannelUpdated,
    ChannelDeletedEvent => ChannelDeleted,
    NotificationChannelDeletedEvent => NotificationChannelDeleted,
    ChannelTruncatedEvent => ChannelTruncated,
    NotificationChannelTruncatedEvent => NotificationChannelTruncated,
    ChannelHiddenEvent => ChannelHidden,
    ChannelVisibleEvent => ChannelVisible,
    MemberAddedEvent => MemberAdded,
    MemberUpdatedEvent => MemberUpdated,
    MemberRemovedEvent => MemberRemoved,
    NotificationRemovedFromChannelEvent => NotificationRemovedFromChannel,
    NotificationInvitedEvent => NotificationInvited,
    NotificationInviteAcceptedEvent => NotificationInviteAccepted,
    NotificationInviteRejectedEvent => NotificationInviteRejected,
    NotificationMarkUnreadEvent => NotificationMarkUnread,
    NotificationMutesUpdatedEvent => NotificationMutesUpdated,
    NotificationChannelMutesUpdatedEvent => NotificationChannelMutesUpdated,
    UserBannedEvent => UserBanned,
    UserUnbannedEvent => UserUnbanned,
    UserPresenceChangedEvent => UserPresenceChanged,
    UserUpdatedEvent => UserUpdated,
    // Reactions, threads, typing (messages surface).
    ReactionNewEvent => ReactionNew,
    ReactionUpdateEvent => ReactionUpdated,
    ReactionDeletedEvent => ReactionDeleted,
    TypingStartEvent => TypingStart,
    TypingStopEvent => TypingStop,
    NotificationThreadMessageNewEvent => NotificationThreadMessageNew,
}

impl EventKind for ConnectionChangedEvent {
    const TYPE: &'static str = types::CONNECTION_CHANGED;

    fn from_chat_event(event: &ChatEvent) -> Option<Self> {
        match event {
            ChatEvent::ConnectionChanged { state, error } => Some(ConnectionChangedEvent {
                state: *state,
                error: error.clone(),
            }),
            _ => None,
        }
    }
}

/// A [`ChatEvent::HealthCheck`] as the protocol's struct (`connection_id`, `created_at`,
/// `me`; the server's `cid` `"*"` is not kept).
impl EventKind for HealthCheckEvent {
    const TYPE: &'static str = HealthCheckEvent::TYPE;

    fn from_chat_event(event: &ChatEvent) -> Option<Self> {
        match event {
            ChatEvent::HealthCheck {
                connection_id,
                created_at,
                me,
            } => Some(HealthCheckEvent {
                connection_id: connection_id.clone(),
                created_at: created_at.clone(),
                me: me.as_deref().cloned(),
                ..HealthCheckEvent::default()
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_struct_names_its_own_type() {
        assert_eq!(
            <NewMessageEvent as EventKind>::TYPE,
            types::MESSAGE_NEW,
            "one definition"
        );
        assert_eq!(
            <NotificationAddedToChannelEvent as EventKind>::TYPE,
            types::NOTIFICATION_ADDED_TO_CHANNEL
        );
        assert_eq!(<HealthCheckEvent as EventKind>::TYPE, types::HEALTH_CHECK);
        assert_eq!(
            <ConnectionRecoveredEvent as EventKind>::TYPE,
            "connection.recovered"
        );
    }
}
