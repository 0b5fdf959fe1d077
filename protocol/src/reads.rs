//! The read-state endpoints' bodies beyond mark-read: mark unread
//! (`POST /channels/{type}/{id}/unread`), mark all read (`POST /channels/read`) and the
//! unread counts (`GET /unread`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::User;

/// Body of `POST /channels/{type}/{id}/unread`: from which message (or time) on the
/// channel is unread.
///
/// ```
/// let r: stream_chat_protocol::MarkUnreadRequest = serde_json::from_str(r#"{"message_id":"m2"}"#).unwrap();
/// assert_eq!(r.message_id.as_deref(), Some("m2"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MarkUnreadRequest {
    /// The first unread message: it and every later one become unread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Or a time (RFC 3339): the first message after it becomes the first unread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_timestamp: Option<String>,
    /// A whole thread unread (threads are not tracked here: code 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// The reader (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The reader as an object (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}

/// Body of `POST /channels/read`: every channel of the user read (or, with
/// `read_by_channel`, the named channels up to the named messages).
///
/// ```
/// let r: stream_chat_protocol::MarkAllReadRequest =
///     serde_json::from_str(r#"{"user":{"id":"a"}}"#).unwrap();
/// assert_eq!(r.user.unwrap().id, "a");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MarkAllReadRequest {
    /// `{cid: message_id}`: only these channels, each up to that message (`""`: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_by_channel: Option<Map<String, Value>>,
    /// The reader (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The reader as an object (server-side calls, the Python SDK's form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}

/// One channel of a [`UnreadCountsResponse`].
///
/// ```
/// let c: stream_chat_protocol::UnreadChannel =
///     serde_json::from_str(r#"{"channel_id":"messaging:g","last_read":"2025-01-01T00:00:00Z","unread_count":2}"#).unwrap();
/// assert_eq!(c.unread_count, 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UnreadChannel {
    /// The channel's cid (Stream names it `channel_id`).
    pub channel_id: String,
    /// When the user last read it (RFC 3339).
    #[serde(default)]
    pub last_read: String,
    /// Its unread messages.
    #[serde(default)]
    pub unread_count: u64,
}

/// Unread messages of one channel type, in a [`UnreadCountsResponse`].
///
/// ```
/// let t: stream_chat_protocol::UnreadChannelType =
///     serde_json::from_str(r#"{"channel_type":"messaging","channel_count":3,"unread_count":5}"#).unwrap();
/// assert_eq!(t.channel_count, 3);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UnreadChannelType {
    /// The channel type.
    pub channel_type: String,
    /// Its channels with unread messages.
    #[serde(default)]
    pub channel_count: u64,
    /// Their unread messages.
    #[serde(default)]
    pub unread_count: u64,
}

/// Response of `GET /unread`: the user's unread counts, in total, per channel, per
/// channel type and per thread (Android's `UnreadCounts`).
///
/// ```
/// let r: stream_chat_protocol::UnreadCountsResponse = serde_json::from_str(
///     r#"{"total_unread_count":2,"total_unread_threads_count":0,"channels":[],"channel_type":[],"threads":[]}"#,
/// ).unwrap();
/// assert_eq!(r.total_unread_count, 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UnreadCountsResponse {
    /// Unread messages over the user's channels (muted and hidden ones excepted).
    #[serde(default)]
    pub total_unread_count: u64,
    /// Threads with unread replies.
    #[serde(default)]
    pub total_unread_threads_count: u64,
    /// The channels with unread messages.
    #[serde(default)]
    pub channels: Vec<UnreadChannel>,
    /// Per channel type.
    #[serde(default)]
    pub channel_type: Vec<UnreadChannelType>,
    /// Per thread (`{parent_message_id, last_read, last_read_message_id, unread_count}`).
    #[serde(default)]
    pub threads: Vec<Value>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}
