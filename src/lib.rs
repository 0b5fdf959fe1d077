//! Stream Chat for Rust, in the Android SDK's callback style.
//!
//! A blocking client: every operation returns a [`Call`] that you `execute()` on the
//! current thread or `enqueue(callback)` on the client's worker pool. The WebSocket runs
//! on a thread of its own, pings the server, and reconnects with back-off.
//!
//! Everything an app needs is re-exported here: the call machinery (from
//! `stream-chat-callbacks`: [`Call`], executors, retry policies, [`WorkerPool`]), Stream's
//! models, error [`codes`] and [`jwt`] helpers (from `stream-chat-protocol`), so no app
//! imports an inner crate.
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
mod rest;
mod token;

pub use channel::ChannelClient;
pub use client::{ChatClient, ChatClientBuilder, DEFAULT_BASE_URL, Timeouts};
pub use connection::{ConnectionData, ConnectionState};
pub use events::{
    ChatEvent, ConnectionChangedEvent, ConnectionRecoveredEvent, EventKind, HealthCheckEvent,
    MessageDeletedEvent, MessageReadEvent, MessageUpdatedEvent, NewMessageEvent,
    NotificationAddedToChannelEvent, NotificationMarkReadEvent, NotificationMessageNewEvent,
    RecoveryGap, Subscription, UserStartWatchingEvent, UserStopWatchingEvent, event_types,
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

/// The calls guide; its snippets run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/calls.md")]
mod calls_page {}

/// The seed page, rewritten for Rust; its snippets run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/user-types.md")]
mod user_types_page {}

/// The channels and events guide; its snippets run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/channels.md")]
mod channels_page {}

/// The README's example compiles against the real API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}
