//! The WebSocket connect payload (`/connect?json=...`) and the guest endpoint bodies.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::User;

/// The `json` query parameter of `/connect`, accepting every official SDK's variant
/// (JS v9, Android, Swift, Dart, Go): fields an SDK does not send are `None`.
///
/// ```
/// use stream_chat_protocol::ConnectPayload;
///
/// let js = r#"{"user_id":"alice","user_details":{"id":"alice","name":"Alice"},"client_request_id":"r1"}"#;
/// let p: ConnectPayload = serde_json::from_str(js).unwrap();
/// assert_eq!(p.user_details.unwrap().name(), "Alice");
///
/// let android = r#"{"user_id":"anon","user_details":{"id":"anon"},"server_determines_connection_id":true,"X-Stream-Client":"stream-chat-android"}"#;
/// let p: ConnectPayload = serde_json::from_str(android).unwrap();
/// assert_eq!(p.x_stream_client.as_deref(), Some("stream-chat-android"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectPayload {
    /// The connecting user's id (a random id for anonymous JS clients).
    #[serde(default)]
    pub user_id: String,
    /// The user object passed to `connectUser`, custom fields included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_details: Option<User>,
    /// Sent by Android, Swift, Dart, Go and old JS clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_determines_connection_id: Option<bool>,
    /// The token inside the payload (old JS, old Swift, Dart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_token: Option<String>,
    /// A fresh id per connection attempt (JS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    /// Push device `{id, push_provider, push_provider_name?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Value>,
    /// The client's user agent, inside the payload (Android).
    #[serde(
        rename = "X-Stream-Client",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub x_stream_client: Option<String>,
    /// Any other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Body of `POST /guest`.
///
/// ```
/// let r: stream_chat_protocol::GuestRequest = serde_json::from_str(r#"{"user":{"id":"bob","name":"Bob"}}"#).unwrap();
/// assert_eq!(r.user.id, "bob");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GuestRequest {
    /// The requested guest user.
    pub user: User,
}

/// Response of `POST /guest`: a token for the guest and the stored user (role `guest`).
///
/// ```
/// let json = r#"{"access_token":"t","user":{"id":"bob","role":"guest"},"duration":"0.00ms"}"#;
/// let r: stream_chat_protocol::GuestResponse = serde_json::from_str(json).unwrap();
/// assert_eq!(r.user.role.as_deref(), Some("guest"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GuestResponse {
    /// JWT of the guest user.
    pub access_token: String,
    /// The guest user as stored.
    pub user: User,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}
