//! Connection-level events: `health.check` (keep-alive and the connected event) and
//! `connection.error`.

use serde_json::{Map, Value};

use crate::{ApiErrorBody, User};

wire_event! {
    /// `health.check`: the keep-alive. The server's first one on a connection carries the
    /// connected user as `me` (the "connected event"); clients send it as their ping, with a
    /// `client_id` and no connection id.
    ///
    /// ```
    /// use stream_chat_protocol::{HealthCheckEvent, User};
    ///
    /// let mut connected = HealthCheckEvent::new("c1", "2025-01-01T00:00:00Z");
    /// connected.me = Some(User::new("luke"));
    /// assert!(connected.is_connected_event());
    /// assert_eq!(
    ///     serde_json::to_string(&connected).unwrap(),
    ///     r#"{"type":"health.check","connection_id":"c1","cid":"*","created_at":"2025-01-01T00:00:00Z","me":{"id":"luke"}}"#
    /// );
    /// let ping = serde_json::to_string(&[HealthCheckEvent::ping("luke--1")]).unwrap();
    /// assert_eq!(ping, r#"[{"type":"health.check","client_id":"luke--1"}]"#);
    /// ```
    pub struct HealthCheckEvent = "health.check" {
        /// The connection it belongs to (empty in a client's ping).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub connection_id: String,
        /// `"*"` from the server.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cid: Option<String>,
        /// When the server sent it (RFC 3339).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created_at: Option<String>,
        /// The connected user, on the first health check of a connection only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub me: Option<User>,
        /// The sender of a client's ping (`<user id>--<n>` in the JS client).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub client_id: Option<String>,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

impl HealthCheckEvent {
    /// A server's health check on `connection_id`: `cid` `"*"`, no `me`.
    ///
    /// ```
    /// let e = stream_chat_protocol::HealthCheckEvent::new("c1", "2025-01-01T00:00:00Z");
    /// assert_eq!((e.cid.as_deref(), e.me), (Some("*"), None));
    /// ```
    pub fn new(connection_id: impl Into<String>, created_at: impl Into<String>) -> Self {
        HealthCheckEvent {
            connection_id: connection_id.into(),
            cid: Some("*".to_owned()),
            created_at: Some(created_at.into()),
            ..HealthCheckEvent::default()
        }
    }

    /// A client's ping: only the type and `client_id`.
    ///
    /// ```
    /// let e = stream_chat_protocol::HealthCheckEvent::ping("a--1");
    /// assert!(e.connection_id.is_empty() && e.cid.is_none());
    /// ```
    pub fn ping(client_id: impl Into<String>) -> Self {
        HealthCheckEvent {
            client_id: Some(client_id.into()),
            ..HealthCheckEvent::default()
        }
    }

    /// Whether this is the connected event: it carries `me`.
    ///
    /// ```
    /// assert!(!stream_chat_protocol::HealthCheckEvent::new("c", "t").is_connected_event());
    /// ```
    pub fn is_connected_event(&self) -> bool {
        self.me.is_some()
    }
}

wire_event! {
    /// `connection.error`: the server refuses or drops the connection with `error`, then
    /// closes the socket.
    ///
    /// ```
    /// use stream_chat_protocol::{ApiErrorBody, ConnectionErrorEvent, codes};
    ///
    /// let e = ConnectionErrorEvent::new(ApiErrorBody::new(codes::TOKEN_EXPIRED, "expired"), "2025-01-01T00:00:00Z");
    /// let json = serde_json::to_value(&e).unwrap();
    /// assert_eq!((json["type"].as_str(), json["connection_id"].as_str()), (Some("connection.error"), Some("")));
    /// assert_eq!(json["error"]["StatusCode"], 401);
    /// ```
    pub struct ConnectionErrorEvent = "connection.error" {
        /// Empty: the connection was never established, or is gone.
        #[serde(default)]
        pub connection_id: String,
        /// When it happened (RFC 3339).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub created_at: Option<String>,
        /// Why: Stream's error body, with its code.
        pub error: ApiErrorBody,
        /// Fields not modelled above.
        #[serde(flatten)]
        pub extra: Map<String, Value>,
    }
}

impl ConnectionErrorEvent {
    /// A `connection.error` carrying `error`, with `connection_id` `""`.
    ///
    /// ```
    /// use stream_chat_protocol::{ApiErrorBody, ConnectionErrorEvent};
    /// let e = ConnectionErrorEvent::new(ApiErrorBody::new(43, "bad signature"), "2025-01-01T00:00:00Z");
    /// assert_eq!(e.error.code, 43);
    /// ```
    pub fn new(error: ApiErrorBody, created_at: impl Into<String>) -> Self {
        ConnectionErrorEvent {
            connection_id: String::new(),
            created_at: Some(created_at.into()),
            error,
            extra: Map::new(),
        }
    }
}
