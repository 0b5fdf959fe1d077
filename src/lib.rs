//! Stream Chat for Rust, in the Android SDK's callback style.
//!
//! A blocking client: every operation returns a [`Call`] that you `execute()` on the
//! current thread or `enqueue(callback)` on the client's worker pool. The WebSocket runs
//! on a thread of its own, pings the server, and reconnects with back-off.
//!
//! # Crates
//!
//! - `stream-chat-client` (this crate): [`ChatClient`], [`ChannelClient`], tokens, events.
//!   It re-exports everything an app needs from the two crates below (the call machinery
//!   with retry policies and [`WorkerPool`], models, [`codes`], [`jwt`]), so no app
//!   imports an inner crate.
//! - `stream-chat-callbacks`: [`Call`], [`ChatResult`], [`ChatError`], executors and the
//!   [`CallbackQueue`] for GUI loops; no networking.
//! - `stream-chat-protocol`: Stream's wire format (models, typed events, [`codes`], JWT).
//! - `stream-chat-server`: a **separate crate**, the local Stream-compatible server used by
//!   the examples below (`stream_chat_server::Server`) and runnable as a program
//!   (`cargo run -p stream-chat-server`). Add it under `[dev-dependencies]` to start one
//!   in-process in your tests; the client never depends on it.
//!
//! # Guides
//!
//! Rendered in [`guides`], with Kotlin beside Rust; every Rust snippet in them runs as a
//! doctest:
//! [`user_types`](guides::user_types) (regular, guest and anonymous users, tokens),
//! [`channels`](guides::channels) (channels, messages, typed events, reconnects),
//! [`calls`](guides::calls) (`execute`, `enqueue`, executors, main-thread callbacks,
//! combinators), [`local_server`](guides::local_server) (the server, its tokens, quick
//! starts for the official JS and Python clients) and
//! [`kotlin_to_rust`](guides::kotlin_to_rust) (every Android call we mirror and its Rust
//! name), [`uploads`](guides::uploads) (files and images, progress, cancelling) and
//! [`server_side`](guides::server_side) (`ServerClient` for scripts and bots, token
//! revocation, webhooks).
//!
//! Logging goes through the `log` facade; tokens never appear in the SDK's records. Cap
//! the `tungstenite` and `ureq_proto` targets at DEBUG: their TRACE records dump raw
//! requests, request line and `Authorization` header included, which carry the token.
//!
//! ```
//! use stream_chat_client::{ChatClient, User};
//! use stream_chat_server::Server;
//!
//! let server = Server::builder().start().unwrap(); // a local Stream-compatible server
//! let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
//! let user = User::new("bender").with_name("Bender").with_image("https://bit.ly/321RmWb");
//! let token = server.create_token("bender", None);
//! let (tx, rx) = std::sync::mpsc::channel();
//! client.connect_user(user, token).enqueue(move |result| {
//!     if result.is_success() {
//!         let user: &User = &result.data().user;
//!         let connection_id: &str = &result.data().connection_id;
//!         println!("logged in as {} on {connection_id}", user.id);
//!     } else {
//!         eprintln!("{}", result.error());
//!     }
//!     tx.send(result.is_success()).unwrap();
//! });
//! assert!(rx.recv().unwrap());
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod api_error;
mod channel;
mod client;
mod connection;
mod events;
#[cfg(feature = "offline")]
mod offline;
mod reactor;
mod rest;
mod runtime;
pub mod state;
mod tls;
mod token;
// Uploads, the server-side client and webhooks.
mod server_client;
mod upload;

