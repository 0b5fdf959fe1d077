//! Threads: a reply is a message with a `parent_id`. The parent keeps `reply_count` and
//! `thread_participants` (its author, then everyone who replied, in the order they joined);
//! each participant has a read state in the thread, counting the replies of others since.
//! A reply that is not also shown in the channel (`show_in_channel`) stays out of the
//! channel's messages and unread counts (see `messages.rs`).
//!
//! After a reply the watchers get `message.new` (the reply) and `message.updated` (the
//! parent with its new counts); participants whose connections do not watch the channel
//! get `notification.thread_message_new` with their thread unread counts. Here also: the
//! replies page, query threads, get thread, and marking a thread read.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};
use stream_chat_protocol::{
    MarkReadRequest, Message, MessagePagination, MessageReadEvent, MessageUpdatedEvent,
    NotificationMarkReadEvent, NotificationThreadMessageNewEvent, QueryThreadsRequest, Read,
    SortParam, Thread, ThreadInfo, ThreadParticipant, User, codes, time,
};

use super::caller::{Actor, Caller};
use super::channels::{ChannelKey, Loaded};
use super::message_view::Viewer;
use super::permissions::{self, Action};
use super::store::{Bound, MessagePage, ReadRecord};
use super::{Chat, World, cursor, filter};
use crate::config::{
    DEFAULT_GET_THREAD_PARTICIPANT_LIMIT, DEFAULT_REPLY_LIMIT, DEFAULT_THREAD_LIMIT,
    DEFAULT_THREAD_PARTICIPANT_LIMIT, DEFAULT_THREAD_REPLY_LIMIT, MAX_THREAD_ITEMS_LIMIT,
    MAX_THREAD_LIMIT,
};
use crate::error::{ApiError, ApiResult};

/// How much of a thread a view shows.
#[derive(Clone, Copy)]
pub(crate) struct ThreadLimits {
    pub replies: usize,
    pub participants: usize,
}

impl ThreadLimits {
    /// The request's limits, the defaults where it leaves them out, capped.
    pub(crate) fn new(
        replies: Option<u32>,
        participants: Option<u32>,
        default_participants: u32,
    ) -> Self {
        ThreadLimits {
            replies: replies
                .unwrap_or(DEFAULT_THREAD_REPLY_LIMIT)
                .min(MAX_THREAD_ITEMS_LIMIT) as usize,
            participants: participants
                .unwrap_or(default_participants)
                .min(MAX_THREAD_ITEMS_LIMIT) as usize,
        }
    }
}

/// Every message of a page: no bound, no limit.
fn everything() -> MessagePage {
    MessagePage {
        limit: usize::MAX,
        offset: 0,
        lower: Vec::new(),
        upper: Vec::new(),
        around: None,
        floor: None,
        viewer: None,
    }
}

/// What a thread's replies say about it.
struct Replies {
    all: Vec<Message>,
}

impl Replies {
    fn first_at(&self) -> Option<String> {
        self.all.first().and_then(|m| m.created_at.clone())
    }

    fn last_at(&self) -> Option<String> {
        self.all.last().and_then(|m| m.created_at.clone())
    }

    fn last_id(&self) -> Option<String> {
        self.all.last().map(|m| m.id.clone())
    }

    /// When `user_id` first and last replied.
    fn of_user(&self, user_id: &str) -> (Option<String>, Option<String>) {
        let mine = || self.all.iter().filter(|m| m.user_id_or_empty() == user_id);
        (
            mine().next().and_then(|m| m.created_at.clone()),
            mine().next_back().and_then(|m| m.created_at.clone()),
        )
    }
}

fn participant_ids(parent: &Message) -> Vec<String> {
    parent
        .thread_participants
        .iter()
        .flatten()
        .map(|u| u.id.clone())
        .collect()
}

impl World {
    /// The parent of a new reply in `cid`: a message of that channel (code 4 otherwise)
    /// that is no reply itself (code 21).
    pub(crate) fn thread_parent(&self, op: &str, cid: &str, parent_id: &str) -> ApiResult<Message> {
        let parent = self
            .store
            .message(parent_id)?
            .filter(|p| p.cid.as_deref() == Some(cid))
            .ok_or_else(|| {
                ApiError::input(
                    op,
                    format!("parent message '{parent_id}' does not exist in channel {cid}"),
                )
            })?;
        if parent.parent_id.is_some() {
            return Err(ApiError::op(
                op,
                codes::MULTIPLE_NESTING_LEVEL,
                format!("message '{parent_id}' is a reply: replies to replies are not supported"),
            ));
        }
        Ok(parent)
    }

