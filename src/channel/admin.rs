//! Channel administration: `update`, `update_partial`, `delete`, `truncate`, `hide`,
//! `show`, `enable_slow_mode`, `disable_slow_mode` (Kotlin's `ChannelClient` names).

use serde_json::{Map, Value, json};
use stream_chat_callbacks::{Call, ChatError, ErrorKind};
use stream_chat_protocol::{
    Channel, DeleteChannelResponse, HideChannelRequest, Message, PartialUpdateChannelRequest,
    TruncateChannelRequest, TruncateChannelResponse, UpdateChannelRequest, UpdateChannelResponse,
};

use super::ChannelClient;
use crate::rest::Request;

/// The longest slow-mode cooldown Stream accepts, in seconds.
pub const MAX_COOLDOWN_SECONDS: u32 = 120;

impl ChannelClient {
    /// `channels/{type}/{id}`.
    fn base(&self) -> String {
        format!("channels/{}/{}", self.channel_type, self.channel_id)
    }

    /// Sends a channel update (`POST /channels/{type}/{id}`) and returns the channel.
    pub(super) fn post_update(&self, body: UpdateChannelRequest) -> Call<Channel> {
        let path = self.base();
        let (core, cid) = (self.core.clone(), self.cid.clone());
        // `remove_members` entries are ids or `{"user_id": ..}` objects.
        let removed: Vec<String> = body
            .remove_members
            .iter()
            .flatten()
            .filter_map(|v| v.as_str().or_else(|| v["user_id"].as_str()))
            .map(str::to_owned)
            .collect();
        self.core.call(move |rest| {
            let response: UpdateChannelResponse = rest.send(&Request::post(&path, &body)?)?;
            core.store()
                .channel_answered(&cid, &response.channel, &response.members, &removed);
            Ok(response.channel)
        })
    }

    /// `PATCH /channels/{type}/{id}` with `body`; the answer goes into the state.
    fn patch_update(&self, body: PartialUpdateChannelRequest) -> Call<Channel> {
        let path = self.base();
        let (core, cid) = (self.core.clone(), self.cid.clone());
        self.core.call(move |rest| {
            let response: UpdateChannelResponse = rest.send(&Request::patch(&path, &body)?)?;
            core.store()
                .channel_answered(&cid, &response.channel, &response.members, &[]);
            Ok(response.channel)
        })
    }

    /// Replaces the channel's custom data with `extra_data` (`name`, `image`, your fields;
    /// `frozen` and `cooldown` too, for moderators) and posts `message` as a system message,
    /// if given (Kotlin's `update(message, extraData)`). The watchers get `channel.updated`.
    /// Needs the `update-channel` capability (the creator, channel moderators, moderators,
    /// admins).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// use serde_json::json;
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender", "fry"]).execute().into_result().unwrap();
    /// let mut data = serde_json::Map::new();
    /// data.insert("name".into(), json!("Planet Express"));
    /// let updated = channel.update(Some(Message::with_text("Renamed")), data).execute().into_result().unwrap();
    /// assert_eq!(updated.extra["name"], "Planet Express");
    /// ```
    pub fn update(
        &self,
        message: Option<Message>,
        extra_data: Map<String, Value>,
    ) -> Call<Channel> {
        self.post_update(UpdateChannelRequest {
            data: Some(extra_data),
            message,
            ..UpdateChannelRequest::default()
        })
    }

    /// Sets the fields of `set` and removes those of `unset`, keeping the others (Kotlin's
    /// `updatePartial`). `frozen: true` freezes the channel (moderators only).
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
    /// set.insert("topic".into(), json!("deliveries"));
    /// let updated = channel.update_partial(set, vec![]).execute().into_result().unwrap();
    /// assert_eq!(updated.extra["topic"], "deliveries");
    /// ```
    pub fn update_partial(&self, set: Map<String, Value>, unset: Vec<String>) -> Call<Channel> {
        self.patch_update(PartialUpdateChannelRequest {
            set,
            unset,
            user_id: None,
        })
    }

