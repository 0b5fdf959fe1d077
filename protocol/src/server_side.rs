//! Server-side user administration bodies: deactivate, reactivate, delete (a task), and the
//! user field that revokes tokens. Only server tokens may call these routes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::User;

/// The user field (set through `PATCH /users`) that revokes every token of that user issued
/// before the time it holds (RFC 3339; `null` lifts the revocation).
pub const REVOKE_TOKENS_ISSUED_BEFORE: &str = "revoke_tokens_issued_before";
/// The user field set while a user is deactivated (RFC 3339).
pub const DEACTIVATED_AT: &str = "deactivated_at";
/// The user field set once a user is deleted (soft deletion; RFC 3339).
pub const DELETED_AT: &str = "deleted_at";

/// Body of `POST /users/{id}/deactivate`.
///
/// ```
/// let r: stream_chat_protocol::DeactivateUserRequest = serde_json::from_str(r#"{"created_by_id":"boss"}"#).unwrap();
/// assert_eq!(r.created_by_id.as_deref(), Some("boss"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeactivateUserRequest {
    /// Also soft-delete the user's messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_messages_deleted: Option<bool>,
    /// Who deactivates the user (shown in the event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_id: Option<String>,
}

/// Body of `POST /users/{id}/reactivate`.
///
/// ```
/// let r: stream_chat_protocol::ReactivateUserRequest = serde_json::from_str(r#"{"name":"Back"}"#).unwrap();
/// assert_eq!(r.name.as_deref(), Some("Back"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReactivateUserRequest {
    /// Restore the messages deactivation deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_messages: Option<bool>,
    /// A new name for the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Who reactivates the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_id: Option<String>,
}

/// Response with one user (`deactivate`, `reactivate`, `DELETE /users/{id}`).
///
/// ```
/// let r: stream_chat_protocol::UserResponse = serde_json::from_str(r#"{"user":{"id":"a"},"duration":"1ms"}"#).unwrap();
/// assert_eq!(r.user.id, "a");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UserResponse {
    /// The user after the change.
    pub user: User,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// Body of `POST /users/delete`: delete users in a background task.
///
/// ```
/// let r = stream_chat_protocol::DeleteUsersRequest::new(vec!["a".into()], "hard");
/// assert_eq!(serde_json::to_value(&r).unwrap(), serde_json::json!({"user_ids": ["a"], "user": "hard"}));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeleteUsersRequest {
    /// The users to delete.
    pub user_ids: Vec<String>,
    /// `"soft"` (the user is kept, marked deleted) or `"hard"` (the user is removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `"soft"` or `"hard"`: also delete their messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<String>,
    /// `"soft"` or `"hard"`: also delete their 1:1 conversations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversations: Option<String>,
    /// Other options.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DeleteUsersRequest {
    /// Delete `user_ids` the `user` way (`"soft"` or `"hard"`).
    ///
    /// ```
    /// assert_eq!(stream_chat_protocol::DeleteUsersRequest::new(vec![], "soft").user.as_deref(), Some("soft"));
    /// ```
    pub fn new(user_ids: Vec<String>, user: &str) -> Self {
        DeleteUsersRequest {
            user_ids,
            user: Some(user.to_owned()),
            ..DeleteUsersRequest::default()
        }
    }
}

/// Response of a call that starts a background task (`POST /users/delete`).
///
/// ```
/// let r: stream_chat_protocol::TaskResponse = serde_json::from_str(r#"{"task_id":"t1","duration":""}"#).unwrap();
/// assert_eq!(r.task_id, "t1");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskResponse {
    /// The task, for `GET /tasks/{id}`.
    pub task_id: String,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// `GET /tasks/{id}`: a background task's state.
///
/// ```
/// let t: stream_chat_protocol::TaskStatus = serde_json::from_str(r#"{"task_id":"t","status":"completed","result":{}}"#).unwrap();
/// assert!(t.is_completed());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskStatus {
    /// The task id.
    pub task_id: String,
    /// `waiting`, `pending`, `running`, `completed` or `failed`.
    pub status: String,
    /// When it was created, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When it last changed, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// What it did (per task kind).
    #[serde(default)]
    pub result: Map<String, Value>,
    /// Server-side processing time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

impl TaskStatus {
    /// The `status` of a finished task.
    pub const COMPLETED: &'static str = "completed";

    /// Whether the task finished successfully.
    ///
    /// ```
    /// assert!(!stream_chat_protocol::TaskStatus::default().is_completed());
    /// ```
    pub fn is_completed(&self) -> bool {
        self.status == Self::COMPLETED
    }
}
