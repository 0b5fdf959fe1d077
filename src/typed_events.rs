//! Typed server events (`message.new`, `message.read`, `user.watching.*`, notifications,
//! `connection.recovered`) and the [`EventKind`] trait behind
//! [`ChatClient::subscribe_for_type`](crate::ChatClient::subscribe_for_type).

use serde_json::{Map, Value};
use stream_chat_callbacks::ChatError;
use stream_chat_protocol::{Channel, Event, Member, Message, User};

use crate::events::{ChatEvent, ConnectionState, event_types};

/// A typed event that [`ChatClient::subscribe_for_type`](crate::ChatClient::subscribe_for_type)
/// can deliver: its event type and how to get it out of a [`ChatEvent`] (Kotlin's
/// `subscribeFor<NewMessageEvent>`).
///
/// ```
/// use stream_chat_client::{ChatEvent, Event, EventKind, Message, NewMessageEvent};
///
/// let mut frame = Event::new("message.new");
/// frame.cid = Some("livestream:demo".into());
/// frame.message = Some(Message { id: "m1".into(), ..Message::text("hi") });
/// let event = ChatEvent::from(frame);
/// let typed = NewMessageEvent::from_chat_event(&event).unwrap();
/// assert_eq!((NewMessageEvent::TYPE, typed.channel_id.as_str()), ("message.new", "demo"));
/// ```
pub trait EventKind: Clone + Send + Sync + 'static {
    /// The event type this struct stands for, e.g. `"message.new"`.
    const TYPE: &'static str;

    /// The typed event when `event` is one, `None` otherwise.
    fn from_chat_event(event: &ChatEvent) -> Option<Self>;
}

macro_rules! tuple_kind {
    ($ty:ident, $variant:ident, $name:expr) => {
        impl EventKind for $ty {
            const TYPE: &'static str = $name;

            fn from_chat_event(event: &ChatEvent) -> Option<Self> {
                match event {
                    ChatEvent::$variant(e) => Some((**e).clone()),
                    _ => None,
                }
            }
        }
    };
}

/// `message.new`: a message in a watched channel. Also delivered by state recovery for
/// messages that arrived while the socket was down (then `recovered` is true).
///
/// ```
/// use stream_chat_client::{ChatClient, NewMessageEvent};
/// # let client = ChatClient::builder("key").build().unwrap();
/// let _s = client.subscribe_for_type::<NewMessageEvent>(|e| {
///     println!("{}: {}", e.cid, e.message.text.as_deref().unwrap_or(""));
/// });
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NewMessageEvent {
    /// `<type>:<id>` of the channel.
    pub cid: String,
    /// The channel type.
    pub channel_type: String,
    /// The channel id.
    pub channel_id: String,
    /// The new message.
    pub message: Message,
    /// The author.
    pub user: Option<User>,
    /// Watchers of the channel when the event was sent.
    pub watcher_count: Option<u64>,
    /// When it happened (RFC 3339).
    pub created_at: Option<String>,
    /// True when the client fetched it after a reconnect rather than receiving it live.
    pub recovered: bool,
    /// Fields not modelled above (`channel_member_count`, unread counts, ...).
    pub extra: Map<String, Value>,
}
tuple_kind!(NewMessageEvent, MessageNew, event_types::MESSAGE_NEW);

/// `message.updated`: a message was edited.
///
/// ```
/// use stream_chat_client::{EventKind, MessageUpdatedEvent};
/// assert_eq!(MessageUpdatedEvent::TYPE, "message.updated");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MessageUpdatedEvent {
    /// `<type>:<id>` of the channel.
    pub cid: String,
    /// The channel type.
    pub channel_type: String,
    /// The channel id.
    pub channel_id: String,
    /// The message as it is now.
    pub message: Message,
    /// Who edited it.
    pub user: Option<User>,
    /// When it happened (RFC 3339).
    pub created_at: Option<String>,
    /// Fields not modelled above.
    pub extra: Map<String, Value>,
}
tuple_kind!(
    MessageUpdatedEvent,
    MessageUpdated,
    event_types::MESSAGE_UPDATED
);

