//! `ChatClient`: the builder, the global instance, the connect flows and accessors.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use stream_chat_callbacks::{
    Call, CancelToken, ChatError, ChatResult, Completer, ErrorKind, Executor, WorkerPool,
};
use stream_chat_protocol::{
    ANONYMOUS_USER_ID, ChannelState, GuestRequest, GuestResponse, QueryChannelsRequest,
    QueryChannelsResponse, QueryUsersRequest, User, codes, jwt,
};
use url::Url;

use crate::channel::{self, ChannelClient};
use crate::connection::{
    AuthMode, Connection, ConnectionData, ConnectionState, Hub, MIN_RECONNECT_DELAY, Pending,
    Session, SocketConfig, Tracker, already_connected, shut_down_error,
};
use crate::events::{ChatEvent, EventBus, EventKind, Subscription};
use crate::rest::{Auth, Http, Request};
use crate::token::{self, TokenManager, TokenSource};

/// Stream's production API, the default base URL.
///
/// ```
/// use stream_chat_client::{ChatClient, DEFAULT_BASE_URL};
/// let client = ChatClient::builder("key").build().unwrap();
/// assert_eq!(client.base_url().trim_end_matches('/'), DEFAULT_BASE_URL);
/// ```
pub const DEFAULT_BASE_URL: &str = "https://chat.stream-io-api.com";

static INSTANCE: Mutex<Option<ChatClient>> = Mutex::new(None);

/// Durations above this are capped to it: about 30 days, which is "no limit" in practice
/// and keeps every deadline computable.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Configures a [`ChatClient`]; start with [`ChatClient::builder`].
///
/// Logging: the SDK logs through the `log` facade and keeps tokens out of its own records
/// and `Debug` output. Cap the `tungstenite` and `ureq_proto` log targets at DEBUG: their
/// TRACE records dump raw requests, whose request line (WebSocket URL) or `Authorization`
/// header carries the token. The SDK warns once when those TRACE records are enabled.
///
/// ```
/// use std::time::{Duration, Instant};
/// use stream_chat_client::{CallbackQueue, ChatClient};
///
/// let queue = CallbackQueue::new();
/// let client = ChatClient::builder("api-key")
///     .base_url("http://127.0.0.1:3030")
///     .callback_executor(queue.executor())
///     .worker_threads(2)
///     .connect_timeout(Duration::from_secs(5))
///     .build()
///     .unwrap();
/// assert_eq!(client.api_key(), "api-key");
/// ```
#[derive(Clone)]
pub struct ChatClientBuilder {
    api_key: String,
    base_url: String,
    executor: Executor,
    worker_threads: usize,
    connect_timeout: Duration,
    request_timeout: Duration,
    health_check_interval: Duration,
    dead_connection_timeout: Duration,
    max_reconnect_delay: Duration,
    wait_for_connection_timeout: Duration,
    max_recovered_messages: usize,
}

