//! The error body Stream returns over REST and inside WebSocket `connection.error` frames.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::codes;

/// Where Stream points clients for the meaning of error codes.
pub const MORE_INFO_URL: &str = "https://getstream.io/chat/docs/api_errors_response";

/// Stream's API error JSON: `code`, `message`, `StatusCode`, `duration`, `more_info`,
/// `details` (always serialized, usually `[]`) and optional `exception_fields`.
///
/// ```
/// use stream_chat_protocol::{ApiErrorBody, codes};
///
/// let e = ApiErrorBody::new(codes::NOT_ALLOWED, "nope");
/// let json = serde_json::to_value(&e).unwrap();
/// assert_eq!(json["StatusCode"], 403);
/// assert_eq!(json["details"], serde_json::json!([]));
/// assert_eq!(serde_json::from_value::<ApiErrorBody>(json).unwrap(), e);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// Stream error code, see [`crate::codes`].
    #[serde(default)]
    pub code: i32,
    /// Human-readable message, usually `<Operation> failed with error: "<detail>"`.
    #[serde(default)]
    pub message: String,
    /// The HTTP status of the response.
    #[serde(rename = "StatusCode", default)]
    pub status_code: u16,
    /// Server-side processing time, e.g. `"0.00ms"`.
    #[serde(default)]
    pub duration: String,
    /// Link to the error documentation.
    #[serde(default)]
    pub more_info: String,
    /// Per-field details; an array on the wire (a single object is accepted and wrapped).
    #[serde(default, deserialize_with = "details_lenient")]
    pub details: Vec<Value>,
    /// Offending fields, when Stream reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception_fields: Option<Map<String, Value>>,
}

impl ApiErrorBody {
    /// An error with `code`, its usual HTTP status, `message`, and the standard `more_info` link.
    ///
    /// ```
    /// let e = stream_chat_protocol::ApiErrorBody::new(40, "JWTAuth error: token is expired (exp)");
    /// assert_eq!(e.status_code, 401);
    /// ```
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self::with_status(code, codes::http_status(code), message)
    }

    /// An error with an explicit HTTP status.
    ///
    /// ```
    /// let e = stream_chat_protocol::ApiErrorBody::with_status(16, 404, "Not found");
    /// assert_eq!((e.code, e.status_code), (16, 404));
    /// ```
    pub fn with_status(code: i32, status_code: u16, message: impl Into<String>) -> Self {
        ApiErrorBody {
            code,
            message: message.into(),
            status_code,
            duration: "0.00ms".to_owned(),
            more_info: MORE_INFO_URL.to_owned(),
            details: Vec::new(),
            exception_fields: None,
        }
    }
}

impl std::fmt::Display for ApiErrorBody {
    /// Formats like the official clients: `StreamChat error code <code>: <message>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StreamChat error code {}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiErrorBody {}

fn details_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![other],
    })
}
