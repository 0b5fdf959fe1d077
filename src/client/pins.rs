//! Partial updates and pins at the client level (Kotlin's `ChatClient`): by message id,
//! whatever the channel.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};
use stream_chat_callbacks::Call;
use stream_chat_protocol::{Message, PartialUpdateMessageRequest};

use super::ChatClient;
use crate::channel::pins::{partial_update, pin_body, rfc3339, unpin_body};

impl ChatClient {
    /// Sets and unsets fields of a message (Kotlin's `partialUpdateMessage(messageId, set,
    /// unset)`): `set` writes text, attachments or custom fields, `unset` removes custom
    /// fields. Returns the message as stored; watchers get `message.updated`. Only the
    /// author edits (code 17 otherwise); server-managed fields (`cid`, `user`,
    /// `created_at`, ...) are code 4, a text over the limit code 20.
    ///
    /// ```
    /// use serde_json::{Map, json};
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "partial-doc").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let mut draft = Message::with_text("draft");
    /// draft.extra.insert("mood".into(), json!("meh"));
    /// let sent = channel.send_message(draft).execute().into_result().unwrap();
    /// let set = Map::from_iter([("text".to_owned(), json!("final"))]);
    /// let edited = client.partial_update_message(&sent.id, set, vec!["mood".into()]).execute().into_result().unwrap();
    /// assert_eq!(edited.text.as_deref(), Some("final"));
    /// assert!(!edited.extra.contains_key("mood"));
    /// ```
    pub fn partial_update_message(
        &self,
        message_id: &str,
        set: Map<String, Value>,
        unset: Vec<String>,
    ) -> Call<Message> {
        let body = PartialUpdateMessageRequest {
            set,
            unset,
            ..PartialUpdateMessageRequest::default()
        };
        partial_update(&self.core, message_id, body)
    }

    /// Pins a message until `expiration`, for ever with `None` (Kotlin's
    /// `pinMessage(message, expirationDate)`); see
    /// [`ChannelClient::pin_message`](crate::ChannelClient::pin_message).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "client-pin").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let sent = channel.send_message(Message::with_text("mine")).execute().into_result().unwrap();
    /// let pinned = client.pin_message(&sent, None).execute().into_result().unwrap();
    /// assert_eq!(pinned.pinned, Some(true));
    /// let unpinned = client.unpin_message(&pinned).execute().into_result().unwrap();
    /// assert_eq!(unpinned.pinned, Some(false));
    /// ```
    pub fn pin_message(&self, message: &Message, expiration: Option<SystemTime>) -> Call<Message> {
        let expires = expiration.map_or(Value::Null, |t| json!(rfc3339(t)));
        partial_update(&self.core, &message.id, pin_body(expires))
    }

    /// Pins a message for `timeout` (Kotlin's `pinMessage(message, timeout)`).
    pub fn pin_message_for(&self, message: &Message, timeout: Duration) -> Call<Message> {
        partial_update(
            &self.core,
            &message.id,
            pin_body(json!(timeout.as_secs_f64())),
        )
    }

    /// Unpins a message (Kotlin's `unpinMessage(message)`).
    pub fn unpin_message(&self, message: &Message) -> Call<Message> {
        partial_update(&self.core, &message.id, unpin_body())
    }
}
