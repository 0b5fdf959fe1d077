//! Message endpoints: `GET`, `POST` (update) and `DELETE /messages/{id}`.

use std::sync::{Arc, MutexGuard};

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde_json::json;
use stream_chat_protocol::{
    Message, MessageDeletedEvent, MessageResponse, MessageUpdatedEvent, SendMessageRequest,
};

use super::channels::{Caller, MessageContent, acting_user, custom_fields, server_fields};
use super::{DURATION, Req, path_params};
use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use crate::permissions::Action;
use crate::state::{AppState, ChannelRec, Inner};

/// The channel holding message `id` and its index there (code 16 when there is none).
fn find<'a>(inner: &'a Inner, op: &str, id: &str) -> ApiResult<(&'a ChannelRec, usize)> {
    inner
        .message_cids
        .get(id)
        .and_then(|cid| inner.channels.get(cid))
        .and_then(|c| Some((c, c.messages.iter().position(|m| m.id == id)?)))
        .ok_or_else(|| ApiError::not_found(op, format!("message '{id}' does not exist")))
}

/// An authenticated call of `/messages/{id}`.
struct MessageCall {
    /// The operation name its errors carry.
    op: &'static str,
    actor: Actor,
    /// The message id.
    id: String,
}

impl MessageCall {
    /// Authenticates the caller, then reads the path (errors in that order).
    fn start(
        op: &'static str,
        state: &AppState,
        req: &Req,
        path: Result<Path<String>, PathRejection>,
    ) -> ApiResult<Self> {
        let actor = req.auth(state, op)?;
        let id = path_params(op, path)?;
        Ok(MessageCall { op, actor, id })
    }

    /// Locks the state and resolves the caller in it.
    fn lock<'s>(&self, state: &'s AppState) -> (MutexGuard<'s, Inner>, Caller) {
        Caller::lock(state, self.actor.clone())
    }
}

fn author(message: &Message) -> String {
    message
        .user
        .as_ref()
        .map(|u| u.id.clone())
        .unwrap_or_default()
}

/// Code 17 unless the caller may do `action` to `message` (server tokens may do everything;
/// users only to their own messages, while they may post in the channel).
fn require_own(
    op: &str,
    caller: &Caller,
    channel: &ChannelRec,
    message: &Message,
    action: Action,
) -> ApiResult<()> {
    let mut rel = caller.relation(channel);
    rel.author = !caller.is_server() && author(message) == caller.id;
    caller.require(op, &channel.kind, rel, action)
}

fn respond(message: Message) -> Json<MessageResponse> {
    Json(MessageResponse {
        message,
        duration: DURATION.into(),
    })
}

/// `GET /messages/{id}`: a message of a channel the caller may read (soft-deleted ones too).
pub(crate) async fn get_message(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    req: Req,
) -> ApiResult<Json<MessageResponse>> {
    let call = MessageCall::start("GetMessage", &state, &req, path)?;
    let (inner, caller) = call.lock(&state);
    let (channel, index) = find(&inner, call.op, &call.id)?;
    caller.require(
        call.op,
        &channel.kind,
        caller.relation(channel),
        Action::ReadChannel,
    )?;
    Ok(respond(channel.messages[index].clone()))
}

