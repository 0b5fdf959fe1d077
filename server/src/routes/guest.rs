//! `POST /guest`: guest users, created without a token.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use stream_chat_protocol::{GuestRequest, GuestResponse, codes, jwt};

use super::users::{apply_user_input, check_user_id};
use super::{DURATION, Req};
use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, new_user};

/// Creates (or refreshes) a guest user and returns a token for it.
///
/// The token's payload segment never contains `-` or `_`, because the JS client decodes it
/// with the standard base64 alphabet.
pub(crate) async fn create_guest(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<GuestResponse>> {
    const OP: &str = "CreateGuest";
    auth::check_api_key(&state.config, req.param("api_key"), OP)?;
    if state.config.multi_tenant {
        return Err(ApiError::op(
            OP,
            codes::NOT_ALLOWED,
            "guest users are not available for applications with multi-tenancy (teams) enabled",
        ));
    }
    let body: GuestRequest = req.json(OP)?;
    let id = if body.user.id.is_empty() {
        format!("guest{:016x}", fastrand::u64(..))
    } else {
        body.user.id.clone()
    };
    check_user_id(OP, &id)?;
    let mut inner = state.lock();
    if let Some(existing) = inner.users.get(&id)
        && existing.role.as_deref() != Some("guest")
    {
        return Err(ApiError::input(
            OP,
            format!("user '{id}' already exists and is not a guest"),
        ));
    }
    let now = inner.now();
    let mut user = inner
        .users
        .remove(&id)
        .unwrap_or_else(|| new_user(&id, "guest", &now));
    apply_user_input(&mut user, &body.user, false);
    user.updated_at = Some(now);
    inner.users.insert(id.clone(), user);
    let user = inner.user_response(&id);
    drop(inner);
    tracing::info!(user_id = %id, "guest user created");
    Ok(Json(GuestResponse {
        access_token: jwt::js_safe_user_token(state.config.api_secret.as_bytes(), &id),
        user,
        duration: DURATION.into(),
    }))
}
