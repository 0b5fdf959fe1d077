//! [`ClientState`]: the current user, connection, unread totals, every channel the store
//! keeps and the channel list of each `query_channels` query, kept sorted.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use stream_chat_protocol::names::channel_sort;
use stream_chat_protocol::time::parse_rfc3339;
use stream_chat_protocol::{ChannelMute, Mute, QueryChannelsRequest, SortParam, User};

use super::channel::ChannelState;
use crate::connection::ConnectionState;

/// The channel list of one `query_channels` query (its filter and sort): the cids in the
/// query's order, kept sorted and updated by events.
///
/// Events bring channels in (`notification.message_new`, `notification.added_to_channel`,
/// `channel.visible`) and take them out (`channel.deleted`, `notification.channel_deleted`,
/// `channel.hidden`, `notification.removed_from_channel`), as Android's default
/// `ChatEventHandler` does: the filter is not evaluated locally.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryChannelsState {
    /// The query's filter.
    pub filter: Map<String, Value>,
    /// The query's sort (empty: Stream's default, `last_updated` descending).
    pub sort: Vec<SortParam>,
    /// The channels, in order.
    pub cids: Vec<String>,
}

impl QueryChannelsState {
    pub(crate) fn matches(&self, request: &QueryChannelsRequest) -> bool {
        self.filter == request.filter_conditions && self.sort == request.sort
    }
}

/// Everything the store keeps, as one immutable snapshot shared through an `Arc`: get
/// the current one with [`ChatClient::state`](crate::ChatClient::state), or each new one
/// with [`ChatClient::observe`](crate::ChatClient::observe).
///
/// Kotlin's `ClientState` (`user`, `connectionState`, `totalUnreadCount`,
/// `channelUnreadCount`, `muted`, `channelMutes`) plus the channels and query lists of its
/// state plugin.
///
/// ```
/// use stream_chat_client::{ChatClient, QueryChannelsRequest, User};
/// use serde_json::json;
/// # let server = stream_chat_server::Server::builder().start().unwrap();
/// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
/// client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
/// client.channel("messaging", "pe").unwrap().create(["bender"]).execute().into_result().unwrap();
/// let mut request = QueryChannelsRequest { watch: Some(true), ..Default::default() };
/// request.filter_conditions.insert("members".into(), json!({"$in": ["bender"]}));
/// client.query_channels(request.clone()).execute().into_result().unwrap();
/// let state = client.state();
/// let list = state.query(&request).unwrap();
/// assert_eq!(list.cids, ["messaging:pe"]);
/// assert_eq!(state.channels_of(list)[0].unread_count, 0);
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ClientState {
    /// The connected user, as the server last described them (`me`).
    pub me: Option<Arc<User>>,
    /// The connection's state.
    pub connection_state: ConnectionState,
    /// Users the current user muted.
    pub mutes: Arc<Vec<Mute>>,
    /// Channels the current user muted.
    pub channel_mutes: Arc<Vec<ChannelMute>>,
    /// Unread messages over all channels (the server's count).
    pub total_unread_count: u64,
    /// Channels with unread messages (the server's count).
    pub unread_channels: u64,
    /// Every channel the store keeps, by cid: those watched, queried or brought in by
    /// events.
    pub channels: Arc<BTreeMap<String, Arc<ChannelState>>>,
    /// The channel list of each `query_channels` query, in the order first made.
    pub queries: Arc<Vec<QueryChannelsState>>,
    /// Grows by one with each change.
    pub version: u64,
}

impl Default for ClientState {
    fn default() -> Self {
        ClientState {
            me: None,
            connection_state: ConnectionState::Disconnected,
            mutes: Arc::default(),
            channel_mutes: Arc::default(),
            total_unread_count: 0,
            unread_channels: 0,
            channels: Arc::default(),
            queries: Arc::default(),
            version: 0,
        }
    }
}

impl ClientState {
    /// The channel with this cid.
    pub fn channel(&self, cid: &str) -> Option<&Arc<ChannelState>> {
        self.channels.get(cid)
    }

    /// The list of the query with this request's filter and sort, once it was made.
    pub fn query(&self, request: &QueryChannelsRequest) -> Option<&QueryChannelsState> {
        self.queries.iter().find(|q| q.matches(request))
    }

    /// The channels of a query list, in its order.
    pub fn channels_of(&self, query: &QueryChannelsState) -> Vec<Arc<ChannelState>> {
        query
            .cids
            .iter()
            .filter_map(|c| self.channels.get(c).cloned())
            .collect()
    }
}

/// Sorts `cids` by `sort` over `channels` (ties and unknown fields: by cid).
pub(crate) fn sort_cids(
    cids: &mut [String],
    sort: &[SortParam],
    channels: &BTreeMap<String, Arc<ChannelState>>,
) {
    let default = [SortParam {
        field: channel_sort::DEFAULT.into(),
        direction: -1,
    }];
    let sort = if sort.is_empty() { &default[..] } else { sort };
    cids.sort_by(|a, b| {
        let (ca, cb) = (channels.get(a), channels.get(b));
        for s in sort {
            let ord = compare(field(ca, &s.field), field(cb, &s.field));
            let ord = if s.direction < 0 { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.cmp(b)
    });
}

#[derive(PartialEq, PartialOrd)]
enum Key {
    Missing,
    Num(f64),
    Text(String),
}

fn compare(a: Key, b: Key) -> Ordering {
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

fn time(t: Option<&str>) -> Key {
    t.and_then(parse_rfc3339)
        .map_or(Key::Missing, |n| Key::Num(n as f64))
}

fn field(channel: Option<&Arc<ChannelState>>, name: &str) -> Key {
    let Some(st) = channel else {
        return Key::Missing;
    };
    let c = &st.channel;
    match name {
        channel_sort::LAST_MESSAGE_AT => time(c.last_message_at.as_deref()),
        channel_sort::CREATED_AT => time(c.created_at.as_deref()),
        channel_sort::UPDATED_AT => time(c.updated_at.as_deref()),
        channel_sort::LAST_UPDATED => {
            let (m, cr) = (
                time(c.last_message_at.as_deref()),
                time(c.created_at.as_deref()),
            );
            if m > cr { m } else { cr }
        }
        channel_sort::MEMBER_COUNT => c.member_count.map_or(Key::Missing, |n| Key::Num(n as f64)),
        channel_sort::UNREAD_COUNT => Key::Num(st.unread_count as f64),
        channel_sort::HAS_UNREAD => Key::Num(if st.unread_count > 0 { 1.0 } else { 0.0 }),
        channel_sort::PINNED_AT => {
            time(st.membership.as_ref().and_then(|m| m.pinned_at.as_deref()))
        }
        channel_sort::CID => Key::Text(c.cid.clone()),
        channel_sort::ID => Key::Text(c.id.clone()),
        channel_sort::TYPE => Key::Text(c.kind.clone()),
        other => match c.extra.get(other) {
            Some(Value::Number(n)) => n.as_f64().map_or(Key::Missing, Key::Num),
            Some(Value::String(s)) => Key::Text(s.clone()),
            Some(Value::Bool(b)) => Key::Num(f64::from(u8::from(*b))),
            _ => Key::Missing,
        },
    }
}
