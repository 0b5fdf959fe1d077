//! Server-side user administration: token revocation (checked on every REST call and
//! WebSocket connect), deactivation, reactivation, deletion, and the tasks a batch
//! deletion reports through. Only server tokens may call these; a user token gets code 17.
//!
//! Revocation compares whole seconds, as a token's `iat` is: a token issued in the second
//! of the revocation or later is accepted, an earlier one is refused with code 40 (so a
//! client with a token provider loads a new one). A token without `iat` counts as issued
//! at the Unix epoch: revoked.

use serde_json::{Value, json};
use stream_chat_protocol::events::types;
use stream_chat_protocol::server_side::{DEACTIVATED_AT, DELETED_AT, REVOKE_TOKENS_ISSUED_BEFORE};
use stream_chat_protocol::{
    DeactivateUserRequest, DeleteUsersRequest, Event, PartialUpdateUsersRequest,
    ReactivateUserRequest, TaskStatus, User, codes, time,
};

use super::caller::Actor;
use super::{Chat, World, random_id};
use crate::error::{ApiError, ApiResult};

/// Code 17 unless `actor` is a server token.
fn server_only(op: &str, actor: &Actor, action: &str) -> ApiResult<()> {
    match actor {
        Actor::Server => Ok(()),
        Actor::User(id) => Err(ApiError::forbidden(
            op,
            format!(
                "User '{id}' with roles ['user'] is not allowed to perform action {action} in \
                 scope '.app': it needs a server-side token"
            ),
        )),
        Actor::Anonymous => Err(ApiError::forbidden(
            op,
            format!("anonymous users are not allowed to perform action {action}"),
        )),
    }
}

/// A time value of `revoke_tokens_issued_before`: RFC 3339, or `null` to lift it.
fn revocation_time(op: &str, value: &Value) -> ApiResult<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if time::parse_rfc3339_or_naive(s).is_some() => Ok(Some(s.clone())),
        other => Err(ApiError::input(
            op,
            format!("{REVOKE_TOKENS_ISSUED_BEFORE} must be an RFC 3339 time or null, got {other}"),
        )),
    }
}

impl World {
    /// A stored user, which must exist (code 16 otherwise).
    fn stored_user(&self, op: &str, id: &str) -> ApiResult<User> {
        self.store
            .user(id)?
            .ok_or_else(|| ApiError::not_found(op, format!("user '{id}' does not exist")))
    }

    /// Sets (or with `None` removes) a server-kept field of user `id`.
    fn set_user_field(
        &mut self,
        op: &str,
        id: &str,
        key: &str,
        value: Option<Value>,
    ) -> ApiResult<User> {
        let mut user = self.stored_user(op, id)?;
        match value {
            Some(v) => user.extra_data.insert(key.to_owned(), v),
            None => user.extra_data.remove(key),
        };
        user.updated_at = Some(self.now());
        self.store.put_user(user)?;
        Ok(self.user_response(id)?)
    }

    /// A webhook-only user event.
    fn user_event(&mut self, kind: &str, user: &User, by: Option<&str>) {
        let mut event = Event::new(kind);
        event.created_at = Some(self.now());
        event.user = Some(user.clone());
        if let Some(by) = by {
            event.extra.insert("created_by".into(), json!({"id": by}));
        }
        self.hook_only(&event);
    }
}

