// Over 700 lines: the request and response bodies of every channel endpoint, one plain struct each.
//! Channels, members, read states and the channel query endpoints.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Event, Message, User};

/// A channel as returned by the API.
///
/// ```
/// let c: stream_chat_protocol::Channel =
///     serde_json::from_str(r#"{"id":"general","type":"messaging","cid":"messaging:general","color":"red"}"#).unwrap();
/// assert_eq!(c.kind, "messaging");
/// assert_eq!(c.extra["color"], "red");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    /// Channel id.
    #[serde(default)]
    pub id: String,
    /// Channel type, e.g. `messaging`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// `<type>:<id>`.
    #[serde(default)]
    pub cid: String,
    /// Creation time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Time of the last message, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_at: Option<String>,
    /// The creator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<User>,
    /// Whether the channel is frozen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frozen: Option<bool>,
    /// Whether the channel is disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// Number of members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_count: Option<u64>,
    /// The channel type's configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ChannelConfig>,
    /// What the caller may do in this channel (`send-message`, `read-events`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_capabilities: Option<Vec<String>>,
    /// Whether the channel is hidden for the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<bool>,
    /// Slow mode: seconds a user waits between two messages (absent or 0: off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<u32>,
    /// Messages created before this time were truncated away (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated_at: Option<String>,
    /// Who truncated the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated_by: Option<User>,
    /// When the channel was deleted (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// Custom fields (`name`, `image`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A channel type's configuration (`channel.config`). Fields not modelled stay in `extra`.
///
/// ```
/// let c: stream_chat_protocol::ChannelConfig =
///     serde_json::from_str(r#"{"name":"messaging","read_events":true,"polls":true}"#).unwrap();
/// assert!(c.read_events && !c.typing_events);
/// assert_eq!(c.extra["polls"], true);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelConfig {
    /// The channel type name.
    #[serde(default)]
    pub name: String,
    /// Typing events enabled.
    #[serde(default)]
    pub typing_events: bool,
    /// Read events enabled (needed for mark-read).
    #[serde(default)]
    pub read_events: bool,
    /// Connect events (`user.watching.*`, presence) enabled.
    #[serde(default)]
    pub connect_events: bool,
    /// Delivery receipts enabled; clients then call `/channels/delivered`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_events: Option<bool>,
    /// Search enabled.
    #[serde(default)]
    pub search: bool,
    /// Reactions enabled.
    #[serde(default)]
    pub reactions: bool,
    /// Replies enabled.
    #[serde(default)]
    pub replies: bool,
    /// Quotes enabled.
    #[serde(default)]
    pub quotes: bool,
    /// Mutes enabled.
    #[serde(default)]
    pub mutes: bool,
    /// Uploads enabled.
    #[serde(default)]
    pub uploads: bool,
    /// URL enrichment enabled.
    #[serde(default)]
    pub url_enrichment: bool,
    /// Custom events enabled.
    #[serde(default)]
    pub custom_events: bool,
    /// Push notifications enabled.
    #[serde(default)]
    pub push_notifications: bool,
    /// Message retention, e.g. `infinite`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_retention: Option<String>,
    /// Longest message, in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_message_length: Option<u32>,
    /// Automod setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automod: Option<String>,
    /// Slash commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<Value>>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Other settings.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A channel member.
///
/// ```
/// let m: stream_chat_protocol::Member = serde_json::from_str(r#"{"user_id":"a","role":"owner"}"#).unwrap();
/// assert_eq!(m.role.as_deref(), Some("owner"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The member's user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The member's user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// `member`, `invited`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `member`, `owner`, `moderator`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// `channel_member`, `channel_moderator`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_role: Option<String>,
    /// Banned from the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banned: Option<bool>,
    /// Shadow-banned in the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow_banned: Option<bool>,
    /// Notifications muted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications_muted: Option<bool>,
    /// A channel moderator (`channel_role` is `channel_moderator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_moderator: Option<bool>,
    /// Invited to the channel (then `status` is `pending` until the invite is answered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited: Option<bool>,
    /// When the invite was accepted (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_accepted_at: Option<String>,
    /// When the invite was rejected (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_rejected_at: Option<String>,
    /// When a timed channel ban ends (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ban_expires: Option<String>,
    /// When the member pinned the channel (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_at: Option<String>,
    /// When the member archived the channel (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<String>,
    /// When the member was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A user's read state in a channel.
