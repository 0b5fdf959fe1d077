//! [`ChannelState`]: one channel as the store keeps it, and what each event does to it
//! (the JS client's `channel.ts` `_handleChannelEvent` and `channel_state.ts`, event by
//! event).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use stream_chat_protocol::time::{format_rfc3339, parse_rfc3339};
use stream_chat_protocol::{Channel, ChannelState as ChannelResponse, Member, Message, Read, User};

use super::list::{MessageItem, MessageList, SyncStatus};
use super::shared;

/// How long a user stays in [`ChannelState::typing`] after their last `typing.start`
/// without a `typing.stop`: 7 seconds, as the JS client's `channel_state.ts` `clean()`
/// drops typing events older than 7000 ms.
pub const TYPING_TIMEOUT: Duration = Duration::from_secs(7);

/// A user typing in a channel (or a thread, with `parent_id`).
#[derive(Clone, Debug, PartialEq)]
pub struct Typing {
    /// Who.
    pub user: User,
    /// The thread, when typing a reply.
    pub parent_id: Option<String>,
    /// When the entry expires without a `typing.stop` ([`TYPING_TIMEOUT`] after the last
    /// `typing.start`).
    pub expires_at: Instant,
}

/// One channel as the store keeps it: an immutable snapshot, shared through an `Arc`.
/// Get the current one with [`ChannelClient::state`](crate::ChannelClient::state), or
/// each new one with [`ChannelClient::observe`](crate::ChannelClient::observe).
///
/// Kotlin's `ChannelState` (`messages`, `members`, `reads`, `typing`, `watchers`,
/// `watcherCount`, `unreadCount`, `hidden`, `muted`, `channelData`) as plain fields.
///
/// ```
/// use stream_chat_client::{ChatClient, Message, User};
/// # let server = stream_chat_server::Server::builder().start().unwrap();
/// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
/// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
/// let channel = client.channel("messaging", "pe").unwrap();
/// channel.create(["bender"]).execute().into_result().unwrap();
/// channel.watch().execute().into_result().unwrap();
/// channel.send_message(Message::with_text("hi")).execute().into_result().unwrap();
/// let state = channel.state().unwrap(); // the store already has the sent message
/// assert_eq!(state.messages.last().unwrap().message.text.as_deref(), Some("hi"));
/// assert!(state.members.contains_key("bender"));
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelState {
    /// `type:id`.
    pub cid: String,
    /// The channel's data: name and custom fields in `extra`, `own_capabilities`,
    /// `hidden`, `frozen`, `truncated_at`, `last_message_at`, `config`, ...
    pub channel: Arc<Channel>,
    /// The channel's messages, oldest first: those received and this client's own pending
    /// and failed ones (by their client-chosen id), thread replies shown in the channel
    /// included.
    pub messages: MessageList,
    /// Thread replies by parent message id, oldest first.
    pub replies: Arc<BTreeMap<String, MessageList>>,
    /// Pinned messages, oldest pin first.
    pub pinned_messages: Arc<Vec<Message>>,
    /// Members by user id.
    pub members: Arc<BTreeMap<String, Member>>,
    /// The current user's membership, if a member.
    pub membership: Option<Arc<Member>>,
    /// Read state by user id: `last_read`, `last_read_message_id`, `unread_messages`.
    pub reads: Arc<BTreeMap<String, Read>>,
    /// The current user's unread messages here.
    pub unread_count: u64,
    /// Users typing by user id (see [`TYPING_TIMEOUT`]; [`typing_users`](Self::typing_users)
    /// leaves out expired entries a reader may still see).
    pub typing: Arc<BTreeMap<String, Typing>>,
    /// Watchers by user id (as far as the events told).
    pub watchers: Arc<BTreeMap<String, User>>,
    /// How many watch the channel (the server's count).
    pub watcher_count: u64,
    /// Whether the current user muted it.
    pub muted: bool,
    /// Grows by one with each change of this channel.
    pub version: u64,
}