impl Chat {
    /// Code 40 when `actor`'s token (issued at `iat`) was revoked, code 17 when its user is
    /// deactivated or deleted. Server tokens and anonymous callers pass.
    pub(crate) fn check_token(&self, op: &str, actor: &Actor, iat: Option<i64>) -> ApiResult<()> {
        let Actor::User(id) = actor else {
            return Ok(());
        };
        let Some(user) = self.lock().store.user(id)? else {
            return Ok(());
        };
        if let Some(before) = user
            .extra_data
            .get(REVOKE_TOKENS_ISSUED_BEFORE)
            .and_then(Value::as_str)
            .and_then(time::parse_rfc3339_or_naive)
        {
            let before_secs = i64::try_from(before.div_euclid(1_000_000_000)).unwrap_or(i64::MAX);
            if iat.unwrap_or(0) < before_secs {
                return Err(ApiError::op(
                    op,
                    codes::TOKEN_EXPIRED,
                    format!(
                        "JWTAuth error: the token was revoked: it was issued before {REVOKE_TOKENS_ISSUED_BEFORE} of user '{id}'"
                    ),
                ));
            }
        }
        for (field, what) in [(DEACTIVATED_AT, "deactivated"), (DELETED_AT, "deleted")] {
            if user.extra_data.get(field).is_some_and(|v| !v.is_null()) {
                return Err(ApiError::forbidden(op, format!("user '{id}' was {what}")));
            }
        }
        Ok(())
    }

    /// `PATCH /users`, its server-only part: takes every `revoke_tokens_issued_before` out of
    /// the updates (so the rest goes through the usual partial update) and returns them as
    /// `(user id, time or None)`, checked (code 17 for user tokens, 4 for a bad time, 16 for
    /// an unknown user).
    pub(crate) fn take_revocations(
        &self,
        op: &str,
        actor: &Actor,
        body: &mut PartialUpdateUsersRequest,
    ) -> ApiResult<Vec<(String, Option<String>)>> {
        let mut found = Vec::new();
        for update in &mut body.users {
            if update
                .unset
                .iter()
                .any(|k| k == REVOKE_TOKENS_ISSUED_BEFORE)
            {
                update.unset.retain(|k| k != REVOKE_TOKENS_ISSUED_BEFORE);
                found.push((update.id.clone(), Value::Null));
            }
            if let Some(value) = update.set.remove(REVOKE_TOKENS_ISSUED_BEFORE) {
                found.push((update.id.clone(), value));
            }
        }
        if found.is_empty() {
            return Ok(Vec::new());
        }
        server_only(op, actor, "RevokeUserToken")?;
        let world = self.lock();
        found
            .into_iter()
            .map(|(id, value)| {
                world.stored_user(op, &id)?;
                Ok((id, revocation_time(op, &value)?))
            })
            .collect()
    }

    /// Applies revocations [`take_revocations`](Self::take_revocations) returned.
    pub(crate) fn revoke_tokens(
        &self,
        op: &str,
        revocations: Vec<(String, Option<String>)>,
    ) -> ApiResult<()> {
        let mut world = self.lock();
        for (id, before) in revocations {
            world.set_user_field(
                op,
                &id,
                REVOKE_TOKENS_ISSUED_BEFORE,
                before.map(Value::String),
            )?;
            tracing::info!(user_id = %id, "token revocation changed");
        }
        Ok(())
    }

    /// The users with these ids as responses show them (unknown ones left out).
    pub(crate) fn users_by_id(
        &self,
        ids: impl IntoIterator<Item = String>,
    ) -> ApiResult<Vec<User>> {
        let world = self.lock();
        let mut out = Vec::new();
        for id in ids {
            if world.store.user(&id)?.is_some() {
                out.push(world.user_response(&id)?);
            }
        }
        Ok(out)
    }

    /// `POST /users/{id}/deactivate`: the user can no longer connect or call the API (code
    /// 17) until reactivated; their sockets are closed. Webhooks get `user.deactivated`.
    pub(crate) fn deactivate_user(
        &self,
        op: &str,
        actor: Actor,
        id: &str,
        body: DeactivateUserRequest,
    ) -> ApiResult<User> {
        server_only(op, &actor, "DeactivateUser")?;
        let user = {
            let mut world = self.lock();
            let now = world.now();
            let user = world.set_user_field(op, id, DEACTIVATED_AT, Some(Value::String(now)))?;
            world.user_event(
                types::USER_DEACTIVATED,
                &user,
                body.created_by_id.as_deref(),
            );
            user
        };
        self.kick(id);
        Ok(user)
    }

