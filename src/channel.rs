//! `ChannelClient`: one channel's calls (watch, query, create, send, stop watching, mark
//! read) and its events, as Kotlin's `client.channel(type, id)`.

use serde_json::{Map, Value};
use stream_chat_callbacks::{Call, ChatError, ErrorKind};
use stream_chat_protocol::{
    ChannelRequestData, ChannelState, Message, MessageResponse, QueryChannelRequest,
    SendMessageRequest, cid,
};

use crate::client::core::Core;
use crate::events::{ChatEvent, EventKind, Subscription};
use crate::rest::{Request, new_request_id};

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

/// One channel of a [`ChatClient`](crate::ChatClient): get one with [`ChatClient::channel`](crate::ChatClient::channel) or
/// [`ChatClient::channel_cid`](crate::ChatClient::channel_cid). Cheap to clone; every method returns a cold [`Call`].
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
/// let sent = channel.send_message(Message::text("hello")).execute().into_result().unwrap();
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

    /// Watches the channel on this connection (creating it when the user may): its state
    /// with the newest 100 messages, then its events. Sends
    /// `{"state":true,"watch":true,"presence":false}`. The client keeps watching it across
    /// reconnects (see [`ChatClient::subscribe_for_type`](crate::ChatClient::subscribe_for_type) and `connection.recovered`) until
    /// [`stop_watching`](Self::stop_watching) or `disconnect()`.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, codes};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// let watch = channel.watch(); // may be enqueued before connecting: it waits for the socket
    /// client.connect_anonymous_user().execute().into_result().unwrap();
    /// // Anonymous users may read a livestream, but not create one.
    /// assert_eq!(watch.execute().error().stream_code(), Some(codes::NOT_ALLOWED));
    /// ```
    pub fn watch(&self) -> Call<ChannelState> {
        self.query(QueryChannelRequest {
            state: Some(true),
            watch: Some(true),
            presence: Some(false),
            ..QueryChannelRequest::default()
        })
    }

    /// `POST /channels/{type}/{id}/query` with `request` as it is: message pagination
    /// (`messages.limit`, `id_lt`, `id_gt`, ...), `state`, `watch`, `presence`, `data` for a
    /// channel it creates. With `watch` or `presence` set it waits for the connection.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, MessagePagination, QueryChannelRequest, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// channel.create(Vec::<String>::new()).execute().into_result().unwrap();
    /// for text in ["one", "two", "three"] {
    ///     channel.send_message(Message::text(text)).execute().into_result().unwrap();
    /// }
    /// let page = channel.query(QueryChannelRequest {
    ///     state: Some(true),
    ///     messages: Some(MessagePagination { limit: Some(2), ..Default::default() }),
    ///     ..Default::default()
    /// }).execute().into_result().unwrap();
    /// let texts: Vec<_> = page.messages.iter().filter_map(|m| m.text.as_deref()).collect();
    /// assert_eq!(texts, ["two", "three"]);
    /// ```
    pub fn query(&self, request: QueryChannelRequest) -> Call<ChannelState> {
        let (path, watch) = (self.path("query"), request.watch == Some(true));
        if !watch && request.presence != Some(true) {
            return self
                .core
                .call(move |rest| rest.send(&Request::post(&path, &request)?));
        }
        self.core.on_connection(move |live| {
            let state: ChannelState = live.send(&Request::post(&path, &request)?)?;
            if watch {
                live.watched(std::slice::from_ref(&state));
            }
            Ok(state)
        })
    }

    /// Creates the channel with these members (the caller becomes its creator); returns
    /// its state. For an existing channel it is a plain read.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let state = client.channel("messaging", "planet-express").unwrap()
    ///     .create(["bender", "fry"]).execute().into_result().unwrap();
    /// assert_eq!(state.members.len(), 2);
    /// ```
    pub fn create<I, S>(&self, member_ids: I) -> Call<ChannelState>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.create_with_data(member_ids, Map::new())
    }

    /// [`create`](Self::create) with custom channel data (`name`, `image`, your fields).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// use serde_json::json;
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let mut data = serde_json::Map::new();
    /// data.insert("name".into(), json!("Planet Express"));
    /// let state = client.channel("messaging", "pe").unwrap()
    ///     .create_with_data(["bender"], data).execute().into_result().unwrap();
    /// assert_eq!(state.channel.extra["name"], "Planet Express");
    /// ```
    pub fn create_with_data<I, S>(
        &self,
        member_ids: I,
        data: Map<String, Value>,
    ) -> Call<ChannelState>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let members: Vec<Value> = member_ids
            .into_iter()
            .map(|m| Value::String(m.into()))
            .collect();
        self.query(QueryChannelRequest {
            data: Some(ChannelRequestData {
                members: Some(members),
                extra: data,
                ..ChannelRequestData::default()
            }),
            state: Some(true),
            watch: Some(false),
            presence: Some(false),
            ..QueryChannelRequest::default()
        })
    }

    /// Sends `message` (text, attachments, custom fields in `extra`) and returns it as the
    /// server stored it. A message without an id gets a client-generated one (a UUID) when
    /// the call is made, so retrying the same call cannot post it twice (the server refuses
    /// a duplicate id with code 4).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let mut message = Message::text("Bite my shiny metal ass");
    /// message.extra.insert("mood".into(), serde_json::json!("sarcastic"));
    /// let sent = channel.send_message(message).execute().into_result().unwrap();
    /// assert!(!sent.id.is_empty());
    /// assert_eq!(sent.extra["mood"], "sarcastic");
    /// ```
    pub fn send_message(&self, mut message: Message) -> Call<Message> {
        if message.id.is_empty() {
            message.id = new_request_id();
        }
        let body = SendMessageRequest {
            message,
            ..SendMessageRequest::default()
        };
        let path = self.path("message");
        self.core.call(move |rest| {
            let response: MessageResponse = rest.send(&Request::post(&path, &body)?)?;
            Ok(response.message)
        })
    }

    /// Edits a message (`POST /messages/{id}`): `message.id` names it, and its text,
    /// attachments, mentions and custom fields replace the stored ones. Returns the
    /// message as stored; watchers get `message.updated`
    /// ([`MessageUpdatedEvent`](crate::MessageUpdatedEvent)). Only the author (where they
    /// may post) or an admin may edit it: others get
    /// [`codes::NOT_ALLOWED`](crate::codes::NOT_ALLOWED) (17), HTTP 403.
    /// A message without an id is [`ErrorKind::InvalidArgument`].
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let mut sent = channel.send_message(Message::text("helo")).execute().into_result().unwrap();
    /// sent.text = Some("hello".into());
    /// let edited = channel.update_message(sent).execute().into_result().unwrap();
    /// assert_eq!(edited.text.as_deref(), Some("hello"));
    /// ```
    pub fn update_message(&self, message: Message) -> Call<Message> {
        self.core.call(move |rest| {
            let path = message_path(&message.id)?;
            let body = SendMessageRequest {
                message: message.clone(),
                ..SendMessageRequest::default()
            };
            let response: MessageResponse = rest.send(&Request::post(&path, &body)?)?;
            Ok(response.message)
        })
    }

    /// Deletes a message (`DELETE /messages/{id}?hard=..`) and returns it as deleted.
    /// A soft delete keeps it in the channel as `type: "deleted"` with `deleted_at`; a
    /// hard one removes it (a later [`get_message`](Self::get_message) gets code 16, HTTP
    /// 404). Watchers get `message.deleted`
    /// ([`MessageDeletedEvent`](crate::MessageDeletedEvent), with `hard_delete`). The same
    /// permissions as [`update_message`](Self::update_message) apply.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let sent = channel.send_message(Message::text("oops")).execute().into_result().unwrap();
    /// let deleted = channel.delete_message(&sent.id, false).execute().into_result().unwrap();
    /// assert_eq!(deleted.kind.as_deref(), Some("deleted"));
    /// ```
    pub fn delete_message(&self, message_id: &str, hard: bool) -> Call<Message> {
        let id = message_id.to_owned();
        self.core.call(move |rest| {
            let path = message_path(&id)?;
            let req = Request::delete(&path).query("hard", hard.to_string());
            let response: MessageResponse = rest.send(&req)?;
            Ok(response.message)
        })
    }

    /// One message by id (`GET /messages/{id}`), as stored now: edited text, or
    /// `type: "deleted"` after a soft delete. Unknown (or hard-deleted) ids get code 16,
    /// HTTP 404.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let sent = channel.send_message(Message::text("hi")).execute().into_result().unwrap();
    /// let got = channel.get_message(&sent.id).execute().into_result().unwrap();
    /// assert_eq!(got.text.as_deref(), Some("hi"));
    /// ```
    pub fn get_message(&self, message_id: &str) -> Call<Message> {
        let id = message_id.to_owned();
        self.core.call(move |rest| {
            let response: MessageResponse = rest.send(&Request::get(&message_path(&id)?))?;
            Ok(response.message)
        })
    }

    /// Stops watching: no more events of this channel on this connection, and no
    /// re-watching after reconnects.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// channel.stop_watching().execute().into_result().unwrap();
    /// ```
    pub fn stop_watching(&self) -> Call<()> {
        let (path, cid) = (self.path("stop-watching"), self.cid.clone());
        self.core.call(move |rest| {
            let auth = rest.auth()?;
            // Before the request: a reconnect meanwhile must not watch it again.
            rest.unwatched(&cid);
            let _: Value = rest.send_as(&Request::post(&path, &Map::new())?, &auth)?;
            Ok(())
        })
    }

    /// Marks the channel read for the user (`message.read` goes to the watchers).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// channel.mark_read().execute().into_result().unwrap();
    /// ```
    pub fn mark_read(&self) -> Call<()> {
        let path = self.path("read");
        self.core.call(move |rest| {
            let _: Value = rest.send(&Request::post(&path, &Map::new())?)?;
            Ok(())
        })
    }

    /// Registers `listener` for this channel's events only (those whose
    /// [`cid`](ChatEvent::cid) is this channel's), in order, on the client's callback
    /// executor. Registered at once, also before connecting.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ChatEvent};
    /// # let client = ChatClient::builder("key").build().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// let _subscription = channel.subscribe(|event| {
    ///     if let ChatEvent::MessageNew(e) = event {
    ///         println!("{}", e.message.text.as_deref().unwrap_or(""));
    ///     }
    /// });
    /// ```
    pub fn subscribe(&self, listener: impl Fn(&ChatEvent) + Send + Sync + 'static) -> Subscription {
        let cid = self.cid.clone();
        self.core.events().subscribe_where(
            format!("channel {cid}"),
            move |e| e.cid() == Some(cid.as_str()),
            listener,
        )
    }

    /// Registers `listener` for this channel's events of type `T`.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, NewMessageEvent};
    /// # let client = ChatClient::builder("key").build().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// let _s = channel.subscribe_for_type::<NewMessageEvent>(|e| println!("{:?}", e.message.text));
    /// ```
    pub fn subscribe_for_type<T: EventKind>(
        &self,
        listener: impl Fn(&T) + Send + Sync + 'static,
    ) -> Subscription {
        let cid = self.cid.clone();
        self.core.events().subscribe_where(
            format!("channel {cid}, type {}", T::TYPE),
            move |e| e.kind() == T::TYPE && e.cid() == Some(cid.as_str()),
            move |e| {
                if let Some(typed) = T::from_chat_event(e) {
                    listener(&typed);
                }
            },
        )
    }

    fn path(&self, action: &str) -> String {
        format!(
            "channels/{}/{}/{action}",
            self.channel_type, self.channel_id
        )
    }
}

/// `messages/{id}`; an id that is empty or would leave the path is refused.
fn message_path(id: &str) -> Result<String, ChatError> {
    if id.is_empty() || id.contains(['/', '?', '#', '%']) {
        return Err(ChatError::new(
            ErrorKind::InvalidArgument,
            format!("invalid message id '{id}'"),
        ));
    }
    Ok(format!("messages/{id}"))
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
