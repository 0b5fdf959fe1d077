//! Thread endpoints: `GET /messages/{id}/replies`, `POST /threads`, `GET
//! /threads/{message_id}`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde_json::{Map, Value};
use stream_chat_protocol::{
    MessagePagination, MessagesResponse, QueryThreadsRequest, QueryThreadsResponse, SortParam,
    ThreadResponse,
};

use super::reactions::number;
use super::{DURATION, Req, path_params};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};

/// The pagination keys of the replies endpoint that are times or ids (strings).
const PAGE_KEYS: [&str; 10] = [
    "id_lt",
    "id_lte",
    "id_gt",
    "id_gte",
    "id_around",
    "created_at_before",
    "created_at_before_or_equal",
    "created_at_after",
    "created_at_after_or_equal",
    "created_at_around",
];

/// `GET /messages/{id}/replies?limit&offset&id_*&created_at_*&sort=[…]`.
pub(super) async fn get_replies(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    req: Req,
) -> ApiResult<Json<MessagesResponse>> {
    const OP: &str = "GetReplies";
    let actor = req.auth(&state, OP)?;
    let id = path_params(OP, path)?;
    let mut fields = Map::new();
    for key in PAGE_KEYS {
        if let Some(v) = req.param(key) {
            fields.insert(key.to_owned(), Value::String(v.to_owned()));
        }
    }
    let pagination = MessagePagination {
        limit: number(OP, &req, "limit")?,
        offset: number(OP, &req, "offset")?,
        ..serde_json::from_value(Value::Object(fields))
            .map_err(|e| ApiError::input(OP, format!("invalid pagination: {e}")))?
    };
    let sort: Vec<SortParam> = match req.param("sort") {
        Some(s) => serde_json::from_str(s)
            .map_err(|e| ApiError::input(OP, format!("invalid sort parameter: {e}")))?,
        None => Vec::new(),
    };
    let oldest_first = sort.first().is_some_and(|s| s.direction > 0);
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
    let limits = (
        number(OP, &req, "reply_limit")?,
        number(OP, &req, "participant_limit")?,
    );
    number(OP, &req, "member_limit")?;
    let watch = match req.param("watch") {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(other) => {
            return Err(ApiError::input(
                OP,
                format!("watch must be true or false, not '{other}'"),
            ));
        }
    };
    let conn_id = req.param("connection_id");
    let thread = state
        .chat
        .get_thread(OP, actor, &id, limits, watch, conn_id)?;
    Ok(Json(ThreadResponse {
        thread,
        duration: DURATION.into(),
    }))
}
