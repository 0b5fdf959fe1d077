//! The chat state that outlives a connection (users, channels, members, messages, reads,
//! monthly active users) behind one narrow interface, [`Store`]; [`MemoryStore`] is the
//! default backend.
//!
//! **A trait, not a concrete type**, because a second backend is planned: an SQLite store
//! (`--data-dir`) that reads messages from the database page by page instead of holding them
//! all in memory. The domain holds a `Box<dyn Store>` and never learns which backend runs.
//! For that the interface is made of queries and writes on owned records (get/put a user or
//! channel, append a message, page messages by a [`MessagePage`], update a read state), never
//! of references into a backend's memory; and every method returns a [`StoreResult`], so a
//! backend that can fail (a full disk) reports it, and the request is answered with Stream's
//! internal error (code -1, HTTP 500) instead of a panic. The memory backend never fails.
//!
//! **Consistency.** The domain calls a store only under its one lock, so a backend needs no
//! locking of its own and a request sees one consistent state. Each write is final when it
//! returns (a durable backend commits it then), and the domain makes a request's writes
//! before it sends that request's events: a failed write sends none.
//!
//! What lives and dies with a connection (who is connected, who watches what) is not here:
//! see `domain/connections.rs`.

pub(crate) mod files;
mod memory;

pub(crate) use memory::MemoryStore;

use serde_json::{Map, Value};
use stream_chat_protocol::names::member_role;
use stream_chat_protocol::{Message, MessagePagination, User, time};

use crate::config::MAX_MESSAGE_LIMIT;
use crate::error::ApiError;

/// A backend's failure (I/O, a corrupt record, ...), answered as an internal error.
#[derive(Debug)]
pub(crate) struct StoreError(pub String);

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e.0, "the store failed");
        ApiError::plain(
            stream_chat_protocol::codes::INTERNAL,
            format!("the server's store failed: {}", e.0),
        )
    }
}

/// What every store method returns.
pub(crate) type StoreResult<T> = Result<T, StoreError>;

/// A stored channel, without its members, reads and messages (the store keeps those apart).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ChannelRecord {
    pub kind: String,
    pub id: String,
    /// `{kind}:{id}`.
    pub cid: String,
    /// The creator's user id.
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub last_message_at: Option<String>,
    /// Custom data (reserved keys removed).
    pub custom: Map<String, Value>,
}

/// A member's role in a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MemberRole {
    /// The creator, as a member.
    Owner,
    Member,
}

impl MemberRole {
    /// The wire name (`role` of a member).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MemberRole::Owner => member_role::OWNER,
            MemberRole::Member => member_role::MEMBER,
        }
    }
}

/// A channel member.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MemberRecord {
    pub user_id: String,
    pub role: MemberRole,
    pub created_at: String,
}

/// A user's read state in a channel.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ReadRecord {
    pub last_read: String,
    pub last_read_message_id: Option<String>,
    /// Messages posted since, by others.
    pub unread: u64,
}

/// Unread messages of a user over the channels they are a member of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct UnreadCounts {
    pub messages: u64,
    /// Channels with at least one unread message.
    pub channels: u64,
}

/// Where a page of messages starts or ends: a message (by id, so client-generated ids need
/// not sort) or a time.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Bound {
    Id {
        id: String,
        inclusive: bool,
    },
    /// Unix time in nanoseconds.
    Time {
        nanos: i128,
        inclusive: bool,
    },
}

/// A validated page of a channel's messages ([`MessagePage::parse`]). Bounds are positions in channel order, never
/// comparisons of ids: after a lower bound the page starts right there; otherwise it is the
/// newest `limit` messages before the upper bound (or `offset` from the newest). With
/// `around`, the page is centred on that message or time. An unknown id bound selects
/// nothing.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MessagePage {
    pub limit: usize,
    pub offset: usize,
    /// All must hold: messages after each of these.
    pub lower: Vec<Bound>,
    /// All must hold: messages before each of these.
    pub upper: Vec<Bound>,
    pub around: Option<Bound>,
}

