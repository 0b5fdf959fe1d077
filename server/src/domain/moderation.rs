//! Moderation: muting users and channels, bans (channel and app-wide, timed, shadow),
//! flags and blocks. Bans and mutes expire without a timer: an expired one is ignored
//! wherever it is read (`store::in_force`).

use std::collections::HashSet;

use serde_json::{Value, json};
use stream_chat_protocol::events::{
    NotificationChannelMutesUpdatedEvent, NotificationMutesUpdatedEvent, UserBannedEvent,
    UserUnbannedEvent,
};
use stream_chat_protocol::{
    BanUserRequest, BannedUser, BlockUserRequest, ChannelEvent, ChannelMute, Flag, FlagRequest,
    Mute, MuteChannelRequest, MuteChannelResponse, MuteUserRequest, MuteUserResponse,
    QueryBannedUsersRequest, SortParam, User, UserBlock, cid, time,
};

use super::caller::{Actor, Caller};
use super::channels::{ChannelKey, Loaded};
use super::permissions::{APP_SCOPE, Action, Relation};
use super::store::{BanRecord, BlockRecord, ChannelMuteRecord, FlagRecord, MuteRecord, in_force};
use super::{Chat, World, filter};
use crate::config::{DEFAULT_USER_LIMIT, MAX_USER_LIMIT};
use crate::error::{ApiError, ApiResult};

/// What a banned user is told when posting (Stream's text, code 17).
const SUSPENDED: &str =
    "Sorry, you do not have access to this feature. Your account is currently suspended from chat.";

/// The longest mute or ban Stream takes, in minutes (a year), so expiry times stay sane.
const MAX_TIMEOUT_MINUTES: i64 = 525_600;

/// `now` plus `minutes`, RFC 3339; code 4 for a negative or absurd timeout.
fn expiry(op: &str, now: i128, minutes: Option<i64>, what: &str) -> ApiResult<Option<String>> {
    match minutes {
        None | Some(0) => Ok(None),
        Some(m) if !(1..=MAX_TIMEOUT_MINUTES).contains(&m) => Err(ApiError::input(
            op,
            format!("{what} must be between 0 and {MAX_TIMEOUT_MINUTES} minutes, not {m}"),
        )),
        Some(m) => Ok(Some(time::format_rfc3339(
            now + i128::from(m) * 60 * 1_000_000_000,
        ))),
    }
}

impl World {
    /// The ban of `user_id` in force in `cid` (a channel ban there, else an app-wide one),
    /// or app-wide only without a cid.
    pub(crate) fn ban_in_force(
        &self,
        user_id: &str,
        cid: Option<&str>,
    ) -> ApiResult<Option<BanRecord>> {
        let now = time::now_nanos();
        let bans = self.store.bans()?;
        let live = |b: &&BanRecord| b.target_id == user_id && in_force(b.expires.as_deref(), now);
        let channel = cid.and_then(|cid| {
            bans.iter()
                .filter(live)
                .find(|b| b.cid.as_deref() == Some(cid))
        });
        let global = || bans.iter().filter(live).find(|b| b.cid.is_none());
        Ok(channel.or_else(global).cloned())
    }

    /// Whether `user_id` muted `cid` (a mute in force).
    pub(crate) fn channel_muted(&self, user_id: &str, cid: &str) -> ApiResult<bool> {
        let now = time::now_nanos();
        Ok(self
            .store
            .channel_mutes(user_id)?
            .iter()
            .any(|m| m.cid == cid && in_force(m.expires.as_deref(), now)))
    }

    /// The users `user_id` muted (mutes in force).
    pub(crate) fn muted_users(&self, user_id: &str) -> ApiResult<HashSet<String>> {
        let now = time::now_nanos();
        Ok(self
            .store
            .mutes(user_id)?
            .into_iter()
            .filter(|m| in_force(m.expires.as_deref(), now))
            .map(|m| m.target_id)
            .collect())
    }

    /// The users who blocked `user_id`.
    pub(crate) fn blocked_by(&self, members: &[String], user_id: &str) -> ApiResult<Vec<String>> {
        let mut out = Vec::new();
        for member in members {
            if self
                .store
                .blocks(member)?
                .iter()
                .any(|b| b.blocked_user_id == user_id)
            {
                out.push(member.clone());
            }
        }
        Ok(out)
    }

