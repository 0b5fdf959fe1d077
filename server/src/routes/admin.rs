//! Channel administration and member endpoints: `PATCH` / `DELETE /channels/{type}/{id}`,
//! `…/truncate`, `…/hide`, `…/show`, `PATCH …/member[/{user_id}]` and `GET /members`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use stream_chat_protocol::{
    DeleteChannelResponse, HideChannelRequest, PartialUpdateChannelRequest,
    PartialUpdateMemberRequest, PartialUpdateMemberResponse, QueryMembersRequest,
    QueryMembersResponse, TruncateChannelRequest, TruncateChannelResponse, UpdateChannelResponse,
};

use super::channels::{ChannelPath, channel_call};
use super::{DURATION, Req, path_params};
use crate::app::AppState;
use crate::domain::channels::ChannelKey;
use crate::error::{ApiError, ApiResult};

/// `PATCH /channels/{type}/{id}`: set and unset channel fields.
pub(super) async fn partial_update_channel(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<UpdateChannelResponse>> {
    const OP: &str = "UpdateChannelPartial";
    let (actor, key) = channel_call(OP, &state, &req, path)?;
    let body: PartialUpdateChannelRequest = req.json(OP)?;
    let response = state.chat.partial_update_channel(OP, actor, &key, body)?;
    Ok(Json(UpdateChannelResponse {
        duration: DURATION.into(),
        ..response
    }))
}

/// `DELETE /channels/{type}/{id}[?hard_delete=]`.
pub(super) async fn delete_channel(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<DeleteChannelResponse>> {
    const OP: &str = "DeleteChannel";
    let (actor, key) = channel_call(OP, &state, &req, path)?;
    for flag in ["hard_delete", "skip_truncate"] {
        if let Some(v) = req.param(flag)
            && !matches!(v, "true" | "false" | "1" | "0")
        {
            return Err(ApiError::input(
                OP,
                format!("{flag} must be true or false, not '{v}'"),
            ));
        }
    }
    let channel = state.chat.delete_channel(OP, actor, &key)?;
    Ok(Json(DeleteChannelResponse {
        channel,
        message: None,
        duration: DURATION.into(),
    }))
}

/// `POST /channels/{type}/{id}/truncate`.
pub(super) async fn truncate_channel(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<TruncateChannelResponse>> {
    const OP: &str = "TruncateChannel";
    let (actor, key) = channel_call(OP, &state, &req, path)?;
    let body: TruncateChannelRequest = req.json(OP)?;
    let response = state.chat.truncate_channel(OP, actor, &key, body)?;
    Ok(Json(TruncateChannelResponse {
        duration: DURATION.into(),
        ..response
    }))
}

/// `POST /channels/{type}/{id}/hide`.
pub(super) async fn hide_channel(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "HideChannel";
    let (actor, key) = channel_call(OP, &state, &req, path)?;
    let body: HideChannelRequest = req.json(OP)?;
    state.chat.hide_channel(OP, actor, &key, body, true)?;
    Ok(Json(json!({"duration": DURATION})))
}

/// `POST /channels/{type}/{id}/show`.
pub(super) async fn show_channel(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "ShowChannel";
    let (actor, key) = channel_call(OP, &state, &req, path)?;
    let body: HideChannelRequest = req.json(OP)?;
    state.chat.hide_channel(OP, actor, &key, body, false)?;
    Ok(Json(json!({"duration": DURATION})))
}

/// `PATCH /channels/{type}/{id}/member?user_id=` (the JS client's form).
pub(super) async fn update_member_partial(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<PartialUpdateMemberResponse>> {
    const OP: &str = "UpdateMemberPartial";
    let (actor, key) = channel_call(OP, &state, &req, path)?;
    let user_id = req.param("user_id").map(str::to_owned);
    member_update(OP, &state, &req, actor, &key, user_id.as_deref())
}

/// `PATCH /channels/{type}/{id}/member/{user_id}` (Android, Python).
pub(super) async fn partial_update_member(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    req: Req,
) -> ApiResult<Json<PartialUpdateMemberResponse>> {
    const OP: &str = "UpdateMemberPartial";
    let actor = req.auth(&state, OP)?;
    let (kind, id, user_id) = path_params(OP, path)?;
    let key = ChannelKey::new(OP, kind, id)?;
    member_update(OP, &state, &req, actor, &key, Some(&user_id))
}

fn member_update(
    op: &str,
    state: &AppState,
    req: &Req,
    actor: crate::domain::caller::Actor,
    key: &ChannelKey,
    user_id: Option<&str>,
) -> ApiResult<Json<PartialUpdateMemberResponse>> {
    let body: PartialUpdateMemberRequest = req.json(op)?;
    let member = state
        .chat
        .partial_update_member(op, actor, key, user_id, body.set, body.unset)?;
    Ok(Json(PartialUpdateMemberResponse {
        channel_member: member,
        duration: DURATION.into(),
    }))
}

/// `GET /members?payload=…`.
pub(super) async fn query_members(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<QueryMembersResponse>> {
    const OP: &str = "QueryMembers";
    let actor = req.auth(&state, OP)?;
    let query: QueryMembersRequest = match req.param("payload") {
        Some(p) => serde_json::from_str(p)
            .map_err(|e| ApiError::input(OP, format!("invalid payload parameter: {e}")))?,
        None => return Err(ApiError::input(OP, "the payload parameter is required")),
    };
    let members = state.chat.query_members(OP, actor, query)?;
    Ok(Json(QueryMembersResponse {
        members,
        duration: DURATION.into(),
    }))
}
