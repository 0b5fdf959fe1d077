//! Reactions: the reaction object, a message's per-type summary, and the bodies of the
//! send / delete / list endpoints (`/messages/{id}/reaction`, `/messages/{id}/reactions`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Message, User};

/// A user's reaction to a message. Requests carry `type` (and optionally `score` and custom
/// fields); responses carry the whole object, `user_id` included (the JS client matches its
/// own reactions on it).
///
/// ```
/// use stream_chat_protocol::Reaction;
/// let r = Reaction::new("love");
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"type":"love"}"#);
/// let r: Reaction = serde_json::from_str(
///     r#"{"type":"clap","score":3,"user_id":"bender","message_id":"m1","emoji_code":"👏"}"#,
/// ).unwrap();
/// assert_eq!((r.kind.as_str(), r.score, r.user_id.as_str()), ("clap", 3, "bender"));
/// assert_eq!(r.extra["emoji_code"], "👏");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Reaction {
    /// The reaction type (`like`, `love`, ...).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The message reacted to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message_id: String,
    /// Who reacted (server-side requests name the user here).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user_id: String,
    /// Who reacted, in responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The score (a "clap" counted several times); 1 when a request leaves it out.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub score: i64,
    /// When it was first sent (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// When it was last sent again (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Custom fields (and fields not modelled here, such as `emoji_code`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl Reaction {
    /// A reaction of `kind` as a client sends it (Kotlin's `Reaction(type = ..)`); set
    /// `message_id` before sending it through a channel.
    ///
    /// ```
    /// let r = stream_chat_protocol::Reaction::new("like");
    /// assert_eq!((r.kind.as_str(), r.score), ("like", 0));
    /// ```
    pub fn new(kind: impl Into<String>) -> Self {
        Reaction {
            kind: kind.into(),
            ..Reaction::default()
        }
    }
}

/// A message's summary of one reaction type (`message.reaction_groups[type]`).
///
/// ```
/// let g: stream_chat_protocol::ReactionGroup = serde_json::from_str(
///     r#"{"count":2,"sum_scores":5,"first_reaction_at":"2025-01-01T00:00:00Z","last_reaction_at":"2025-01-02T00:00:00Z"}"#,
/// ).unwrap();
/// assert_eq!((g.count, g.sum_scores), (2, 5));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReactionGroup {
    /// How many users reacted with this type.
    #[serde(default)]
    pub count: u64,
    /// The sum of their scores.
    #[serde(default)]
    pub sum_scores: i64,
    /// The oldest of these reactions (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_reaction_at: Option<String>,
    /// The newest of these reactions (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reaction_at: Option<String>,
}

/// Body of `POST /messages/{id}/reaction`.
///
/// ```
/// use stream_chat_protocol::{Reaction, SendReactionRequest};
/// let body = SendReactionRequest { reaction: Reaction::new("love"), enforce_unique: Some(true), ..Default::default() };
/// assert_eq!(serde_json::to_string(&body).unwrap(), r#"{"reaction":{"type":"love"},"enforce_unique":true}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SendReactionRequest {
    /// The reaction.
    pub reaction: Reaction,
    /// Replace every other reaction of the user on that message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce_unique: Option<bool>,
    /// Do not send push notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_push: Option<bool>,
}

/// Response of the send- and delete-reaction endpoints: the message with its updated
/// reaction fields (the caller's `own_reactions`) and the reaction concerned.
///
/// ```
/// let r: stream_chat_protocol::ReactionResponse = serde_json::from_str(
///     r#"{"message":{"id":"m1"},"reaction":{"type":"love","user_id":"a"},"duration":"1ms"}"#,
/// ).unwrap();
/// assert_eq!((r.message.id.as_str(), r.reaction.kind.as_str()), ("m1", "love"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReactionResponse {
    /// The message as it is now.
    pub message: Message,
    /// The reaction sent or removed.
    #[serde(default)]
    pub reaction: Reaction,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// Response of `GET /messages/{id}/reactions`: a page of a message's reactions, newest first.
///
/// ```
/// let r: stream_chat_protocol::ReactionsResponse =
///     serde_json::from_str(r#"{"reactions":[{"type":"like"}],"duration":"1ms"}"#).unwrap();
/// assert_eq!(r.reactions[0].kind, "like");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReactionsResponse {
    /// The reactions.
    #[serde(default)]
    pub reactions: Vec<Reaction>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// The query of `GET /messages/{id}/reactions` (see [`crate::query`]).
///
/// ```
/// use stream_chat_protocol::{ReactionsRequest, query};
/// let r: ReactionsRequest = query::from_pairs([("limit".to_owned(), "5".to_owned())]).unwrap();
/// assert_eq!((r.limit, r.offset), (Some(5), None));
/// assert!(query::from_pairs::<ReactionsRequest>([("limit".to_owned(), "five".to_owned())]).is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReactionsRequest {
    /// Reactions per page (10 unless told).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::query::u32_or_text"
    )]
    pub limit: Option<u32>,
    /// Reactions to skip.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::query::u32_or_text"
    )]
    pub offset: Option<u32>,
}
