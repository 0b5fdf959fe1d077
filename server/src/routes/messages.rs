//! Message endpoints: `GET`, `POST` (update) and `DELETE /messages/{id}`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use stream_chat_protocol::{MessageResponse, SendMessageRequest};

use super::{DURATION, Req, path_params};
use crate::app::AppState;
use crate::domain::caller::Actor;
use crate::error::ApiResult;

/// The path parameter `{id}` of a message endpoint.
type MessagePath = Result<Path<String>, PathRejection>;

/// Authenticates the caller, then reads the message id (errors in that order).
fn message_call(
    op: &str,
    state: &AppState,
    req: &Req,
    path: MessagePath,
) -> ApiResult<(Actor, String)> {
    let actor = req.auth(state, op)?;
    Ok((actor, path_params(op, path)?))
}

fn respond(message: stream_chat_protocol::Message) -> Json<MessageResponse> {
    Json(MessageResponse {
        message,
        duration: DURATION.into(),
    })
}

/// `GET /messages/{id}`.
pub(super) async fn get_message(
    State(state): State<Arc<AppState>>,
    path: MessagePath,
    req: Req,
) -> ApiResult<Json<MessageResponse>> {
    const OP: &str = "GetMessage";
    let (actor, id) = message_call(OP, &state, &req, path)?;
    Ok(respond(state.chat.get_message(OP, actor, &id)?))
}

/// `POST /messages/{id}`.
pub(super) async fn update_message(
    State(state): State<Arc<AppState>>,
    path: MessagePath,
    req: Req,
) -> ApiResult<Json<MessageResponse>> {
    const OP: &str = "UpdateMessage";
    let (actor, id) = message_call(OP, &state, &req, path)?;
    let body: SendMessageRequest = req.json(OP)?;
    Ok(respond(state.chat.update_message(
        OP,
        actor,
        &id,
        body.message,
    )?))
}

/// `DELETE /messages/{id}?hard=true|false`.
pub(super) async fn delete_message(
    State(state): State<Arc<AppState>>,
    path: MessagePath,
    req: Req,
) -> ApiResult<Json<MessageResponse>> {
    const OP: &str = "DeleteMessage";
    let (actor, id) = message_call(OP, &state, &req, path)?;
    let hard = req.param("hard");
    Ok(respond(state.chat.delete_message(OP, actor, &id, hard)?))
}
