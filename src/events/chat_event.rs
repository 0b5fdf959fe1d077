//! [`ChatEvent`]: what a listener gets, one variant per typed server event plus the
//! local ones, and how a decoded server frame becomes one.

use stream_chat_callbacks::ChatError;
use stream_chat_protocol::events::{
    AnyEvent, HealthCheckEvent, MessageDeletedEvent, MessageReadEvent, MessageUpdatedEvent,
    NewMessageEvent, NotificationAddedToChannelEvent, NotificationMarkReadEvent,
    NotificationMessageNewEvent, UserStartWatchingEvent, UserStopWatchingEvent, types,
};
use stream_chat_protocol::{Event, User, cid};
// Channel administration, members, read state, moderation, presence, user updates.
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

use super::local::ConnectionRecoveredEvent;
use crate::api_error::api_error;
use crate::connection::ConnectionState;

/// An event delivered to [`subscribe`](crate::ChatClient::subscribe) listeners.
///
/// Server frames of the types below arrive typed, as the protocol's structs (the
/// keep-alive and the error frame as named fields, for matching); other `notification.*` events arrive as
/// [`ChatEvent::Notification`] and everything else as [`ChatEvent::Other`], both with the
/// full decoded frame. New variants may be added, so match with a wildcard arm. For one
/// type, [`subscribe_for_type`](crate::ChatClient::subscribe_for_type) hands you the struct.
///
/// ```
/// use stream_chat_client::{ChatEvent, ConnectionState};
///
/// let event = ChatEvent::ConnectionChanged { state: ConnectionState::Connected, error: None };
/// assert_eq!(event.kind(), "connection.changed");
/// match event {
///     ChatEvent::ConnectionChanged { state, .. } => assert!(state.is_connected()),
///     _ => {}
/// }
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum ChatEvent {
    /// Local `connection.changed`: the connection moved to `state`. `error` says why a
    /// connection was lost or a connect failed.
    ConnectionChanged {
        /// The new state.
        state: ConnectionState,
        /// The cause, for changes caused by a failure.
        error: Option<ChatError>,
    },
    /// `health.check`: the server's keep-alive. The first one of each connection carries
    /// the connected user as `me`.
    HealthCheck {
        /// The connection it belongs to.
        connection_id: String,
        /// The server's timestamp (RFC 3339).
        created_at: Option<String>,
        /// The connected user, on the first health check of a connection.
        me: Option<Box<User>>,
    },
    /// `connection.error`: the server rejected or dropped the connection with this error
    /// (Stream's code and HTTP status are on the `ChatError`).
    ConnectionError {
        /// The server's error.
        error: ChatError,
    },
    /// `message.new` (live, or recovered after a reconnect).
    MessageNew(Box<NewMessageEvent>),
    /// `message.updated`.
    MessageUpdated(Box<MessageUpdatedEvent>),
    /// `message.deleted`.
    MessageDeleted(Box<MessageDeletedEvent>),
    /// `message.read`.
    MessageRead(Box<MessageReadEvent>),
    /// `user.watching.start`.
    UserWatchingStart(Box<UserStartWatchingEvent>),
    /// `user.watching.stop`.
    UserWatchingStop(Box<UserStopWatchingEvent>),
    /// `notification.message_new`.
    NotificationMessageNew(Box<NotificationMessageNewEvent>),
    /// `notification.mark_read`.
    NotificationMarkRead(Box<NotificationMarkReadEvent>),
    /// `notification.added_to_channel`.
    NotificationAddedToChannel(Box<NotificationAddedToChannelEvent>),
    /// Any other `notification.*` event, decoded but not interpreted.
    Notification(Box<Event>),
    // Reactions, threads, typing (messages surface).
    /// `reaction.new`: a reaction, with the whole updated message.
    ReactionNew(Box<ReactionNewEvent>),
    /// `reaction.updated`: an `enforce_unique` reaction replaced the user's others.
    ReactionUpdated(Box<ReactionUpdateEvent>),
    /// `reaction.deleted`.
    ReactionDeleted(Box<ReactionDeletedEvent>),
    /// `typing.start` (with `parent_id` in a thread).
    TypingStart(Box<TypingStartEvent>),
    /// `typing.stop`.
    TypingStop(Box<TypingStopEvent>),
    /// `notification.thread_message_new`: a reply in a thread of yours, in a channel you
    /// do not watch.
    NotificationThreadMessageNew(Box<NotificationThreadMessageNewEvent>),
    /// Local `connection.recovered`: after a reconnect, the watched channels are watched
    /// again and their missed messages were delivered.
    ConnectionRecovered(Box<ConnectionRecoveredEvent>),
    /// Any other server event, decoded but not interpreted.
    Other(Box<Event>),
    // Channel administration, members, read state, moderation, presence, user updates.
    /// `channel.updated`.
    ChannelUpdated(Box<ChannelUpdatedEvent>),
    /// `channel.deleted`.
    ChannelDeleted(Box<ChannelDeletedEvent>),
    /// `notification.channel_deleted`.
    NotificationChannelDeleted(Box<NotificationChannelDeletedEvent>),
    /// `channel.truncated`.
    ChannelTruncated(Box<ChannelTruncatedEvent>),
    /// `notification.channel_truncated`.
    NotificationChannelTruncated(Box<NotificationChannelTruncatedEvent>),
    /// `channel.hidden`.
    ChannelHidden(Box<ChannelHiddenEvent>),
    /// `channel.visible`.
    ChannelVisible(Box<ChannelVisibleEvent>),
    /// `member.added`.
    MemberAdded(Box<MemberAddedEvent>),
    /// `member.updated`.
    MemberUpdated(Box<MemberUpdatedEvent>),
    /// `member.removed`.
    MemberRemoved(Box<MemberRemovedEvent>),
    /// `notification.removed_from_channel`.
    NotificationRemovedFromChannel(Box<NotificationRemovedFromChannelEvent>),
    /// `notification.invited`.
    NotificationInvited(Box<NotificationInvitedEvent>),
    /// `notification.invite_accepted`.
    NotificationInviteAccepted(Box<NotificationInviteAcceptedEvent>),
    /// `notification.invite_rejected`.
    NotificationInviteRejected(Box<NotificationInviteRejectedEvent>),
    /// `notification.mark_unread`.
    NotificationMarkUnread(Box<NotificationMarkUnreadEvent>),
    /// `notification.mutes_updated`.
    NotificationMutesUpdated(Box<NotificationMutesUpdatedEvent>),
    /// `notification.channel_mutes_updated`.
    NotificationChannelMutesUpdated(Box<NotificationChannelMutesUpdatedEvent>),
    /// `user.banned`.
    UserBanned(Box<UserBannedEvent>),
    /// `user.unbanned`.
    UserUnbanned(Box<UserUnbannedEvent>),
    /// `user.presence.changed`.
    UserPresenceChanged(Box<UserPresenceChangedEvent>),
    /// `user.updated`.
    UserUpdated(Box<UserUpdatedEvent>),
}

