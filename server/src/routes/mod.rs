//! The HTTP router: REST endpoints, the WebSocket upgrade, CORS and Stream-shaped fallbacks;
//! the request extractor ([`Req`]) and how an [`ApiError`] is answered.
//!
//! Each route is thin: it extracts (auth, path, query, body), calls one `Chat` operation of
//! the domain and renders its answer as JSON. Authorization, validation, paging and fan-out
//! are the domain's.

mod app;
mod channels;
mod guest;
mod messages;
mod users;
// Channel administration, members, read state, moderation, presence, user updates.
mod admin;
mod devices;
mod moderation;
// Reactions, threads, typing, pins, search (messages surface).
mod pins;
mod reactions;
mod search;
mod threads;
// Uploads, the server-side client and webhooks.
mod server_side;
mod uploads;
// Rate limits (issue 15).
mod limits;
// Seed and snapshot, the dashboard (issue 13).
mod dashboard;
mod emulator;

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{FromRequest, Query, Request};
use axum::http::StatusCode;
use axum::http::{HeaderMap, HeaderName, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use stream_chat_protocol::codes;
use stream_chat_protocol::names::auth_type;
use tower_http::cors::{Any, CorsLayer};

use crate::app::AppState;
use crate::auth;
use crate::config::{CORS_MAX_AGE, DRAIN_BODY_BYTES, DRAIN_BODY_TIMEOUT, MAX_BODY_BYTES};
use crate::domain::caller::Actor;
use crate::error::{ApiError, ApiResult};
use crate::ws;

/// `duration` of every success body.
pub(crate) const DURATION: &str = "0.00ms";

/// Builds the application router.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static(auth_type::HEADER),
            HeaderName::from_static("x-stream-client"),
            HeaderName::from_static("x-client-request-id"),
        ])
        .max_age(CORS_MAX_AGE);
    Router::new()
        .route("/connect", get(ws::connect))
        .route("/hi", get(app::hi))
        .route("/app", get(app::app_settings))
        .route("/emulator/usage", get(app::usage))
        .route("/emulator/export", get(emulator::export))
        .route("/emulator/import", post(emulator::import))
        .route("/emulator/reset", post(emulator::reset))
        .route("/dashboard", get(dashboard::page))
        .route("/dashboard/api/state", get(dashboard::state))
        .route("/dashboard/api/kick", post(dashboard::kick))
        .route("/dashboard/api/token", post(dashboard::token))
        .route("/guest", post(guest::create_guest))
        .route(
            "/users",
            get(users::query_users)
                .post(users::upsert_users)
                .patch(users::partial_update_users),
        )
        .route("/channels", post(channels::query_channels))
        .route(
            "/channels/{type}/query",
            post(channels::query_distinct_channel),
        )
        .route(
            "/channels/{type}/{id}",
            post(channels::update_channel)
                .patch(admin::partial_update_channel)
                .delete(admin::delete_channel),
        )
        .route("/channels/{type}/{id}/query", post(channels::query_channel))
        .route(
            "/channels/{type}/{id}/message",
            post(channels::send_message),
        )
        .route(
            "/channels/{type}/{id}/stop-watching",
            post(channels::stop_watching),
        )
        .route("/channels/{type}/{id}/read", post(channels::mark_read))
        .route("/channels/{type}/{id}/event", post(channels::send_event))
        .route(
            "/messages/{id}",
            get(messages::get_message)
                .post(messages::update_message)
                .delete(messages::delete_message),
        )
        // Channel administration, members, read state, moderation, presence, user updates.
        .route("/channels/read", post(moderation::mark_all_read))
        .route(
            "/channels/{type}/{id}/truncate",
            post(admin::truncate_channel),
        )
        .route("/channels/{type}/{id}/hide", post(admin::hide_channel))
        .route("/channels/{type}/{id}/show", post(admin::show_channel))
        .route(
            "/channels/{type}/{id}/unread",
            post(moderation::mark_unread),
        )
        .route(
            "/channels/{type}/{id}/member",
            patch(admin::update_member_partial),
        )
        .route(
            "/channels/{type}/{id}/member/{user_id}",
            patch(admin::partial_update_member),
        )
        .route("/members", get(admin::query_members))
        .route("/unread", get(moderation::unread_counts))
        .route("/moderation/mute", post(moderation::mute_user))
        .route("/moderation/unmute", post(moderation::unmute_user))
        .route("/moderation/mute/channel", post(moderation::mute_channel))
        .route(
            "/moderation/unmute/channel",
            post(moderation::unmute_channel),
        )
        .route(
            "/moderation/ban",
            post(moderation::ban_user).delete(moderation::unban_user),
        )
        .route("/query_banned_users", get(moderation::query_banned_users))
        .route("/moderation/flag", post(moderation::flag))
        .route("/moderation/unflag", post(moderation::unflag))
        .route(
            "/users/block",
            post(moderation::block_user).get(moderation::blocked_users),
        )
        .route("/users/unblock", post(moderation::unblock_user))
        .route(
            "/devices",
            post(devices::add_device)
                .get(devices::devices)
                .delete(devices::delete_device),
        )
        // Reactions, threads, typing, pins, search (messages surface).
        .route("/messages/{id}", put(pins::partial_update_message))
        .route("/messages/{id}/reaction", post(reactions::send_reaction))
        .route(
            "/messages/{id}/reaction/{type}",
            delete(reactions::delete_reaction),
        )
        .route("/messages/{id}/reactions", get(reactions::get_reactions))
        .route("/messages/{id}/replies", get(threads::get_replies))
        .route("/threads", post(threads::query_threads))
        .route("/threads/{message_id}", get(threads::get_thread))
        .route(
            "/channels/{type}/{id}/pinned_messages",
            get(pins::pinned_messages),
        )
        .route("/search", get(search::search))
        .route("/users/{id}/event", post(search::send_user_custom_event))
        // Uploads, the server-side client and webhooks.
        .route(
            "/channels/{type}/{id}/file",
            post(uploads::upload_file).delete(uploads::delete_file),
        )
        .route(
            "/channels/{type}/{id}/image",
            post(uploads::upload_image).delete(uploads::delete_image),
        )
        .route("/uploads/{id}/{*name}", get(uploads::serve))
        .route(
            "/users/{id}",
            axum::routing::delete(server_side::delete_user),
        )
        .route("/users/{id}/deactivate", post(server_side::deactivate_user))
        .route("/users/{id}/reactivate", post(server_side::reactivate_user))
        .route("/users/delete", post(server_side::delete_users))
        .route("/tasks/{id}", get(server_side::get_task))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Rate limits (issue 15): inside `catch_panics`, on every route.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::rate_limit,
        ))
        .layer(axum::middleware::from_fn(catch_panics))
        .layer(cors)
        .with_state(state)
}