    /// Deletes the channel and its messages; returns it with `deleted_at`. The watchers get
    /// `channel.deleted`, members who do not watch `notification.channel_deleted`.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "doomed").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// let deleted = channel.delete().execute().into_result().unwrap();
    /// assert!(deleted.deleted_at.is_some());
    /// ```
    pub fn delete(&self) -> Call<Channel> {
        let path = self.base();
        let (core, cid) = (self.core.clone(), self.cid.clone());
        self.core.call(move |rest| {
            let response: DeleteChannelResponse = rest.send(&Request::delete(&path))?;
            core.store().delete_answered(&cid);
            Ok(response.channel)
        })
    }

    /// Removes every message of the channel, then posts `system_message` if given (Kotlin's
    /// `truncate(systemMessage)`); the channel comes back with `truncated_at`. The watchers
    /// get `channel.truncated`.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// channel.send_message(Message::with_text("old news")).execute().into_result().unwrap();
    /// let truncated = channel.truncate(None).execute().into_result().unwrap();
    /// assert!(truncated.truncated_at.is_some());
    /// ```
    pub fn truncate(&self, system_message: Option<Message>) -> Call<Channel> {
        let path = self.path("truncate");
        let body = TruncateChannelRequest {
            message: system_message,
            ..TruncateChannelRequest::default()
        };
        let (core, cid) = (self.core.clone(), self.cid.clone());
        self.core.call(move |rest| {
            let response: TruncateChannelResponse = rest.send(&Request::post(&path, &body)?)?;
            core.store()
                .truncate_answered(&cid, &response.channel, response.message.as_ref());
            Ok(response.channel)
        })
    }

    /// Hides the channel for the user: it leaves their `query_channels` results and unread
    /// totals until a new message arrives or [`show`](Self::show). With `clear_history` its
    /// messages so far are hidden from them for good. Their connections get `channel.hidden`.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// channel.hide(false).execute().into_result().unwrap();
    /// channel.show().execute().into_result().unwrap();
    /// ```
    pub fn hide(&self, clear_history: bool) -> Call<()> {
        let path = self.path("hide");
        let body = HideChannelRequest {
            user_id: None,
            clear_history: Some(clear_history),
        };
        let (core, cid) = (self.core.clone(), self.cid.clone());
        self.core.call(move |rest| {
            let _: Value = rest.send(&Request::post(&path, &body)?)?;
            core.store().hide_answered(&cid, true, clear_history);
            Ok(())
        })
    }

    /// Shows a hidden channel again (`channel.visible` to the user's connections).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// channel.show().execute().into_result().unwrap();
    /// ```
    pub fn show(&self) -> Call<()> {
        let path = self.path("show");
        let (core, cid) = (self.core.clone(), self.cid.clone());
        self.core.call(move |rest| {
            let _: Value = rest.send(&Request::post(&path, &Map::new())?)?;
            core.store().hide_answered(&cid, false, false);
            Ok(())
        })
    }

    /// Turns slow mode on: each user may send one message per `cooldown_seconds` (1 to
    /// [`MAX_COOLDOWN_SECONDS`]; other values fail locally with `InvalidArgument`, as in
    /// Kotlin). Moderators and admins are not limited; others get Stream's code 60 inside
    /// the cooldown. Needs the `set-channel-cooldown` capability.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ErrorKind, User};
    /// # let client = ChatClient::builder("key").build().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// let err = channel.enable_slow_mode(0).execute().into_result().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    /// ```
    pub fn enable_slow_mode(&self, cooldown_seconds: u32) -> Call<Channel> {
        if !(1..=MAX_COOLDOWN_SECONDS).contains(&cooldown_seconds) {
            let err = ChatError::new(
                ErrorKind::InvalidArgument,
                format!(
                    "the cooldown must be between 1 and {MAX_COOLDOWN_SECONDS} seconds, not {cooldown_seconds}"
                ),
            );
            return self.core.call(move |_| Err(err.clone()));
        }
        self.set_cooldown(cooldown_seconds)
    }

    /// Turns slow mode off.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.channel("messaging", "pe").unwrap().disable_slow_mode().execute();
    /// ```
    pub fn disable_slow_mode(&self) -> Call<Channel> {
        self.set_cooldown(0)
    }

    /// `PATCH` with `set.cooldown`, as Android's `updateCooldown`.
    fn set_cooldown(&self, seconds: u32) -> Call<Channel> {
        let mut set = Map::new();
        set.insert("cooldown".into(), json!(seconds));
        self.patch_update(PartialUpdateChannelRequest {
            set,
            unset: Vec::new(),
            user_id: None,
        })
    }
}
