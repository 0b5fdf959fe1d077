//! User administration and queries as the app: upsert, partial update, token revocation,
//! deactivation, deletion, tasks, and user and channel queries that see everything.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use stream_chat_callbacks::{Call, ChatError, ErrorKind};
use stream_chat_protocol::server_side::REVOKE_TOKENS_ISSUED_BEFORE;
use stream_chat_protocol::{
    ChannelState, DeactivateUserRequest, DeleteUsersRequest, PartialUpdateUsersRequest,
    PartialUserUpdate, QueryChannelsRequest, QueryChannelsResponse, QueryUsersRequest,
    QueryUsersResponse, ReactivateUserRequest, TaskResponse, TaskStatus, UpsertUsersRequest, User,
    UserResponse, UsersResponse, time,
};

use super::ServerClient;
use crate::rest::Request;

/// `PATCH` with a JSON body.
fn patch<'a>(path: &'a str, body: &impl serde::Serialize) -> Result<Request<'a>, ChatError> {
    Ok(Request {
        method: "PATCH",
        ..Request::post(path, body)?
    })
}

/// RFC 3339 with nanoseconds.
fn rfc3339(at: SystemTime) -> String {
    let nanos = match at.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    };
    time::format_rfc3339(nanos)
}

impl ServerClient {
    /// Creates or replaces users (`POST /users`); any field may be set, `role` and `teams`
    /// included. Returns them by id as stored.
    ///
    /// ```
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let admin = stream_chat_client::ServerClient::builder(server.api_key(), server.api_secret()).base_url(server.base_url()).build().unwrap();
    /// use stream_chat_client::User;
    /// let users = admin.upsert_users(vec![User::new("mod").with_role("admin")]).execute().into_result().unwrap();
    /// assert_eq!(users["mod"].role.as_deref(), Some("admin"));
    /// ```
    pub fn upsert_users(&self, users: Vec<User>) -> Call<BTreeMap<String, User>> {
        let body = UpsertUsersRequest {
            users: users.into_iter().map(|u| (u.id.clone(), u)).collect(),
        };
        self.call("users".into(), move |path| Request::post(path, &body))
            .map(|r: UsersResponse| r.users)
    }

    /// [`upsert_users`](Self::upsert_users) for one user.
    pub fn upsert_user(&self, user: User) -> Call<User> {
        let id = user.id.clone();
        self.upsert_users(vec![user])
            .map(move |mut users| users.remove(&id).unwrap_or_default())
    }

    /// Sets and unsets fields of existing users (`PATCH /users`).
    ///
    /// ```
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let admin = stream_chat_client::ServerClient::builder(server.api_key(), server.api_secret()).base_url(server.base_url()).build().unwrap();
    /// use stream_chat_client::{PartialUserUpdate, User};
    /// admin.upsert_user(User::new("ann")).execute().into_result().unwrap();
    /// let mut update = PartialUserUpdate { id: "ann".into(), ..Default::default() };
    /// update.set.insert("name".into(), "Ann".into());
    /// let users = admin.partial_update_users(vec![update]).execute().into_result().unwrap();
    /// assert_eq!(users["ann"].name(), "Ann");
    /// ```
    pub fn partial_update_users(
        &self,
        updates: Vec<PartialUserUpdate>,
    ) -> Call<BTreeMap<String, User>> {
        let body = PartialUpdateUsersRequest { users: updates };
        self.call("users".into(), move |path| patch(path, &body))
            .map(|r: UsersResponse| r.users)
    }

    /// Revokes every token of `user_id` issued before `before` (JS `revokeUserToken`): the
    /// server refuses them from then on with code 40, on REST and at connect, so clients
    /// with a token provider load a new one. Tokens without `iat` count as revoked.
    ///
    /// ```
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let admin = stream_chat_client::ServerClient::builder(server.api_key(), server.api_secret()).base_url(server.base_url()).build().unwrap();
    /// # admin.upsert_user(stream_chat_client::User::new("eve")).execute().into_result().unwrap();
    /// admin.revoke_user_token("eve", std::time::SystemTime::now()).execute().into_result().unwrap();
    /// ```
    pub fn revoke_user_token(&self, user_id: &str, before: SystemTime) -> Call<()> {
        self.revoke_users_token(&[user_id], before)
    }

    /// [`revoke_user_token`](Self::revoke_user_token) for several users.
    pub fn revoke_users_token(&self, user_ids: &[&str], before: SystemTime) -> Call<()> {
        self.set_revocation(user_ids, Value::String(rfc3339(before)))
    }

    /// Lifts a token revocation of `user_id` (every valid token works again).
    pub fn lift_token_revocation(&self, user_id: &str) -> Call<()> {
        self.set_revocation(&[user_id], Value::Null)
    }

    fn set_revocation(&self, user_ids: &[&str], value: Value) -> Call<()> {
        let updates: Vec<PartialUserUpdate> = user_ids
            .iter()
            .map(|id| PartialUserUpdate {
                id: (*id).to_owned(),
                set: [(REVOKE_TOKENS_ISSUED_BEFORE.to_owned(), value.clone())]
                    .into_iter()
                    .collect(),
                unset: Vec::new(),
            })
            .collect();
        self.partial_update_users(updates).map(|_| ())
    }

