//! Push device endpoints: `POST /devices`, `GET /devices[?user_id=]`,
//! `DELETE /devices?id=[&user_id=]` (query parameters, not a body).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use stream_chat_protocol::{AddDeviceRequest, DevicesResponse};

use super::{DURATION, Req};
use crate::app::AppState;
use crate::error::ApiResult;

/// `POST /devices`.
pub(super) async fn add_device(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "CreateDevice";
    let actor = req.auth(&state, OP)?;
    let body: AddDeviceRequest = req.json(OP)?;
    state.chat.add_device(OP, actor, body)?;
    Ok(Json(json!({"duration": DURATION})))
}

/// `GET /devices[?user_id=]`.
pub(super) async fn devices(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<DevicesResponse>> {
    const OP: &str = "ListDevices";
    let actor = req.auth(&state, OP)?;
    let devices = state.chat.devices(OP, actor, req.param("user_id"))?;
    Ok(Json(DevicesResponse {
        devices,
        duration: DURATION.into(),
    }))
}

/// `DELETE /devices?id=[&user_id=]`.
pub(super) async fn delete_device(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "DeleteDevice";
    let actor = req.auth(&state, OP)?;
    state
        .chat
        .delete_device(OP, actor, req.param("id"), req.param("user_id"))?;
    Ok(Json(json!({"duration": DURATION})))
}
