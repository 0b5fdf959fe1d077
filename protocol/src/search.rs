//! Message search: the `payload` of `GET /search` and its response.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Message, SortParam};

/// The `payload` of `GET /search`: a channel filter, and either a text `query` or message
/// filter conditions; paged by `limit` + `offset`, or by the `next` cursor of a previous
/// response (which carries the sort; offset goes with neither `sort` nor `next`).
///
/// ```
/// let r: stream_chat_protocol::SearchRequest = serde_json::from_str(
///     r#"{"filter_conditions":{"members":{"$in":["a"]}},"message_filter_conditions":{"text":{"$autocomplete":"sup"}},"limit":10}"#,
/// ).unwrap();
/// assert_eq!((r.limit, r.query), (Some(10), None));
/// assert!(r.message_filter_conditions.unwrap().contains_key("text"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    /// Which channels to search (required), as in query channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_conditions: Option<Map<String, Value>>,
    /// Text to find: the same as `message_filter_conditions: {text: {$q: query}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Conditions on the messages (`text`, `user.id`, `attachments.type`, `pinned`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_filter_conditions: Option<Map<String, Value>>,
    /// Sort order (relevance first, then id, unless told).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<SortParam>,
    /// Results per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Results to skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Cursor from a previous response's `next` or `previous`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Other options (`message_options`, `client_id`, `connection_id`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Response of `GET /search`.
///
/// ```
/// let r: stream_chat_protocol::SearchResponse = serde_json::from_str(
///     r#"{"results":[{"message":{"id":"m1","channel":{"id":"g","type":"messaging","cid":"messaging:g"}}}],"next":"c2","duration":"1ms"}"#,
/// ).unwrap();
/// assert_eq!(r.results[0].message.channel.as_ref().unwrap().cid, "messaging:g");
/// assert_eq!((r.next.as_deref(), r.previous), (Some("c2"), None));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    /// The matching messages, each with its channel.
    #[serde(default)]
    pub results: Vec<SearchResult>,
    /// Cursor of the next page, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// Cursor of the previous page, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// Set when the channel filter matched more channels than are searched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_warning: Option<SearchWarning>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// One search hit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// The message, with `channel` set.
    pub message: Message,
}

/// Why a search looked at fewer channels than its filter matched.
///
/// ```
/// let w: stream_chat_protocol::SearchWarning = serde_json::from_str(
///     r#"{"warning_code":1,"warning_description":"too many channels","channel_search_count":500,"channel_search_cids":[]}"#,
/// ).unwrap();
/// assert_eq!(w.channel_search_count, 500);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchWarning {
    /// The warning's code.
    #[serde(default)]
    pub warning_code: i32,
    /// What it means.
    #[serde(default)]
    pub warning_description: String,
    /// How many channels were searched.
    #[serde(default)]
    pub channel_search_count: u64,
    /// Which channels were searched.
    #[serde(default)]
    pub channel_search_cids: Vec<String>,
}
