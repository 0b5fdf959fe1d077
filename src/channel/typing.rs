//! Typing and custom events: `keystroke` (throttled `typing.start`, then an automatic
//! `typing.stop` after silence), `stop_typing`, `send_event`.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use stream_chat_callbacks::{Call, ChatError, ErrorKind, Expire};
use stream_chat_protocol::events::types;
use stream_chat_protocol::{Event, SendEventRequest, TypingStartEvent, TypingStopEvent};

use super::ChannelClient;
use crate::client::core::WeakCore;
use crate::client::typing::{TYPING_STOP_AFTER, key};
use crate::rest::Request;

/// The response of the event endpoint: the event as the watchers got it.
#[derive(serde::Deserialize)]
struct EventResponse<T> {
    event: T,
}

/// The automatic `typing.stop` of one channel (or thread), armed by a keystroke.
struct AutoStop {
    core: WeakCore,
    channel: (String, String),
    parent_id: Option<String>,
    key: String,
    /// Whether it fired.
    fired: Mutex<bool>,
}

impl Expire for AutoStop {
    fn expire(&self) {
        *self.fired.lock().unwrap_or_else(|e| e.into_inner()) = true;
        let Some(core) = self.core.upgrade() else {
            return;
        };
        if !core.typing().take_stop(&self.key, self) {
            return; // a newer keystroke armed another stop, or stop_typing ran
        }
        let (kind, id) = &self.channel;
        let channel = ChannelClient::new(core, kind, id);
        // Sent on the client's pool, not on the timer thread.
        channel
            .send_typing::<TypingStopEvent>(types::TYPING_STOP, self.parent_id.clone())
            .enqueue(|result| {
                if let Some(e) = result.error_or_none() {
                    log::debug!("the automatic typing.stop failed: {e}");
                }
            });
    }

    fn is_done(&self) -> bool {
        *self.fired.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ChannelClient {
    /// Call on every keystroke of the message input (Kotlin's `keystroke(parentId)`):
    /// sends `typing.start` ([`TypingStartEvent`], with `parent_id` in a thread) at most
    /// once per [`TYPING_START_INTERVAL`](crate::TYPING_START_INTERVAL), and `typing.stop`
    /// by itself after [`TYPING_STOP_AFTER`](crate::TYPING_STOP_AFTER) without one, as the
    /// official clients do. The stop waits on the shared timer thread: no thread per
    /// channel. Returns the event sent, or `None` when the keystroke fell within the
    /// interval (Kotlin fails the call then). A channel type without typing events
    /// (`livestream` by default) refuses with
    /// [`codes::CHANNEL_FEATURE_NOT_SUPPORTED`](crate::codes::CHANNEL_FEATURE_NOT_SUPPORTED)
    /// (19).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "typing-doc").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// let sent = channel.keystroke(None).execute().into_result().unwrap();
    /// assert_eq!(sent.unwrap().user.unwrap().id, "bender");
    /// assert!(channel.keystroke(None).execute().into_result().unwrap().is_none(), "throttled");
    /// channel.stop_typing(None).execute().into_result().unwrap();
    /// ```
    pub fn keystroke(&self, parent_id: Option<&str>) -> Call<Option<TypingStartEvent>> {
        let parent_id = parent_id.map(str::to_owned);
        let channel = self.clone();
        let key = key(&self.cid, parent_id.as_deref());
        self.core.call(move |rest| {
            let stop: Arc<dyn Expire> = Arc::new(AutoStop {
                core: channel.core.downgrade(),
                channel: (channel.channel_type.clone(), channel.channel_id.clone()),
                parent_id: parent_id.clone(),
                key: key.clone(),
                fired: Mutex::new(false),
            });
            let now = Instant::now();
            let keystroke = channel
                .core
                .typing()
                .keystroke(&key, now, Arc::clone(&stop));
            channel
                .core
                .schedule(now + TYPING_STOP_AFTER, Arc::downgrade(&stop));
            if !keystroke.send_start {
                return Ok(None);
            }
            let body = typing_body(types::TYPING_START, parent_id.clone());
            let response: EventResponse<TypingStartEvent> =
                rest.send(&Request::post(&channel.path("event"), &body)?)?;
            Ok(Some(response.event))
        })
    }

    /// Sends `typing.stop` now (with `parent_id` in a thread) and forgets the typing state,
    /// so the next [`keystroke`](Self::keystroke) starts again at once (Kotlin's
    /// `stopTyping(parentId)`).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "stop-doc").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// let stop = channel.stop_typing(Some("parent-1")).execute().into_result().unwrap();
    /// assert_eq!(stop.parent_id.as_deref(), Some("parent-1"));
    /// ```
    pub fn stop_typing(&self, parent_id: Option<&str>) -> Call<TypingStopEvent> {
        let parent_id = parent_id.map(str::to_owned);
        let channel = self.clone();
        let key = key(&self.cid, parent_id.as_deref());
        self.core.call(move |rest| {
            channel.core.typing().stopped(&key);
            let body = typing_body(types::TYPING_STOP, parent_id.clone());
            let response: EventResponse<TypingStopEvent> =
                rest.send(&Request::post(&channel.path("event"), &body)?)?;
            Ok(response.event)
        })
    }

    /// Sends a custom event to the channel's watchers (Kotlin's `sendEvent(eventType,
    /// extraData)`): `extra` becomes top-level fields of the event. Returns the event as
    /// the watchers got it (with `user`, `cid`, `created_at`). Types of the server's event
    /// families (`message.*`, `reaction.*`, ...) are refused with
    /// [`codes::EVENT_NOT_SUPPORTED`](crate::codes::EVENT_NOT_SUPPORTED) (18); an empty
    /// type is [`ErrorKind::InvalidArgument`].
    ///
    /// ```
    /// use serde_json::{Map, json};
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "custom-doc").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let extra = Map::from_iter([("text".to_owned(), json!("Hey there"))]);
    /// let event = channel.send_event("friendship_request", extra).execute().into_result().unwrap();
    /// assert_eq!((event.kind.as_str(), event.extra["text"].as_str()), ("friendship_request", Some("Hey there")));
    /// ```
    pub fn send_event(&self, event_type: &str, extra: Map<String, Value>) -> Call<Event> {
        let body = SendEventRequest {
            event: Some(Event {
                kind: event_type.to_owned(),
                extra,
                ..Event::default()
            }),
        };
        let path = self.path("event");
        self.core.call(move |rest| {
            if body.event.as_ref().is_none_or(|e| e.kind.is_empty()) {
                return Err(ChatError::new(
                    ErrorKind::InvalidArgument,
                    "an event needs a type",
                ));
            }
            let response: EventResponse<Event> = rest.send(&Request::post(&path, &body)?)?;
            Ok(response.event)
        })
    }

    /// A typing event of type `kind` now, as a call (the automatic stop uses it).
    fn send_typing<T: DeserializeOwned + Send + 'static>(
        &self,
        kind: &'static str,
        parent_id: Option<String>,
    ) -> Call<T> {
        let body = typing_body(kind, parent_id);
        let path = self.path("event");
        self.core.call(move |rest| {
            let response: EventResponse<T> = rest.send(&Request::post(&path, &body)?)?;
            Ok(response.event)
        })
    }
}

/// `{"event": {"type": kind, "parent_id"?: ..}}`.
fn typing_body(kind: &str, parent_id: Option<String>) -> SendEventRequest {
    SendEventRequest::typing(kind, parent_id.as_deref())
}