impl ChannelState {
    /// An empty state for `cid`.
    pub(crate) fn empty(cid: &str) -> Self {
        let channel = match stream_chat_protocol::cid::split(cid) {
            Some((kind, id)) => Channel {
                cid: cid.to_owned(),
                kind: kind.to_owned(),
                id: id.to_owned(),
                ..Channel::default()
            },
            None => Channel {
                cid: cid.to_owned(),
                ..Channel::default()
            },
        };
        ChannelState {
            cid: cid.to_owned(),
            channel: Arc::new(channel),
            messages: MessageList::default(),
            replies: Arc::default(),
            pinned_messages: Arc::default(),
            members: Arc::default(),
            membership: None,
            reads: Arc::default(),
            unread_count: 0,
            typing: Arc::default(),
            watchers: Arc::default(),
            watcher_count: 0,
            muted: false,
            version: 0,
        }
    }

    /// Whether the current user hid it.
    pub fn hidden(&self) -> bool {
        self.channel.hidden == Some(true)
    }

    /// What the current user may do here (`send-message`, `read-events`, ...).
    pub fn own_capabilities(&self) -> &[String] {
        self.channel.own_capabilities.as_deref().unwrap_or_default()
    }

    /// When the channel was last truncated.
    pub fn truncated_at(&self) -> Option<&str> {
        self.channel.truncated_at.as_deref()
    }

    /// A message of the channel or of a thread, by id.
    pub fn message(&self, id: &str) -> Option<&MessageItem> {
        self.messages
            .get(id)
            .or_else(|| self.replies.values().find_map(|r| r.get(id)))
    }

    /// The replies to `parent_id`, oldest first.
    pub fn thread(&self, parent_id: &str) -> Option<&MessageList> {
        self.replies.get(parent_id)
    }

    /// The users typing now (entries past their expiry left out).
    pub fn typing_users(&self) -> Vec<&User> {
        let now = Instant::now();
        self.typing
            .values()
            .filter(|t| t.expires_at > now)
            .map(|t| &t.user)
            .collect()
    }
}

/// What the reducer knows beyond the channel: who "I" am and whom I muted.
pub(crate) struct Ctx<'a> {
    pub(crate) me: Option<&'a str>,
    pub(crate) muted_users: &'a HashSet<String>,
}

/// A channel being changed: its state plus the writer's index (message id → order key),
/// which no snapshot carries.
pub(crate) struct Writer<'a> {
    pub(crate) state: &'a mut ChannelState,
    pub(crate) index: &'a mut HashMap<String, i128>,
    pub(crate) ctx: Ctx<'a>,
}

fn is_thread_only(m: &Message) -> bool {
    m.parent_id.is_some() && m.show_in_channel != Some(true)
}

fn user_of(m: &Message) -> &str {
    m.user_id_or_empty()
}

