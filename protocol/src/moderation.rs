//! Moderation: mutes (users and channels), bans, flags and blocks: the objects and the
//! bodies of `/moderation/*`, `/query_banned_users` and `/users/block`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Channel, SortParam, User};

/// A muted user (`me.mutes[]`, the mute response): `user` muted `target`.
///
/// ```
/// let m: stream_chat_protocol::Mute = serde_json::from_str(
///     r#"{"user":{"id":"a"},"target":{"id":"b"},"created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z"}"#,
/// ).unwrap();
/// assert_eq!((m.target.id.as_str(), m.expires), ("b", None));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Mute {
    /// Who muted.
    pub user: User,
    /// Who is muted.
    pub target: User,
    /// When (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// Last change (RFC 3339).
    #[serde(default)]
    pub updated_at: String,
    /// When the mute ends (RFC 3339), for a mute with a timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// A muted channel (`me.channel_mutes[]`): `channel.cid` is what clients match on.
///
/// ```
/// let m: stream_chat_protocol::ChannelMute = serde_json::from_str(
///     r#"{"user":{"id":"a"},"channel":{"id":"g","type":"messaging","cid":"messaging:g"}}"#,
/// ).unwrap();
/// assert_eq!(m.channel.unwrap().cid, "messaging:g");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelMute {
    /// Who muted.
    pub user: User,
    /// The muted channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// When (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// Last change (RFC 3339).
    #[serde(default)]
    pub updated_at: String,
    /// When the mute ends (RFC 3339), for a mute with an expiration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// Body of `POST /moderation/mute` and `/moderation/unmute`.
///
/// ```
/// let r: stream_chat_protocol::MuteUserRequest = serde_json::from_str(r#"{"target_id":"b","timeout":60}"#).unwrap();
/// assert_eq!((r.target_id.as_deref(), r.timeout), (Some("b"), Some(60)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MuteUserRequest {
    /// The user to mute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    /// Or several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ids: Option<Vec<String>>,
    /// Minutes until the mute ends (none: until unmuted). Mute only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// Why (mute only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The muting user (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// Response of `POST /moderation/mute`.
///
/// ```
/// let r: stream_chat_protocol::MuteUserResponse = serde_json::from_str(
///     r#"{"mute":{"user":{"id":"a"},"target":{"id":"b"}},"own_user":{"id":"a","mutes":[]}}"#,
/// ).unwrap();
/// assert_eq!(r.mute.unwrap().target.id, "b");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MuteUserResponse {
    /// The mute (of the first target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mute: Option<Mute>,
    /// Every mute made by this call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutes: Option<Vec<Mute>>,
    /// The muting user with their `mutes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_user: Option<User>,
    /// Targets that do not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_existing_users: Option<Vec<String>>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// Body of `POST /moderation/mute/channel` and `/moderation/unmute/channel`.
///
/// ```
/// let r: stream_chat_protocol::MuteChannelRequest =
///     serde_json::from_str(r#"{"channel_cid":"messaging:g","expiration":60000}"#).unwrap();
/// assert_eq!(r.expiration, Some(60000));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MuteChannelRequest {
    /// The channel to mute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_cid: Option<String>,
    /// Or several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_cids: Option<Vec<String>>,
    /// Milliseconds until the mute ends (none: until unmuted). Mute only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<i64>,
    /// The muting user (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// Response of `POST /moderation/mute/channel`.
///
/// ```
/// let r: stream_chat_protocol::MuteChannelResponse = serde_json::from_str(
///     r#"{"channel_mute":{"user":{"id":"a"},"channel":{"id":"g","type":"messaging","cid":"messaging:g"}}}"#,
/// ).unwrap();
/// assert!(r.channel_mute.is_some());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MuteChannelResponse {
    /// The mute (of the first channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_mute: Option<ChannelMute>,
    /// Every mute made by this call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_mutes: Option<Vec<ChannelMute>>,
    /// The muting user with their `channel_mutes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_user: Option<User>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// Body of `POST /moderation/ban` (and the query of `DELETE /moderation/ban`): with `type`
/// and `id` a ban in that channel, without them an app-wide ban.
///
/// ```
/// let r: stream_chat_protocol::BanUserRequest = serde_json::from_str(
///     r#"{"target_user_id":"b","type":"messaging","id":"g","timeout":10,"reason":"spam"}"#,
/// ).unwrap();
/// assert_eq!((r.kind.as_deref(), r.timeout), (Some("messaging"), Some(10)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BanUserRequest {
    /// The user to ban.
    #[serde(default)]
    pub target_user_id: String,
    /// The channel type, for a channel ban.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The channel id, for a channel ban.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Minutes until the ban ends (none: until unbanned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A shadow ban: the user is not told, others do not see their messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<bool>,
    /// Who bans (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banned_by_id: Option<String>,
    /// Who bans (server-side calls; the other name Stream accepts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Other options (`ip_ban`, `delete_messages`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A ban, as `GET /query_banned_users` lists it (Android's `BannedUser`).
