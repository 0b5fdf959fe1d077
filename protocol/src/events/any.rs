//! [`AnyEvent`]: a frame decoded into its typed struct, or kept whole as [`Event`].

use std::borrow::Cow;

use serde::de::{Deserializer, IgnoredAny};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    ConnectionErrorEvent, Event, HealthCheckEvent, MessageDeletedEvent, MessageReadEvent,
    MessageUpdatedEvent, NewMessageEvent, NotificationAddedToChannelEvent,
    NotificationMarkReadEvent, NotificationMessageNewEvent, UserStartWatchingEvent,
    UserStopWatchingEvent,
};
// Channel administration, members, read state, moderation, presence, user updates.
use super::{
    ChannelDeletedEvent, ChannelHiddenEvent, ChannelTruncatedEvent, ChannelUpdatedEvent,
    ChannelVisibleEvent, MemberAddedEvent, MemberRemovedEvent, MemberUpdatedEvent,
    NotificationChannelDeletedEvent, NotificationChannelMutesUpdatedEvent,
    NotificationChannelTruncatedEvent, NotificationInviteAcceptedEvent,
    NotificationInviteRejectedEvent, NotificationInvitedEvent, NotificationMarkUnreadEvent,
    NotificationMutesUpdatedEvent, NotificationRemovedFromChannelEvent, UserBannedEvent,
    UserPresenceChangedEvent, UserUnbannedEvent, UserUpdatedEvent,
};
// Reactions, threads, typing (messages surface).
use super::{
    NotificationThreadMessageNewEvent, ReactionDeletedEvent, ReactionNewEvent, ReactionUpdateEvent,
    TypingStartEvent, TypingStopEvent,
};
use crate::ApiErrorBody;

/// The union of the typed events, tagged by the frame's `type`, with [`AnyEvent::Other`]
/// for every other type. Each variant is boxed: the enum is two words, whatever the event.
/// It is exhaustive on purpose: a new typed event must be handled by every `match` in the
/// SDK and the server.
///
/// Decoding rules ([`from_json`](Self::from_json), [`from_value`](Self::from_value) and
/// `Deserialize` follow them alike):
/// - A frame of a typed event's type is decoded once, straight into its struct.
/// - A frame of a known type whose fields do not fit its struct (a `message.new` without
///   `message`, a cid that is not `<type>:<id>`, a count that is not a number) is not an
///   error and never a panic: it is [`Other`](Self::Other), the whole frame kept, as for
///   an unknown type.
/// - A frame carrying an `error` body is an error frame whatever its type (the JS and
///   Android clients treat it so): a `connection.error` as such, any other as
///   [`Other`](Self::Other) with [`error`](Self::error) set.
/// - Only a frame that is not a JSON object of events fields (or has a malformed error
///   body, user or message where the generic frame types them) fails to decode.
///
/// Serializing writes the struct (its `type` first) or the kept frame, so an unknown event
/// round-trips unchanged.
///
/// ```
/// use stream_chat_protocol::events::AnyEvent;
///
/// let typed = AnyEvent::from_json(r#"{"type":"user.watching.stop","cid":"livestream:x","watcher_count":0}"#).unwrap();
/// assert!(matches!(&typed, AnyEvent::UserWatchingStop(e) if e.watcher_count == Some(0)));
///
/// let raw = r#"{"type":"message.new","cid":"messaging:g","x":1}"#; // no message
/// let other = AnyEvent::from_json(raw).unwrap();
/// assert!(matches!(&other, AnyEvent::Other(e) if e.kind == "message.new"));
/// assert_eq!(serde_json::to_string(&other).unwrap(), raw);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum AnyEvent {
    /// `health.check`.
    HealthCheck(Box<HealthCheckEvent>),
    /// `connection.error`.
    ConnectionError(Box<ConnectionErrorEvent>),
    /// `message.new`.
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
    // Reactions, threads, typing (messages surface).
    /// `reaction.new`.
    ReactionNew(Box<ReactionNewEvent>),
    /// `reaction.updated`.
    ReactionUpdated(Box<ReactionUpdateEvent>),
    /// `reaction.deleted`.
    ReactionDeleted(Box<ReactionDeletedEvent>),
    /// `typing.start`.
    TypingStart(Box<TypingStartEvent>),
    /// `typing.stop`.
    TypingStop(Box<TypingStopEvent>),
    /// `notification.thread_message_new`.
    NotificationThreadMessageNew(Box<NotificationThreadMessageNewEvent>),
    /// Any other frame, or one of a typed event's type that does not fit its struct.
    Other(Box<Event>),
}