impl ChatClientBuilder {
    /// The API's base URL (default [`DEFAULT_BASE_URL`]). The WebSocket URL is derived
    /// from it: `http` → `ws`, `https` → `wss` (TLS through rustls), same host and port.
    ///
    /// ```
    /// # use stream_chat_client::ChatClient;
    /// let client = ChatClient::builder("key").base_url("http://localhost:3030/").build().unwrap();
    /// assert_eq!(client.base_url(), "http://localhost:3030/");
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Where `enqueue` callbacks and event listeners run (default:
    /// [`Executor::pool_thread`]). Use a [`CallbackQueue`](crate::CallbackQueue)'s executor
    /// to run them on your GUI thread.
    ///
    /// ```
    /// # use stream_chat_client::{CallbackQueue, ChatClient};
    /// let queue = CallbackQueue::new();
    /// let client = ChatClient::builder("key").callback_executor(queue.executor()).build().unwrap();
    /// # drop(client);
    /// ```
    pub fn callback_executor(mut self, executor: Executor) -> Self {
        self.executor = executor;
        self
    }

    /// Threads of the worker pool that runs enqueued calls (0, the default: the number
    /// of CPUs, at least 2). Connects and `disconnect()` hold a worker only for a moment:
    /// they wait for the connection without one. REST calls hold one while they run.
    ///
    /// ```
    /// # use stream_chat_client::ChatClient;
    /// let client = ChatClient::builder("key").worker_threads(4).build().unwrap();
    /// # drop(client);
    /// ```
    pub fn worker_threads(mut self, threads: usize) -> Self {
        self.worker_threads = threads;
        self
    }

    /// The time limit for a connect, counted from when its call is executed or enqueued
    /// (time spent queued for a worker counts): `POST /guest` for guests, token, TCP,
    /// handshake and the server's first `health.check` (default 15 s). Also the limit of
    /// each reconnect attempt and the TCP connect limit of REST requests.
    ///
    /// ```
    /// # use stream_chat_client::ChatClient;
    /// # use std::time::{Duration, Instant};
    /// let client = ChatClient::builder("key").connect_timeout(Duration::from_secs(3)).build().unwrap();
    /// # drop(client);
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The time limit of each REST call as a whole: waiting for the token (and its
    /// reload after code 40) and every attempt share it (default 30 s).
    ///
    /// ```
    /// # use stream_chat_client::ChatClient;
    /// # use std::time::{Duration, Instant};
    /// let client = ChatClient::builder("key").request_timeout(Duration::from_secs(10)).build().unwrap();
    /// # drop(client);
    /// ```
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How often the client pings the server while connected (default 10 s).
    ///
    /// ```
    /// # use stream_chat_client::ChatClient;
    /// # use std::time::{Duration, Instant};
    /// let client = ChatClient::builder("key").health_check_interval(Duration::from_secs(1)).build().unwrap();
    /// # drop(client);
    /// ```
    pub fn health_check_interval(mut self, interval: Duration) -> Self {
        self.health_check_interval = interval;
        self
    }

    /// A connection with no frame from the server for this long is dead and gets
    /// replaced (default 30 s). Must be above the health-check interval, or
    /// [`build`](Self::build) fails with [`ErrorKind::InvalidArgument`].
    ///
    /// ```
    /// # use stream_chat_client::ChatClient;
    /// # use std::time::{Duration, Instant};
    /// let client = ChatClient::builder("key")
    ///     .health_check_interval(Duration::from_secs(1))
    ///     .dead_connection_timeout(Duration::from_secs(3))
    ///     .build()
    ///     .unwrap();
    /// # drop(client);
    /// ```
    pub fn dead_connection_timeout(mut self, timeout: Duration) -> Self {
        self.dead_connection_timeout = timeout;
        self
    }

    /// The longest wait between reconnect attempts (default 25 s, Stream's cap). Values
    /// below Stream's shortest delay, 250 ms, count as 250 ms, so a lost connection never
    /// turns into a busy reconnect loop.
    ///
    /// ```
    /// # use stream_chat_client::ChatClient;
    /// # use std::time::{Duration, Instant};
    /// let client = ChatClient::builder("key").max_reconnect_delay(Duration::from_secs(1)).build().unwrap();
    /// # drop(client);
    /// ```
    pub fn max_reconnect_delay(mut self, delay: Duration) -> Self {
        self.max_reconnect_delay = delay;
        self
    }

    /// How long calls that need the connection id (`watch()`, queries with `watch` or
    /// `presence`) wait for the socket before failing (default 10 s). A call made while
    /// nobody is connected waits for the next connect, so a UI can fire it while it
    /// connects. When the wait runs out the call fails with [`ErrorKind::Timeout`] if a
    /// user is set but the socket is not up, or [`ErrorKind::NotConnected`] if nobody
    /// connected. A call made while a user was set fails with
    /// [`ErrorKind::NotConnected`] at once if that user is disconnected (by
    /// `disconnect()` or a terminal connect error, the cause attached) before the socket
    /// is up.
    ///
    /// ```
    /// # use stream_chat_client::ChatClient;
    /// # use std::time::{Duration, Instant};
    /// let client = ChatClient::builder("key").wait_for_connection_timeout(Duration::from_secs(2)).build().unwrap();
    /// # drop(client);
    /// ```
    pub fn wait_for_connection_timeout(mut self, timeout: Duration) -> Self {
        self.wait_for_connection_timeout = timeout;
        self
    }

    /// After a reconnect, at most this many missed messages per watched channel are
    /// delivered as `message.new` events (default 500; the newest ones). A channel that
    /// missed more is listed in `connection.recovered`'s `gaps` with the message to page
    /// back from. See `docs/channels.md`, "Reconnects".
    ///
    /// ```
    /// # use stream_chat_client::ChatClient;
    /// let client = ChatClient::builder("key").max_recovered_messages(1000).build().unwrap();
    /// # drop(client);
    /// ```
    pub fn max_recovered_messages(mut self, limit: usize) -> Self {
        self.max_recovered_messages = limit;
        self
    }

    /// Builds the client and makes it the global [`ChatClient::instance`].
    ///
    /// Fails with [`ErrorKind::InvalidArgument`] for an empty API key, a base URL that is
    /// not `http(s)://host[:port]`, a zero duration (other than `max_reconnect_delay`),
    /// or a `dead_connection_timeout` not above `health_check_interval`. Durations above
    /// 30 days are capped to 30 days, so `Duration::MAX` means "no limit" in practice.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use stream_chat_client::{ChatClient, ErrorKind};
    /// let err = ChatClient::builder("").build().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    /// let err = ChatClient::builder("key").base_url("ftp://x").build().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    /// let err = ChatClient::builder("key")
    ///     .health_check_interval(Duration::from_secs(30))
    ///     .dead_connection_timeout(Duration::from_secs(30))
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    /// // "No limit": capped, never an overflow.
    /// assert!(ChatClient::builder("key").connect_timeout(Duration::MAX).build().is_ok());
    /// ```
    pub fn build(self) -> Result<ChatClient, ChatError> {
        let invalid = |msg: String| ChatError::new(ErrorKind::InvalidArgument, msg);
        if self.api_key.trim().is_empty() {
            return Err(invalid("the API key is empty".into()));
        }
        let mut base = Url::parse(&self.base_url).map_err(|e| {
            invalid(format!("the base URL '{}' is not a URL", self.base_url)).with_source(e)
        })?;
        let ws_scheme = match base.scheme() {
            "http" => "ws",
            "https" => "wss",
            other => {
                return Err(invalid(format!(
                    "the base URL must be http or https, not '{other}'"
                )));
            }
        };
        if base.host().is_none() {
            return Err(invalid(format!(
                "the base URL '{}' has no host",
                self.base_url
            )));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        base.set_fragment(None);
        let mut durations = [
            ("connect_timeout", self.connect_timeout),
            ("request_timeout", self.request_timeout),
            ("health_check_interval", self.health_check_interval),
            ("dead_connection_timeout", self.dead_connection_timeout),
            ("max_reconnect_delay", self.max_reconnect_delay),
            (
                "wait_for_connection_timeout",
                self.wait_for_connection_timeout,
            ),
        ];
        for (name, d) in &mut durations {
            if d.is_zero() && *name != "max_reconnect_delay" {
                return Err(invalid(format!("{name} must be above zero")));
            }
            *d = (*d).min(MAX_DURATION);
        }
        let [
            (_, connect_timeout),
            (_, request_timeout),
            (_, health_check_interval),
            (_, dead_connection_timeout),
            (_, max_reconnect_delay),
            (_, wait_for_connection_timeout),
        ] = durations;
        if dead_connection_timeout <= health_check_interval {
            return Err(invalid(format!(
                "dead_connection_timeout ({dead_connection_timeout:?}) must be above \
                 health_check_interval ({health_check_interval:?}), or every healthy \
                 connection is declared dead"
            )));
        }
        let max_reconnect_delay = max_reconnect_delay.max(MIN_RECONNECT_DELAY);
        if self.max_recovered_messages == 0 {
            return Err(invalid("max_recovered_messages must be above zero".into()));
        }
        let mut ws_base = base.clone();
        ws_base
            .set_scheme(ws_scheme)
            .map_err(|()| invalid("cannot derive the WebSocket URL".into()))?;
        let tls = (ws_scheme == "wss").then(tls_config);
        let bus = EventBus::start(self.executor.clone()).map_err(|e| {
            ChatError::new(ErrorKind::ShutDown, "cannot start the event thread").with_source(e)
        })?;
        let socket = SocketConfig {
            ws_base,
            api_key: self.api_key.clone(),
            connect_timeout,
            health_check_interval,
            dead_connection_timeout,
            max_reconnect_delay,
            tls,
        };
        let pool = WorkerPool::builder()
            .threads(self.worker_threads)
            .thread_name(WORKER_NAME)
            .build();
        let http = Arc::new(Http::new(
            base.clone(),
            self.api_key.clone(),
            connect_timeout,
            request_timeout,
        ));
        let tracker = Arc::new(Tracker::new(
            bus.sender(),
            Arc::clone(&http),
            self.max_recovered_messages,
        ));
        let hub = Hub::new(bus.sender(), socket, tracker).map_err(|e| {
            ChatError::new(ErrorKind::ShutDown, "cannot start the timer thread").with_source(e)
        })?;
        let client = ChatClient {
            inner: Arc::new(Inner {
                http,
                hub: Arc::new(hub),
                bus,
                pool,
                executor: self.executor,
                base_url: base,
                api_key: self.api_key,
                connect_timeout,
                wait_for_connection_timeout,
            }),
        };
        let previous = lock(&INSTANCE).replace(client.clone());
        if previous.is_some() {
            log::warn!("a new ChatClient was built; ChatClient::instance() now returns it");
        }
        Ok(client)
    }
}

impl fmt::Debug for ChatClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatClientBuilder")
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

fn tls_config() -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|e| {
            // ring supports the default versions; this cannot fail in practice.
            log::error!("TLS setup failed ({e}); falling back to the default config");
            rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        });
    Arc::new(config)
}

/// The Stream Chat client: connects users, keeps the WebSocket up and delivers events.
///
/// Every operation returns a cold [`Call`]: run it with `execute()` (blocks the calling
/// thread) or `enqueue(callback)` (runs on the client's worker pool; the callback runs
/// on the client's callback executor). Cloning is cheap and clones share everything;
/// the client is `Send + Sync`.
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
    inner: Arc<Inner>,
}

