//! [`ChannelClient`]: one channel's calls and events, as Kotlin's
//! `client.channel(type, id)`. A handler in the octocrab style: it holds the client's
//! [`Core`] and the channel's cid, and each API area is a file of its own, an `impl
//! ChannelClient` block: `watch.rs` (watch, query, create, stop watching), `messages.rs`,
//! `read.rs`, `subscriptions.rs`, `reactions.rs`, `typing.rs` (typing and custom events),
//! `pins.rs`, `threads.rs`. A new area adds a file.

mod messages;
mod read;
mod subscriptions;
mod watch;
// Channel administration, members, read state, moderation.
mod admin;
mod members;
pub(crate) mod moderation;
// Reactions, threads, typing, pins (messages surface).
pub(crate) mod pins;
pub(crate) mod reactions;
mod threads;
mod typing;
// The state store (issue 12).
mod state;

pub use admin::MAX_COOLDOWN_SECONDS;

pub use pins::PinnedMessagesPagination;
// Uploads, the server-side client and webhooks.
mod uploads;

use stream_chat_callbacks::{ChatError, ErrorKind};
use stream_chat_protocol::cid;

use crate::client::core::Core;

/// Checks a channel type and id by the protocol's rule (`protocol::cid`).
pub(crate) fn validate(channel_type: &str, channel_id: &str) -> Result<(), ChatError> {
    cid::validate(channel_type, channel_id).map_err(invalid)
}

/// Splits `type:id`, validating both halves.
pub(crate) fn parse_cid(cid: &str) -> Result<(&str, &str), ChatError> {
    cid::parse(cid).map_err(invalid)
}

fn invalid(e: cid::CidError) -> ChatError {
    ChatError::new(ErrorKind::InvalidArgument, e.to_string()).with_source(e)
}

/// One channel of a [`ChatClient`](crate::ChatClient): get one with
/// [`ChatClient::channel`](crate::ChatClient::channel) or
/// [`ChatClient::channel_cid`](crate::ChatClient::channel_cid). Cheap to clone; every
/// method returns a cold [`Call`](crate::Call).
///
/// Calls that watch (or ask for presence) need the WebSocket's connection id: they wait for
/// the connection, also when made before `connect_user`, for at most the builder's
/// [`wait_for_connection_timeout`](crate::ChatClientBuilder::wait_for_connection_timeout)
/// (which documents the errors). If the socket is replaced while such a call runs and the
/// call fails, it is sent once more on the new connection.
/// The other calls need a user (connected or connecting) and fail with
/// [`ErrorKind::NotConnected`] without one. Server refusals keep Stream's code and status:
/// a permission error has [`codes::NOT_ALLOWED`](crate::codes::NOT_ALLOWED) (17) as its
/// `stream_code()` and `status_code() == Some(403)`.
///
/// ```
/// use stream_chat_client::{ChatClient, Message, User};
/// # let server = stream_chat_server::Server::builder().start().unwrap();
/// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
/// client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
/// let channel = client.channel("livestream", "demo").unwrap();
/// let state = channel.watch().execute().into_result().unwrap();
/// assert_eq!(state.channel.cid, "livestream:demo");
/// let sent = channel.send_message(Message::with_text("hello")).execute().into_result().unwrap();
/// assert_eq!(sent.text.as_deref(), Some("hello"));
/// ```
#[derive(Clone)]
pub struct ChannelClient {
    core: Core,
    channel_type: String,
    channel_id: String,
    cid: String,
}

impl std::fmt::Debug for ChannelClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelClient")
            .field("cid", &self.cid)
            .finish()
    }
}

impl ChannelClient {
    pub(crate) fn new(core: Core, channel_type: &str, channel_id: &str) -> Self {
        ChannelClient {
            core,
            channel_type: channel_type.to_owned(),
            channel_id: channel_id.to_owned(),
            cid: cid::format(channel_type, channel_id),
        }
    }

    /// `<type>:<id>`.
    ///
    /// ```
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// assert_eq!(client.channel("messaging", "general").unwrap().cid(), "messaging:general");
    /// ```
    pub fn cid(&self) -> &str {
        &self.cid
    }

    /// The channel type (`messaging`, `livestream`, ...).
    ///
    /// ```
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// assert_eq!(client.channel_cid("livestream:demo").unwrap().channel_type(), "livestream");
    /// ```
    pub fn channel_type(&self) -> &str {
        &self.channel_type
    }

    /// The channel id.
    ///
    /// ```
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// assert_eq!(client.channel_cid("livestream:demo").unwrap().channel_id(), "demo");
    /// ```
    pub fn channel_id(&self) -> &str {
        &self.channel_id
    }

    /// `channels/{type}/{id}/{action}`.
    fn path(&self, action: &str) -> String {
        format!(
            "channels/{}/{}/{action}",
            self.channel_type, self.channel_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_ids_and_cids_are_validated_like_the_js_client() {
        assert!(validate("messaging", "general").is_ok());
        assert!(validate("live_stream-2", "!members-abc_1").is_ok());
        for (t, i) in [
            ("", "x"),
            ("messaging", ""),
            ("mess aging", "x"),
            ("messaging!", "x"),
            ("messaging", "a:b"),
            ("messaging", "a/b"),
            ("messaging", "ü"),
        ] {
            let err = validate(t, i).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{t}:{i}");
        }
        assert_eq!(
            parse_cid("livestream:demo").unwrap(),
            ("livestream", "demo")
        );
        for bad in ["", "livestream", ":demo", "livestream:", "a:b:c"] {
            assert_eq!(
                parse_cid(bad).unwrap_err().kind(),
                ErrorKind::InvalidArgument,
                "{bad}"
            );
        }
        assert!(
            parse_cid("livestream")
                .unwrap_err()
                .message()
                .contains("channelType:channelId")
        );
    }

    #[test]
    fn ids_longer_than_the_server_accepts_are_refused_before_any_request() {
        let longest = "x".repeat(cid::MAX_ID_LEN);
        assert!(validate("messaging", &longest).is_ok());
        let err = validate("messaging", &format!("{longest}x")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.message().contains("at most 64"), "{}", err.message());
        let err = parse_cid(&format!("messaging:{longest}x")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    }
}