pub use channel::ChannelClient;
pub use client::{ChatClient, ChatClientBuilder, DEFAULT_BASE_URL, Timeouts};
pub use connection::{ConnectionData, ConnectionState};
pub use events::{
    ChatEvent, ConnectionChangedEvent, ConnectionRecoveredEvent, EventKind, HealthCheckEvent,
    MessageDeletedEvent, MessageReadEvent, MessageUpdatedEvent, NewMessageEvent,
    NotificationAddedToChannelEvent, NotificationMarkReadEvent, NotificationMessageNewEvent,
    RecoveryGap, Subscription, UserStartWatchingEvent, UserStopWatchingEvent, event_types,
};
// Channel administration, members, read state, moderation, presence, user updates.
pub use events::{
    ChannelDeletedEvent, ChannelHiddenEvent, ChannelTruncatedEvent, ChannelUpdatedEvent,
    ChannelVisibleEvent, MemberAddedEvent, MemberRemovedEvent, MemberUpdatedEvent,
    NotificationChannelDeletedEvent, NotificationChannelMutesUpdatedEvent,
    NotificationChannelTruncatedEvent, NotificationInviteAcceptedEvent,
    NotificationInviteRejectedEvent, NotificationInvitedEvent, NotificationMarkUnreadEvent,
    NotificationMutesUpdatedEvent, NotificationRemovedFromChannelEvent, UserBannedEvent,
    UserPresenceChangedEvent, UserUnbannedEvent, UserUpdatedEvent,
};
pub use stream_chat_callbacks::{
    Call, CallbackQueue, CancelHandle, CancelToken, ChatError, ChatResult, Completer, ErrorClass,
    ErrorKind, Executor, ExponentialBackoff, FixedRetry, NoRetry, RetryPolicy, WorkerPool,
    WorkerPoolBuilder,
};
pub use stream_chat_protocol::{
    Channel, ChannelConfig, ChannelRequestData, ChannelState, Event, Member, Message,
    MessagePagination, QueryChannelRequest, QueryChannelsRequest, QueryUsersRequest, Read,
    SortParam, User, codes, jwt,
};
pub use token::{TokenError, TokenProvider, TokenSource};
// Channel administration, members, read state, moderation, presence, user updates.
pub use channel::MAX_COOLDOWN_SECONDS;
pub use stream_chat_protocol::{
    BannedUser, ChannelMute, Flag, Mute, UnreadChannel, UnreadChannelType, UnreadCountsResponse,
    UserBlock,
};
// Push devices.
pub use stream_chat_protocol::{Device, PushProvider};
// Reliability: error classification and the servers' requested waits (issue 15).
pub use stream_chat_callbacks::MAX_RETRY_AFTER;
// Uploads, the server-side client and webhooks.
pub use server_client::{ServerChannel, ServerClient, ServerClientBuilder};
pub use stream_chat_protocol::{
    DeactivateUserRequest, DeleteUsersRequest, PartialUserUpdate, ReactivateUserRequest,
    TaskStatus, UploadedFile, verify_webhook, webhook,
};
pub use upload::{PROGRESS_INTERVAL, ProgressCallback, Upload};
// The state store (issue 12): `stream_chat_client::state::{ChannelState, ClientState, ..}`
// (not re-exported here: the protocol's `ChannelState` is the query response).
pub use state::Observation;

// Reactions, threads, typing, pins, search (messages surface).
pub use channel::PinnedMessagesPagination;
pub use client::SearchMessagesResult;
pub use client::typing::{TYPING_START_INTERVAL, TYPING_STOP_AFTER};
pub use events::{
    NotificationThreadMessageNewEvent, ReactionDeletedEvent, ReactionNewEvent, ReactionUpdateEvent,
    TypingStartEvent, TypingStopEvent,
};
pub use stream_chat_protocol::{
    GetThreadRequest, PartialUpdateMessageRequest, QueryThreadsRequest, QueryThreadsResponse,
    Reaction, ReactionGroup, Thread, ThreadInfo, ThreadParticipant,
};

/// Entry points for the fuzz targets in `fuzz/`: the SDK's decoding of what a server
/// sends, compiled only with `--cfg fuzzing` (`scripts/fuzz.sh`). Not part of the API.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    use std::time::{Duration, SystemTime};

    use crate::{ChatError, ChatEvent};

    /// A REST error answer's body (and a development token or not) → `ChatError`.
    pub fn error_from_body(status: u16, body: &[u8], dev_token: bool) -> ChatError {
        crate::api_error::error_from_body(status, body, dev_token)
    }

    /// The wait a server asks for, from its `Retry-After` and `X-RateLimit-Reset`.
    pub fn requested_wait(
        retry_after: Option<&str>,
        rate_limit_reset: Option<&str>,
        now: SystemTime,
    ) -> Option<Duration> {
        crate::api_error::requested_wait(retry_after, rate_limit_reset, now)
    }

    /// A WebSocket text frame → the event the SDK delivers (`None`: not an event).
    pub fn chat_event(frame: &str) -> Option<ChatEvent> {
        let event = stream_chat_protocol::events::AnyEvent::from_json(frame).ok()?;
        Some(crate::events::from_server(event))
    }
}

/// The guides, rendered from `docs/`. Their Rust snippets run as doctests against a local
/// server started in-process, so they match the API.
pub mod guides {
    #[doc = include_str!("../docs/user-types.md")]
    pub mod user_types {}

    #[doc = include_str!("../docs/channels.md")]
    pub mod channels {}

    #[doc(inline)]
    pub use stream_chat_callbacks::guides::calls;

    #[doc = include_str!("../docs/local-server.md")]
    pub mod local_server {}

    #[doc = include_str!("../docs/kotlin-to-rust.md")]
    pub mod kotlin_to_rust {}

    // Channel administration, members, read state, moderation, presence, user updates.
    #[doc = include_str!("../docs/moderation.md")]
    pub mod moderation {}
    // Reliability (issue 15).
    #[doc = include_str!("../docs/reliability.md")]
    pub mod reliability {}
    // Reactions, threads, typing, pins, search (messages surface).
    #[doc = include_str!("../docs/messages.md")]
    pub mod messages {}

    // Uploads, the server-side client and webhooks.
    #[doc = include_str!("../docs/uploads.md")]
    pub mod uploads {}

    #[doc = include_str!("../docs/server-side.md")]
    pub mod server_side {}
    // The state store (issue 12).
    #[doc = include_str!("../docs/state-and-offline.md")]
    pub mod state_and_offline {}
}

/// The README's examples run against the real API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}
