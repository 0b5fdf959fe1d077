//! Membership events: `member.added`, `member.updated`, `member.removed` to the watchers,
//! and the `notification.*` forms a member gets on their own connections (removed,
//! invited, invite accepted or rejected).

use serde_json::{Map, Value};

use crate::{Channel, Member, User};

/// Defines a membership event: the channel envelope, `user`, `member` and (for the
/// notifications) `channel`.
macro_rules! member_event {
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
                /// The member's user (for `member.removed`, the removed user: the JS client
                /// reads this one).
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub user: Option<User>,
                /// The membership, with `member.user` set (clients key members by it).
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub member: Option<Member>,
                /// The channel, on the `notification.*` forms.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub channel: Option<Channel>,
                /// Fields not modelled above.
                #[serde(flatten)]
                pub extra: Map<String, Value>,
            }
        }
    };
}

member_event! {
    /// `member.added`: to the watchers, a user became a member.
    ///
    /// ```
    /// use stream_chat_protocol::events::MemberAddedEvent;
    /// let e: MemberAddedEvent = serde_json::from_str(
    ///     r#"{"type":"member.added","cid":"messaging:g","user":{"id":"b"},"member":{"user_id":"b","user":{"id":"b"}}}"#,
    /// ).unwrap();
    /// assert_eq!(e.member.unwrap().user.unwrap().id, "b");
    /// ```
    MemberAddedEvent = "member.added"
}

member_event! {
    /// `member.updated`: to the watchers, a membership changed (role, moderator,
    /// invite answered, partial member update).
    ///
    /// ```
    /// use stream_chat_protocol::events::MemberUpdatedEvent;
    /// let e: MemberUpdatedEvent = serde_json::from_str(
    ///     r#"{"type":"member.updated","cid":"messaging:g","member":{"user_id":"b","channel_role":"channel_moderator"}}"#,
    /// ).unwrap();
    /// assert_eq!(e.member.unwrap().channel_role.as_deref(), Some("channel_moderator"));
    /// ```
    MemberUpdatedEvent = "member.updated"
}

member_event! {
    /// `member.removed`: to the watchers, `user` is no longer a member.
    ///
    /// ```
    /// use stream_chat_protocol::events::MemberRemovedEvent;
    /// let e: MemberRemovedEvent = serde_json::from_str(
    ///     r#"{"type":"member.removed","cid":"messaging:g","user":{"id":"b"}}"#,
    /// ).unwrap();
    /// assert_eq!(e.user.unwrap().id, "b");
    /// ```
    MemberRemovedEvent = "member.removed"
}

member_event! {
    /// `notification.removed_from_channel`: to the removed user's connections.
    ///
    /// ```
    /// use stream_chat_protocol::events::NotificationRemovedFromChannelEvent;
    /// let e: NotificationRemovedFromChannelEvent = serde_json::from_str(
    ///     r#"{"type":"notification.removed_from_channel","cid":"messaging:g"}"#,
    /// ).unwrap();
    /// assert_eq!(e.channel_id, "g");
    /// ```
    NotificationRemovedFromChannelEvent = "notification.removed_from_channel"
}

member_event! {
    /// `notification.invited`: to the invited user's connections.
    ///
    /// ```
    /// use stream_chat_protocol::events::NotificationInvitedEvent;
    /// let e: NotificationInvitedEvent = serde_json::from_str(
    ///     r#"{"type":"notification.invited","cid":"messaging:g","member":{"user_id":"b","invited":true}}"#,
    /// ).unwrap();
    /// assert_eq!(e.member.unwrap().invited, Some(true));
    /// ```
    NotificationInvitedEvent = "notification.invited"
}

member_event! {
    /// `notification.invite_accepted`: to the invitee's connections, they accepted.
    ///
    /// ```
    /// use stream_chat_protocol::events::NotificationInviteAcceptedEvent;
    /// let e: NotificationInviteAcceptedEvent = serde_json::from_str(
    ///     r#"{"type":"notification.invite_accepted","cid":"messaging:g","member":{"user_id":"b","invite_accepted_at":"2025-01-01T00:00:00Z"}}"#,
    /// ).unwrap();
    /// assert!(e.member.unwrap().invite_accepted_at.is_some());
    /// ```
    NotificationInviteAcceptedEvent = "notification.invite_accepted"
}

member_event! {
    /// `notification.invite_rejected`: to the invitee's connections, they rejected.
    ///
    /// ```
    /// use stream_chat_protocol::events::NotificationInviteRejectedEvent;
    /// let e: NotificationInviteRejectedEvent = serde_json::from_str(
    ///     r#"{"type":"notification.invite_rejected","cid":"messaging:g","member":{"user_id":"b","invite_rejected_at":"2025-01-01T00:00:00Z"}}"#,
    /// ).unwrap();
    /// assert!(e.member.unwrap().invite_rejected_at.is_some());
    /// ```
    NotificationInviteRejectedEvent = "notification.invite_rejected"
}