    /// Code 17 unless `sender` may post in `channel` now: not banned (in the channel or
    /// app-wide; a shadow ban lets them post), the channel not frozen for them, outside the
    /// slow-mode cooldown unless they may skip it. Returns whether the post is shadowed.
    pub(crate) fn check_can_post(
        &self,
        op: &str,
        caller: &Caller,
        channel: &Loaded,
        sender: &str,
    ) -> ApiResult<bool> {
        let cid = &channel.record.cid;
        let ban = self.ban_in_force(sender, Some(cid))?;
        if let Some(ban) = &ban
            && !ban.shadow
        {
            return Err(ApiError::forbidden(op, SUSPENDED));
        }
        if caller.is_server() {
            return Ok(ban.is_some());
        }
        let rel = channel.relation(caller);
        let kind = &channel.record.kind;
        let privileged = |action| super::permissions::allowed(&caller.role, kind, rel, action);
        if channel.record.frozen && !privileged(Action::UpdateChannelFrozen) {
            return Err(ApiError::forbidden(
                op,
                format!("channel {cid} is frozen: only moderators may post"),
            ));
        }
        let cooldown = i128::from(channel.record.cooldown) * 1_000_000_000;
        if cooldown > 0 && !privileged(Action::SkipChannelCooldown) {
            let last = self
                .last_posts
                .get(&(cid.clone(), sender.to_owned()))
                .copied();
            let wait = last.map_or(0, |at| at + cooldown - time::now_nanos());
            if wait > 0 {
                let seconds = (wait + 999_999_999) / 1_000_000_000;
                return Err(ApiError::op(
                    op,
                    stream_chat_protocol::codes::COOLDOWN,
                    format!(
                        "slow mode is on in channel {cid}: you can send your next message in {seconds} seconds"
                    ),
                ));
            }
        }
        Ok(ban.is_some())
    }

    /// `me` with the muted users (`mutes`) and channels (`channel_mutes`).
    pub(crate) fn mutes_view(&self, user_id: &str) -> ApiResult<(Vec<Mute>, Vec<ChannelMute>)> {
        let now = time::now_nanos();
        let me = self.user_response(user_id)?;
        let mut mutes = Vec::new();
        for m in self.store.mutes(user_id)? {
            if in_force(m.expires.as_deref(), now) {
                mutes.push(Mute {
                    user: me.clone(),
                    target: self.user_response(&m.target_id)?,
                    created_at: m.created_at,
                    updated_at: m.updated_at,
                    expires: m.expires,
                });
            }
        }
        let mut channel_mutes = Vec::new();
        for m in self.store.channel_mutes(user_id)? {
            if in_force(m.expires.as_deref(), now)
                && let Some(channel) = self.find_channel(&m.cid)?
            {
                channel_mutes.push(ChannelMute {
                    user: me.clone(),
                    channel: Some(self.channel_event_view(&channel)?),
                    created_at: m.created_at,
                    updated_at: m.updated_at,
                    expires: m.expires,
                });
            }
        }
        Ok((mutes, channel_mutes))
    }

    /// `notification.mutes_updated` and/or `notification.channel_mutes_updated` to the
    /// user's connections, with the whole new `me`.
    fn notify_mutes(&mut self, user_id: &str, users: bool) -> ApiResult<User> {
        let me = self.own_user(user_id)?;
        if users {
            let event = NotificationMutesUpdatedEvent {
                created_at: Some(self.now()),
                me: Some(me.clone()),
                ..Default::default()
            };
            self.send_to_user(user_id, &event);
        } else {
            let event = NotificationChannelMutesUpdatedEvent {
                created_at: Some(self.now()),
                me: Some(me.clone()),
                ..Default::default()
            };
            self.send_to_user(user_id, &event);
        }
        Ok(me)
    }

