//! Channel administration events: `channel.updated`, `channel.deleted`,
//! `channel.truncated`, `channel.hidden`, `channel.visible`, and the `notification.*`
//! forms members who do not watch the channel get.
//!
//! A channel carried in a broadcast event has no `own_capabilities`: the JS client keeps
//! its own when an event leaves them out, and one watcher's capabilities are not
//! another's.

use serde_json::{Map, Value};

use crate::{Channel, Message, User};

wire_event! {
    /// `channel.updated`: the channel's data changed (full update, partial update, slow
    /// mode, freeze). `channel` is the whole channel: the JS client replaces its data with it.
    ///
    /// ```
    /// use stream_chat_protocol::events::ChannelUpdatedEvent;
    /// let e: ChannelUpdatedEvent = serde_json::from_str(
    ///     r#"{"type":"channel.updated","cid":"messaging:g","channel":{"id":"g","type":"messaging","cid":"messaging:g","name":"G"},"user":{"id":"a"}}"#,
    /// ).unwrap();
    /// assert_eq!(e.channel.unwrap().extra["name"], "G");
    /// ```
    pub struct ChannelUpdatedEvent = "channel.updated", channel {
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
        /// Who changed it (absent for server-side updates without a user).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<User>,
        /// The channel as it is now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<Channel>,
        /// The system message posted with the update, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub message: Option<Message>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

wire_event! {
    /// `channel.deleted`: to the watchers, the channel was deleted.
    ///
    /// ```
    /// use stream_chat_protocol::events::ChannelDeletedEvent;
    /// let e: ChannelDeletedEvent = serde_json::from_str(
    ///     r#"{"type":"channel.deleted","cid":"messaging:g","channel":{"id":"g","type":"messaging","cid":"messaging:g","deleted_at":"2025-01-01T00:00:00Z"}}"#,
    /// ).unwrap();
    /// assert!(e.channel.unwrap().deleted_at.is_some());
    /// ```
    pub struct ChannelDeletedEvent = "channel.deleted", channel {
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
        /// The channel, with `deleted_at`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<Channel>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

wire_event! {
    /// `notification.channel_deleted`: to members who do not watch the channel, it was
    /// deleted; with the recipient's unread counts.
    ///
    /// ```
    /// use stream_chat_protocol::events::NotificationChannelDeletedEvent;
    /// let e: NotificationChannelDeletedEvent = serde_json::from_str(
    ///     r#"{"type":"notification.channel_deleted","cid":"messaging:g","total_unread_count":0,"unread_channels":0}"#,
    /// ).unwrap();
    /// assert_eq!(e.unread_channels, Some(0));
    /// ```
    pub struct NotificationChannelDeletedEvent = "notification.channel_deleted", channel {
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
        /// The channel, with `deleted_at`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<Channel>,
        /// The recipient's unread messages over all channels.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub total_unread_count: Option<u64>,
        /// The recipient's channels with unread messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_channels: Option<u64>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

wire_event! {
    /// `channel.truncated`: to the watchers, messages older than `channel.truncated_at`
    /// were removed; `message` is the system message posted after, if any.
    ///
    /// ```
    /// use stream_chat_protocol::events::ChannelTruncatedEvent;
    /// let e: ChannelTruncatedEvent = serde_json::from_str(
    ///     r#"{"type":"channel.truncated","cid":"messaging:g","channel":{"id":"g","type":"messaging","cid":"messaging:g","truncated_at":"2025-01-01T00:00:00Z"}}"#,
    /// ).unwrap();
    /// assert!(e.channel.unwrap().truncated_at.is_some());
    /// ```
    pub struct ChannelTruncatedEvent = "channel.truncated", channel {
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
        /// Who truncated it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<User>,
        /// The channel, with `truncated_at`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<Channel>,
        /// The system message posted after the truncation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub message: Option<Message>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

wire_event! {
    /// `notification.channel_truncated`: to members who do not watch the channel, it was
    /// truncated; with the recipient's unread counts.
    ///
    /// ```
    /// use stream_chat_protocol::events::NotificationChannelTruncatedEvent;
    /// let e: NotificationChannelTruncatedEvent = serde_json::from_str(
    ///     r#"{"type":"notification.channel_truncated","cid":"messaging:g","total_unread_count":1,"unread_channels":1}"#,
    /// ).unwrap();
    /// assert_eq!(e.total_unread_count, Some(1));
    /// ```
    pub struct NotificationChannelTruncatedEvent = "notification.channel_truncated", channel {
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
        /// The channel, with `truncated_at`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<Channel>,
        /// The recipient's unread messages over all channels.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub total_unread_count: Option<u64>,
        /// The recipient's channels with unread messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_channels: Option<u64>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

wire_event! {
    /// `channel.hidden`: to the user's own connections, they hid the channel (with
    /// `clear_history` when its messages were cleared for them too).
    ///
    /// ```
    /// use stream_chat_protocol::events::ChannelHiddenEvent;
    /// let e: ChannelHiddenEvent = serde_json::from_str(
    ///     r#"{"type":"channel.hidden","cid":"messaging:g","user":{"id":"a"},"clear_history":true}"#,
    /// ).unwrap();
    /// assert!(e.clear_history);
    /// assert_eq!(serde_json::to_value(&e).unwrap()["clear_history"], true);
    /// ```
    pub struct ChannelHiddenEvent = "channel.hidden", channel {
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
        /// Who hid it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<User>,
        /// The channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<Channel>,
        /// Whether the messages were cleared for the user too (always written: Android
        /// requires it).
        #[serde(default)]
        pub clear_history: bool,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

wire_event! {
    /// `channel.visible`: to the user's own connections, a hidden channel is shown again
    /// (`show`, or a new message).
    ///
    /// ```
    /// use stream_chat_protocol::events::ChannelVisibleEvent;
    /// let e: ChannelVisibleEvent = serde_json::from_str(
    ///     r#"{"type":"channel.visible","cid":"messaging:g","user":{"id":"a"}}"#,
    /// ).unwrap();
    /// assert_eq!(e.user.unwrap().id, "a");
    /// ```
    pub struct ChannelVisibleEvent = "channel.visible", channel {
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
        /// Whose channel became visible.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<User>,
        /// The channel.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<Channel>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}
