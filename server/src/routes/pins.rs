//! Partial message update and pinned messages: `PUT /messages/{id}`, `GET
//! /channels/{type}/{id}/pinned_messages?payload=…`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde::de::DeserializeOwned;
use stream_chat_protocol::{
    MessageResponse, MessagesResponse, PartialUpdateMessageRequest, PinnedMessagesRequest,
};

use super::{DURATION, Req, path_params};
use crate::app::AppState;
use crate::domain::channels::ChannelKey;
use crate::error::{ApiError, ApiResult};

/// The JSON `payload` query parameter (code 4 when it does not parse), `None` without one.
pub(super) fn payload<T: DeserializeOwned>(op: &str, req: &Req) -> ApiResult<Option<T>> {
    req.param("payload")
        .map(|p| {
            serde_json::from_str(p)
                .map_err(|e| ApiError::input(op, format!("invalid payload parameter: {e}")))
        })
        .transpose()
}

/// `PUT /messages/{id}`: `{set, unset}`.
pub(super) async fn partial_update_message(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    req: Req,
) -> ApiResult<Json<MessageResponse>> {
    const OP: &str = "UpdateMessagePartial";
    let actor = req.auth(&state, OP)?;
    let id = path_params(OP, path)?;
    let body: PartialUpdateMessageRequest = req.json(OP)?;
    let message = state.chat.partial_update_message(OP, actor, &id, body)?;
    Ok(Json(MessageResponse {
        message,
        duration: DURATION.into(),
    }))
}

/// `GET /channels/{type}/{id}/pinned_messages?payload=…`.
pub(super) async fn pinned_messages(
    State(state): State<Arc<AppState>>,
    path: Result<Path<(String, String)>, PathRejection>,
    req: Req,
) -> ApiResult<Json<MessagesResponse>> {
    const OP: &str = "GetPinnedMessages";
    let actor = req.auth(&state, OP)?;
    let (kind, id) = path_params(OP, path)?;
    let key = ChannelKey::new(OP, kind, id)?;
    let request: PinnedMessagesRequest = payload(OP, &req)?.unwrap_or_default();
    let messages = state.chat.pinned_messages(OP, actor, &key, request)?;
    Ok(Json(MessagesResponse {
        messages,
        duration: DURATION.into(),
    }))
}
