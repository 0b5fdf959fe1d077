//! The rate-limit layer (issue 15): counts each authenticated request against its caller's
//! window for the matched route, adds `X-RateLimit-Limit/Remaining/Reset` to the answer, and
//! answers 429 (code 9) over the limit without running the handler. Requests that fail
//! authentication, match no route, or arrive while limits are off pass through untouched
//! (the handler answers them as usual). The counting itself is `crate::limits`.

use std::sync::Arc;

use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use stream_chat_protocol::codes;
use stream_chat_protocol::names::rate_limit;
use tokio::time::Instant;

use crate::app::AppState;
use crate::auth;
use crate::domain::caller::Actor;
use crate::error::ApiError;
use crate::limits::{Counted, Quota};

const LIMIT: HeaderName = HeaderName::from_static(rate_limit::LIMIT);
const REMAINING: HeaderName = HeaderName::from_static(rate_limit::REMAINING);
const RESET: HeaderName = HeaderName::from_static(rate_limit::RESET);

/// The middleware (`Router::layer`, so every route, including ones added later, has it).
pub(crate) async fn rate_limit(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    if state.limiter.is_off() {
        return next.run(req).await;
    }
    let Some(path) = req.extensions().get::<MatchedPath>() else {
        return next.run(req).await;
    };
    // The WebSocket has its own bounds (the connection cap, queued frames).
    if path.as_str() == "/connect" {
        return next.run(req).await;
    }
    let endpoint = format!("{} {}", req.method(), path.as_str());
    let query = Query::<std::collections::HashMap<String, String>>::try_from_uri(req.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    let who = match auth::authenticate(&state.config, &query, req.headers(), "RateLimit") {
        Ok(Actor::User(id)) => Counted::User(id),
        Ok(_) => Counted::App,
        Err(_) => return next.run(req).await,
    };
    let quota = state
        .limiter
        .hit(who.clone(), &endpoint, Instant::now().into_std());
    let mut response = match quota.exceeded {
        Some(wait) => {
            let caller = match &who {
                Counted::User(id) => format!("user '{id}'"),
                Counted::App => "this app".to_owned(),
            };
            let mut response = ApiError::plain(
                codes::RATE_LIMIT,
                format!(
                    "Too many requests for {caller} on {endpoint}: {} per window, try again in {} s",
                    quota.limit,
                    wait.as_secs_f64().ceil()
                ),
            )
            .into_response();
            let retry = wait.as_secs_f64().ceil().max(1.0) as u64;
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(retry));
            response
        }
        None => next.run(req).await,
    };
    add_headers(&mut response, &quota);
    response
}

fn add_headers(response: &mut Response, quota: &Quota) {
    let headers = response.headers_mut();
    headers.insert(LIMIT, HeaderValue::from(quota.limit));
    headers.insert(REMAINING, HeaderValue::from(quota.remaining));
    headers.insert(RESET, HeaderValue::from(quota.reset));
}
