//! Users: the stored user and how responses show it, upsert and partial update, query,
//! guests.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use stream_chat_protocol::names::role;
use stream_chat_protocol::{
    PartialUpdateUsersRequest, QueryUsersRequest, SortParam, UpsertUsersRequest, User, codes,
};

use super::caller::{Actor, role_of};
use super::store::StoreResult;
use super::{Chat, World, filter};
use crate::config::{DEFAULT_USER_LIMIT, MAX_USER_LIMIT};
use crate::error::{ApiError, ApiResult};

/// Custom-data keys a client may not write: server-computed or own-user fields.
const RESERVED_USER_KEYS: [&str; 8] = [
    "anon",
    "online",
    "unread_threads",
    "total_unread_count_by_team",
    "deactivated_at",
    "deleted_at",
    "revoke_tokens_issued_before",
    "shadow_banned",
];

/// Fields no update may change.
const FIXED_USER_KEYS: [&str; 4] = ["id", "created_at", "updated_at", "last_active"];

impl World {
    /// The user as API responses show it to others: `online` computed (false for an
    /// invisible user), `banned` for an app-wide ban in force; unknown users as plain users.
    pub(crate) fn user_response(&self, user_id: &str) -> StoreResult<User> {
        let mut user = self.store.user(user_id)?.unwrap_or_else(|| User {
            role: Some(role::USER.into()),
            banned: Some(false),
            ..User::new(user_id)
        });
        let invisible = user.invisible == Some(true);
        user.online = Some(self.conns.is_online(user_id) && !invisible);
        let now = stream_chat_protocol::time::now_nanos();
        let banned = self.store.bans()?.iter().any(|b| {
            b.target_id == user_id
                && b.cid.is_none()
                && !b.shadow
                && super::store::in_force(b.expires.as_deref(), now)
        });
        user.banned = Some(banned);
        Ok(user)
    }

    /// Creates `user_id` with role `user` if it does not exist.
    pub(crate) fn ensure_user(&mut self, user_id: &str) -> StoreResult<()> {
        if self.store.user(user_id)?.is_none() {
            let now = self.now();
            self.store.put_user(new_user(user_id, role::USER, &now))?;
        }
        Ok(())
    }

    /// Code 17 unless `actor` may write user `id` with role/teams from the input.
    fn check_write(
        &self,
        op: &str,
        actor: &Actor,
        id: &str,
        role: Option<&str>,
        teams: bool,
    ) -> ApiResult<()> {
        match actor {
            Actor::Server => Ok(()),
            Actor::Anonymous => Err(ApiError::forbidden(
                op,
                "anonymous users cannot update users",
            )),
            Actor::User(me) if me != id => Err(ApiError::forbidden(
                op,
                format!("user '{me}' cannot update user '{id}'"),
            )),
            Actor::User(me) => {
                if let Some(role) = role
                    && role != role_of(self.store.as_ref(), me)?
                {
                    return Err(ApiError::forbidden(
                        op,
                        format!("user '{me}' cannot change their own role"),
                    ));
                }
                if teams {
                    return Err(ApiError::forbidden(
                        op,
                        format!("user '{me}' cannot change their own teams"),
                    ));
                }
                Ok(())
            }
        }
    }
}

/// A freshly created stored user.
pub(crate) fn new_user(id: &str, role: &str, now: &str) -> User {
    User {
        role: Some(role.into()),
        created_at: Some(now.into()),
        updated_at: Some(now.into()),
        banned: Some(false),
        ..User::new(id)
    }
}

/// Checks a user id: 1–255 bytes, no whitespace, control characters or `*` (the wildcard of
/// Stream's permission and filter syntax).
pub(crate) fn check_user_id(op: &str, id: &str) -> ApiResult<()> {
    match crate::limits::user_id_problem(id) {
        Some(problem) => Err(ApiError::input(op, problem)),
        None => Ok(()),
    }
}