///
/// ```
/// let r: stream_chat_protocol::Read =
///     serde_json::from_str(r#"{"user":{"id":"a"},"last_read":"2025-01-01T00:00:00Z","unread_messages":2}"#).unwrap();
/// assert_eq!(r.unread_messages, 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Read {
    /// The reader.
    pub user: User,
    /// When the user last read the channel.
    #[serde(default)]
    pub last_read: String,
    /// Unread messages since.
    #[serde(default)]
    pub unread_messages: u64,
    /// The last message read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_read_message_id: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The state of one channel: the response of `POST /channels/{type}/{id}/query` and each
/// element of a query-channels response. `messages` is always present.
///
/// ```
/// let s: stream_chat_protocol::ChannelState =
///     serde_json::from_str(r#"{"channel":{"id":"g","type":"messaging","cid":"messaging:g"}}"#).unwrap();
/// assert!(s.messages.is_empty());
/// assert_eq!(serde_json::to_value(&s).unwrap()["messages"], serde_json::json!([]));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelState {
    /// The channel.
    pub channel: Channel,
    /// Messages, oldest first.
    #[serde(default)]
    pub messages: Vec<Message>,
    /// Pinned messages.
    #[serde(default)]
    pub pinned_messages: Vec<Message>,
    /// Members.
    #[serde(default)]
    pub members: Vec<Member>,
    /// The caller's membership, `null` when not a member.
    #[serde(default)]
    pub membership: Option<Member>,
    /// Read states.
    #[serde(default)]
    pub read: Vec<Read>,
    /// Number of watching connections.
    #[serde(default)]
    pub watcher_count: u64,
    /// Watching users.
    #[serde(default)]
    pub watchers: Vec<User>,
    /// Server-side processing time (absent inside query-channels responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Other fields (`threads`, `hidden`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Custom channel data in query requests: `members`, `created_by(_id)` and custom fields.
///
/// ```
/// let d: stream_chat_protocol::ChannelRequestData =
///     serde_json::from_str(r#"{"members":["a",{"user_id":"b"}],"name":"N"}"#).unwrap();
/// assert_eq!(d.member_ids(), vec!["a".to_string(), "b".to_string()]);
/// assert_eq!(d.extra["name"], "N");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelRequestData {
    /// Members: user ids, or objects with `user_id` / `user.id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<Value>>,
    /// The creator (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<User>,
    /// The creator's id (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_id: Option<String>,
    /// Custom fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChannelRequestData {
    /// The member ids, in order, whichever form they were given in.
    ///
    /// ```
    /// assert!(stream_chat_protocol::ChannelRequestData::default().member_ids().is_empty());
    /// ```
    pub fn member_ids(&self) -> Vec<String> {
        self.members
            .iter()
            .flatten()
            .filter_map(|m| match m {
                Value::String(id) => Some(id.clone()),
                Value::Object(o) => o
                    .get("user_id")
                    .or_else(|| o.get("user").and_then(|u| u.get("id")))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                _ => None,
            })
            .collect()
    }
}

/// Message pagination of a channel query: by id (`id_lt`, …), by time (`created_at_*`, RFC 3339
/// strings) or by position (`limit`, `offset`). Unset fields are left out of the JSON.
///
/// ```
/// use stream_chat_protocol::MessagePagination;
///
/// let p: MessagePagination = serde_json::from_str(r#"{"limit":10,"id_lt":"m5"}"#).unwrap();
/// assert_eq!((p.limit, p.id_lt.as_deref()), (Some(10), Some("m5")));
/// assert_eq!(MessagePagination::before("m5", 10), p);
///
/// let by_time = MessagePagination {
///     created_at_after: Some("2025-01-01T00:00:00Z".into()),
///     ..MessagePagination::latest(50)
/// };
/// assert_eq!(
///     serde_json::to_string(&by_time).unwrap(),
///     r#"{"limit":50,"created_at_after":"2025-01-01T00:00:00Z"}"#
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MessagePagination {
    /// Page size.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::query::u32_or_text"
    )]
    pub limit: Option<u32>,
    /// Skip this many (newest first).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::query::u32_or_text"
    )]
    pub offset: Option<u32>,
    /// Messages older than this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_lt: Option<String>,
    /// Messages older than or equal to this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_lte: Option<String>,
    /// Messages newer than this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_gt: Option<String>,
    /// Messages newer than or equal to this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_gte: Option<String>,
    /// Messages around this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_around: Option<String>,
    /// Messages created before this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_before: Option<String>,
    /// Messages created at or before this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_before_or_equal: Option<String>,
    /// Messages created after this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_after: Option<String>,
    /// Messages created at or after this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_after_or_equal: Option<String>,
    /// Messages created around this time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_around: Option<String>,
    /// Other pagination keys. Keys modelled above belong in their fields, not here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MessagePagination {
    /// The newest `limit` messages.
    ///
    /// ```
    /// let p = stream_chat_protocol::MessagePagination::latest(25);
    /// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"limit":25}"#);
    /// ```
    pub fn latest(limit: u32) -> Self {
        MessagePagination {
            limit: Some(limit),
            ..MessagePagination::default()
        }
    }

    /// Up to `limit` messages older than message `id` (`id_lt`): the page before it.
    ///
    /// ```
    /// let p = stream_chat_protocol::MessagePagination::before("m5", 10);
    /// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"limit":10,"id_lt":"m5"}"#);
    /// ```
    pub fn before(id: impl Into<String>, limit: u32) -> Self {
        MessagePagination {
            id_lt: Some(id.into()),
            ..MessagePagination::latest(limit)
        }
    }

    /// Up to `limit` messages newer than message `id` (`id_gt`): the page after it.
    ///
    /// ```
    /// let p = stream_chat_protocol::MessagePagination::after("m5", 10);
    /// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"limit":10,"id_gt":"m5"}"#);
    /// ```
    pub fn after(id: impl Into<String>, limit: u32) -> Self {
        MessagePagination {
            id_gt: Some(id.into()),
            ..MessagePagination::latest(limit)
        }
    }

    /// Up to `limit` messages centred on message `id` (`id_around`).
    ///
    /// ```
    /// let p = stream_chat_protocol::MessagePagination::around("m5", 10);
    /// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"limit":10,"id_around":"m5"}"#);
    /// ```
    pub fn around(id: impl Into<String>, limit: u32) -> Self {
        MessagePagination {
            id_around: Some(id.into()),
            ..MessagePagination::latest(limit)
        }
    }
}