struct Inner {
    http: Arc<Http>,
    hub: Arc<Hub>,
    bus: EventBus,
    pool: WorkerPool,
    executor: Executor,
    base_url: Url,
    api_key: String,
    connect_timeout: Duration,
    wait_for_connection_timeout: Duration,
}

impl Inner {
    fn shutdown(&self) {
        self.hub.shutdown();
        self.pool.shutdown();
        self.bus.shutdown();
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl ChatClient {
    /// Starts configuring a client for `api_key`.
    ///
    /// ```
    /// let client = stream_chat_client::ChatClient::builder("api-key").build().unwrap();
    /// # drop(client);
    /// ```
    pub fn builder(api_key: impl Into<String>) -> ChatClientBuilder {
        ChatClientBuilder {
            api_key: api_key.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            executor: Executor::pool_thread(),
            worker_threads: 0,
            connect_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(30),
            health_check_interval: Duration::from_secs(10),
            dead_connection_timeout: Duration::from_secs(30),
            max_reconnect_delay: Duration::from_secs(25),
            wait_for_connection_timeout: Duration::from_secs(10),
            max_recovered_messages: 500,
        }
    }

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
    /// [`ErrorKind::ShutDown`] and cancels running ones, ends the worker pool, timer and
    /// event threads, drops every listener, and clears [`ChatClient::instance`] if it is
    /// this client. Later connects and enqueued calls fail with [`ErrorKind::ShutDown`].
    /// Returns without waiting;
    /// the threads end as soon as what they run returns. Idempotent; safe in a callback.
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
        self.inner.shutdown();
        let mut instance = lock(&INSTANCE);
        let mine = instance
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(&c.inner, &self.inner));
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
        &self.inner.api_key
    }

    /// The REST base URL, normalised to end with `/`.
    ///
    /// ```
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// assert_eq!(client.base_url(), "https://chat.stream-io-api.com/");
    /// ```
    pub fn base_url(&self) -> &str {
        self.inner.base_url.as_str()
    }

