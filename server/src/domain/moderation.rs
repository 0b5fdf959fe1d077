//! Moderation: muting users and channels (bans are in `bans.rs`, flags and blocks in
//! `flags.rs`), and what those areas share: timeouts, the acting moderator. Mutes expire
//! without a timer: an expired one is ignored wherever it is read (`store::in_force`).

use std::collections::HashSet;

use stream_chat_protocol::events::{
    NotificationChannelMutesUpdatedEvent, NotificationMutesUpdatedEvent,
};
use stream_chat_protocol::{
    ChannelMute, Mute, MuteChannelRequest, MuteChannelResponse, MuteUserRequest, MuteUserResponse,
    User, cid, time,
};

use super::caller::{Actor, Caller};
use super::permissions::{APP_SCOPE, Action, Relation};
use super::store::{ChannelMuteRecord, MuteRecord, in_force};
use super::{Chat, World};
use crate::error::{ApiError, ApiResult};

/// The longest mute or ban Stream takes, in minutes (a year), so expiry times stay sane.
const MAX_TIMEOUT_MINUTES: i64 = 525_600;

/// `now` plus `minutes`, RFC 3339; code 4 for a negative or absurd timeout.
pub(super) fn expiry(
    op: &str,
    now: i128,
    minutes: Option<i64>,
    what: &str,
) -> ApiResult<Option<String>> {
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
    pub(super) fn moderator(
        &self,
        op: &str,
        caller: &Caller,
        named: Option<&str>,
    ) -> ApiResult<String> {
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
    pub(super) fn existing_user(&self, op: &str, id: &str) -> ApiResult<User> {
        match self.store.user(id)? {
            Some(_) => Ok(self.user_response(id)?),
            None => Err(ApiError::not_found(
                op,
                format!("user '{id}' does not exist"),
            )),
        }
    }
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
            let Some(stored) = world.store.user(target)? else {
                missing.push(target.clone());
                continue;
            };
            caller.check_user_team(op, &stored)?;
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
}

#[cfg(test)]
mod tests {
    use super::super::store::ChannelMuteRecord;
    use super::super::test_room::{at, send, setup};

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