/// Body of `POST /channels/{type}/{id}/query` (and `/channels/{type}/query`).
///
/// ```
/// let q: stream_chat_protocol::QueryChannelRequest =
///     serde_json::from_str(r#"{"data":{},"state":true,"watch":true,"presence":false}"#).unwrap();
/// assert_eq!(q.watch, Some(true));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryChannelRequest {
    /// Channel data used when creating it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<ChannelRequestData>,
    /// Return the state (messages, members, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<bool>,
    /// Subscribe the calling connection to the channel's events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<bool>,
    /// Subscribe to presence changes of the channel's users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<bool>,
    /// Message pagination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<MessagePagination>,
    /// Member pagination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Value>,
    /// Watcher pagination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watchers: Option<Value>,
    /// Other options.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl QueryChannelRequest {
    /// Watch the channel: `state` and `watch` on, `presence` off, as the official clients'
    /// `watch()` sends it.
    ///
    /// ```
    /// let q = stream_chat_protocol::QueryChannelRequest::watch();
    /// assert_eq!(
    ///     serde_json::to_string(&q).unwrap(),
    ///     r#"{"state":true,"watch":true,"presence":false}"#
    /// );
    /// ```
    pub fn watch() -> Self {
        QueryChannelRequest {
            state: Some(true),
            watch: Some(true),
            presence: Some(false),
            ..QueryChannelRequest::default()
        }
    }

    /// The same request with this message pagination.
    ///
    /// ```
    /// use stream_chat_protocol::{MessagePagination, QueryChannelRequest};
    /// let q = QueryChannelRequest::watch().with_messages(MessagePagination::before("m5", 20));
    /// assert_eq!(q.messages.unwrap().id_lt.as_deref(), Some("m5"));
    /// ```
    pub fn with_messages(mut self, messages: MessagePagination) -> Self {
        self.messages = Some(messages);
        self
    }

    /// The same request with this channel data (used when the query creates the channel).
    ///
    /// ```
    /// use stream_chat_protocol::{ChannelRequestData, QueryChannelRequest};
    /// let data = ChannelRequestData {
    ///     members: Some(vec!["alice".into(), "bob".into()]),
    ///     ..ChannelRequestData::default()
    /// };
    /// let q = QueryChannelRequest::default().with_data(data);
    /// assert_eq!(serde_json::to_string(&q).unwrap(), r#"{"data":{"members":["alice","bob"]}}"#);
    /// ```
    pub fn with_data(mut self, data: ChannelRequestData) -> Self {
        self.data = Some(data);
        self
    }
}

/// One sort criterion: `{field, direction}` with direction 1 or -1.
///
/// ```
/// let s: stream_chat_protocol::SortParam = serde_json::from_str(r#"{"field":"last_message_at","direction":-1}"#).unwrap();
/// assert_eq!(s.direction, -1);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SortParam {
    /// The field to sort on.
    pub field: String,
    /// 1 ascending, -1 descending.
    #[serde(default = "ascending")]
    pub direction: i32,
}

