//! Pins and partial updates: `pin_message`, `pin_message_for`, `unpin_message`,
//! `get_pinned_messages`, and the `PUT /messages/{id}` they stand on (also used by
//! [`ChatClient::partial_update_message`](crate::ChatClient::partial_update_message)).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use stream_chat_callbacks::Call;
use stream_chat_protocol::{
    Message, MessageResponse, MessagesResponse, PartialUpdateMessageRequest, PinnedMessagesRequest,
    SortParam, time,
};

use super::ChannelClient;
use crate::client::core::Core;
use crate::rest::Request;
use crate::rest::message_path;

/// Where a page of pinned messages starts (Kotlin's `PinnedMessagesPagination`): around,
/// before or after a time the messages were pinned at, or the time a message was pinned.
#[derive(Clone, Debug, PartialEq)]
pub enum PinnedMessagesPagination {
    /// Pinned around this time.
    AroundDate(SystemTime),
    /// Pinned before this time (or at it, when `inclusive`).
    BeforeDate {
        /// The bound.
        date: SystemTime,
        /// Whether a message pinned exactly then is included.
        inclusive: bool,
    },
    /// Pinned after this time (or at it, when `inclusive`).
    AfterDate {
        /// The bound.
        date: SystemTime,
        /// Whether a message pinned exactly then is included.
        inclusive: bool,
    },
    /// Around this pinned message.
    AroundMessage(String),
    /// Pinned before this message was (it too, when `inclusive`).
    BeforeMessage {
        /// The pinned message.
        message_id: String,
        /// Whether it is included.
        inclusive: bool,
    },
    /// Pinned after this message was (it too, when `inclusive`).
    AfterMessage {
        /// The pinned message.
        message_id: String,
        /// Whether it is included.
        inclusive: bool,
    },
}

/// RFC 3339 of a system time.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let nanos = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    };
    time::format_rfc3339(nanos)
}

impl PinnedMessagesPagination {
    fn apply(self, r: &mut PinnedMessagesRequest) {
        use PinnedMessagesPagination::*;
        match self {
            AroundDate(t) => r.pinned_at_around = Some(rfc3339(t)),
            BeforeDate { date, inclusive } => {
                let t = Some(rfc3339(date));
                if inclusive {
                    r.pinned_at_before_or_equal = t;
                } else {
                    r.pinned_at_before = t;
                }
            }
            AfterDate { date, inclusive } => {
                let t = Some(rfc3339(date));
                if inclusive {
                    r.pinned_at_after_or_equal = t;
                } else {
                    r.pinned_at_after = t;
                }
            }
            AroundMessage(id) => r.id_around = Some(id),
            BeforeMessage {
                message_id,
                inclusive,
            } => {
                if inclusive {
                    r.id_lte = Some(message_id);
                } else {
                    r.id_lt = Some(message_id);
                }
            }
            AfterMessage {
                message_id,
                inclusive,
            } => {
                if inclusive {
                    r.id_gte = Some(message_id);
                } else {
                    r.id_gt = Some(message_id);
                }
            }
        }
    }
}

/// `PUT /messages/{id}` with `body`, as a call on `core`.
pub(crate) fn partial_update(
    core: &Core,
    message_id: &str,
    body: PartialUpdateMessageRequest,
) -> Call<Message> {
    let id = message_id.to_owned();
    let owner = core.clone();
    core.call(move |rest| {
        let path = message_path(&id)?;
        let response: MessageResponse = rest.send(&Request::put(&path, &body)?)?;
        owner.store().message_changed(&response.message);
        Ok(response.message)
    })
}

/// The partial update that pins until `expires` (RFC 3339 or seconds; `null` for ever).
pub(crate) fn pin_body(expires: Value) -> PartialUpdateMessageRequest {
    PartialUpdateMessageRequest::set([("pinned", json!(true)), ("pin_expires", expires)])
}

/// The partial update that unpins.
pub(crate) fn unpin_body() -> PartialUpdateMessageRequest {
    PartialUpdateMessageRequest::set([("pinned", json!(false))])
}