/// Writes the client-settable parts of `input` into `stored` (merge or replace custom data).
pub(crate) fn apply_user_input(stored: &mut User, input: &User, replace: bool) {
    let mut extra = input.extra_data.clone();
    RESERVED_USER_KEYS.iter().for_each(|k| {
        extra.remove(*k);
    });
    if replace {
        // Server-kept fields (a token revocation, a deactivation) survive a replacement.
        let kept: Vec<(String, Value)> = RESERVED_USER_KEYS
            .iter()
            .filter_map(|k| {
                stored
                    .extra_data
                    .get(*k)
                    .map(|v| ((*k).to_owned(), v.clone()))
            })
            .collect();
        stored.extra_data = extra;
        stored.extra_data.extend(kept);
    } else {
        stored.extra_data.extend(extra);
    }
    if input.language.is_some() {
        stored.language.clone_from(&input.language);
    }
    if input.invisible.is_some() {
        stored.invisible = input.invisible;
    }
}

impl Chat {
    /// Code 17 for anonymous callers, who may not search users.
    pub(crate) fn check_user_search(&self, op: &str, actor: &Actor) -> ApiResult<()> {
        if *actor == Actor::Anonymous {
            return Err(ApiError::forbidden(
                op,
                "User '!anon' with roles ['anonymous'] is not allowed to perform action SearchUser in scope '.app'",
            ));
        }
        Ok(())
    }

