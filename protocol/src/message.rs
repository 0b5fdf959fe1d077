//! Messages and the send-message endpoint bodies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Channel, Reaction, ReactionGroup, SortParam, User};

/// A chat message. Requests carry only a few fields (`text`, optional client-generated `id`);
/// responses carry the full shape. Unset fields are left out of the JSON; custom fields are
/// kept in `extra`.
///
/// Kotlin's `message.text` is a `String`; here [`text()`](Message::text) is the `&str`
/// accessor, `""` when absent, [`Message::with_text`] the constructor (Kotlin's
/// `Message(text = ..)`), and the author's id is
/// [`user_id_or_empty`](Message::user_id_or_empty); the `Option` fields stay for code that
/// must tell "unset" from "empty".
///
/// ```
/// use stream_chat_protocol::Message;
/// let m: Message = serde_json::from_str(r#"{"text":"hello","priority":"high"}"#).unwrap();
/// assert_eq!(m.text.as_deref(), Some("hello"));
/// assert_eq!(m.extra["priority"], "high");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Message id (clients may generate it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Rendered HTML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// `regular`, `reply`, `system`, `ephemeral`, `error` or `deleted`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The author's id (server-side requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The channel, `<type>:<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    /// Attachments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<Value>>,
    /// Mentioned users (ids in requests, users in responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentioned_users: Option<Vec<Value>>,
    /// The newest reactions, newest first (the server keeps a few; the rest through the
    /// reactions endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_reactions: Option<Vec<Reaction>>,
    /// The reactions of the user who asked (REST responses); empty in broadcast events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_reactions: Option<Vec<Reaction>>,
    /// How many users reacted, per reaction type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction_counts: Option<BTreeMap<String, u64>>,
    /// The sum of the scores, per reaction type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction_scores: Option<BTreeMap<String, i64>>,
    /// Count, score sum, first and last time, per reaction type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction_groups: Option<BTreeMap<String, ReactionGroup>>,
    /// Thread parent id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Whether a reply is also shown in the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_in_channel: Option<bool>,
    /// Number of replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_count: Option<u64>,
    /// Number of deleted replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_reply_count: Option<u64>,
    /// Of a thread's parent: who took part (its author and everyone who replied), in the
    /// order they joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_participants: Option<Vec<User>>,
    /// The id of the message this one quotes (Kotlin's `replyMessageId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted_message_id: Option<String>,
    /// The quoted message as it is now (one level deep: it carries no quote of its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted_message: Option<Box<Message>>,
    /// Whether the message is shadowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadowed: Option<bool>,
    /// Whether the message is silent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silent: Option<bool>,
    /// Whether the message is pinned (an expired pin is not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    /// When it was pinned (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_at: Option<String>,
    /// Who pinned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_by: Option<User>,
    /// When the pin ends (RFC 3339); no end when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_expires: Option<String>,
    /// Creation time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// The message's channel, in search results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Box<Channel>>,
    /// Custom fields and fields not modelled here (`restricted_visibility`, `deleted_at`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Message {
    /// A message with just `text`, as clients send it.
    ///
    /// ```
    /// let json = serde_json::to_string(&stream_chat_protocol::Message::with_text("hi")).unwrap();
    /// assert_eq!(json, r#"{"text":"hi"}"#);
    /// ```
    pub fn with_text(text: impl Into<String>) -> Self {
        Message {
            text: Some(text.into()),
            ..Message::default()
        }
    }

    /// The text, `""` when absent: Kotlin's `message.text`.
    ///
    /// ```
    /// use stream_chat_protocol::Message;
    /// assert_eq!(Message::with_text("hi").text(), "hi");
    /// assert_eq!(Message::default().text(), "");
    /// ```
    pub fn text(&self) -> &str {
        self.text.as_deref().unwrap_or_default()
    }

    /// The author's id, from `user` (responses) or `user_id` (server-side requests), `""` when
    /// neither is set: Kotlin's `message.user.id`.
    ///
    /// ```
    /// use stream_chat_protocol::{Message, User};
    /// let m = Message { user: Some(User::new("bender")), ..Message::with_text("hi") };
    /// assert_eq!(m.user_id_or_empty(), "bender");
    /// assert_eq!(Message::with_text("hi").user_id_or_empty(), "");
    /// ```
    pub fn user_id_or_empty(&self) -> &str {
        match (&self.user, &self.user_id) {
            (Some(user), _) => &user.id,
            (None, Some(id)) => id,
            (None, None) => "",
        }
    }
}

