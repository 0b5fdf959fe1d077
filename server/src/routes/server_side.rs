//! Server-side user administration: `POST /users/{id}/deactivate`, `/reactivate`,
//! `DELETE /users/{id}`, `POST /users/delete` and `GET /tasks/{id}` (server tokens only).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use stream_chat_protocol::{
    DeactivateUserRequest, DeleteUsersRequest, ReactivateUserRequest, TaskResponse, TaskStatus,
    UserResponse,
};

use super::{DURATION, Req, path_params};
use crate::app::AppState;
use crate::error::ApiResult;

type IdPath = Result<Path<String>, PathRejection>;

fn user_response(user: stream_chat_protocol::User) -> Json<UserResponse> {
    Json(UserResponse {
        user,
        duration: DURATION.into(),
    })
}

/// `POST /users/{id}/deactivate`.
pub(super) async fn deactivate_user(
    State(state): State<Arc<AppState>>,
    path: IdPath,
    req: Req,
) -> ApiResult<Json<UserResponse>> {
    const OP: &str = "DeactivateUser";
    let actor = req.auth(&state, OP)?;
    let id = path_params(OP, path)?;
    let body: DeactivateUserRequest = req.json(OP)?;
    Ok(user_response(
        state.chat.deactivate_user(OP, actor, &id, body)?,
    ))
}

/// `POST /users/{id}/reactivate`.
pub(super) async fn reactivate_user(
    State(state): State<Arc<AppState>>,
    path: IdPath,
    req: Req,
) -> ApiResult<Json<UserResponse>> {
    const OP: &str = "ReactivateUser";
    let actor = req.auth(&state, OP)?;
    let id = path_params(OP, path)?;
    let body: ReactivateUserRequest = req.json(OP)?;
    Ok(user_response(
        state.chat.reactivate_user(OP, actor, &id, body)?,
    ))
}

/// `DELETE /users/{id}?hard_delete=true`.
pub(super) async fn delete_user(
    State(state): State<Arc<AppState>>,
    path: IdPath,
    req: Req,
) -> ApiResult<Json<UserResponse>> {
    const OP: &str = "DeleteUser";
    let actor = req.auth(&state, OP)?;
    let id = path_params(OP, path)?;
    let hard = req.param("hard_delete") == Some("true");
    Ok(user_response(state.chat.delete_user(OP, actor, &id, hard)?))
}

/// `POST /users/delete`: a task, complete when answered.
pub(super) async fn delete_users(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<TaskResponse>> {
    const OP: &str = "DeleteUsers";
    let actor = req.auth(&state, OP)?;
    let body: DeleteUsersRequest = req.json(OP)?;
    Ok(Json(TaskResponse {
        task_id: state.chat.delete_users(OP, actor, body)?,
        duration: DURATION.into(),
    }))
}

/// `GET /tasks/{id}`.
pub(super) async fn get_task(
    State(state): State<Arc<AppState>>,
    path: IdPath,
    req: Req,
) -> ApiResult<Json<TaskStatus>> {
    const OP: &str = "GetTask";
    let actor = req.auth(&state, OP)?;
    let id = path_params(OP, path)?;
    Ok(Json(TaskStatus {
        duration: Some(DURATION.into()),
        ..state.chat.task(OP, actor, &id)?
    }))
}