/// Answers a panicking handler with Stream's internal error (code -1, HTTP 500) instead of
/// dropping the connection without a response. The handler runs as its own task for that.
async fn catch_panics(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    match tokio::spawn(next.run(req)).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(%method, %path, panicked = e.is_panic(), "request handler failed");
            ApiError::plain(
                codes::INTERNAL,
                format!("{method} {path} failed with an internal error"),
            )
            .into_response()
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status_code).unwrap_or(StatusCode::BAD_REQUEST);
        (status, Json(*self.0)).into_response()
    }
}

/// A REST request: query parameters, headers and the (size-capped) body.
pub(crate) struct Req {
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    body: Result<Bytes, BodyError>,
}

/// Why a request body was not read.
#[derive(Clone, Copy, Debug)]
enum BodyError {
    /// Over [`MAX_BODY_BYTES`] (or the connection broke while sending it).
    TooLarge,
    /// Not received within the body timeout (`ServerBuilder::body_timeout`).
    TimedOut,
}

impl FromRequest<Arc<AppState>> for Req {
    type Rejection = Infallible;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Infallible> {
        let (parts, body) = req.into_parts();
        let query = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map(|q| q.0)
            .unwrap_or_default();
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let body = tokio::time::timeout(state.config.body_timeout, read_body(body, declared))
            .await
            .unwrap_or(Err(BodyError::TimedOut));
        Ok(Req {
            query,
            headers: parts.headers,
            body,
        })
    }
}

