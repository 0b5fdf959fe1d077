//! Thread endpoints: `GET /messages/{id}/replies`, `POST /threads`, `GET
//! /threads/{message_id}`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use stream_chat_protocol::{
    GetThreadRequest, MessagesResponse, QueryThreadsRequest, QueryThreadsResponse, RepliesRequest,
    ThreadResponse,
};

use super::{DURATION, Req, path_params};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};

/// The query parameters of a request, read into `T` (code 4 when a value does not fit).
pub(super) fn query<T: serde::de::DeserializeOwned>(op: &str, req: &Req) -> ApiResult<T> {
    stream_chat_protocol::query::from_pairs(req.query.clone())
        .map_err(|e| ApiError::input(op, format!("invalid query parameter: {e}")))
}

/// `GET /messages/{id}/replies?limit&offset&id_*&created_at_*&sort=[…]`.
pub(super) async fn get_replies(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    req: Req,
) -> ApiResult<Json<MessagesResponse>> {
    const OP: &str = "GetReplies";
    let actor = req.auth(&state, OP)?;
    let id = path_params(OP, path)?;
    let request: RepliesRequest = query(OP, &req)?;
    let oldest_first = request.sort.first().is_some_and(|s| s.direction > 0);
    let pagination = request.pagination;
    let messages = state
        .chat
        .get_replies(OP, actor, &id, &pagination, oldest_first)?;
    Ok(Json(MessagesResponse {
        messages,
        duration: DURATION.into(),
    }))
}

/// `POST /threads` (`connection_id` to watch).
pub(super) async fn query_threads(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<QueryThreadsResponse>> {
    const OP: &str = "QueryThreads";
    let actor = req.auth(&state, OP)?;
    let body: QueryThreadsRequest = req.json(OP)?;
    let conn_id = req.param("connection_id");
    let (threads, next, prev) = state.chat.query_threads(OP, actor, body, conn_id)?;
    Ok(Json(QueryThreadsResponse {
        threads,
        next,
        prev,
        duration: DURATION.into(),
    }))
}

/// `GET /threads/{message_id}?reply_limit&participant_limit&watch&connection_id`.
pub(super) async fn get_thread(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    req: Req,
) -> ApiResult<Json<ThreadResponse>> {
    const OP: &str = "GetThread";
    let actor = req.auth(&state, OP)?;
    let id = path_params(OP, path)?;
    let request: GetThreadRequest = query(OP, &req)?;
    let limits = (request.reply_limit, request.participant_limit);
    let watch = request.watch == Some(true);
    let conn_id = req.param("connection_id");
    let thread = state
        .chat
        .get_thread(OP, actor, &id, limits, watch, conn_id)?;
    Ok(Json(ThreadResponse {
        thread,
        duration: DURATION.into(),
    }))
}
