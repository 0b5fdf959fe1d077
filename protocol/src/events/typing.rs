//! Typing events of a watched channel: `typing.start` and `typing.stop`, sent by a client
//! through the channel's event endpoint and relayed to the watchers (the sender's own
//! connections included), with `parent_id` when the typing happens in a thread.

use serde_json::{Map, Value};

use crate::{SendEventRequest, User};

/// Writes the two typing events, whose bodies are the same.
macro_rules! typing_event {
    ($(#[$meta:meta])* $ty:ident = $name:literal) => {
        wire_event! {
            $(#[$meta])*
            pub struct $ty = $name, channel {
                /// `<type>:<id>` of the channel.
                pub cid: String,
                /// The channel type.
                #[serde(default)]
                pub channel_type: String,
                /// The channel id.
                #[serde(default)]
                pub channel_id: String,
                /// When it happened (RFC 3339).
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub created_at: Option<String>,
                /// Who is typing.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub user: Option<User>,
                /// The thread's parent message, when typing in a thread.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub parent_id: Option<String>,
                /// Fields not modelled above.
                #[serde(flatten)]
                pub extra: Map<String, Value>,
            }
        }
    };
}

typing_event! {
    /// `typing.start`: a user started typing (clients send it again every few seconds
    /// while typing goes on).
    ///
    /// ```
    /// use stream_chat_protocol::events::TypingStartEvent;
    /// let e: TypingStartEvent = serde_json::from_str(
    ///     r#"{"type":"typing.start","cid":"messaging:g","user":{"id":"a"},"parent_id":"p1"}"#,
    /// ).unwrap();
    /// assert_eq!((e.user.unwrap().id.as_str(), e.parent_id.as_deref()), ("a", Some("p1")));
    /// ```
    TypingStartEvent = "typing.start"
}

typing_event! {
    /// `typing.stop`: a user stopped typing.
    ///
    /// ```
    /// use stream_chat_protocol::events::TypingStopEvent;
    /// assert_eq!(TypingStopEvent::TYPE, "typing.stop");
    /// ```
    TypingStopEvent = "typing.stop"
}

impl SendEventRequest {
    /// A typing event of type `kind` (`typing.start` or `typing.stop`), with the thread's
    /// `parent_id` when typing in one.
    ///
    /// ```
    /// let r = stream_chat_protocol::SendEventRequest::typing("typing.start", Some("p1"));
    /// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"event":{"type":"typing.start","parent_id":"p1"}}"#);
    /// ```
    pub fn typing(kind: &str, parent_id: Option<&str>) -> Self {
        let mut event = super::Event::new(kind);
        if let Some(parent) = parent_id {
            event
                .extra
                .insert("parent_id".to_owned(), Value::String(parent.to_owned()));
        }
        SendEventRequest { event: Some(event) }
    }
}