    /// After `reply` (by `sender`) was stored: the parent's `reply_count` and
    /// `thread_participants`, and the participants' thread read states (one more unread
    /// reply for each but the sender, who has read up to it). Returns the stored parent.
    pub(crate) fn record_reply(
        &mut self,
        mut parent: Message,
        reply: &Message,
        sender: &str,
    ) -> ApiResult<Message> {
        parent.reply_count = Some(parent.reply_count.unwrap_or(0) + 1);
        let mut participants = parent.thread_participants.take().unwrap_or_default();
        let author = parent.user_id_or_empty().to_owned();
        if participants.is_empty() && !author.is_empty() {
            participants.push(self.user_response(&author)?);
        }
        if !participants.iter().any(|u| u.id == sender) {
            participants.push(self.user_response(sender)?);
        }
        let reads: HashMap<String, ReadRecord> =
            self.store.thread_reads(&parent.id)?.into_iter().collect();
        for p in participants.iter().filter(|p| p.id != sender) {
            let mut read = reads.get(&p.id).cloned().unwrap_or_else(|| ReadRecord {
                last_read: parent.created_at.clone().unwrap_or_default(),
                ..ReadRecord::default()
            });
            read.unread += 1;
            self.store.put_thread_read(&parent.id, &p.id, read)?;
        }
        let read = ReadRecord {
            last_read: reply.created_at.clone().unwrap_or_default(),
            last_read_message_id: Some(reply.id.clone()),
            unread: 0,
        };
        self.store.put_thread_read(&parent.id, sender, read)?;
        parent.thread_participants = Some(participants);
        self.store.put_message(parent.clone())?;
        Ok(parent)
    }

    /// After a reply: `message.updated` of the parent to the watchers, and
    /// `notification.thread_message_new` to the participants' connections (the sender's
    /// excepted) that do not watch the channel, if they may read it.
    pub(crate) fn announce_reply(
        &mut self,
        channel: &Loaded,
        parent: &Message,
        reply: &Message,
        sender: &User,
    ) -> ApiResult<()> {
        let cid = channel.record.cid.clone();
        let updated = MessageUpdatedEvent {
            message: self.message_view(parent.clone(), Viewer::Nobody)?,
            user: Some(sender.clone()),
            watcher_count: Some(self.conns.watcher_count(&cid)),
            ..self.channel_event(&cid)
        };
        self.broadcast(&cid, &updated);
        let envelope: NotificationThreadMessageNewEvent = self.channel_event(&cid);
        let participants = participant_ids(parent);
        for (conn_id, user_id) in self.members_not_watching(&cid, &participants, &sender.id) {
            let caller = Caller::user(self.store.as_ref(), &user_id)?;
            let rel = channel.relation(&caller);
            if !permissions::allowed(&caller.role, &channel.record.kind, rel, Action::ReadChannel) {
                continue;
            }
            let unread = self.store.unread_threads(&user_id)?;
            let event = NotificationThreadMessageNewEvent {
                user: Some(sender.clone()),
                channel: Some(self.channel_view(channel, &caller)?),
                message: self.message_view(reply.clone(), Viewer::Nobody)?,
                unread_threads: Some(unread.threads),
                unread_thread_messages: Some(unread.messages),
                ..envelope.clone()
            };
            self.send_to_conn(&conn_id, &event);
        }
        Ok(())
    }

    fn replies_of(&self, parent_id: &str) -> ApiResult<Replies> {
        Ok(Replies {
            all: self.store.replies(parent_id, &everything())?,
        })
    }

    /// What read and thread events say about a thread.
    fn thread_info(&self, parent: &Message, replies: &Replies) -> ThreadInfo {
        ThreadInfo {
            parent_message_id: parent.id.clone(),
            channel_cid: parent.cid.clone(),
            title: None,
            reply_count: parent.reply_count,
            participant_count: Some(participant_ids(parent).len() as u64),
            created_at: replies.first_at(),
            updated_at: replies.last_at(),
            last_message_at: replies.last_at(),
            extra: Default::default(),
        }
    }

