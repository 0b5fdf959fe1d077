//! Channels: get-or-create (watching and presence on request), the channel state a caller
//! sees, query channels, stop-watching. (Updates are in `admin.rs`, members in
//! `members.rs`.)

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use stream_chat_protocol::{
    Channel, ChannelRequestData, ChannelState, Member, MessagePagination,
    NotificationAddedToChannelEvent, QueryChannelRequest, QueryChannelsRequest, Read, SortParam,
    cid, codes, time,
};

use super::caller::{Actor, Caller};
use super::permissions::{self, Action, Relation};
use super::store::{ChannelRecord, MemberRecord, MemberRole, MessagePage, ReadRecord};
use super::{Chat, World, filter};
use crate::config::{
    DEFAULT_CHANNEL_LIMIT, DEFAULT_MESSAGE_LIMIT, DEFAULT_QUERY_CHANNELS_MESSAGE_LIMIT,
    DEFAULT_WATCHER_LIMIT, MAX_CHANNEL_LIMIT, MAX_WATCHER_LIMIT,
};
use crate::error::{ApiError, ApiResult};

/// Channel data keys that are not custom fields.
pub(crate) const RESERVED_CHANNEL_KEYS: [&str; 19] = [
    "id",
    "cid",
    "type",
    "config",
    "own_capabilities",
    "created_at",
    "updated_at",
    "member_count",
    "last_message_at",
    "deleted_at",
    "team",
    "members",
    "frozen",
    "cooldown",
    "truncated_at",
    "truncated_by",
    "hidden",
    "disabled",
    "created_by",
];

/// The channel a request addresses (`/channels/{type}/{id}/…`), of a type that exists.
#[derive(Clone, Debug)]
pub(crate) struct ChannelKey {
    pub kind: String,
    pub id: String,
    /// `{kind}:{id}`.
    pub cid: String,
}

impl ChannelKey {
    /// Code 16 unless the channel type exists.
    pub(crate) fn new(op: &str, kind: String, id: String) -> ApiResult<ChannelKey> {
        check_channel_type(op, &kind)?;
        let cid = format!("{kind}:{id}");
        Ok(ChannelKey { kind, id, cid })
    }

    /// Code 4 unless the id is valid for a new channel (the protocol's rule, 64 characters
    /// at most).
    pub(crate) fn creatable(self, op: &str) -> ApiResult<ChannelKey> {
        cid::validate_id(&self.id).map_err(|e| ApiError::input(op, e.to_string()))?;
        Ok(self)
    }
}

/// Code 16 unless `kind` is a channel type this server knows.
pub(crate) fn check_channel_type(op: &str, kind: &str) -> ApiResult<()> {
    if permissions::CHANNEL_TYPES.contains(&kind) {
        Ok(())
    } else {
        Err(ApiError::not_found(
            op,
            format!("channel type '{kind}' does not exist"),
        ))
    }
}

/// The id of the distinct channel of a set of members (at least two): `!members-` and a
/// stable hash (FNV-1a) of the sorted member ids.
pub(crate) fn distinct_channel_id(
    op: &str,
    data: Option<&ChannelRequestData>,
) -> ApiResult<String> {
    let mut members = data.map(ChannelRequestData::member_ids).unwrap_or_default();
    members.sort();
    members.dedup();
    if members.len() < 2 {
        return Err(ApiError::input(
            op,
            "When using member based IDs specify at least 2 members",
        ));
    }
    let hash = members
        .join(",")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    Ok(format!("!members-{hash:016x}"))
}

/// A stored channel with its members.
pub(crate) struct Loaded {
    pub record: ChannelRecord,
    pub members: Vec<MemberRecord>,
}

impl Loaded {
    pub(crate) fn is_member(&self, user_id: &str) -> bool {
        self.members.iter().any(|m| m.user_id == user_id)
    }

    pub(crate) fn member_ids(&self) -> Vec<String> {
        self.members.iter().map(|m| m.user_id.clone()).collect()
    }

    /// The caller's relation to this channel.
    pub(crate) fn relation(&self, caller: &Caller) -> Relation {
        caller.relation(&self.record, &self.members)
    }

    /// Code 17 unless `caller` may do `action` here.
    pub(crate) fn require(&self, op: &str, caller: &Caller, action: Action) -> ApiResult<()> {
        caller.require(op, &self.record.kind, self.relation(caller), action)
    }
}

