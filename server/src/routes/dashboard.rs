//! The dashboard (issue 13): `GET /dashboard`, one static page with plain JavaScript
//! embedded in the binary, and the JSON endpoints it calls under `/dashboard/api/`: the
//! state (usage, connections, users, channels), kicking a connection, minting a user token.
//!
//! Loopback clients only unless `--dashboard-public`; and, against DNS rebinding and other
//! sites' pages in the same browser, the `Host` must name a loopback address (unless
//! public) and an `Origin`, when sent, must be the page's own. No secret is ever sent: the
//! API key is public, the secret stays in the server.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{Extensions, HeaderMap, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};
use stream_chat_protocol::{jwt, time};

use super::{DURATION, Req};
use crate::app::AppState;
use crate::error::{ApiError, ApiResult};

/// The page, embedded at build time.
const PAGE: &str = include_str!("dashboard.html");

/// Code 17 unless this client may use the dashboard.
fn guard(
    state: &AppState,
    op: &str,
    ext: &Extensions,
    headers: &HeaderMap,
    api: bool,
) -> ApiResult<()> {
    let public = state.config.dashboard_public;
    let peer = ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    if !public && !peer.is_some_and(|p| p.ip().is_loopback()) {
        return Err(ApiError::forbidden(
            op,
            "the dashboard answers loopback clients only (start the server with \
             --dashboard-public to open it to the network)",
        ));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !public && !is_loopback_host(host) {
        return Err(ApiError::forbidden(
            op,
            format!("the dashboard answers requests for a loopback host only, not '{host}'"),
        ));
    }
    if api
        && let Some(origin) = headers.get(header::ORIGIN)
        && origin.to_str().ok() != Some(&format!("http://{host}"))
    {
        return Err(ApiError::forbidden(
            op,
            "the dashboard's endpoints answer the dashboard page only (cross-origin request)",
        ));
    }
    Ok(())
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `GET /dashboard`.
pub(super) async fn page(
    State(state): State<Arc<AppState>>,
    ext: Extensions,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    guard(&state, "Dashboard", &ext, &headers, false)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        PAGE,
    ))
}

/// `GET /dashboard/api/state`: usage, connections, users, channels, and the (public) API
/// key the page's own connection uses.
pub(super) async fn state(
    State(state): State<Arc<AppState>>,
    ext: Extensions,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    const OP: &str = "DashboardState";
    guard(&state, OP, &ext, &headers, true)?;
    let view = state.chat.dashboard_state()?;
    let mut body = serde_json::to_value(view).unwrap_or_default();
    body["api_key"] = Value::from(state.config.api_key.clone());
    body["duration"] = Value::from(DURATION);
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KickRequest {
    connection_id: String,
}

/// `POST /dashboard/api/kick` `{"connection_id": ..}`: closes that connection with code
/// 1012, as `ServerHandle::kick_connections` does.
pub(super) async fn kick(
    State(state): State<Arc<AppState>>,
    ext: Extensions,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "DashboardKick";
    guard(&state, OP, &ext, &req.headers, true)?;
    let body: KickRequest = req.json(OP)?;
    if !state.chat.kick_connection(&body.connection_id) {
        return Err(ApiError::not_found(
            OP,
            format!("no open connection '{}'", body.connection_id),
        ));
    }
    Ok(Json(json!({"closed": 1, "duration": DURATION})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    user_id: String,
    /// Seconds until it expires; no expiry when absent.
    #[serde(default)]
    expires_in: Option<u64>,
}

/// `POST /dashboard/api/token` `{"user_id": .., "expires_in": secs?}`: a user token signed
/// with the server's secret (the secret itself is never sent).
pub(super) async fn token(
    State(state): State<Arc<AppState>>,
    ext: Extensions,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "DashboardToken";
    guard(&state, OP, &ext, &req.headers, true)?;
    let body: TokenRequest = req.json(OP)?;
    let user_id = body.user_id.trim();
    // The rule tokens are checked by: a minted token the server refuses helps nobody.
    if let Some(problem) = crate::limits::user_id_problem(user_id) {
        return Err(ApiError::input(OP, problem));
    }
    let exp = body
        .expires_in
        .map(|secs| time::now_secs().saturating_add(i64::try_from(secs).unwrap_or(i64::MAX)));
    let token = jwt::js_safe_user_token_with_exp(state.config.api_secret.as_bytes(), user_id, exp);
    Ok(Json(
        json!({"user_id": user_id, "token": token, "duration": DURATION}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// The peer rule, with the peer address the accept loop records: a client on another
    /// machine is refused unless the dashboard is public; a request without a recorded
    /// peer is refused too.
    #[test]
    fn only_loopback_peers_unless_public() {
        let check = |public: bool, peer: Option<&str>| {
            let state = AppState::new(Config {
                dashboard_public: public,
                ..Config::default()
            });
            let mut ext = Extensions::new();
            if let Some(peer) = peer {
                ext.insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
            }
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, "127.0.0.1:3031".parse().unwrap());
            guard(&state, "Dashboard", &ext, &headers, true).map_err(|e| e.0.message)
        };
        assert!(check(false, Some("127.0.0.1:50000")).is_ok());
        assert!(check(false, Some("[::1]:50000")).is_ok());
        let refused = check(false, Some("192.0.2.7:50000")).unwrap_err();
        assert!(refused.contains("loopback clients only"), "{refused}");
        assert!(check(false, None).is_err());
        assert!(check(true, Some("192.0.2.7:50000")).is_ok());
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost:3030",
            "127.0.0.1:1",
            "[::1]:80",
            "127.0.0.2",
            "LOCALHOST",
        ] {
            assert!(super::is_loopback_host(host), "{host}");
        }
        for host in ["evil.example:3030", "10.0.0.1:3030", "", "localhost.evil:1"] {
            assert!(!super::is_loopback_host(host), "{host}");
        }
    }
}
