//! Typed events: the server's events are the protocol crate's serde types (re-exported
//! here under the SDK's names); the SDK adds its local events (`connection.changed`,
//! `connection.recovered`) and the [`EventKind`] trait behind
//! [`ChatClient::subscribe_for_type`](crate::ChatClient::subscribe_for_type).

use stream_chat_callbacks::ChatError;
use stream_chat_protocol::events::{AnyEvent, types};

use crate::events::{ChatEvent, ConnectionState};

pub use stream_chat_protocol::events::{
    HealthCheckEvent, MessageDeletedEvent, MessageReadEvent, MessageUpdatedEvent, NewMessageEvent,
    NotificationAddedToChannelEvent, NotificationMarkReadEvent, NotificationMessageNewEvent,
    UserStartWatchingEvent, UserStopWatchingEvent,
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
/// frame.message = Some(Message { id: "m1".into(), ..Message::text("hi") });
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
}

/// Local `connection.recovered`: sent after every reconnect, once the channels the client
/// watched are watched again and the messages they missed were delivered as
/// [`NewMessageEvent`]s with `recovered: true` (see `docs/channels.md`, "Reconnects").
///
/// ```
/// use stream_chat_client::{ChatClient, ConnectionRecoveredEvent};
/// # let client = ChatClient::builder("key").build().unwrap();
/// let _s = client.subscribe_for_type::<ConnectionRecoveredEvent>(|e| {
///     for gap in &e.gaps {
///         eprintln!("{}: page back before {:?}", gap.cid, gap.before_message_id);
///     }
/// });
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionRecoveredEvent {
    /// The new connection.
    pub connection_id: String,
    /// Channels watched again.
    pub channels: Vec<String>,
    /// Missed messages delivered as [`NewMessageEvent`]s during this recovery.
    pub recovered_messages: usize,
    /// Channels whose missed messages may be incomplete.
    pub gaps: Vec<RecoveryGap>,
}

impl ConnectionRecoveredEvent {
    /// The event type, `"connection.recovered"` (local: never sent by a server).
    pub const TYPE: &'static str = types::CONNECTION_RECOVERED;
}

/// A channel whose missed messages were not all delivered after a reconnect: more than the
/// recovery bound were missed, or re-watching it failed.
///
/// ```
/// use stream_chat_client::RecoveryGap;
/// let gap = RecoveryGap { cid: "livestream:demo".into(), before_message_id: Some("m9".into()), error: None };
/// assert!(gap.error.is_none());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RecoveryGap {
    /// The channel.
    pub cid: String,
    /// Older missed messages may precede this (the oldest recovered) message: page back
    /// with `messages.id_lt` set to it.
    pub before_message_id: Option<String>,
    /// Why the channel could not be recovered, if it failed.
    pub error: Option<ChatError>,
}

/// Local `connection.changed` as a typed event (mirrors [`ChatEvent::ConnectionChanged`]).
///
/// ```
/// use stream_chat_client::{ChatClient, ConnectionChangedEvent};
/// # let client = ChatClient::builder("key").build().unwrap();
/// let _s = client.subscribe_for_type::<ConnectionChangedEvent>(|e| println!("{}", e.state));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionChangedEvent {
    /// The new state.
    pub state: ConnectionState,
    /// The cause, for changes caused by a failure.
    pub error: Option<ChatError>,
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
            error: crate::http::api_error(&e.error, 0),
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
        AnyEvent::Other(e) if types::is_notification(&e.kind) => ChatEvent::Notification(e),
        AnyEvent::Other(e) => ChatEvent::Other(e),
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
        let e = frame(json!({"type":"notification.invited","cid":"messaging:g"}));
        assert!(matches!(&e, ChatEvent::Notification(n) if n.kind == "notification.invited"));
        assert_eq!(e.kind(), "notification.invited");
        // A message.new without a message is not typed; nothing is lost.
        let e = frame(json!({"type":"message.new","cid":"messaging:g","x":1}));
        assert!(matches!(&e, ChatEvent::Other(o) if o.extra["x"] == 1));
        let e = frame(json!({"type":"typing.start","cid":"messaging:g"}));
        assert!(matches!(&e, ChatEvent::Other(_)));
        assert_eq!(e.cid(), Some("messaging:g"));
        let e = frame(
            json!({"type":"connection.error","connection_id":"","error":{"code":43,"message":"bad","StatusCode":401}}),
        );
        assert!(
            matches!(&e, ChatEvent::ConnectionError { error } if error.is_auth_error() && error.stream_code() == Some(43))
        );
    }

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