/// `message.deleted`: a message was deleted (`hard_delete` when it is gone for good).
///
/// ```
/// use stream_chat_client::{EventKind, MessageDeletedEvent};
/// assert_eq!(MessageDeletedEvent::TYPE, "message.deleted");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MessageDeletedEvent {
    /// `<type>:<id>` of the channel.
    pub cid: String,
    /// The channel type.
    pub channel_type: String,
    /// The channel id.
    pub channel_id: String,
    /// The deleted message.
    pub message: Message,
    /// Who deleted it.
    pub user: Option<User>,
    /// Whether it was hard-deleted.
    pub hard_delete: bool,
    /// When it happened (RFC 3339).
    pub created_at: Option<String>,
    /// Fields not modelled above.
    pub extra: Map<String, Value>,
}
tuple_kind!(
    MessageDeletedEvent,
    MessageDeleted,
    event_types::MESSAGE_DELETED
);

/// `message.read`: a user marked a channel read.
///
/// ```
/// use stream_chat_client::{EventKind, MessageReadEvent};
/// assert_eq!(MessageReadEvent::TYPE, "message.read");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MessageReadEvent {
    /// `<type>:<id>` of the channel.
    pub cid: String,
    /// The channel type.
    pub channel_type: String,
    /// The channel id.
    pub channel_id: String,
    /// The reader.
    pub user: Option<User>,
    /// The last message read, when the server says.
    pub last_read_message_id: Option<String>,
    /// When it happened (RFC 3339).
    pub created_at: Option<String>,
    /// Fields not modelled above.
    pub extra: Map<String, Value>,
}
tuple_kind!(MessageReadEvent, MessageRead, event_types::MESSAGE_READ);

/// `user.watching.start`: a user started watching a channel.
///
/// ```
/// use stream_chat_client::{EventKind, UserStartWatchingEvent};
/// assert_eq!(UserStartWatchingEvent::TYPE, "user.watching.start");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct UserStartWatchingEvent {
    /// `<type>:<id>` of the channel.
    pub cid: String,
    /// The channel type.
    pub channel_type: String,
    /// The channel id.
    pub channel_id: String,
    /// The watcher.
    pub user: Option<User>,
    /// Watchers of the channel now.
    pub watcher_count: Option<u64>,
    /// When it happened (RFC 3339).
    pub created_at: Option<String>,
    /// Fields not modelled above.
    pub extra: Map<String, Value>,
}
tuple_kind!(
    UserStartWatchingEvent,
    UserWatchingStart,
    event_types::USER_WATCHING_START
);

/// `user.watching.stop`: a user stopped watching a channel.
///
/// ```
/// use stream_chat_client::{EventKind, UserStopWatchingEvent};
/// assert_eq!(UserStopWatchingEvent::TYPE, "user.watching.stop");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct UserStopWatchingEvent {
    /// `<type>:<id>` of the channel.
    pub cid: String,
    /// The channel type.
    pub channel_type: String,
    /// The channel id.
    pub channel_id: String,
    /// The former watcher.
    pub user: Option<User>,
    /// Watchers of the channel now.
    pub watcher_count: Option<u64>,
    /// When it happened (RFC 3339).
    pub created_at: Option<String>,
    /// Fields not modelled above.
    pub extra: Map<String, Value>,
}
tuple_kind!(
    UserStopWatchingEvent,
    UserWatchingStop,
    event_types::USER_WATCHING_STOP
);

/// `notification.message_new`: a message in a channel the user is a member of but does
/// not watch.
///
/// ```
/// use stream_chat_client::{EventKind, NotificationMessageNewEvent};
/// assert_eq!(NotificationMessageNewEvent::TYPE, "notification.message_new");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NotificationMessageNewEvent {
    /// `<type>:<id>` of the channel.
    pub cid: String,
    /// The channel type.
    pub channel_type: String,
    /// The channel id.
    pub channel_id: String,
    /// The channel, as the recipient sees it.
    pub channel: Option<Channel>,
    /// The new message.
    pub message: Message,
    /// The recipient's unread messages over all channels.
    pub total_unread_count: Option<u64>,
    /// The recipient's channels with unread messages.
    pub unread_channels: Option<u64>,
    /// When it happened (RFC 3339).
    pub created_at: Option<String>,
    /// Fields not modelled above.
    pub extra: Map<String, Value>,
}
tuple_kind!(
    NotificationMessageNewEvent,
    NotificationMessageNew,
    event_types::NOTIFICATION_MESSAGE_NEW
);

