//! Offline support at the client level: `retry_message` (any client), and with the
//! `offline` feature `restore_user` and `clear_offline_data` (see `src/offline/`).

use stream_chat_callbacks::{Call, ChatError, ErrorKind};
use stream_chat_protocol::Message;

use super::ChatClient;

impl ChatClient {
    /// Sends a message again (Kotlin's `ChatClient.retryMessage(message)`): one whose send
    /// failed ([`SyncStatus::Failed`](crate::state::SyncStatus::Failed) in the state), with
    /// the same id, to the channel named by its `cid`. It goes through
    /// [`ChannelClient::send_message`](crate::ChannelClient::send_message), so it is pending
    /// in the state at once, and with the offline store it waits for the connection like any
    /// send. Retrying can never post it twice: the server refuses an id it has. A message
    /// without `cid` (or an invalid one) fails with [`ErrorKind::InvalidArgument`].
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ErrorKind, Message, User};
    /// use stream_chat_client::state::SyncStatus;
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "retry-doc").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// // Too long: refused, failed in the state.
    /// let long = Message { id: "retry-1".into(), ..Message::with_text("x".repeat(10_000)) };
    /// assert!(channel.send_message(long).execute().is_error());
    /// let mut failed = channel.state().unwrap().message("retry-1").unwrap().message.clone();
    /// assert_eq!(failed.cid.as_deref(), Some("messaging:retry-doc"));
    /// failed.text = Some("shorter".into());
    /// let sent = client.retry_message(failed).execute().into_result().unwrap();
    /// assert_eq!(sent.id, "retry-1");
    /// assert_eq!(channel.state().unwrap().message("retry-1").unwrap().status, SyncStatus::Synced);
    /// let no_cid = client.retry_message(Message::with_text("where?")).execute();
    /// assert_eq!(no_cid.error().kind(), ErrorKind::InvalidArgument);
    /// ```
    pub fn retry_message(&self, message: Message) -> Call<Message> {
        let channel = message
            .cid
            .as_deref()
            .ok_or_else(|| {
                ChatError::new(
                    ErrorKind::InvalidArgument,
                    "retry_message: the message has no cid",
                )
            })
            .and_then(|cid| self.channel_cid(cid));
        match channel {
            Ok(channel) => channel.send_message(message),
            Err(err) => self.core.call(move |_| Err(err.clone())),
        }
    }
}

#[cfg(feature = "offline")]
impl ChatClient {
    /// Connects the last user of the offline store again after a restart (Android's
    /// persisted-credentials flow, `ChatClient.setUserWithoutConnectingIfNeeded`), with a
    /// token from `token` (a [`TokenProvider`](crate::TokenProvider) your app passes: the
    /// store never keeps a token). The anonymous user connects without one (`token` is not
    /// used); a guest connects as a regular user with `token` (your provider must return a
    /// token for that guest's id). The cached state is in the store before this runs (it
    /// is loaded by `build`). Fails with [`ErrorKind::NotConnected`] when the store has no
    /// user (never connected, or after [`clear_offline_data`](Self::clear_offline_data)) or
    /// the client was built without [`offline`](crate::ChatClientBuilder::offline).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ErrorKind, TokenError, TokenSource, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// let dir = std::env::temp_dir().join(format!("restore-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("chat.db");
    /// let build = || ChatClient::builder(server.api_key()).base_url(server.base_url()).offline(&path).build().unwrap();
    /// let first = build();
    /// first.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result()?;
    /// first.shutdown(); // the process ends
    ///
    /// let client = build();
    /// assert_eq!(client.state().me.as_ref().unwrap().id, "bender"); // before any network
    /// let token = server.create_token("bender", None);
    /// let provider = TokenSource::provider(move || -> Result<String, TokenError> { Ok(token.clone()) });
    /// let data = client.restore_user(provider).execute().into_result()?;
    /// assert_eq!(data.user.id, "bender");
    /// client.disconnect().execute().into_result()?;
    /// client.clear_offline_data()?;
    /// let none = client.restore_user("unused").execute();
    /// assert_eq!(none.error().kind(), ErrorKind::NotConnected);
    /// # drop(client);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), stream_chat_client::ChatError>(())
    /// ```
    pub fn restore_user(
        &self,
        token: impl Into<crate::TokenSource>,
    ) -> Call<crate::ConnectionData> {
        let last = crate::offline::Offline::of(&self.core).and_then(|o| o.user());
        let Some(me) = last else {
            let err = ChatError::new(ErrorKind::NotConnected, "no stored user to restore");
            return self.core.call(move |_| Err(err.clone()));
        };
        if me.id == stream_chat_protocol::ANONYMOUS_USER_ID {
            return self.connect_anonymous_user();
        }
        let mut user = stream_chat_protocol::User::new(me.id.clone());
        user.extra_data = me.extra_data.clone();
        self.connect_user(user, token)
    }

    /// Deletes everything the offline store keeps (users, channels, messages, query lists,
    /// messages waiting to be sent); the file and its schema stay. The state in memory is
    /// not changed, and nothing more is written to the file until the next connect call
    /// (`connect_user`, `restore_user`, ...): a logout's `disconnect` and `shutdown` after it
    /// cannot bring the user back, whatever events were still on their way. Fails with [`ErrorKind::InvalidArgument`] when the file refuses the
    /// delete; does nothing without an offline store.
    ///
    /// ```
    /// # use stream_chat_client::ChatClient;
    /// let path = std::env::temp_dir().join(format!("clear-doc-{}.db", std::process::id()));
    /// let client = ChatClient::builder("key").offline(&path).build().unwrap();
    /// client.clear_offline_data().unwrap();
    /// # drop(client);
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn clear_offline_data(&self) -> Result<(), ChatError> {
        match crate::offline::Offline::of(&self.core) {
            Some(offline) => offline.clear(),
            None => Ok(()),
        }
    }

    /// With the offline store, a connect call lets the writer write again after a
    /// `clear_offline_data`; and a connect of `user_id` when the store holds another user's
    /// cached state (and nobody is connected) starts from an empty state: the cache is
    /// that user's (the writer replaces the file's data once the new user is connected).
    pub(super) fn offline_user_switch(&self, user_id: &str) {
        if let Some(offline) = crate::offline::Offline::of(&self.core) {
            offline.resume();
        }
        let store = self.core.store();
        let cached = store.snapshot().me.as_ref().map(|me| me.id.clone());
        if crate::offline::Offline::of(&self.core).is_some()
            && self.current_user().is_none()
            && cached.is_some_and(|id| id != user_id)
        {
            store.reset();
        }
    }
}

#[cfg(not(feature = "offline"))]
impl ChatClient {
    pub(super) fn offline_user_switch(&self, _user_id: &str) {}
}