/// `{limit, offset}` of the `watchers` option of a channel query.
#[derive(Deserialize, Default)]
struct WatcherPage {
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    offset: Option<u32>,
}

impl WatcherPage {
    fn parse(op: &str, value: Option<&Value>) -> ApiResult<WatcherPage> {
        match value {
            None | Some(Value::Null) => Ok(WatcherPage::default()),
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|e| ApiError::input(op, format!("invalid watchers pagination: {e}"))),
        }
    }

    fn offset(&self) -> usize {
        self.offset.unwrap_or(0) as usize
    }

    fn limit(&self) -> usize {
        self.limit
            .unwrap_or(DEFAULT_WATCHER_LIMIT)
            .min(MAX_WATCHER_LIMIT) as usize
    }
}

/// A request's message pagination, validated (code 4 for a time that does not parse).
fn message_page(
    op: &str,
    page: Option<&MessagePagination>,
    default_limit: u32,
) -> ApiResult<MessagePage> {
    MessagePage::parse(page.unwrap_or(&MessagePagination::default()), default_limit)
        .map_err(|key| ApiError::input(op, format!("messages.{key} must be an RFC 3339 time")))
}

impl World {
    /// A channel with its members, if it exists.
    pub(crate) fn find_channel(&self, cid: &str) -> ApiResult<Option<Loaded>> {
        let Some(record) = self.store.channel(cid)? else {
            return Ok(None);
        };
        let members = self.store.members(cid)?;
        Ok(Some(Loaded { record, members }))
    }

    /// The channel, which must exist (code 16 otherwise).
    pub(crate) fn existing_channel(&self, op: &str, cid: &str) -> ApiResult<Loaded> {
        self.find_channel(cid)?
            .ok_or_else(|| ApiError::not_found(op, format!("channel {cid} does not exist")))
    }

    /// The API view of a channel for `caller`: with their `own_capabilities` and whether
    /// it is hidden for them.
    pub(crate) fn channel_view(&self, channel: &Loaded, caller: &Caller) -> ApiResult<Channel> {
        let c = &channel.record;
        let hidden = channel
            .members
            .iter()
            .any(|m| m.user_id == caller.id && m.hidden);
        Ok(Channel {
            own_capabilities: Some(permissions::capabilities(
                &caller.role,
                &c.kind,
                channel.relation(caller),
                c.frozen,
            )),
            hidden: Some(hidden),
            ..self.channel_event_view(channel)?
        })
    }

    /// The view of a channel that every recipient of a broadcast event may get: without
    /// `own_capabilities` (the JS client keeps its own then) and `hidden`.
    pub(crate) fn channel_event_view(&self, channel: &Loaded) -> ApiResult<Channel> {
        let c = &channel.record;
        Ok(Channel {
            id: c.id.clone(),
            kind: c.kind.clone(),
            cid: c.cid.clone(),
            created_at: Some(c.created_at.clone()),
            updated_at: Some(c.updated_at.clone()),
            last_message_at: c.last_message_at.clone(),
            created_by: Some(self.user_response(&c.created_by)?),
            frozen: Some(c.frozen),
            disabled: Some(false),
            member_count: Some(channel.members.len() as u64),
            config: Some(permissions::config(&c.kind, &c.created_at)),
            own_capabilities: None,
            hidden: None,
            cooldown: (c.cooldown > 0).then_some(c.cooldown),
            truncated_at: c.truncated_at.clone(),
            truncated_by: c
                .truncated_by
                .as_deref()
                .map(|id| self.user_response(id))
                .transpose()?,
            deleted_at: None,
            extra: c.custom.clone(),
        })
    }

    pub(crate) fn member_views(&self, channel: &Loaded) -> ApiResult<Vec<Member>> {
        channel
            .members
            .iter()
            .map(|m| self.member_view(&channel.record.cid, m))
            .collect()
    }

