//! `GET /search?payload=…` and `POST /users/{id}/event`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use stream_chat_protocol::{SearchRequest, SearchResponse, SendEventRequest};

use super::pins::payload;
use super::{DURATION, Req, path_params};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};

/// `GET /search?payload=…`.
pub(super) async fn search(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<SearchResponse>> {
    const OP: &str = "Search";
    let actor = req.auth(&state, OP)?;
    let request: SearchRequest = payload(OP, &req)?
        .ok_or_else(|| ApiError::input(OP, "the payload parameter is required"))?;
    let found = state.chat.search(OP, actor, request)?;
    Ok(Json(SearchResponse {
        results: found.results,
        next: found.next,
        previous: found.previous,
        results_warning: found.warning,
        duration: DURATION.into(),
    }))
}

/// `POST /users/{id}/event`: a custom event to one user's connections (server-side).
pub(super) async fn send_user_custom_event(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "SendUserCustomEvent";
    let actor = req.auth(&state, OP)?;
    let id = path_params(OP, path)?;
    let body: SendEventRequest = req.json(OP)?;
    state
        .chat
        .send_user_custom_event(OP, actor, &id, body.event)?;
    Ok(Json(json!({"duration": DURATION})))
}
