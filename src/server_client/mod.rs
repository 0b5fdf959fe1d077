//! [`ServerClient`]: the SDK for scripts and bots that hold the app's API secret (the
//! official clients' `new StreamChat(key, secret)`). It signs a server token with the
//! secret, sends every REST call with it, opens no WebSocket, and may act as any user.
//!
//! A type of its own rather than a mode of [`ChatClient`](crate::ChatClient), so that the
//! secret can never reach a user-side build by a setting: a `ChatClient` has no way to hold
//! it, and refuses a server token at `connect_user`. See `docs/server-side.md`.
//!
//! Areas: this file (the handle, its builder, tokens), `users.rs` (user administration,
//! queries), `channel.rs` ([`ServerChannel`], channel calls on behalf of a user).

mod channel;
mod users;

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use stream_chat_callbacks::{Call, ChatError, ErrorKind, Executor, WorkerPool};
use stream_chat_protocol::jwt::{self, Claims};
use url::Url;

pub use channel::ServerChannel;

use crate::rest::{Auth, Http, Request, StreamRequest};

/// Default base URL, as [`ChatClient`](crate::ChatClient)'s.
const DEFAULT_BASE_URL: &str = "https://chat.stream-io-api.com";
/// Default time to open a connection.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Default time for a request and its answer.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Names of the worker threads.
const WORKER_NAME: &str = "stream-chat-server-client";

/// Configures a [`ServerClient`].
///
/// ```
/// use std::time::Duration;
/// use stream_chat_client::ServerClient;
///
/// let client = ServerClient::builder("key", "secret")
///     .base_url("http://127.0.0.1:3031")
///     .request_timeout(Duration::from_secs(10))
///     .worker_threads(2)
///     .build()
///     .unwrap();
/// assert_eq!(client.api_key(), "key");
/// ```
#[derive(Debug, Clone)]
pub struct ServerClientBuilder {
    api_key: String,
    api_secret: String,
    base_url: String,
    executor: Executor,
    worker_threads: usize,
    connect_timeout: Duration,
    request_timeout: Duration,
    tls_roots: Result<crate::tls::Roots, ChatError>,
}

impl ServerClientBuilder {
    /// The API's base URL (default `https://chat.stream-io-api.com`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Where callbacks run (default: a worker-pool thread).
    pub fn callback_executor(mut self, executor: Executor) -> Self {
        self.executor = executor;
        self
    }

    /// Worker threads for enqueued calls (0: the pool's default).
    pub fn worker_threads(mut self, threads: usize) -> Self {
        self.worker_threads = threads;
        self
    }

    /// Time to open a connection (default 15 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time for a request and its answer (default 30 s); an upload's each write.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Trusts these root certificates (DER) for `https` instead of Mozilla's, as
    /// [`ChatClientBuilder::tls_root_certificates`](crate::ChatClientBuilder::tls_root_certificates)
    /// does; a certificate that does not parse fails `build()`.
    pub fn tls_root_certificates<I, C>(mut self, certs: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Vec<u8>>,
    {
        self.tls_roots = crate::tls::roots(certs).map(Some);
        self
    }

    /// Builds the client: an empty key or secret, or a base URL that is not http(s), is
    /// [`ErrorKind::InvalidArgument`].
    ///
    /// ```
    /// use stream_chat_client::{ErrorKind, ServerClient};
    /// let err = ServerClient::builder("key", " ").build().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    /// ```
    pub fn build(self) -> Result<ServerClient, ChatError> {
        let invalid = |m: String| ChatError::new(ErrorKind::InvalidArgument, m);
        if self.api_key.trim().is_empty() {
            return Err(invalid("the API key is empty".into()));
        }
        if self.api_secret.trim().is_empty() {
            return Err(invalid("the API secret is empty".into()));
        }
        let mut base = Url::parse(&self.base_url).map_err(|e| {
            invalid(format!("the base URL '{}' is not a URL", self.base_url)).with_source(e)
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            return Err(invalid(format!(
                "the base URL '{}' must be http(s)://host",
                self.base_url
            )));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let pool = WorkerPool::builder()
            .threads(self.worker_threads)
            .thread_name(WORKER_NAME)
            .build();
        let token = jwt::server_token(self.api_secret.as_bytes());
        Ok(ServerClient {
            inner: Arc::new(Inner {
                http: Http::new(
                    base,
                    self.api_key.clone(),
                    self.connect_timeout,
                    self.request_timeout,
                    &self.tls_roots.clone()?,
                ),
                pool,
                executor: self.executor,
                api_key: self.api_key,
                api_secret: self.api_secret,
                token,
            }),
        })
    }
}

/// The server-side client: authenticates with a server token made from the API secret,
/// opens no socket, and may do anything as any user. Every call returns a cold
/// [`Call`]. Cheap to clone.
///
/// ```
/// use stream_chat_client::{Message, ServerClient, User};
/// let server = stream_chat_server::Server::builder().start().unwrap();
/// let admin = ServerClient::builder(server.api_key(), server.api_secret())
///     .base_url(server.base_url())
///     .build()
///     .unwrap();
/// admin.upsert_users(vec![User::new("bot"), User::new("alice")]).execute().into_result().unwrap();
/// let channel = admin.channel("messaging", "ops").unwrap();
/// channel.create("bot", &["bot", "alice"]).execute().into_result().unwrap();
/// let sent = channel.send_message(Message::with_text("deployed"), "bot").execute().into_result().unwrap();
/// assert_eq!(sent.user.unwrap().id, "bot");
/// let token = admin.create_token("alice", None, None); // for alice's app
/// # assert_eq!(token, server.create_token("alice", None));
/// ```
#[derive(Clone)]
pub struct ServerClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: Http,
    pool: WorkerPool,
    executor: Executor,
    api_key: String,
    api_secret: String,
    /// The server token every request carries.
    token: String,
}

impl std::fmt::Debug for ServerClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerClient")
            .field("api_key", &self.inner.api_key)
            .field("api_secret", &"<redacted>")
            .finish()
    }
}

