//! Channel endpoints: get-or-create/watch, query channels, messages, reads, stop-watching,
//! custom events and member updates.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, MutexGuard};

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use stream_chat_protocol::{
    Channel, ChannelRequestData, ChannelState, Event, Message, MessagePagination, MessageReadEvent,
    MessageResponse, NewMessageEvent, NotificationAddedToChannelEvent, NotificationMarkReadEvent,
    NotificationMessageNewEvent, QueryChannelRequest, QueryChannelsRequest, QueryChannelsResponse,
    SendMessageRequest, SortParam, User, cid, codes, time,
};

use super::filter;
use super::{DURATION, Req, path_params};
use crate::auth::Actor;
use crate::error::{ApiError, ApiResult};
use crate::permissions::{self, Action, Relation};
use crate::state::{AppState, ChannelRec, Conn, Inner, MemberRec, ReadRec, random_id};

/// Longest message text, in characters (code 20 beyond).
pub(crate) const MAX_MESSAGE_LENGTH: usize = 5000;
const DEFAULT_MESSAGE_LIMIT: u32 = 100;
const DEFAULT_QUERY_CHANNELS_MESSAGE_LIMIT: u32 = 25;
const MAX_MESSAGE_LIMIT: u32 = 300;
/// Watchers listed in a channel state unless `watchers.limit` says otherwise.
const DEFAULT_WATCHER_LIMIT: u32 = 100;
const MAX_WATCHER_LIMIT: u32 = 300;
const DEFAULT_CHANNEL_LIMIT: u32 = 10;
const MAX_CHANNEL_LIMIT: u32 = 100;
/// Channel data keys that are not custom fields.
const RESERVED_CHANNEL_KEYS: [&str; 12] = [
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
];

/// The resolved caller: actor, app role and the id permissions are checked for.
pub(crate) struct Caller {
    pub actor: Actor,
    pub role: String,
    pub id: String,
}

impl Caller {
    /// Locks the state and resolves `actor` in it.
    pub(super) fn lock(state: &AppState, actor: Actor) -> (MutexGuard<'_, Inner>, Caller) {
        let inner = state.lock();
        let caller = Caller::resolve(&inner, actor);
        (inner, caller)
    }

    pub(crate) fn resolve(inner: &Inner, actor: Actor) -> Caller {
        match &actor {
            Actor::Server => Caller {
                role: "admin".into(),
                id: String::new(),
                actor,
            },
            Actor::Anonymous => Caller {
                role: "anonymous".into(),
                id: "!anon".into(),
                actor,
            },
            Actor::User(id) => Caller {
                role: inner.role_of(id),
                id: id.clone(),
                actor,
            },
        }
    }

    pub(super) fn is_server(&self) -> bool {
        self.actor == Actor::Server
    }

    pub(super) fn relation(&self, channel: &ChannelRec) -> Relation {
        Relation {
            creator: !self.is_server() && channel.created_by == self.id,
            member: !self.is_server() && channel.is_member(&self.id),
            author: false,
        }
    }

    /// Code 17 unless the caller may do `action` (server tokens may do everything).
    pub(super) fn require(
        &self,
        op: &str,
        kind: &str,
        rel: Relation,
        action: Action,
    ) -> ApiResult<()> {
        if self.is_server() || permissions::allowed(&self.role, kind, rel, action) {
            return Ok(());
        }
        Err(ApiError::forbidden(
            op,
            format!(
                "User '{}' with roles ['{}'] is not allowed to perform action {} in scope '{kind}'",
                self.id,
                self.role,
                action.name()
            ),
        ))
    }
}

/// The path parameters `{type}` and `{id}` of a channel endpoint.
type ChannelPath = Result<Path<(String, String)>, PathRejection>;

/// An authenticated call of `/channels/{type}/{id}/…` whose channel type exists.
struct ChannelCall {
    /// The operation name its errors carry.
    op: &'static str,
    actor: Actor,
    kind: String,
    id: String,
    /// `{kind}:{id}`.
    cid: String,
}

impl ChannelCall {
    /// Authenticates the caller, reads the path and checks the channel type (errors in
    /// that order).
    fn start(op: &'static str, state: &AppState, req: &Req, path: ChannelPath) -> ApiResult<Self> {
        let actor = req.auth(state, op)?;
        let (kind, id) = path_params(op, path)?;
        check_type(op, &kind)?;
        let cid = format!("{kind}:{id}");
        Ok(ChannelCall {
            op,
            actor,
            kind,
            id,
            cid,
        })
    }

    /// Locks the state and resolves the caller in it.
    fn lock<'s>(&self, state: &'s AppState) -> (MutexGuard<'s, Inner>, Caller) {
        Caller::lock(state, self.actor.clone())
    }

    /// The channel, which must exist (code 16 otherwise).
    fn existing<'a>(&self, inner: &'a Inner) -> ApiResult<&'a ChannelRec> {
        inner.channels.get(&self.cid).ok_or_else(|| {
            ApiError::not_found(self.op, format!("channel {} does not exist", self.cid))
        })
    }

    /// Code 17 unless `caller` may do `action` in `channel`.
    fn require(&self, caller: &Caller, channel: &ChannelRec, action: Action) -> ApiResult<()> {
        caller.require(self.op, &self.kind, caller.relation(channel), action)
    }
}

