//! Unit-test fixture shared by the domain's test modules: a `messaging:room` channel with
//! members `a` and `b` on an in-memory `Chat`, and a send as a user.

use serde_json::json;
use stream_chat_protocol::{Message, QueryChannelRequest, time};

use super::Chat;
use super::caller::Actor;
use super::channels::ChannelKey;
use crate::config::Config;

/// A fresh chat with `messaging:room` (members `a` and `b`, created by `a`).
pub(super) fn setup() -> (Chat, ChannelKey) {
    let chat = Chat::new(&Config::default());
    let key = ChannelKey::new("Test", "messaging".into(), "room".into()).unwrap();
    let body: QueryChannelRequest = serde_json::from_value(json!({
        "data": {"created_by_id": "a", "members": ["a", "b"]}
    }))
    .unwrap();
    chat.query_channel("Test", Actor::Server, &key, body, None)
        .unwrap();
    (chat, key)
}

/// RFC 3339 time `offset_secs` from now.
pub(super) fn at(offset_secs: i128) -> String {
    time::format_rfc3339(time::now_nanos() + offset_secs * 1_000_000_000)
}

/// `user` sends "hi" to the channel; the Stream error code on refusal.
pub(super) fn send(chat: &Chat, key: &ChannelKey, user: &str) -> Result<(), i32> {
    chat.send_message(
        "Test",
        Actor::User(user.into()),
        key,
        Message::with_text("hi"),
    )
    .map(drop)
    .map_err(|e| e.0.code)
}