    /// The acting user of a moderation call: the caller, or for server tokens the user
    /// named in the body (required).
    fn moderator(&self, op: &str, caller: &Caller, named: Option<&str>) -> ApiResult<String> {
        caller.acting_user(op, "", named, None).map_err(|e| {
            if caller.is_server() {
                ApiError::input(
                    op,
                    "either user or user_id must be provided when using server side auth.",
                )
            } else {
                e
            }
        })
    }

    /// Code 16 unless user `id` exists.
    fn existing_user(&self, op: &str, id: &str) -> ApiResult<User> {
        match self.store.user(id)? {
            Some(_) => Ok(self.user_response(id)?),
            None => Err(ApiError::not_found(
                op,
                format!("user '{id}' does not exist"),
            )),
        }
    }

    fn banned_user_view(&self, b: &BanRecord) -> ApiResult<BannedUser> {
        let channel = match &b.cid {
            Some(cid) => self
                .find_channel(cid)?
                .map(|c| self.channel_event_view(&c))
                .transpose()?,
            None => None,
        };
        Ok(BannedUser {
            user: self.user_response(&b.target_id)?,
            banned_by: (!b.created_by.is_empty())
                .then(|| self.user_response(&b.created_by))
                .transpose()?,
            channel,
            expires: b.expires.clone(),
            reason: b.reason.clone(),
            shadow: b.shadow,
            created_at: b.created_at.clone(),
        })
    }
}

/// The document a query-banned-users filter matches.
fn ban_doc(b: &BanRecord) -> Value {
    json!({
        "user_id": b.target_id,
        "channel_cid": b.cid,
        "banned_by_id": b.created_by,
        "reason": b.reason,
        "shadow": b.shadow,
        "created_at": b.created_at,
        "expires": b.expires,
    })
}

impl Chat {
    /// `POST /moderation/mute`: the caller mutes users (for `timeout` minutes, or until
    /// unmuted). Muted users' messages stop counting as unread for the muter.
    /// `notification.mutes_updated` to the muter's connections.
    pub(crate) fn mute_users(
        &self,
        op: &str,
        actor: Actor,
        body: MuteUserRequest,
    ) -> ApiResult<MuteUserResponse> {
        let (mut world, caller) = self.enter(actor)?;
        let muter = world.moderator(op, &caller, body.user_id.as_deref())?;
        caller.require(op, APP_SCOPE, Relation::default(), Action::MuteUser)?;
        let targets: Vec<String> = body
            .target_id
            .into_iter()
            .chain(body.target_ids.into_iter().flatten())
            .collect();
        if targets.is_empty() {
            return Err(ApiError::input(op, "target_id or target_ids is required"));
        }
        if targets.contains(&muter) {
            return Err(ApiError::input(op, "a user cannot mute themselves"));
        }
        let now_nanos = time::now_nanos();
        let expires = expiry(op, now_nanos, body.timeout, "timeout")?;
        let mut missing = Vec::new();
        for target in &targets {
            if world.store.user(target)?.is_none() {
                missing.push(target.clone());
            }
        }
        if missing.len() == targets.len() {
            return Err(ApiError::not_found(
                op,
                format!("user '{}' does not exist", missing[0]),
            ));
        }
        let now = world.now();
        let me = world.user_response(&muter)?;
        let mut mutes = Vec::new();
        for target in targets.iter().filter(|t| !missing.contains(t)) {
            let created_at = world
                .store
                .mutes(&muter)?
                .into_iter()
                .find(|m| &m.target_id == target)
                .map_or_else(|| now.clone(), |m| m.created_at);
            let record = MuteRecord {
                user_id: muter.clone(),
                target_id: target.clone(),
                created_at,
                updated_at: now.clone(),
                expires: expires.clone(),
            };
            world.store.put_mute(record.clone())?;
            mutes.push(Mute {
                user: me.clone(),
                target: world.user_response(target)?,
                created_at: record.created_at,
                updated_at: record.updated_at,
                expires: record.expires,
            });
        }
        world.recount_user(&muter)?;
        let own_user = world.notify_mutes(&muter, true)?;
        Ok(MuteUserResponse {
            mute: mutes.first().cloned(),
            mutes: Some(mutes),
            own_user: Some(own_user),
            non_existing_users: (!missing.is_empty()).then_some(missing),
            duration: String::new(),
        })
    }

