//! Building a client: [`ChatClientBuilder`], its [`Timeouts`], and the TLS setup.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use stream_chat_callbacks::{ChatError, Executor, WorkerPool};
use stream_chat_protocol::ChannelState;
use url::Url;

use super::ChatClient;
use super::core::{Core, Shared};
use super::timeouts::{Timeouts, invalid};
use crate::connection::{Hub, SocketConfig, Tracker};
use crate::events::{ChatEvent, EventBus};
use crate::rest::Http;
use crate::state::Store;

/// Stream's production API, the default base URL.
///
/// ```
/// use stream_chat_client::{ChatClient, DEFAULT_BASE_URL};
/// let client = ChatClient::builder("key").build().unwrap();
/// assert_eq!(client.base_url().trim_end_matches('/'), DEFAULT_BASE_URL);
/// ```
pub const DEFAULT_BASE_URL: &str = "https://chat.stream-io-api.com";

/// The prefix of the worker pool's thread names.
const WORKER_NAME: &str = "stream-chat-worker";

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
    pool: Option<WorkerPool>,
    timeouts: Timeouts,
    max_recovered_messages: usize,
    tls_roots: Result<crate::tls::Roots, ChatError>,
    #[cfg(feature = "offline")]
    offline: Option<std::path::PathBuf>,
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
            pool: None,
            timeouts: Timeouts::default(),
            max_recovered_messages: 500,
            tls_roots: Ok(None),
            #[cfg(feature = "offline")]
            offline: None,
        }
    }
}