    /// Connects `user` with a JWT (`&str`/`String`) or a [`TokenProvider`](crate::TokenProvider).
    ///
    /// Before any network access a fixed token must decode and be issued for `user.id`
    /// ([`ErrorKind::EmptyToken`], [`ErrorKind::InvalidToken`],
    /// [`ErrorKind::TokenUserMismatch`]); a provider's token is checked the same way once
    /// loaded. Resolves once, with the server's `me` and the connection id, or with the
    /// error: Stream's code for a rejected token, [`ErrorKind::Network`] for a refused or
    /// closed connection, [`ErrorKind::Timeout`] after the connect timeout.
    ///
    /// Connecting the user who is already connected (or connecting) resolves with the
    /// existing connection (concurrent connects of one user share one attempt) and hands
    /// it the new `token`: a [`TokenProvider`](crate::TokenProvider) is used for later
    /// reloads (after code 40) while the cached token stays; a fixed token replaces the
    /// cached one (for REST calls and reconnects) and ends reloads. Another user fails with [`ErrorKind::AlreadyConnected`] until
    /// [`disconnect`](Self::disconnect). Cancelling the call aborts the attempt when no
    /// other connect waits for it.
    ///
    /// The connect timeout counts from `execute()`/`enqueue()`. While it waits for the
    /// server the call holds no worker thread.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ErrorKind, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let token = server.create_token("bender", None);
    /// client.connect_user(User::new("bender"), token).enqueue(move |result| {
    ///     tx.send(result.is_success()).unwrap();
    /// });
    /// assert!(rx.recv().unwrap());
    /// let other = client.connect_user(User::new("fry"), server.create_token("fry", None)).execute();
    /// assert_eq!(other.error().kind(), ErrorKind::AlreadyConnected);
    /// ```
    pub fn connect_user(&self, user: User, token: impl Into<TokenSource>) -> Call<ConnectionData> {
        let source: TokenSource = token.into();
        let client = self.clone();
        self.deferred(move |cancel, done| {
            client.start_token_connect(cancel, done, user.clone(), source.clone(), false)
        })
    }

    /// Disconnects whoever is connected, then connects `user` (Kotlin's `switchUser`).
    /// Works when nobody is connected too.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let data = client.switch_user(User::new("fry"), server.create_token("fry", None)).execute().into_result().unwrap();
    /// assert_eq!(data.user.id, "fry");
    /// ```
    pub fn switch_user(&self, user: User, token: impl Into<TokenSource>) -> Call<ConnectionData> {
        let source: TokenSource = token.into();
        let client = self.clone();
        self.deferred(move |cancel, done| {
            client.start_token_connect(cancel, done, user.clone(), source.clone(), true)
        })
    }

    /// Creates a guest user with `POST /guest` (no token needed), then connects it with
    /// the token and user the server returns. Errors of `/guest` come back as they are.
    ///
    /// ```
    /// use stream_chat_client::ChatClient;
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// let data = client.connect_guest_user("bender", "Bender").execute().into_result().unwrap();
    /// assert_eq!(data.user.role.as_deref(), Some("guest"));
    /// ```
    pub fn connect_guest_user(
        &self,
        user_id: impl Into<String>,
        username: impl Into<String>,
    ) -> Call<ConnectionData> {
        let (user_id, username) = (user_id.into(), username.into());
        let client = self.clone();
        self.deferred(move |cancel, done| {
            client.start_guest_connect(cancel, done, &user_id, &username)
        })
    }

    /// Connects the anonymous user: no token, and the server's `!anon` user back.
    ///
    /// ```
    /// use stream_chat_client::ChatClient;
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// let data = client.connect_anonymous_user().execute().into_result().unwrap();
    /// assert_eq!(data.user.id, "!anon");
    /// assert_eq!(data.user.role.as_deref(), Some("anonymous"));
    /// ```
    pub fn connect_anonymous_user(&self) -> Call<ConnectionData> {
        let client = self.clone();
        self.deferred(move |cancel, done| {
            let Some(pending) = client.pending(cancel, done, ANONYMOUS_USER_ID) else {
                return;
            };
            let user = User::new(ANONYMOUS_USER_ID);
            let result =
                client
                    .inner
                    .hub
                    .join_or_start(&pending, user, || Ok(AuthMode::Anonymous), false);
            if let Err(err) = result {
                pending.finish(Err(err));
            }
        })
    }

    /// Closes the connection and forgets the user. Fails with
    /// [`ErrorKind::NotConnected`] when nobody is connected. Connects still waiting fail
    /// with [`ErrorKind::NotConnected`]. It resolves once the connection thread has ended
    /// (after a second at most), without holding a worker thread meanwhile, so it is
    /// never stuck behind pending connects.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ConnectionState, ErrorKind};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// assert_eq!(client.disconnect().execute().error().kind(), ErrorKind::NotConnected);
    /// client.connect_anonymous_user().execute().into_result().unwrap();
    /// client.disconnect().execute().into_result().unwrap();
    /// assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    /// assert!(client.current_user().is_none());
    /// ```
    pub fn disconnect(&self) -> Call<()> {
        let client = self.clone();
        self.deferred(move |_, done| client.inner.hub.disconnect(done))
    }

    /// Closes the WebSocket (close code 1000) and stops reconnecting, but keeps the user,
    /// the token and the watched channels (Kotlin's `disconnectSocket()`): for an app going
    /// to the background. The state becomes [`ConnectionState::Disconnected`] (a
    /// `connection.changed` event) and no events arrive until
    /// [`reconnect_socket`](Self::reconnect_socket). Connects still waiting fail with
    /// [`ErrorKind::NotConnected`]. Fails with [`ErrorKind::NotConnected`] when no user is
    /// set; calling it again while paused succeeds. Like [`disconnect`](Self::disconnect),
    /// it resolves once the connection thread has ended, holding no worker meanwhile.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ConnectionState, ErrorKind};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// assert_eq!(client.disconnect_socket().execute().error().kind(), ErrorKind::NotConnected);
    /// client.connect_anonymous_user().execute().into_result().unwrap();
    /// client.disconnect_socket().execute().into_result().unwrap();
    /// assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    /// assert_eq!(client.current_user().unwrap().id, "!anon");
    /// ```
    pub fn disconnect_socket(&self) -> Call<()> {
        let client = self.clone();
        self.deferred(move |_, done| client.inner.hub.pause(done))
    }