/// Body of `POST /channels/{type}/{id}/message`.
///
/// ```
/// let r: stream_chat_protocol::SendMessageRequest =
///     serde_json::from_str(r#"{"message":{"text":"hello"},"skip_push":true}"#).unwrap();
/// assert_eq!(r.message.text.as_deref(), Some("hello"));
/// assert_eq!(r.skip_push, Some(true));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SendMessageRequest {
    /// The message to send.
    pub message: Message,
    /// Do not send push notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_push: Option<bool>,
    /// Do not enrich URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_enrich_url: Option<bool>,
    /// Other options (`pending`, `keep_channel_hidden`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Response of the send-message endpoint: `{message, duration}`.
///
/// ```
/// let r: stream_chat_protocol::MessageResponse = serde_json::from_str(r#"{"message":{"id":"m1"},"duration":"1ms"}"#).unwrap();
/// assert_eq!(r.message.id, "m1");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageResponse {
    /// The stored message.
    pub message: Message,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// Body of `PUT /messages/{id}`: a partial update. `set` writes fields (text, attachments,
/// custom fields; `pinned` with `pin_expires` pins, where `pin_expires` is an RFC 3339 time,
/// a number of seconds from now, or `null` for no end), `unset` removes custom fields.
/// Server-side calls name the acting user in `user` or `user_id`.
///
/// ```
/// use serde_json::json;
/// use stream_chat_protocol::PartialUpdateMessageRequest;
/// let pin = PartialUpdateMessageRequest::set([("pinned", json!(true)), ("pin_expires", json!(null))]);
/// assert_eq!(serde_json::to_value(&pin).unwrap(), json!({"set": {"pinned": true, "pin_expires": null}}));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialUpdateMessageRequest {
    /// Fields to write.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub set: Map<String, Value>,
    /// Fields to remove.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unset: Vec<String>,
    /// The acting user (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The acting user's id (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Do not enrich URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_enrich_url: Option<bool>,
    /// Do not send push notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_push: Option<bool>,
}

impl PartialUpdateMessageRequest {
    /// A request that sets these fields.
    ///
    /// ```
    /// let r = stream_chat_protocol::PartialUpdateMessageRequest::set([("text", "hi".into())]);
    /// assert_eq!(r.set["text"], "hi");
    /// ```
    pub fn set<K: Into<String>>(fields: impl IntoIterator<Item = (K, Value)>) -> Self {
        PartialUpdateMessageRequest {
            set: fields.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            ..Self::default()
        }
    }
}

/// The `payload` of `GET /channels/{type}/{id}/pinned_messages`: a page of the channel's
/// pinned messages, bounded by a message (`id_*`) or by when they were pinned
/// (`pinned_at_*`), in `pinned_at` order (newest first unless `sort` says otherwise).
///
/// ```
/// let r: stream_chat_protocol::PinnedMessagesRequest = serde_json::from_str(
///     r#"{"limit":5,"pinned_at_before":"2025-01-01T00:00:00Z","sort":[{"field":"pinned_at","direction":1}]}"#,
/// ).unwrap();
/// assert_eq!((r.limit, r.sort[0].direction), (Some(5), 1));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PinnedMessagesRequest {
    /// Messages per page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Messages to skip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Pinned before this message was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_lt: Option<String>,
    /// Pinned before this message was, or it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_lte: Option<String>,
    /// Pinned after this message was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_gt: Option<String>,
    /// Pinned after this message was, or it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_gte: Option<String>,
    /// Around this message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_around: Option<String>,
    /// Pinned after this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_at_after: Option<String>,
    /// Pinned at or after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_at_after_or_equal: Option<String>,
    /// Pinned before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_at_before: Option<String>,
    /// Pinned at or before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_at_before_or_equal: Option<String>,
    /// Around this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_at_around: Option<String>,
    /// `pinned_at` ascending (1) or descending (-1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<SortParam>,
    /// Other options (`user_id` of a server-side caller, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
