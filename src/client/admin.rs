//! Channel creation at the client level: `create_channel`, distinct channels included.

use serde_json::{Map, Value};
use stream_chat_callbacks::{Call, ChatError, ErrorKind};
use stream_chat_protocol::{Channel, ChannelRequestData, ChannelState, QueryChannelRequest};

use super::ChatClient;
use crate::channel;
use crate::rest::Request;

impl ChatClient {
    /// Creates channel `type:id` with these members and custom data (Kotlin's
    /// `createChannel(channelType, channelId, memberIds, extraData)`); returns it. With an
    /// empty `channel_id` the channel is the *distinct* channel of its members: the server
    /// derives its id (`!members-…`) from the set of member ids, so the same members (in
    /// any order) always give the same channel; it needs at least two members.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let a = client.create_channel("messaging", "", ["bender", "fry"], Default::default()).execute().into_result().unwrap();
    /// let b = client.create_channel("messaging", "", ["fry", "bender"], Default::default()).execute().into_result().unwrap();
    /// assert!(a.id.starts_with("!members-"));
    /// assert_eq!(a.cid, b.cid);
    /// ```
    pub fn create_channel<I, S>(
        &self,
        channel_type: &str,
        channel_id: &str,
        member_ids: I,
        extra_data: Map<String, Value>,
    ) -> Call<Channel>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let members: Vec<Value> = member_ids
            .into_iter()
            .map(|m| Value::String(m.into()))
            .collect();
        let checked = if channel_id.is_empty() {
            stream_chat_protocol::cid::validate_type(channel_type)
                .map_err(|e| ChatError::new(ErrorKind::InvalidArgument, e.to_string()))
        } else {
            channel::validate(channel_type, channel_id)
        };
        if let Err(err) = checked {
            return self.core.call(move |_| Err(err.clone()));
        }
        let path = if channel_id.is_empty() {
            format!("channels/{channel_type}/query")
        } else {
            format!("channels/{channel_type}/{channel_id}/query")
        };
        let request = QueryChannelRequest {
            data: Some(ChannelRequestData {
                members: Some(members),
                extra: extra_data,
                ..ChannelRequestData::default()
            }),
            state: Some(true),
            watch: Some(false),
            presence: Some(false),
            ..QueryChannelRequest::default()
        };
        self.core.call(move |rest| {
            let state: ChannelState = rest.send(&Request::post(&path, &request)?)?;
            Ok(state.channel)
        })
    }
}