    /// `GET /users`: users matching the filter, sorted (by `created_at` unless told), paged.
    /// With `presence: true` and the caller's connection, that connection is subscribed to
    /// the presence of the users returned.
    pub(crate) fn query_users(
        &self,
        op: &str,
        actor: Actor,
        query: QueryUsersRequest,
        conn_id: Option<&str>,
    ) -> ApiResult<Vec<User>> {
        self.check_user_search(op, &actor)?;
        filter::validate(&query.filter_conditions).map_err(|e| ApiError::input(op, e))?;
        let (mut world, caller) = self.enter(actor)?;
        let mut found = Vec::new();
        for stored in world.store.users()? {
            if !caller.shares_team(&stored) {
                continue;
            }
            let user = world.user_response(&stored.id)?;
            let doc = serde_json::to_value(&user).unwrap_or_default();
            if filter::matches(&doc, &query.filter_conditions)
                .map_err(|e| ApiError::input(op, e))?
            {
                found.push((doc, user));
            }
        }
        let mut sort = query.sort.clone();
        if sort.is_empty() {
            sort.push(SortParam {
                field: "created_at".into(),
                direction: 1,
            });
        }
        filter::sort_docs(&mut found, &sort);
        let offset = query.offset.unwrap_or(0) as usize;
        let limit = query
            .limit
            .unwrap_or(DEFAULT_USER_LIMIT)
            .min(MAX_USER_LIMIT) as usize;
        let users: Vec<User> = found
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(_, u)| u)
            .collect();
        if query.presence == Some(true) {
            let ids = users.iter().map(|u| u.id.clone()).collect();
            world.subscribe_presence(&caller, conn_id, ids, None);
        }
        Ok(users)
    }

    /// `POST /users`: creates or replaces users (custom data replaced). All are checked
    /// before any is written.
    pub(crate) fn upsert_users(
        &self,
        op: &str,
        actor: Actor,
        body: UpsertUsersRequest,
    ) -> ApiResult<BTreeMap<String, User>> {
        let mut world = self.lock();
        for (key, user) in &body.users {
            let id = if user.id.is_empty() { key } else { &user.id };
            check_user_id(op, id)?;
            world.check_write(op, &actor, id, user.role.as_deref(), user.teams.is_some())?;
            crate::limits::check_custom_data(op, "user", &user.extra_data, world.max_custom_data)?;
        }
        let mut out = BTreeMap::new();
        for (key, input) in body.users {
            let id = if input.id.is_empty() {
                key
            } else {
                input.id.clone()
            };
            let now = world.now();
            let role = match input.role.clone() {
                Some(role) => role,
                None => role_of(world.store.as_ref(), &id)?,
            };
            let mut user = world
                .store
                .user(&id)?
                .unwrap_or_else(|| new_user(&id, &role, &now));
            user.role = Some(role);
            if input.teams.is_some() {
                user.teams = input.teams.clone();
            }
            let was_invisible = user.invisible == Some(true);
            apply_user_input(&mut user, &input, true);
            user.updated_at = Some(now);
            world.store.put_user(user)?;
            world.user_updated(&id, was_invisible)?;
            out.insert(id.clone(), world.user_response(&id)?);
        }
        Ok(out)
    }

    /// `PATCH /users`: sets and unsets fields of existing users. All are checked before any
    /// is written.
    pub(crate) fn partial_update_users(
        &self,
        op: &str,
        actor: Actor,
        body: PartialUpdateUsersRequest,
    ) -> ApiResult<BTreeMap<String, User>> {
        let mut world = self.lock();
        for update in &body.users {
            let Some(stored) = world.store.user(&update.id)? else {
                return Err(ApiError::input(
                    op,
                    format!("user '{}' does not exist", update.id),
                ));
            };
            crate::limits::check_merged_custom_data(
                op,
                "user",
                &stored.extra_data,
                &update.set,
                &update.unset,
                world.max_custom_data,
            )?;
            let role = update
                .set
                .get("role")
                .map(|r| r.as_str().unwrap_or_default());
            world.check_write(
                op,
                &actor,
                &update.id,
                role,
                update.set.contains_key("teams"),
            )?;
            for key in update.set.keys().chain(update.unset.iter()) {
                if FIXED_USER_KEYS.contains(&key.as_str())
                    || (update.unset.contains(key) && key == "role")
                {
                    return Err(ApiError::input(
                        op,
                        format!("field '{key}' cannot be changed"),
                    ));
                }
            }
        }
        let mut out = BTreeMap::new();
        for update in body.users {
            let now = world.now();
            let stored = world.store.user(&update.id)?.unwrap_or_default();
            let mut doc = match serde_json::to_value(&stored) {
                Ok(Value::Object(map)) => map,
                _ => Map::new(),
            };
            for key in &update.unset {
                doc.remove(key);
            }
            doc.extend(update.set.clone());
            let merged: User = serde_json::from_value(Value::Object(doc))
                .map_err(|e| ApiError::input(op, format!("invalid user fields: {e}")))?;
            let mut user = stored;
            let was_invisible = user.invisible == Some(true);
            user.role = merged.role.clone().or(user.role);
            user.teams = merged.teams.clone();
            user.language = merged.language.clone();
            user.invisible = merged.invisible;
            apply_user_input(&mut user, &merged, true);
            user.updated_at = Some(now);
            world.store.put_user(user)?;
            world.user_updated(&update.id, was_invisible)?;
            out.insert(update.id.clone(), world.user_response(&update.id)?);
        }
        Ok(out)
    }

    /// Code 17 when guest users are not available (multi-tenancy on).
    pub(crate) fn check_guests_allowed(&self, op: &str) -> ApiResult<()> {
        if self.multi_tenant {
            return Err(ApiError::op(
                op,
                codes::NOT_ALLOWED,
                "guest users are not available for applications with multi-tenancy (teams) enabled",
            ));
        }
        Ok(())
    }

    /// `POST /guest`: creates (or refreshes) the guest user `input` describes (a random id
    /// when it has none). An existing user that is not a guest is code 4.
    pub(crate) fn create_guest(&self, op: &str, input: User) -> ApiResult<User> {
        self.check_guests_allowed(op)?;
        let id = if input.id.is_empty() {
            format!("guest{:016x}", fastrand::u64(..))
        } else {
            input.id.clone()
        };
        check_user_id(op, &id)?;
        let mut world = self.lock();
        let existing = world.store.user(&id)?;
        if let Some(existing) = &existing
            && existing.role.as_deref() != Some(role::GUEST)
        {
            return Err(ApiError::input(
                op,
                format!("user '{id}' already exists and is not a guest"),
            ));
        }
        let now = world.now();
        let mut user = existing.unwrap_or_else(|| new_user(&id, role::GUEST, &now));
        apply_user_input(&mut user, &input, false);
        crate::limits::check_custom_data(op, "user", &user.extra_data, world.max_custom_data)?;
        user.updated_at = Some(now);
        world.store.put_user(user)?;
        let user = world.user_response(&id)?;
        drop(world);
        tracing::info!(user_id = %id, "guest user created");
        Ok(user)
    }
}
