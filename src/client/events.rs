//! Typing and custom events at the client level (Kotlin's `ChatClient`): the channel's
//! calls by type and id, and custom events to one user.

use serde_json::{Map, Value};
use stream_chat_callbacks::{Call, ChatError, ErrorKind};
use stream_chat_protocol::{Event, SendEventRequest, TypingStartEvent, TypingStopEvent};

use super::ChatClient;
use crate::rest::Request;

impl ChatClient {
    /// [`ChannelClient::keystroke`](crate::ChannelClient::keystroke) on
    /// `channel_type:channel_id` (Kotlin's `keystroke(channelType, channelId, parentId)`).
    pub fn keystroke(
        &self,
        channel_type: &str,
        channel_id: &str,
        parent_id: Option<&str>,
    ) -> Call<Option<TypingStartEvent>> {
        match self.channel(channel_type, channel_id) {
            Ok(channel) => channel.keystroke(parent_id),
            Err(e) => self.failed(e),
        }
    }

    /// [`ChannelClient::stop_typing`](crate::ChannelClient::stop_typing) on
    /// `channel_type:channel_id` (Kotlin's `stopTyping(channelType, channelId, parentId)`).
    pub fn stop_typing(
        &self,
        channel_type: &str,
        channel_id: &str,
        parent_id: Option<&str>,
    ) -> Call<TypingStopEvent> {
        match self.channel(channel_type, channel_id) {
            Ok(channel) => channel.stop_typing(parent_id),
            Err(e) => self.failed(e),
        }
    }

    /// [`ChannelClient::send_event`](crate::ChannelClient::send_event) on
    /// `channel_type:channel_id` (Kotlin's `sendEvent(eventType, channelType, channelId,
    /// extraData)`).
    pub fn send_event(
        &self,
        event_type: &str,
        channel_type: &str,
        channel_id: &str,
        extra: Map<String, Value>,
    ) -> Call<Event> {
        match self.channel(channel_type, channel_id) {
            Ok(channel) => channel.send_event(event_type, extra),
            Err(e) => self.failed(e),
        }
    }

    /// Sends a custom event to every connection of user `user_id` (JS
    /// `sendUserCustomEvent`, `POST /users/{id}/event`). Stream allows it with server-side
    /// auth only: a user token gets [`codes::NOT_ALLOWED`](crate::codes::NOT_ALLOWED) (17),
    /// HTTP 403. The type may not contain `.` (code 4); an unknown user is code 16.
    ///
    /// ```
    /// use serde_json::Map;
    /// use stream_chat_client::{ChatClient, User, codes};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let refused = client.send_user_custom_event("fry", "friendship_request", Map::new()).execute();
    /// assert_eq!(refused.error().stream_code(), Some(codes::NOT_ALLOWED));
    /// ```
    pub fn send_user_custom_event(
        &self,
        user_id: &str,
        event_type: &str,
        extra: Map<String, Value>,
    ) -> Call<()> {
        let body = SendEventRequest {
            event: Some(Event {
                extra,
                ..Event::new(event_type)
            }),
        };
        let id = user_id.to_owned();
        self.core.call(move |rest| {
            if id.is_empty() || id.contains(['/', '?', '#', '%']) {
                return Err(ChatError::new(
                    ErrorKind::InvalidArgument,
                    format!("invalid user id '{id}'"),
                ));
            }
            let path = format!("users/{id}/event");
            let _: Value = rest.send(&Request::post(&path, &body)?)?;
            Ok(())
        })
    }
}
