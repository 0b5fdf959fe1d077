//! Messages: `send_message`, `update_message`, `delete_message` and `get_message`.

use stream_chat_callbacks::Call;
use stream_chat_protocol::{Message, MessageResponse, SendMessageRequest};

use super::ChannelClient;
use crate::rest::{Request, message_path, new_request_id};

impl ChannelClient {
    /// Sends `message` (text, attachments, custom fields in `extra`) and returns it as the
    /// server stored it. A message without an id gets a client-generated one (a UUID) when
    /// the call is made, so retrying the same call cannot post it twice (the server refuses
    /// a duplicate id with code 4).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let mut message = Message::with_text("Bite my shiny metal ass");
    /// message.extra.insert("mood".into(), serde_json::json!("sarcastic"));
    /// let sent = channel.send_message(message).execute().into_result().unwrap();
    /// assert!(!sent.id.is_empty());
    /// assert_eq!(sent.extra["mood"], "sarcastic");
    /// ```
    pub fn send_message(&self, mut message: Message) -> Call<Message> {
        if message.id.is_empty() {
            message.id = new_request_id();
        }
        let body = SendMessageRequest {
            message,
            ..SendMessageRequest::default()
        };
        let (path, cid, core) = (self.path("message"), self.cid.clone(), self.core.clone());
        #[cfg(feature = "offline")]
        if let Some(offline) = crate::offline::Offline::of(&self.core) {
            // Ordered by when the send was made, not when its call runs.
            let (message, at) = (body.message, crate::offline::stamp());
            return self.core.call(move |rest| {
                let to = (cid.as_str(), path.as_str());
                crate::offline::send_message(&offline, &core, rest, to, message.clone(), at)
            });
        }
        self.core.call(move |rest| {
            // Shown at once, pending; then as the server stored it, or failed.
            let store = core.store();
            store.pending(&cid, &body.message);
            match rest.send::<MessageResponse>(&Request::post(&path, &body)?) {
                Ok(response) => {
                    store.synced(&cid, &response.message);
                    Ok(response.message)
                }
                Err(err) => {
                    store.failed(&cid, &body.message.id);
                    Err(err)
                }
            }
        })
    }

    /// Edits a message (`POST /messages/{id}`): `message.id` names it, and its text,
    /// attachments, mentions and custom fields replace the stored ones. Returns the
    /// message as stored; watchers get `message.updated`
    /// ([`MessageUpdatedEvent`](crate::MessageUpdatedEvent)). Only the author (where they
    /// may post) or an admin may edit it: others get
    /// [`codes::NOT_ALLOWED`](crate::codes::NOT_ALLOWED) (17), HTTP 403.
    /// A message without an id is [`ErrorKind::InvalidArgument`].
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let mut sent = channel.send_message(Message::with_text("helo")).execute().into_result().unwrap();
    /// sent.text = Some("hello".into());
    /// let edited = channel.update_message(sent).execute().into_result().unwrap();
    /// assert_eq!(edited.text.as_deref(), Some("hello"));
    /// ```
    pub fn update_message(&self, message: Message) -> Call<Message> {
        let (cid, core) = (self.cid.clone(), self.core.clone());
        self.core.call(move |rest| {
            let path = message_path(&message.id)?;
            let body = SendMessageRequest {
                message: message.clone(),
                ..SendMessageRequest::default()
            };
            let response: MessageResponse = rest.send(&Request::post(&path, &body)?)?;
            core.store().synced(&cid, &response.message);
            Ok(response.message)
        })
    }

    /// Deletes a message (`DELETE /messages/{id}?hard=..`) and returns it as deleted.
    /// A soft delete keeps it in the channel as `type: "deleted"` with `deleted_at`; a
    /// hard one removes it (a later [`get_message`](Self::get_message) gets code 16, HTTP
    /// 404). Watchers get `message.deleted`
    /// ([`MessageDeletedEvent`](crate::MessageDeletedEvent), with `hard_delete`). The same
    /// permissions as [`update_message`](Self::update_message) apply.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let sent = channel.send_message(Message::with_text("oops")).execute().into_result().unwrap();
    /// let deleted = channel.delete_message(&sent.id, false).execute().into_result().unwrap();
    /// assert_eq!(deleted.kind.as_deref(), Some("deleted"));
    /// ```
    pub fn delete_message(&self, message_id: &str, hard: bool) -> Call<Message> {
        let (id, cid, core) = (message_id.to_owned(), self.cid.clone(), self.core.clone());
        self.core.call(move |rest| {
            let path = message_path(&id)?;
            let req = Request::delete(&path).query("hard", hard.to_string());
            let response: MessageResponse = rest.send(&req)?;
            match hard {
                true => core.store().removed(&cid, &response.message),
                false => core.store().synced(&cid, &response.message),
            }
            Ok(response.message)
        })
    }

    /// One message by id (`GET /messages/{id}`), as stored now: edited text, or
    /// `type: "deleted"` after a soft delete. Unknown (or hard-deleted) ids get code 16,
    /// HTTP 404.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let sent = channel.send_message(Message::with_text("hi")).execute().into_result().unwrap();
    /// let got = channel.get_message(&sent.id).execute().into_result().unwrap();
    /// assert_eq!(got.text.as_deref(), Some("hi"));
    /// ```
    pub fn get_message(&self, message_id: &str) -> Call<Message> {
        let id = message_id.to_owned();
        self.core.call(move |rest| {
            let response: MessageResponse = rest.send(&Request::get(&message_path(&id)?))?;
            Ok(response.message)
        })
    }
}