/// The variants with a struct: `(variant, struct)`. Writes the dispatch on `type`, the
/// accessors and the conversions once for all of them.
macro_rules! typed_variants {
    ($(($variant:ident, $ty:ident)),* $(,)?) => {
        impl AnyEvent {
            /// The event type: the struct's `TYPE`, or the frame's `type` for
            /// [`Other`](Self::Other).
            ///
            /// ```
            /// use stream_chat_protocol::events::{AnyEvent, HealthCheckEvent};
            /// assert_eq!(AnyEvent::from(HealthCheckEvent::new("c", "t")).kind(), "health.check");
            /// ```
            pub fn kind(&self) -> &str {
                match self {
                    $(AnyEvent::$variant(_) => $ty::TYPE,)*
                    AnyEvent::Other(e) => &e.kind,
                }
            }
        }

        /// Decodes `text` as the struct of type `kind`; `None` for a type without one.
        fn typed_from_str(kind: &str, text: &str) -> Option<Result<AnyEvent, serde_json::Error>> {
            Some(match kind {
                $($ty::TYPE => serde_json::from_str::<$ty>(text).map(|e| AnyEvent::$variant(Box::new(e))),)*
                _ => return None,
            })
        }

        /// Decodes `value` as the struct of type `kind`; `None` for a type without one.
        fn typed_from_value(kind: &str, value: &Value) -> Option<Result<AnyEvent, serde_json::Error>> {
            Some(match kind {
                $($ty::TYPE => $ty::deserialize(value).map(|e| AnyEvent::$variant(Box::new(e))),)*
                _ => return None,
            })
        }

        impl Serialize for AnyEvent {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(AnyEvent::$variant(e) => e.serialize(serializer),)*
                    AnyEvent::Other(e) => e.serialize(serializer),
                }
            }
        }

        $(
            impl From<$ty> for AnyEvent {
                fn from(event: $ty) -> Self {
                    AnyEvent::$variant(Box::new(event))
                }
            }
        )*
    };
}

typed_variants! {
    (HealthCheck, HealthCheckEvent),
    (ConnectionError, ConnectionErrorEvent),
    (MessageNew, NewMessageEvent),
    (MessageUpdated, MessageUpdatedEvent),
    (MessageDeleted, MessageDeletedEvent),
    (MessageRead, MessageReadEvent),
    (UserWatchingStart, UserStartWatchingEvent),
    (UserWatchingStop, UserStopWatchingEvent),
    (NotificationMessageNew, NotificationMessageNewEvent),
    (NotificationMarkRead, NotificationMarkReadEvent),
    (NotificationAddedToChannel, NotificationAddedToChannelEvent),
    // Channel administration, members, read state, moderation, presence, user updates.
    (ChannelUpdated, ChannelUpdatedEvent),
    (ChannelDeleted, ChannelDeletedEvent),
    (NotificationChannelDeleted, NotificationChannelDeletedEvent),
    (ChannelTruncated, ChannelTruncatedEvent),
    (NotificationChannelTruncated, NotificationChannelTruncatedEvent),
    (ChannelHidden, ChannelHiddenEvent),
    (ChannelVisible, ChannelVisibleEvent),
    (MemberAdded, MemberAddedEvent),
    (MemberUpdated, MemberUpdatedEvent),
    (MemberRemoved, MemberRemovedEvent),
    (NotificationRemovedFromChannel, NotificationRemovedFromChannelEvent),
    (NotificationInvited, NotificationInvitedEvent),
    (NotificationInviteAccepted, NotificationInviteAcceptedEvent),
    (NotificationInviteRejected, NotificationInviteRejectedEvent),
    (NotificationMarkUnread, NotificationMarkUnreadEvent),
    (NotificationMutesUpdated, NotificationMutesUpdatedEvent),
    (NotificationChannelMutesUpdated, NotificationChannelMutesUpdatedEvent),
    (UserBanned, UserBannedEvent),
    (UserUnbanned, UserUnbannedEvent),
    (UserPresenceChanged, UserPresenceChangedEvent),
    (UserUpdated, UserUpdatedEvent),
    // Reactions, threads, typing (messages surface).
    (ReactionNew, ReactionNewEvent),
    (ReactionUpdated, ReactionUpdateEvent),
    (ReactionDeleted, ReactionDeletedEvent),
    (TypingStart, TypingStartEvent),
    (TypingStop, TypingStopEvent),
    (NotificationThreadMessageNew, NotificationThreadMessageNewEvent),
}

