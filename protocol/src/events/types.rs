//! Event type names: the `type` of every event the server sends or a client dispatches
//! locally. The typed events define their own names (`NewMessageEvent::TYPE`); these
//! constants name the same strings, and the ones without a struct.
//!
//! ```
//! use stream_chat_protocol::events::{NewMessageEvent, types};
//! assert_eq!(types::MESSAGE_NEW, NewMessageEvent::TYPE);
//! assert!(types::is_notification(types::NOTIFICATION_MARK_READ));
//! ```

use super::{
    ConnectionErrorEvent, HealthCheckEvent, MessageDeletedEvent, MessageReadEvent,
    MessageUpdatedEvent, NewMessageEvent, NotificationAddedToChannelEvent,
    NotificationMarkReadEvent, NotificationMessageNewEvent, UserStartWatchingEvent,
    UserStopWatchingEvent,
};
// Reactions, threads, typing (messages surface).
use super::{
    NotificationThreadMessageNewEvent, ReactionDeletedEvent, ReactionNewEvent, ReactionUpdateEvent,
    TypingStartEvent, TypingStopEvent,
};

/// Keep-alive; the server's first one on a connection carries `me`.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::HEALTH_CHECK, "health.check");
/// ```
pub const HEALTH_CHECK: &str = HealthCheckEvent::TYPE;

/// Connection-level error (auth failures), followed by a close.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::CONNECTION_ERROR, "connection.error");
/// ```
pub const CONNECTION_ERROR: &str = ConnectionErrorEvent::TYPE;

/// A new message in a watched channel.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::MESSAGE_NEW, "message.new");
/// ```
pub const MESSAGE_NEW: &str = NewMessageEvent::TYPE;

/// A message was edited.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::MESSAGE_UPDATED, "message.updated");
/// ```
pub const MESSAGE_UPDATED: &str = MessageUpdatedEvent::TYPE;

/// A message was deleted (`hard_delete` says how).
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::MESSAGE_DELETED, "message.deleted");
/// ```
pub const MESSAGE_DELETED: &str = MessageDeletedEvent::TYPE;

/// A user marked a channel read.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::MESSAGE_READ, "message.read");
/// ```
pub const MESSAGE_READ: &str = MessageReadEvent::TYPE;

/// A user started watching a channel.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::USER_WATCHING_START, "user.watching.start");
/// ```
pub const USER_WATCHING_START: &str = UserStartWatchingEvent::TYPE;

/// A user stopped watching a channel.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::USER_WATCHING_STOP, "user.watching.stop");
/// ```
pub const USER_WATCHING_STOP: &str = UserStopWatchingEvent::TYPE;

/// A new message in a channel the user is a member of but does not watch.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::NOTIFICATION_MESSAGE_NEW, "notification.message_new");
/// ```
pub const NOTIFICATION_MESSAGE_NEW: &str = NotificationMessageNewEvent::TYPE;

/// To the reader's own connections: a channel was marked read, with the new unread counts.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::NOTIFICATION_MARK_READ, "notification.mark_read");
/// ```
pub const NOTIFICATION_MARK_READ: &str = NotificationMarkReadEvent::TYPE;

/// To a user's connections: they were added to a channel.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::NOTIFICATION_ADDED_TO_CHANNEL, "notification.added_to_channel");
/// ```
pub const NOTIFICATION_ADDED_TO_CHANNEL: &str = NotificationAddedToChannelEvent::TYPE;

/// A user started typing (a client sends it through the channel's event endpoint).
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::TYPING_START, "typing.start");
/// ```
pub const TYPING_START: &str = TypingStartEvent::TYPE;

/// A user stopped typing.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::TYPING_STOP, "typing.stop");
/// ```
pub const TYPING_STOP: &str = TypingStopEvent::TYPE;

/// A user's fields changed.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::USER_UPDATED, "user.updated");
/// ```
pub const USER_UPDATED: &str = super::UserUpdatedEvent::TYPE;

/// A user came online or went offline.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::USER_PRESENCE_CHANGED, "user.presence.changed");
/// ```
pub const USER_PRESENCE_CHANGED: &str = super::UserPresenceChangedEvent::TYPE;

/// Client-local, never sent by a server: the connection's state changed (the JS client and this SDK dispatch it).
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::CONNECTION_CHANGED, "connection.changed");
/// ```
pub const CONNECTION_CHANGED: &str = "connection.changed";

