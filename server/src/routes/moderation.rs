//! Moderation and read-state endpoints: `/moderation/{mute,unmute}[/channel]`,
//! `/moderation/ban` (`POST`, `DELETE`), `/query_banned_users`, `/moderation/{flag,unflag}`,
//! `/users/block` (`POST`, `GET`), `/users/unblock`; `POST /channels/read`,
//! `POST /channels/{type}/{id}/unread`, `GET /unread`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use stream_chat_protocol::{
    BanUserRequest, BlockUserRequest, BlockedUsersResponse, FlagRequest, FlagResponse,
    MarkAllReadRequest, MarkUnreadRequest, MuteChannelRequest, MuteChannelResponse,
    MuteUserRequest, MuteUserResponse, QueryBannedUsersRequest, QueryBannedUsersResponse,
    UnreadCountsResponse, UserBlock,
};

use super::channels::{ChannelPath, channel_call};
use super::{DURATION, Req};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};

fn ok() -> Json<Value> {
    Json(json!({"duration": DURATION}))
}

/// `POST /moderation/mute`.
pub(super) async fn mute_user(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<MuteUserResponse>> {
    const OP: &str = "MuteUser";
    let actor = req.auth(&state, OP)?;
    let body: MuteUserRequest = req.json(OP)?;
    let response = state.chat.mute_users(OP, actor, body)?;
    Ok(Json(MuteUserResponse {
        duration: DURATION.into(),
        ..response
    }))
}

/// `POST /moderation/unmute`.
pub(super) async fn unmute_user(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<MuteUserResponse>> {
    const OP: &str = "UnmuteUser";
    let actor = req.auth(&state, OP)?;
    let body: MuteUserRequest = req.json(OP)?;
    let response = state.chat.unmute_users(OP, actor, body)?;
    Ok(Json(MuteUserResponse {
        duration: DURATION.into(),
        ..response
    }))
}

/// `POST /moderation/mute/channel`.
pub(super) async fn mute_channel(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<MuteChannelResponse>> {
    const OP: &str = "MuteChannel";
    let actor = req.auth(&state, OP)?;
    let body: MuteChannelRequest = req.json(OP)?;
    let response = state.chat.mute_channels(OP, actor, body, true)?;
    Ok(Json(MuteChannelResponse {
        duration: DURATION.into(),
        ..response
    }))
}

/// `POST /moderation/unmute/channel`.
pub(super) async fn unmute_channel(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "UnmuteChannel";
    let actor = req.auth(&state, OP)?;
    let body: MuteChannelRequest = req.json(OP)?;
    state.chat.mute_channels(OP, actor, body, false)?;
    Ok(ok())
}

/// `POST /moderation/ban`.
pub(super) async fn ban_user(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "Ban";
    let actor = req.auth(&state, OP)?;
    let body: BanUserRequest = req.json(OP)?;
    state.chat.ban_user(OP, actor, body)?;
    Ok(ok())
}

/// `DELETE /moderation/ban?target_user_id=&type=&id=` (query parameters, not a body).
pub(super) async fn unban_user(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "Unban";
    let actor = req.auth(&state, OP)?;
    let param = |k: &str| req.param(k).map(str::to_owned);
    let body = BanUserRequest {
        target_user_id: param("target_user_id").unwrap_or_default(),
        kind: param("type"),
        id: param("id"),
        ..BanUserRequest::default()
    };
    state.chat.unban_user(OP, actor, body)?;
    Ok(ok())
}

/// `GET /query_banned_users?payload=…`.
pub(super) async fn query_banned_users(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<QueryBannedUsersResponse>> {
    const OP: &str = "QueryBannedUsers";
    let actor = req.auth(&state, OP)?;
    let query: QueryBannedUsersRequest = match req.param("payload") {
        Some(p) => serde_json::from_str(p)
            .map_err(|e| ApiError::input(OP, format!("invalid payload parameter: {e}")))?,
        None => QueryBannedUsersRequest::default(),
    };
    let bans = state.chat.query_banned_users(OP, actor, query)?;
    Ok(Json(QueryBannedUsersResponse {
        bans,
        duration: DURATION.into(),
    }))
}

/// `POST /moderation/flag`.
pub(super) async fn flag(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<FlagResponse>> {
    const OP: &str = "Flag";
    let actor = req.auth(&state, OP)?;
    let body: FlagRequest = req.json(OP)?;
    let flag = state.chat.flag(OP, actor, body, true)?;
    Ok(Json(FlagResponse {
        flag,
        duration: DURATION.into(),
    }))
}

/// `POST /moderation/unflag`.
pub(super) async fn unflag(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<FlagResponse>> {
    const OP: &str = "Unflag";
    let actor = req.auth(&state, OP)?;
    let body: FlagRequest = req.json(OP)?;
    let flag = state.chat.flag(OP, actor, body, false)?;
    Ok(Json(FlagResponse {
        flag,
        duration: DURATION.into(),
    }))
}

/// `POST /users/block`: `{blocked_at, blocked_by_user_id, blocked_user_id}`.
pub(super) async fn block_user(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "BlockUsers";
    let actor = req.auth(&state, OP)?;
    let body: BlockUserRequest = req.json(OP)?;
    let UserBlock {
        blocked_at,
        blocked_by_user_id,
        blocked_user_id,
        ..
    } = state.chat.block_user(OP, actor, body)?;
    Ok(Json(json!({
        "blocked_at": blocked_at,
        "blocked_by_user_id": blocked_by_user_id,
        "blocked_user_id": blocked_user_id,
        "duration": DURATION,
    })))
}

/// `POST /users/unblock`.
pub(super) async fn unblock_user(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "UnblockUsers";
    let actor = req.auth(&state, OP)?;
    let body: BlockUserRequest = req.json(OP)?;
    state.chat.unblock_user(OP, actor, body)?;
    Ok(ok())
}

/// `GET /users/block[?user_id=]`.
pub(super) async fn blocked_users(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<BlockedUsersResponse>> {
    const OP: &str = "GetBlockedUsers";
    let actor = req.auth(&state, OP)?;
    let blocks = state.chat.blocked_users(OP, actor, req.param("user_id"))?;
    Ok(Json(BlockedUsersResponse {
        blocks,
        duration: DURATION.into(),
    }))
}

/// `POST /channels/read`: mark every channel read.
pub(super) async fn mark_all_read(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "MarkAllRead";
    let actor = req.auth(&state, OP)?;
    let body: MarkAllReadRequest = req.json(OP)?;
    state.chat.mark_all_read(OP, actor, body)?;
    Ok(ok())
}

/// `POST /channels/{type}/{id}/unread`.
pub(super) async fn mark_unread(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "MarkUnread";
    let (actor, key) = channel_call(OP, &state, &req, path)?;
    let body: MarkUnreadRequest = req.json(OP)?;
    state.chat.mark_unread(OP, actor, &key, body)?;
    Ok(ok())
}

/// `GET /unread[?user_id=]`.
pub(super) async fn unread_counts(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<UnreadCountsResponse>> {
    const OP: &str = "UnreadCounts";
    let actor = req.auth(&state, OP)?;
    let counts = state.chat.unread_counts(OP, actor, req.param("user_id"))?;
    Ok(Json(UnreadCountsResponse {
        duration: DURATION.into(),
        ..counts
    }))
}