/// What decides how a frame decodes: its `type`, and whether it carries an error. Reading it
/// skips every other value without building it.
#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    error: Option<IgnoredAny>,
}

/// Whether a frame of type `kind` should be decoded as its typed struct.
fn typed(kind: &str, has_error: bool) -> bool {
    !has_error || kind == ConnectionErrorEvent::TYPE
}

impl AnyEvent {
    /// Decodes a WebSocket text frame: a look at its `type` (skipping the other values),
    /// then one decode straight into the struct of that type (see the rules on
    /// [`AnyEvent`]). The error is the generic frame's, for text that is no event at all.
    ///
    /// ```
    /// use stream_chat_protocol::events::AnyEvent;
    /// let e = AnyEvent::from_json(r#"{"type":"health.check","connection_id":"c1","cid":"*"}"#).unwrap();
    /// assert!(matches!(e, AnyEvent::HealthCheck(h) if h.connection_id == "c1"));
    /// assert!(AnyEvent::from_json("[1]").is_err());
    /// ```
    pub fn from_json(text: &str) -> Result<AnyEvent, serde_json::Error> {
        if let Ok(peek) = serde_json::from_str::<Peek<'_>>(text) {
            let kind = peek.kind.as_deref().unwrap_or_default();
            if typed(kind, peek.error.is_some())
                && let Some(Ok(event)) = typed_from_str(kind, text)
            {
                return Ok(event);
            }
        }
        // The slow road, through a JSON value: a key written twice keeps its last value, as
        // JSON.parse and Go's decoder do (the typed structs refuse repeated keys, so such a
        // frame would otherwise fall to `Other` and type differently once re-encoded).
        AnyEvent::from_value(serde_json::from_str::<Value>(text)?)
    }

    /// Decodes an event held as a JSON value, by the same rules as
    /// [`from_json`](Self::from_json).
    ///
    /// ```
    /// use stream_chat_protocol::events::AnyEvent;
    /// let e = AnyEvent::from_value(serde_json::json!({"type": "typing.start", "cid": "team:a"})).unwrap();
    /// assert!(matches!(&e, AnyEvent::TypingStart(t) if t.channel_id == "a"));
    /// ```
    pub fn from_value(value: Value) -> Result<AnyEvent, serde_json::Error> {
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let has_error = value.get("error").is_some_and(|e| !e.is_null());
        if typed(kind, has_error)
            && let Some(Ok(event)) = typed_from_value(kind, &value)
        {
            return Ok(event);
        }
        Event::deserialize(value).map(|e| AnyEvent::Other(Box::new(e)))
    }

    /// Types a generic frame: the struct of its type when it fits, else the frame itself
    /// as [`Other`](Self::Other).
    ///
    /// ```
    /// use stream_chat_protocol::{Event, events::AnyEvent};
    /// let mut frame = Event::new("message.read");
    /// frame.cid = Some("team:a".into());
    /// assert!(matches!(AnyEvent::from_frame(frame), AnyEvent::MessageRead(r) if r.channel_id == "a"));
    /// ```
    pub fn from_frame(frame: Event) -> AnyEvent {
        match serde_json::to_value(&frame).map(AnyEvent::from_value) {
            Ok(Ok(event)) => event,
            _ => AnyEvent::Other(Box::new(frame)),
        }
    }

    /// The error body of an error frame: a `connection.error`'s, or one an
    /// [`Other`](Self::Other) frame carries.
    ///
    /// ```
    /// use stream_chat_protocol::events::AnyEvent;
    /// let e = AnyEvent::from_json(r#"{"type":"health.check","error":{"code":40,"message":"expired"}}"#).unwrap();
    /// assert_eq!(e.error().map(|e| e.code), Some(40));
    /// ```
    pub fn error(&self) -> Option<&ApiErrorBody> {
        match self {
            AnyEvent::ConnectionError(e) => Some(&e.error),
            AnyEvent::Other(e) => e.error.as_ref(),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for AnyEvent {
    /// Buffers the event as a JSON value, then decodes it by the rules on [`AnyEvent`]; for
    /// text, [`AnyEvent::from_json`] skips the buffer.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        AnyEvent::from_value(value).map_err(serde::de::Error::custom)
    }
}

impl From<Event> for AnyEvent {
    /// The frame as [`AnyEvent::Other`], as it is (see [`AnyEvent::from_frame`] to type it).
    fn from(frame: Event) -> Self {
        AnyEvent::Other(Box::new(frame))
    }
}