impl ChatEvent {
    /// The event type: `connection.changed`, `health.check`, `connection.error`, or the
    /// server's `type` for [`ChatEvent::Other`] (`message.new`, ...).
    ///
    /// ```
    /// use stream_chat_client::{ChatEvent, Event};
    /// assert_eq!(ChatEvent::Other(Box::new(Event::new("message.new"))).kind(), "message.new");
    /// ```
    pub fn kind(&self) -> &str {
        match self {
            ChatEvent::ConnectionChanged { .. } => types::CONNECTION_CHANGED,
            ChatEvent::HealthCheck { .. } => types::HEALTH_CHECK,
            ChatEvent::ConnectionError { .. } => types::CONNECTION_ERROR,
            ChatEvent::MessageNew(_) => NewMessageEvent::TYPE,
            ChatEvent::MessageUpdated(_) => MessageUpdatedEvent::TYPE,
            ChatEvent::MessageDeleted(_) => MessageDeletedEvent::TYPE,
            ChatEvent::MessageRead(_) => MessageReadEvent::TYPE,
            ChatEvent::UserWatchingStart(_) => UserStartWatchingEvent::TYPE,
            ChatEvent::UserWatchingStop(_) => UserStopWatchingEvent::TYPE,
            ChatEvent::NotificationMessageNew(_) => NotificationMessageNewEvent::TYPE,
            ChatEvent::NotificationMarkRead(_) => NotificationMarkReadEvent::TYPE,
            ChatEvent::NotificationAddedToChannel(_) => NotificationAddedToChannelEvent::TYPE,
            ChatEvent::ConnectionRecovered(_) => ConnectionRecoveredEvent::TYPE,
            ChatEvent::Notification(e) | ChatEvent::Other(e) => &e.kind,
            // Channel administration, members, read state, moderation, presence, user updates.
            ChatEvent::ChannelUpdated(_) => ChannelUpdatedEvent::TYPE,
            ChatEvent::ChannelDeleted(_) => ChannelDeletedEvent::TYPE,
            ChatEvent::NotificationChannelDeleted(_) => NotificationChannelDeletedEvent::TYPE,
            ChatEvent::ChannelTruncated(_) => ChannelTruncatedEvent::TYPE,
            ChatEvent::NotificationChannelTruncated(_) => NotificationChannelTruncatedEvent::TYPE,
            ChatEvent::ChannelHidden(_) => ChannelHiddenEvent::TYPE,
            ChatEvent::ChannelVisible(_) => ChannelVisibleEvent::TYPE,
            ChatEvent::MemberAdded(_) => MemberAddedEvent::TYPE,
            ChatEvent::MemberUpdated(_) => MemberUpdatedEvent::TYPE,
            ChatEvent::MemberRemoved(_) => MemberRemovedEvent::TYPE,
            ChatEvent::NotificationRemovedFromChannel(_) => {
                NotificationRemovedFromChannelEvent::TYPE
            }
            ChatEvent::NotificationInvited(_) => NotificationInvitedEvent::TYPE,
            ChatEvent::NotificationInviteAccepted(_) => NotificationInviteAcceptedEvent::TYPE,
            ChatEvent::NotificationInviteRejected(_) => NotificationInviteRejectedEvent::TYPE,
            ChatEvent::NotificationMarkUnread(_) => NotificationMarkUnreadEvent::TYPE,
            ChatEvent::NotificationMutesUpdated(_) => NotificationMutesUpdatedEvent::TYPE,
            ChatEvent::NotificationChannelMutesUpdated(_) => {
                NotificationChannelMutesUpdatedEvent::TYPE
            }
            ChatEvent::UserBanned(_) => UserBannedEvent::TYPE,
            ChatEvent::UserUnbanned(_) => UserUnbannedEvent::TYPE,
            ChatEvent::UserPresenceChanged(_) => UserPresenceChangedEvent::TYPE,
            ChatEvent::UserUpdated(_) => UserUpdatedEvent::TYPE,
            // Reactions, threads, typing (messages surface).
            ChatEvent::ReactionNew(_) => ReactionNewEvent::TYPE,
            ChatEvent::ReactionUpdated(_) => ReactionUpdateEvent::TYPE,
            ChatEvent::ReactionDeleted(_) => ReactionDeletedEvent::TYPE,
            ChatEvent::TypingStart(_) => TypingStartEvent::TYPE,
            ChatEvent::TypingStop(_) => TypingStopEvent::TYPE,
            ChatEvent::NotificationThreadMessageNew(_) => NotificationThreadMessageNewEvent::TYPE,
        }
    }

