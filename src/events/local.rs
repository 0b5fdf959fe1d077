//! The SDK's own events, which no server sends: `connection.changed` and
//! `connection.recovered` (with the [`RecoveryGap`]s it reports).

use stream_chat_callbacks::ChatError;
use stream_chat_protocol::events::types;

use crate::connection::ConnectionState;

/// Local `connection.recovered`: sent after every reconnect, once the channels the client
/// watched are watched again and the messages they missed were delivered as
/// [`NewMessageEvent`](crate::NewMessageEvent)s with `recovered: true` (see
/// `docs/channels.md`, "Reconnects").
///
/// ```
/// use stream_chat_client::{ChatClient, ConnectionRecoveredEvent};
/// # let client = ChatClient::builder("key").build().unwrap();
/// let _s = client.subscribe_for_type::<ConnectionRecoveredEvent>(|e| {
///     for gap in &e.gaps {
///         eprintln!("{}: page back before {:?}", gap.cid, gap.before_message_id);
///     }
/// });
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionRecoveredEvent {
    /// The new connection.
    pub connection_id: String,
    /// Channels watched again.
    pub channels: Vec<String>,
    /// Missed messages delivered as [`NewMessageEvent`](crate::NewMessageEvent)s during
    /// this recovery.
    pub recovered_messages: usize,
    /// Channels whose missed messages may be incomplete.
    pub gaps: Vec<RecoveryGap>,
}

impl ConnectionRecoveredEvent {
    /// The event type, `"connection.recovered"` (local: never sent by a server).
    pub const TYPE: &'static str = types::CONNECTION_RECOVERED;
}

/// A channel whose missed messages were not all delivered after a reconnect: more than the
/// recovery bound were missed, or re-watching it failed.
///
/// ```
/// use stream_chat_client::RecoveryGap;
/// let gap = RecoveryGap { cid: "livestream:demo".into(), before_message_id: Some("m9".into()), error: None };
/// assert!(gap.error.is_none());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RecoveryGap {
    /// The channel.
    pub cid: String,
    /// Older missed messages may precede this (the oldest recovered) message: page back
    /// with `messages.id_lt` set to it.
    pub before_message_id: Option<String>,
    /// Why the channel could not be recovered, if it failed.
    pub error: Option<ChatError>,
}

/// Local `connection.changed` as a typed event (mirrors
/// [`ChatEvent::ConnectionChanged`](crate::ChatEvent::ConnectionChanged)).
///
/// ```
/// use stream_chat_client::{ChatClient, ConnectionChangedEvent};
/// # let client = ChatClient::builder("key").build().unwrap();
/// let _s = client.subscribe_for_type::<ConnectionChangedEvent>(|e| println!("{}", e.state));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionChangedEvent {
    /// The new state.
    pub state: ConnectionState,
    /// The cause, for changes caused by a failure.
    pub error: Option<ChatError>,
}
