//! Reaction events of a watched channel: `reaction.new`, `reaction.updated` (an
//! `enforce_unique` reaction replaced the user's others) and `reaction.deleted`. Each
//! carries the whole message with its reaction fields already updated (`own_reactions` is
//! empty: it is the recipient's to keep) and the reaction concerned, `user_id` included.

use serde_json::{Map, Value};

use crate::{Message, Reaction, User};

/// Writes the three reaction events, whose bodies are the same.
macro_rules! reaction_event {
    ($(#[$meta:meta])* $ty:ident = $name:literal) => {
        wire_event! {
            $(#[$meta])*
            pub struct $ty = $name, channel {
                /// `<type>:<id>` of the channel.
                pub cid: String,
                /// The channel type.
                #[serde(default)]
                pub channel_type: String,
                /// The channel id.
                #[serde(default)]
                pub channel_id: String,
                /// When it happened (RFC 3339).
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub created_at: Option<String>,
                /// Who reacted.
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub user: Option<User>,
                /// The message as it is now.
                pub message: Message,
                /// The reaction concerned.
                pub reaction: Reaction,
                /// Fields not modelled above.
                #[serde(flatten)]
                pub extra: Map<String, Value>,
            }
        }
    };
}

reaction_event! {
    /// `reaction.new`: a user reacted to a message (or sent the same type again).
    ///
    /// ```
    /// use stream_chat_protocol::events::ReactionNewEvent;
    /// let e: ReactionNewEvent = serde_json::from_str(
    ///     r#"{"type":"reaction.new","cid":"messaging:g","message":{"id":"m1","reaction_counts":{"love":1}},
    ///         "reaction":{"type":"love","user_id":"a","message_id":"m1","score":1}}"#,
    /// ).unwrap();
    /// assert_eq!((e.reaction.user_id.as_str(), e.message.reaction_counts.unwrap()["love"]), ("a", 1));
    /// ```
    ReactionNewEvent = "reaction.new"
}

reaction_event! {
    /// `reaction.updated`: a reaction sent with `enforce_unique` replaced the user's other
    /// reactions on the message (Kotlin's `ReactionUpdateEvent`).
    ///
    /// ```
    /// use stream_chat_protocol::events::ReactionUpdateEvent;
    /// assert_eq!(ReactionUpdateEvent::TYPE, "reaction.updated");
    /// ```
    ReactionUpdateEvent = "reaction.updated"
}

reaction_event! {
    /// `reaction.deleted`: a reaction was removed; `reaction` is the removed one.
    ///
    /// ```
    /// use stream_chat_protocol::events::ReactionDeletedEvent;
    /// assert_eq!(ReactionDeletedEvent::TYPE, "reaction.deleted");
    /// ```
    ReactionDeletedEvent = "reaction.deleted"
}
