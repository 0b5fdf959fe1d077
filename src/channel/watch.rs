//! Watching and querying the channel: `watch`, `query`, `create`, `create_with_data` and
//! `stop_watching`. A watch runs on a live connection and is recorded, so the channel is
//! watched again (and its missed messages recovered) after reconnects.

use serde_json::{Map, Value};
use stream_chat_callbacks::Call;
use stream_chat_protocol::{ChannelRequestData, ChannelState, QueryChannelRequest};

use super::ChannelClient;
use crate::rest::Request;

/// Watchers a [`ChannelClient::watch`] asks for: Android's `AnyChannelPaginationRequest`
/// default (the server's own default is 100). Each is a full user held in the channel's
/// state, so for a client watching a crowded channel this is most of its memory.
const WATCHER_PAGE: u32 = 30;

impl ChannelClient {
    /// Watches the channel on this connection (creating it when the user may): its state
    /// with the newest 100 messages and the first 30 watchers, then its events. Sends
    /// `{"state":true,"watch":true,"presence":false,"watchers":{"limit":30}}`: a page of
    /// watchers the size Android's state layer asks for (`watcherLimit = 30`), since a
    /// livestream's watcher list grows with its audience (`watcher_count` has the total;
    /// [`query`](Self::query) with `watchers` pages through the rest). The client keeps
    /// watching it across reconnects (see [`ChatClient::subscribe_for_type`](crate::ChatClient::subscribe_for_type)
    /// and `connection.recovered`) until [`stop_watching`](Self::stop_watching) or
    /// `disconnect()`.
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
            watchers: Some(serde_json::json!({ "limit": WATCHER_PAGE })),
            ..QueryChannelRequest::watch()
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
    ///     channel.send_message(Message::with_text(text)).execute().into_result().unwrap();
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
        let core = self.core.clone();
        if !watch && request.presence != Some(true) {
            return self.core.call(move |rest| {
                let state: ChannelState = rest.send(&Request::post(&path, &request)?)?;
                core.store().loaded(&state);
                Ok(state)
            });
        }
        self.core.on_connection(move |live| {
            let state: ChannelState = live.send(&Request::post(&path, &request)?)?;
            if watch {
                live.watched(std::slice::from_ref(&state));
            }
            core.store().loaded(&state);
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
}
