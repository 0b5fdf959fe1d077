//! Moderation on one channel: `mute`, `unmute`, `ban_user`, `unban_user`,
//! `shadow_ban_user`, `remove_shadow_ban`, `query_banned_users` (Kotlin's `ChannelClient`
//! names; the client-wide forms are on [`ChatClient`](crate::ChatClient)).

use serde_json::{Map, Value, json};
use stream_chat_callbacks::{Call, ChatError, ErrorKind};
use stream_chat_protocol::{
    BanUserRequest, BannedUser, MuteChannelRequest, MuteChannelResponse, QueryBannedUsersRequest,
    QueryBannedUsersResponse, SortParam,
};

use super::ChannelClient;
use crate::client::core::Core;
use crate::rest::Request;
use crate::state::Unmuted;

/// `POST /moderation/ban`: in the channel `(type, id)`, or app-wide without one. A
/// negative timeout fails locally with `InvalidArgument`.
pub(crate) fn ban(
    core: &Core,
    target_id: &str,
    channel: Option<(&str, &str)>,
    reason: Option<String>,
    timeout_minutes: Option<i32>,
    shadow: bool,
) -> Call<()> {
    if let Some(t) = timeout_minutes.filter(|t| *t < 0) {
        let err = ChatError::new(
            ErrorKind::InvalidArgument,
            format!("a ban's timeout is a number of minutes, not {t}"),
        );
        return core.call(move |_| Err(err.clone()));
    }
    let body = BanUserRequest {
        target_user_id: target_id.to_owned(),
        kind: channel.map(|c| c.0.to_owned()),
        id: channel.map(|c| c.1.to_owned()),
        timeout: timeout_minutes.map(i64::from),
        reason,
        shadow: shadow.then_some(true),
        ..BanUserRequest::default()
    };
    core.call(move |rest| {
        let _: Value = rest.send(&Request::post("moderation/ban", &body)?)?;
        Ok(())
    })
}

/// `DELETE /moderation/ban?target_user_id=&type=&id=`.
pub(crate) fn unban(
    core: &Core,
    target_id: &str,
    channel: Option<(&str, &str)>,
    shadow: bool,
) -> Call<()> {
    let target = target_id.to_owned();
    let channel = channel.map(|(t, i)| (t.to_owned(), i.to_owned()));
    core.call(move |rest| {
        let mut req = Request::delete("moderation/ban").query("target_user_id", target.clone());
        if let Some((kind, id)) = &channel {
            req = req.query("type", kind.clone()).query("id", id.clone());
        }
        if shadow {
            req = req.query("shadow", "true");
        }
        let _: Value = rest.send(&req)?;
        Ok(())
    })
}

/// `GET /query_banned_users?payload=`.
pub(crate) fn query_bans(
    core: &Core,
    filter: Map<String, Value>,
    sort: Vec<SortParam>,
    offset: Option<u32>,
    limit: Option<u32>,
) -> Call<Vec<BannedUser>> {
    let request = QueryBannedUsersRequest {
        filter_conditions: filter,
        sort,
        offset,
        limit,
        ..QueryBannedUsersRequest::default()
    };
    core.call(move |rest| {
        let payload = serde_json::to_string(&request).map_err(|e| {
            ChatError::new(ErrorKind::InvalidArgument, "the query cannot be encoded").with_source(e)
        })?;
        let response: QueryBannedUsersResponse =
            rest.send(&Request::get("query_banned_users").query("payload", payload))?;
        Ok(response.bans)
    })
}

