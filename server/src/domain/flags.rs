//! Flags and blocks: flagging messages and users for the moderators (no effect on the
//! chat), blocking users (their messages no longer reach the blocker's connections).

use stream_chat_protocol::{BlockUserRequest, Flag, FlagRequest, UserBlock};

use super::Chat;
use super::caller::Actor;
use super::permissions::{APP_SCOPE, Action, Relation};
use super::store::{BlockRecord, FlagRecord};
use crate::error::{ApiError, ApiResult};

impl Chat {
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
            let target = world.existing_user(op, id)?;
            caller.check_user_team(op, &target)?;
            target_user = Some(target);
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
        let target = world.existing_user(op, &blocked)?;
        caller.check_user_team(op, &target)?;
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