fn ascending() -> i32 {
    1
}

/// Body of `POST /channels` (query channels).
///
/// ```
/// let q: stream_chat_protocol::QueryChannelsRequest = serde_json::from_str(
///     r#"{"filter_conditions":{"cid":{"$in":["messaging:a"]}},"sort":[{"field":"last_message_at","direction":-1}],"limit":30}"#,
/// ).unwrap();
/// assert_eq!(q.limit, Some(30));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryChannelsRequest {
    /// Mongo-like filter.
    #[serde(default)]
    pub filter_conditions: Map<String, Value>,
    /// Sort criteria.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<SortParam>,
    /// Return each channel's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<bool>,
    /// Watch the returned channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<bool>,
    /// Subscribe to presence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<bool>,
    /// Page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Page offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// Messages per channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_limit: Option<u32>,
    /// Members per channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_limit: Option<u32>,
    /// Other options.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl QueryChannelsRequest {
    /// The same request with the filter condition `key` set to `condition` (a value for
    /// equality, or an operator object such as `{"$in": [...]}`), replacing one on that key.
    ///
    /// ```
    /// use serde_json::json;
    /// use stream_chat_protocol::QueryChannelsRequest;
    ///
    /// let q = QueryChannelsRequest::default()
    ///     .filter("type", "messaging")
    ///     .filter("members", json!({"$in": ["alice"]}));
    /// assert_eq!(
    ///     serde_json::to_value(&q.filter_conditions).unwrap(),
    ///     json!({"type": "messaging", "members": {"$in": ["alice"]}})
    /// );
    /// ```
    pub fn filter(mut self, key: impl Into<String>, condition: impl Into<Value>) -> Self {
        self.filter_conditions.insert(key.into(), condition.into());
        self
    }

    /// The same request with one more sort criterion (`direction` 1 ascending, -1 descending).
    ///
    /// ```
    /// let q = stream_chat_protocol::QueryChannelsRequest::default().sort_by("last_message_at", -1);
    /// assert_eq!(q.sort[0].field, "last_message_at");
    /// ```
    pub fn sort_by(mut self, field: impl Into<String>, direction: i32) -> Self {
        self.sort.push(SortParam {
            field: field.into(),
            direction,
        });
        self
    }

    /// The same request with a page size and offset.
    ///
    /// ```
    /// let q = stream_chat_protocol::QueryChannelsRequest::default().page(10, 20);
    /// assert_eq!((q.limit, q.offset), (Some(10), Some(20)));
    /// ```
    pub fn page(mut self, limit: u32, offset: u32) -> Self {
        self.limit = Some(limit);
        self.offset = Some(offset);
        self
    }

    /// The same request watching the channels it returns (`state` and `watch` on, `presence`
    /// off).
    ///
    /// ```
    /// let q = stream_chat_protocol::QueryChannelsRequest::default().watching();
    /// assert_eq!((q.state, q.watch, q.presence), (Some(true), Some(true), Some(false)));
    /// ```
    pub fn watching(mut self) -> Self {
        self.state = Some(true);
        self.watch = Some(true);
        self.presence = Some(false);
        self
    }
}

/// Response of `POST /channels`.
///
/// ```
/// let r: stream_chat_protocol::QueryChannelsResponse = serde_json::from_str(r#"{"channels":[],"duration":"1ms"}"#).unwrap();
/// assert!(r.channels.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryChannelsResponse {
    /// The matching channels.
    pub channels: Vec<ChannelState>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}

/// Body of `POST /channels/{type}/{id}/read`: up to which message (the newest when absent),
/// and for server-side calls the user who read.
///
/// ```
/// let r: stream_chat_protocol::MarkReadRequest =
///     serde_json::from_str(r#"{"message_id":"m1","user_id":"a"}"#).unwrap();
/// assert_eq!((r.message_id.as_deref(), r.user_id.as_deref()), (Some("m1"), Some("a")));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MarkReadRequest {
    /// The last message read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The reader (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The reader as an object (server-side calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Mark this thread (its parent message's id) read instead of the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
}

/// Body of `POST /channels/{type}/{id}/event`: a typing or custom event for the watchers
/// (server-side calls name the user in `event.user` or `event.user_id`).
///
/// ```
/// let r: stream_chat_protocol::SendEventRequest =
///     serde_json::from_str(r#"{"event":{"type":"typing.start"}}"#).unwrap();
/// assert_eq!(r.event.unwrap().kind, "typing.start");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SendEventRequest {
    /// The event: its `type` and any fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Event>,
}