/// `POST /messages/{id}`: replaces what a client writes of a message (text, attachments,
/// mentioned users, custom fields); `message.updated` to the channel's watchers.
pub(crate) async fn update_message(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    req: Req,
) -> ApiResult<Json<MessageResponse>> {
    let call = MessageCall::start("UpdateMessage", &state, &req, path)?;
    let body: SendMessageRequest = req.json(call.op)?;
    let input = body.message;
    if !input.id.is_empty() && input.id != call.id {
        return Err(ApiError::input(
            call.op,
            format!(
                "message.id '{}' does not match the URL's '{}'",
                input.id, call.id
            ),
        ));
    }
    let (mut inner, caller) = call.lock(&state);
    let (channel, index) = find(&inner, call.op, &call.id)?;
    let stored = &channel.messages[index];
    let editor = match caller.actor {
        Actor::Server => input
            .user_id
            .clone()
            .or_else(|| input.user.as_ref().map(|u| u.id.clone()))
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| author(stored)),
        _ => acting_user(
            call.op,
            &caller,
            "message",
            input.user_id.as_deref(),
            input.user.as_ref(),
        )?,
    };
    require_own(call.op, &caller, channel, stored, Action::UpdateMessage)?;
    if stored.kind.as_deref() == Some("deleted") {
        return Err(ApiError::input(
            call.op,
            format!("message '{}' was deleted and cannot be updated", call.id),
        ));
    }
    let content = MessageContent::validate(&inner, call.op, &input)?;
    let cid = channel.cid.clone();
    let mut message = stored.clone();
    let now = inner.now();
    let mut extra = server_fields(&message.extra);
    extra.extend(custom_fields(&input.extra));
    if message.text.as_deref() != Some(content.text.as_str()) {
        extra.insert("message_text_updated_at".into(), json!(now));
    }
    message.extra = extra;
    message.text = Some(content.text);
    message.html = Some(content.html);
    message.attachments = Some(content.attachments);
    message.mentioned_users = Some(content.mentioned_users);
    if input.quoted_message_id.is_some() {
        message.quoted_message_id = input.quoted_message_id;
    }
    message.updated_at = Some(now);
    inner.channels.get_mut(&cid).expect("found above").messages[index] = message.clone();

    let event = MessageUpdatedEvent {
        message: message.clone(),
        user: Some(inner.user_response(&editor)),
        watcher_count: Some(inner.watcher_count_of(&cid)),
        ..inner.channel_event(&cid)
    };
    inner.broadcast(&cid, &event);
    Ok(respond(message))
}

/// `DELETE /messages/{id}?hard=true|false`: a soft delete keeps the message as type
/// `deleted` with `deleted_at`; a hard delete removes it. `message.deleted` (with
/// `hard_delete`) to the channel's watchers.
pub(crate) async fn delete_message(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    req: Req,
) -> ApiResult<Json<MessageResponse>> {
    let call = MessageCall::start("DeleteMessage", &state, &req, path)?;
    let hard = match req.param("hard").map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(other) => {
            return Err(ApiError::input(
                call.op,
                format!("hard must be true or false, not '{other}'"),
            ));
        }
    };
    let (mut inner, caller) = call.lock(&state);
    let (channel, index) = find(&inner, call.op, &call.id)?;
    let stored = &channel.messages[index];
    require_own(call.op, &caller, channel, stored, Action::DeleteMessage)?;
    let deleter = match caller.actor {
        Actor::Server => author(stored),
        _ => caller.id.clone(),
    };
    let already = stored.kind.as_deref() == Some("deleted");
    if already && !hard {
        return Ok(respond(stored.clone()));
    }
    let cid = channel.cid.clone();
    let mut message = stored.clone();
    let now = inner.now();
    message.kind = Some("deleted".into());
    if !already {
        message.extra.insert("deleted_at".into(), json!(now));
    }
    message.updated_at = Some(now);
    let channel = inner.channels.get_mut(&cid).expect("found above");
    if hard {
        channel.messages.remove(index);
        if let Some(parent) = message.parent_id.as_deref()
            && let Some(p) = channel.messages.iter_mut().find(|m| m.id == parent)
        {
            p.reply_count = Some(p.reply_count.unwrap_or(1).saturating_sub(1));
        }
        inner.message_cids.remove(&call.id);
    } else {
        channel.messages[index] = message.clone();
    }

    let event = MessageDeletedEvent {
        message: message.clone(),
        user: Some(inner.user_response(&deleter)),
        hard_delete: hard,
        watcher_count: Some(inner.watcher_count_of(&cid)),
        ..inner.channel_event(&cid)
    };
    inner.broadcast(&cid, &event);
    Ok(respond(message))
}
