//! The bodies of channel administration and membership: update (`POST`), partial update
//! (`PATCH`), delete, truncate, hide/show, query members and partial member update.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Channel, Member, Message, SortParam, User};

/// Body of `POST /channels/{type}/{id}`: one operation (members, moderators, roles,
/// invites, slow mode) or a data update, with an optional system message. Member lists are
/// user ids or objects with `user_id` (as in [`ChannelRequestData`](crate::ChannelRequestData)).
///
/// ```
/// use stream_chat_protocol::{Message, UpdateChannelRequest};
/// let r: UpdateChannelRequest =
///     serde_json::from_str(r#"{"add_members":["a"],"data":{"name":"N"},"message":{"text":"hi"}}"#).unwrap();
/// assert_eq!(r.add_members.unwrap().len(), 1);
/// assert_eq!(r.data.unwrap()["name"], "N");
/// assert_eq!(r.message, Some(Message::with_text("hi")));
/// assert_eq!(serde_json::to_string(&UpdateChannelRequest::default()).unwrap(), "{}");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateChannelRequest {
    /// Members to add.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_members: Option<Vec<Value>>,
    /// Members to remove.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_members: Option<Vec<Value>>,
    /// New custom data, replacing the old.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Map<String, Value>>,
    /// A system message posted to the channel with the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// Members made channel moderators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_moderators: Option<Vec<String>>,
    /// Channel moderators made plain members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demote_moderators: Option<Vec<String>>,
    /// `[{user_id, channel_role}]`: channel roles to set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assign_roles: Option<Vec<Value>>,
    /// Users to invite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invites: Option<Vec<Value>>,
    /// The caller accepts their invite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_invite: Option<bool>,
    /// The caller rejects their invite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_invite: Option<bool>,
    /// Slow mode in seconds, 0 turns it off (the JS client's `enableSlowMode` sends it here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<i64>,
    /// Added members do not see the messages sent before they joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_history: Option<bool>,
    /// Skip push notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_push: Option<bool>,
    /// The acting user (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The acting user as an object (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}

/// Response of the channel update endpoints (`POST` and `PATCH /channels/{type}/{id}`, the
/// membership operations, slow mode).
///
/// ```
/// let r: stream_chat_protocol::UpdateChannelResponse = serde_json::from_str(
///     r#"{"channel":{"id":"g","type":"messaging","cid":"messaging:g"},"members":[],"duration":"1ms"}"#,
/// ).unwrap();
/// assert_eq!(r.channel.cid, "messaging:g");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateChannelResponse {
    /// The channel as it is now, with the caller's `own_capabilities`.
    pub channel: Channel,
    /// Its members.
    #[serde(default)]
    pub members: Vec<Member>,
    /// The system message posted, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// Body of `PATCH /channels/{type}/{id}`: fields to set (custom data, `frozen`,
/// `cooldown`) and to remove.
///
/// ```
/// let r: stream_chat_protocol::PartialUpdateChannelRequest =
///     serde_json::from_str(r#"{"set":{"frozen":true},"unset":["color"]}"#).unwrap();
/// assert_eq!((r.set["frozen"].as_bool(), r.unset.len()), (Some(true), 1));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialUpdateChannelRequest {
    /// Fields to set.
    #[serde(default)]
    pub set: Map<String, Value>,
    /// Fields to remove.
    #[serde(default)]
    pub unset: Vec<String>,
    /// The acting user (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// Body of `POST /channels/{type}/{id}/truncate`.
///
/// ```
/// let r: stream_chat_protocol::TruncateChannelRequest =
///     serde_json::from_str(r#"{"message":{"text":"cleared"},"hard_delete":true}"#).unwrap();
/// assert_eq!(r.hard_delete, Some(true));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TruncateChannelRequest {
    /// Remove the messages for good (they are removed either way here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hard_delete: Option<bool>,
    /// A system message posted after the truncation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// Skip push notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_push: Option<bool>,
    /// Truncate only the messages created before this time (RFC 3339; default now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated_at: Option<String>,
    /// The acting user (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The acting user as an object (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}

