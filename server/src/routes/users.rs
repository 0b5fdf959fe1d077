//! User endpoints: `GET /users` (array), `POST /users` and `PATCH /users` (id-keyed maps).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use stream_chat_protocol::{
    PartialUpdateUsersRequest, QueryUsersRequest, QueryUsersResponse, UpsertUsersRequest,
    UsersResponse,
};

use super::{DURATION, Req};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};

/// `GET /users?payload=…`.
pub(super) async fn query_users(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<QueryUsersResponse>> {
    const OP: &str = "QueryUsers";
    let actor = req.auth(&state, OP)?;
    state.chat.check_user_search(OP, &actor)?;
    let query: QueryUsersRequest = match req.param("payload") {
        Some(p) => serde_json::from_str(p)
            .map_err(|e| ApiError::input(OP, format!("invalid payload parameter: {e}")))?,
        None => QueryUsersRequest::default(),
    };
    let conn_id = req.param("connection_id");
    let users = state.chat.query_users(OP, actor, query, conn_id)?;
    Ok(Json(QueryUsersResponse {
        users,
        duration: DURATION.into(),
    }))
}

/// `POST /users`: create or replace users.
pub(super) async fn upsert_users(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<UsersResponse>> {
    const OP: &str = "UpdateUsers";
    let actor = req.auth(&state, OP)?;
    let body: UpsertUsersRequest = req.json(OP)?;
    let users = state.chat.upsert_users(OP, actor, body)?;
    Ok(Json(UsersResponse {
        users,
        duration: DURATION.into(),
    }))
}

/// `PATCH /users`: set and unset fields.
pub(super) async fn partial_update_users(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<UsersResponse>> {
    const OP: &str = "UpdateUsersPartial";
    let actor = req.auth(&state, OP)?;
    let mut body: PartialUpdateUsersRequest = req.json(OP)?;
    // Token revocation (server-side only) goes its own way; the rest is a usual update.
    let revocations = state.chat.take_revocations(OP, &actor, &mut body)?;
    let ids: Vec<String> = body.users.iter().map(|u| u.id.clone()).collect();
    let mut users = state.chat.partial_update_users(OP, actor, body)?;
    if !revocations.is_empty() {
        state.chat.revoke_tokens(OP, revocations)?;
        for user in state.chat.users_by_id(ids)? {
            users.insert(user.id.clone(), user);
        }
    }
    Ok(Json(UsersResponse {
        users,
        duration: DURATION.into(),
    }))
}
