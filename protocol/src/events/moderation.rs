//! Moderation, read-state and user events: `notification.mark_unread`,
//! `notification.mutes_updated`, `notification.channel_mutes_updated`, `user.banned`,
//! `user.unbanned`, `user.presence.changed` and `user.updated`.

use serde_json::{Map, Value};

use super::ChannelEvent;
use crate::User;

wire_event! {
    /// `notification.mark_unread`: to the user's own connections, a channel was marked
    /// unread from `first_unread_message_id` on. `last_read_at` is always set (the JS
    /// client reads it as a date).
    ///
    /// ```
    /// use stream_chat_protocol::events::NotificationMarkUnreadEvent;
    /// let e: NotificationMarkUnreadEvent = serde_json::from_str(
    ///     r#"{"type":"notification.mark_unread","cid":"messaging:g","first_unread_message_id":"m2",
    ///         "last_read_at":"2025-01-01T00:00:00Z","unread_messages":3,"total_unread_count":3,"unread_channels":1}"#,
    /// ).unwrap();
    /// assert_eq!((e.unread_messages, e.first_unread_message_id.as_deref()), (3, Some("m2")));
    /// ```
    pub struct NotificationMarkUnreadEvent = "notification.mark_unread", channel {
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
        /// The first unread message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub first_unread_message_id: Option<String>,
        /// The last message still read (none when every message is unread).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub last_read_message_id: Option<String>,
        /// The channel's new read time (RFC 3339), just before the first unread message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub last_read_at: Option<String>,
        /// Unread messages in this channel now.
        #[serde(default)]
        pub unread_messages: u64,
        /// Unread messages over all channels.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub total_unread_count: Option<u64>,
        /// Channels with unread messages.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_channels: Option<u64>,
        /// Threads with unread replies.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub unread_threads: Option<u64>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

wire_event! {
    /// `notification.mutes_updated`: to the muter's connections, `me.mutes` is the new list
    /// of muted users (the JS client replaces its list with it).
    ///
    /// ```
    /// use stream_chat_protocol::events::NotificationMutesUpdatedEvent;
    /// let e: NotificationMutesUpdatedEvent = serde_json::from_str(
    ///     r#"{"type":"notification.mutes_updated","me":{"id":"a","mutes":[{"target":{"id":"b"}}]}}"#,
    /// ).unwrap();
    /// assert_eq!(e.me.unwrap().mutes.unwrap().len(), 1);
    /// ```
    pub struct NotificationMutesUpdatedEvent = "notification.mutes_updated" {
        /// When it happened (RFC 3339).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created_at: Option<String>,
        /// The own user, with `mutes`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub me: Option<User>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

wire_event! {
    /// `notification.channel_mutes_updated`: to the user's connections, `me.channel_mutes`
    /// is the new list of muted channels (each with `channel.cid`).
    ///
    /// ```
    /// use stream_chat_protocol::events::NotificationChannelMutesUpdatedEvent;
    /// let e: NotificationChannelMutesUpdatedEvent = serde_json::from_str(
    ///     r#"{"type":"notification.channel_mutes_updated","me":{"id":"a","channel_mutes":[]}}"#,
    /// ).unwrap();
    /// assert_eq!(e.me.unwrap().channel_mutes, Some(vec![]));
    /// ```
    pub struct NotificationChannelMutesUpdatedEvent = "notification.channel_mutes_updated" {
        /// When it happened (RFC 3339).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created_at: Option<String>,
        /// The own user, with `channel_mutes`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub me: Option<User>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

/// Defines `user.banned` / `user.unbanned`: a channel ban carries the channel's envelope,
/// an app-wide one none.
macro_rules! ban_event {
    ($(#[$meta:meta])* $ty:ident = $name:literal) => {
        wire_event! {
            $(#[$meta])*
            pub struct $ty = $name {
                /// `<type>:<id>` of the channel, for a channel ban.
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
                /// The banned user.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub user: Option<User>,
                /// Who banned them.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub created_by: Option<User>,
                /// When the ban ends (RFC 3339), for a ban with a timeout.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub expiration: Option<String>,
                /// Why.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub reason: Option<String>,
                /// A shadow ban (the JS client sets `shadow_banned` instead of `banned`).
                #[serde(default)]
                pub shadow: bool,
                /// Fields not modelled above.
                #[serde(flatten)]
                pub extra: Map<String, Value>,
            }
        }

        impl ChannelEvent for $ty {
            fn for_channel(cid: &str, created_at: Option<String>) -> Self {
                let (channel_type, channel_id) = crate::cid::split(cid).unwrap_or_default();
                $ty {
                    cid: Some(cid.to_owned()),
                    channel_type: Some(channel_type.to_owned()),
                    channel_id: Some(channel_id.to_owned()),
                    created_at,
                    ..$ty::default()
                }
            }

            fn cid(&self) -> Option<&str> {
                self.cid.as_deref()
            }
        }
    };
}

ban_event! {
    /// `user.banned`: a user was banned in a channel (to its watchers) or app-wide (to the
    /// user's connections, without `cid`).
    ///
    /// ```
    /// use stream_chat_protocol::events::UserBannedEvent;
    /// let e: UserBannedEvent = serde_json::from_str(
    ///     r#"{"type":"user.banned","cid":"messaging:g","user":{"id":"b"},"shadow":false,"reason":"spam"}"#,
    /// ).unwrap();
    /// assert_eq!((e.cid.as_deref(), e.reason.as_deref()), (Some("messaging:g"), Some("spam")));
    /// ```
    UserBannedEvent = "user.banned"
}

ban_event! {
    /// `user.unbanned`: a ban was lifted, in a channel or app-wide.
    ///
    /// ```
    /// use stream_chat_protocol::events::UserUnbannedEvent;
    /// let e: UserUnbannedEvent = serde_json::from_str(r#"{"type":"user.unbanned","user":{"id":"b"}}"#).unwrap();
    /// assert_eq!(e.cid, None);
    /// ```
    UserUnbannedEvent = "user.unbanned"
}

wire_event! {
    /// `user.presence.changed`: a user came online or went offline (`user.online`,
    /// `user.last_active`). Sent to connections that asked for presence and share a
    /// channel with, or watch, the user. `user` is the complete user.
    ///
    /// ```
    /// use stream_chat_protocol::events::UserPresenceChangedEvent;
    /// let e: UserPresenceChangedEvent = serde_json::from_str(
    ///     r#"{"type":"user.presence.changed","user":{"id":"b","online":true}}"#,
    /// ).unwrap();
    /// assert_eq!(e.user.unwrap().online, Some(true));
    /// ```
    pub struct UserPresenceChangedEvent = "user.presence.changed" {
        /// When it happened (RFC 3339).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created_at: Option<String>,
        /// The user, complete, with `online` and `last_active`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<User>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

wire_event! {
    /// `user.updated`: a user's fields changed. Sent to the user's own connections and to
    /// connections that watch a channel the user is a member of. `user` is the complete
    /// user (the JS client drops the keys it leaves out from its own user).
    ///
    /// ```
    /// use stream_chat_protocol::events::UserUpdatedEvent;
    /// let e: UserUpdatedEvent = serde_json::from_str(
    ///     r#"{"type":"user.updated","user":{"id":"b","name":"B"}}"#,
    /// ).unwrap();
    /// assert_eq!(e.user.unwrap().name(), "B");
    /// ```
    pub struct UserUpdatedEvent = "user.updated" {
        /// When it happened (RFC 3339).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created_at: Option<String>,
        /// The user as it is now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<User>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}
