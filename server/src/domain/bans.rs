//! Bans: in a channel or app-wide, timed (they end without a timer: an expired ban is
//! ignored wherever it is read) or shadow (the user posts, nobody else sees it); what a ban
//! does to posting, with the frozen channel and the slow-mode cooldown.

use serde_json::{Value, json};
use stream_chat_protocol::events::{UserBannedEvent, UserUnbannedEvent};
use stream_chat_protocol::{
    BanUserRequest, BannedUser, ChannelEvent, QueryBannedUsersRequest, SortParam, time,
};

use super::caller::{Actor, Caller};
use super::channels::{ChannelKey, Loaded};
use super::moderation::expiry;
use super::permissions::{APP_SCOPE, Action, Relation};
use super::store::{BanRecord, in_force};
use super::{Chat, World, filter};
use crate::config::{DEFAULT_USER_LIMIT, MAX_USER_LIMIT};
use crate::error::{ApiError, ApiResult};

/// What a banned user is told when posting (Stream's text, code 17).
const SUSPENDED: &str =
    "Sorry, you do not have access to this feature. Your account is currently suspended from chat.";

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
        caller.check_user_team(op, &user)?;
        caller.check_user_team(op, &user)?;
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

    use super::super::caller::Actor;
    use super::super::store::BanRecord;
    use super::super::test_room::{at, send, setup};

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
}