    /// Reopens the WebSocket of the user kept by
    /// [`disconnect_socket`](Self::disconnect_socket) (Kotlin's `reconnectSocket()`), with
    /// the cached token (reloaded only after code 40, as on any reconnect). Resolves like a
    /// connect: with the new [`ConnectionData`], or with the error ([`ErrorKind::Timeout`]
    /// when the socket is not up within the connect timeout; the client then keeps trying
    /// as after a lost connection). Then the watched channels are recovered as after an
    /// automatic reconnect: re-watched, messages missed meanwhile delivered as
    /// `message.new` events flagged `recovered`, then `connection.recovered`.
    ///
    /// When the socket is up (or connecting) it resolves with that connection. Fails with
    /// [`ErrorKind::NotConnected`] when no user is set.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ConnectionState, ErrorKind};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// assert_eq!(client.reconnect_socket().execute().error().kind(), ErrorKind::NotConnected);
    /// let first = client.connect_anonymous_user().execute().into_result().unwrap();
    /// client.disconnect_socket().execute().into_result().unwrap();
    /// let data = client.reconnect_socket().execute().into_result().unwrap();
    /// assert_ne!(data.connection_id, first.connection_id);
    /// assert_eq!(client.connection_state(), ConnectionState::Connected);
    /// ```
    pub fn reconnect_socket(&self) -> Call<ConnectionData> {
        let client = self.clone();
        self.deferred(move |cancel, done| {
            let label = client.current_user().map(|u| u.id).unwrap_or_default();
            let Some(pending) = client.pending(cancel, done, &label) else {
                return;
            };
            if let Err(err) = client.inner.hub.resume(&pending) {
                pending.finish(Err(err));
            }
        })
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
        let session = self.inner.hub.current();
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
        let session = self.inner.hub.current();
        session.and_then(|s| s.tokens().and_then(|t| t.cached()))
    }

    /// The WebSocket connection id while connected.
    ///
    /// ```
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// assert!(client.connection_id().is_none());
    /// ```
    pub fn connection_id(&self) -> Option<String> {
        let session = self.inner.hub.current();
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
        self.inner.hub.state()
    }

    /// Registers `listener` for every event, from now on (also before connecting): the
    /// events published after this call returns, never older ones the dispatcher has not
    /// delivered yet.
    /// Listeners run in event order on the client's callback executor; keep the returned
    /// [`Subscription`] as long as you want events.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ChatEvent, ConnectionState};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let _subscription = client.subscribe(move |event| {
    ///     if let ChatEvent::ConnectionChanged { state, .. } = event {
    ///         let _ = tx.send(*state);
    ///     }
    /// });
    /// client.connect_anonymous_user().execute().into_result().unwrap();
    /// assert_eq!(rx.recv().unwrap(), ConnectionState::Connecting);
    /// assert_eq!(rx.recv().unwrap(), ConnectionState::Connected);
    /// ```
    pub fn subscribe(&self, listener: impl Fn(&ChatEvent) + Send + Sync + 'static) -> Subscription {
        self.inner.bus.subscribe(None, listener)
    }

    /// Registers `listener` for events whose [`kind`](ChatEvent::kind) is one of
    /// `event_types` (e.g. `"health.check"`, `"connection.changed"`, `"message.new"`).
    ///
    /// ```
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// let _s = client.subscribe_for(&["health.check"], |event| println!("{event:?}"));
    /// ```
    pub fn subscribe_for(
        &self,
        event_types: &[&str],
        listener: impl Fn(&ChatEvent) + Send + Sync + 'static,
    ) -> Subscription {
        let types = event_types.iter().map(|t| (*t).to_owned()).collect();
        self.inner.bus.subscribe(Some(types), listener)
    }

