//! [`ChatClient`], the handle: the global instance, shutdown and what it reports about
//! the connection. Its API lives in one file per area, each an `impl ChatClient` block:
//! `builder.rs` (building one), `connect.rs` (connect, switch, disconnect, pause and
//! resume), `channels.rs`, `users.rs`, `devices.rs` (push devices) and `subscriptions.rs`.
//! All of them, and the channel handlers of `channel/`, stand on `core.rs`.

mod builder;
mod channels;
mod connect;
pub(crate) mod core;
mod subscriptions;
mod timeouts;
mod users;
// Channel administration, members, read state, moderation, presence, user updates.
mod admin;
mod devices;
mod moderation;
mod reads;
// Reactions, threads, typing, pins, search (messages surface).
mod events;
mod pins;
mod reactions;
mod search;
mod threads;
pub(crate) mod typing;
// The state store (issue 12).
mod offline;
mod state;

use std::fmt;
use std::sync::Mutex;

use stream_chat_callbacks::{ChatError, ErrorKind};
use stream_chat_protocol::{User, jwt};

pub use self::builder::{ChatClientBuilder, DEFAULT_BASE_URL};
use self::core::{Core, Shared};
pub use self::search::SearchMessagesResult;
pub use self::timeouts::Timeouts;
use crate::connection::ConnectionState;

static INSTANCE: Mutex<Option<ChatClient>> = Mutex::new(None);

/// The Stream Chat client: connects users, keeps the WebSocket up and delivers events.
///
/// Every operation returns a cold [`Call`]: run it with `execute()` (blocks the calling
/// thread) or `enqueue(callback)` (runs on the client's worker pool; the callback runs
/// on the client's callback executor). Cloning is cheap and clones share everything;
/// the client is `Send + Sync`.
///
/// [`Call`]: crate::Call
///
/// ```
/// use stream_chat_client::{ChatClient, User};
/// use stream_chat_server::Server;
///
/// let server = Server::builder().start().unwrap();
/// let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
/// let user = User::new("bender").with_name("Bender");
/// let token = server.create_token("bender", None);
/// let data = client.connect_user(user, token).execute().into_result().unwrap();
/// assert_eq!(data.user.id, "bender");
/// assert_eq!(client.connection_id(), Some(data.connection_id));
/// client.disconnect().execute().into_result().unwrap();
/// ```
#[derive(Clone)]
pub struct ChatClient {
    core: Core,
}

/// Makes `client` the one [`ChatClient::instance`] returns.
fn make_instance(client: &ChatClient) {
    let previous = lock(&INSTANCE).replace(client.clone());
    if previous.is_some() {
        log::warn!("a new ChatClient was built; ChatClient::instance() now returns it");
    }
}

impl ChatClient {
    /// The client built last (Kotlin's `ChatClient.instance()`), or
    /// [`ErrorKind::NotInitialized`] when none was built yet.
    ///
    /// ```
    /// use stream_chat_client::ChatClient;
    /// let built = ChatClient::builder("key").build().unwrap();
    /// let client = ChatClient::instance().unwrap();
    /// assert_eq!(client.api_key(), built.api_key());
    /// ```
    pub fn instance() -> Result<ChatClient, ChatError> {
        lock(&INSTANCE).clone().ok_or_else(|| {
            ChatError::new(
                ErrorKind::NotInitialized,
                "ChatClient::builder(..).build() must be called before ChatClient::instance()",
            )
        })
    }

    /// Shuts the client down for good and releases its threads: disconnects (pending
    /// connects fail with [`ErrorKind::ShutDown`]), fails queued and pending calls with
    /// [`ErrorKind::ShutDown`] and cancels running ones, stops delivering its events,
    /// drops every listener, and clears [`ChatClient::instance`] if it is this client.
    /// Later connects and enqueued calls fail with [`ErrorKind::ShutDown`]. Returns without
    /// waiting: its connection (and a pool of its own, see
    /// [`ChatClientBuilder::worker_threads`](crate::ChatClientBuilder::worker_threads)) end
    /// as soon as what they run returns. The pool, event dispatcher, timer and reactor that the
    /// process's clients share keep serving the others. Idempotent; safe in a callback.
    ///
    /// Dropping every handle is not enough to release a client: the one built last stays
    /// reachable through `instance()` (as in Kotlin), and a listener that captures a
    /// `ChatClient` keeps its client alive through the client's own listener list, an
    /// `Arc` cycle. `shutdown()` breaks both.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ErrorKind};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// let captured = client.clone();
    /// let _subscription = client.subscribe(move |_| println!("{:?}", captured.connection_state()));
    /// client.connect_anonymous_user().execute().into_result().unwrap();
    /// client.shutdown();
    /// let again = client.connect_anonymous_user().execute();
    /// assert_eq!(again.error().kind(), ErrorKind::ShutDown);
    /// ```
    pub fn shutdown(&self) {
        log::info!("shutting the client down");
        self.core.shutdown();
        let mut instance = lock(&INSTANCE);
        let mine = instance.as_ref().is_some_and(|c| c.core.same(&self.core));
        let released = if mine { instance.take() } else { None };
        drop(instance);
        drop(released);
    }

