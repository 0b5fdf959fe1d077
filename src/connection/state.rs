//! What a connection is in, and what a connect resolves with: plain values that every
//! other part reads (leaves: they import nothing of the SDK).

use std::fmt;

use stream_chat_protocol::User;

/// The state of the client's WebSocket connection.
///
/// ```
/// use stream_chat_client::ConnectionState;
/// assert_eq!(ConnectionState::Connected.to_string(), "connected");
/// assert!(ConnectionState::Connected.is_connected());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// `connect_user` (or a guest/anonymous connect) is opening the first connection.
    Connecting,
    /// The socket is up and the server confirmed the user.
    Connected,
    /// No socket: nobody is connected, or the connection was lost. After a lost connection
    /// the client moves on to [`Reconnecting`](Self::Reconnecting) by itself unless the
    /// error was terminal (then the user is disconnected).
    Disconnected,
    /// The connection was lost and the client is opening a new one with back-off.
    Reconnecting,
}

impl ConnectionState {
    /// True for [`ConnectionState::Connected`].
    ///
    /// ```
    /// assert!(!stream_chat_client::ConnectionState::Reconnecting.is_connected());
    /// ```
    pub fn is_connected(self) -> bool {
        self == ConnectionState::Connected
    }

    /// A short lower-case name.
    ///
    /// ```
    /// assert_eq!(stream_chat_client::ConnectionState::Reconnecting.as_str(), "reconnecting");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Connecting => "connecting",
            ConnectionState::Connected => "connected",
            ConnectionState::Disconnected => "disconnected",
            ConnectionState::Reconnecting => "reconnecting",
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of a successful connect: the user as the server returned it (`me`) and the
/// id of the WebSocket connection (Kotlin's `ConnectionData`).
///
/// ```
/// use stream_chat_client::{ConnectionData, User};
/// let data = ConnectionData { user: User::new("bender"), connection_id: "c-1".into() };
/// assert_eq!(data.user.id, "bender");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionData {
    /// The connected user as the server sees it.
    pub user: User,
    /// The id of the WebSocket connection.
    pub connection_id: String,
}