    /// Like [`subscribe_for`](Self::subscribe_for), for the first matching event only
    /// (Kotlin's `subscribeForSingle`): `listener` runs exactly once, also when events
    /// arrive concurrently, and the subscription is then disposed. Keep the returned
    /// [`Subscription`] until then: dropping it stops delivery.
    ///
    /// ```
    /// use stream_chat_client::ChatClient;
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let subscription = client.subscribe_for_single(&["health.check"], move |event| {
    ///     let _ = tx.send(event.kind().to_owned());
    /// });
    /// client.connect_anonymous_user().execute().into_result().unwrap();
    /// assert_eq!(rx.recv().unwrap(), "health.check");
    /// assert!(subscription.is_disposed());
    /// // A later health.check (after a reopened socket) is not delivered to it.
    /// let (seen_tx, seen) = std::sync::mpsc::channel();
    /// let _all = client.subscribe_for(&["health.check"], move |_| { let _ = seen_tx.send(()); });
    /// client.disconnect_socket().execute().into_result().unwrap();
    /// client.reconnect_socket().execute().into_result().unwrap();
    /// seen.recv().unwrap();
    /// assert!(rx.try_recv().is_err());
    /// ```
    pub fn subscribe_for_single(
        &self,
        event_types: &[&str],
        listener: impl Fn(&ChatEvent) + Send + Sync + 'static,
    ) -> Subscription {
        let types: Vec<String> = event_types.iter().map(|t| (*t).to_owned()).collect();
        self.inner.bus.subscribe_single(
            format!("the first of types {types:?}"),
            move |e| types.iter().any(|t| t == e.kind()),
            listener,
        )
    }

    /// Queries users (`GET /users`) as the connected user. With `presence: Some(true)` it
    /// waits for the socket like [`ChannelClient::watch`] (bounded by
    /// [`wait_for_connection_timeout`](ChatClientBuilder::wait_for_connection_timeout)) and
    /// sends its connection id, so the server reports those users' presence changes to it;
    /// otherwise it goes out at once, as soon as a user is set (connected or not).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, QueryUsersRequest, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let mut request = QueryUsersRequest::default();
    /// request.filter_conditions.insert("id".into(), serde_json::json!({"$in": ["bender"]}));
    /// let users = client.query_users(request).execute().into_result().unwrap();
    /// assert_eq!(users[0].id, "bender");
    /// ```
    pub fn query_users(&self, request: QueryUsersRequest) -> Call<Vec<User>> {
        channel::query_users(self, request)
    }

    /// A client for the channel `channel_type:channel_id` (Kotlin's
    /// `client.channel(type, id)`). Fails with [`ErrorKind::InvalidArgument`] unless the
    /// type matches `^[\w_-]+$` and the id `^[\w!_-]+$` (ASCII), as the JS client checks.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ErrorKind};
    /// # let client = ChatClient::builder("key").build().unwrap();
    /// let channel = client.channel("messaging", "general").unwrap();
    /// assert_eq!(channel.cid(), "messaging:general");
    /// assert_eq!(client.channel("messaging", "a b").unwrap_err().kind(), ErrorKind::InvalidArgument);
    /// ```
    pub fn channel(
        &self,
        channel_type: &str,
        channel_id: &str,
    ) -> Result<ChannelClient, ChatError> {
        channel::validate(channel_type, channel_id)?;
        Ok(ChannelClient::new(self.clone(), channel_type, channel_id))
    }

    /// A client for the channel with this cid (`"livestream:demo"`). Fails with
    /// [`ErrorKind::InvalidArgument`] for an empty cid, one without `:`, or an invalid
    /// type or id.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ErrorKind};
    /// # let client = ChatClient::builder("key").build().unwrap();
    /// let channel = client.channel_cid("livestream:demo").unwrap();
    /// assert_eq!((channel.channel_type(), channel.channel_id()), ("livestream", "demo"));
    /// assert_eq!(client.channel_cid("demo").unwrap_err().kind(), ErrorKind::InvalidArgument);
    /// ```
    pub fn channel_cid(&self, cid: &str) -> Result<ChannelClient, ChatError> {
        let (channel_type, channel_id) = channel::parse_cid(cid)?;
        Ok(ChannelClient::new(self.clone(), channel_type, channel_id))
    }

    /// Queries channels (`POST /channels`): `filter_conditions`, `sort`, `limit`,
    /// `offset`, `message_limit`, `watch`, `presence`, sent as given. With `watch` (or
    /// `presence`) it waits for the connection like
    /// [`ChannelClient::watch`], and the returned channels are watched across reconnects.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, QueryChannelsRequest, SortParam, User};
    /// use serde_json::json;
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// client.channel("messaging", "pe").unwrap().create(["bender"]).execute().into_result().unwrap();
    /// let mut request = QueryChannelsRequest {
    ///     sort: vec![SortParam { field: "last_message_at".into(), direction: -1 }],
    ///     limit: Some(10),
    ///     watch: Some(true),
    ///     ..Default::default()
    /// };
    /// request.filter_conditions.insert("members".into(), json!({"$in": ["bender"]}));
    /// let channels = client.query_channels(request).execute().into_result().unwrap();
    /// assert_eq!(channels[0].channel.cid, "messaging:pe");
    /// ```
    pub fn query_channels(&self, request: QueryChannelsRequest) -> Call<Vec<ChannelState>> {
        let watch = request.watch == Some(true);
        if !watch && request.presence != Some(true) {
            let client = self.clone();
            return self.call(move |cancel| {
                let run = || -> Result<Vec<ChannelState>, ChatError> {
                    let req = Request::post("channels", &request)?;
                    let response: QueryChannelsResponse =
                        client.send(&req, &client.auth()?, cancel)?;
                    Ok(response.channels)
                };
                run().into()
            });
        }
        let client = self.clone();
        self.on_connection(move |cancel, auth, session, connection_id| {
            let req = Request::post("channels", &request)?;
            let response: QueryChannelsResponse = client.send(&req, auth, cancel)?;
            if watch {
                client
                    .tracker()
                    .watched(session, connection_id, &response.channels);
            }
            Ok(response.channels)
        })
    }

    /// Registers `listener` for events of type `T` only, handed over as `T` (Kotlin's
    /// `subscribeFor<NewMessageEvent>`). Like [`subscribe`](Self::subscribe): registered at
    /// once, also before connecting, delivered in order on the callback executor.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, NewMessageEvent, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let _subscription = client.subscribe_for_type::<NewMessageEvent>(move |event| {
    ///     let _ = tx.send(event.message.text.clone());
    /// });
    /// client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// channel.send_message(Message::text("hi")).execute().into_result().unwrap();
    /// assert_eq!(rx.recv().unwrap().as_deref(), Some("hi"));
    /// ```
    pub fn subscribe_for_type<T: EventKind>(
        &self,
        listener: impl Fn(&T) + Send + Sync + 'static,
    ) -> Subscription {
        self.inner.bus.subscribe_where(
            format!("type {}", T::TYPE),
            |e| e.kind() == T::TYPE,
            move |e| {
                if let Some(typed) = T::from_chat_event(e) {
                    listener(&typed);
                }
            },
        )
    }

    pub(crate) fn call<T: Send + 'static>(
        &self,
        work: impl Fn(&CancelToken) -> ChatResult<T> + Send + Sync + 'static,
    ) -> Call<T> {
        Call::new(&self.inner.pool, work).with_executor(self.inner.executor.clone())
    }

    pub(crate) fn bus(&self) -> &EventBus {
        &self.inner.bus
    }

    pub(crate) fn tracker(&self) -> &Arc<Tracker> {
        self.inner.hub.tracker()
    }

    /// Sends `req` as `auth`; cancelling the call abandons it.
    pub(crate) fn send<T: DeserializeOwned>(
        &self,
        req: &Request<'_>,
        auth: &Auth,
        cancel: &CancelToken,
    ) -> Result<T, ChatError> {
        self.inner.http.send_cancellable(req, auth, cancel)
    }

    /// The id of the current session, for calls that wait for its connection.
    pub(crate) fn session_ref(&self) -> Option<u64> {
        self.inner.hub.current().map(|s| s.id())
    }

    /// REST auth of the current session (connected or connecting).
    pub(crate) fn auth(&self) -> Result<Auth, ChatError> {
        let session = self
            .inner
            .hub
            .current()
            .ok_or_else(|| ChatError::new(ErrorKind::NotConnected, "no user is connected"))?;
        let connection_id = session.connection_id();
        Ok(session.rest_auth(connection_id))
    }

    /// A call that sends `request` on a live connection, waiting for one (bounded by
    /// `wait_for_connection_timeout`, see [`Hub::wait_connection`]) without holding a
    /// thread when enqueued; `execute()` waits and sends on the caller's thread. When the
    /// server calls the connection id stale (`codes::CONNECTION_ID_NOT_FOUND`) or the connection was replaced
    /// meanwhile, it is sent once more on a newer connection.
    pub(crate) fn on_connection<T: Send + 'static>(
        &self,
        request: impl Fn(&CancelToken, &Auth, &Arc<Session>, &str) -> Result<T, ChatError>
        + Send
        + Sync
        + 'static,
    ) -> Call<T> {
        let origin = self.session_ref();
        let (client, request) = (self.clone(), Arc::new(request) as Arc<ConnectedRequest<T>>);
        self.deferred(move |cancel, done| {
            let connected = Connected {
                client: client.clone(),
                cancel: cancel.clone(),
                request: Arc::clone(&request),
            };
            // A blocked caller (execute, or a combinator's work) sends on its own thread: the
            // pool may have no other thread to run the request.
            if !done.caller_waits() {
                connected.deferred(done.started_at(), origin, None, done);
            } else {
                let result = connected.blocking(done.started_at(), origin);
                done.complete(result.into());
            }
        })
    }