/// Client-local, never sent by a server: after a reconnect, the client's channels were recovered.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::CONNECTION_RECOVERED, "connection.recovered");
/// ```
pub const CONNECTION_RECOVERED: &str = "connection.recovered";

/// What the type of every `notification.*` event starts with: events sent to a user's
/// connections whether or not they watch the channel concerned.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::NOTIFICATION_PREFIX, "notification.");
/// ```
pub const NOTIFICATION_PREFIX: &str = "notification.";

/// Whether `kind` is a `notification.*` type.
///
/// ```
/// use stream_chat_protocol::events::types::is_notification;
/// assert!(is_notification("notification.invited") && !is_notification("message.new"));
/// ```
pub fn is_notification(kind: &str) -> bool {
    kind.starts_with(NOTIFICATION_PREFIX)
}

// Channel administration, members, read state, moderation, presence, user updates.

/// A channel's data changed.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::CHANNEL_UPDATED, "channel.updated");
/// ```
pub const CHANNEL_UPDATED: &str = super::ChannelUpdatedEvent::TYPE;

/// A watched channel was deleted.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::CHANNEL_DELETED, "channel.deleted");
/// ```
pub const CHANNEL_DELETED: &str = super::ChannelDeletedEvent::TYPE;

/// To members who do not watch it: a channel was deleted.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::NOTIFICATION_CHANNEL_DELETED, "notification.channel_deleted");
/// ```
pub const NOTIFICATION_CHANNEL_DELETED: &str = super::NotificationChannelDeletedEvent::TYPE;

/// A watched channel's messages were truncated.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::CHANNEL_TRUNCATED, "channel.truncated");
/// ```
pub const CHANNEL_TRUNCATED: &str = super::ChannelTruncatedEvent::TYPE;

/// To members who do not watch it: a channel was truncated.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::NOTIFICATION_CHANNEL_TRUNCATED, "notification.channel_truncated");
/// ```
pub const NOTIFICATION_CHANNEL_TRUNCATED: &str = super::NotificationChannelTruncatedEvent::TYPE;

/// To the user's connections: they hid a channel.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::CHANNEL_HIDDEN, "channel.hidden");
/// ```
pub const CHANNEL_HIDDEN: &str = super::ChannelHiddenEvent::TYPE;

/// To the user's connections: a hidden channel is shown again.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::CHANNEL_VISIBLE, "channel.visible");
/// ```
pub const CHANNEL_VISIBLE: &str = super::ChannelVisibleEvent::TYPE;

/// A user became a member of a watched channel.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::MEMBER_ADDED, "member.added");
/// ```
pub const MEMBER_ADDED: &str = super::MemberAddedEvent::TYPE;

/// A membership of a watched channel changed.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::MEMBER_UPDATED, "member.updated");
/// ```
pub const MEMBER_UPDATED: &str = super::MemberUpdatedEvent::TYPE;

/// A user left (or was removed from) a watched channel.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::MEMBER_REMOVED, "member.removed");
/// ```
pub const MEMBER_REMOVED: &str = super::MemberRemovedEvent::TYPE;

/// To a user's connections: they were removed from a channel.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::NOTIFICATION_REMOVED_FROM_CHANNEL, "notification.removed_from_channel");
/// ```
pub const NOTIFICATION_REMOVED_FROM_CHANNEL: &str =
    super::NotificationRemovedFromChannelEvent::TYPE;

/// To a user's connections: they were invited to a channel.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::NOTIFICATION_INVITED, "notification.invited");
/// ```
pub const NOTIFICATION_INVITED: &str = super::NotificationInvitedEvent::TYPE;

/// To the invitee's connections: they accepted an invite.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::NOTIFICATION_INVITE_ACCEPTED, "notification.invite_accepted");
/// ```
pub const NOTIFICATION_INVITE_ACCEPTED: &str = super::NotificationInviteAcceptedEvent::TYPE;

/// To the invitee's connections: they rejected an invite.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::NOTIFICATION_INVITE_REJECTED, "notification.invite_rejected");
/// ```
pub const NOTIFICATION_INVITE_REJECTED: &str = super::NotificationInviteRejectedEvent::TYPE;

/// To the reader's connections: a channel was marked unread.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::NOTIFICATION_MARK_UNREAD, "notification.mark_unread");
/// ```
pub const NOTIFICATION_MARK_UNREAD: &str = super::NotificationMarkUnreadEvent::TYPE;

