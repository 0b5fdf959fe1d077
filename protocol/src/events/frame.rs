//! The generic event frame: any type, the fields most events share, the rest in `extra`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ChannelEvent, types};
use crate::{ApiErrorBody, Message, User};

/// A WebSocket event of any type: its `type`, the fields Stream commonly sends, and
/// everything else in `extra` (flattened), so unknown events round-trip unchanged. Events
/// of the types in [`AnyEvent`](super::AnyEvent) have structs of their own; this frame
/// carries the others (`typing.start`, custom events, ...).
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

    /// Whether this is the connected event: a `health.check` carrying `me`.
    ///
    /// ```
    /// use stream_chat_protocol::{Event, User};
    /// let mut e = Event::new("health.check");
    /// assert!(!e.is_connected_event());
    /// e.me = Some(User::new("a"));
    /// assert!(e.is_connected_event());
    /// ```
    pub fn is_connected_event(&self) -> bool {
        self.kind == types::HEALTH_CHECK && self.me.is_some()
    }
}

impl ChannelEvent for Event {
    /// An event of no type yet (set [`kind`](Event::kind)) about `cid`.
    fn for_channel(cid: &str, created_at: Option<String>) -> Self {
        let (channel_type, channel_id) = crate::cid::split(cid).unwrap_or_default();
        Event {
            cid: Some(cid.to_owned()),
            channel_type: Some(channel_type.to_owned()),
            channel_id: Some(channel_id.to_owned()),
            created_at,
            ..Event::default()
        }
    }

    fn cid(&self) -> Option<&str> {
        self.cid.as_deref()
    }
}