    /// A deferred call on the client's pool, delivering through its executor.
    pub(crate) fn deferred<T: Send + 'static>(
        &self,
        start: impl Fn(&CancelToken, Completer<T>) + Send + Sync + 'static,
    ) -> Call<T> {
        Call::deferred(&self.inner.pool, start).with_executor(self.inner.executor.clone())
    }

    /// Registers a connect of `label` whose deadline counts from its call's start; `None`
    /// when it already resolved (cancelled, or the client is shut down).
    fn pending(
        &self,
        cancel: &CancelToken,
        done: Completer<ConnectionData>,
        label: &str,
    ) -> Option<Arc<Pending>> {
        let hub = &self.inner.hub;
        let pending = Pending::start(hub, cancel, done, self.inner.connect_timeout, label);
        if hub.is_shut_down() {
            pending.finish(Err(shut_down_error()));
        }
        (!pending.is_finished()).then_some(pending)
    }

    fn start_token_connect(
        &self,
        cancel: &CancelToken,
        done: Completer<ConnectionData>,
        user: User,
        source: TokenSource,
        replace: bool,
    ) {
        let Some(pending) = self.pending(cancel, done, &user.id) else {
            return;
        };
        if let Err(err) = self.token_connect(&pending, user, source, replace) {
            pending.finish(Err(err));
        }
    }

    fn token_connect(
        &self,
        pending: &Arc<Pending>,
        user: User,
        source: TokenSource,
        replace: bool,
    ) -> Result<(), ChatError> {
        if user.id.is_empty() {
            return Err(ChatError::new(
                ErrorKind::InvalidArgument,
                "the user id is empty",
            ));
        }
        if let Some(token) = source.fixed_value() {
            token::validate(token, &user.id)?;
        }
        if !replace {
            self.adopt_token_source(&user.id, &source);
        }
        let user_id = user.id.clone();
        self.inner.hub.join_or_start(
            pending,
            user,
            move || Ok(AuthMode::Jwt(TokenManager::new(&user_id, source))),
            replace,
        )
    }

    /// A connect of the user whose session is current hands that session its token
    /// source for later loads (review #14); the join itself calls no provider.
    fn adopt_token_source(&self, user_id: &str, source: &TokenSource) {
        let current = self.inner.hub.current();
        if let Some(session) = current.filter(|s| s.user_id == user_id)
            && let Some(tokens) = session.tokens()
        {
            tokens.adopt(source.clone());
        }
    }

    /// `POST /guest` (on this thread: it is a REST call), then a token connect, all within
    /// one connect deadline. A connect resolved meanwhile (cancelled, timed out) starts no
    /// session.
    fn start_guest_connect(
        &self,
        cancel: &CancelToken,
        done: Completer<ConnectionData>,
        user_id: &str,
        username: &str,
    ) {
        let Some(pending) = self.pending(cancel, done, user_id) else {
            return;
        };
        let run = || -> Result<(), ChatError> {
            if user_id.is_empty() {
                return Err(ChatError::new(
                    ErrorKind::InvalidArgument,
                    "the guest user id is empty",
                ));
            }
            if let Some(current) = self.inner.hub.current().as_ref()
                && current.user_id != user_id
            {
                return Err(already_connected(&current.user_id));
            }
            let body = GuestRequest {
                user: User::new(user_id).with_name(username),
            };
            let stop = || pending.is_finished();
            let request = Request::post("guest", &body)?;
            let response: GuestResponse = self
                .inner
                .http
                .send_until(&request, &Auth::None, &stop, Some(pending.deadline))
                .map_err(|e| match e.kind() {
                    ErrorKind::Timeout => ChatError::new(
                        ErrorKind::Timeout,
                        format!(
                            "POST /guest did not complete within the connect timeout ({:?})",
                            self.inner.connect_timeout
                        ),
                    )
                    .with_source(e),
                    _ => e,
                })?;
            let mut user = response.user;
            // Server-managed fields are not sent back as user details.
            user.created_at = None;
            user.updated_at = None;
            user.last_active = None;
            user.online = None;
            self.token_connect(
                &pending,
                user,
                TokenSource::fixed(response.access_token),
                false,
            )
        };
        if let Err(err) = run() {
            pending.finish(Err(err));
        }
    }
}

