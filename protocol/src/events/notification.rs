//! `notification.*` events: sent to a user's connections whether or not they watch the
//! channel concerned.

use serde_json::{Map, Value};

use super::ChannelEvent;
use crate::{Channel, Member, Message, ThreadInfo, User};

wire_event! {
    /// `notification.message_new`: a message in a channel the user is a member of but does
    /// not watch, with the recipient's unread counts.
    ///
    /// ```
    /// use stream_chat_protocol::events::NotificationMessageNewEvent;
    /// let e: NotificationMessageNewEvent = serde_json::from_str(
    ///     r#"{"type":"notification.message_new","cid":"messaging:g","channel":{"id":"g","type":"messaging","cid":"messaging:g"},
    ///         "message":{"id":"m2"},"total_unread_count":4,"unread_channels":1}"#,
    /// ).unwrap();
    /// assert_eq!((e.total_unread_count, e.channel.unwrap().id.as_str()), (Some(4), "g"));
    /// ```
    pub struct NotificationMessageNewEvent = "notification.message_new", channel {
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
        /// The channel, as the recipient sees it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<Channel>,
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
        /// The recipient's unread messages over all channels.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub total_unread_count: Option<u64>,
        /// The same count, under the name older clients read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_count: Option<u64>,
        /// The recipient's channels with unread messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_channels: Option<u64>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

wire_event! {
    /// `notification.mark_read`: to the reader's own connections, a channel (or all of
    /// them, then without `cid`) was marked read, with the new unread counts.
    ///
    /// ```
    /// use stream_chat_protocol::events::NotificationMarkReadEvent;
    /// let e: NotificationMarkReadEvent = serde_json::from_str(
    ///     r#"{"type":"notification.mark_read","total_unread_count":0,"unread_channels":0}"#,
    /// ).unwrap();
    /// assert_eq!((e.cid, e.unread_channels), (None, Some(0)));
    /// ```
    pub struct NotificationMarkReadEvent = "notification.mark_read" {
        /// The channel, when one channel was marked read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cid: Option<String>,
        /// That channel's type.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel_type: Option<String>,
        /// That channel's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel_id: Option<String>,
        /// When it happened (RFC 3339).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created_at: Option<String>,
        /// The reader.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<User>,
        /// Unread messages over all channels.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub total_unread_count: Option<u64>,
        /// The same count, under the name older clients read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_count: Option<u64>,
        /// Channels with unread messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_channels: Option<u64>,
        /// The thread marked read, when a thread (not the channel) was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub thread_id: Option<String>,
        /// That thread.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub thread: Option<ThreadInfo>,
        /// Threads with unread replies.
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

impl ChannelEvent for NotificationMarkReadEvent {
    fn for_channel(cid: &str, created_at: Option<String>) -> Self {
        let (channel_type, channel_id) = crate::cid::split(cid).unwrap_or_default();
        NotificationMarkReadEvent {
            cid: Some(cid.to_owned()),
            channel_type: Some(channel_type.to_owned()),
            channel_id: Some(channel_id.to_owned()),
            created_at,
            ..NotificationMarkReadEvent::default()
        }
    }

    fn cid(&self) -> Option<&str> {
        self.cid.as_deref()
    }
}

wire_event! {
    /// `notification.added_to_channel`: to a user's connections, they became a member of a
    /// channel.
    ///
    /// ```
    /// use stream_chat_protocol::events::NotificationAddedToChannelEvent;
    /// let e: NotificationAddedToChannelEvent = serde_json::from_str(
    ///     r#"{"type":"notification.added_to_channel","cid":"team:a","member":{"user_id":"bender"}}"#,
    /// ).unwrap();
    /// assert_eq!(e.member.unwrap().user_id.as_deref(), Some("bender"));
    /// ```
    pub struct NotificationAddedToChannelEvent = "notification.added_to_channel", channel {
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
        /// The channel, as the new member sees it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub channel: Option<Channel>,
        /// The new membership.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub member: Option<Member>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}
