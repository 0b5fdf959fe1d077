//! Messages and the send-message endpoint bodies.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::User;

/// A chat message. Requests carry only a few fields (`text`, optional client-generated `id`);
/// responses carry the full shape. Unset fields are left out of the JSON; custom fields are
/// kept in `extra`.
///
/// Kotlin's `message.text` is a `String`; here [`Message::text`] is the constructor (Kotlin's
/// `Message(text = ..)`), so the `&str` accessor, `""` when absent, is
/// [`text_or_empty`](Message::text_or_empty), and the author's id is
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
    /// Latest reactions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_reactions: Option<Vec<Value>>,
    /// The caller's own reactions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_reactions: Option<Vec<Value>>,
    /// Reaction counts per type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction_counts: Option<Map<String, Value>>,
    /// Reaction scores per type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reaction_scores: Option<Map<String, Value>>,
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
    /// Quoted message id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted_message_id: Option<String>,
    /// Whether the message is shadowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadowed: Option<bool>,
    /// Whether the message is silent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silent: Option<bool>,
    /// Whether the message is pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    /// Creation time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Custom fields and fields not modelled here (`pinned_at`, `restricted_visibility`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Message {
    /// A message with just `text`, as clients send it.
    ///
    /// ```
    /// let json = serde_json::to_string(&stream_chat_protocol::Message::text("hi")).unwrap();
    /// assert_eq!(json, r#"{"text":"hi"}"#);
    /// ```
    pub fn text(text: impl Into<String>) -> Self {
        Message {
            text: Some(text.into()),
            ..Message::default()
        }
    }

    /// The text, `""` when absent: Kotlin's `message.text` (the name `text` is taken by the
    /// constructor [`Message::text`]).
    ///
    /// ```
    /// use stream_chat_protocol::Message;
    /// assert_eq!(Message::text("hi").text_or_empty(), "hi");
    /// assert_eq!(Message::default().text_or_empty(), "");
    /// ```
    pub fn text_or_empty(&self) -> &str {
        self.text.as_deref().unwrap_or_default()
    }

    /// The author's id, from `user` (responses) or `user_id` (server-side requests), `""` when
    /// neither is set: Kotlin's `message.user.id`.
    ///
    /// ```
    /// use stream_chat_protocol::{Message, User};
    /// let m = Message { user: Some(User::new("bender")), ..Message::text("hi") };
    /// assert_eq!(m.user_id_or_empty(), "bender");
    /// assert_eq!(Message::text("hi").user_id_or_empty(), "");
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