    /// The API key.
    ///
    /// ```
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// assert_eq!(client.api_key(), "key");
    /// ```
    pub fn api_key(&self) -> &str {
        &self.shared().api_key
    }

    /// The REST base URL, normalised to end with `/`.
    ///
    /// ```
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// assert_eq!(client.base_url(), "https://chat.stream-io-api.com/");
    /// ```
    pub fn base_url(&self) -> &str {
        self.shared().base_url.as_str()
    }

    /// The time limits the client runs with: the builder's, with durations above 30 days
    /// capped and `max_reconnect_delay` at least 250 ms.
    ///
    /// ```
    /// use std::time::Duration;
    /// # use stream_chat_client::ChatClient;
    /// let client = ChatClient::builder("key").max_reconnect_delay(Duration::ZERO).build().unwrap();
    /// assert_eq!(client.timeouts().max_reconnect_delay, Duration::from_millis(250));
    /// ```
    pub fn timeouts(&self) -> Timeouts {
        self.shared().timeouts
    }

    /// A development token for `user_id` (Stream's `devToken` format). The server accepts
    /// it only when auth checks are disabled.
    ///
    /// ```
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// assert!(client.dev_token("bender").ends_with(".devtoken"));
    /// ```
    pub fn dev_token(&self, user_id: &str) -> String {
        jwt::dev_token(user_id)
    }

    /// The connected (or connecting) user: the local one until the server confirms it,
    /// then the server's `me`. `None` when nobody is connected.
    ///
    /// ```
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// assert!(client.current_user().is_none());
    /// ```
    pub fn current_user(&self) -> Option<User> {
        let session = self.shared().hub.current();
        session.map(|s| s.user())
    }

    /// The token of the connected (or connecting) user as last loaded (Kotlin's
    /// `getCurrentToken()`): `None` for the anonymous user, before a provider returned
    /// one, and when nobody is connected.
    ///
    /// This is the secret itself, a plain `String`: don't log or print it. The SDK
    /// never does, and the client's `Debug` output leaves it out.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// assert!(client.current_token().is_none());
    /// let token = server.create_token("bender", None);
    /// client.connect_user(User::new("bender"), token.as_str()).execute().into_result().unwrap();
    /// assert_eq!(client.current_token().as_deref(), Some(token.as_str()));
    /// assert!(!format!("{client:?}").contains(&token));
    /// ```
    pub fn current_token(&self) -> Option<String> {
        let session = self.shared().hub.current();
        session.and_then(|s| s.tokens().and_then(|t| t.cached()))
    }

    /// The WebSocket connection id while connected.
    ///
    /// ```
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// assert!(client.connection_id().is_none());
    /// ```
    pub fn connection_id(&self) -> Option<String> {
        let session = self.shared().hub.current();
        session.and_then(|s| s.connection_id())
    }

    /// The state of the connection.
    ///
    /// ```
    /// # use stream_chat_client::ConnectionState;
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    /// ```
    pub fn connection_state(&self) -> ConnectionState {
        self.shared().hub.state()
    }

    /// Whether the socket is up and the server confirmed the user: Kotlin's
    /// `isSocketConnected()`, the same as `connection_state() == ConnectionState::Connected`.
    ///
    /// ```
    /// # use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// assert!(!client.is_socket_connected());
    /// let token = server.create_token("bender", None);
    /// client.connect_user(User::new("bender"), token.as_str()).execute().into_result().unwrap();
    /// assert!(client.is_socket_connected());
    /// client.disconnect_socket().execute().into_result().unwrap();
    /// assert!(!client.is_socket_connected());
    /// ```
    pub fn is_socket_connected(&self) -> bool {
        self.connection_state() == ConnectionState::Connected
    }
}

impl ChatClient {
    /// The client's internals, for its own flows.
    fn shared(&self) -> &Shared {
        self.core.shared()
    }
}

impl fmt::Debug for ChatClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = self.shared();
        let (state, session) = shared.hub.status();
        f.debug_struct("ChatClient")
            .field("api_key", &shared.api_key)
            .field("base_url", &shared.base_url.as_str())
            .field("state", &state)
            .field("user_id", &session.as_ref().map(|s| s.user_id.clone()))
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