    /// `POST /moderation/unmute`: the caller unmutes users; `notification.mutes_updated`.
    pub(crate) fn unmute_users(
        &self,
        op: &str,
        actor: Actor,
        body: MuteUserRequest,
    ) -> ApiResult<MuteUserResponse> {
        let (mut world, caller) = self.enter(actor)?;
        let muter = world.moderator(op, &caller, body.user_id.as_deref())?;
        caller.require(op, APP_SCOPE, Relation::default(), Action::MuteUser)?;
        let targets: Vec<String> = body
            .target_id
            .into_iter()
            .chain(body.target_ids.into_iter().flatten())
            .collect();
        if targets.is_empty() {
            return Err(ApiError::input(op, "target_id or target_ids is required"));
        }
        let mut missing = Vec::new();
        for target in &targets {
            if world.store.user(target)?.is_none() {
                missing.push(target.clone());
            }
            world.store.remove_mute(&muter, target)?;
        }
        world.recount_user(&muter)?;
        world.notify_mutes(&muter, true)?;
        Ok(MuteUserResponse {
            non_existing_users: (!missing.is_empty()).then_some(missing),
            ..MuteUserResponse::default()
        })
    }

    /// `POST /moderation/mute/channel` and `/unmute/channel`: the caller mutes (for
    /// `expiration` ms) or unmutes channels; a muted channel does not count in the unread
    /// totals. `notification.channel_mutes_updated` to the user's connections.
    pub(crate) fn mute_channels(
        &self,
        op: &str,
        actor: Actor,
        body: MuteChannelRequest,
        mute: bool,
    ) -> ApiResult<MuteChannelResponse> {
        let (mut world, caller) = self.enter(actor)?;
        let user = world.moderator(op, &caller, body.user_id.as_deref())?;
        let cids: Vec<String> = body
            .channel_cid
            .into_iter()
            .chain(body.channel_cids.into_iter().flatten())
            .collect();
        if cids.is_empty() {
            return Err(ApiError::input(
                op,
                "channel_cid or channel_cids is required",
            ));
        }
        let expires = match body.expiration {
            Some(ms) if ms < 0 => {
                return Err(ApiError::input(
                    op,
                    format!("expiration must not be negative, not {ms}"),
                ));
            }
            Some(ms) if ms > 0 => Some(time::format_rfc3339(
                time::now_nanos() + i128::from(ms) * 1_000_000,
            )),
            _ => None,
        };
        let mut channels = Vec::new();
        for c in &cids {
            cid::parse(c).map_err(|e| ApiError::input(op, e.to_string()))?;
            let channel = world.existing_channel(op, c)?;
            channel.require(op, &caller, Action::MuteChannel)?;
            channels.push(channel);
        }
        let now = world.now();
        let me = world.user_response(&user)?;
        let mut made = Vec::new();
        for channel in &channels {
            let cid = &channel.record.cid;
            if !mute {
                world.store.remove_channel_mute(&user, cid)?;
                continue;
            }
            let record = ChannelMuteRecord {
                user_id: user.clone(),
                cid: cid.clone(),
                created_at: now.clone(),
                updated_at: now.clone(),
                expires: expires.clone(),
            };
            world.store.put_channel_mute(record)?;
            made.push(ChannelMute {
                user: me.clone(),
                channel: Some(world.channel_event_view(channel)?),
                created_at: now.clone(),
                updated_at: now.clone(),
                expires: expires.clone(),
            });
        }
        let own_user = world.notify_mutes(&user, false)?;
        if !mute {
            return Ok(MuteChannelResponse::default());
        }
        Ok(MuteChannelResponse {
            channel_mute: made.first().cloned(),
            channel_mutes: Some(made),
            own_user: Some(own_user),
            duration: String::new(),
        })
    }