impl ChannelClient {
    /// Pins a message until `expiration` (for ever with `None`), as Kotlin's
    /// `pinMessage(message, expirationDate)`: `pinned`, `pinned_at`, `pinned_by` are set;
    /// watchers get `message.updated`. An expiration not in the future is code 4. A member
    /// may pin any message of a messaging channel; in livestream only one's own.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pin-doc").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// let sent = channel.send_message(Message::with_text("read me")).execute().into_result().unwrap();
    /// let tomorrow = SystemTime::now() + Duration::from_secs(86_400);
    /// let pinned = channel.pin_message(&sent, Some(tomorrow)).execute().into_result().unwrap();
    /// assert_eq!((pinned.pinned, pinned.pinned_by.unwrap().id.as_str()), (Some(true), "bender"));
    /// assert!(pinned.pin_expires.is_some());
    /// ```
    pub fn pin_message(&self, message: &Message, expiration: Option<SystemTime>) -> Call<Message> {
        let expires = expiration.map_or(Value::Null, |t| json!(rfc3339(t)));
        partial_update(&self.core, &message.id, pin_body(expires))
    }

    /// Pins a message for `timeout` (Kotlin's `pinMessage(message, timeout)`, seconds).
    ///
    /// ```
    /// use std::time::Duration;
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pin-for-doc").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// let sent = channel.send_message(Message::with_text("for an hour")).execute().into_result().unwrap();
    /// let pinned = channel.pin_message_for(&sent, Duration::from_secs(3600)).execute().into_result().unwrap();
    /// assert!(pinned.pin_expires.is_some());
    /// ```
    pub fn pin_message_for(&self, message: &Message, timeout: Duration) -> Call<Message> {
        partial_update(
            &self.core,
            &message.id,
            pin_body(json!(timeout.as_secs_f64())),
        )
    }

    /// Unpins a message (Kotlin's `unpinMessage(message)`): `pinned: false`, no pin fields.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "unpin-doc").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// let sent = channel.send_message(Message::with_text("hi")).execute().into_result().unwrap();
    /// channel.pin_message(&sent, None).execute().into_result().unwrap();
    /// let unpinned = channel.unpin_message(&sent).execute().into_result().unwrap();
    /// assert_eq!((unpinned.pinned, unpinned.pinned_at), (Some(false), None));
    /// ```
    pub fn unpin_message(&self, message: &Message) -> Call<Message> {
        partial_update(&self.core, &message.id, unpin_body())
    }

    /// A page of the channel's pinned messages (Kotlin's `getPinnedMessages(limit, sort,
    /// pagination)`): expired pins are left out; in `pinned_at` order, newest first
    /// unless `sort` says `pinned_at` ascending (`direction: 1`).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, PinnedMessagesPagination, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pinned-doc").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// let mut ids = Vec::new();
    /// for text in ["one", "two", "three"] {
    ///     let m = channel.send_message(Message::with_text(text)).execute().into_result().unwrap();
    ///     channel.pin_message(&m, None).execute().into_result().unwrap();
    ///     ids.push(m.id);
    /// }
    /// let newest = channel.get_pinned_messages(2, Vec::new(), None).execute().into_result().unwrap();
    /// assert_eq!(newest.iter().map(|m| m.text()).collect::<Vec<_>>(), ["three", "two"]);
    /// let before = PinnedMessagesPagination::BeforeMessage { message_id: ids[1].clone(), inclusive: false };
    /// let older = channel.get_pinned_messages(10, Vec::new(), Some(before)).execute().into_result().unwrap();
    /// assert_eq!(older[0].text(), "one");
    /// ```
    pub fn get_pinned_messages(
        &self,
        limit: u32,
        sort: Vec<SortParam>,
        pagination: Option<PinnedMessagesPagination>,
    ) -> Call<Vec<Message>> {
        let mut request = PinnedMessagesRequest {
            limit: Some(limit),
            sort,
            extra: Map::new(),
            ..PinnedMessagesRequest::default()
        };
        if let Some(p) = pagination {
            p.apply(&mut request);
        }
        let path = self.path("pinned_messages");
        self.core.call(move |rest| {
            let payload = serde_json::to_string(&request).unwrap_or_default();
            let req = Request::get(&path).query("payload", payload);
            let response: MessagesResponse = rest.send(&req)?;
            Ok(response.messages)
        })
    }
}
