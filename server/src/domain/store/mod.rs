//! The chat state that outlives a connection (users, channels, members, messages, reads,
//! monthly active users) behind one narrow interface, [`Store`]; [`MemoryStore`] is the
//! default backend, [`SqliteStore`] the durable one of `--data-dir`.
//!
//! **A trait, not a concrete type**, because there are two backends: the memory store and
//! the SQLite store (`--data-dir`), which reads messages from the database page by page
//! instead of holding them all in memory. The domain holds a `Box<dyn Store>` and never learns which backend runs.
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
pub(crate) mod sqlite;

pub(crate) use memory::MemoryStore;
pub(crate) use sqlite::SqliteStore;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use stream_chat_protocol::names::member_role;
use stream_chat_protocol::{Device, Message, MessagePagination, Reaction, User, time};

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
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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
    /// Slow mode: seconds between two messages of a user, 0 for off.
    pub cooldown: u32,
    /// Only users who may freeze channels post.
    pub frozen: bool,
    /// Messages before this time were truncated away.
    pub truncated_at: Option<String>,
    /// Who truncated it.
    pub truncated_by: Option<String>,
    /// Teams (issue 15): the team it belongs to, under multi-tenancy.
    pub team: Option<String>,
}

/// A member's role in a channel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum MemberRole {
    /// The creator, as a member.
    Owner,
    #[default]
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

/// A member's role in a channel: its grants are in `permissions.rs`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ChannelRole {
    #[default]
    Member,
    Moderator,
}

impl ChannelRole {
    /// The wire name (`channel_role`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ChannelRole::Member => member_role::CHANNEL_MEMBER,
            ChannelRole::Moderator => member_role::CHANNEL_MODERATOR,
        }
    }

    /// The role a wire name stands for (`None` for names this server does not know).
    pub(crate) fn parse(name: &str) -> Option<ChannelRole> {
        match name {
            member_role::CHANNEL_MEMBER => Some(ChannelRole::Member),
            member_role::CHANNEL_MODERATOR => Some(ChannelRole::Moderator),
            _ => None,
        }
    }
}

/// A channel member.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct MemberRecord {
    pub user_id: String,
    pub role: MemberRole,
    pub created_at: String,
    /// Last change of the membership.
    pub updated_at: String,
    pub channel_role: ChannelRole,
    /// Invited and not answered yet (or accepted: then `invite_accepted_at` is set).
    pub invited: bool,
    pub invite_accepted_at: Option<String>,
    pub invite_rejected_at: Option<String>,
    /// The channel is hidden for this member (until a new message or `show`).
    pub hidden: bool,
    /// Messages created at or before this time are not shown to the member (hidden
    /// history on joining, or history cleared when hiding).
    pub history_before: Option<String>,
    pub pinned_at: Option<String>,
    pub archived_at: Option<String>,
    /// Custom member data.
    pub custom: Map<String, Value>,
}

/// `user_id` muted `target_id` (until `expires`, if set).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct MuteRecord {
    pub user_id: String,
    pub target_id: String,
    pub created_at: String,
    pub updated_at: String,
    pub expires: Option<String>,
}

/// `user_id` muted channel `cid` (until `expires`, if set).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct ChannelMuteRecord {
    pub user_id: String,
    pub cid: String,
    pub created_at: String,
    pub updated_at: String,
    pub expires: Option<String>,
}

/// A ban of `target_id` in channel `cid`, or app-wide without one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct BanRecord {
    pub target_id: String,
    pub cid: Option<String>,
    /// Who banned (empty for server-side bans without a user).
    pub created_by: String,
    pub created_at: String,
    /// When it ends, if it does. An expired ban is ignored wherever it is read.
    pub expires: Option<String>,
    pub reason: Option<String>,
    pub shadow: bool,
}

/// `user_id` flagged a message or a user.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct FlagRecord {
    pub user_id: String,
    pub target_message_id: Option<String>,
    pub target_user_id: Option<String>,
    /// The flagged message's channel.
    pub cid: Option<String>,
    pub reason: Option<String>,
    pub custom: Option<Map<String, Value>>,
    pub created_at: String,
}