pub(super) fn check_type(op: &str, kind: &str) -> ApiResult<()> {
    if permissions::CHANNEL_TYPES.contains(&kind) {
        Ok(())
    } else {
        Err(ApiError::not_found(
            op,
            format!("channel type '{kind}' does not exist"),
        ))
    }
}

/// Code 4 unless `id` is a valid channel id (the protocol's rule, 64 characters at most).
fn check_id(op: &str, id: &str) -> ApiResult<()> {
    cid::validate_id(id).map_err(|e| ApiError::input(op, e.to_string()))
}

/// Gets or creates `kind:id`, checking ReadChannel / CreateChannel. Returns the cid.
fn get_or_create(
    inner: &mut Inner,
    op: &str,
    caller: &Caller,
    kind: &str,
    id: &str,
    data: Option<ChannelRequestData>,
) -> ApiResult<String> {
    let cid = format!("{kind}:{id}");
    if let Some(channel) = inner.channels.get(&cid) {
        caller.require(op, kind, caller.relation(channel), Action::ReadChannel)?;
        return Ok(cid);
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
    caller.require(
        op,
        kind,
        Relation {
            creator: true,
            ..Relation::default()
        },
        Action::CreateChannel,
    )?;
    inner.ensure_user(&creator);
    let now = inner.now();
    let mut members = Vec::new();
    let mut seen = HashSet::new();
    for member in data.member_ids() {
        if seen.insert(member.clone()) {
            inner.ensure_user(&member);
            let role = if member == creator { "owner" } else { "member" };
            members.push(MemberRec {
                user_id: member,
                role,
                created_at: now.clone(),
            });
        }
    }
    let reads = members
        .iter()
        .map(|m| {
            (
                m.user_id.clone(),
                ReadRec {
                    last_read: now.clone(),
                    ..ReadRec::default()
                },
            )
        })
        .collect();
    let mut custom = data.extra;
    RESERVED_CHANNEL_KEYS.iter().for_each(|k| {
        custom.remove(*k);
    });
    inner.channels.insert(
        cid.clone(),
        ChannelRec {
            kind: kind.to_owned(),
            id: id.to_owned(),
            cid: cid.clone(),
            created_by: creator,
            created_at: now.clone(),
            updated_at: now,
            last_message_at: None,
            custom,
            members,
            messages: Vec::new(),
            reads,
            watchers: HashSet::new(),
            watching_users: HashMap::new(),
            anonymous_watchers: 0,
        },
    );
    tracing::debug!(%cid, "channel created");
    let (creator, added) = {
        let channel = &inner.channels[&cid];
        let added: Vec<String> = channel.members.iter().map(|m| m.user_id.clone()).collect();
        (channel.created_by.clone(), added)
    };
    notify_added(inner, &cid, &added, &creator);
    Ok(cid)
}

/// `notification.added_to_channel` to the connections of each `added` member, except the
/// user who added them (a creator adding themselves).
fn notify_added(inner: &mut Inner, cid: &str, added: &[String], adder: &str) {
    for user_id in added.iter().filter(|id| *id != adder) {
        if !inner.conns.values().any(|c| c.user_id == *user_id) {
            continue;
        }
        let envelope: NotificationAddedToChannelEvent = inner.channel_event(cid);
        let channel = &inner.channels[cid];
        let Some(member) = channel.members.iter().find(|m| m.user_id == *user_id) else {
            continue;
        };
        let caller = Caller::resolve(inner, Actor::User(user_id.clone()));
        let event = NotificationAddedToChannelEvent {
            channel: Some(channel_view(inner, channel, &caller)),
            member: Some(inner.member(member)),
            ..envelope
        };
        inner.send_to_user(user_id, &event);
    }
}

/// Subscribes the calling connection when `watch` is set: code 46 for a connection that is
/// not open, code 4 for someone else's.
fn watch(
    inner: &mut Inner,
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
    if !inner.conns.contains_key(conn_id) {
        // Stream's CONNECTION_ID_NOT_FOUND: the socket was replaced or closed.
        return Err(ApiError::op(
            op,
            codes::CONNECTION_ID_NOT_FOUND,
            format!("connection_id '{conn_id}' not found"),
        ));
    }
    own_connection(inner, op, caller, conn_id)?;
    inner.start_watching(cid, conn_id);
    Ok(())
}

/// Code 4 unless `conn_id` is an open connection of the caller (anonymous callers own the
/// anonymous connections): nobody subscribes or unsubscribes someone else's socket.
fn own_connection<'a>(
    inner: &'a Inner,
    op: &str,
    caller: &Caller,
    conn_id: &str,
) -> ApiResult<&'a Conn> {
    match inner.conns.get(conn_id) {
        Some(conn) if conn.user_id == caller.id => Ok(conn),
        _ => Err(ApiError::input(
            op,
            format!(
                "connection_id '{conn_id}' is not an open connection of user '{}'",
                caller.id
            ),
        )),
    }
}