    /// The full state of a channel for `caller`, with a page of messages and of watchers
    /// (`duration` unset).
    fn channel_state(
        &self,
        channel: &Loaded,
        caller: &Caller,
        page: &MessagePage,
        watchers: &WatcherPage,
    ) -> ApiResult<ChannelState> {
        let cid = &channel.record.cid;
        let mut page = page.clone();
        if !caller.is_server() {
            page.viewer = Some(caller.id.clone());
            page.floor = channel
                .members
                .iter()
                .find(|m| m.user_id == caller.id)
                .and_then(|m| m.history_before.as_deref())
                .and_then(time::parse_rfc3339_or_naive);
        }
        let page = &page;
        let read = self
            .store
            .reads(cid)?
            .into_iter()
            .map(|(id, r)| {
                Ok(Read {
                    user: self.user_response(&id)?,
                    last_read: r.last_read,
                    unread_messages: r.unread,
                    last_read_message_id: r.last_read_message_id,
                    extra: Map::new(),
                })
            })
            .collect::<ApiResult<_>>()?;
        let watcher_users = self
            .conns
            .watching_users(cid, watchers.offset(), watchers.limit())
            .iter()
            .map(|id| Ok(self.user_response(id)?))
            .collect::<ApiResult<_>>()?;
        // Reactions, threads, pins (messages surface): each message as the caller sees it.
        let viewer = super::message_view::Viewer::of(caller);
        Ok(ChannelState {
            channel: self.channel_view(channel, caller)?,
            messages: self.message_views(self.store.messages(cid, page)?, viewer)?,
            pinned_messages: self.state_pins(cid, viewer)?,
            members: self.member_views(channel)?,
            membership: channel
                .members
                .iter()
                .find(|m| m.user_id == caller.id)
                .map(|m| self.member_view(cid, m))
                .transpose()?,
            read,
            watcher_count: self.conns.watcher_count(cid),
            watchers: watcher_users,
            duration: None,
            extra: Map::from_iter([("threads".to_owned(), json!([]))]),
        })
    }

    /// Gets or creates `kind:id`, checking ReadChannel / CreateChannel. A new channel gets
    /// its members (the creator as owner) and tells them (`notification.added_to_channel`).
    fn get_or_create(
        &mut self,
        op: &str,
        caller: &Caller,
        kind: &str,
        id: &str,
        data: Option<ChannelRequestData>,
    ) -> ApiResult<Loaded> {
        let cid = format!("{kind}:{id}");
        if let Some(channel) = self.find_channel(&cid)? {
            channel.require(op, caller, Action::ReadChannel)?;
            return Ok(channel);
        }
        let data = data.unwrap_or_default();
        let creator = match &caller.actor {
            Actor::Server => data
                .created_by
                .as_ref()
                .map(|u| u.id.clone())
                .or_else(|| data.created_by_id.clone())
                .filter(|id| !id.is_empty())
                .ok_or_else(|| {
                    ApiError::input(
                        op,
                        "either data.created_by or data.created_by_id must be provided when using server side auth.",
                    )
                })?,
            _ => caller.id.clone(),
        };
        let as_creator = Relation {
            creator: true,
            ..Relation::default()
        };
        caller.require(op, kind, as_creator, Action::CreateChannel)?;
        self.ensure_user(&creator)?;
        let now = self.now();
        let mut members = Vec::new();
        let mut seen = HashSet::new();
        for member in data.member_ids() {
            if seen.insert(member.clone()) {
                self.ensure_user(&member)?;
                let role = if member == creator {
                    MemberRole::Owner
                } else {
                    MemberRole::Member
                };
                members.push(MemberRecord {
                    user_id: member,
                    role,
                    created_at: now.clone(),
                    updated_at: now.clone(),
                    ..MemberRecord::default()
                });
            }
        }
        let mut custom = data.extra;
        RESERVED_CHANNEL_KEYS.iter().for_each(|k| {
            custom.remove(*k);
        });
        let record = ChannelRecord {
            kind: kind.to_owned(),
            id: id.to_owned(),
            cid: cid.clone(),
            created_by: creator.clone(),
            created_at: now.clone(),
            updated_at: now.clone(),
            custom,
            ..ChannelRecord::default()
        };
        self.store.put_channel(record.clone())?;
        for member in &members {
            self.store.put_member(&cid, member.clone())?;
            let read = ReadRecord {
                last_read: now.clone(),
                ..ReadRecord::default()
            };
            self.store.put_read(&cid, &member.user_id, read)?;
        }
        tracing::debug!(%cid, "channel created");
        let channel = Loaded { record, members };
        self.notify_added(&channel, &channel.member_ids(), &creator)?;
        Ok(channel)
    }

