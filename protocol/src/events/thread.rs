//! Thread events: `notification.thread_message_new`, a reply in a thread the user takes
//! part in, sent to their connections that do not watch the channel.

use serde_json::{Map, Value};

use crate::{Channel, Message, User};

wire_event! {
    /// `notification.thread_message_new`: a reply in a thread the recipient takes part in,
    /// for their connections that do not watch the channel, with their thread unread counts.
    ///
    /// ```
    /// use stream_chat_protocol::events::NotificationThreadMessageNewEvent;
    /// let e: NotificationThreadMessageNewEvent = serde_json::from_str(
    ///     r#"{"type":"notification.thread_message_new","cid":"messaging:g","message":{"id":"r1","parent_id":"p1"},
    ///         "unread_threads":1,"unread_thread_messages":2}"#,
    /// ).unwrap();
    /// assert_eq!((e.message.parent_id.as_deref(), e.unread_threads), (Some("p1"), Some(1)));
    /// ```
    pub struct NotificationThreadMessageNewEvent = "notification.thread_message_new", channel {
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
        /// The reply's author.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<User>,
        /// The channel, as the recipient sees it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<Channel>,
        /// The reply.
        pub message: Message,
        /// Threads with unread replies, for the recipient.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_threads: Option<u64>,
        /// Unread replies over those threads.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_thread_messages: Option<u64>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}
