//! Moderation at the client level: `mute_user`, `unmute_user`, `mute_channel`,
//! `unmute_channel`, `ban_user`, `unban_user`, `shadow_ban_user`, `remove_shadow_ban`,
//! `query_banned_users`, `flag_message`, `flag_user`, `unflag_message`, `unflag_user`,
//! `block_user`, `unblock_user`, `query_blocked_users` (Kotlin's `ChatClient` names).

use serde_json::{Map, Value};
use stream_chat_callbacks::{Call, ChatError, ErrorKind};
use stream_chat_protocol::{
    BannedUser, BlockUserRequest, BlockedUsersResponse, Flag, FlagRequest, FlagResponse, Mute,
    MuteUserRequest, MuteUserResponse, SortParam, UserBlock,
};

use super::ChatClient;
use crate::channel::moderation::{ban, query_bans, unban};
use crate::rest::Request;
use crate::state::Unmuted;

impl ChatClient {
    /// Mutes a user for `timeout_minutes` or until [`unmute_user`](Self::unmute_user): their
    /// messages stop counting as unread for the caller. The caller's connections get
    /// `notification.mutes_updated` (`me.mutes`). Muting oneself is Stream's code 4, an
    /// unknown user 16.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// # client.channel("messaging", "pe").unwrap().create(["bender", "fry"]).execute().into_result().unwrap();
    /// let mute = client.mute_user("fry", None).execute().into_result().unwrap();
    /// assert_eq!(mute.target.id, "fry");
    /// client.unmute_user("fry").execute().into_result().unwrap();
    /// ```
    pub fn mute_user(&self, user_id: &str, timeout_minutes: Option<i32>) -> Call<Mute> {
        let body = MuteUserRequest {
            target_id: Some(user_id.to_owned()),
            timeout: timeout_minutes.map(i64::from),
            ..MuteUserRequest::default()
        };
        let core = self.core.clone();
        self.core.call(move |rest| {
            let response: MuteUserResponse =
                rest.send(&Request::post("moderation/mute", &body)?)?;
            if let Some(me) = &response.own_user {
                core.store().own_user_answered(me);
            }
            response
                .mute
                .ok_or_else(|| ChatError::new(ErrorKind::Parse, "the mute response has no mute"))
        })
    }

    /// Unmutes a user.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.unmute_user("fry").execute();
    /// ```
    pub fn unmute_user(&self, user_id: &str) -> Call<()> {
        let body = MuteUserRequest {
            target_id: Some(user_id.to_owned()),
            ..MuteUserRequest::default()
        };
        let (core, target) = (self.core.clone(), user_id.to_owned());
        self.core.call(move |rest| {
            let _: Value = rest.send(&Request::post("moderation/unmute", &body)?)?;
            core.store().unmute_answered(Unmuted::User(&target));
            Ok(())
        })
    }

    /// Mutes channel `type:id` for `expiration_ms` or until unmuted (as
    /// [`ChannelClient::mute`](crate::ChannelClient::mute)).
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.mute_channel("messaging", "pe", Some(60_000)).execute();
    /// ```
    pub fn mute_channel(
        &self,
        channel_type: &str,
        channel_id: &str,
        expiration_ms: Option<u32>,
    ) -> Call<()> {
        match self.channel(channel_type, channel_id) {
            Ok(channel) => channel.mute(expiration_ms),
            Err(err) => self.core.call(move |_| Err(err.clone())),
        }
    }

    /// Unmutes channel `type:id`.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.unmute_channel("messaging", "pe").execute();
    /// ```
    pub fn unmute_channel(&self, channel_type: &str, channel_id: &str) -> Call<()> {
        match self.channel(channel_type, channel_id) {
            Ok(channel) => channel.unmute(),
            Err(err) => self.core.call(move |_| Err(err.clone())),
        }
    }

    /// Bans a user in channel `type:id` (Kotlin's `banUser(targetId, channelType, channelId,
    /// reason, timeout)`); timeout in minutes.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.ban_user("fry", "messaging", "pe", Some("spam".into()), Some(10)).execute();
    /// ```
    pub fn ban_user(
        &self,
        target_id: &str,
        channel_type: &str,
        channel_id: &str,
        reason: Option<String>,
        timeout_minutes: Option<i32>,
    ) -> Call<()> {
        ban(
            &self.core,
            target_id,
            Some((channel_type, channel_id)),
            reason,
            timeout_minutes,
            false,
        )
    }

    /// Bans a user in every channel (moderators and admins): `user.banned` without a `cid`
    /// to their connections.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.ban_user_globally("fry", None, None).execute();
    /// ```
    pub fn ban_user_globally(
        &self,
        target_id: &str,
        reason: Option<String>,
        timeout_minutes: Option<i32>,
    ) -> Call<()> {
        ban(&self.core, target_id, None, reason, timeout_minutes, false)
    }

    /// Lifts a ban in channel `type:id`.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.unban_user("fry", "messaging", "pe").execute();
    /// ```
    pub fn unban_user(&self, target_id: &str, channel_type: &str, channel_id: &str) -> Call<()> {
        unban(
            &self.core,
            target_id,
            Some((channel_type, channel_id)),
            false,
        )
    }

    /// Lifts an app-wide ban.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.unban_user_globally("fry").execute();
    /// ```
    pub fn unban_user_globally(&self, target_id: &str) -> Call<()> {
        unban(&self.core, target_id, None, false)
    }