    /// `notification.added_to_channel` to the connections of each `added` member, except the
    /// user who added them (a creator adding themselves).
    pub(crate) fn notify_added(
        &mut self,
        channel: &Loaded,
        added: &[String],
        adder: &str,
    ) -> ApiResult<()> {
        let cid = &channel.record.cid;
        for user_id in added.iter().filter(|id| *id != adder) {
            if !self.is_connected(user_id) {
                continue;
            }
            let Some(member) = channel.members.iter().find(|m| m.user_id == *user_id) else {
                continue;
            };
            let envelope: NotificationAddedToChannelEvent = self.channel_event(cid);
            let caller = Caller::user(self.store.as_ref(), user_id)?;
            let event = NotificationAddedToChannelEvent {
                channel: Some(self.channel_view(channel, &caller)?),
                member: Some(self.member_view(cid, member)?),
                ..envelope
            };
            self.send_to_user(user_id, &event);
        }
        Ok(())
    }

    /// Subscribes the calling connection when one is named: code 46 for a connection that
    /// is not open, code 4 for someone else's. Server-side calls watch nothing.
    pub(crate) fn watch(
        &mut self,
        op: &str,
        caller: &Caller,
        cid: &str,
        conn_id: Option<&str>,
    ) -> ApiResult<()> {
        let Some(conn_id) = conn_id else {
            return Ok(());
        };
        if caller.is_server() {
            return Ok(());
        }
        if self.conns.get(conn_id).is_none() {
            // Stream's CONNECTION_ID_NOT_FOUND: the socket was replaced or closed.
            return Err(ApiError::op(
                op,
                codes::CONNECTION_ID_NOT_FOUND,
                format!("connection_id '{conn_id}' not found"),
            ));
        }
        self.own_connection(op, caller, conn_id)?;
        self.start_watching(cid, conn_id)?;
        Ok(())
    }

    /// Code 4 unless `conn_id` is an open connection of the caller (anonymous callers own the
    /// anonymous connections): nobody subscribes or unsubscribes someone else's socket.
    /// Returns its user id and whether it is anonymous.
    fn own_connection(
        &self,
        op: &str,
        caller: &Caller,
        conn_id: &str,
    ) -> ApiResult<(String, bool)> {
        match self.conns.get(conn_id) {
            Some(conn) if conn.user_id == caller.id => Ok((conn.user_id.clone(), conn.anonymous)),
            _ => Err(ApiError::input(
                op,
                format!(
                    "connection_id '{conn_id}' is not an open connection of user '{}'",
                    caller.id
                ),
            )),
        }
    }
}

/// The document query-channels (and search) filter and sort on, as `caller` sees it
/// (`hidden`, `joined`, `muted` and `invite` are theirs).
pub(crate) fn channel_doc(channel: &Loaded, caller: &Caller, muted: bool) -> Value {
    let c = &channel.record;
    let mut doc = c.custom.clone();
    let last_updated = c
        .last_message_at
        .clone()
        .unwrap_or_else(|| c.created_at.clone());
    let members: Vec<&String> = channel.members.iter().map(|m| &m.user_id).collect();
    let membership = channel.members.iter().find(|m| m.user_id == caller.id);
    for (k, v) in
        [
            ("cid", json!(c.cid)),
            ("id", json!(c.id)),
            ("type", json!(c.kind)),
            ("members", json!(members)),
            ("member_count", json!(channel.members.len())),
            ("created_by_id", json!(c.created_by)),
            ("created_at", json!(c.created_at)),
            ("updated_at", json!(c.updated_at)),
            ("last_message_at", json!(c.last_message_at)),
            ("last_updated", json!(last_updated)),
            ("frozen", json!(c.frozen)),
            ("disabled", json!(false)),
            ("cooldown", json!(c.cooldown)),
            ("hidden", json!(membership.is_some_and(|m| m.hidden))),
            (
                "joined",
                json!(membership.is_some_and(|m| !m.invited || m.invite_accepted_at.is_some())),
            ),
            ("muted", json!(muted)),
            (
                "invite",
                json!(membership.filter(|m| m.invited).map(
                    |m| if m.invite_accepted_at.is_some() {
                        "accepted"
                    } else {
                        "pending"
                    }
                )),
            ),
        ]
    {
        doc.insert(k.to_owned(), v);
    }
    Value::Object(doc)
}