impl Writer<'_> {
    fn is_me(&self, user: &str) -> bool {
        self.ctx.me == Some(user)
    }

    /// A query/watch response: the channel's data, members, reads and watchers replace
    /// the store's; its messages are merged in (JS `addMessagesSorted`): the messages the
    /// store has in the response's time range but the response lacks are gone (hard
    /// deleted meanwhile), those outside it stay (an older page loaded before, or newer
    /// ones), local pending and failed ones always stay, and none older than the
    /// channel's `truncated_at` survives.
    pub(crate) fn load(&mut self, response: &ChannelResponse) {
        let times = response
            .messages
            .iter()
            .filter_map(|m| m.created_at.as_deref().and_then(parse_rfc3339));
        let range = times.fold(None, |r: Option<(i128, i128)>, t| {
            Some(r.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))))
        });
        let ids: HashSet<&str> = response.messages.iter().map(|m| m.id.as_str()).collect();
        let cut = response
            .channel
            .truncated_at
            .as_deref()
            .and_then(parse_rfc3339);
        let gone = |m: &MessageItem| {
            let at = m.created_at_nanos();
            m.status == SyncStatus::Synced
                && (range.is_some_and(|(lo, hi)| {
                    lo <= at && at <= hi && !ids.contains(m.message.id.as_str())
                }) || cut.is_some_and(|c| at < c))
        };
        self.state.channel = Arc::new(response.channel.clone());
        if self.state.messages.iter().any(gone) {
            self.state.messages.retain(|m| !gone(m));
            self.reindex();
        }
        for m in &response.messages {
            self.put(m, SyncStatus::Synced, true);
        }
        let st = &mut *self.state;
        st.pinned_messages = shared::PINNED.share(&st.cid, response.pinned_messages.clone());
        let members = response
            .members
            .iter()
            .filter_map(|m| Some((member_id(m)?.to_owned(), m.clone())))
            .collect::<BTreeMap<_, _>>();
        st.members = shared::MEMBERS.share(&st.cid, members);
        st.membership = response.membership.clone().map(Arc::new).or_else(|| {
            let me = self.ctx.me?;
            st.members.get(me).cloned().map(Arc::new)
        });
        let reads = response
            .read
            .iter()
            .map(|r| (r.user.id.clone(), r.clone()))
            .collect::<BTreeMap<_, _>>();
        st.reads = shared::READS.share(&st.cid, reads);
        st.unread_count = self
            .ctx
            .me
            .and_then(|me| st.reads.get(me))
            .map_or(0, |r| r.unread_messages);
        let watchers = response
            .watchers
            .iter()
            .map(|u| (u.id.clone(), u.clone()))
            .collect::<BTreeMap<_, _>>();
        st.watchers = shared::WATCHERS.share(&st.cid, watchers);
        st.watcher_count = response.watcher_count;
    }

    /// Upserts a message where it belongs (channel, thread, or both).
    fn put(&mut self, message: &Message, status: SyncStatus, add_if_missing: bool) {
        self.put_at(message, status, add_if_missing, None);
    }

    /// [`put`](Self::put), ordered at `at` (ns) when the message has no `created_at`.
    fn put_at(
        &mut self,
        message: &Message,
        status: SyncStatus,
        add_if_missing: bool,
        at: Option<i128>,
    ) {
        let item = |m: &Message| match at {
            Some(at) if m.created_at.is_none() => MessageItem::at(m.clone(), status, at),
            _ => MessageItem::with_status(m.clone(), status),
        };
        let st = &mut *self.state;
        if let Some(parent) = &message.parent_id {
            let replies = Arc::make_mut(&mut st.replies);
            let exists = replies
                .get(parent)
                .is_some_and(|r| r.get(&message.id).is_some());
            if add_if_missing || exists {
                replies
                    .entry(parent.clone())
                    .or_default()
                    .upsert(item(message));
            }
        }
        if is_thread_only(message) {
            return;
        }
        let known = self.index.get(&message.id).copied();
        if known.is_none() && !add_if_missing {
            return;
        }
        let item = item(message);
        self.index
            .insert(message.id.clone(), item.created_at_nanos());
        st.messages.upsert_known(item, known);
        if add_if_missing
            && let Some(at) = &message.created_at
            && st.channel.last_message_at.as_deref().is_none_or(|l| {
                parse_rfc3339(l).unwrap_or_default() < parse_rfc3339(at).unwrap_or_default()
            })
        {
            Arc::make_mut(&mut st.channel).last_message_at = Some(at.clone());
        }
    }

    fn remove(&mut self, message: &Message) {
        let st = &mut *self.state;
        if let Some(at) = self.index.remove(&message.id) {
            st.messages.remove_at(at, &message.id);
        }
        if let Some(parent) = &message.parent_id
            && let Some(list) = Arc::make_mut(&mut st.replies).get_mut(parent)
        {
            list.remove(&message.id);
        }
        self.unpin(message);
    }

    fn pin(&mut self, message: &Message) {
        let pinned = Arc::make_mut(&mut self.state.pinned_messages);
        match pinned.iter_mut().find(|p| p.id == message.id) {
            Some(p) => *p = message.clone(),
            None => pinned.push(message.clone()),
        }
    }

    fn unpin(&mut self, message: &Message) {
        if self
            .state
            .pinned_messages
            .iter()
            .any(|p| p.id == message.id)
        {
            Arc::make_mut(&mut self.state.pinned_messages).retain(|p| p.id != message.id);
        }
    }

    /// The message `id` in the channel's list, found through the index: O(log n), where
    /// `ChannelState::message` scans (a send into a long channel used to).
    fn in_channel(&self, id: &str) -> Option<&MessageItem> {
        let at = *self.index.get(id)?;
        self.state.messages.get_at(at, id)
    }

    /// The stored copy of `message`: in the channel's list, or in its thread.
    fn stored(&self, message: &Message) -> Option<&MessageItem> {
        let in_thread = || {
            let thread = self.state.replies.get(message.parent_id.as_ref()?)?;
            thread.get(&message.id)
        };
        self.in_channel(&message.id).or_else(in_thread)
    }

    /// Whether the server already has this message as this client knows it.
    fn is_synced(&self, message: &Message) -> bool {
        self.stored(message)
            .is_some_and(|m| m.status == SyncStatus::Synced)
    }

    /// A local message sent by this client, before the server answers.
    pub(crate) fn pending(&mut self, message: &Message) {
        // Re-sending an id the server has (a duplicate it refuses) changes nothing here.
        if self.is_synced(message) {
            return;
        }
        self.put(message, SyncStatus::Pending, true);
    }

    /// [`pending`](Self::pending), ordered at `at` (when the send was made, in ns).
    #[cfg(feature = "offline")]
    pub(crate) fn pending_at(&mut self, message: &Message, at: i128) {
        if self.is_synced(message) {
            return;
        }
        self.put_at(message, SyncStatus::Pending, true, Some(at));
    }

    /// A local message the server refused or never got.
    pub(crate) fn failed(&mut self, id: &str) {
        // The parent is unknown here: any thread (a failure is rare; a send is not).
        let in_a_thread = || self.state.replies.values().find_map(|r| r.get(id));
        let Some(item) = self.in_channel(id).or_else(in_a_thread).cloned() else {
            return;
        };
        if item.status == SyncStatus::Pending {
            self.put(&item.message, SyncStatus::Failed, false);
        }
    }

    /// The server's copy of a message (a send, edit or delete response).
    pub(crate) fn synced(&mut self, message: &Message) {
        self.put(message, SyncStatus::Synced, true);
    }

    /// `message.new` (and recovered ones).
    pub(crate) fn message_new(
        &mut self,
        message: &Message,
        author: Option<&User>,
        at: Option<&str>,
    ) {
        // Seen before (our own send, or both message.new and notification.message_new):
        // an update, not one more unread message.
        let known = self.index.contains_key(&message.id)
            || message.parent_id.as_ref().is_some_and(|p| {
                self.state
                    .replies
                    .get(p)
                    .is_some_and(|r| r.get(&message.id).is_some())
            });
        self.put(message, SyncStatus::Synced, true);
        if message.pinned == Some(true) {
            self.pin(message);
        }
        if known {
            return;
        }
        let author_id = author.map_or_else(|| user_of(message).to_owned(), |u| u.id.clone());
        if self.is_me(&author_id) || is_thread_only(message) || author_id.is_empty() {
            return;
        }
        let st = &mut *self.state;
        if !st.reads.is_empty() {
            let reads = Arc::make_mut(&mut st.reads);
            for (user, read) in reads.iter_mut() {
                if *user == author_id {
                    read.last_read = at
                        .map(str::to_owned)
                        .or_else(|| message.created_at.clone())
                        .unwrap_or_default();
                    read.unread_messages = 0;
                    read.last_read_message_id = Some(message.id.clone());
                } else {
                    read.unread_messages += 1;
                }
            }
        }
        if self.counts_as_unread(message, &author_id) {
            self.state.unread_count += 1;
        }
    }

    /// The JS client's `_countMessageAsUnread`.
    fn counts_as_unread(&self, message: &Message, author: &str) -> bool {
        let st = &*self.state;
        let read_events = st.channel.config.as_ref().is_none_or(|c| c.read_events);
        !(message.shadowed == Some(true)
            || message.silent == Some(true)
            || is_thread_only(message)
            || self.is_me(author)
            || self.ctx.muted_users.contains(author)
            || !read_events
            || st.muted)
    }

    /// `message.updated`: only a message the store has.
    pub(crate) fn message_updated(&mut self, message: &Message) {
        self.put(message, SyncStatus::Synced, false);
        if message.pinned == Some(true) {
            self.pin(message);
        } else {
            self.unpin(message);
        }
    }

    /// `message.deleted`.
    pub(crate) fn message_deleted(&mut self, message: &Message, hard: bool) {
        if hard {
            self.remove(message);
        } else {
            self.put(message, SyncStatus::Synced, false);
            self.unpin(message);
        }
    }

    /// `message.read` by `user` at `at`.
    pub(crate) fn read(
        &mut self,
        user: &User,
        at: Option<&str>,
        last_read_message_id: Option<&str>,
    ) {
        let st = &mut *self.state;
        let reads = Arc::make_mut(&mut st.reads);
        let read = reads.entry(user.id.clone()).or_insert_with(|| Read {
            user: user.clone(),
            last_read: String::new(),
            unread_messages: 0,
            last_read_message_id: None,
            extra: Default::default(),
        });
        read.user = user.clone();
        if let Some(at) = at {
            read.last_read = at.to_owned();
        }
        read.last_read_message_id = last_read_message_id.map(str::to_owned);
        read.unread_messages = 0;
        if self.ctx.me == Some(user.id.as_str()) {
            st.unread_count = 0;
        }
    }

    /// `notification.mark_unread` for the current user.
    pub(crate) fn mark_unread(
        &mut self,
        user: &User,
        last_read_at: Option<&str>,
        last_read_message_id: Option<&str>,
        unread: u64,
    ) {
        if !self.is_me(&user.id) {
            return;
        }
        self.read(user, last_read_at, last_read_message_id);
        let st = &mut *self.state;
        if let Some(r) = Arc::make_mut(&mut st.reads).get_mut(&user.id) {
            r.unread_messages = unread;
        }
        st.unread_count = unread;
    }

    /// `channel.updated`: new data, keeping `hidden` and `own_capabilities` when the
    /// event leaves them out.
    pub(crate) fn channel_updated(&mut self, channel: &Channel) {
        let old = &self.state.channel;
        let mut new = channel.clone();
        new.hidden = new.hidden.or(old.hidden);
        if new.own_capabilities.is_none() {
            new.own_capabilities = old.own_capabilities.clone();
        }
        if new.config.is_none() {
            new.config = old.config.clone();
        }
        self.state.channel = Arc::new(new);
    }

    /// `channel.truncated`: messages before `truncated_at` go (all without one); the
    /// event's system message, if any, is added.
    pub(crate) fn truncated(&mut self, channel: Option<&Channel>, message: Option<&Message>) {
        if let Some(channel) = channel {
            self.channel_updated(channel);
        }
        let cut = self
            .state
            .channel
            .truncated_at
            .as_deref()
            .and_then(parse_rfc3339);
        let st = &mut *self.state;
        match cut {
            Some(cut) => {
                st.messages.retain(|m| m.created_at_nanos() >= cut);
                let replies = Arc::make_mut(&mut st.replies);
                for list in replies.values_mut() {
                    list.retain(|m| m.created_at_nanos() >= cut);
                }
                replies.retain(|_, l| !l.is_empty());
                let pinned_before = |p: &Message| {
                    p.created_at
                        .as_deref()
                        .and_then(parse_rfc3339)
                        .is_some_and(|at| at < cut)
                };
                Arc::make_mut(&mut st.pinned_messages).retain(|p| !pinned_before(p));
            }
            None => self.clear_messages(),
        }
        self.reindex();
        self.state.unread_count = 0;
        if let Some(message) = message {
            self.put(message, SyncStatus::Synced, true);
        }
    }

    pub(crate) fn clear_messages(&mut self) {
        let st = &mut *self.state;
        st.messages = MessageList::default();
        st.replies = Arc::default();
        st.pinned_messages = Arc::default();
        self.index.clear();
    }

    fn reindex(&mut self) {
        self.index.clear();
        for (id, at) in self.state.messages.keys() {
            self.index.insert(id.to_owned(), at);
        }
    }

    pub(crate) fn set_hidden(&mut self, hidden: bool) {
        Arc::make_mut(&mut self.state.channel).hidden = Some(hidden);
    }

    /// `member.added` / `member.updated`.
    pub(crate) fn member(&mut self, member: &Member) {
        let Some(id) = member_id(member).map(str::to_owned) else {
            return;
        };
        if self.is_me(&id) {
            self.state.membership = Some(Arc::new(member.clone()));
        }
        Arc::make_mut(&mut self.state.members).insert(id, member.clone());
    }

    /// `member.removed` / `notification.removed_from_channel`.
    pub(crate) fn member_removed(&mut self, user_id: &str) {
        if self.state.members.contains_key(user_id) {
            Arc::make_mut(&mut self.state.members).remove(user_id);
        }
        if self.is_me(user_id) {
            self.state.membership = None;
        }
    }

    /// `user.banned` / `user.unbanned` in this channel.
    pub(crate) fn banned(&mut self, user: &User, banned: bool, shadow: bool) {
        let members = Arc::make_mut(&mut self.state.members);
        let member = members.entry(user.id.clone()).or_insert_with(|| Member {
            user_id: Some(user.id.clone()),
            ..Member::default()
        });
        member.user = Some(user.clone());
        member.banned = Some(banned && !shadow);
        member.shadow_banned = Some(banned && shadow);
    }

    /// `user.watching.start` / `user.updated` (for a known watcher).
    pub(crate) fn watcher(&mut self, user: &User) {
        // Unchanged (the watch answer already had them): no copy of a shared list.
        if self.state.watchers.get(&user.id) != Some(user) {
            Arc::make_mut(&mut self.state.watchers).insert(user.id.clone(), user.clone());
        }
    }

    pub(crate) fn watcher_gone(&mut self, user_id: &str) {
        if self.state.watchers.contains_key(user_id) {
            Arc::make_mut(&mut self.state.watchers).remove(user_id);
        }
    }

    /// A user's new data wherever the channel shows it (members, watchers, reads).
    pub(crate) fn user_updated(&mut self, user: &User) {
        let st = &mut *self.state;
        if st.members.contains_key(&user.id)
            && let Some(m) = Arc::make_mut(&mut st.members).get_mut(&user.id)
        {
            m.user = Some(user.clone());
        }
        if st.watchers.get(&user.id).is_some_and(|w| w != user) {
            Arc::make_mut(&mut st.watchers).insert(user.id.clone(), user.clone());
        }
        if st.reads.contains_key(&user.id)
            && let Some(r) = Arc::make_mut(&mut st.reads).get_mut(&user.id)
        {
            r.user = user.clone();
        }
    }

    /// `typing.start` (`typing` true) / `typing.stop` by `user`.
    pub(crate) fn typing(
        &mut self,
        user: &User,
        parent_id: Option<&str>,
        typing: bool,
        now: Instant,
    ) {
        let map = Arc::make_mut(&mut self.state.typing);
        if typing {
            map.insert(
                user.id.clone(),
                Typing {
                    user: user.clone(),
                    parent_id: parent_id.map(str::to_owned),
                    expires_at: now + TYPING_TIMEOUT,
                },
            );
        } else {
            map.remove(&user.id);
        }
    }

    /// Drops the typing entries expired at `now`; true if any.
    pub(crate) fn expire_typing(&mut self, now: Instant) -> bool {
        if self.state.typing.values().all(|t| t.expires_at > now) {
            return false;
        }
        Arc::make_mut(&mut self.state.typing).retain(|_, t| t.expires_at > now);
        true
    }
}

/// A member's user id (`user_id`, or its user's id).
pub(crate) fn member_id(m: &Member) -> Option<&str> {
    m.user_id
        .as_deref()
        .or(m.user.as_ref().map(|u| u.id.as_str()))
}

/// `created_at` of an event in RFC 3339, or now.
pub(crate) fn at_or_now(at: Option<&str>) -> String {
    at.map(str::to_owned)
        .unwrap_or_else(|| format_rfc3339(stream_chat_protocol::time::now_nanos()))
}