impl ServerClient {
    /// A builder for the app with this key and secret.
    pub fn builder(
        api_key: impl Into<String>,
        api_secret: impl Into<String>,
    ) -> ServerClientBuilder {
        ServerClientBuilder {
            api_key: api_key.into(),
            api_secret: api_secret.into(),
            base_url: DEFAULT_BASE_URL.into(),
            executor: Executor::default(),
            worker_threads: 0,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            tls_roots: Ok(None),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// The API key.
    pub fn api_key(&self) -> &str {
        &self.inner.api_key
    }

    /// A user token for `user_id` (the official clients' `createToken`): HS256 with the
    /// secret, `exp` and `iat` in Unix seconds when given. Tokens issued before a
    /// [`revoke_user_token`](Self::revoke_user_token) are refused, so give tokens an `iat`.
    ///
    /// ```
    /// use stream_chat_client::{ServerClient, jwt};
    /// let client = ServerClient::builder("key", "secret").build().unwrap();
    /// let token = client.create_token("alice", Some(2_000_000_000), Some(1_700_000_000));
    /// let claims = jwt::verify(&token, b"secret", 1_700_000_000, &Default::default()).unwrap();
    /// assert_eq!((claims.user_id.as_deref(), claims.exp, claims.iat), (Some("alice"), Some(2_000_000_000), Some(1_700_000_000)));
    /// ```
    pub fn create_token(&self, user_id: &str, exp: Option<i64>, iat: Option<i64>) -> String {
        let claims = Claims {
            exp,
            iat,
            ..Claims::user(user_id)
        };
        jwt::sign(&claims, self.inner.api_secret.as_bytes())
    }

    /// Whether `signature` (the `X-Signature` header) signs `body` with this app's secret:
    /// [`verify_webhook`](crate::verify_webhook) with the client's secret.
    ///
    /// ```
    /// use stream_chat_client::ServerClient;
    /// let client = ServerClient::builder("key", "secret").build().unwrap();
    /// let signature = stream_chat_client::webhook::sign(b"{}", b"secret");
    /// assert!(client.verify_webhook(b"{}", &signature));
    /// ```
    pub fn verify_webhook(&self, body: &[u8], signature: &str) -> bool {
        stream_chat_protocol::verify_webhook(body, signature, self.inner.api_secret.as_bytes())
    }

    /// A channel to act on as any user.
    ///
    /// ```
    /// # let client = stream_chat_client::ServerClient::builder("k", "s").build().unwrap();
    /// assert_eq!(client.channel("messaging", "general").unwrap().cid(), "messaging:general");
    /// assert!(client.channel("messaging", "no spaces").is_err());
    /// ```
    pub fn channel(
        &self,
        channel_type: &str,
        channel_id: &str,
    ) -> Result<ServerChannel, ChatError> {
        stream_chat_protocol::cid::validate(channel_type, channel_id).map_err(|e| {
            ChatError::new(ErrorKind::InvalidArgument, e.to_string()).with_source(e)
        })?;
        Ok(ServerChannel::new(self.clone(), channel_type, channel_id))
    }

    /// A call sending the request `build` makes from `path` (per run) with the server
    /// token.
    fn call<T: DeserializeOwned + Send + 'static>(
        &self,
        path: String,
        build: impl for<'a> Fn(&'a str) -> Result<Request<'a>, ChatError> + Send + Sync + 'static,
    ) -> Call<T> {
        let inner = Arc::clone(&self.inner);
        Call::new(&self.inner.pool, move |cancel| {
            let auth = Auth::Server {
                token: inner.token.clone(),
            };
            build(&path)
                .and_then(|req| inner.http.send_cancellable(&req, &auth, cancel))
                .into()
        })
        .with_executor(self.inner.executor.clone())
    }

    /// A call running `work` with a streamed request (uploads).
    fn stream_call<T: Send + 'static>(
        &self,
        work: impl Fn(&Streamer<'_>) -> Result<T, ChatError> + Send + Sync + 'static,
    ) -> Call<T> {
        let inner = Arc::clone(&self.inner);
        Call::new(&self.inner.pool, move |cancel| {
            work(&Streamer {
                inner: &inner,
                cancel,
            })
            .into()
        })
        .with_executor(self.inner.executor.clone())
    }
}

/// What an upload's run needs: the transport, the server token, the executor, the cancel.
struct Streamer<'a> {
    inner: &'a Inner,
    cancel: &'a stream_chat_callbacks::CancelToken,
}

impl Streamer<'_> {
    fn send<T: DeserializeOwned>(
        &self,
        req: &StreamRequest<'_>,
        body: impl std::io::Read + Send + 'static,
    ) -> Result<T, ChatError> {
        let auth = Auth::Server {
            token: self.inner.token.clone(),
        };
        self.inner.http.send_stream(req, body, &auth, self.cancel)
    }
}
