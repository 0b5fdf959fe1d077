//! Events flowing back to the app: what a listener gets ([`ChatEvent`], the typed events
//! and [`EventKind`]) and the bus that delivers them in order ([`EventBus`], a serial
//! queue per client on the shared dispatcher, and [`Subscription`]).
//!
//! The server's typed events are the protocol crate's serde types, re-exported here; the
//! SDK adds its local events (`connection.changed`, `connection.recovered`).

mod bus;
mod chat_event;
mod kind;
mod local;
mod subscription;

pub(crate) use bus::{EventBus, EventSender};
pub use chat_event::ChatEvent;
pub(crate) use chat_event::from_server;
pub use kind::EventKind;
pub use local::{ConnectionChangedEvent, ConnectionRecoveredEvent, RecoveryGap};
pub use stream_chat_protocol::events::{
    HealthCheckEvent, MessageDeletedEvent, MessageReadEvent, MessageUpdatedEvent, NewMessageEvent,
    NotificationAddedToChannelEvent, NotificationMarkReadEvent, NotificationMessageNewEvent,
    UserStartWatchingEvent, UserStopWatchingEvent,
};
// Reactions, threads, typing (messages surface).
pub use stream_chat_protocol::events::{
    NotificationThreadMessageNewEvent, ReactionDeletedEvent, ReactionNewEvent, ReactionUpdateEvent,
    TypingStartEvent, TypingStopEvent,
};
pub use subscription::Subscription;
// Channel administration, members, read state, moderation, presence, user updates.
pub use stream_chat_protocol::events::{
    ChannelDeletedEvent, ChannelHiddenEvent, ChannelTruncatedEvent, ChannelUpdatedEvent,
    ChannelVisibleEvent, MemberAddedEvent, MemberRemovedEvent, MemberUpdatedEvent,
    NotificationChannelDeletedEvent, NotificationChannelMutesUpdatedEvent,
    NotificationChannelTruncatedEvent, NotificationInviteAcceptedEvent,
    NotificationInviteRejectedEvent, NotificationInvitedEvent, NotificationMarkUnreadEvent,
    NotificationMutesUpdatedEvent, NotificationRemovedFromChannelEvent, UserBannedEvent,
    UserPresenceChangedEvent, UserUnbannedEvent, UserUpdatedEvent,
};

/// Event type names, for [`subscribe_for`](crate::ChatClient::subscribe_for): the
/// protocol's list (the server's events and the local `connection.changed` /
/// `connection.recovered`).
///
/// ```
/// use stream_chat_client::{ChatClient, event_types};
/// # let client = ChatClient::builder("key").build().unwrap();
/// let _s = client.subscribe_for(&[event_types::CONNECTION_CHANGED], |e| println!("{e:?}"));
/// assert_eq!(event_types::MESSAGE_NEW, "message.new");
/// ```
pub use stream_chat_protocol::events::types as event_types;