impl Chat {
    /// `POST /channels/{type}/{id}/query` and `/channels/{type}/query` (with the id of the
    /// distinct channel): gets or creates the channel, watches it with `conn_id` when asked,
    /// and returns its state for the caller.
    pub(crate) fn query_channel(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        body: QueryChannelRequest,
        conn_id: Option<&str>,
    ) -> ApiResult<ChannelState> {
        let watchers = WatcherPage::parse(op, body.watchers.as_ref())?;
        let messages = message_page(op, body.messages.as_ref(), DEFAULT_MESSAGE_LIMIT)?;
        let (mut world, caller) = self.enter(actor)?;
        let channel = world.get_or_create(op, &caller, &key.kind, &key.id, body.data)?;
        if body.watch == Some(true) {
            world.watch(op, &caller, &key.cid, conn_id)?;
        }
        if body.presence == Some(true) {
            world.subscribe_presence(&caller, conn_id, channel.member_ids(), Some(&key.cid));
        }
        world.channel_state(&channel, &caller, &messages, &watchers)
    }

    /// `POST /channels`: the channels matching the filter that the caller may read, sorted
    /// (by `last_updated`, newest first, unless told), paged, each watched when asked.
    pub(crate) fn query_channels(
        &self,
        op: &str,
        actor: Actor,
        body: QueryChannelsRequest,
        conn_id: Option<&str>,
    ) -> ApiResult<Vec<ChannelState>> {
        filter::validate(&body.filter_conditions).map_err(|e| ApiError::input(op, e))?;
        let (mut world, caller) = self.enter(actor)?;
        let asks_hidden = body.filter_conditions.contains_key("hidden");
        let mut found = Vec::new();
        for record in world.store.channels()? {
            let members = world.store.members(&record.cid)?;
            let channel = Loaded { record, members };
            let muted = world.channel_muted(&caller.id, &channel.record.cid)?;
            let doc = channel_doc(&channel, &caller, muted);
            let shown = asks_hidden || doc["hidden"] != json!(true);
            let hit = shown
                && filter::matches(&doc, &body.filter_conditions)
                    .map_err(|e| ApiError::input(op, e))?;
            let readable = caller.is_server()
                || permissions::allowed(
                    &caller.role,
                    &channel.record.kind,
                    channel.relation(&caller),
                    Action::ReadChannel,
                );
            if hit && readable {
                found.push((doc, channel));
            }
        }
        let mut sort = body.sort.clone();
        if sort.is_empty() {
            sort.push(SortParam {
                field: "last_updated".into(),
                direction: -1,
            });
        }
        filter::sort_docs(&mut found, &sort);
        let offset = body.offset.unwrap_or(0) as usize;
        let limit = body
            .limit
            .unwrap_or(DEFAULT_CHANNEL_LIMIT)
            .min(MAX_CHANNEL_LIMIT) as usize;
        let channels: Vec<Loaded> = found
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(_, c)| c)
            .collect();
        if body.watch == Some(true) {
            for channel in &channels {
                world.watch(op, &caller, &channel.record.cid, conn_id)?;
            }
        }
        if body.presence == Some(true) {
            for channel in &channels {
                let cid = channel.record.cid.clone();
                world.subscribe_presence(&caller, conn_id, channel.member_ids(), Some(&cid));
            }
        }
        let page = MessagePagination {
            limit: body.message_limit,
            ..MessagePagination::default()
        };
        let page = message_page(op, Some(&page), DEFAULT_QUERY_CHANNELS_MESSAGE_LIMIT)?;
        channels
            .iter()
            .map(|c| world.channel_state(c, &caller, &page, &WatcherPage::default()))
            .collect()
    }

    /// `POST /channels/{type}/{id}/stop-watching`: the named connection (the caller's own,
    /// any for server tokens) stops watching. A connection that is already gone watches
    /// nothing: stopping is idempotent.
    pub(crate) fn stop_watching(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        conn_id: Option<&str>,
    ) -> ApiResult<()> {
        let (mut world, caller) = self.enter(actor)?;
        world.existing_channel(op, &key.cid)?;
        let Some(conn_id) = conn_id else {
            return Ok(());
        };
        let Some(conn) = world.conns.get(conn_id) else {
            return Ok(());
        };
        let (user_id, anonymous) = if caller.is_server() {
            (conn.user_id.clone(), conn.anonymous)
        } else {
            world.own_connection(op, &caller, conn_id)?
        };
        world.stop_watching(&key.cid, conn_id, &user_id, anonymous)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_in_a_page_that_does_not_parse_is_code_4_naming_its_key() {
        for key in ["created_at_before", "created_at_around"] {
            let p = serde_json::from_value::<MessagePagination>(json!({key: "yesterday"})).unwrap();
            let err = message_page("Op", Some(&p), 100).err().unwrap();
            assert_eq!(err.0.code, codes::INPUT);
            assert!(err.0.message.contains(key), "{}", err.0.message);
        }
    }
}
