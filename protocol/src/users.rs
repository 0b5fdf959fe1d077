//! The user endpoints' bodies: query (`GET /users`), upsert (`POST /users`) and partial
//! update (`PATCH /users`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{SortParam, User};

/// The `payload` query parameter of `GET /users`.
///
/// ```
/// let q: stream_chat_protocol::QueryUsersRequest =
///     serde_json::from_str(r#"{"filter_conditions":{"id":{"$in":["a"]}},"presence":false}"#).unwrap();
/// assert!(q.filter_conditions.contains_key("id"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryUsersRequest {
    /// Mongo-like filter.
    #[serde(default)]
    pub filter_conditions: Map<String, Value>,
    /// Sort criteria.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<SortParam>,
    /// Subscribe to presence of the results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<bool>,
    /// Page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Page offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Other options.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Response of `GET /users`: `users` is an **array**.
///
/// ```
/// let r: stream_chat_protocol::QueryUsersResponse = serde_json::from_str(r#"{"users":[{"id":"a"}],"duration":""}"#).unwrap();
/// assert_eq!(r.users[0].id, "a");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryUsersResponse {
    /// The matching users.
    pub users: Vec<User>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// Body of `POST /users`: users keyed by id.
///
/// ```
/// let r: stream_chat_protocol::UpsertUsersRequest = serde_json::from_str(r#"{"users":{"a":{"id":"a"}}}"#).unwrap();
/// assert_eq!(r.users["a"].id, "a");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UpsertUsersRequest {
    /// The users to create or replace.
    pub users: BTreeMap<String, User>,
}

/// Response of `POST /users` and `PATCH /users`: users as an **id-keyed map**.
///
/// ```
/// let r: stream_chat_protocol::UsersResponse = serde_json::from_str(r#"{"users":{"a":{"id":"a"}},"duration":""}"#).unwrap();
/// assert!(r.users.contains_key("a"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UsersResponse {
    /// The stored users.
    pub users: BTreeMap<String, User>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// One entry of a partial update: set and unset fields of user `id`.
///
/// ```
/// let u: stream_chat_protocol::PartialUserUpdate =
///     serde_json::from_str(r#"{"id":"a","set":{"name":"A"},"unset":["image"]}"#).unwrap();
/// assert_eq!(u.unset, vec!["image"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialUserUpdate {
    /// The user to update.
    pub id: String,
    /// Fields to set.
    #[serde(default)]
    pub set: Map<String, Value>,
    /// Fields to remove.
    #[serde(default)]
    pub unset: Vec<String>,
}

/// Body of `PATCH /users`.
///
/// ```
/// let r: stream_chat_protocol::PartialUpdateUsersRequest = serde_json::from_str(r#"{"users":[{"id":"a"}]}"#).unwrap();
/// assert_eq!(r.users.len(), 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialUpdateUsersRequest {
    /// The updates.
    pub users: Vec<PartialUserUpdate>,
}