    /// Shadow-bans a user in channel `type:id`: their messages are `shadowed` for everyone
    /// else.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.shadow_ban_user("fry", "messaging", "pe", None, None).execute();
    /// ```
    pub fn shadow_ban_user(
        &self,
        target_id: &str,
        channel_type: &str,
        channel_id: &str,
        reason: Option<String>,
        timeout_minutes: Option<i32>,
    ) -> Call<()> {
        ban(
            &self.core,
            target_id,
            Some((channel_type, channel_id)),
            reason,
            timeout_minutes,
            true,
        )
    }

    /// Lifts a shadow ban in channel `type:id`.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.remove_shadow_ban("fry", "messaging", "pe").execute();
    /// ```
    pub fn remove_shadow_ban(
        &self,
        target_id: &str,
        channel_type: &str,
        channel_id: &str,
    ) -> Call<()> {
        unban(
            &self.core,
            target_id,
            Some((channel_type, channel_id)),
            true,
        )
    }

    /// The bans matching `filter` (`channel_cid`, `user_id`, `banned_by_id`, `reason`,
    /// `created_at`), newest first unless told. Moderators and admins see every ban, other
    /// users those of the channels they may read.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// let bans = client.query_banned_users(serde_json::Map::new(), vec![], None, Some(10)).execute();
    /// ```
    pub fn query_banned_users(
        &self,
        filter: Map<String, Value>,
        sort: Vec<SortParam>,
        offset: Option<u32>,
        limit: Option<u32>,
    ) -> Call<Vec<BannedUser>> {
        query_bans(&self.core, filter, sort, offset, limit)
    }

    fn flag_call(&self, path: &'static str, body: FlagRequest) -> Call<Flag> {
        self.core.call(move |rest| {
            let response: FlagResponse = rest.send(&Request::post(path, &body)?)?;
            Ok(response.flag)
        })
    }

    /// Flags a message for the moderators (no effect on the chat). Flagging it twice is
    /// Stream's code 4, an unknown message 16.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// let sent = channel.send_message(Message::with_text("rude")).execute().into_result().unwrap();
    /// let flag = client.flag_message(&sent.id, Some("spam".into()), Default::default()).execute().into_result().unwrap();
    /// assert_eq!(flag.target_message_id.as_deref(), Some(sent.id.as_str()));
    /// ```
    pub fn flag_message(
        &self,
        message_id: &str,
        reason: Option<String>,
        custom_data: Map<String, Value>,
    ) -> Call<Flag> {
        self.flag_call(
            "moderation/flag",
            FlagRequest {
                target_message_id: Some(message_id.to_owned()),
                reason,
                custom: (!custom_data.is_empty()).then_some(custom_data),
                ..FlagRequest::default()
            },
        )
    }

    /// Flags a user for the moderators.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.flag_user("fry", None, Default::default()).execute();
    /// ```
    pub fn flag_user(
        &self,
        user_id: &str,
        reason: Option<String>,
        custom_data: Map<String, Value>,
    ) -> Call<Flag> {
        self.flag_call(
            "moderation/flag",
            FlagRequest {
                target_user_id: Some(user_id.to_owned()),
                reason,
                custom: (!custom_data.is_empty()).then_some(custom_data),
                ..FlagRequest::default()
            },
        )
    }

    /// Takes back a flag on a message.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.unflag_message("m1").execute();
    /// ```
    pub fn unflag_message(&self, message_id: &str) -> Call<Flag> {
        self.flag_call(
            "moderation/unflag",
            FlagRequest {
                target_message_id: Some(message_id.to_owned()),
                ..FlagRequest::default()
            },
        )
    }

    /// Takes back a flag on a user.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.unflag_user("fry").execute();
    /// ```
    pub fn unflag_user(&self, user_id: &str) -> Call<Flag> {
        self.flag_call(
            "moderation/unflag",
            FlagRequest {
                target_user_id: Some(user_id.to_owned()),
                ..FlagRequest::default()
            },
        )
    }

    /// Blocks a user: their messages are no longer delivered to the caller's connections,
    /// and `me.blocked_user_ids` lists them (Stream sends no event for blocks).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// # client.channel("messaging", "pe").unwrap().create(["bender", "fry"]).execute().into_result().unwrap();
    /// let block = client.block_user("fry").execute().into_result().unwrap();
    /// assert_eq!(block.blocked_user_id, "fry");
    /// let blocks = client.query_blocked_users().execute().into_result().unwrap();
    /// assert_eq!(blocks.len(), 1);
    /// client.unblock_user("fry").execute().into_result().unwrap();
    /// ```
    pub fn block_user(&self, user_id: &str) -> Call<UserBlock> {
        let body = BlockUserRequest {
            blocked_user_id: user_id.to_owned(),
            user_id: None,
        };
        self.core
            .call(move |rest| rest.send(&Request::post("users/block", &body)?))
    }

    /// Unblocks a user.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.unblock_user("fry").execute();
    /// ```
    pub fn unblock_user(&self, user_id: &str) -> Call<()> {
        let body = BlockUserRequest {
            blocked_user_id: user_id.to_owned(),
            user_id: None,
        };
        self.core.call(move |rest| {
            let _: Value = rest.send(&Request::post("users/unblock", &body)?)?;
            Ok(())
        })
    }

    /// The users the caller blocked.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// let blocks = client.query_blocked_users().execute();
    /// ```
    pub fn query_blocked_users(&self) -> Call<Vec<UserBlock>> {
        self.core.call(move |rest| {
            let response: BlockedUsersResponse = rest.send(&Request::get("users/block"))?;
            Ok(response.blocks)
        })
    }
}
