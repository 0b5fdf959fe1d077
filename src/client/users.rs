//! Users at the client level: `query_users`, `update_user`, `partial_update_user`.

use serde_json::{Map, Value};
use stream_chat_callbacks::{Call, ChatError, ErrorKind};
use stream_chat_protocol::{
    PartialUpdateUsersRequest, PartialUserUpdate, QueryUsersRequest, QueryUsersResponse, User,
    UsersResponse,
};

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

    /// Creates or replaces the user (`POST /users`): its custom data is replaced. A user may
    /// update only themselves, not their role or teams (Stream's code 17). Their connections
    /// and the watchers of their channels get `user.updated`. Kotlin's `updateUser`.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let user = client.update_user(User::new("bender").with_name("Bender Rodríguez")).execute().into_result().unwrap();
    /// assert_eq!(user.name(), "Bender Rodríguez");
    /// ```
    pub fn update_user(&self, user: User) -> Call<User> {
        let id = user.id.clone();
        self.core.call(move |rest| {
            let mut users = std::collections::BTreeMap::new();
            users.insert(id.clone(), user.clone());
            let body = stream_chat_protocol::UpsertUsersRequest { users };
            let mut response: UsersResponse = rest.send(&Request::post("users", &body)?)?;
            response.users.remove(&id).ok_or_else(|| {
                ChatError::new(ErrorKind::Parse, format!("the response has no user '{id}'"))
            })
        })
    }

    /// Sets and unsets fields of the connected user (`PATCH /users`; Kotlin's
    /// `partialUpdateUser`). Another user's id fails locally with `InvalidArgument`, as in
    /// Kotlin ("The client-side partial update allows you to update only the current
    /// user."). `invisible: true` hides the user's presence.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ErrorKind, User};
    /// use serde_json::json;
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let mut set = serde_json::Map::new();
    /// set.insert("mood".into(), json!("grumpy"));
    /// let user = client.partial_update_user("bender", set.clone(), vec![]).execute().into_result().unwrap();
    /// assert_eq!(user.extra_data["mood"], "grumpy");
    /// let err = client.partial_update_user("fry", set, vec![]).execute().into_result().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    /// ```
    pub fn partial_update_user(
        &self,
        id: &str,
        set: Map<String, Value>,
        unset: Vec<String>,
    ) -> Call<User> {
        let id = id.to_owned();
        self.core.call(move |rest| {
            let auth = rest.auth()?;
            if auth.user_id() != Some(id.as_str()) {
                return Err(ChatError::new(
                    ErrorKind::InvalidArgument,
                    "The client-side partial update allows you to update only the current user.",
                ));
            }
            let body = PartialUpdateUsersRequest {
                users: vec![PartialUserUpdate {
                    id: id.clone(),
                    set: set.clone(),
                    unset: unset.clone(),
                }],
            };
            let req = Request::patch("users", &body)?;
            let mut response: UsersResponse = rest.send_as(&req, &auth)?;
            response.users.remove(&id).ok_or_else(|| {
                ChatError::new(ErrorKind::Parse, format!("the response has no user '{id}'"))
            })
        })
    }
}
