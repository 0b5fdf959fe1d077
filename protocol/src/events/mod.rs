//! WebSocket events as serde types: one struct per event a client types (`message.new`,
//! `health.check`, ...), the generic [`Event`] frame for every other type, and [`AnyEvent`],
//! the union tagged by `type` that decodes a frame straight into its struct.
//!
//! Each struct knows its type name ([`NewMessageEvent::TYPE`]; the full list of names is
//! [`types`]), writes it as `"type"` first when serialized, and keeps the fields it does
//! not model in a flattened `extra` map, so nothing a server sends is lost.
//!
//! ```
//! use stream_chat_protocol::events::{AnyEvent, NewMessageEvent};
//!
//! let frame = r#"{"type":"message.new","cid":"messaging:general","message":{"id":"m1","text":"hi"},"thread_participants":[]}"#;
//! let AnyEvent::MessageNew(event) = AnyEvent::from_json(frame).unwrap() else { panic!() };
//! assert_eq!((event.channel_type.as_str(), event.channel_id.as_str()), ("messaging", "general"));
//! assert_eq!(event.extra["thread_participants"], serde_json::json!([]));
//! assert_eq!(NewMessageEvent::TYPE, "message.new");
//! assert_eq!(serde_json::to_value(&event).unwrap()["type"], "message.new");
//! ```

use serde_json::{Map, Value};

/// Defines a typed event: the struct (serialized with `"type": $name` first), its `TYPE`
/// constant, and a `Deserialize` that drops the `type` key from `extra`, refuses a frame of
/// another type, and (for `channel` events) requires a `<type>:<id>` cid, filling
/// `channel_type`/`channel_id` from it when a frame leaves them out. The body is written
/// once; a private copy of it derives the field-by-field decoding.
macro_rules! wire_event {
    (
        $(#[$meta:meta])*
        pub struct $ty:ident = $name:literal $(, $channel:ident)? { $($body:tt)* }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
        #[serde(tag = "type", rename = $name)]
        pub struct $ty { $($body)* }

        impl $ty {
            #[doc = concat!("The event type, `\"", $name, "\"`.")]
            pub const TYPE: &'static str = $name;
        }

        const _: () = {
            type Target = $ty;

            #[derive(serde::Deserialize)]
            #[serde(remote = "Target")]
            #[allow(dead_code)]
            struct Wire { $($body)* }

            impl<'de> serde::Deserialize<'de> for $ty {
                fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    let mut event = Wire::deserialize(deserializer)?;
                    $crate::events::take_tag(&mut event.extra, $name)
                        .map_err(<D::Error as serde::de::Error>::custom)?;
                    $(wire_event!(@check $channel event, D);)?
                    Ok(event)
                }
            }
        };

        $(wire_event!(@impl $channel $ty);)?
    };
    (@check channel $event:ident, $d:ident) => {
        $crate::events::fill_channel(&$event.cid, &mut $event.channel_type, &mut $event.channel_id)
            .map_err(<$d::Error as serde::de::Error>::custom)?;
    };
    (@impl channel $ty:ident) => {
        impl $crate::events::ChannelEvent for $ty {
            fn for_channel(cid: &str, created_at: Option<String>) -> Self {
                let (channel_type, channel_id) = $crate::cid::split(cid).unwrap_or_default();
                $ty {
                    cid: cid.to_owned(),
                    channel_type: channel_type.to_owned(),
                    channel_id: channel_id.to_owned(),
                    created_at,
                    ..Self::default()
                }
            }

            fn cid(&self) -> Option<&str> {
                Some(&self.cid)
            }
        }
    };
}

mod any;
mod connection;
mod frame;
mod message;
mod notification;
pub mod types;
mod watching;
// Channel administration, members, read state, moderation, presence, user updates.
mod channel;
mod member;
mod moderation;
// Reactions, threads, typing (messages surface).
mod reaction;
mod thread;
mod typing;

pub use any::AnyEvent;
pub use connection::{ConnectionErrorEvent, HealthCheckEvent};
pub use frame::Event;
pub use message::{MessageDeletedEvent, MessageReadEvent, MessageUpdatedEvent, NewMessageEvent};
pub use notification::{
    NotificationAddedToChannelEvent, NotificationMarkReadEvent, NotificationMessageNewEvent,
};
pub use watching::{UserStartWatchingEvent, UserStopWatchingEvent};
// Channel administration, members, read state, moderation, presence, user updates.
pub use channel::{
    ChannelDeletedEvent, ChannelHiddenEvent, ChannelTruncatedEvent, ChannelUpdatedEvent,
    ChannelVisibleEvent, NotificationChannelDeletedEvent, NotificationChannelTruncatedEvent,
};
pub use member::{
    MemberAddedEvent, MemberRemovedEvent, MemberUpdatedEvent, NotificationInviteAcceptedEvent,
    NotificationInviteRejectedEvent, NotificationInvitedEvent, NotificationRemovedFromChannelEvent,
};
pub use moderation::{
    NotificationChannelMutesUpdatedEvent, NotificationMarkUnreadEvent,
    NotificationMutesUpdatedEvent, UserBannedEvent, UserPresenceChangedEvent, UserUnbannedEvent,
    UserUpdatedEvent,
};
// Reactions, threads, typing (messages surface).
pub use reaction::{ReactionDeletedEvent, ReactionNewEvent, ReactionUpdateEvent};
pub use thread::NotificationThreadMessageNewEvent;
pub use typing::{TypingStartEvent, TypingStopEvent};

/// An event about one channel: its `cid`, and a way for a server to start building one.
///
/// ```
/// use stream_chat_protocol::events::{ChannelEvent, MessageReadEvent};
///
/// let read = MessageReadEvent::for_channel("messaging:general", Some("2025-01-01T00:00:00Z".into()));
/// assert_eq!((read.channel_type.as_str(), read.channel_id.as_str()), ("messaging", "general"));
/// assert_eq!(read.cid(), Some("messaging:general"));
/// ```
pub trait ChannelEvent: Sized {
    /// An event about the channel `cid` (`<type>:<id>`) created at `created_at`, with the
    /// channel's type and id filled in and every other field empty.
    fn for_channel(cid: &str, created_at: Option<String>) -> Self;

    /// The channel the event is about, `<type>:<id>`.
    fn cid(&self) -> Option<&str>;
}

/// Removes the `type` key a flattened `extra` caught while decoding an event of type
/// `expected`; an error if the frame says it is of another type.
fn take_tag(extra: &mut Map<String, Value>, expected: &str) -> Result<(), String> {
    match extra.remove("type") {
        None => Ok(()),
        Some(Value::String(kind)) if kind == expected => Ok(()),
        Some(other) => Err(format!("a frame of type {other} is not a {expected} event")),
    }
}

/// A channel event's `cid` must be `<type>:<id>`; a missing (empty) `channel_type` or
/// `channel_id` is taken from it.
fn fill_channel(
    cid: &str,
    channel_type: &mut String,
    channel_id: &mut String,
) -> Result<(), String> {
    let (kind, id) =
        crate::cid::split(cid).ok_or_else(|| format!("cid '{cid}' is not <type>:<id>"))?;
    if channel_type.is_empty() {
        kind.clone_into(channel_type);
    }
    if channel_id.is_empty() {
        id.clone_into(channel_id);
    }
    Ok(())
}
