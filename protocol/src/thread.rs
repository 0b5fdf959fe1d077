//! Threads: a message with replies seen as a whole (`/threads`), and the page of replies
//! (`/messages/{id}/replies`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Channel, Message, MessagePagination, Read, SortParam, User};

/// A thread: its parent message, the newest replies, who takes part and their read state
/// (Stream's `ThreadResponse`; Kotlin's `Thread`).
///
/// ```
/// let t: stream_chat_protocol::Thread = serde_json::from_str(r#"{
///     "channel_cid":"messaging:general","parent_message_id":"p1","parent_message":{"id":"p1"},
///     "latest_replies":[{"id":"r1","parent_id":"p1"}],"reply_count":1,"participant_count":2,
///     "created_by_user_id":"a","title":"","created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z"
/// }"#).unwrap();
/// assert_eq!((t.parent_message_id.as_str(), t.latest_replies.len(), t.reply_count), ("p1", 1, Some(1)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Thread {
    /// The channel, as the caller sees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// `<type>:<id>` of the channel.
    #[serde(default)]
    pub channel_cid: String,
    /// The thread's id: its parent message's.
    #[serde(default)]
    pub parent_message_id: String,
    /// The parent message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_message: Option<Message>,
    /// The newest replies, oldest first.
    #[serde(default)]
    pub latest_replies: Vec<Message>,
    /// Who wrote the parent message.
    #[serde(default)]
    pub created_by_user_id: String,
    /// The same user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<User>,
    /// The thread's title.
    #[serde(default)]
    pub title: String,
    /// When the first reply was posted (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When the thread last changed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// When the last reply was posted (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_at: Option<String>,
    /// Replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_count: Option<u64>,
    /// Participants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_count: Option<u64>,
    /// Participants who did not leave the thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_participant_count: Option<u64>,
    /// The participants (at most the request's `participant_limit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_participants: Option<Vec<ThreadParticipant>>,
    /// Each participant's read state in the thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<Vec<Read>>,
    /// Custom fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One participant of a thread.
///
/// ```
/// let p: stream_chat_protocol::ThreadParticipant =
///     serde_json::from_str(r#"{"user_id":"a","channel_cid":"messaging:g","thread_id":"p1"}"#).unwrap();
/// assert_eq!(p.user_id.as_deref(), Some("a"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadParticipant {
    /// `<type>:<id>` of the channel.
    #[serde(default)]
    pub channel_cid: String,
    /// The thread (its parent message's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// The participant's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// When they joined the thread (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When they last read it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read_at: Option<String>,
    /// When they last replied (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_thread_message_at: Option<String>,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Body of `POST /threads`: the caller's threads, filtered, sorted and paged by cursor.
/// Counts left out take the server's defaults (10 threads, 10 participants, 3 replies).
///
/// ```
/// let r: stream_chat_protocol::QueryThreadsRequest =
///     serde_json::from_str(r#"{"limit":5,"reply_limit":2,"watch":true,"filter":{"channel_cid":"messaging:g"}}"#).unwrap();
/// assert_eq!((r.limit, r.reply_limit, r.watch), (Some(5), Some(2), Some(true)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryThreadsRequest {
    /// Filter on `channel_cid`, `parent_message_id`, `created_by_user_id`, `reply_count`,
    /// `participant_count`, `created_at`, `updated_at`, `last_message_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Map<String, Value>>,
    /// Sort order (`last_message_at` newest first unless told).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<SortParam>,
    /// Threads per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Participants per thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_limit: Option<u32>,
    /// Newest replies per thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_limit: Option<u32>,
    /// Members per channel (accepted; the channel carries none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_limit: Option<u32>,
    /// Watch the threads' channels with the calling connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<bool>,
    /// Cursor of the next page, from a previous response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Cursor of the previous page, from a previous response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    /// Whose threads (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Whose threads, as an object (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}

/// Response of `POST /threads`.
///
/// ```
/// let r: stream_chat_protocol::QueryThreadsResponse =
///     serde_json::from_str(r#"{"threads":[],"next":"abc","duration":"1ms"}"#).unwrap();
/// assert_eq!(r.next.as_deref(), Some("abc"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryThreadsResponse {
    /// The page of threads.
    #[serde(default)]
    pub threads: Vec<Thread>,
    /// Cursor of the next page, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Cursor of the previous page, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// Response of `GET /threads/{message_id}`.
///
/// ```
/// let r: stream_chat_protocol::ThreadResponse =
///     serde_json::from_str(r#"{"thread":{"parent_message_id":"p1"},"duration":"1ms"}"#).unwrap();
/// assert_eq!(r.thread.parent_message_id, "p1");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadResponse {
    /// The thread.
    pub thread: Thread,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// Response of the endpoints that list messages: replies of a thread, pinned messages.
///
/// ```
/// let r: stream_chat_protocol::MessagesResponse =
///     serde_json::from_str(r#"{"messages":[{"id":"r1"}],"duration":"1ms"}"#).unwrap();
/// assert_eq!(r.messages[0].id, "r1");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MessagesResponse {
    /// The messages, in the order the endpoint documents.
    #[serde(default)]
    pub messages: Vec<Message>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// What a `message.read` / `notification.mark_read` of a thread says about it: the thread's
/// id (its parent message's) and the counts a reader needs.
///
/// ```
/// let t: stream_chat_protocol::ThreadInfo =
///     serde_json::from_str(r#"{"parent_message_id":"p1","reply_count":3}"#).unwrap();
/// assert_eq!((t.parent_message_id.as_str(), t.reply_count), ("p1", Some(3)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadInfo {
    /// The thread's id: its parent message's.
    #[serde(default)]
    pub parent_message_id: String,
    /// `<type>:<id>` of the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_cid: Option<String>,
    /// The thread's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_count: Option<u64>,
    /// Participants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_count: Option<u64>,
    /// When the first reply was posted (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When the thread last changed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// When the last reply was posted (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_at: Option<String>,
    /// Fields not modelled above.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The query of `GET /messages/{id}/replies` (see [`crate::query`]): a page of replies, and
/// `sort` (`created_at` ascending takes the page from the oldest reply).
///
/// ```
/// use stream_chat_protocol::{RepliesRequest, query};
/// let r: RepliesRequest = query::from_pairs([("limit".to_owned(), "2".to_owned()), ("id_lt".to_owned(), "r9".to_owned())]).unwrap();
/// assert_eq!((r.pagination.limit, r.pagination.id_lt.as_deref()), (Some(2), Some("r9")));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RepliesRequest {
    /// Which replies.
    #[serde(flatten)]
    pub pagination: MessagePagination,
    /// Their order (`created_at`).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::query::json_or_text"
    )]
    pub sort: Vec<SortParam>,
}

/// The query of `GET /threads/{message_id}` (see [`crate::query`]).
///
/// ```
/// use stream_chat_protocol::{GetThreadRequest, query};
/// let r = GetThreadRequest { reply_limit: Some(5), watch: Some(true), ..Default::default() };
/// let back: GetThreadRequest = query::from_pairs(query::to_pairs(&r)).unwrap();
/// assert_eq!(back, r);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GetThreadRequest {
    /// Newest replies to include (3 unless told).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::query::u32_or_text"
    )]
    pub reply_limit: Option<u32>,
    /// Participants to include (100 unless told).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::query::u32_or_text"
    )]
    pub participant_limit: Option<u32>,
    /// Members of the channel to include.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::query::u32_or_text"
    )]
    pub member_limit: Option<u32>,
    /// Watch the thread's channel with the calling connection.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::query::bool_or_text"
    )]
    pub watch: Option<bool>,
}