/// `notification.mark_read`: the user marked a channel (or all) read on some connection.
///
/// ```
/// use stream_chat_client::{EventKind, NotificationMarkReadEvent};
/// assert_eq!(NotificationMarkReadEvent::TYPE, "notification.mark_read");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NotificationMarkReadEvent {
    /// The channel, when one channel was marked read.
    pub cid: Option<String>,
    /// The user.
    pub user: Option<User>,
    /// Unread messages over all channels.
    pub total_unread_count: Option<u64>,
    /// Channels with unread messages.
    pub unread_channels: Option<u64>,
    /// When it happened (RFC 3339).
    pub created_at: Option<String>,
    /// Fields not modelled above.
    pub extra: Map<String, Value>,
}
tuple_kind!(
    NotificationMarkReadEvent,
    NotificationMarkRead,
    event_types::NOTIFICATION_MARK_READ
);

/// `notification.added_to_channel`: the user became a member of a channel.
///
/// ```
/// use stream_chat_client::{EventKind, NotificationAddedToChannelEvent};
/// assert_eq!(NotificationAddedToChannelEvent::TYPE, "notification.added_to_channel");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct NotificationAddedToChannelEvent {
    /// `<type>:<id>` of the channel.
    pub cid: String,
    /// The channel type.
    pub channel_type: String,
    /// The channel id.
    pub channel_id: String,
    /// The channel.
    pub channel: Option<Channel>,
    /// The new membership.
    pub member: Option<Member>,
    /// When it happened (RFC 3339).
    pub created_at: Option<String>,
    /// Fields not modelled above.
    pub extra: Map<String, Value>,
}
tuple_kind!(
    NotificationAddedToChannelEvent,
    NotificationAddedToChannel,
    event_types::NOTIFICATION_ADDED_TO_CHANNEL
);

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
tuple_kind!(
    ConnectionRecoveredEvent,
    ConnectionRecovered,
    event_types::CONNECTION_RECOVERED
);

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
    const TYPE: &'static str = event_types::CONNECTION_CHANGED;

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

/// `health.check` as a typed event (mirrors [`ChatEvent::HealthCheck`]).
///
/// ```
/// use stream_chat_client::{EventKind, HealthCheckEvent};
/// assert_eq!(HealthCheckEvent::TYPE, "health.check");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct HealthCheckEvent {
    /// The connection it belongs to.
    pub connection_id: String,
    /// The server's timestamp (RFC 3339).
    pub created_at: Option<String>,
    /// The connected user, on the first health check of a connection.
    pub me: Option<Box<User>>,
}

impl EventKind for HealthCheckEvent {
    const TYPE: &'static str = event_types::HEALTH_CHECK;

    fn from_chat_event(event: &ChatEvent) -> Option<Self> {
        match event {
            ChatEvent::HealthCheck {
                connection_id,
                created_at,
                me,
            } => Some(HealthCheckEvent {
                connection_id: connection_id.clone(),
                created_at: created_at.clone(),
                me: me.clone(),
            }),
            _ => None,
        }
    }
}

/// The channel fields of a frame: `cid`, and type and id (from the frame or the cid).
fn channel_of(event: &Event) -> Option<(String, String, String)> {
    let cid = event.cid.clone().filter(|c| c.contains(':'))?;
    let (t, i) = cid.split_once(':').unwrap_or_default();
    let ty = event.channel_type.clone().unwrap_or_else(|| t.to_owned());
    let id = event.channel_id.clone().unwrap_or_else(|| i.to_owned());
    Some((cid, ty, id))
}

fn take_u64(extra: &mut Map<String, Value>, key: &str) -> Option<u64> {
    extra.remove(key).and_then(|v| v.as_u64())
}

fn take_string(extra: &mut Map<String, Value>, key: &str) -> Option<String> {
    extra
        .remove(key)
        .and_then(|v| v.as_str().map(str::to_owned))
}

fn take<T: serde::de::DeserializeOwned>(extra: &mut Map<String, Value>, key: &str) -> Option<T> {
    extra
        .remove(key)
        .and_then(|v| serde_json::from_value(v).ok())
}

/// Maps a decoded frame to its typed event; frames of a known type that lack what the type
/// needs (a `message.new` without a message) stay [`ChatEvent::Other`].
pub(crate) fn from_frame(event: Event) -> ChatEvent {
    let typed = match event.kind.as_str() {
        event_types::HEALTH_CHECK => Some(ChatEvent::HealthCheck {
            connection_id: event.connection_id.clone().unwrap_or_default(),
            created_at: event.created_at.clone(),
            me: event.me.clone().map(Box::new),
        }),
        event_types::CONNECTION_ERROR => event.error.as_ref().map(|e| ChatEvent::ConnectionError {
            error: crate::http::api_error(e, 0),
        }),
        _ => typed_channel_event(&event),
    };
    match typed {
        Some(e) => e,
        None if event.kind.starts_with("notification.") => ChatEvent::Notification(Box::new(event)),
        None => ChatEvent::Other(Box::new(event)),
    }
}