impl MessagePage {
    /// The page a request's `messages` pagination asks for (`limit` defaulting to
    /// `default_limit`, at most [`MAX_MESSAGE_LIMIT`]): `limit`, `offset`,
    /// `id_lt`/`id_lte`/`id_gt`/`id_gte`/`id_around` and
    /// `created_at_before(_or_equal)`/`created_at_after(_or_equal)`/`created_at_around`.
    /// A time that does not parse is an error naming its key.
    pub(crate) fn parse(p: &MessagePagination, default_limit: u32) -> Result<Self, &'static str> {
        let id = |v: &Option<String>, inclusive| v.clone().map(|id| Bound::Id { id, inclusive });
        let at = |key: &'static str, v: &Option<String>, inclusive| -> Result<_, &'static str> {
            v.as_deref()
                .map(|t| {
                    let nanos = time::parse_rfc3339_or_naive(t).ok_or(key)?;
                    Ok::<_, &'static str>(Bound::Time { nanos, inclusive })
                })
                .transpose()
        };
        let lower = [
            id(&p.id_gt, false),
            id(&p.id_gte, true),
            at("created_at_after", &p.created_at_after, false)?,
            at(
                "created_at_after_or_equal",
                &p.created_at_after_or_equal,
                true,
            )?,
        ];
        let upper = [
            id(&p.id_lt, false),
            id(&p.id_lte, true),
            at("created_at_before", &p.created_at_before, false)?,
            at(
                "created_at_before_or_equal",
                &p.created_at_before_or_equal,
                true,
            )?,
        ];
        Ok(MessagePage {
            limit: p.limit.unwrap_or(default_limit).min(MAX_MESSAGE_LIMIT) as usize,
            offset: p.offset.unwrap_or(0) as usize,
            lower: lower.into_iter().flatten().collect(),
            upper: upper.into_iter().flatten().collect(),
            around: id(&p.id_around, true).or(at("created_at_around", &p.created_at_around, true)?),
        })
    }
}

/// The persistent chat state. See the module documentation for the contract.
pub(crate) trait Store: Send {
    /// A user by id.
    fn user(&self, id: &str) -> StoreResult<Option<User>>;
    /// Every user, in id order.
    fn users(&self) -> StoreResult<Vec<User>>;
    /// Creates or replaces the user with `user.id`.
    fn put_user(&mut self, user: User) -> StoreResult<()>;

    /// A channel by cid.
    fn channel(&self, cid: &str) -> StoreResult<Option<ChannelRecord>>;
    /// Every channel, in cid order.
    fn channels(&self) -> StoreResult<Vec<ChannelRecord>>;
    /// Creates or replaces the channel with `channel.cid` (its members, reads and messages
    /// stay).
    fn put_channel(&mut self, channel: ChannelRecord) -> StoreResult<()>;

    /// The members of a channel, in the order they joined.
    fn members(&self, cid: &str) -> StoreResult<Vec<MemberRecord>>;
    /// Adds a member, or replaces the member with that user id in place.
    fn put_member(&mut self, cid: &str, member: MemberRecord) -> StoreResult<()>;
    /// Removes a member (their read state stays). No-op for a non-member.
    fn remove_member(&mut self, cid: &str, user_id: &str) -> StoreResult<()>;

    /// The read states of a channel, by user id.
    fn reads(&self, cid: &str) -> StoreResult<Vec<(String, ReadRecord)>>;
    /// Creates or replaces the read state of `user_id` in `cid`.
    fn put_read(&mut self, cid: &str, user_id: &str, read: ReadRecord) -> StoreResult<()>;
    /// A message was posted to `cid`: every member but `sender` has one more unread message
    /// (a member without a read state gets a default one first).
    fn count_unread(&mut self, cid: &str, sender: &str) -> StoreResult<()>;
    /// Unread messages of `user_id` over the channels they are a member of.
    fn unread_counts(&self, user_id: &str) -> StoreResult<UnreadCounts>;

    /// A message by id (with its `cid`).
    fn message(&self, id: &str) -> StoreResult<Option<Message>>;
    /// The id of the newest message of a channel, thread replies included.
    fn newest_message_id(&self, cid: &str) -> StoreResult<Option<String>>;
    /// One page of the messages shown in a channel (thread replies only when they are also
    /// shown in the channel), oldest first.
    fn messages(&self, cid: &str, page: &MessagePage) -> StoreResult<Vec<Message>>;
    /// Appends a new message to the channel `message.cid` names.
    fn append_message(&mut self, message: Message) -> StoreResult<()>;
    /// Replaces the stored message with `message.id`, keeping its place.
    fn put_message(&mut self, message: Message) -> StoreResult<()>;
    /// Removes a message for good. No-op for an unknown id.
    fn remove_message(&mut self, id: &str) -> StoreResult<()>;

    /// Records that `user_id` connected in `month` (`YYYY-MM`).
    fn record_active_user(&mut self, month: &str, user_id: &str) -> StoreResult<()>;
    /// Distinct users who connected in `month`.
    fn active_users(&self, month: &str) -> StoreResult<u64>;

    // Uploads, the server-side client and webhooks.
    /// Removes a user record for good (a hard delete). No-op for an unknown id.
    fn remove_user(&mut self, id: &str) -> StoreResult<()>;
}