impl ChannelClient {
    /// Mutes the channel for the user, for `expiration_ms` milliseconds or until
    /// [`unmute`](Self::unmute): no push, and it stops counting in the unread totals. Their
    /// connections get `notification.channel_mutes_updated` (`me.channel_mutes`).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// channel.mute(None).execute().into_result().unwrap();
    /// channel.unmute().execute().into_result().unwrap();
    /// ```
    pub fn mute(&self, expiration_ms: Option<u32>) -> Call<()> {
        let body = MuteChannelRequest {
            channel_cid: Some(self.cid.clone()),
            expiration: expiration_ms.map(i64::from),
            ..MuteChannelRequest::default()
        };
        let core = self.core.clone();
        self.core.call(move |rest| {
            let response: MuteChannelResponse =
                rest.send(&Request::post("moderation/mute/channel", &body)?)?;
            if let Some(me) = &response.own_user {
                core.store().own_user_answered(me);
            }
            Ok(())
        })
    }

    /// Unmutes the channel.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.channel("messaging", "pe").unwrap().unmute().execute();
    /// ```
    pub fn unmute(&self) -> Call<()> {
        let body = MuteChannelRequest {
            channel_cid: Some(self.cid.clone()),
            ..MuteChannelRequest::default()
        };
        let (core, cid) = (self.core.clone(), self.cid.clone());
        self.core.call(move |rest| {
            let _: Value = rest.send(&Request::post("moderation/unmute/channel", &body)?)?;
            core.store().unmute_answered(Unmuted::Channel(&cid));
            Ok(())
        })
    }

    /// Bans a user from this channel, for `timeout_minutes` or until unbanned: their sends
    /// are refused with Stream's code 17. The watchers get `user.banned`. Needs the
    /// `ban-channel-members` capability (channel moderators, moderators, admins).
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.channel("messaging", "pe").unwrap().ban_user("fry", Some("spam".into()), Some(60)).execute();
    /// ```
    pub fn ban_user(
        &self,
        target_id: &str,
        reason: Option<String>,
        timeout_minutes: Option<i32>,
    ) -> Call<()> {
        ban(
            &self.core,
            target_id,
            Some((&self.channel_type, &self.channel_id)),
            reason,
            timeout_minutes,
            false,
        )
    }

    /// Lifts a ban in this channel.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.channel("messaging", "pe").unwrap().unban_user("fry").execute();
    /// ```
    pub fn unban_user(&self, target_id: &str) -> Call<()> {
        unban(
            &self.core,
            target_id,
            Some((&self.channel_type, &self.channel_id)),
            false,
        )
    }

    /// Shadow-bans a user in this channel: they may post, but nobody else sees their
    /// messages (stored with `shadowed: true`), and they are not told.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.channel("messaging", "pe").unwrap().shadow_ban_user("fry", None, None).execute();
    /// ```
    pub fn shadow_ban_user(
        &self,
        target_id: &str,
        reason: Option<String>,
        timeout_minutes: Option<i32>,
    ) -> Call<()> {
        ban(
            &self.core,
            target_id,
            Some((&self.channel_type, &self.channel_id)),
            reason,
            timeout_minutes,
            true,
        )
    }

    /// Lifts a shadow ban in this channel.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.channel("messaging", "pe").unwrap().remove_shadow_ban("fry").execute();
    /// ```
    pub fn remove_shadow_ban(&self, target_id: &str) -> Call<()> {
        unban(
            &self.core,
            target_id,
            Some((&self.channel_type, &self.channel_id)),
            true,
        )
    }

    /// The bans of this channel matching `filter` (the channel's cid is added to it), as
    /// [`ChatClient::query_banned_users`](crate::ChatClient::query_banned_users).
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// let bans = client.channel("messaging", "pe").unwrap()
    ///     .query_banned_users(serde_json::Map::new(), vec![], None, None).execute();
    /// ```
    pub fn query_banned_users(
        &self,
        mut filter: Map<String, Value>,
        sort: Vec<SortParam>,
        offset: Option<u32>,
        limit: Option<u32>,
    ) -> Call<Vec<BannedUser>> {
        filter.insert("channel_cid".into(), json!(self.cid));
        query_bans(&self.core, filter, sort, offset, limit)
    }
}
