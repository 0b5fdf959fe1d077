//! Channel endpoints: `/channels` (query), `/channels/{type}/query` (distinct channel),
//! `/channels/{type}/{id}` (update) and its `query`, `message`, `stop-watching`, `read` and
//! `event`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use stream_chat_protocol::{
    ChannelState, MarkReadRequest, MessageResponse, QueryChannelRequest, QueryChannelsRequest,
    QueryChannelsResponse, SendEventRequest, SendMessageRequest, UpdateChannelRequest,
    UpdateChannelResponse,
};

use super::{DURATION, Req, path_params};
use crate::app::AppState;
use crate::domain::caller::Actor;
use crate::domain::channels::{ChannelKey, check_channel_type, distinct_channel_id};
use crate::error::ApiResult;

/// The path parameters `{type}` and `{id}` of a channel endpoint.
pub(super) type ChannelPath = Result<Path<(String, String)>, PathRejection>;

/// Authenticates the caller, then reads the channel from the path (errors in that order).
pub(super) fn channel_call(
    op: &str,
    state: &AppState,
    req: &Req,
    path: ChannelPath,
) -> ApiResult<(Actor, ChannelKey)> {
    let actor = req.auth(state, op)?;
    let (kind, id) = path_params(op, path)?;
    Ok((actor, ChannelKey::new(op, kind, id)?))
}

/// `POST /channels/{type}/{id}/query`: get or create, optionally watch.
pub(super) async fn query_channel(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<ChannelState>> {
    const OP: &str = "GetOrCreateChannel";
    let (actor, key) = channel_call(OP, &state, &req, path)?;
    let key = key.creatable(OP)?;
    let body: QueryChannelRequest = req.json(OP)?;
    let conn_id = req.param("connection_id");
    let channel = state.chat.query_channel(OP, actor, &key, body, conn_id)?;
    Ok(Json(ChannelState {
        duration: Some(DURATION.into()),
        ..channel
    }))
}

/// `POST /channels/{type}/query`: a distinct channel identified by its members.
pub(super) async fn query_distinct_channel(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    req: Req,
) -> ApiResult<Json<ChannelState>> {
    const OP: &str = "GetOrCreateChannel";
    let actor = req.auth(&state, OP)?;
    let kind = path_params(OP, path)?;
    check_channel_type(OP, &kind)?;
    let body: QueryChannelRequest = req.json(OP)?;
    let id = distinct_channel_id(OP, body.data.as_ref())?;
    let key = ChannelKey::new(OP, kind, id)?;
    let conn_id = req.param("connection_id");
    let channel = state.chat.query_channel(OP, actor, &key, body, conn_id)?;
    Ok(Json(ChannelState {
        duration: Some(DURATION.into()),
        ..channel
    }))
}

/// `POST /channels`: query channels, optionally watch them.
pub(super) async fn query_channels(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<QueryChannelsResponse>> {
    const OP: &str = "QueryChannels";
    let actor = req.auth(&state, OP)?;
    let body: QueryChannelsRequest = req.json(OP)?;
    let conn_id = req.param("connection_id");
    let channels = state.chat.query_channels(OP, actor, body, conn_id)?;
    Ok(Json(QueryChannelsResponse {
        channels,
        duration: DURATION.into(),
    }))
}

/// `POST /channels/{type}/{id}`: data, slow mode, membership operations, system message.
pub(super) async fn update_channel(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<UpdateChannelResponse>> {
    const OP: &str = "UpdateChannel";
    let (actor, key) = channel_call(OP, &state, &req, path)?;
    let body: UpdateChannelRequest = req.json(OP)?;
    let response = state.chat.update_channel(OP, actor, &key, body)?;
    Ok(Json(UpdateChannelResponse {
        duration: DURATION.into(),
        ..response
    }))
}

/// `POST /channels/{type}/{id}/message`.
pub(super) async fn send_message(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<MessageResponse>> {
    const OP: &str = "SendMessage";
    let (actor, key) = channel_call(OP, &state, &req, path)?;
    let body: SendMessageRequest = req.json(OP)?;
    let message = state.chat.send_message(OP, actor, &key, body.message)?;
    Ok(Json(MessageResponse {
        message,
        duration: DURATION.into(),
    }))
}

/// `POST /channels/{type}/{id}/stop-watching`.
pub(super) async fn stop_watching(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "StopWatchingChannel";
    let (actor, key) = channel_call(OP, &state, &req, path)?;
    let _: Value = req.json(OP)?;
    let conn_id = req.param("connection_id");
    state.chat.stop_watching(OP, actor, &key, conn_id)?;
    Ok(Json(json!({"duration": DURATION})))
}

/// `POST /channels/{type}/{id}/read`.
pub(super) async fn mark_read(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "MarkRead";
    let (actor, key) = channel_call(OP, &state, &req, path)?;
    let body: MarkReadRequest = req.json(OP)?;
    // A thread's read state (messages surface), or the channel's.
    let event = if body.thread_id.is_some() {
        state.chat.mark_thread_read(OP, actor, &key, body)?
    } else {
        state.chat.mark_read(OP, actor, &key, body)?
    };
    Ok(Json(json!({"event": event, "duration": DURATION})))
}

/// `POST /channels/{type}/{id}/event`: typing and custom events to the watchers.
pub(super) async fn send_event(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<Value>> {
    const OP: &str = "SendEvent";
    let (actor, key) = channel_call(OP, &state, &req, path)?;
    let body: SendEventRequest = req.json(OP)?;
    let event = state.chat.send_event(OP, actor, &key, body.event)?;
    Ok(Json(json!({"event": event, "duration": DURATION})))
}