/// The API view of a channel for `caller`.
fn channel_view(inner: &Inner, channel: &ChannelRec, caller: &Caller) -> Channel {
    let rel = caller.relation(channel);
    Channel {
        id: channel.id.clone(),
        kind: channel.kind.clone(),
        cid: channel.cid.clone(),
        created_at: Some(channel.created_at.clone()),
        updated_at: Some(channel.updated_at.clone()),
        last_message_at: channel.last_message_at.clone(),
        created_by: Some(inner.user_response(&channel.created_by)),
        frozen: Some(false),
        disabled: Some(false),
        member_count: Some(channel.members.len() as u64),
        config: Some(permissions::config(&channel.kind, &channel.created_at)),
        own_capabilities: Some(permissions::capabilities(&caller.role, &channel.kind, rel)),
        hidden: Some(false),
        extra: channel.custom.clone(),
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

/// The full state of a channel for `caller`, with a page of messages and of watchers.
fn channel_state(
    inner: &Inner,
    cid: &str,
    caller: &Caller,
    page: &MessagePage,
    watchers: &WatcherPage,
) -> ChannelState {
    let channel = &inner.channels[cid];
    let visible: Vec<&Message> = channel
        .messages
        .iter()
        .filter(|m| m.parent_id.is_none() || m.show_in_channel == Some(true))
        .collect();
    ChannelState {
        channel: channel_view(inner, channel, caller),
        messages: page.select(&visible),
        pinned_messages: Vec::new(),
        members: inner.members(channel),
        membership: channel
            .members
            .iter()
            .find(|m| m.user_id == caller.id)
            .map(|m| inner.member(m)),
        read: inner.reads(channel),
        watcher_count: inner.watcher_count(channel),
        watchers: inner.watchers(channel, watchers.offset(), watchers.limit()),
        duration: Some(DURATION.into()),
        extra: Map::from_iter([("threads".to_owned(), json!([]))]),
    }
}

/// Where a page of messages starts or ends: a message (looked up by id, so client-generated
/// ids need not sort) or a time.
enum Bound {
    Id { id: String, inclusive: bool },
    Time { nanos: i128, inclusive: bool },
}

impl Bound {
    /// Index of the first message after the bound (lower bounds) or the end of the messages
    /// before it (upper bounds, exclusive); `None` when the id is unknown.
    fn position(&self, messages: &[&Message], lower: bool) -> Option<usize> {
        match self {
            Bound::Id { id, inclusive } => {
                let i = messages.iter().position(|m| m.id == *id)?;
                // Lower: past it unless inclusive. Upper: up to it, or through it if inclusive.
                Some(if lower != *inclusive { i + 1 } else { i })
            }
            Bound::Time { nanos, inclusive } => {
                // Messages are stored in time order: count those before the bound.
                let before = |m: &&Message| {
                    let t = message_time(m);
                    if lower == *inclusive {
                        t < *nanos
                    } else {
                        t <= *nanos
                    }
                };
                Some(messages.partition_point(before))
            }
        }
    }
}

fn message_time(m: &Message) -> i128 {
    m.created_at
        .as_deref()
        .and_then(time::parse_rfc3339_or_naive)
        .unwrap_or_default()
}

/// Message pagination of a channel query, validated: `limit`, `offset`, `id_lt`/`id_lte`/
/// `id_gt`/`id_gte`/`id_around` and `created_at_before(_or_equal)`/`created_at_after(_or_equal)`/
/// `created_at_around`. Bounds are positions in channel order, never comparisons of ids.
struct MessagePage {
    limit: usize,
    offset: usize,
    lower: Vec<Bound>,
    upper: Vec<Bound>,
    around: Option<Bound>,
}

impl MessagePage {
    fn parse(op: &str, page: Option<&MessagePagination>, default_limit: u32) -> ApiResult<Self> {
        let default = MessagePagination::default();
        let p = page.unwrap_or(&default);
        let id = |v: &Option<String>, inclusive| v.clone().map(|id| Bound::Id { id, inclusive });
        let at = |key: &str, v: &Option<String>, inclusive| -> ApiResult<Option<Bound>> {
            v.as_deref()
                .map(|t| {
                    let nanos = time::parse_rfc3339_or_naive(t).ok_or_else(|| {
                        ApiError::input(op, format!("messages.{key} must be an RFC 3339 time"))
                    })?;
                    Ok(Bound::Time { nanos, inclusive })
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

    /// The page, oldest first. After a lower bound it starts right there; otherwise it is the
    /// newest `limit` messages before the upper bound (or `offset` from the newest).
    fn select(&self, messages: &[&Message]) -> Vec<Message> {
        let page = |range: std::ops::Range<usize>| -> Vec<Message> {
            messages[range].iter().map(|m| (*m).clone()).collect()
        };
        if let Some(anchor) = &self.around {
            let Some(i) = anchor.position(messages, true) else {
                return Vec::new();
            };
            let i = i.min(messages.len().saturating_sub(1));
            let start = i.saturating_sub(self.limit / 2);
            return page(start..(start + self.limit).min(messages.len()).max(start));
        }
        let mut lo = 0;
        for bound in &self.lower {
            match bound.position(messages, true) {
                Some(i) => lo = lo.max(i),
                None => return Vec::new(),
            }
        }
        let mut hi = messages.len();
        for bound in &self.upper {
            match bound.position(messages, false) {
                Some(i) => hi = hi.min(i),
                None => return Vec::new(),
            }
        }
        if self.lower.is_empty() && self.upper.is_empty() {
            hi = hi.saturating_sub(self.offset);
        }
        if lo >= hi {
            return Vec::new();
        }
        if self.lower.is_empty() {
            page(hi.saturating_sub(self.limit).max(lo)..hi)
        } else {
            page(lo..(lo + self.limit).min(hi))
        }
    }
}

/// `POST /channels/{type}/{id}/query`.
pub(crate) async fn query_channel(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<ChannelState>> {
    let call = ChannelCall::start("GetOrCreateChannel", &state, &req, path)?;
    check_id(call.op, &call.id)?;
    let body: QueryChannelRequest = req.json(call.op)?;
    query_one(
        &state,
        call.op,
        call.actor,
        &call.kind,
        &call.id,
        body,
        req.param("connection_id"),
    )
}

/// `POST /channels/{type}/query`: a distinct channel identified by its members.
pub(crate) async fn query_distinct_channel(
    State(state): State<Arc<AppState>>,
    path: Result<Path<String>, PathRejection>,
    req: Req,
) -> ApiResult<Json<ChannelState>> {
    const OP: &str = "GetOrCreateChannel";
    let actor = req.auth(&state, OP)?;
    let kind = path_params(OP, path)?;
    check_type(OP, &kind)?;
    let body: QueryChannelRequest = req.json(OP)?;
    let mut members = body
        .data
        .as_ref()
        .map(ChannelRequestData::member_ids)
        .unwrap_or_default();
    members.sort();
    members.dedup();
    if members.len() < 2 {
        return Err(ApiError::input(
            OP,
            "When using member based IDs specify at least 2 members",
        ));
    }
    // FNV-1a over the sorted member ids gives a stable id.
    let hash = members
        .join(",")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let id = format!("!members-{hash:016x}");
    query_one(
        &state,
        OP,
        actor,
        &kind,
        &id,
        body,
        req.param("connection_id"),
    )
}

fn query_one(
    state: &AppState,
    op: &str,
    actor: Actor,
    kind: &str,
    id: &str,
    body: QueryChannelRequest,
    conn_id: Option<&str>,
) -> ApiResult<Json<ChannelState>> {
    let watchers = WatcherPage::parse(op, body.watchers.as_ref())?;
    let messages = MessagePage::parse(op, body.messages.as_ref(), DEFAULT_MESSAGE_LIMIT)?;
    let (mut inner, caller) = Caller::lock(state, actor);
    let cid = get_or_create(&mut inner, op, &caller, kind, id, body.data)?;
    if body.watch == Some(true) {
        watch(&mut inner, op, &caller, &cid, conn_id)?;
    }
    Ok(Json(channel_state(
        &inner, &cid, &caller, &messages, &watchers,
    )))
}

/// The document query-channels filters and sorts on.
fn channel_doc(channel: &ChannelRec) -> Value {
    let mut doc = channel.custom.clone();
    let last_updated = channel
        .last_message_at
        .clone()
        .unwrap_or_else(|| channel.created_at.clone());
    for (k, v) in [
        ("cid", json!(channel.cid)),
        ("id", json!(channel.id)),
        ("type", json!(channel.kind)),
        (
            "members",
            json!(
                channel
                    .members
                    .iter()
                    .map(|m| &m.user_id)
                    .collect::<Vec<_>>()
            ),
        ),
        ("member_count", json!(channel.members.len())),
        ("created_by_id", json!(channel.created_by)),
        ("created_at", json!(channel.created_at)),
        ("updated_at", json!(channel.updated_at)),
        ("last_message_at", json!(channel.last_message_at)),
        ("last_updated", json!(last_updated)),
        ("frozen", json!(false)),
        ("disabled", json!(false)),
    ] {
        doc.insert(k.to_owned(), v);
    }
    Value::Object(doc)
}

/// `POST /channels`.
pub(crate) async fn query_channels(
    State(state): State<Arc<AppState>>,
    req: Req,
) -> ApiResult<Json<QueryChannelsResponse>> {
    const OP: &str = "QueryChannels";
    let actor = req.auth(&state, OP)?;
    let body: QueryChannelsRequest = req.json(OP)?;
    filter::validate(&body.filter_conditions).map_err(|e| ApiError::input(OP, e))?;
    let (mut inner, caller) = Caller::lock(&state, actor);
    let mut found = Vec::new();
    for channel in inner.channels.values() {
        let doc = channel_doc(channel);
        let hit =
            filter::matches(&doc, &body.filter_conditions).map_err(|e| ApiError::input(OP, e))?;
        let readable = caller.is_server()
            || permissions::allowed(
                &caller.role,
                &channel.kind,
                caller.relation(channel),
                Action::ReadChannel,
            );
        if hit && readable {
            found.push((doc, channel.cid.clone()));
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
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
    let cids: Vec<String> = found
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(_, cid)| cid)
        .collect();
    if body.watch == Some(true) {
        for cid in &cids {
            watch(&mut inner, OP, &caller, cid, req.param("connection_id"))?;
        }
    }
    let page = MessagePagination {
        limit: body.message_limit,
        ..MessagePagination::default()
    };
    let page = MessagePage::parse(OP, Some(&page), DEFAULT_QUERY_CHANNELS_MESSAGE_LIMIT)?;
    let channels = cids
        .iter()
        .map(|cid| {
            let mut s = channel_state(&inner, cid, &caller, &page, &WatcherPage::default());
            s.duration = None;
            s
        })
        .collect();
    Ok(Json(QueryChannelsResponse {
        channels,
        duration: DURATION.into(),
    }))
}

/// The acting user of a server-side call: `user_id` or `user.id` in the body.
fn server_acting_user(
    op: &str,
    what: &str,
    user_id: Option<&str>,
    user: Option<&User>,
) -> ApiResult<String> {
    user_id
        .or(user.map(|u| u.id.as_str()))
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::input(op, format!("either {what}.user or {what}.user_id must be provided when using server side auth."))
        })
}

/// The user a call acts as: the token's user, or the body's for server tokens.
pub(super) fn acting_user(
    op: &str,
    caller: &Caller,
    what: &str,
    user_id: Option<&str>,
    user: Option<&User>,
) -> ApiResult<String> {
    match &caller.actor {
        Actor::Server => server_acting_user(op, what, user_id, user),
        Actor::Anonymous => Ok(caller.id.clone()),
        Actor::User(id) => match user_id.or(user.map(|u| u.id.as_str())) {
            Some(other) if !other.is_empty() && other != id => Err(ApiError::forbidden(
                op,
                format!("user '{id}' cannot act as user '{other}'"),
            )),
            _ => Ok(id.clone()),
        },
    }
}

/// `POST /channels/{type}/{id}/message`.
pub(crate) async fn send_message(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<MessageResponse>> {
    let call = ChannelCall::start("SendMessage", &state, &req, path)?;
    let body: SendMessageRequest = req.json(call.op)?;
    let (mut inner, caller) = call.lock(&state);
    let input = body.message;
    let sender = acting_user(
        call.op,
        &caller,
        "message",
        input.user_id.as_deref(),
        input.user.as_ref(),
    )?;
    let sender_caller = match caller.actor {
        Actor::Server => Caller {
            role: "admin".into(),
            ..caller
        },
        _ => caller,
    };
    let channel = call.existing(&inner)?;
    call.require(&sender_caller, channel, Action::CreateMessage)?;

    let content = MessageContent::validate(&inner, call.op, &input)?;
    let message_id = if input.id.is_empty() {
        random_id()
    } else {
        input.id.clone()
    };
    if message_id.len() > 255 {
        return Err(ApiError::input(
            call.op,
            "message.id is longer than 255 characters",
        ));
    }
    if inner.message_cids.contains_key(&message_id) {
        return Err(ApiError::input(
            call.op,
            format!("a message with ID {message_id} already exists"),
        ));
    }
    inner.ensure_user(&sender);
    let now = inner.now();
    let user = inner.user_response(&sender);
    let mut extra = custom_fields(&input.extra);
    for (k, v) in [
        ("pinned_at", Value::Null),
        ("pinned_by", Value::Null),
        ("pin_expires", Value::Null),
        ("restricted_visibility", json!([])),
    ] {
        extra.insert(k.to_owned(), v);
    }
    let message = Message {
        id: message_id.clone(),
        text: Some(content.text),
        html: Some(content.html),
        kind: Some(
            if input.parent_id.is_some() {
                "reply"
            } else {
                "regular"
            }
            .into(),
        ),
        user: Some(user.clone()),
        user_id: None,
        cid: Some(call.cid.clone()),
        attachments: Some(content.attachments),
        mentioned_users: Some(content.mentioned_users),
        latest_reactions: Some(Vec::new()),
        own_reactions: Some(Vec::new()),
        reaction_counts: Some(Map::new()),
        reaction_scores: Some(Map::new()),
        parent_id: input.parent_id.clone(),
        show_in_channel: input.show_in_channel,
        reply_count: Some(0),
        deleted_reply_count: Some(0),
        quoted_message_id: input.quoted_message_id.clone(),
        shadowed: Some(false),
        silent: Some(input.silent.unwrap_or(false)),
        pinned: Some(false),
        created_at: Some(now.clone()),
        updated_at: Some(now.clone()),
        extra,
    };

    inner
        .message_cids
        .insert(message_id.clone(), call.cid.clone());
    let channel = inner.channels.get_mut(&call.cid).expect("checked above");
    if let Some(parent) = input.parent_id.as_deref()
        && let Some(p) = channel.messages.iter_mut().find(|m| m.id == parent)
    {
        p.reply_count = Some(p.reply_count.unwrap_or(0) + 1);
    }
    channel.messages.push(message.clone());
    channel.last_message_at = Some(now.clone());
    let member_ids: Vec<String> = channel.members.iter().map(|m| m.user_id.clone()).collect();
    for member in &member_ids {
        let read = channel.reads.entry(member.clone()).or_default();
        if *member == sender {
            read.last_read = now.clone();
            read.last_read_message_id = Some(message_id.clone());
            read.unread = 0;
        } else {
            read.unread += 1;
        }
    }
    let member_count = member_ids.len();

    let event = NewMessageEvent {
        message: message.clone(),
        user: Some(user),
        message_id: Some(message_id),
        watcher_count: Some(inner.watcher_count_of(&call.cid)),
        channel_member_count: Some(member_count as u64),
        ..inner.channel_event(&call.cid)
    };
    inner.broadcast(&call.cid, &event);
    notify_members(&inner, &call.cid, &sender, &member_ids, &event);
    Ok(Json(MessageResponse {
        message,
        duration: DURATION.into(),
    }))
}

/// `notification.message_new` to members' connections that do not watch the channel.
fn notify_members(
    inner: &Inner,
    cid: &str,
    sender: &str,
    members: &[String],
    new: &NewMessageEvent,
) {
    let channel = &inner.channels[cid];
    for (conn_id, conn) in &inner.conns {
        if conn.anonymous || conn.user_id == sender || channel.watchers.contains(conn_id) {
            continue;
        }
        if !members.contains(&conn.user_id) {
            continue;
        }
        let caller = Caller::resolve(inner, Actor::User(conn.user_id.clone()));
        let (unread, unread_channels) = inner.unread_counts(&conn.user_id);
        // The watchers' message.new, for a member's connection that does not watch.
        let event = NotificationMessageNewEvent {
            cid: new.cid.clone(),
            channel_type: new.channel_type.clone(),
            channel_id: new.channel_id.clone(),
            created_at: new.created_at.clone(),
            user: new.user.clone(),
            channel: Some(channel_view(inner, channel, &caller)),
            message: new.message.clone(),
            message_id: new.message_id.clone(),
            watcher_count: new.watcher_count,
            channel_member_count: new.channel_member_count,
            total_unread_count: Some(unread),
            unread_count: Some(unread),
            unread_channels: Some(unread_channels),
            extra: new.extra.clone(),
        };
        inner.send_to(conn_id, &event);
    }
}

/// Message keys the server manages: never taken from a request's custom fields.
const SERVER_MESSAGE_KEYS: [&str; 14] = [
    "pinned_at",
    "pinned_by",
    "pin_expires",
    "restricted_visibility",
    "deleted_at",
    "message_text_updated_at",
    "command",
    "i18n",
    "quoted_message",
    "mentioned_groups",
    "deleted_for_me",
    "status",
    "error",
    "__html",
];

/// The custom fields of a message in a request: its other keys, minus server-managed ones.
pub(super) fn custom_fields(extra: &Map<String, Value>) -> Map<String, Value> {
    let mut custom = extra.clone();
    SERVER_MESSAGE_KEYS.iter().for_each(|k| {
        custom.remove(*k);
    });
    custom
}

/// The server-managed keys of a stored message's `extra`.
pub(super) fn server_fields(extra: &Map<String, Value>) -> Map<String, Value> {
    extra
        .iter()
        .filter(|(k, _)| SERVER_MESSAGE_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What a client writes of a message when sending or updating it, validated.
pub(super) struct MessageContent {
    pub text: String,
    pub html: String,
    pub attachments: Vec<Value>,
    /// Users, resolved from the ids (or `{id}` objects) in the request.
    pub mentioned_users: Vec<Value>,
}

impl MessageContent {
    /// Code 4 without text and attachments, code 20 for a text that is too long.
    pub(super) fn validate(inner: &Inner, op: &str, input: &Message) -> ApiResult<Self> {
        let text = input.text.clone().unwrap_or_default();
        let attachments = input.attachments.clone().unwrap_or_default();
        if text.trim().is_empty() && attachments.is_empty() {
            return Err(ApiError::input(
                op,
                "message.text or message.attachments is required",
            ));
        }
        if text.chars().count() > MAX_MESSAGE_LENGTH {
            return Err(ApiError::op(
                op,
                codes::MESSAGE_TOO_LONG,
                format!("message is too long: at most {MAX_MESSAGE_LENGTH} characters"),
            ));
        }
        let mentioned_users = input
            .mentioned_users
            .iter()
            .flatten()
            .filter_map(|m| {
                m.as_str()
                    .map(str::to_owned)
                    .or_else(|| m.get("id")?.as_str().map(str::to_owned))
            })
            .map(|id| serde_json::to_value(inner.user_response(&id)).unwrap_or_default())
            .collect();
        let html = if text.is_empty() {
            String::new()
        } else {
            format!("<p>{}</p>\n", escape_html(&text))
        };
        Ok(MessageContent {
            text,
            html,
            attachments,
            mentioned_users,
        })
    }
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
}

/// Body of mark-read and send-event: the acting user for server-side calls.
#[derive(Deserialize, Default)]
struct ActingBody {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    user: Option<User>,
    #[serde(default)]
    message_id: Option<String>,
    #[serde(default)]
    event: Option<Event>,
}

/// `POST /channels/{type}/{id}/read`.
pub(crate) async fn mark_read(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<Value>> {
    let call = ChannelCall::start("MarkRead", &state, &req, path)?;
    let body: ActingBody = req.json(call.op)?;
    let (mut inner, caller) = call.lock(&state);
    let reader = acting_user(
        call.op,
        &caller,
        "read",
        body.user_id.as_deref(),
        body.user.as_ref(),
    )?;
    let channel = call.existing(&inner)?;
    call.require(&caller, channel, Action::MarkRead)?;
    let last_id = body
        .message_id
        .or_else(|| channel.messages.last().map(|m| m.id.clone()));
    inner.ensure_user(&reader);
    let now = inner.now();
    let channel = inner.channels.get_mut(&call.cid).expect("checked above");
    let read = channel.reads.entry(reader.clone()).or_default();
    read.last_read = now;
    read.last_read_message_id = last_id.clone();
    read.unread = 0;
    let event = MessageReadEvent {
        user: Some(inner.user_response(&reader)),
        last_read_message_id: last_id,
        watcher_count: Some(inner.watcher_count_of(&call.cid)),
        ..inner.channel_event(&call.cid)
    };
    inner.broadcast(&call.cid, &event);
    let (unread, unread_channels) = inner.unread_counts(&reader);
    let note = NotificationMarkReadEvent {
        user: event.user.clone(),
        total_unread_count: Some(unread),
        unread_channels: Some(unread_channels),
        unread_count: Some(unread),
        ..inner.channel_event(&call.cid)
    };
    inner.send_to_user(&reader, &note);
    Ok(Json(json!({"event": event, "duration": DURATION})))
}

/// `POST /channels/{type}/{id}/stop-watching`.
pub(crate) async fn stop_watching(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<Value>> {
    let call = ChannelCall::start("StopWatchingChannel", &state, &req, path)?;
    let _: Value = req.json(call.op)?;
    let (mut inner, caller) = call.lock(&state);
    call.existing(&inner)?;
    // A connection that is already gone watches nothing: stopping is idempotent.
    if let Some(conn_id) = req.param("connection_id")
        && inner.conns.contains_key(conn_id)
    {
        let conn = if caller.is_server() {
            &inner.conns[conn_id]
        } else {
            own_connection(&inner, call.op, &caller, conn_id)?
        };
        let (user_id, anonymous) = (conn.user_id.clone(), conn.anonymous);
        inner.stop_watching(&call.cid, conn_id, &user_id, anonymous);
    }
    Ok(Json(json!({"duration": DURATION})))
}

/// `POST /channels/{type}/{id}/event`: typing and custom events to the watchers.
pub(crate) async fn send_event(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<Value>> {
    let call = ChannelCall::start("SendEvent", &state, &req, path)?;
    let body: ActingBody = req.json(call.op)?;
    let Some(input) = body.event.filter(|e| !e.kind.is_empty()) else {
        return Err(ApiError::input(call.op, "event.type is required"));
    };
    let (mut inner, caller) = call.lock(&state);
    let user = acting_user(
        call.op,
        &caller,
        "event",
        input.extra.get("user_id").and_then(Value::as_str),
        input.user.as_ref(),
    )?;
    let channel = call.existing(&inner)?;
    call.require(&caller, channel, Action::SendCustomEvent)?;
    // Typing and custom events keep the type and fields the client chose.
    let mut event = Event {
        kind: input.kind,
        extra: input.extra,
        user: Some(inner.user_response(&user)),
        watcher_count: Some(inner.watcher_count_of(&call.cid)),
        ..inner.channel_event(&call.cid)
    };
    event.extra.remove("user_id");
    inner.broadcast(&call.cid, &event);
    Ok(Json(json!({"event": event, "duration": DURATION})))
}

/// Body of `POST /channels/{type}/{id}`.
#[derive(Deserialize, Default)]
struct UpdateChannelBody {
    #[serde(default)]
    add_members: Option<Vec<Value>>,
    #[serde(default)]
    remove_members: Option<Vec<Value>>,
    #[serde(default)]
    data: Option<Map<String, Value>>,
}

/// `POST /channels/{type}/{id}`: add/remove members and replace custom data.
pub(crate) async fn update_channel(
    State(state): State<Arc<AppState>>,
    path: ChannelPath,
    req: Req,
) -> ApiResult<Json<Value>> {
    let call = ChannelCall::start("UpdateChannel", &state, &req, path)?;
    let body: UpdateChannelBody = req.json(call.op)?;
    let (mut inner, caller) = call.lock(&state);
    let channel = call.existing(&inner)?;
    let ids = |v: &Option<Vec<Value>>| {
        ChannelRequestData {
            members: v.clone(),
            ..Default::default()
        }
        .member_ids()
    };
    let (add, remove) = (ids(&body.add_members), ids(&body.remove_members));
    if !add.is_empty() || !remove.is_empty() {
        call.require(&caller, channel, Action::UpdateChannelMembers)?;
    }
    if body.data.is_some() {
        call.require(&caller, channel, Action::UpdateChannel)?;
    }
    add.iter().for_each(|id| inner.ensure_user(id));
    let now = inner.now();
    let channel = inner.channels.get_mut(&call.cid).expect("checked above");
    let mut added = Vec::new();
    for user_id in add {
        if !channel.is_member(&user_id) {
            let role = if user_id == channel.created_by {
                "owner"
            } else {
                "member"
            };
            added.push(user_id.clone());
            channel
                .reads
                .entry(user_id.clone())
                .or_insert_with(|| ReadRec {
                    last_read: now.clone(),
                    ..ReadRec::default()
                });
            channel.members.push(MemberRec {
                user_id,
                role,
                created_at: now.clone(),
            });
        }
    }
    channel.members.retain(|m| !remove.contains(&m.user_id));
    if let Some(mut data) = body.data {
        RESERVED_CHANNEL_KEYS.iter().for_each(|k| {
            data.remove(*k);
        });
        channel.custom = data;
    }
    channel.updated_at = now;
    added.retain(|id| !remove.contains(id));
    notify_added(&mut inner, &call.cid, &added, &caller.id);
    let state = channel_state(
        &inner,
        &call.cid,
        &caller,
        &MessagePage::parse(call.op, None, DEFAULT_MESSAGE_LIMIT)?,
        &WatcherPage::default(),
    );
    Ok(Json(
        json!({"channel": state.channel, "members": state.members, "duration": DURATION}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten messages with ids that sort backwards (`m9` … `m0` in channel order), one
    /// second apart from 2025-01-01T00:00:00Z.
    fn msgs() -> Vec<Message> {
        (0..10)
            .map(|i| Message {
                id: format!("m{}", 9 - i),
                created_at: Some(format!("2025-01-01T00:00:{i:02}.000000000Z")),
                ..Message::default()
            })
            .collect()
    }

    fn ids(page: Vec<Message>) -> Vec<String> {
        page.into_iter().map(|m| m.id).collect()
    }

    /// The ids of the page that pagination `v` selects from `messages`.
    fn page_ids(messages: &[&Message], v: Value) -> Vec<String> {
        let p = serde_json::from_value::<MessagePagination>(v).unwrap();
        ids(MessagePage::parse("Op", Some(&p), 100)
            .unwrap()
            .select(messages))
    }

    #[test]
    fn pagination_is_positional_not_lexicographic() {
        let all = msgs();
        let refs: Vec<&Message> = all.iter().collect();
        let page = |v: Value| page_ids(&refs, v);
        let newest = MessagePage::parse("Op", None, 3).unwrap().select(&refs);
        assert_eq!(ids(newest), ["m2", "m1", "m0"]);
        assert_eq!(page(json!({"limit": 2, "id_lt": "m4"})), ["m6", "m5"]);
        assert_eq!(page(json!({"limit": 2, "id_lte": "m4"})), ["m5", "m4"]);
        assert_eq!(page(json!({"limit": 2, "id_gt": "m4"})), ["m3", "m2"]);
        assert_eq!(page(json!({"limit": 2, "id_gte": "m4"})), ["m4", "m3"]);
        assert_eq!(
            page(json!({"limit": 3, "id_around": "m4"})),
            ["m5", "m4", "m3"]
        );
        assert_eq!(page(json!({"limit": 2, "offset": 1})), ["m2", "m1"]);
        // Both bounds: the range between them, from its start.
        assert_eq!(
            page(json!({"limit": 5, "id_gt": "m8", "id_lt": "m5"})),
            ["m7", "m6"]
        );
        assert!(page(json!({"id_lt": "nope"})).is_empty());
        assert!(page(json!({"id_gt": "m0"})).is_empty());
        assert!(page(json!({"limit": 0})).is_empty());
        let huge = json!({"limit": u32::MAX, "offset": u32::MAX, "id_around": "m0"});
        assert_eq!(page(huge).len(), 10, "capped at 300, no overflow");
        let around_last = page(json!({"limit": 4, "id_around": "m0"}));
        assert_eq!(around_last, ["m2", "m1", "m0"]);
    }

    #[test]
    fn pagination_by_time() {
        let all = msgs();
        let refs: Vec<&Message> = all.iter().collect();
        let page = |v: Value| page_ids(&refs, v);
        // m5 is at 00:04; JS sends millisecond precision.
        let t = "2025-01-01T00:00:04.000Z";
        let key = |k: &str| json!({"limit": 2, k: t});
        assert_eq!(page(key("created_at_before")), ["m7", "m6"]);
        assert_eq!(page(key("created_at_before_or_equal")), ["m6", "m5"]);
        assert_eq!(page(key("created_at_after")), ["m4", "m3"]);
        assert_eq!(page(key("created_at_after_or_equal")), ["m5", "m4"]);
        assert_eq!(page(key("created_at_around")), ["m6", "m5"]);
        assert_eq!(
            page(json!({"created_at_after": "2025-01-01T02:00:06+02:00"})),
            ["m2", "m1", "m0"]
        );
        for key in ["created_at_before", "created_at_around"] {
            let p = serde_json::from_value::<MessagePagination>(json!({key: "yesterday"})).unwrap();
            let err = MessagePage::parse("Op", Some(&p), 100).err().unwrap();
            assert_eq!(err.0.code, codes::INPUT);
            assert!(err.0.message.contains(key), "{}", err.0.message);
        }
        // A time that is not a string does not parse at all (the body is code 4).
        assert!(
            serde_json::from_value::<MessagePagination>(json!({"created_at_before": 12})).is_err()
        );
    }
}
