//! Which fields of a message a client writes and who may change a stored one: the keys the
//! server manages (never taken from a request), and the own-message rule of updates,
//! deletes and pins. Shared by `messages` and `pins`.

use serde_json::{Map, Value};
use stream_chat_protocol::Message;

use super::caller::Caller;
use super::channels::Loaded;
use super::permissions::Action;
use crate::error::ApiResult;

/// Message keys the server manages: never taken from a request's custom fields.
const SERVER_MESSAGE_KEYS: [&str; 14] = [
    "pinned_at",
    "pinned_by",
    "pin_expires",
    "restricted_visibility",
    "deleted_at",
    "message_text_updated_at",
    "command",
    "i18n",
    "quoted_message",
    "mentioned_groups",
    "deleted_for_me",
    "status",
    "error",
    "__html",
];

/// The custom fields of a message in a request: its other keys, minus server-managed ones.
pub(crate) fn custom_fields(extra: &Map<String, Value>) -> Map<String, Value> {
    let mut custom = extra.clone();
    SERVER_MESSAGE_KEYS.iter().for_each(|k| {
        custom.remove(*k);
    });
    custom
}

/// The server-managed keys of a stored message's `extra`.
pub(crate) fn server_fields(extra: &Map<String, Value>) -> Map<String, Value> {
    extra
        .iter()
        .filter(|(k, _)| SERVER_MESSAGE_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The id of a message's author (empty when it has none).
pub(crate) fn author(message: &Message) -> String {
    message
        .user
        .as_ref()
        .map(|u| u.id.clone())
        .unwrap_or_default()
}

/// Code 17 unless the caller may do `action` to `message` (server tokens may do everything;
/// users only to their own messages, while they may post in the channel).
pub(crate) fn require_own(
    op: &str,
    caller: &Caller,
    channel: &Loaded,
    message: &Message,
    action: Action,
) -> ApiResult<()> {
    caller.check_team(op, &channel.record.kind, channel.record.team.as_deref())?;
    let mut rel = channel.relation(caller);
    rel.author = !caller.is_server() && author(message) == caller.id;
    caller.require(op, &channel.record.kind, rel, action)
}
