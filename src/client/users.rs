//! Users at the client level: `query_users`.

use stream_chat_callbacks::{Call, ChatError, ErrorKind};
use stream_chat_protocol::{QueryUsersRequest, QueryUsersResponse, User};

use super::ChatClient;
use crate::rest::Request;

impl ChatClient {
    /// Queries users (`GET /users`) as the connected user. With `presence: Some(true)` it
    /// waits for the socket like [`ChannelClient::watch`](crate::ChannelClient::watch) (bounded by
    /// [`wait_for_connection_timeout`](crate::ChatClientBuilder::wait_for_connection_timeout)) and
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
        let presence = request.presence == Some(true);
        let build = move || -> Result<Request<'static>, ChatError> {
            let payload = serde_json::to_string(&request).map_err(|e| {
                ChatError::new(ErrorKind::InvalidArgument, "the query cannot be encoded")
                    .with_source(e)
            })?;
            Ok(Request::get("users").query("payload", payload))
        };
        if !presence {
            return self.core.call(move |rest| {
                let response: QueryUsersResponse = rest.send(&build()?)?;
                Ok(response.users)
            });
        }
        // On a live connection, so the server can report these users' presence to it.
        self.core.on_connection(move |live| {
            let response: QueryUsersResponse = live.send(&build()?)?;
            Ok(response.users)
        })
    }
}