    /// `POST /moderation/ban`: bans a user in a channel (`type` + `id`; BanChannelMember)
    /// or app-wide (BanUser), for `timeout` minutes or until unbanned; a shadow ban lets
    /// them post, but their messages are shown to nobody else. `user.banned` to the
    /// channel's watchers (the banned user's connections excepted for a shadow ban) or, for
    /// an app-wide ban, to the user's connections.
    pub(crate) fn ban_user(&self, op: &str, actor: Actor, body: BanUserRequest) -> ApiResult<()> {
        let (mut world, caller) = self.enter(actor)?;
        let named = body.banned_by_id.as_deref().or(body.user_id.as_deref());
        let banner = world.moderator(op, &caller, named)?;
        let target = body.target_user_id.clone();
        if target.is_empty() {
            return Err(ApiError::input(op, "target_user_id is required"));
        }
        if target == banner {
            return Err(ApiError::input(op, "a user cannot ban themselves"));
        }
        let now_nanos = time::now_nanos();
        let expires = expiry(op, now_nanos, body.timeout, "timeout")?;
        let channel = ban_channel(&world, op, &body.kind, &body.id)?;
        match &channel {
            Some(channel) => channel.require(op, &caller, Action::BanChannelMember)?,
            None => caller.require(op, APP_SCOPE, Relation::default(), Action::BanUser)?,
        }
        let user = world.existing_user(op, &target)?;
        let shadow = body.shadow == Some(true);
        let now = world.now();
        let cid = channel.as_ref().map(|c| c.record.cid.clone());
        let record = BanRecord {
            target_id: target.clone(),
            cid: cid.clone(),
            created_by: banner.clone(),
            created_at: now.clone(),
            expires: expires.clone(),
            reason: body.reason.clone(),
            shadow,
        };
        world.store.put_ban(record)?;
        let created_by = (!banner.is_empty())
            .then(|| world.user_response(&banner))
            .transpose()?;
        let event = UserBannedEvent {
            user: Some(user),
            created_by,
            expiration: expires,
            reason: body.reason,
            shadow,
            created_at: Some(now),
            ..Default::default()
        };
        world.announce_ban(cid.as_deref(), &target, shadow, event);
        Ok(())
    }

    /// `DELETE /moderation/ban?target_user_id=&type=&id=`: lifts a ban; `user.unbanned` to
    /// the same audience as the ban.
    pub(crate) fn unban_user(&self, op: &str, actor: Actor, body: BanUserRequest) -> ApiResult<()> {
        let (mut world, caller) = self.enter(actor)?;
        if body.target_user_id.is_empty() {
            return Err(ApiError::input(op, "target_user_id is required"));
        }
        let channel = ban_channel(&world, op, &body.kind, &body.id)?;
        match &channel {
            Some(channel) => channel.require(op, &caller, Action::BanChannelMember)?,
            None => caller.require(op, APP_SCOPE, Relation::default(), Action::BanUser)?,
        }
        let target = body.target_user_id.clone();
        let user = world.existing_user(op, &target)?;
        let cid = channel.as_ref().map(|c| c.record.cid.clone());
        let shadow = world
            .store
            .bans()?
            .iter()
            .any(|b| b.target_id == target && b.cid == cid && b.shadow);
        if world.store.remove_ban(&target, cid.as_deref())? {
            let event = UserUnbannedEvent {
                user: Some(user),
                shadow,
                created_at: Some(world.now()),
                ..Default::default()
            };
            world.announce_ban(cid.as_deref(), &target, shadow, event);
        }
        Ok(())
    }

