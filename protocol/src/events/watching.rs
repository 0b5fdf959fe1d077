//! `user.watching.start` / `user.watching.stop`: a user's first connection started, or
//! their last one stopped, watching a channel.

use serde_json::{Map, Value};

use crate::User;

wire_event! {
    /// `user.watching.start`: a user started watching a channel.
    ///
    /// ```
    /// use stream_chat_protocol::events::UserStartWatchingEvent;
    /// let e: UserStartWatchingEvent = serde_json::from_str(
    ///     r#"{"type":"user.watching.start","cid":"livestream:x","user":{"id":"a"},"watcher_count":2}"#,
    /// ).unwrap();
    /// assert_eq!(e.watcher_count, Some(2));
    /// ```
    pub struct UserStartWatchingEvent = "user.watching.start", channel {
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
        /// The watcher.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<User>,
        /// Watchers of the channel now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub watcher_count: Option<u64>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

wire_event! {
    /// `user.watching.stop`: a user stopped watching a channel.
    ///
    /// ```
    /// use stream_chat_protocol::events::UserStopWatchingEvent;
    /// let e: UserStopWatchingEvent = serde_json::from_str(
    ///     r#"{"type":"user.watching.stop","cid":"livestream:x","watcher_count":0}"#,
    /// ).unwrap();
    /// assert_eq!((e.channel_id.as_str(), e.watcher_count), ("x", Some(0)));
    /// ```
    pub struct UserStopWatchingEvent = "user.watching.stop", channel {
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
        /// The former watcher.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub user: Option<User>,
        /// Watchers of the channel now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub watcher_count: Option<u64>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}