    /// The channel (`<type>:<id>`) the event belongs to, if any (`None` for connection
    /// events and for the `"*"` of health checks).
    ///
    /// ```
    /// use stream_chat_client::{ChatEvent, Event};
    /// let mut frame = Event::new("typing.start");
    /// frame.cid = Some("messaging:general".into());
    /// assert_eq!(ChatEvent::from(frame).cid(), Some("messaging:general"));
    /// ```
    pub fn cid(&self) -> Option<&str> {
        match self {
            ChatEvent::MessageNew(e) => Some(&e.cid),
            ChatEvent::MessageUpdated(e) => Some(&e.cid),
            ChatEvent::MessageDeleted(e) => Some(&e.cid),
            ChatEvent::MessageRead(e) => Some(&e.cid),
            ChatEvent::UserWatchingStart(e) => Some(&e.cid),
            ChatEvent::UserWatchingStop(e) => Some(&e.cid),
            ChatEvent::NotificationMessageNew(e) => Some(&e.cid),
            ChatEvent::NotificationAddedToChannel(e) => Some(&e.cid),
            ChatEvent::NotificationMarkRead(e) => e.cid.as_deref(),
            ChatEvent::Notification(e) | ChatEvent::Other(e) => {
                e.cid.as_deref().filter(|c| cid::split(c).is_some())
            }
            ChatEvent::ConnectionChanged { .. }
            | ChatEvent::HealthCheck { .. }
            | ChatEvent::ConnectionError { .. }
            | ChatEvent::ConnectionRecovered(_) => None,
            // Channel administration, members, read state, moderation, presence, user updates.
            ChatEvent::ChannelUpdated(e) => Some(&e.cid),
            ChatEvent::ChannelDeleted(e) => Some(&e.cid),
            ChatEvent::NotificationChannelDeleted(e) => Some(&e.cid),
            ChatEvent::ChannelTruncated(e) => Some(&e.cid),
            ChatEvent::NotificationChannelTruncated(e) => Some(&e.cid),
            ChatEvent::ChannelHidden(e) => Some(&e.cid),
            ChatEvent::ChannelVisible(e) => Some(&e.cid),
            ChatEvent::MemberAdded(e) => Some(&e.cid),
            ChatEvent::MemberUpdated(e) => Some(&e.cid),
            ChatEvent::MemberRemoved(e) => Some(&e.cid),
            ChatEvent::NotificationRemovedFromChannel(e) => Some(&e.cid),
            ChatEvent::NotificationInvited(e) => Some(&e.cid),
            ChatEvent::NotificationInviteAccepted(e) => Some(&e.cid),
            ChatEvent::NotificationInviteRejected(e) => Some(&e.cid),
            ChatEvent::NotificationMarkUnread(e) => Some(&e.cid),
            ChatEvent::UserBanned(e) => e.cid.as_deref(),
            ChatEvent::UserUnbanned(e) => e.cid.as_deref(),
            ChatEvent::NotificationMutesUpdated(_)
            | ChatEvent::NotificationChannelMutesUpdated(_)
            | ChatEvent::UserPresenceChanged(_)
            | ChatEvent::UserUpdated(_) => None,
            // Reactions, threads, typing (messages surface).
            ChatEvent::ReactionNew(e) => Some(&e.cid),
            ChatEvent::ReactionUpdated(e) => Some(&e.cid),
            ChatEvent::ReactionDeleted(e) => Some(&e.cid),
            ChatEvent::TypingStart(e) => Some(&e.cid),
            ChatEvent::TypingStop(e) => Some(&e.cid),
            ChatEvent::NotificationThreadMessageNew(e) => Some(&e.cid),
        }
    }
}