impl ChatClientBuilder {
    /// Trusts these root certificates (DER) for `https` and `wss` instead of Mozilla's
    /// (`webpki-roots`, the default): a private CA, or a TLS-terminating proxy in front of
    /// the local server. Kotlin sets this on the `OkHttpClient` it passes to
    /// `ChatClient.Builder.okHttpClient(...)` (a custom `X509TrustManager`). A certificate
    /// that does not parse, or an empty list, fails [`build`](Self::build) with
    /// [`ErrorKind::InvalidArgument`].
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ErrorKind};
    /// let err = ChatClient::builder("key")
    ///     .base_url("https://chat.example.internal")
    ///     .tls_root_certificates([b"not DER".to_vec()])
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    /// ```
    pub fn tls_root_certificates<I, C>(mut self, certs: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Vec<u8>>,
    {
        self.tls_roots = crate::tls::roots(certs).map(Some);
        self
    }

    /// Keeps the state store in the SQLite file at `path` (created if missing; feature
    /// `offline`), Android's `StreamOfflinePluginFactory`: users, channels with members and
    /// reads, messages with reactions and replies, and each `query_channels` list. `build`
    /// loads the file into the store, so the last user's channel list and messages are in
    /// [`state()`](ChatClient::state) before any network; messages sent while disconnected
    /// are kept there and sent once connected ([`ChannelClient::send_message`](crate::ChannelClient::send_message)),
    /// and [`ChatClient::restore_user`] connects the last user again. A file that is not a
    /// database, or has a newer schema, is moved aside to `<path>.corrupt-<unix seconds>`
    /// (logged at WARN) and replaced; a path that cannot be opened (no such directory) makes
    /// `build` fail with [`ErrorKind::InvalidArgument`]. No token is stored. See
    /// `docs/state-and-offline.md`.
    ///
    /// ```
    /// use stream_chat_client::ChatClient;
    /// let dir = std::env::temp_dir().join(format!("offline-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let client = ChatClient::builder("key").offline(dir.join("chat.db")).build().unwrap();
    /// assert!(client.state().channels.is_empty());
    /// # drop(client);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    #[cfg(feature = "offline")]
    pub fn offline(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.offline = Some(path.into());
        self
    }

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

    /// Gives the client a worker pool of its own with this many threads, started by
    /// `build` and stopped by its shutdown. 0, the default, runs its calls on the pool all
    /// clients of the process share (the number of CPUs, at least 4 threads, started with
    /// the first client and kept): a process with many clients then needs no thread per
    /// client for calls. Either way the client's shutdown fails and cancels exactly its own
    /// calls. Connects and `disconnect()` hold a worker only for a moment: they wait for
    /// the connection without one. REST calls hold one while they run.
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

    /// Runs the client's calls on `pool`'s threads, through a
    /// [scope](WorkerPool::scoped) of it; takes precedence over
    /// [`worker_threads`](Self::worker_threads). For an app that sizes one pool for its
    /// clients and its own [`Call`](crate::Call)s (say, a pool for a group of clients that
    /// must not wait behind the others' REST calls): the client's shutdown still fails and
    /// cancels only its own calls and leaves the threads to the others; shutting `pool`
    /// itself down stops them for every client on it.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, WorkerPool};
    /// let pool = WorkerPool::builder().threads(2).thread_name("my-chat").build();
    /// let a = ChatClient::builder("key").worker_pool(&pool).build().unwrap();
    /// let b = ChatClient::builder("key").worker_pool(&pool).build().unwrap();
    /// a.shutdown();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// pool.spawn(move || tx.send("still running").unwrap()).unwrap();
    /// assert_eq!(rx.recv().unwrap(), "still running");
    /// # drop(b);
    /// ```
    pub fn worker_pool(mut self, pool: &WorkerPool) -> Self {
        self.pool = Some(pool.clone());
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
        self.timeouts.connect_timeout = timeout;
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
        self.timeouts.request_timeout = timeout;
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
        self.timeouts.health_check_interval = interval;
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
        self.timeouts.dead_connection_timeout = timeout;
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
        self.timeouts.max_reconnect_delay = delay;
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
        self.timeouts.wait_for_connection_timeout = timeout;
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

    /// Sets every time limit at once (see [`Timeouts`]); a setter called later changes its
    /// own value only.
    ///
    /// ```
    /// use std::time::Duration;
    /// use stream_chat_client::{ChatClient, Timeouts};
    /// let mut timeouts = Timeouts::default();
    /// timeouts.wait_for_connection_timeout = Duration::from_secs(2);
    /// let client = ChatClient::builder("key")
    ///     .timeouts(timeouts)
    ///     .connect_timeout(Duration::from_secs(3))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(client.timeouts().wait_for_connection_timeout, Duration::from_secs(2));
    /// assert_eq!(client.timeouts().connect_timeout, Duration::from_secs(3));
    /// ```
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
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
        let timeouts = self.timeouts.validated()?;
        if self.max_recovered_messages == 0 {
            return Err(invalid("max_recovered_messages must be above zero".into()));
        }
        let mut ws_base = base.clone();
        ws_base
            .set_scheme(ws_scheme)
            .map_err(|()| invalid("cannot derive the WebSocket URL".into()))?;
        let roots = self.tls_roots.clone()?;
        let tls = match ws_scheme {
            "wss" => Some(crate::tls::client_config(&roots)?),
            _ => None,
        };
        #[cfg(feature = "offline")]
        let offline = match &self.offline {
            Some(path) => Some(crate::offline::Offline::open(path)?),
            None => None,
        };
        let store = Arc::new(Store::new(self.executor.clone()));
        let hook = Arc::clone(&store);
        #[cfg(feature = "offline")]
        let connected = offline.clone();
        let runtime = crate::runtime::shared()?;
        let bus = EventBus::new(
            runtime.events.clone(),
            self.executor.clone(),
            Some(Arc::new(move |e: &ChatEvent| {
                hook.apply(e);
                // The socket is back: send what waits (after the store saw the event).
                #[cfg(feature = "offline")]
                if let (Some(offline), ChatEvent::ConnectionChanged { state, .. }) = (&connected, e)
                    && state.is_connected()
                {
                    offline.connected();
                }
            })),
        );
        let socket = SocketConfig {
            ws_base,
            api_key: self.api_key.clone(),
            connect_timeout: timeouts.connect_timeout,
            health_check_interval: timeouts.health_check_interval,
            dead_connection_timeout: timeouts.dead_connection_timeout,
            max_reconnect_delay: timeouts.max_reconnect_delay,
            tls,
        };
        let pool = match (&self.pool, self.worker_threads) {
            (Some(pool), _) => pool.scoped(),
            (None, 0) => runtime.pool.scoped(),
            (None, threads) => WorkerPool::builder()
                .threads(threads)
                .thread_name(WORKER_NAME)
                .build(),
        };
        let http = Arc::new(Http::new(
            base.clone(),
            self.api_key.clone(),
            timeouts.connect_timeout,
            timeouts.request_timeout,
            &roots,
        ));
        let rewatched = Arc::clone(&store);
        let tracker = Arc::new(Tracker::new(
            bus.sender(),
            Arc::clone(&http),
            self.max_recovered_messages,
            Some(Arc::new(move |state: &ChannelState| {
                rewatched.loaded(state)
            })),
        ));
        let hub = Hub::new(bus.sender(), socket, tracker, Arc::clone(&runtime.timer));
        let client = ChatClient {
            core: Core::new(Shared {
                http,
                hub: Arc::new(hub),
                bus,
                pool,
                executor: self.executor,
                store,
                base_url: base,
                api_key: self.api_key,
                timeouts,
                typing: Default::default(),
                #[cfg(feature = "offline")]
                offline: offline.clone().map(|o| o as Arc<dyn super::core::Attached>),
            }),
        };
        #[cfg(feature = "offline")]
        if let Some(offline) = &offline {
            // Loaded before the store's writes are persisted: the cache is not written back.
            offline.attach(&client.core, client.core.store());
            if let Some(tx) = offline.sender() {
                client
                    .core
                    .store()
                    .set_publish_hook(crate::offline::persist_hook(tx));
            }
        }
        // Typing users expire at deadlines of the shared timer, swept on the client's pool.
        let (weak, on_pool) = (client.core.downgrade(), client.core.downgrade());
        client.core.store().set_scheduler(
            Box::new(move |at, target| {
                if let Some(core) = weak.upgrade() {
                    core.schedule(at, target);
                }
            }),
            Box::new(move |sweep| {
                if let Some(core) = on_pool.upgrade() {
                    // Refused only once the client shut down: nothing to sweep then.
                    let _ = core.spawn(sweep);
                }
            }),
        );
        super::make_instance(&client);
        Ok(client)
    }
}

impl fmt::Debug for ChatClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatClientBuilder")
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}