    /// `GET /query_banned_users`: bans matching the filter (`channel_cid`, `user_id`,
    /// `banned_by_id`, `reason`, `shadow`, `created_at`), newest first unless told.
    /// Moderators, admins and server tokens see every ban; other users the bans of the
    /// channels they may read.
    pub(crate) fn query_banned_users(
        &self,
        op: &str,
        actor: Actor,
        query: QueryBannedUsersRequest,
    ) -> ApiResult<Vec<BannedUser>> {
        filter::validate(&query.filter_conditions).map_err(|e| ApiError::input(op, e))?;
        let (world, caller) = self.enter(actor)?;
        if caller.actor == Actor::Anonymous {
            caller.require(op, APP_SCOPE, Relation::default(), Action::ReadMessageFlags)?;
        }
        let sees_all = caller.is_server()
            || super::permissions::allowed(
                &caller.role,
                APP_SCOPE,
                Relation::default(),
                Action::ReadMessageFlags,
            );
        let now = time::now_nanos();
        let mut found = Vec::new();
        for ban in world.store.bans()? {
            if query.exclude_expired_bans == Some(true) && !in_force(ban.expires.as_deref(), now) {
                continue;
            }
            if !sees_all {
                let Some(cid) = &ban.cid else { continue };
                let Some(channel) = world.find_channel(cid)? else {
                    continue;
                };
                let rel = channel.relation(&caller);
                let kind = &channel.record.kind;
                if !super::permissions::allowed(&caller.role, kind, rel, Action::ReadChannel) {
                    continue;
                }
            }
            let doc = ban_doc(&ban);
            if filter::matches(&doc, &query.filter_conditions)
                .map_err(|e| ApiError::input(op, e))?
            {
                found.push((doc, ban));
            }
        }
        let mut sort = query.sort.clone();
        if sort.is_empty() {
            sort.push(SortParam {
                field: "created_at".into(),
                direction: -1,
            });
        }
        filter::sort_docs(&mut found, &sort);
        let offset = query.offset.unwrap_or(0) as usize;
        let limit = query
            .limit
            .unwrap_or(DEFAULT_USER_LIMIT)
            .min(MAX_USER_LIMIT) as usize;
        found
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(_, b)| world.banned_user_view(&b))
            .collect()
    }

    /// `POST /moderation/flag` / `unflag`: the caller flags (or unflags) a message
    /// (FlagMessage in its channel) or a user (FlagUser). Flags have no effect on the chat;
    /// flagging the same target twice is code 4, unflagging what was not flagged too.
    pub(crate) fn flag(
        &self,
        op: &str,
        actor: Actor,
        body: FlagRequest,
        on: bool,
    ) -> ApiResult<Flag> {
        let (mut world, caller) = self.enter(actor)?;
        let flagger = world.moderator(op, &caller, body.user_id.as_deref())?;
        let (message_id, target_user_id) = match (&body.target_message_id, &body.target_user_id) {
            (Some(m), None) if !m.is_empty() => (Some(m.clone()), None),
            (None, Some(u)) if !u.is_empty() => (None, Some(u.clone())),
            _ => {
                return Err(ApiError::input(
                    op,
                    "exactly one of target_message_id and target_user_id is required",
                ));
            }
        };
        let mut cid = None;
        let mut target_user = None;
        if let Some(id) = &message_id {
            let message = world
                .store
                .message(id)?
                .ok_or_else(|| ApiError::not_found(op, format!("message '{id}' does not exist")))?;
            let channel = world.existing_channel(op, message.cid.as_deref().unwrap_or_default())?;
            channel.require(op, &caller, Action::FlagMessage)?;
            cid = Some(channel.record.cid.clone());
        }
        if let Some(id) = &target_user_id {
            caller.require(op, APP_SCOPE, Relation::default(), Action::FlagUser)?;
            target_user = Some(world.existing_user(op, id)?);
            if *id == flagger {
                return Err(ApiError::input(op, "a user cannot flag themselves"));
            }
        }
        let flagged = world.store.flags()?.into_iter().find(|f| {
            f.user_id == flagger
                && f.target_message_id == message_id
                && f.target_user_id == target_user_id
        });
        let record = if on {
            if flagged.is_some() {
                return Err(ApiError::input(
                    op,
                    "this target was already flagged by the user",
                ));
            }
            let record = FlagRecord {
                user_id: flagger.clone(),
                target_message_id: message_id,
                target_user_id,
                cid,
                reason: body.reason,
                custom: body.custom,
                created_at: world.now(),
            };
            world.store.put_flag(record.clone())?;
            record
        } else {
            world
                .store
                .remove_flag(&flagger, message_id.as_deref(), target_user_id.as_deref())?
                .ok_or_else(|| ApiError::input(op, "this target was not flagged by the user"))?
        };
        Ok(Flag {
            user: world.user_response(&flagger)?,
            target_message_id: record.target_message_id,
            target_user,
            channel_cid: record.cid,
            reason: record.reason,
            custom: record.custom,
            created_by_automod: false,
            created_at: record.created_at.clone(),
            updated_at: record.created_at,
        })
    }

    /// `POST /users/block`: the caller blocks a user (their messages are no longer
    /// delivered to the caller over the socket; `me.blocked_user_ids`). No WebSocket event:
    /// Stream sends none.
    pub(crate) fn block_user(
        &self,
        op: &str,
        actor: Actor,
        body: BlockUserRequest,
    ) -> ApiResult<UserBlock> {
        let (mut world, caller) = self.enter(actor)?;
        if caller.actor == Actor::Anonymous {
            return Err(ApiError::forbidden(
                op,
                "anonymous users cannot block users",
            ));
        }
        let user = world.moderator(op, &caller, body.user_id.as_deref())?;
        let blocked = body.blocked_user_id.clone();
        if blocked.is_empty() {
            return Err(ApiError::input(op, "blocked_user_id is required"));
        }
        if blocked == user {
            return Err(ApiError::input(op, "a user cannot block themselves"));
        }
        world.existing_user(op, &blocked)?;
        let now = world.now();
        world.store.put_block(BlockRecord {
            user_id: user.clone(),
            blocked_user_id: blocked.clone(),
            created_at: now.clone(),
        })?;
        Ok(UserBlock {
            blocked_by_user_id: user,
            blocked_user_id: blocked,
            blocked_at: now,
            ..UserBlock::default()
        })
    }

    /// `POST /users/unblock`.
    pub(crate) fn unblock_user(
        &self,
        op: &str,
        actor: Actor,
        body: BlockUserRequest,
    ) -> ApiResult<()> {
        let (mut world, caller) = self.enter(actor)?;
        if caller.actor == Actor::Anonymous {
            return Err(ApiError::forbidden(
                op,
                "anonymous users cannot block users",
            ));
        }
        let user = world.moderator(op, &caller, body.user_id.as_deref())?;
        if body.blocked_user_id.is_empty() {
            return Err(ApiError::input(op, "blocked_user_id is required"));
        }
        world.store.remove_block(&user, &body.blocked_user_id)?;
        Ok(())
    }

    /// `GET /users/block[?user_id=]`: the users the caller blocked.
    pub(crate) fn blocked_users(
        &self,
        op: &str,
        actor: Actor,
        user_id: Option<&str>,
    ) -> ApiResult<Vec<UserBlock>> {
        let (world, caller) = self.enter(actor)?;
        if caller.actor == Actor::Anonymous {
            return Err(ApiError::forbidden(
                op,
                "anonymous users cannot block users",
            ));
        }
        let user = world.moderator(op, &caller, user_id)?;
        world
            .store
            .blocks(&user)?
            .into_iter()
            .map(|b| {
                Ok(UserBlock {
                    blocked_user: Some(world.user_response(&b.blocked_user_id)?),
                    blocked_user_id: b.blocked_user_id,
                    user_id: Some(b.user_id),
                    created_at: Some(b.created_at),
                    ..UserBlock::default()
                })
            })
            .collect()
    }
}

