//! Request authentication: api_key, `stream-auth-type`, and JWT verification, giving the
//! domain's [`Actor`]. Shared by the REST routes and the WebSocket endpoint.

use std::collections::HashMap;

use axum::http::HeaderMap;
use stream_chat_protocol::codes;
use stream_chat_protocol::jwt::{self, Claims, JwtError, VerifyOptions};
use stream_chat_protocol::names::auth_type;
use stream_chat_protocol::time;

use crate::config::Config;
use crate::domain::caller::Actor;
use crate::error::{ApiError, ApiResult};

/// Checks the `api_key` query parameter (code 2 when missing or unknown).
pub(crate) fn check_api_key(config: &Config, api_key: Option<&str>, op: &str) -> ApiResult<()> {
    match api_key {
        Some(key) if key == config.api_key => Ok(()),
        Some(key) => Err(ApiError::op(
            op,
            codes::ACCESS_KEY,
            format!("api_key not found: '{key}'"),
        )),
        None => Err(ApiError::op(op, codes::ACCESS_KEY, "api_key is missing")),
    }
}

/// Verifies a JWT with the server's secret (dev tokens only with auth checks disabled).
pub(crate) fn verify_token(config: &Config, token: &str) -> Result<Claims, JwtError> {
    let opts = VerifyOptions {
        allow_dev_tokens: config.disable_auth_checks,
        ..VerifyOptions::default()
    };
    jwt::verify(token, config.api_secret.as_bytes(), time::now_secs(), &opts)
}

/// Maps a JWT failure to Stream's error for operation `op`.
pub(crate) fn jwt_error(op: &str, e: &JwtError) -> ApiError {
    ApiError::op(op, e.code(), e.to_string())
}

/// The user a verified token acts as, checked against a claimed id (`user_id` param / payload).
/// Errors are a code and a bare reason; REST wraps them in its operation form.
pub(crate) fn token_actor(
    claims: &Claims,
    claimed_user: Option<&str>,
) -> Result<Actor, (i32, String)> {
    if claims.is_server() {
        return Ok(Actor::Server);
    }
    let user_id = claims.user_id.as_deref().unwrap_or_default();
    if user_id.is_empty() {
        return Err((
            codes::AUTHENTICATION,
            "JWTAuth error: token has no user_id claim".into(),
        ));
    }
    match claimed_user {
        Some(claimed) if !claimed.is_empty() && claimed != user_id => Err((
            codes::AUTHENTICATION,
            format!("JWTAuth error: the token is for user '{user_id}', not for '{claimed}'"),
        )),
        _ => Ok(Actor::User(user_id.to_owned())),
    }
}

/// Authenticates a REST request for operation `op`.
pub(crate) fn authenticate(
    config: &Config,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    op: &str,
) -> ApiResult<Actor> {
    check_api_key(config, query.get("api_key").map(String::as_str), op)?;
    let kind = header(headers, auth_type::HEADER).unwrap_or(auth_type::JWT);
    if kind.eq_ignore_ascii_case(auth_type::ANONYMOUS) {
        return Ok(Actor::Anonymous);
    }
    if !kind.eq_ignore_ascii_case(auth_type::JWT) {
        return Err(ApiError::op(
            op,
            codes::AUTHENTICATION,
            format!("stream-auth-type must be 'jwt' or 'anonymous', got '{kind}'"),
        ));
    }
    let token = header(headers, "authorization").unwrap_or_default();
    let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
    if token.is_empty() {
        return Err(ApiError::op(
            op,
            codes::AUTHENTICATION,
            "JWTAuth error: the Authorization header is missing",
        ));
    }
    let claims = verify_token(config, token).map_err(|e| jwt_error(op, &e))?;
    token_actor(&claims, query.get("user_id").map(String::as_str))
        .map_err(|(code, reason)| ApiError::op(op, code, reason))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}
