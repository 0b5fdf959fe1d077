//! Reaction endpoints: `POST /messages/{id}/reaction`, `DELETE
//! /messages/{id}/reaction/{type}` and `GET /messages/{id}/reactions`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use stream_chat_protocol::{
    ReactionResponse, ReactionsRequest, ReactionsResponse, SendReactionRequest,
};

use super::threads::query;
use super::{DURATION, Req, path_params};
use crate::app::AppState;
use crate::error::ApiResult;

/// `POST /messages/{id}/reaction`.
pub(super) async fn send_reaction(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    req: Req,
) -> ApiResult<Json<ReactionResponse>> {
    const OP: &str = "SendReaction";
    let actor = req.auth(&state, OP)?;
    let id = path_params(OP, path)?;
    let body: SendReactionRequest = req.json(OP)?;
    let (message, reaction) = state.chat.send_reaction(OP, actor, &id, body)?;
    Ok(Json(ReactionResponse {
        message,
        reaction,
        duration: DURATION.into(),
    }))
}

/// `DELETE /messages/{id}/reaction/{type}` (`user_id` for server-side calls).
pub(super) async fn delete_reaction(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String)>, PathRejection>,
    req: Req,
) -> ApiResult<Json<ReactionResponse>> {
    const OP: &str = "DeleteReaction";
    let actor = req.auth(&state, OP)?;
    let (id, kind) = path_params(OP, path)?;
    let user_id = req.param("user_id");
    let (message, reaction) = state.chat.delete_reaction(OP, actor, &id, &kind, user_id)?;
    Ok(Json(ReactionResponse {
        message,
        reaction,
        duration: DURATION.into(),
    }))
}

/// `GET /messages/{id}/reactions?limit&offset`.
pub(super) async fn get_reactions(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    req: Req,
) -> ApiResult<Json<ReactionsResponse>> {
    const OP: &str = "GetReactions";
    let actor = req.auth(&state, OP)?;
    let id = path_params(OP, path)?;
    let page: ReactionsRequest = query(OP, &req)?;
    let reactions = state
        .chat
        .get_reactions(OP, actor, &id, page.limit, page.offset)?;
    Ok(Json(ReactionsResponse {
        reactions,
        duration: DURATION.into(),
    }))
}