impl fmt::Debug for ChatClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (state, session) = self.inner.hub.status();
        f.debug_struct("ChatClient")
            .field("api_key", &self.inner.api_key)
            .field("base_url", &self.inner.base_url.as_str())
            .field("state", &state)
            .field("user_id", &session.as_ref().map(|s| s.user_id.clone()))
            .finish()
    }
}

/// The prefix of the worker pool's thread names.
const WORKER_NAME: &str = "stream-chat-worker";

type ConnectedRequest<T> =
    dyn Fn(&CancelToken, &Auth, &Arc<Session>, &str) -> Result<T, ChatError> + Send + Sync;

/// One run of a call made with [`ChatClient::on_connection`].
struct Connected<T> {
    client: ChatClient,
    cancel: CancelToken,
    request: Arc<ConnectedRequest<T>>,
}

impl<T: Send + 'static> Connected<T> {
    fn wait(
        &self,
        start: Instant,
        origin: Option<u64>,
        stale: Option<String>,
        done: Box<dyn FnOnce(Result<Connection, ChatError>) + Send>,
    ) {
        let inner = &self.client.inner;
        inner.hub.wait_connection(
            &self.cancel,
            start,
            inner.wait_for_connection_timeout,
            origin,
            stale,
            done,
        );
    }

    fn send(&self, (session, connection_id): &Connection) -> Result<T, ChatError> {
        let auth = session.rest_auth(Some(connection_id.clone()));
        (self.request)(&self.cancel, &auth, session, connection_id)
    }

    /// Whether `err` from a send on `connection` is worth one more send on a newer one.
    fn stale(&self, err: &ChatError, (session, connection_id): &Connection) -> bool {
        let retry = !err.is_cancelled()
            && !session.is_stopped()
            && (err.stream_code() == Some(codes::CONNECTION_ID_NOT_FOUND)
                || session.connection_id().as_deref() != Some(connection_id.as_str()));
        if retry {
            log::info!(
                "connection {connection_id} was replaced during the call ({err}); retrying once"
            );
        }
        retry
    }

    /// Waits on this thread, then sends (`execute()`).
    fn blocking(&self, start: Instant, origin: Option<u64>) -> Result<T, ChatError> {
        let wait_here = |start, origin, stale| {
            let (tx, rx) = crossbeam_channel::bounded(1);
            self.wait(
                start,
                origin,
                stale,
                Box::new(move |r| {
                    let _ = tx.send(r);
                }),
            );
            rx.recv().unwrap_or_else(|_| Err(shut_down_error()))
        };
        let connection = wait_here(start, origin, None)?;
        match self.send(&connection) {
            Err(err) if self.stale(&err, &connection) => {
                let (session, stale) = connection;
                self.send(&wait_here(Instant::now(), Some(session.id()), Some(stale))?)
            }
            result => result,
        }
    }

    /// Waits holding no thread, then sends on the pool and completes `done` (`enqueue`).
    /// With `stale` set this is the retry, which is not retried again.
    fn deferred(
        self,
        start: Instant,
        origin: Option<u64>,
        stale: Option<String>,
        done: Completer<T>,
    ) {
        let retried = stale.is_some();
        let client = self.client.clone();
        let waiting = Connected {
            client: client.clone(),
            cancel: self.cancel.clone(),
            request: Arc::clone(&self.request),
        };
        waiting.wait(
            start,
            origin,
            stale,
            Box::new(move |connection| {
                let connection = match connection {
                    Ok(connection) => connection,
                    Err(err) => return done.complete(ChatResult::Failure(err)),
                };
                // Refused only once the pool is shut down: `done` is dropped, failing the
                // call with ShutDown.
                let _ = client
                    .inner
                    .pool
                    .spawn(move || match self.send(&connection) {
                        Err(err) if !retried && self.stale(&err, &connection) => {
                            let (session, stale) = connection;
                            self.deferred(Instant::now(), Some(session.id()), Some(stale), done);
                        }
                        result => done.complete(result.into()),
                    });
            }),
        );
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