    /// Deactivates a user (`POST /users/{id}/deactivate`): they cannot connect or call the
    /// API until reactivated; their sockets are closed.
    ///
    /// ```
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let admin = stream_chat_client::ServerClient::builder(server.api_key(), server.api_secret()).base_url(server.base_url()).build().unwrap();
    /// use stream_chat_client::{DeactivateUserRequest, ReactivateUserRequest, User};
    /// admin.upsert_user(User::new("spammer")).execute().into_result().unwrap();
    /// let user = admin.deactivate_user("spammer", DeactivateUserRequest::default()).execute().into_result().unwrap();
    /// assert!(user.extra_data.contains_key("deactivated_at"));
    /// admin.reactivate_user("spammer", ReactivateUserRequest::default()).execute().into_result().unwrap();
    /// ```
    pub fn deactivate_user(&self, user_id: &str, options: DeactivateUserRequest) -> Call<User> {
        self.call(
            format!("users/{}/deactivate", segment(user_id)),
            move |path| Request::post(path, &options),
        )
        .map(|r: UserResponse| r.user)
    }

    /// Reactivates a deactivated user (`POST /users/{id}/reactivate`).
    pub fn reactivate_user(&self, user_id: &str, options: ReactivateUserRequest) -> Call<User> {
        self.call(
            format!("users/{}/reactivate", segment(user_id)),
            move |path| Request::post(path, &options),
        )
        .map(|r: UserResponse| r.user)
    }

    /// Deletes one user now (`DELETE /users/{id}`): `hard` removes them, otherwise they are
    /// kept marked deleted.
    pub fn delete_user(&self, user_id: &str, hard: bool) -> Call<User> {
        self.call(format!("users/{}", segment(user_id)), move |path| {
            Ok(Request::delete(path).query("hard_delete", hard.to_string()))
        })
        .map(|r: UserResponse| r.user)
    }

    /// Deletes users in a background task (`POST /users/delete`); returns the task's id for
    /// [`get_task`](Self::get_task).
    ///
    /// ```
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let admin = stream_chat_client::ServerClient::builder(server.api_key(), server.api_secret()).base_url(server.base_url()).build().unwrap();
    /// use stream_chat_client::{DeleteUsersRequest, User};
    /// admin.upsert_users(vec![User::new("a"), User::new("b")]).execute().into_result().unwrap();
    /// let task = admin.delete_users(DeleteUsersRequest::new(vec!["a".into(), "b".into()], "hard")).execute().into_result().unwrap();
    /// assert!(admin.get_task(&task).execute().into_result().unwrap().is_completed());
    /// ```
    pub fn delete_users(&self, request: DeleteUsersRequest) -> Call<String> {
        self.call("users/delete".into(), move |path| {
            Request::post(path, &request)
        })
        .map(|r: TaskResponse| r.task_id)
    }

    /// A background task's state (`GET /tasks/{id}`).
    pub fn get_task(&self, task_id: &str) -> Call<TaskStatus> {
        self.call(format!("tasks/{}", segment(task_id)), |path| {
            Ok(Request::get(path))
        })
    }

    /// Users matching a filter, as the app sees them (`GET /users`).
    ///
    /// ```
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let admin = stream_chat_client::ServerClient::builder(server.api_key(), server.api_secret()).base_url(server.base_url()).build().unwrap();
    /// use stream_chat_client::{QueryUsersRequest, User};
    /// admin.upsert_user(User::new("zed")).execute().into_result().unwrap();
    /// let mut query = QueryUsersRequest::default();
    /// query.filter_conditions.insert("id".into(), serde_json::json!({"$in": ["zed"]}));
    /// assert_eq!(admin.query_users(query).execute().into_result().unwrap().len(), 1);
    /// ```
    pub fn query_users(&self, query: QueryUsersRequest) -> Call<Vec<User>> {
        self.call("users".into(), move |path| {
            let payload = serde_json::to_string(&query).map_err(|e| {
                ChatError::new(ErrorKind::InvalidArgument, "the query cannot be encoded")
                    .with_source(e)
            })?;
            Ok(Request::get(path).query("payload", payload))
        })
        .map(|r: QueryUsersResponse| r.users)
    }

    /// Channels matching a filter, every channel of the app readable (`POST /channels`;
    /// no watching: there is no socket).
    ///
    /// ```
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let admin = stream_chat_client::ServerClient::builder(server.api_key(), server.api_secret()).base_url(server.base_url()).build().unwrap();
    /// use stream_chat_client::QueryChannelsRequest;
    /// admin.channel("messaging", "q").unwrap().create("ann", &["ann"]).execute().into_result().unwrap();
    /// let channels = admin.query_channels(QueryChannelsRequest::default()).execute().into_result().unwrap();
    /// assert_eq!(channels[0].channel.cid, "messaging:q");
    /// ```
    pub fn query_channels(&self, query: QueryChannelsRequest) -> Call<Vec<ChannelState>> {
        let body = QueryChannelsRequest {
            watch: None,
            presence: None,
            state: query.state.or(Some(true)),
            ..query
        };
        let body = json!(body);
        self.call("channels".into(), move |path| Request::post(path, &body))
            .map(|r: QueryChannelsResponse| r.channels)
    }
}

/// A user or task id as one path segment.
pub(super) fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
