//! Seed and snapshot (issue 13), server tokens only: `GET /emulator/export` (the state as
//! a versioned JSON document), `POST /emulator/import` (the state replaced by one) and
//! `POST /emulator/reset` (the state emptied, every connection closed).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::{DURATION, Req};
use crate::app::AppState;
use crate::error::ApiResult;

/// `GET /emulator/export`.
pub(super) async fn export(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<impl IntoResponse> {
    const OP: &str = "Export";
    let actor = req.auth(&state, OP)?;
    let bytes = state.chat.export_request(OP, actor)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes))
}

/// `POST /emulator/import`: the body is an export document.
pub(super) async fn import(State(state): State<Arc<AppState>>, req: Req) -> ApiResult<Json<Value>> {
    const OP: &str = "Import";
    let actor = req.auth(&state, OP)?;
    state.chat.import_request(OP, actor, req.bytes(OP)?)?;
    Ok(Json(json!({"duration": DURATION})))
}

/// `POST /emulator/reset`.
pub(super) async fn reset(State(state): State<Arc<AppState>>, req: Req) -> ApiResult<Json<Value>> {
    const OP: &str = "Reset";
    let actor = req.auth(&state, OP)?;
    state.chat.reset_request(OP, actor)?;
    Ok(Json(json!({"duration": DURATION})))
}