/// Response of `POST /channels/{type}/{id}/truncate` and `DELETE /channels/{type}/{id}`.
///
/// ```
/// let r: stream_chat_protocol::TruncateChannelResponse = serde_json::from_str(
///     r#"{"channel":{"id":"g","type":"messaging","cid":"messaging:g","truncated_at":"2025-01-01T00:00:00Z"}}"#,
/// ).unwrap();
/// assert!(r.channel.truncated_at.is_some());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TruncateChannelResponse {
    /// The channel.
    pub channel: Channel,
    /// The system message posted, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// Response of `DELETE /channels/{type}/{id}`: the channel with `deleted_at`.
///
/// ```
/// let r: stream_chat_protocol::DeleteChannelResponse = serde_json::from_str(
///     r#"{"channel":{"id":"g","type":"messaging","cid":"messaging:g","deleted_at":"2025-01-01T00:00:00Z"}}"#,
/// ).unwrap();
/// assert!(r.channel.deleted_at.is_some());
/// ```
pub type DeleteChannelResponse = TruncateChannelResponse;

/// Body of `POST /channels/{type}/{id}/hide` and `/show`.
///
/// ```
/// let r: stream_chat_protocol::HideChannelRequest =
///     serde_json::from_str(r#"{"user_id":null,"clear_history":true}"#).unwrap();
/// assert_eq!((r.user_id, r.clear_history), (None, Some(true)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HideChannelRequest {
    /// The user (server-side calls; the JS client sends `null` otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Also clear the channel's messages for the user (hide only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_history: Option<bool>,
}

/// The `payload` of `GET /members`: the members of one channel (by `type` and `id`, or by
/// `members` for a distinct channel) matching a filter, sorted and paged.
///
/// ```
/// let q: stream_chat_protocol::QueryMembersRequest = serde_json::from_str(
///     r#"{"type":"messaging","id":"g","filter_conditions":{"name":{"$autocomplete":"an"}},"sort":[],"limit":10}"#,
/// ).unwrap();
/// assert_eq!((q.kind.as_str(), q.id.as_deref(), q.limit), ("messaging", Some("g"), Some(10)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryMembersRequest {
    /// The channel type.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The channel id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The members of a distinct channel queried without an id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<Value>>,
    /// Mongo-like filter on member fields (`id`, `name`, `banned`, `invite`,
    /// `channel_role`, `is_moderator`, `created_at`, custom user fields, ...).
    #[serde(default)]
    pub filter_conditions: Map<String, Value>,
    /// Sort criteria (by `created_at`, oldest first, unless told).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<SortParam>,
    /// Page size (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Page offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Other options (`user_id_gt`, `created_at_after`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Response of `GET /members`.
///
/// ```
/// let r: stream_chat_protocol::QueryMembersResponse =
///     serde_json::from_str(r#"{"members":[{"user_id":"a"}],"duration":""}"#).unwrap();
/// assert_eq!(r.members[0].user_id.as_deref(), Some("a"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryMembersResponse {
    /// The matching members.
    pub members: Vec<Member>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// Body of `PATCH /channels/{type}/{id}/member/{user_id}` (and `…/member?user_id=`): member
/// fields to set (`pinned`, `archived`, `channel_role`, custom data) and to remove.
///
/// ```
/// let r: stream_chat_protocol::PartialUpdateMemberRequest =
///     serde_json::from_str(r#"{"set":{"pinned":true}}"#).unwrap();
/// assert_eq!(r.set["pinned"], true);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialUpdateMemberRequest {
    /// Fields to set.
    #[serde(default)]
    pub set: Map<String, Value>,
    /// Fields to remove.
    #[serde(default)]
    pub unset: Vec<String>,
}

/// Response of a partial member update.
///
/// ```
/// let r: stream_chat_protocol::PartialUpdateMemberResponse =
///     serde_json::from_str(r#"{"channel_member":{"user_id":"a","pinned_at":"2025-01-01T00:00:00Z"}}"#).unwrap();
/// assert!(r.channel_member.pinned_at.is_some());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialUpdateMemberResponse {
    /// The member as it is now.
    pub channel_member: Member,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}
