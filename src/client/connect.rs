//! Connecting: `connect_user`, `switch_user`, guest and anonymous users, `disconnect`,
//! and `disconnect_socket` / `reconnect_socket` (pause and resume). Each call is a
//! [`Pending`] connect (or a wait for the thread's end) that the hub resolves; no worker
//! thread waits meanwhile.

use std::sync::Arc;

use stream_chat_callbacks::{Call, CancelToken, ChatError, ChatResult, Completer, ErrorKind};
use stream_chat_protocol::{ANONYMOUS_USER_ID, GuestRequest, GuestResponse, User};

use super::ChatClient;
use crate::connection::{AuthMode, ConnectionData, Pending, already_connected, shut_down_error};
use crate::rest::{Auth, Request};
use crate::token::{self, TokenManager, TokenSource};

impl ChatClient {
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
        self.core.deferred(move |cancel, done| {
            client.offline_user_switch(&user.id);
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
        self.core.deferred(move |cancel, done| {
            client.core.store().reset();
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
        self.core.deferred(move |cancel, done| {
            client.offline_user_switch(&user_id);
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
        self.core.deferred(move |cancel, done| {
            client.offline_user_switch(ANONYMOUS_USER_ID);
            let Some(pending) = client.pending(cancel, done, ANONYMOUS_USER_ID) else {
                return;
            };
            let user = User::new(ANONYMOUS_USER_ID);
            let result = client.shared().hub.join_or_start(
                &pending,
                user,
                || Ok(AuthMode::Anonymous),
                false,
            );
            if let Err(err) = result {
                pending.finish(Err(err));
            }
        })
    }

    /// Closes the connection and forgets the user. Fails with
    /// [`ErrorKind::NotConnected`] when nobody is connected. Connects still waiting fail
    /// with [`ErrorKind::NotConnected`]. It resolves once the connection has ended
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
        self.core.deferred(move |_, done| {
            // The user's state goes with the user.
            client.core.store().reset();
            client.shared().hub.disconnect(done)
        })
    }

    /// Closes the WebSocket (close code 1000) and stops reconnecting, but keeps the user,
    /// the token and the watched channels (Kotlin's `disconnectSocket()`): for an app going
    /// to the background. The state becomes [`ConnectionState::Disconnected`] (a
    /// `connection.changed` event) and no events arrive until
    /// [`reconnect_socket`](Self::reconnect_socket). Connects still waiting fail with
    /// [`ErrorKind::NotConnected`]. Fails with [`ErrorKind::NotConnected`] when no user is
    /// set; calling it again while paused succeeds. Like [`disconnect`](Self::disconnect),
    /// it resolves once the connection has ended, holding no worker meanwhile.
    ///
    /// [`ConnectionState::Disconnected`]: crate::ConnectionState::Disconnected
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
        self.core
            .deferred(move |_, done| client.shared().hub.pause(done))
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
        self.core.deferred(move |cancel, done| {
            let label = client.current_user().map(|u| u.id).unwrap_or_default();
            let Some(pending) = client.pending(cancel, done, &label) else {
                return;
            };
            if let Err(err) = client.shared().hub.resume(&pending) {
                pending.finish(Err(err));
            }
        })
    }

    /// Registers a connect of `label` whose deadline counts from its call's start; `None`
    /// when it already resolved (cancelled, or the client is shut down).
    fn pending(
        &self,
        cancel: &CancelToken,
        done: Completer<ConnectionData>,
        label: &str,
    ) -> Option<Arc<Pending>> {
        let hub = &self.shared().hub;
        // The connected user is in the state before the caller sees the result: a call
        // made right after (a query's unread counts) needs it, and the connect's own
        // event may still wait on the event thread.
        let core = self.core.downgrade();
        let done = done.before_complete(move |result| {
            if let (ChatResult::Success(data), Some(core)) = (result, core.upgrade())
                && core.current_user_id().as_deref() == Some(data.user.id.as_str())
            {
                core.store().connected_user(&data.user);
            }
        });
        let pending = Pending::start(
            hub,
            cancel,
            done,
            self.shared().timeouts.connect_timeout,
            label,
        );
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
        self.shared().hub.join_or_start(
            pending,
            user,
            move || Ok(AuthMode::Jwt(TokenManager::new(&user_id, source))),
            replace,
        )
    }

    /// A connect of the user whose session is current hands that session its token
    /// source for later loads (review #14); the join itself calls no provider.
    fn adopt_token_source(&self, user_id: &str, source: &TokenSource) {
        let current = self.shared().hub.current();
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
            if let Some(current) = self.shared().hub.current().as_ref()
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
                .core
                .shared()
                .http
                .send_until(&request, &Auth::None, &stop, Some(pending.deadline))
                .map_err(|e| match e.kind() {
                    ErrorKind::Timeout => ChatError::new(
                        ErrorKind::Timeout,
                        format!(
                            "POST /guest did not complete within the connect timeout ({:?})",
                            self.shared().timeouts.connect_timeout
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