    /// `POST /users/{id}/reactivate`: lifts a deactivation (code 4 if the user is active).
    /// Webhooks get `user.reactivated`.
    pub(crate) fn reactivate_user(
        &self,
        op: &str,
        actor: Actor,
        id: &str,
        body: ReactivateUserRequest,
    ) -> ApiResult<User> {
        server_only(op, &actor, "ReactivateUser")?;
        let mut world = self.lock();
        let stored = world.stored_user(op, id)?;
        if !stored.extra_data.contains_key(DEACTIVATED_AT) {
            return Err(ApiError::input(
                op,
                format!("user '{id}' is not deactivated"),
            ));
        }
        if let Some(name) = body.name {
            world.set_user_field(op, id, "name", Some(Value::String(name)))?;
        }
        let user = world.set_user_field(op, id, DEACTIVATED_AT, None)?;
        world.user_event(
            types::USER_REACTIVATED,
            &user,
            body.created_by_id.as_deref(),
        );
        Ok(user)
    }

    /// Deletes one user: `hard` removes them, otherwise they are kept marked deleted. Their
    /// sockets are closed; webhooks get `user.deleted`.
    fn delete_one(&self, op: &str, id: &str, hard: bool) -> ApiResult<User> {
        let user = {
            let mut world = self.lock();
            let now = world.now();
            let mut user = world.set_user_field(op, id, DELETED_AT, Some(Value::String(now)))?;
            if hard {
                world.store.remove_user(id)?;
                user.online = Some(false);
            }
            world.user_event(types::USER_DELETED, &user, None);
            user
        };
        self.kick(id);
        Ok(user)
    }

    /// `DELETE /users/{id}?hard_delete=`: deletes a user now.
    pub(crate) fn delete_user(
        &self,
        op: &str,
        actor: Actor,
        id: &str,
        hard: bool,
    ) -> ApiResult<User> {
        server_only(op, &actor, "DeleteUser")?;
        self.delete_one(op, id, hard)
    }

    /// `POST /users/delete`: deletes users (`user: "soft"|"hard"`) and returns the id of a
    /// task that is complete already (every id is checked first: code 16 for an unknown
    /// one, 4 for a bad mode).
    pub(crate) fn delete_users(
        &self,
        op: &str,
        actor: Actor,
        body: DeleteUsersRequest,
    ) -> ApiResult<String> {
        server_only(op, &actor, "DeleteUser")?;
        if body.user_ids.is_empty() {
            return Err(ApiError::input(op, "user_ids must name at least one user"));
        }
        let hard = match body.user.as_deref() {
            None | Some("soft") => false,
            Some("hard" | "pruning") => true,
            Some(other) => {
                return Err(ApiError::input(
                    op,
                    format!("user must be 'soft' or 'hard', got '{other}'"),
                ));
            }
        };
        {
            let world = self.lock();
            for id in &body.user_ids {
                world.stored_user(op, id)?;
            }
        }
        for id in &body.user_ids {
            self.delete_one(op, id, hard)?;
        }
        let task_id = random_id();
        let now = self.lock().now();
        let mut result = serde_json::Map::new();
        result.insert("deleted_user_ids".into(), json!(body.user_ids));
        let task = TaskStatus {
            task_id: task_id.clone(),
            status: TaskStatus::COMPLETED.into(),
            created_at: Some(now.clone()),
            updated_at: Some(now),
            result,
            duration: None,
        };
        self.tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(task_id.clone(), task);
        Ok(task_id)
    }

    /// `GET /tasks/{id}` (code 16 for an unknown task).
    pub(crate) fn task(&self, op: &str, actor: Actor, id: &str) -> ApiResult<TaskStatus> {
        server_only(op, &actor, "GetTask")?;
        self.tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(op, format!("task '{id}' does not exist")))
    }

    /// Events dropped because the webhook queue was full.
    pub(crate) fn webhook_overflows(&self) -> u64 {
        self.lock().hooks.dropped()
    }
}