impl From<Event> for ChatEvent {
    /// Types a generic server frame: `health.check`, `connection.error`, the typed
    /// channel and notification events, else [`ChatEvent::Notification`] or
    /// [`ChatEvent::Other`]. (The SDK decodes socket frames straight into their types.)
    fn from(event: Event) -> Self {
        from_server(AnyEvent::from_frame(event))
    }
}

/// Turns a decoded server event into the `ChatEvent` listeners get: the typed structs move
/// over as they are (already boxed), `connection.error` becomes a `ChatError`, other
/// `notification.*` frames [`ChatEvent::Notification`], the rest [`ChatEvent::Other`].
pub(crate) fn from_server(event: AnyEvent) -> ChatEvent {
    match event {
        AnyEvent::HealthCheck(e) => {
            let HealthCheckEvent {
                connection_id,
                created_at,
                me,
                ..
            } = *e;
            ChatEvent::HealthCheck {
                connection_id,
                created_at,
                me: me.map(Box::new),
            }
        }
        AnyEvent::ConnectionError(e) => ChatEvent::ConnectionError {
            error: api_error(&e.error, 0, false),
        },
        AnyEvent::MessageNew(e) => ChatEvent::MessageNew(e),
        AnyEvent::MessageUpdated(e) => ChatEvent::MessageUpdated(e),
        AnyEvent::MessageDeleted(e) => ChatEvent::MessageDeleted(e),
        AnyEvent::MessageRead(e) => ChatEvent::MessageRead(e),
        AnyEvent::UserWatchingStart(e) => ChatEvent::UserWatchingStart(e),
        AnyEvent::UserWatchingStop(e) => ChatEvent::UserWatchingStop(e),
        AnyEvent::NotificationMessageNew(e) => ChatEvent::NotificationMessageNew(e),
        AnyEvent::NotificationMarkRead(e) => ChatEvent::NotificationMarkRead(e),
        AnyEvent::NotificationAddedToChannel(e) => ChatEvent::NotificationAddedToChannel(e),
        // Reactions, threads, typing (messages surface).
        AnyEvent::ReactionNew(e) => ChatEvent::ReactionNew(e),
        AnyEvent::ReactionUpdated(e) => ChatEvent::ReactionUpdated(e),
        AnyEvent::ReactionDeleted(e) => ChatEvent::ReactionDeleted(e),
        AnyEvent::TypingStart(e) => ChatEvent::TypingStart(e),
        AnyEvent::TypingStop(e) => ChatEvent::TypingStop(e),
        AnyEvent::NotificationThreadMessageNew(e) => ChatEvent::NotificationThreadMessageNew(e),
        AnyEvent::Other(e) if types::is_notification(&e.kind) => ChatEvent::Notification(e),
        AnyEvent::Other(e) => ChatEvent::Other(e),
        // Channel administration, members, read state, moderation, presence, user updates.
        AnyEvent::ChannelUpdated(e) => ChatEvent::ChannelUpdated(e),
        AnyEvent::ChannelDeleted(e) => ChatEvent::ChannelDeleted(e),
        AnyEvent::NotificationChannelDeleted(e) => ChatEvent::NotificationChannelDeleted(e),
        AnyEvent::ChannelTruncated(e) => ChatEvent::ChannelTruncated(e),
        AnyEvent::NotificationChannelTruncated(e) => ChatEvent::NotificationChannelTruncated(e),
        AnyEvent::ChannelHidden(e) => ChatEvent::ChannelHidden(e),
        AnyEvent::ChannelVisible(e) => ChatEvent::ChannelVisible(e),
        AnyEvent::MemberAdded(e) => ChatEvent::MemberAdded(e),
        AnyEvent::MemberUpdated(e) => ChatEvent::MemberUpdated(e),
        AnyEvent::MemberRemoved(e) => ChatEvent::MemberRemoved(e),
        AnyEvent::NotificationRemovedFromChannel(e) => ChatEvent::NotificationRemovedFromChannel(e),
        AnyEvent::NotificationInvited(e) => ChatEvent::NotificationInvited(e),
        AnyEvent::NotificationInviteAccepted(e) => ChatEvent::NotificationInviteAccepted(e),
        AnyEvent::NotificationInviteRejected(e) => ChatEvent::NotificationInviteRejected(e),
        AnyEvent::NotificationMarkUnread(e) => ChatEvent::NotificationMarkUnread(e),
        AnyEvent::NotificationMutesUpdated(e) => ChatEvent::NotificationMutesUpdated(e),
        AnyEvent::NotificationChannelMutesUpdated(e) => {
            ChatEvent::NotificationChannelMutesUpdated(e)
        }
        AnyEvent::UserBanned(e) => ChatEvent::UserBanned(e),
        AnyEvent::UserUnbanned(e) => ChatEvent::UserUnbanned(e),
        AnyEvent::UserPresenceChanged(e) => ChatEvent::UserPresenceChanged(e),
        AnyEvent::UserUpdated(e) => ChatEvent::UserUpdated(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn frame(v: Value) -> ChatEvent {
        from_server(AnyEvent::from_json(&v.to_string()).unwrap())
    }

    #[test]
    fn frames_map_to_typed_events_and_keep_the_rest() {
        let e = frame(
            json!({"type":"message.new","cid":"messaging:g","message":{"id":"m1","text":"hi"},
            "user":{"id":"a"},"watcher_count":2,"channel_member_count":3,"thread_participants":[]}),
        );
        let ChatEvent::MessageNew(m) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(
            (m.channel_type.as_str(), m.channel_id.as_str()),
            ("messaging", "g")
        );
        assert_eq!(
            (m.message.id.as_str(), m.watcher_count, m.recovered),
            ("m1", Some(2), false)
        );
        assert_eq!(m.channel_member_count, Some(3));
        assert_eq!(m.extra["thread_participants"], json!([]));
        assert_eq!(e.cid(), Some("messaging:g"));

        let e = frame(
            json!({"type":"message.read","cid":"messaging:g","user":{"id":"a"},"last_read_message_id":"m1"}),
        );
        assert!(
            matches!(&e, ChatEvent::MessageRead(r) if r.last_read_message_id.as_deref() == Some("m1"))
        );
        let e = frame(json!({"type":"user.watching.stop","cid":"livestream:x","watcher_count":0}));
        assert!(matches!(&e, ChatEvent::UserWatchingStop(w) if w.watcher_count == Some(0)));
        let e = frame(
            json!({"type":"notification.message_new","cid":"messaging:g",
            "channel":{"id":"g","type":"messaging","cid":"messaging:g"},"message":{"id":"m2"},"total_unread_count":4}),
        );
        assert!(
            matches!(&e, ChatEvent::NotificationMessageNew(n) if n.total_unread_count == Some(4) && n.channel.is_some())
        );
        // A notification without a struct of its own stays a Notification.
        let e = frame(json!({"type":"notification.reminder_due","cid":"messaging:g"}));
        assert!(matches!(&e, ChatEvent::Notification(n) if n.kind == "notification.reminder_due"));
        assert_eq!(e.kind(), "notification.reminder_due");
        let e = frame(json!({"type":"notification.invited","cid":"messaging:g"}));
        assert!(matches!(&e, ChatEvent::NotificationInvited(n) if n.cid == "messaging:g"));
        assert_eq!(
            (e.kind(), e.cid()),
            ("notification.invited", Some("messaging:g"))
        );
        let e = frame(json!({"type":"user.banned","user":{"id":"b"}}));
        assert!(matches!(&e, ChatEvent::UserBanned(b) if b.cid.is_none()));
        assert_eq!(e.cid(), None, "an app-wide ban belongs to no channel");
        // A message.new without a message is not typed; nothing is lost.
        let e = frame(json!({"type":"message.new","cid":"messaging:g","x":1}));
        assert!(matches!(&e, ChatEvent::Other(o) if o.extra["x"] == 1));
        let e = frame(json!({"type":"typing.start","cid":"messaging:g","parent_id":"p"}));
        assert!(matches!(&e, ChatEvent::TypingStart(t) if t.parent_id.as_deref() == Some("p")));
        assert_eq!((e.kind(), e.cid()), ("typing.start", Some("messaging:g")));
        let e = frame(json!({"type":"friendship_request","cid":"messaging:g"}));
        assert!(matches!(&e, ChatEvent::Other(_)));
        assert_eq!(e.cid(), Some("messaging:g"));
        let e = frame(
            json!({"type":"connection.error","connection_id":"","error":{"code":43,"message":"bad","StatusCode":401}}),
        );
        assert!(
            matches!(&e, ChatEvent::ConnectionError { error } if error.is_auth_error() && error.stream_code() == Some(43))
        );
    }
}