/// To the muter's connections: their muted users changed.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::NOTIFICATION_MUTES_UPDATED, "notification.mutes_updated");
/// ```
pub const NOTIFICATION_MUTES_UPDATED: &str = super::NotificationMutesUpdatedEvent::TYPE;

/// To the user's connections: their muted channels changed.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::NOTIFICATION_CHANNEL_MUTES_UPDATED, "notification.channel_mutes_updated");
/// ```
pub const NOTIFICATION_CHANNEL_MUTES_UPDATED: &str =
    super::NotificationChannelMutesUpdatedEvent::TYPE;

/// A user was banned (in a channel, or app-wide without `cid`).
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::USER_BANNED, "user.banned");
/// ```
pub const USER_BANNED: &str = super::UserBannedEvent::TYPE;

/// A ban was lifted.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::USER_UNBANNED, "user.unbanned");
/// ```
pub const USER_UNBANNED: &str = super::UserUnbannedEvent::TYPE;

// Reactions, threads, typing, custom events (messages surface).

/// A user reacted to a message.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::REACTION_NEW, "reaction.new");
/// ```
pub const REACTION_NEW: &str = ReactionNewEvent::TYPE;

/// A reaction sent with `enforce_unique` replaced the user's other reactions.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::REACTION_UPDATED, "reaction.updated");
/// ```
pub const REACTION_UPDATED: &str = ReactionUpdateEvent::TYPE;

/// A reaction was removed.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::REACTION_DELETED, "reaction.deleted");
/// ```
pub const REACTION_DELETED: &str = ReactionDeletedEvent::TYPE;

/// A reply in a thread the user takes part in, to their connections that do not watch it.
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::NOTIFICATION_THREAD_MESSAGE_NEW, "notification.thread_message_new");
/// ```
pub const NOTIFICATION_THREAD_MESSAGE_NEW: &str = NotificationThreadMessageNewEvent::TYPE;

/// An AI assistant's state changed (a client-sent channel event).
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::AI_INDICATOR_UPDATE, "ai_indicator.update");
/// ```
pub const AI_INDICATOR_UPDATE: &str = "ai_indicator.update";

/// Clear the AI indicator (a client-sent channel event).
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::AI_INDICATOR_CLEAR, "ai_indicator.clear");
/// ```
pub const AI_INDICATOR_CLEAR: &str = "ai_indicator.clear";

/// Stop the AI response (a client-sent channel event).
///
/// ```
/// assert_eq!(stream_chat_protocol::events::types::AI_INDICATOR_STOP, "ai_indicator.stop");
/// ```
pub const AI_INDICATOR_STOP: &str = "ai_indicator.stop";

/// The families of event types only a server sends (`message.*`, `reaction.*`, ...): a
/// client may not send an event of one of these types, nor a `typing.*` other than start
/// and stop.
pub const SERVER_EVENT_PREFIXES: [&str; 13] = [
    "channel.",
    "connection.",
    "draft.",
    "health.",
    "member.",
    "message.",
    "notification.",
    "poll.",
    "reaction.",
    "reminder.",
    "thread.",
    "typing.",
    "user.",
];

/// Whether a client may send an event of type `kind` to a channel: `typing.start`,
/// `typing.stop`, the AI indicator events, and custom types that do not use a server
/// event family ([`SERVER_EVENT_PREFIXES`]).
///
/// ```
/// use stream_chat_protocol::events::types::is_client_sendable;
/// assert!(is_client_sendable("typing.start") && is_client_sendable("friendship_request"));
/// assert!(!is_client_sendable("message.new") && !is_client_sendable("typing.maybe"));
/// ```
pub fn is_client_sendable(kind: &str) -> bool {
    matches!(
        kind,
        TYPING_START | TYPING_STOP | AI_INDICATOR_UPDATE | AI_INDICATOR_CLEAR | AI_INDICATOR_STOP
    ) || !SERVER_EVENT_PREFIXES.iter().any(|p| kind.starts_with(p))
}

/// Whether `kind` is a typing event (`typing.start` or `typing.stop`).
///
/// ```
/// assert!(stream_chat_protocol::events::types::is_typing("typing.stop"));
/// ```
pub fn is_typing(kind: &str) -> bool {
    kind == TYPING_START || kind == TYPING_STOP
}