fn typed_channel_event(event: &Event) -> Option<ChatEvent> {
    let e = event.clone();
    let mut extra = e.extra;
    let created_at = e.created_at;
    let user = e.user;
    Some(match e.kind.as_str() {
        event_types::MESSAGE_NEW => {
            let (cid, channel_type, channel_id) = channel_of(event)?;
            ChatEvent::MessageNew(Box::new(NewMessageEvent {
                cid,
                channel_type,
                channel_id,
                message: e.message?,
                user,
                watcher_count: e.watcher_count,
                created_at,
                recovered: false,
                extra,
            }))
        }
        event_types::MESSAGE_UPDATED => {
            let (cid, channel_type, channel_id) = channel_of(event)?;
            ChatEvent::MessageUpdated(Box::new(MessageUpdatedEvent {
                cid,
                channel_type,
                channel_id,
                message: e.message?,
                user,
                created_at,
                extra,
            }))
        }
        event_types::MESSAGE_DELETED => {
            let (cid, channel_type, channel_id) = channel_of(event)?;
            let hard_delete = extra
                .remove("hard_delete")
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            ChatEvent::MessageDeleted(Box::new(MessageDeletedEvent {
                cid,
                channel_type,
                channel_id,
                message: e.message?,
                user,
                hard_delete,
                created_at,
                extra,
            }))
        }
        event_types::MESSAGE_READ => {
            let (cid, channel_type, channel_id) = channel_of(event)?;
            ChatEvent::MessageRead(Box::new(MessageReadEvent {
                cid,
                channel_type,
                channel_id,
                user,
                last_read_message_id: take_string(&mut extra, "last_read_message_id"),
                created_at,
                extra,
            }))
        }
        event_types::USER_WATCHING_START | event_types::USER_WATCHING_STOP => {
            let (cid, channel_type, channel_id) = channel_of(event)?;
            if e.kind == event_types::USER_WATCHING_START {
                ChatEvent::UserWatchingStart(Box::new(UserStartWatchingEvent {
                    cid,
                    channel_type,
                    channel_id,
                    user,
                    watcher_count: e.watcher_count,
                    created_at,
                    extra,
                }))
            } else {
                ChatEvent::UserWatchingStop(Box::new(UserStopWatchingEvent {
                    cid,
                    channel_type,
                    channel_id,
                    user,
                    watcher_count: e.watcher_count,
                    created_at,
                    extra,
                }))
            }
        }
        event_types::NOTIFICATION_MESSAGE_NEW => {
            let (cid, channel_type, channel_id) = channel_of(event)?;
            ChatEvent::NotificationMessageNew(Box::new(NotificationMessageNewEvent {
                cid,
                channel_type,
                channel_id,
                channel: take(&mut extra, "channel"),
                message: e.message?,
                total_unread_count: take_u64(&mut extra, "total_unread_count"),
                unread_channels: take_u64(&mut extra, "unread_channels"),
                created_at,
                extra,
            }))
        }
        event_types::NOTIFICATION_MARK_READ => {
            ChatEvent::NotificationMarkRead(Box::new(NotificationMarkReadEvent {
                cid: e.cid,
                user,
                total_unread_count: take_u64(&mut extra, "total_unread_count"),
                unread_channels: take_u64(&mut extra, "unread_channels"),
                created_at,
                extra,
            }))
        }
        event_types::NOTIFICATION_ADDED_TO_CHANNEL => {
            let (cid, channel_type, channel_id) = channel_of(event)?;
            ChatEvent::NotificationAddedToChannel(Box::new(NotificationAddedToChannelEvent {
                cid,
                channel_type,
                channel_id,
                channel: take(&mut extra, "channel"),
                member: take(&mut extra, "member"),
                created_at,
                extra,
            }))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frame(v: Value) -> ChatEvent {
        from_frame(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn frames_map_to_typed_events_and_keep_the_rest() {
        let e = frame(
            json!({"type":"message.new","cid":"messaging:g","message":{"id":"m1","text":"hi"},
            "user":{"id":"a"},"watcher_count":2,"channel_member_count":3}),
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
        assert_eq!(m.extra["channel_member_count"], 3);
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
    }
}
