//! Channels at the client level: a [`ChannelClient`] handler for one channel, and
//! `query_channels`.

use stream_chat_callbacks::{Call, ChatError};
use stream_chat_protocol::{ChannelState, QueryChannelsRequest, QueryChannelsResponse};

use super::ChatClient;
use crate::channel::{self, ChannelClient};
use crate::rest::Request;

impl ChatClient {
    /// A client for the channel `channel_type:channel_id` (Kotlin's
    /// `client.channel(type, id)`). Fails with [`ErrorKind::InvalidArgument`] unless the
    /// type matches `^[\w_-]+$` and the id `^[\w!_-]+$` (ASCII), as the JS client checks.
    ///
    /// [`ErrorKind::InvalidArgument`]: crate::ErrorKind::InvalidArgument
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
        Ok(ChannelClient::new(
            self.core.clone(),
            channel_type,
            channel_id,
        ))
    }

    /// A client for the channel with this cid (`"livestream:demo"`). Fails with
    /// [`ErrorKind::InvalidArgument`] for an empty cid, one without `:`, or an invalid
    /// type or id.
    ///
    /// [`ErrorKind::InvalidArgument`]: crate::ErrorKind::InvalidArgument
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
        Ok(ChannelClient::new(
            self.core.clone(),
            channel_type,
            channel_id,
        ))
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
        let core = self.core.clone();
        if !watch && request.presence != Some(true) {
            return self.core.call(move |rest| {
                let response: QueryChannelsResponse =
                    rest.send(&Request::post("channels", &request)?)?;
                core.store().queried(&request, &response.channels);
                Ok(response.channels)
            });
        }
        self.core.on_connection(move |live| {
            let response: QueryChannelsResponse =
                live.send(&Request::post("channels", &request)?)?;
            if watch {
                live.watched(&response.channels);
            }
            core.store().queried(&request, &response.channels);
            Ok(response.channels)
        })
    }
}
