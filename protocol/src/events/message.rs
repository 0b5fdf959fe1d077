//! Message events of a watched channel: `message.new`, `message.updated`,
//! `message.deleted`, `message.read`.

use serde_json::{Map, Value};

use crate::{Message, ThreadInfo, User};

wire_event! {
    /// `message.new`: a message in a watched channel, sent to every watcher (its author too).
    ///
    /// ```
    /// use stream_chat_protocol::events::{ChannelEvent, NewMessageEvent};
    /// use stream_chat_protocol::Message;
    ///
    /// let event = NewMessageEvent {
    ///     message: Message { id: "m1".into(), ..Message::with_text("hi") },
    ///     message_id: Some("m1".into()),
    ///     ..NewMessageEvent::for_channel("messaging:general", None)
    /// };
    /// let json = serde_json::to_value(&event).unwrap();
    /// assert_eq!(json["type"], "message.new");
    /// assert_eq!(json["channel_id"], "general");
    /// assert!(json.get("recovered").is_none(), "a client-side flag");
    /// ```
    pub struct NewMessageEvent = "message.new", channel {
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
        /// The author.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<User>,
        /// The new message.
        pub message: Message,
        /// The message's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub message_id: Option<String>,
        /// Watchers of the channel when the event was sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub watcher_count: Option<u64>,
        /// Members of the channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel_member_count: Option<u64>,
        /// The recipient's unread messages over all channels (a per-recipient field: set for
        /// the channel's members, absent for other watchers).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub total_unread_count: Option<u64>,
        /// The recipient's channels with unread messages (per recipient, as above).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_channels: Option<u64>,
        /// The recipient's unread messages (the legacy name of `total_unread_count`, which
        /// the JS client also keeps on its user).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_count: Option<u64>,
        /// Not on the wire: set by a client that rebuilt this event from a channel query
        /// after a reconnect (state recovery) instead of receiving it live.
        #[serde(skip)]
        pub recovered: bool,
        /// Fields not modelled above (`channel_custom`, ...).
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

wire_event! {
    /// `message.updated`: a message was edited.
    ///
    /// ```
    /// use stream_chat_protocol::events::MessageUpdatedEvent;
    /// let e: MessageUpdatedEvent = serde_json::from_str(
    ///     r#"{"type":"message.updated","cid":"team:a","message":{"id":"m1","text":"edited"}}"#,
    /// ).unwrap();
    /// assert_eq!((e.channel_type.as_str(), e.message.text.as_deref()), ("team", Some("edited")));
    /// ```
    pub struct MessageUpdatedEvent = "message.updated", channel {
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
        /// Who edited it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<User>,
        /// The message as it is now.
        pub message: Message,
        /// Watchers of the channel when the event was sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub watcher_count: Option<u64>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

wire_event! {
    /// `message.deleted`: a message was deleted (`hard_delete` when it is gone for good,
    /// otherwise it stays with type `deleted`).
    ///
    /// ```
    /// use stream_chat_protocol::events::MessageDeletedEvent;
    /// let e: MessageDeletedEvent = serde_json::from_str(
    ///     r#"{"type":"message.deleted","cid":"team:a","message":{"id":"m1"},"hard_delete":true}"#,
    /// ).unwrap();
    /// assert!(e.hard_delete);
    /// ```
    pub struct MessageDeletedEvent = "message.deleted", channel {
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
        /// Who deleted it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<User>,
        /// The deleted message.
        pub message: Message,
        /// Whether it was hard-deleted (`false` when the frame does not say).
        #[serde(default)]
        pub hard_delete: bool,
        /// Watchers of the channel when the event was sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub watcher_count: Option<u64>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

wire_event! {
    /// `message.read`: a user marked a channel read.
    ///
    /// ```
    /// use stream_chat_protocol::events::MessageReadEvent;
    /// let e: MessageReadEvent = serde_json::from_str(
    ///     r#"{"type":"message.read","cid":"team:a","user":{"id":"bender"},"last_read_message_id":"m1"}"#,
    /// ).unwrap();
    /// assert_eq!(e.last_read_message_id.as_deref(), Some("m1"));
    /// ```
    pub struct MessageReadEvent = "message.read", channel {
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
        /// The reader.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<User>,
        /// The last message read, when the server says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub last_read_message_id: Option<String>,
        /// Watchers of the channel when the event was sent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub watcher_count: Option<u64>,
        /// The thread read, when a thread (not the channel) was marked read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub thread: Option<ThreadInfo>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}