/// The channel a ban names (`type` and `id` both, or neither): code 4 for one without the
/// other, 16 for an unknown channel.
fn ban_channel(
    world: &World,
    op: &str,
    kind: &Option<String>,
    id: &Option<String>,
) -> ApiResult<Option<Loaded>> {
    match (
        kind.as_deref().filter(|k| !k.is_empty()),
        id.as_deref().filter(|i| !i.is_empty()),
    ) {
        (None, None) => Ok(None),
        (Some(kind), Some(id)) => {
            let key = ChannelKey::new(op, kind.to_owned(), id.to_owned())?;
            Ok(Some(world.existing_channel(op, &key.cid)?))
        }
        _ => Err(ApiError::input(op, "a channel ban needs both type and id")),
    }
}

impl World {
    /// Sends a ban event: a channel's to its watchers (not to the banned user's
    /// connections for a shadow ban), an app-wide one to the banned user's connections
    /// (none for a shadow ban).
    fn announce_ban<E>(&mut self, cid: Option<&str>, target: &str, shadow: bool, event: E)
    where
        E: ChannelEvent + serde::Serialize + WithEnvelope,
    {
        match cid {
            Some(cid) => {
                let envelope = E::for_channel(cid, None);
                let event = event.with_envelope(envelope);
                let except: Vec<String> = if shadow {
                    vec![target.to_owned()]
                } else {
                    Vec::new()
                };
                self.broadcast_except(cid, &event, &except);
            }
            None if !shadow => self.send_to_user(target, &event),
            None => {}
        }
    }
}

