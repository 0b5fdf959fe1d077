//! `POST /guest`: guest users, created without a token.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use stream_chat_protocol::{GuestRequest, GuestResponse, jwt};

use super::{DURATION, Req};
use crate::app::AppState;
use crate::auth;
use crate::error::ApiResult;

/// Creates (or refreshes) a guest user and returns a token for it.
///
/// The token's payload segment never contains `-` or `_`, because the JS client decodes it
/// with the standard base64 alphabet.
pub(super) async fn create_guest(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<GuestResponse>> {
    const OP: &str = "CreateGuest";
    auth::check_api_key(&state.config, req.param("api_key"), OP)?;
    state.chat.check_guests_allowed(OP)?;
    let body: GuestRequest = req.json(OP)?;
    let user = state.chat.create_guest(OP, body.user)?;
    Ok(Json(GuestResponse {
        access_token: jwt::js_safe_user_token(state.config.api_secret.as_bytes(), &user.id),
        user,
        duration: DURATION.into(),
    }))
}