///
/// ```
/// let b: stream_chat_protocol::BannedUser = serde_json::from_str(
///     r#"{"user":{"id":"b"},"banned_by":{"id":"m"},"reason":"spam","created_at":"2025-01-01T00:00:00Z"}"#,
/// ).unwrap();
/// assert_eq!((b.user.id.as_str(), b.shadow), ("b", false));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BannedUser {
    /// The banned user.
    pub user: User,
    /// Who banned them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banned_by: Option<User>,
    /// The channel, for a channel ban.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// When the ban ends (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A shadow ban.
    #[serde(default)]
    pub shadow: bool,
    /// When (RFC 3339).
    #[serde(default)]
    pub created_at: String,
}

/// The `payload` of `GET /query_banned_users`.
///
/// ```
/// let q: stream_chat_protocol::QueryBannedUsersRequest =
///     serde_json::from_str(r#"{"filter_conditions":{"channel_cid":"messaging:g"},"exclude_expired_bans":true}"#).unwrap();
/// assert_eq!(q.exclude_expired_bans, Some(true));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryBannedUsersRequest {
    /// Filter on `channel_cid`, `user_id`, `banned_by_id`, `reason`, `created_at`, `shadow`.
    #[serde(default)]
    pub filter_conditions: Map<String, Value>,
    /// Sort criteria (by `created_at`, newest first, unless told).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<SortParam>,
    /// Page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Page offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Leave out the bans that ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_expired_bans: Option<bool>,
    /// Other options (`created_at_after`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Response of `GET /query_banned_users`.
///
/// ```
/// let r: stream_chat_protocol::QueryBannedUsersResponse = serde_json::from_str(r#"{"bans":[]}"#).unwrap();
/// assert!(r.bans.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryBannedUsersResponse {
    /// The bans.
    pub bans: Vec<BannedUser>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// Body of `POST /moderation/flag` and `/moderation/unflag`: a message or a user.
///
/// ```
/// let r: stream_chat_protocol::FlagRequest = serde_json::from_str(r#"{"target_message_id":"m1","reason":"rude"}"#).unwrap();
/// assert_eq!(r.target_message_id.as_deref(), Some("m1"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlagRequest {
    /// The message flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_message_id: Option<String>,
    /// Or the user flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_user_id: Option<String>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Custom data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Map<String, Value>>,
    /// Who flags (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// A flag: `user` flagged a message or a user.
///
/// ```
/// let f: stream_chat_protocol::Flag = serde_json::from_str(
///     r#"{"user":{"id":"a"},"target_message_id":"m1","created_by_automod":false}"#,
/// ).unwrap();
/// assert_eq!(f.target_message_id.as_deref(), Some("m1"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Flag {
    /// Who flagged.
    pub user: User,
    /// The message flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_message_id: Option<String>,
    /// The user flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_user: Option<User>,
    /// The flagged message's channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_cid: Option<String>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Custom data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Map<String, Value>>,
    /// Always false here: no automod.
    #[serde(default)]
    pub created_by_automod: bool,
    /// When (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// Last change (RFC 3339).
    #[serde(default)]
    pub updated_at: String,
}

/// Response of `POST /moderation/flag` and `/moderation/unflag`.
///
/// ```
/// let r: stream_chat_protocol::FlagResponse = serde_json::from_str(r#"{"flag":{"user":{"id":"a"}}}"#).unwrap();
/// assert_eq!(r.flag.user.id, "a");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FlagResponse {
    /// The flag.
    pub flag: Flag,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// Body of `POST /users/block` and `/users/unblock`.
///
/// ```
/// let r: stream_chat_protocol::BlockUserRequest = serde_json::from_str(r#"{"blocked_user_id":"b"}"#).unwrap();
/// assert_eq!(r.blocked_user_id, "b");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BlockUserRequest {
    /// The user to block.
    #[serde(default)]
    pub blocked_user_id: String,
    /// Who blocks (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// A block (`GET /users/block`; Android's `UserBlock`). `POST /users/block` answers with
/// the three id and time fields.
///
/// ```
/// let b: stream_chat_protocol::UserBlock = serde_json::from_str(
///     r#"{"blocked_by_user_id":"a","blocked_user_id":"b","blocked_at":"2025-01-01T00:00:00Z"}"#,
/// ).unwrap();
/// assert_eq!(b.blocked_user_id, "b");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UserBlock {
    /// Who blocked.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub blocked_by_user_id: String,
    /// Who is blocked.
    #[serde(default)]
    pub blocked_user_id: String,
    /// When (RFC 3339; `created_at` in the list).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub blocked_at: String,
    /// The blocked user (in the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_user: Option<User>,
    /// Who blocked (`user_id` in the list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// When (the list's name for `blocked_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// Response of `GET /users/block`.
///
/// ```
/// let r: stream_chat_protocol::BlockedUsersResponse = serde_json::from_str(r#"{"blocks":[]}"#).unwrap();
/// assert!(r.blocks.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BlockedUsersResponse {
    /// The user's blocks.
    pub blocks: Vec<UserBlock>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}