/// Reads a body of at most [`MAX_BODY_BYTES`]. Of a larger one, up to [`DRAIN_BODY_BYTES`]
/// are still read and discarded (within [`DRAIN_BODY_TIMEOUT`]), so that the client, which is
/// usually still sending, receives the 413 rather than a reset connection.
async fn read_body(mut body: Body, declared: Option<u64>) -> Result<Bytes, BodyError> {
    if declared.is_some_and(|n| n > DRAIN_BODY_BYTES) {
        return Err(BodyError::TooLarge);
    }
    let mut kept = Vec::new();
    let mut total: u64 = 0;
    let read = async {
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            let Ok(data) = frame.map_err(|_| BodyError::TooLarge)?.into_data() else {
                continue; // trailers
            };
            total += data.len() as u64;
            if total > DRAIN_BODY_BYTES {
                return Err(BodyError::TooLarge);
            }
            if total <= MAX_BODY_BYTES as u64 {
                kept.extend_from_slice(&data);
            }
        }
        Ok(())
    };
    let too_large = declared.is_some_and(|n| n > MAX_BODY_BYTES as u64);
    let finished = if too_large {
        tokio::time::timeout(DRAIN_BODY_TIMEOUT, read)
            .await
            .unwrap_or(Err(BodyError::TooLarge))
    } else {
        read.await
    };
    finished?;
    if total > MAX_BODY_BYTES as u64 {
        return Err(BodyError::TooLarge);
    }
    Ok(Bytes::from(kept))
}

impl Req {
    /// Authenticates the caller for operation `op`.
    pub(crate) fn auth(&self, state: &AppState, op: &str) -> ApiResult<Actor> {
        authenticate(state, &self.query, &self.headers, op)
    }

    /// A query parameter.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The JSON body (`{}` when empty): code 22 when too large, code 4 when malformed.
    pub(crate) fn json<T: DeserializeOwned>(&self, op: &str) -> ApiResult<T> {
        let bytes = self.bytes(op)?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            bytes
        };
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError::input(op, format!("invalid JSON body: {e}")))
    }

    /// The raw body: code 22 when too large, code 4 when it did not arrive in time.
    pub(crate) fn bytes(&self, op: &str) -> ApiResult<&[u8]> {
        match &self.body {
            Err(BodyError::TooLarge) => Err(ApiError::op(
                op,
                codes::PAYLOAD_TOO_BIG,
                format!("request body is larger than {MAX_BODY_BYTES} bytes"),
            )),
            Err(BodyError::TimedOut) => Err(ApiError::op(
                op,
                codes::REQUEST_TIMEOUT,
                "the request body was not received in time",
            )),
            Ok(bytes) => Ok(bytes),
        }
    }
}

/// Authenticates a request for operation `op`: the credentials, then whether the token was
/// revoked or its user deactivated (the server-side client's checks).
pub(crate) fn authenticate(
    state: &AppState,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    op: &str,
) -> ApiResult<Actor> {
    let actor = auth::authenticate(&state.config, query, headers, op)?;
    state
        .chat
        .check_token(op, &actor, auth::issued_at(headers))?;
    Ok(actor)
}

/// Parses path parameters, mapping failures to code 4.
pub(crate) fn path_params<T>(
    op: &str,
    path: Result<axum::extract::Path<T>, axum::extract::rejection::PathRejection>,
) -> ApiResult<T> {
    path.map(|p| p.0)
        .map_err(|e| ApiError::input(op, format!("invalid path: {e}")))
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::plain(
        codes::DOES_NOT_EXIST,
        format!("{method} {} is not an endpoint of this server", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::with_status(
        codes::INPUT,
        405,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn a_panicking_handler_gets_a_stream_shaped_500() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route(
                "/boom",
                get(|| async { std::hint::black_box(None::<String>).expect("handler bug") }),
            )
            .route("/fine", get(app::hi))
            .layer(axum::middleware::from_fn(catch_panics));
        runtime.spawn(async move { axum::serve(listener, app).await });
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(5)))
            .build()
            .into();
        let mut res = agent.get(&format!("http://{addr}/boom")).call().unwrap();
        assert_eq!(res.status().as_u16(), 500);
        let body: Value = res.body_mut().read_json().unwrap();
        assert_eq!(body["code"], codes::INTERNAL);
        assert_eq!(body["StatusCode"], 500);
        assert_eq!(body["details"], json!([]));
        // The server keeps serving.
        let res = agent.get(&format!("http://{addr}/fine")).call().unwrap();
        assert_eq!(res.status().as_u16(), 200);
    }
}
