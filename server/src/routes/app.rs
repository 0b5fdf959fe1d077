//! App-level endpoints: `GET /hi`, `GET /app` (settings and channel configs) and
//! `GET /emulator/usage`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::{DURATION, Req};
use crate::app::AppState;
use crate::domain::permissions::channel_configs;
use crate::error::ApiResult;

/// `GET /hi`: a liveness check.
pub(super) async fn hi() -> impl IntoResponse {
    Json(json!({"duration": DURATION}))
}

/// `GET /app`: the app's settings, as the official clients read them.
pub(super) async fn app_settings(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<Value>> {
    req.auth(&state, "GetApp")?;
    let config = &state.config;
    Ok(Json(json!({
        "app": {
            "name": "stream-chat-server",
            "disable_auth_checks": config.disable_auth_checks,
            "disable_permissions_checks": false,
            "multi_tenant_enabled": config.multi_tenant,
            "guest_user_creation_disabled": config.multi_tenant,
            "permission_version": "v2",
            "channel_configs": channel_configs(),
            "file_upload_config": {},
            "image_upload_config": {},
        },
        "duration": DURATION,
    })))
}

/// `GET /emulator/usage` (server tokens only).
pub(super) async fn usage(State(state): State<Arc<AppState>>, req: Req) -> ApiResult<Json<Value>> {
    const OP: &str = "GetUsage";
    let actor = req.auth(&state, OP)?;
    let (usage, slow_consumer_disconnects) = state.chat.usage_report(OP, actor)?;
    Ok(Json(json!({
        "monthly_active_users": usage.monthly_active_users,
        "concurrent_connections": usage.concurrent_connections,
        "slow_consumer_disconnects": slow_consumer_disconnects,
        "webhook_overflows": state.chat.webhook_overflows(),
        "duration": DURATION,
    })))
}