/// Copies a channel's envelope (`cid`, `channel_type`, `channel_id`) into a ban event.
trait WithEnvelope {
    fn with_envelope(self, envelope: Self) -> Self;
}

impl WithEnvelope for UserBannedEvent {
    fn with_envelope(self, e: Self) -> Self {
        UserBannedEvent {
            cid: e.cid,
            channel_type: e.channel_type,
            channel_id: e.channel_id,
            ..self
        }
    }
}

impl WithEnvelope for UserUnbannedEvent {
    fn with_envelope(self, e: Self) -> Self {
        UserUnbannedEvent {
            cid: e.cid,
            channel_type: e.channel_type,
            channel_id: e.channel_id,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use stream_chat_protocol::{Message, QueryChannelRequest, time};

    use super::super::Chat;
    use super::super::caller::Actor;
    use super::super::channels::ChannelKey;
    use super::super::store::{BanRecord, ChannelMuteRecord};
    use crate::config::Config;

    fn setup() -> (Chat, ChannelKey) {
        let chat = Chat::new(&Config::default());
        let key = ChannelKey::new("Test", "messaging".into(), "room".into()).unwrap();
        let body: QueryChannelRequest = serde_json::from_value(json!({
            "data": {"created_by_id": "a", "members": ["a", "b"]}
        }))
        .unwrap();
        chat.query_channel("Test", Actor::Server, &key, body, None)
            .unwrap();
        (chat, key)
    }

    fn at(offset_secs: i128) -> String {
        time::format_rfc3339(time::now_nanos() + offset_secs * 1_000_000_000)
    }

    fn send(chat: &Chat, key: &ChannelKey, user: &str) -> Result<(), i32> {
        chat.send_message("Test", Actor::User(user.into()), key, Message::text("hi"))
            .map(drop)
            .map_err(|e| e.0.code)
    }

    /// Bans end without a timer: one whose `expires` is past is ignored when read.
    #[test]
    fn a_ban_stops_applying_once_it_expires() {
        let (chat, key) = setup();
        let ban = |expires: Option<String>| BanRecord {
            target_id: "b".into(),
            cid: Some(key.cid.clone()),
            created_by: "a".into(),
            created_at: at(-120),
            expires,
            ..BanRecord::default()
        };
        chat.lock().store.put_ban(ban(Some(at(60)))).unwrap();
        assert_eq!(send(&chat, &key, "b"), Err(17), "banned for another minute");
        chat.lock().store.put_ban(ban(Some(at(-1)))).unwrap();
        assert_eq!(send(&chat, &key, "b"), Ok(()), "the ban ended a second ago");
        chat.lock().store.put_ban(ban(None)).unwrap();
        assert_eq!(
            send(&chat, &key, "b"),
            Err(17),
            "a ban without timeout lasts"
        );
        let queried = chat
            .query_banned_users(
                "Test",
                Actor::Server,
                serde_json::from_value(json!({"exclude_expired_bans": true})).unwrap(),
            )
            .unwrap();
        assert_eq!(queried.len(), 1);
    }

    /// A channel mute that ended counts in the unread totals again.
    #[test]
    fn an_expired_channel_mute_counts_again() {
        let (chat, key) = setup();
        send(&chat, &key, "a").unwrap();
        let mute = |expires: String| ChannelMuteRecord {
            user_id: "b".into(),
            cid: key.cid.clone(),
            expires: Some(expires),
            ..ChannelMuteRecord::default()
        };
        chat.lock().store.put_channel_mute(mute(at(60))).unwrap();
        assert_eq!(chat.lock().store.unread_counts("b").unwrap().messages, 0);
        chat.lock().store.put_channel_mute(mute(at(-1))).unwrap();
        assert_eq!(chat.lock().store.unread_counts("b").unwrap().messages, 1);
    }
}