/// `user_id` blocked `blocked_user_id`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct BlockRecord {
    pub user_id: String,
    pub blocked_user_id: String,
    pub created_at: String,
}

/// Whether `expires` (RFC 3339, if any) is still ahead of `now` (Unix nanoseconds).
pub(crate) fn in_force(expires: Option<&str>, now: i128) -> bool {
    expires
        .and_then(time::parse_rfc3339_or_naive)
        .is_none_or(|end| end > now)
}

/// A user's read state in a channel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
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
    /// Messages created at or before this time (Unix nanoseconds) do not exist for this
    /// page (history hidden from the viewer).
    pub floor: Option<i128>,
    /// The viewer: messages `shadowed` for everyone but their author are left out unless
    /// the viewer wrote them. `None` shows every message.
    pub viewer: Option<String>,
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
            floor: None,
            viewer: None,
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
    /// A message was posted to `cid` that counts as unread for `readers` (members the
    /// domain chose): each has one more unread message (a reader without a read state gets
    /// a default one first).
    fn count_unread(&mut self, cid: &str, readers: &[String]) -> StoreResult<()>;
    /// Unread messages of `user_id` over the channels they are a member of, except the
    /// channels hidden for them and those they muted (a mute whose `expires` is past, by the
    /// wall clock, no longer counts).
    fn unread_counts(&self, user_id: &str) -> StoreResult<UnreadCounts>;

    /// A message by id (with its `cid`).
    fn message(&self, id: &str) -> StoreResult<Option<Message>>;
    /// One page of the messages shown in a channel (thread replies only when they are also
    /// shown in the channel), oldest first.
    fn messages(&self, cid: &str, page: &MessagePage) -> StoreResult<Vec<Message>>;
    /// Appends a new message to the channel `message.cid` names.
    fn append_message(&mut self, message: Message) -> StoreResult<()>;
    /// Replaces the stored message with `message.id`, keeping its place.
    fn put_message(&mut self, message: Message) -> StoreResult<()>;
    /// Removes a message for good. No-op for an unknown id.
    fn remove_message(&mut self, id: &str) -> StoreResult<()>;

    // Channel administration, members, read state, moderation, presence, user updates.
    /// Removes a channel with its members, reads and messages. No-op for an unknown cid.
    fn remove_channel(&mut self, cid: &str) -> StoreResult<()>;
    /// Every message of `cid` (thread replies included) created after `nanos`, in channel
    /// order.
    fn messages_since(&self, cid: &str, nanos: i128) -> StoreResult<Vec<Message>>;
    /// Removes the messages of `cid` created before `nanos`; returns how many.
    fn remove_messages_before(&mut self, cid: &str, nanos: i128) -> StoreResult<usize>;
    /// The users `user_id` muted.
    fn mutes(&self, user_id: &str) -> StoreResult<Vec<MuteRecord>>;
    /// Creates or replaces the mute of `mute.target_id` by `mute.user_id`.
    fn put_mute(&mut self, mute: MuteRecord) -> StoreResult<()>;
    /// Removes a mute; returns whether there was one.
    fn remove_mute(&mut self, user_id: &str, target_id: &str) -> StoreResult<bool>;
    /// The channels `user_id` muted.
    fn channel_mutes(&self, user_id: &str) -> StoreResult<Vec<ChannelMuteRecord>>;
    /// Creates or replaces the mute of `mute.cid` by `mute.user_id`.
    fn put_channel_mute(&mut self, mute: ChannelMuteRecord) -> StoreResult<()>;
    /// Removes a channel mute; returns whether there was one.
    fn remove_channel_mute(&mut self, user_id: &str, cid: &str) -> StoreResult<bool>;
    /// Every ban, oldest first.
    fn bans(&self) -> StoreResult<Vec<BanRecord>>;
    /// Creates or replaces the ban of `ban.target_id` in `ban.cid` (app-wide without).
    fn put_ban(&mut self, ban: BanRecord) -> StoreResult<()>;
    /// Removes a ban; returns whether there was one.
    fn remove_ban(&mut self, target_id: &str, cid: Option<&str>) -> StoreResult<bool>;
    /// Every flag, oldest first.
    fn flags(&self) -> StoreResult<Vec<FlagRecord>>;
    /// Creates or replaces the flag of the same user on the same target.
    fn put_flag(&mut self, flag: FlagRecord) -> StoreResult<()>;
    /// Removes the flag of `user_id` on a message or user; returns it if there was one.
    fn remove_flag(
        &mut self,
        user_id: &str,
        message_id: Option<&str>,
        target_user_id: Option<&str>,
    ) -> StoreResult<Option<FlagRecord>>;
    /// The users `user_id` blocked, oldest first.
    fn blocks(&self, user_id: &str) -> StoreResult<Vec<BlockRecord>>;
    /// The users who blocked `blocked_user_id` (the reverse of [`Store::blocks`]).
    fn blockers_of(&self, blocked_user_id: &str) -> StoreResult<Vec<String>>;
    /// Creates or replaces a block.
    fn put_block(&mut self, block: BlockRecord) -> StoreResult<()>;
    /// Removes a block; returns whether there was one.
    fn remove_block(&mut self, user_id: &str, blocked_user_id: &str) -> StoreResult<bool>;

    /// Records that `user_id` connected in `month` (`YYYY-MM`).
    fn record_active_user(&mut self, month: &str, user_id: &str) -> StoreResult<()>;
    /// Distinct users who connected in `month`.
    fn active_users(&self, month: &str) -> StoreResult<u64>;

    // Uploads, the server-side client and webhooks.
    /// Removes a user record for good (a hard delete), with their push devices. No-op for
    /// an unknown id.
    fn remove_user(&mut self, id: &str) -> StoreResult<()>;

    // Push devices. A device id is unique in the app: it belongs to one user at a time.
    /// The devices of `user_id`, in the order they were first registered.
    fn devices(&self, user_id: &str) -> StoreResult<Vec<Device>>;
    /// A device by id.
    fn device(&self, id: &str) -> StoreResult<Option<Device>>;
    /// Creates the device with `device.id`, or replaces it in place (its `user_id` may
    /// change: the device moves to that user).
    fn put_device(&mut self, device: Device) -> StoreResult<()>;
    /// Removes a device; returns whether there was one.
    fn remove_device(&mut self, id: &str) -> StoreResult<bool>;
    // Reactions, threads, pins, search (messages surface).

    /// The reactions to a message, in the order they were first sent.
    fn reactions(&self, message_id: &str) -> StoreResult<Vec<Reaction>>;
    /// Creates the reaction of `reaction.user_id` of type `reaction.kind` to
    /// `reaction.message_id`, or replaces it in place. No-op for an unknown message.
    fn put_reaction(&mut self, reaction: Reaction) -> StoreResult<()>;
    /// Removes a user's reaction of one type to a message, returning it (`None` when there
    /// was none).
    fn remove_reaction(
        &mut self,
        message_id: &str,
        user_id: &str,
        kind: &str,
    ) -> StoreResult<Option<Reaction>>;
    /// One page of the replies to `parent_id`, oldest first, by the same positional rules
    /// as [`Store::messages`].
    fn replies(&self, parent_id: &str, page: &MessagePage) -> StoreResult<Vec<Message>>;
    /// Every message of a channel, replies included, oldest first (search, pinned messages,
    /// threads: a backend with an index may narrow this later).
    fn all_messages(&self, cid: &str) -> StoreResult<Vec<Message>>;
    /// The messages of a channel (replies included) with `pinned: true`, in channel order
    /// (whether a pin expired is the caller's to check).
    fn pinned_messages(&self, cid: &str) -> StoreResult<Vec<Message>>;
    /// The read states of a thread (by its parent message's id), by user id.
    fn thread_reads(&self, parent_id: &str) -> StoreResult<Vec<(String, ReadRecord)>>;
    /// Creates or replaces the read state of `user_id` in thread `parent_id`.
    fn put_thread_read(
        &mut self,
        parent_id: &str,
        user_id: &str,
        read: ReadRecord,
    ) -> StoreResult<()>;
    /// Threads with unread replies for `user_id`, and those replies.
    fn unread_threads(&self, user_id: &str) -> StoreResult<ThreadUnread>;
}

/// Threads with unread replies of a user, and how many replies that is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ThreadUnread {
    pub threads: u64,
    pub messages: u64,
}
