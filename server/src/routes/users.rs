//! User endpoints: `GET /users` (array), `POST /users` and `PATCH /users` (id-keyed maps).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Map, Value};
use stream_chat_protocol::{
    PartialUpdateUsersRequest, QueryUsersRequest, QueryUsersResponse, SortParam,
    UpsertUsersRequest, User, UsersResponse,
};

use super::filter;
use super::{DURATION, Req};
use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Inner, new_user};

const DEFAULT_USER_LIMIT: u32 = 30;
const MAX_USER_LIMIT: u32 = 100;
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

/// Checks a user id: 1–255 characters, no whitespace.
pub(crate) fn check_user_id(op: &str, id: &str) -> ApiResult<()> {
    if id.is_empty() || id.len() > 255 || id.chars().any(char::is_whitespace) {
        return Err(ApiError::input(
            op,
            format!("user id '{id}' is not valid: use 1 to 255 characters without spaces"),
        ));
    }
    Ok(())
}

/// Writes the client-settable parts of `input` into `stored` (merge or replace custom data).
pub(crate) fn apply_user_input(stored: &mut User, input: &User, replace: bool) {
    let mut extra = input.extra_data.clone();
    RESERVED_USER_KEYS.iter().for_each(|k| {
        extra.remove(*k);
    });
    if replace {
        stored.extra_data = extra;
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

/// Code 17 unless `actor` may write user `id` with role/teams from `input`.
fn check_write(
    op: &str,
    inner: &Inner,
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
            if role.is_some_and(|r| r != inner.role_of(me)) {
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

/// `GET /users?payload=…`.
pub(crate) async fn query_users(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<QueryUsersResponse>> {
    const OP: &str = "QueryUsers";
    let actor = req.auth(&state, OP)?;
    if actor == Actor::Anonymous {
        return Err(ApiError::forbidden(
            OP,
            "User '!anon' with roles ['anonymous'] is not allowed to perform action SearchUser in scope '.app'",
        ));
    }
    let query: QueryUsersRequest = match req.param("payload") {
        Some(p) => serde_json::from_str(p)
            .map_err(|e| ApiError::input(OP, format!("invalid payload parameter: {e}")))?,
        None => QueryUsersRequest::default(),
    };
    filter::validate(&query.filter_conditions).map_err(|e| ApiError::input(OP, e))?;
    let inner = state.lock();
    let mut found = Vec::new();
    for id in inner.users.keys() {
        let user = inner.user_response(id);
        let doc = serde_json::to_value(&user).unwrap_or_default();
        if filter::matches(&doc, &query.filter_conditions).map_err(|e| ApiError::input(OP, e))? {
            found.push((doc, user));
        }
    }
    found.sort_by(|a, b| a.1.id.cmp(&b.1.id));
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
    let users = found
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(_, u)| u)
        .collect();
    Ok(Json(QueryUsersResponse {
        users,
        duration: DURATION.into(),
    }))
}

/// `POST /users`: create or replace users.
pub(crate) async fn upsert_users(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<UsersResponse>> {
    const OP: &str = "UpdateUsers";
    let actor = req.auth(&state, OP)?;
    let body: UpsertUsersRequest = req.json(OP)?;
    let mut inner = state.lock();
    for (key, user) in &body.users {
        let id = if user.id.is_empty() { key } else { &user.id };
        check_user_id(OP, id)?;
        check_write(
            OP,
            &inner,
            &actor,
            id,
            user.role.as_deref(),
            user.teams.is_some(),
        )?;
    }
    let mut out = BTreeMap::new();
    for (key, input) in body.users {
        let id = if input.id.is_empty() {
            key
        } else {
            input.id.clone()
        };
        let now = inner.now();
        let role = input.role.clone().unwrap_or_else(|| inner.role_of(&id));
        let mut user = inner
            .users
            .remove(&id)
            .unwrap_or_else(|| new_user(&id, &role, &now));
        user.role = Some(role);
        if input.teams.is_some() {
            user.teams = input.teams.clone();
        }
        apply_user_input(&mut user, &input, true);
        user.updated_at = Some(now);
        inner.users.insert(id.clone(), user);
        out.insert(id.clone(), inner.user_response(&id));
    }
    Ok(Json(UsersResponse {
        users: out,
        duration: DURATION.into(),
    }))
}

/// `PATCH /users`: set and unset fields.
pub(crate) async fn partial_update_users(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<UsersResponse>> {
    const OP: &str = "UpdateUsersPartial";
    let actor = req.auth(&state, OP)?;
    let body: PartialUpdateUsersRequest = req.json(OP)?;
    let mut inner = state.lock();
    for update in &body.users {
        if !inner.users.contains_key(&update.id) {
            return Err(ApiError::input(
                OP,
                format!("user '{}' does not exist", update.id),
            ));
        }
        let role = update
            .set
            .get("role")
            .map(|r| r.as_str().unwrap_or_default());
        check_write(
            OP,
            &inner,
            &actor,
            &update.id,
            role,
            update.set.contains_key("teams"),
        )?;
        for key in update.set.keys().chain(update.unset.iter()) {
            if matches!(
                key.as_str(),
                "id" | "created_at" | "updated_at" | "last_active"
            ) || (update.unset.contains(key) && key == "role")
            {
                return Err(ApiError::input(
                    OP,
                    format!("field '{key}' cannot be changed"),
                ));
            }
        }
    }
    let mut out = BTreeMap::new();
    for update in body.users {
        let now = inner.now();
        let stored = inner.users.get(&update.id).cloned().unwrap_or_default();
        let mut doc = match serde_json::to_value(&stored) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        for key in &update.unset {
            doc.remove(key);
        }
        doc.extend(update.set.clone());
        let merged: User = serde_json::from_value(Value::Object(doc))
            .map_err(|e| ApiError::input(OP, format!("invalid user fields: {e}")))?;
        let mut user = stored;
        user.role = merged.role.clone().or(user.role);
        user.teams = merged.teams.clone();
        user.language = merged.language.clone();
        user.invisible = merged.invisible;
        apply_user_input(&mut user, &merged, true);
        user.updated_at = Some(now);
        inner.users.insert(update.id.clone(), user);
        out.insert(update.id.clone(), inner.user_response(&update.id));
    }
    Ok(Json(UsersResponse {
        users: out,
        duration: DURATION.into(),
    }))
}
