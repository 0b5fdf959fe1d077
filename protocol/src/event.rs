//! WebSocket events (`health.check`, `message.new`, `connection.error`, ...).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{ApiErrorBody, Message, User};

/// Event type names used by the server and the clients.
pub mod types {
    /// Keep-alive; the first one of a connection carries `me`.
    pub const HEALTH_CHECK: &str = "health.check";
    /// Connection-level error (auth failures), followed by a close.
    pub const CONNECTION_ERROR: &str = "connection.error";
    /// A new message in a watched channel.
    pub const MESSAGE_NEW: &str = "message.new";
    /// A new message in a channel the user is a member of but does not watch.
    pub const NOTIFICATION_MESSAGE_NEW: &str = "notification.message_new";
    /// A message was edited.
    pub const MESSAGE_UPDATED: &str = "message.updated";
    /// A message was deleted (`hard_delete` says how).
    pub const MESSAGE_DELETED: &str = "message.deleted";
    /// A user marked a channel read.
    pub const MESSAGE_READ: &str = "message.read";
    /// To the reader's own connections: a channel was marked read, with the new unread counts.
    pub const NOTIFICATION_MARK_READ: &str = "notification.mark_read";
    /// To a user's connections: they were added to a channel.
    pub const NOTIFICATION_ADDED_TO_CHANNEL: &str = "notification.added_to_channel";
    /// A connection started watching a channel.
    pub const USER_WATCHING_START: &str = "user.watching.start";
    /// A connection stopped watching a channel.
    pub const USER_WATCHING_STOP: &str = "user.watching.stop";
    /// A user's fields changed.
    pub const USER_UPDATED: &str = "user.updated";
    /// A user came online or went offline.
    pub const USER_PRESENCE_CHANGED: &str = "user.presence.changed";
    /// Typing started.
    pub const TYPING_START: &str = "typing.start";
    /// Typing stopped.
    pub const TYPING_STOP: &str = "typing.stop";
}

/// A WebSocket event: its `type`, the fields Stream commonly sends, and everything else in
/// `extra` (flattened), so unknown events round-trip unchanged.
///
/// ```
/// use stream_chat_protocol::Event;
///
/// let json = r#"{"type":"typing.start","cid":"messaging:general","parent_id":"p1"}"#;
/// let event: Event = serde_json::from_str(json).unwrap();
/// assert_eq!(event.kind, "typing.start");
/// assert_eq!(event.extra["parent_id"], "p1");
/// assert_eq!(serde_json::to_string(&event).unwrap(), json);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The event type, see [`types`].
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Channel id `<type>:<id>`, `"*"` on health checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    /// The connection the event belongs to (health checks, errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// When the event happened, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The own user, only on the first `health.check` of a connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub me: Option<User>,
    /// The user who caused the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The message concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// The error of a `connection.error` event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiErrorBody>,
    /// Number of connections watching the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watcher_count: Option<u64>,
    /// Channel id without the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// Channel type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_type: Option<String>,
    /// All other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Event {
    /// An event of type `kind` with no other fields.
    ///
    /// ```
    /// assert_eq!(stream_chat_protocol::Event::new("health.check").kind, "health.check");
    /// ```
    pub fn new(kind: impl Into<String>) -> Self {
        Event {
            kind: kind.into(),
            ..Event::default()
        }
    }

    /// A `health.check` for `connection_id`: `cid` `"*"`, no `me`.
    ///
    /// ```
    /// let e = stream_chat_protocol::Event::health_check("c1", "2025-01-01T00:00:00Z");
    /// assert_eq!(e.cid.as_deref(), Some("*"));
    /// assert!(e.me.is_none());
    /// ```
    pub fn health_check(connection_id: impl Into<String>, created_at: impl Into<String>) -> Self {
        Event {
            cid: Some("*".to_owned()),
            connection_id: Some(connection_id.into()),
            created_at: Some(created_at.into()),
            ..Event::new(types::HEALTH_CHECK)
        }
    }

    /// A `connection.error` frame carrying `error`, with `connection_id` `""`.
    ///
    /// ```
    /// use stream_chat_protocol::{ApiErrorBody, Event};
    /// let e = Event::connection_error(ApiErrorBody::new(40, "expired"), "2025-01-01T00:00:00Z");
    /// assert_eq!(e.error.unwrap().code, 40);
    /// ```
    pub fn connection_error(error: ApiErrorBody, created_at: impl Into<String>) -> Self {
        Event {
            connection_id: Some(String::new()),
            created_at: Some(created_at.into()),
            error: Some(error),
            ..Event::new(types::CONNECTION_ERROR)
        }
    }

    /// Whether this is the connected event: a `health.check` carrying `me`.
    ///
    /// ```
    /// use stream_chat_protocol::{Event, User};
    /// let mut e = Event::health_check("c", "t");
    /// assert!(!e.is_connected_event());
    /// e.me = Some(User::new("a"));
    /// assert!(e.is_connected_event());
    /// ```
    pub fn is_connected_event(&self) -> bool {
        self.kind == types::HEALTH_CHECK && self.me.is_some()
    }
}
