//! Members: `add_members`, `remove_members`, `query_members`, `add_moderators`,
//! `demote_moderators`, `invite_members`, `accept_invite`, `reject_invite`,
//! `partial_update_member` (Kotlin's `ChannelClient` names).

use serde_json::{Map, Value};
use stream_chat_callbacks::{Call, ChatError, ErrorKind};
use stream_chat_protocol::{
    Channel, Member, Message, PartialUpdateMemberRequest, PartialUpdateMemberResponse,
    QueryMembersRequest, QueryMembersResponse, SortParam, UpdateChannelRequest,
};

use super::ChannelClient;
use crate::rest::Request;

/// User ids as the update body's member lists carry them.
fn ids<I, S>(member_ids: I) -> Vec<Value>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    member_ids
        .into_iter()
        .map(|m| Value::String(m.into()))
        .collect()
}

fn strings<I, S>(member_ids: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    member_ids.into_iter().map(Into::into).collect()
}

impl ChannelClient {
    /// Adds members (and posts `system_message`, if given); returns the channel. The
    /// watchers get `member.added`, the new members `notification.added_to_channel`. Needs
    /// the `update-channel-members` capability.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// let updated = channel.add_members(["fry", "leela"], None).execute().into_result().unwrap();
    /// assert_eq!(updated.member_count, Some(3));
    /// ```
    pub fn add_members<I, S>(&self, member_ids: I, system_message: Option<Message>) -> Call<Channel>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.post_update(UpdateChannelRequest {
            add_members: Some(ids(member_ids)),
            message: system_message,
            ..UpdateChannelRequest::default()
        })
    }

    /// Removes members (a member may remove themselves: leaving). The watchers get
    /// `member.removed`, the removed users `notification.removed_from_channel`.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender", "fry"]).execute().into_result().unwrap();
    /// let updated = channel.remove_members(["fry"], None).execute().into_result().unwrap();
    /// assert_eq!(updated.member_count, Some(1));
    /// ```
    pub fn remove_members<I, S>(
        &self,
        member_ids: I,
        system_message: Option<Message>,
    ) -> Call<Channel>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.post_update(UpdateChannelRequest {
            remove_members: Some(ids(member_ids)),
            message: system_message,
            ..UpdateChannelRequest::default()
        })
    }

    /// Makes members channel moderators (`channel_role: channel_moderator`;
    /// `member.updated` to the watchers).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender", "leela"]).execute().into_result().unwrap();
    /// channel.add_moderators(["leela"], None).execute().into_result().unwrap();
    /// ```
    pub fn add_moderators<I, S>(
        &self,
        member_ids: I,
        system_message: Option<Message>,
    ) -> Call<Channel>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.post_update(UpdateChannelRequest {
            add_moderators: Some(strings(member_ids)),
            message: system_message,
            ..UpdateChannelRequest::default()
        })
    }

    /// Makes channel moderators plain members again.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender", "leela"]).execute().into_result().unwrap();
    /// channel.demote_moderators(["leela"], None).execute().into_result().unwrap();
    /// ```
    pub fn demote_moderators<I, S>(
        &self,
        member_ids: I,
        system_message: Option<Message>,
    ) -> Call<Channel>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.post_update(UpdateChannelRequest {
            demote_moderators: Some(strings(member_ids)),
            message: system_message,
            ..UpdateChannelRequest::default()
        })
    }

    /// Invites users: they become pending members (`invited`, `status: pending`) and get
    /// `notification.invited`, until they [`accept_invite`](Self::accept_invite) or
    /// [`reject_invite`](Self::reject_invite).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// channel.invite_members(["zoidberg"], None).execute().into_result().unwrap();
    /// ```
    pub fn invite_members<I, S>(
        &self,
        member_ids: I,
        system_message: Option<Message>,
    ) -> Call<Channel>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.post_update(UpdateChannelRequest {
            invites: Some(ids(member_ids)),
            message: system_message,
            ..UpdateChannelRequest::default()
        })
    }

    /// Accepts the user's pending invite, with an optional message posted to the channel
    /// (Kotlin's `acceptInvite(message)`). Without a pending invite: Stream's code 4.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.channel("messaging", "pe").unwrap().accept_invite(Some("Thanks!".into())).execute();
    /// ```
    pub fn accept_invite(&self, message: Option<String>) -> Call<Channel> {
        self.post_update(UpdateChannelRequest {
            accept_invite: Some(true),
            message: message.map(Message::with_text),
            ..UpdateChannelRequest::default()
        })
    }

    /// Rejects the user's pending invite: they are no longer a member.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.channel("messaging", "pe").unwrap().reject_invite().execute();
    /// ```
    pub fn reject_invite(&self) -> Call<Channel> {
        self.post_update(UpdateChannelRequest {
            reject_invite: Some(true),
            ..UpdateChannelRequest::default()
        })
    }

    /// The members matching `filter` (`{"name": {"$autocomplete": "fr"}}`,
    /// `{"channel_role": "channel_moderator"}`, `{"invite": "pending"}`, `{}` for all),
    /// sorted (oldest first when `sort` is empty) and paged (Kotlin's
    /// `queryMembers(offset, limit, filter, sort)`; `limit` 0 means the server's default,
    /// 100).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// use serde_json::json;
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender", "fry"]).execute().into_result().unwrap();
    /// let mut filter = serde_json::Map::new();
    /// filter.insert("id".into(), json!({"$in": ["fry"]}));
    /// let members = channel.query_members(0, 10, filter, vec![]).execute().into_result().unwrap();
    /// assert_eq!(members[0].user_id.as_deref(), Some("fry"));
    /// ```
    pub fn query_members(
        &self,
        offset: u32,
        limit: u32,
        filter: Map<String, Value>,
        sort: Vec<SortParam>,
    ) -> Call<Vec<Member>> {
        let request = QueryMembersRequest {
            kind: self.channel_type.clone(),
            id: Some(self.channel_id.clone()),
            filter_conditions: filter,
            sort,
            limit: (limit > 0).then_some(limit),
            offset: (offset > 0).then_some(offset),
            ..QueryMembersRequest::default()
        };
        self.core.call(move |rest| {
            let payload = serde_json::to_string(&request).map_err(|e| {
                ChatError::new(ErrorKind::InvalidArgument, "the query cannot be encoded")
                    .with_source(e)
            })?;
            let response: QueryMembersResponse =
                rest.send(&Request::get("members").query("payload", payload))?;
            Ok(response.members)
        })
    }

    /// Sets and unsets a member's fields: `pinned` / `archived` (the user's own),
    /// `channel_role`, custom member data (Kotlin's `partialUpdateMember`). The watchers get
    /// `member.updated`.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// use serde_json::json;
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// let mut set = serde_json::Map::new();
    /// set.insert("pinned".into(), json!(true));
    /// let member = channel.partial_update_member("bender", set, vec![]).execute().into_result().unwrap();
    /// assert!(member.pinned_at.is_some());
    /// ```
    pub fn partial_update_member(
        &self,
        user_id: &str,
        set: Map<String, Value>,
        unset: Vec<String>,
    ) -> Call<Member> {
        let path = self.path(&format!("member/{user_id}"));
        let body = PartialUpdateMemberRequest { set, unset };
        self.core.call(move |rest| {
            let response: PartialUpdateMemberResponse =
                rest.send(&Request::patch(&path, &body)?)?;
            Ok(response.channel_member)
        })
    }
}