    /// A thread as `caller` sees it.
    fn thread_view(
        &self,
        parent: Message,
        replies: &Replies,
        channel: &Loaded,
        caller: &Caller,
        limits: ThreadLimits,
    ) -> ApiResult<Thread> {
        let viewer = Viewer::of(caller);
        let cid = channel.record.cid.clone();
        let reads: BTreeMap<String, ReadRecord> =
            self.store.thread_reads(&parent.id)?.into_iter().collect();
        let ids = participant_ids(&parent);
        let mut participants = Vec::new();
        for id in ids.iter().take(limits.participants) {
            let (first, last) = replies.of_user(id);
            participants.push(ThreadParticipant {
                channel_cid: cid.clone(),
                thread_id: Some(parent.id.clone()),
                user_id: Some(id.clone()),
                user: Some(self.user_response(id)?),
                created_at: first.or_else(|| parent.created_at.clone()),
                last_read_at: reads.get(id).map(|r| r.last_read.clone()),
                last_thread_message_at: last,
                extra: Default::default(),
            });
        }
        let read = reads
            .into_iter()
            .map(|(id, r)| {
                Ok(Read {
                    user: self.user_response(&id)?,
                    last_read: r.last_read,
                    unread_messages: r.unread,
                    last_read_message_id: r.last_read_message_id,
                    extra: Default::default(),
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let skip = replies.all.len().saturating_sub(limits.replies);
        let latest = replies.all[skip..].to_vec();
        let author = parent.user_id_or_empty().to_owned();
        Ok(Thread {
            channel: Some(self.channel_view(channel, caller)?),
            channel_cid: cid,
            parent_message_id: parent.id.clone(),
            created_by_user_id: author.clone(),
            created_by: Some(self.user_response(&author)?),
            title: String::new(),
            created_at: replies.first_at(),
            updated_at: replies.last_at(),
            last_message_at: replies.last_at(),
            reply_count: parent.reply_count,
            participant_count: Some(ids.len() as u64),
            active_participant_count: Some(ids.len() as u64),
            thread_participants: Some(participants),
            read: Some(read),
            latest_replies: self.message_views(latest, viewer)?,
            parent_message: Some(self.message_view(parent, viewer)?),
            extra: Default::default(),
        })
    }
}

/// The document query-threads filters and sorts on.
fn thread_doc(parent: &Message, replies: &Replies) -> Value {
    let participants = participant_ids(parent).len();
    json!({
        "channel_cid": parent.cid,
        "parent_message_id": parent.id,
        "created_by_user_id": parent.user_id_or_empty(),
        "reply_count": parent.reply_count.unwrap_or(0),
        "participant_count": participants,
        "active_participant_count": participants,
        "created_at": replies.first_at(),
        "updated_at": replies.last_at(),
        "last_message_at": replies.last_at(),
    })
}

/// Whose threads a query is about: a user's, or (server-side without a user) everyone's.
fn thread_owner(
    op: &str,
    caller: &Caller,
    request: &QueryThreadsRequest,
) -> ApiResult<Option<String>> {
    let named = request
        .user_id
        .clone()
        .or(request.user.as_ref().map(|u| u.id.clone()));
    match (&caller.actor, named) {
        (Actor::Server, named) => Ok(named.filter(|id| !id.is_empty())),
        (_, Some(other)) if !other.is_empty() && other != caller.id => Err(ApiError::forbidden(
            op,
            format!(
                "user '{}' cannot query the threads of user '{other}'",
                caller.id
            ),
        )),
        _ => Ok(Some(caller.id.clone())),
    }
}

impl Chat {
    /// `GET /messages/{id}/replies`: a page of a thread's replies, oldest first. Without a
    /// bound the newest `limit`; `oldest_first` (an ascending `sort`) takes them from the
    /// start instead.
    pub(crate) fn get_replies(
        &self,
        op: &str,
        actor: Actor,
        parent_id: &str,
        pagination: &MessagePagination,
        oldest_first: bool,
    ) -> ApiResult<Vec<Message>> {
        let mut page = MessagePage::parse(pagination, DEFAULT_REPLY_LIMIT)
            .map_err(|key| ApiError::input(op, format!("{key} must be an RFC 3339 time")))?;
        let (world, caller) = self.enter(actor)?;
        let (_, channel) = world.find_message(op, parent_id)?;
        channel.require(op, &caller, Action::ReadChannel)?;
        if !caller.is_server() {
            // As in the channel's list: no one else's shadowed replies, nothing before the
            // caller's hidden history.
            page.viewer = Some(caller.id.clone());
            page.floor = channel
                .members
                .iter()
                .find(|m| m.user_id == caller.id)
                .and_then(|m| m.history_before.as_deref())
                .and_then(time::parse_rfc3339_or_naive);
        }
        let unbounded = page.lower.is_empty() && page.upper.is_empty() && page.around.is_none();
        let mut skip = 0;
        if oldest_first && unbounded {
            // From the very start: a lower bound before every message.
            page.lower.push(Bound::Time {
                nanos: i128::MIN,
                inclusive: true,
            });
            skip = page.offset;
            page.limit = page.limit.saturating_add(skip);
        }
        let replies = world.store.replies(parent_id, &page)?;
        let replies = replies.into_iter().skip(skip).collect();
        Ok(world.message_views(replies, Viewer::of(&caller))?)
    }

    /// `POST /threads`: the threads the caller takes part in (server-side: the user
    /// `user_id` names, or every thread) in channels they may read, filtered, sorted
    /// (`last_message_at` newest first unless told) and paged by cursor; each channel
    /// watched with `conn_id` when `watch` is set.
    pub(crate) fn query_threads(
        &self,
        op: &str,
        actor: Actor,
        request: QueryThreadsRequest,
        conn_id: Option<&str>,
    ) -> ApiResult<(Vec<Thread>, Option<String>, Option<String>)> {
        let filter = request.filter.clone().unwrap_or_default();
        filter::validate(&filter).map_err(|e| ApiError::input(op, e))?;
        if request.next.is_some() && request.prev.is_some() {
            return Err(ApiError::input(op, "next and prev cannot be used together"));
        }
        let limits = ThreadLimits::new(
            request.reply_limit,
            request.participant_limit,
            DEFAULT_THREAD_PARTICIPANT_LIMIT,
        );
        let (mut world, caller) = self.enter(actor)?;
        let owner = thread_owner(op, &caller, &request)?;
        let viewer = match &owner {
            Some(id) if caller.is_server() => Caller::user(world.store.as_ref(), id)?,
            _ => caller.clone(),
        };
        let mut found = Vec::new();
        for record in world.store.channels()? {
            let members = world.store.members(&record.cid)?;
            let channel = Loaded { record, members };
            let readable = caller.is_server()
                || permissions::allowed(
                    &caller.role,
                    &channel.record.kind,
                    channel.relation(&caller),
                    Action::ReadChannel,
                );
            if !readable {
                continue;
            }
            for parent in world.store.all_messages(&channel.record.cid)? {
                if parent.reply_count.unwrap_or(0) == 0 || parent.parent_id.is_some() {
                    continue;
                }
                if let Some(owner) = &owner
                    && !participant_ids(&parent).contains(owner)
                {
                    continue;
                }
                let replies = world.replies_of(&parent.id)?;
                let doc = thread_doc(&parent, &replies);
                if filter::matches(&doc, &filter).map_err(|e| ApiError::input(op, e))? {
                    found.push((doc, (parent, replies, channel.record.cid.clone())));
                }
            }
        }
        let mut sort = request.sort.clone();
        if sort.is_empty() {
            sort.push(SortParam {
                field: "last_message_at".into(),
                direction: -1,
            });
        }
        let limit = request
            .limit
            .unwrap_or(DEFAULT_THREAD_LIMIT)
            .min(MAX_THREAD_LIMIT) as usize;
        let page = cursor::page(
            found,
            &cursor::Request {
                sort: &sort,
                unique: "parent_message_id",
                limit,
                offset: 0,
                cursor: request.next.as_deref().or(request.prev.as_deref()),
            },
        )
        .map_err(|e| ApiError::input(op, e))?;
        let cids: BTreeSet<String> = page.items.iter().map(|(_, _, cid)| cid.clone()).collect();
        if request.watch == Some(true) {
            for cid in &cids {
                world.watch(op, &caller, cid, conn_id)?;
            }
        }
        let mut threads = Vec::new();
        for (parent, replies, cid) in page.items {
            let channel = world.existing_channel(op, &cid)?;
            threads.push(world.thread_view(parent, &replies, &channel, &viewer, limits)?);
        }
        Ok((threads, page.next, page.prev))
    }

    /// `GET /threads/{message_id}`: the thread of that message (code 16 for a message with
    /// no replies, or a reply), watched with `conn_id` when `watch` is set.
    pub(crate) fn get_thread(
        &self,
        op: &str,
        actor: Actor,
        message_id: &str,
        limits: (Option<u32>, Option<u32>),
        watch: bool,
        conn_id: Option<&str>,
    ) -> ApiResult<Thread> {
        let limits = ThreadLimits::new(limits.0, limits.1, DEFAULT_GET_THREAD_PARTICIPANT_LIMIT);
        let (mut world, caller) = self.enter(actor)?;
        let (parent, channel) = world.find_message(op, message_id)?;
        channel.require(op, &caller, Action::ReadChannel)?;
        if parent.parent_id.is_some() || parent.reply_count.unwrap_or(0) == 0 {
            return Err(ApiError::not_found(
                op,
                format!("message '{message_id}' has no thread"),
            ));
        }
        if watch {
            world.watch(op, &caller, &channel.record.cid, conn_id)?;
        }
        let replies = world.replies_of(message_id)?;
        world.thread_view(parent, &replies, &channel, &caller, limits)
    }

    /// `POST /channels/{type}/{id}/read` with `thread_id`: the reader has read the thread
    /// (up to its newest reply, or `message_id`); `message.read` with `thread` to the
    /// watchers (the channel's own read state is untouched), `notification.mark_read` with
    /// the thread and the reader's unread counts to the reader's connections.
    pub(crate) fn mark_thread_read(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        mark: MarkReadRequest,
    ) -> ApiResult<MessageReadEvent> {
        let thread_id = mark.thread_id.clone().unwrap_or_default();
        let (mut world, caller) = self.enter(actor)?;
        let reader = caller.acting_user(op, "read", mark.user_id.as_deref(), mark.user.as_ref())?;
        let channel = world.existing_channel(op, &key.cid)?;
        channel.require(op, &caller, Action::MarkRead)?;
        let cid = &key.cid;
        let parent = world
            .store
            .message(&thread_id)?
            .filter(|p| p.cid.as_deref() == Some(cid.as_str()) && p.parent_id.is_none())
            .ok_or_else(|| {
                ApiError::not_found(op, format!("thread '{thread_id}' does not exist in {cid}"))
            })?;
        let replies = world.replies_of(&thread_id)?;
        let last_id = mark.message_id.clone().or(replies.last_id());
        world.ensure_user(&reader)?;
        let read = ReadRecord {
            last_read: world.now(),
            last_read_message_id: last_id.clone(),
            unread: 0,
        };
        world.store.put_thread_read(&thread_id, &reader, read)?;
        let info = world.thread_info(&parent, &replies);
        let event = MessageReadEvent {
            user: Some(world.user_response(&reader)?),
            last_read_message_id: last_id,
            watcher_count: Some(world.conns.watcher_count(cid)),
            thread: Some(info.clone()),
            ..world.channel_event(cid)
        };
        world.broadcast(cid, &event);
        let unread = world.store.unread_counts(&reader)?;
        let threads = world.store.unread_threads(&reader)?;
        let note = NotificationMarkReadEvent {
            user: event.user.clone(),
            total_unread_count: Some(unread.messages),
            unread_channels: Some(unread.channels),
            unread_count: Some(unread.messages),
            thread_id: Some(thread_id),
            thread: Some(info),
            unread_threads: Some(threads.threads),
            unread_thread_messages: Some(threads.messages),
            ..world.channel_event(cid)
        };
        world.send_to_user(&reader, &note);
        Ok(event)
    }
}
