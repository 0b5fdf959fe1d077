//! Reads: `mark_read`, `mark_message_read`, `mark_unread`.

use serde::Deserialize;
use serde_json::{Map, Value};
use stream_chat_callbacks::Call;
use stream_chat_protocol::events::AnyEvent;
use stream_chat_protocol::{MarkReadRequest, MarkUnreadRequest};

use super::ChannelClient;
use crate::events::from_server;
use crate::rest::Request;

/// What `POST …/read` answers: the `message.read` event it sent.
#[derive(Deserialize)]
struct MarkReadResponse {
    event: Option<AnyEvent>,
}

impl ChannelClient {
    /// Marks the channel read for the user (`message.read` goes to the watchers). The
    /// state shows the channel read when the call returns (the answer's `message.read` is
    /// applied then; the user's total arrives with `notification.mark_read`).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// channel.mark_read().execute().into_result().unwrap();
    /// ```
    pub fn mark_read(&self) -> Call<()> {
        let path = self.path("read");
        let core = self.core.clone();
        self.core.call(move |rest| {
            let response: MarkReadResponse = rest.send(&Request::post(&path, &Map::new())?)?;
            if let Some(event) = response.event {
                core.store().answered(&from_server(event));
            }
            Ok(())
        })
    }

    /// Marks the channel read up to `message_id` (Kotlin's `markMessageRead`): the messages
    /// after it stay unread. An unknown message is Stream's code 16.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// let first = channel.send_message(Message::with_text("one")).execute().into_result().unwrap();
    /// channel.mark_message_read(&first.id).execute().into_result().unwrap();
    /// ```
    pub fn mark_message_read(&self, message_id: &str) -> Call<()> {
        let path = self.path("read");
        let body = MarkReadRequest {
            message_id: Some(message_id.to_owned()),
            ..MarkReadRequest::default()
        };
        self.core.call(move |rest| {
            let _: Value = rest.send(&Request::post(&path, &body)?)?;
            Ok(())
        })
    }

    /// Marks the channel unread from `message_id` on (it and every later message; one of
    /// the newest 100). The user's connections get `notification.mark_unread` with the new
    /// counts.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender", "fry"]).execute().into_result().unwrap();
    /// let first = channel.send_message(Message::with_text("one")).execute().into_result().unwrap();
    /// channel.mark_unread(&first.id).execute().into_result().unwrap();
    /// ```
    pub fn mark_unread(&self, message_id: &str) -> Call<()> {
        let path = self.path("unread");
        let body = MarkUnreadRequest {
            message_id: Some(message_id.to_owned()),
            ..MarkUnreadRequest::default()
        };
        self.core.call(move |rest| {
            let _: Value = rest.send(&Request::post(&path, &body)?)?;
            Ok(())
        })
    }
}
