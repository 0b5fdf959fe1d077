//! Partial message updates (`PUT /messages/{id}` with `set`/`unset`), pinning (a partial
//! update of `pinned`, `pin_expires`, `pinned_at`, or `pinned` on send), and the channel's
//! pinned messages. A pin ends at `pin_expires`: nothing runs then; every read checks the
//! time (`message_view.rs`), and the next write of the message stores it unpinned.

use serde_json::{Value, json};
use stream_chat_protocol::names::message_type;
use stream_chat_protocol::{
    Message, MessageUpdatedEvent, PartialUpdateMessageRequest, PinnedMessagesRequest, User, time,
};

use super::caller::{Actor, Caller};
use super::channels::{ChannelKey, Loaded};
use super::message_rules::{custom_fields, require_own};
use super::message_view::{Viewer, clear_pin, pin_active};
use super::permissions::Action;
use super::{Chat, World};
use crate::config::{CHANNEL_STATE_PINNED_LIMIT, DEFAULT_PINNED_LIMIT, MAX_PINNED_LIMIT};
use crate::error::{ApiError, ApiResult};

/// The keys of a partial update that pin or unpin.
const PIN_KEYS: [&str; 3] = ["pinned", "pin_expires", "pinned_at"];

/// Message keys a partial update may not write: the server keeps them.
const RESERVED_KEYS: [&str; 22] = [
    "id",
    "cid",
    "type",
    "user",
    "user_id",
    "html",
    "created_at",
    "updated_at",
    "deleted_at",
    "parent_id",
    "reply_count",
    "deleted_reply_count",
    "thread_participants",
    "latest_reactions",
    "own_reactions",
    "reaction_counts",
    "reaction_scores",
    "reaction_groups",
    "quoted_message",
    "pinned_by",
    "message_text_updated_at",
    "channel",
];

/// What a request says about a pin's end.
pub(crate) enum Expiry {
    /// No end.
    Never,
    /// At this time (nanoseconds).
    At(i128),
}

/// Reads `pin_expires`: `null` (no end), an RFC 3339 time, or a number of seconds from
/// `now`. Code 4 for anything else or a time not in the future.
pub(crate) fn parse_expiry(op: &str, value: &Value, now: i128) -> ApiResult<Expiry> {
    let at = match value {
        Value::Null => return Ok(Expiry::Never),
        Value::String(s) => time::parse_rfc3339_or_naive(s).ok_or_else(|| {
            ApiError::input(op, format!("pin_expires '{s}' is not an RFC 3339 time"))
        })?,
        Value::Number(n) => {
            let secs = n
                .as_f64()
                .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e10)
                .ok_or_else(|| {
                    ApiError::input(op, "pin_expires in seconds must be a positive number")
                })?;
            now + (secs * 1e9) as i128
        }
        _ => {
            return Err(ApiError::input(
                op,
                "pin_expires must be a time, a number of seconds or null",
            ));
        }
    };
    if at <= now {
        return Err(ApiError::input(op, "pin_expires must be in the future"));
    }
    Ok(Expiry::At(at))
}

/// Pins `message` by `by` at `at` (RFC 3339) until `expires`.
pub(crate) fn pin(message: &mut Message, by: User, at: String, expires: Expiry) {
    message.pinned = Some(true);
    message.pinned_at = Some(at);
    message.pinned_by = Some(by);
    message.pin_expires = match expires {
        Expiry::Never => None,
        Expiry::At(nanos) => Some(time::format_rfc3339(nanos)),
    };
}

/// Reads a `pinned_at` a client chose (`null` for now).
fn parse_pinned_at(op: &str, value: Option<&Value>) -> ApiResult<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => time::parse_rfc3339_or_naive(s)
            .map(|n| Some(time::format_rfc3339(n)))
            .ok_or_else(|| ApiError::input(op, format!("pinned_at '{s}' is not an RFC 3339 time"))),
        Some(_) => Err(ApiError::input(op, "pinned_at must be a time or null")),
    }
}

/// Which pinned messages a page shows, in `pinned_at` order.
fn select_pinned(
    op: &str,
    mut pinned: Vec<Message>,
    request: &PinnedMessagesRequest,
) -> ApiResult<Vec<Message>> {
    let ascending = request.sort.first().is_some_and(|s| s.direction > 0);
    let key = |m: &Message| (m.pinned_at.clone().unwrap_or_default(), m.id.clone());
    pinned.sort_by_key(key);
    let at = |name: &str, v: &Option<String>| -> ApiResult<Option<String>> {
        v.as_deref()
            .map(|t| {
                time::parse_rfc3339_or_naive(t)
                    .map(time::format_rfc3339)
                    .ok_or_else(|| ApiError::input(op, format!("{name} must be an RFC 3339 time")))
            })
            .transpose()
    };
    // A message bound stands for when that message was pinned; an unknown one selects nothing.
    let of = |id: &Option<String>| -> Option<Option<(String, String)>> {
        id.as_ref()
            .map(|id| pinned.iter().find(|m| &m.id == id).map(key))
    };
    let mut lower: Vec<((String, String), bool)> = Vec::new();
    let mut upper: Vec<((String, String), bool)> = Vec::new();
    let time_key = |t: String, inclusive: bool, lower: bool| {
        // Every id sorts after "" and before "\u{10FFFF}".
        let id = if lower == inclusive { "" } else { "\u{10FFFF}" };
        ((t, id.to_owned()), inclusive)
    };
    if let Some(t) = at("pinned_at_after", &request.pinned_at_after)? {
        lower.push(time_key(t, false, true));
    }
    if let Some(t) = at(
        "pinned_at_after_or_equal",
        &request.pinned_at_after_or_equal,
    )? {
        lower.push(time_key(t, true, true));
    }
    if let Some(t) = at("pinned_at_before", &request.pinned_at_before)? {
        upper.push(time_key(t, false, false));
    }
    if let Some(t) = at(
        "pinned_at_before_or_equal",
        &request.pinned_at_before_or_equal,
    )? {
        upper.push(time_key(t, true, false));
    }
    for (id, inclusive, is_lower) in [
        (&request.id_gt, false, true),
        (&request.id_gte, true, true),
        (&request.id_lt, false, false),
        (&request.id_lte, true, false),
    ] {
        match of(id) {
            None => {}
            Some(None) => return Ok(Vec::new()),
            Some(Some(k)) if is_lower => lower.push((k, inclusive)),
            Some(Some(k)) => upper.push((k, inclusive)),
        }
    }
    let limit = request
        .limit
        .unwrap_or(DEFAULT_PINNED_LIMIT)
        .min(MAX_PINNED_LIMIT) as usize;
    let around = match (
        &request.id_around,
        at("pinned_at_around", &request.pinned_at_around)?,
    ) {
        (Some(id), _) => match of(&Some(id.clone())) {
            Some(Some(k)) => Some(k),
            _ => return Ok(Vec::new()),
        },
        (None, Some(t)) => Some((t, String::new())),
        (None, None) => None,
    };
    if let Some(center) = around {
        let i = pinned.partition_point(|m| key(m) < center);
        let start = i.saturating_sub(limit / 2);
        let mut page: Vec<Message> = pinned.into_iter().skip(start).take(limit).collect();
        if !ascending {
            page.reverse();
        }
        return Ok(page);
    }
    pinned.retain(|m| {
        let k = key(m);
        lower
            .iter()
            .all(|(b, inc)| if *inc { k >= *b } else { k > *b })
            && upper
                .iter()
                .all(|(b, inc)| if *inc { k <= *b } else { k < *b })
    });
    // Page from the side the order starts at: after a lower bound going up, else down.
    let offset = request.offset.unwrap_or(0) as usize;
    let from_start = if lower.is_empty() && upper.is_empty() {
        ascending
    } else {
        !lower.is_empty()
    };
    let mut page: Vec<Message> = if from_start {
        pinned.into_iter().skip(offset).take(limit).collect()
    } else {
        let end = pinned.len().saturating_sub(offset);
        let start = end.saturating_sub(limit);
        pinned.into_iter().take(end).skip(start).collect()
    };
    if !ascending {
        page.reverse();
    }
    Ok(page)
}

impl World {
    /// The active pins of a channel, oldest pin first.
    fn active_pins(&self, cid: &str) -> ApiResult<Vec<Message>> {
        let now = time::now_nanos();
        Ok(self
            .store
            .pinned_messages(cid)?
            .into_iter()
            .filter(|m| pin_active(m, now) && m.kind.as_deref() != Some(message_type::DELETED))
            .collect())
    }

    /// A channel state's `pinned_messages`: the most recently pinned ones, oldest pin
    /// first, as `viewer` sees them.
    pub(crate) fn state_pins(&self, cid: &str, viewer: Viewer) -> ApiResult<Vec<Message>> {
        let mut pins = self.active_pins(cid)?;
        pins.sort_by(|a, b| a.pinned_at.cmp(&b.pinned_at));
        let skip = pins.len().saturating_sub(CHANNEL_STATE_PINNED_LIMIT);
        Ok(self.message_views(pins.split_off(skip), viewer)?)
    }

    /// Pins a message being sent with `pinned: true` (code 17 without `PinMessage`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn pin_on_send(
        &self,
        op: &str,
        caller: &Caller,
        channel: &Loaded,
        message: &mut Message,
        input: &Message,
        by: &User,
        now: &str,
    ) -> ApiResult<()> {
        if input.pinned != Some(true) {
            return Ok(());
        }
        caller.check_team(op, &channel.record.kind, channel.record.team.as_deref())?;
        let mut rel = channel.relation(caller);
        rel.author = true;
        caller.require(op, &channel.record.kind, rel, Action::PinMessage)?;
        let expires = match &input.pin_expires {
            Some(t) => parse_expiry(op, &json!(t), time::now_nanos())?,
            None => Expiry::Never,
        };
        let at = parse_pinned_at(op, input.pinned_at.as_ref().map(|t| json!(t)).as_ref())?
            .unwrap_or_else(|| now.to_owned());
        pin(message, by.clone(), at, expires);
        Ok(())
    }
}

/// Code 4 for a reserved key in `set` or `unset`.
fn check_keys(op: &str, request: &PartialUpdateMessageRequest) -> ApiResult<()> {
    let keys = request.set.keys().chain(request.unset.iter());
    if let Some(k) = keys.clone().find(|k| RESERVED_KEYS.contains(&k.as_str())) {
        return Err(ApiError::input(
            op,
            format!("'{k}' is managed by the server and cannot be updated"),
        ));
    }
    if request.set.is_empty() && request.unset.is_empty() {
        return Err(ApiError::input(op, "set or unset is required"));
    }
    if let Some(k) = request.unset.iter().find(|k| request.set.contains_key(*k)) {
        return Err(ApiError::input(op, format!("'{k}' is both set and unset")));
    }
    Ok(())
}

impl Chat {
    /// `PUT /messages/{id}`: sets and unsets fields of a message. Pin fields need
    /// `PinMessage`, the others `UpdateMessage` (one's own message for users); the content
    /// is validated as on send. `message.updated` to the watchers. Returns the message as
    /// the acting user sees it.
    pub(crate) fn partial_update_message(
        &self,
        op: &str,
        actor: Actor,
        id: &str,
        request: PartialUpdateMessageRequest,
    ) -> ApiResult<Message> {
        check_keys(op, &request)?;
        let (mut world, caller) = self.enter(actor)?;
        let (mut stored, channel) = world.find_message(op, id)?;
        let named = request
            .user_id
            .clone()
            .or_else(|| request.user.as_ref().map(|u| u.id.clone()))
            .filter(|id| !id.is_empty());
        let acting = match caller.actor {
            Actor::Server => named.unwrap_or_else(|| stored.user_id_or_empty().to_owned()),
            _ => caller.acting_user(op, "message", named.as_deref(), None)?,
        };
        if stored.kind.as_deref() == Some(message_type::DELETED) {
            return Err(ApiError::input(
                op,
                format!("message '{id}' was deleted and cannot be updated"),
            ));
        }
        let is_pin = |k: &String| PIN_KEYS.contains(&k.as_str());
        let pins = request.set.keys().chain(&request.unset).any(is_pin);
        let content = request.set.keys().chain(&request.unset).any(|k| !is_pin(k));
        caller.check_team(op, &channel.record.kind, channel.record.team.as_deref())?;
        if pins {
            let mut rel = channel.relation(&caller);
            rel.author = !caller.is_server() && stored.user_id_or_empty() == caller.id;
            caller.require(op, &channel.record.kind, rel, Action::PinMessage)?;
        }
        if content {
            require_own(op, &caller, &channel, &stored, Action::UpdateMessage)?;
        }
        let now_nanos = time::now_nanos();
        if stored.pinned == Some(true) && !pin_active(&stored, now_nanos) {
            clear_pin(&mut stored);
        }
        let before = stored.clone();
        let mut message = if content {
            world.apply_content(op, &stored, &request)?
        } else {
            stored
        };
        let now = world.now();
        if pins {
            let acting_user = world.user_response(&acting)?;
            let unpin = request.unset.iter().any(|k| k == "pinned")
                || request.set.get("pinned") == Some(&Value::Bool(false));
            match request.set.get("pinned") {
                _ if unpin => clear_pin(&mut message),
                Some(Value::Bool(true)) => {
                    let expires = parse_expiry(
                        op,
                        request.set.get("pin_expires").unwrap_or(&Value::Null),
                        now_nanos,
                    )?;
                    let at = parse_pinned_at(op, request.set.get("pinned_at"))?
                        .unwrap_or_else(|| now.clone());
                    pin(&mut message, acting_user, at, expires);
                }
                Some(other) if !other.is_null() => {
                    return Err(ApiError::input(op, "pinned must be true or false"));
                }
                _ => {
                    // Only the end of a pin: it applies to a pinned message.
                    if message.pinned == Some(true) {
                        let value = match request.set.get("pin_expires") {
                            Some(v) => v.clone(),
                            None if request.unset.iter().any(|k| k == "pin_expires") => Value::Null,
                            None => json!(message.pin_expires),
                        };
                        message.pin_expires = match parse_expiry(op, &value, now_nanos)? {
                            Expiry::Never => None,
                            Expiry::At(n) => Some(time::format_rfc3339(n)),
                        };
                    }
                }
            }
        }
        if message.text != before.text {
            message
                .extra
                .insert("message_text_updated_at".into(), json!(now));
        }
        let custom = custom_fields(&message.extra);
        crate::limits::check_custom_data(op, "message", &custom, world.max_custom_data)?;
        message.updated_at = Some(now);
        world.store.put_message(message.clone())?;
        let cid = channel.record.cid.clone();
        let event = MessageUpdatedEvent {
            message: world.message_view(message.clone(), Viewer::Nobody)?,
            user: Some(world.user_response(&acting)?),
            watcher_count: Some(world.conns.watcher_count(&cid)),
            ..world.channel_event(&cid)
        };
        world.broadcast(&cid, &event);
        Ok(world.message_view(message, Viewer::User(&acting))?)
    }

    /// `GET /channels/{type}/{id}/pinned_messages`: a page of the channel's pinned messages
    /// (expired pins excluded), in `pinned_at` order, newest first unless the sort says 1.
    pub(crate) fn pinned_messages(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        request: PinnedMessagesRequest,
    ) -> ApiResult<Vec<Message>> {
        let (world, caller) = self.enter(actor)?;
        let channel = world.existing_channel(op, &key.cid)?;
        channel.require(op, &caller, Action::ReadChannel)?;
        let pins = world.active_pins(&key.cid)?;
        let page = select_pinned(op, pins, &request)?;
        Ok(world.message_views(page, Viewer::of(&caller))?)
    }
}

impl World {
    /// `stored` with the content keys of `request` set and unset, validated as on send.
    fn apply_content(
        &self,
        op: &str,
        stored: &Message,
        request: &PartialUpdateMessageRequest,
    ) -> ApiResult<Message> {
        let Value::Object(mut fields) = serde_json::to_value(stored).unwrap_or_default() else {
            return Err(ApiError::input(op, "the message cannot be updated"));
        };
        for (k, v) in request
            .set
            .iter()
            .filter(|(k, _)| !PIN_KEYS.contains(&k.as_str()))
        {
            fields.insert(k.clone(), v.clone());
        }
        for k in request
            .unset
            .iter()
            .filter(|k| !PIN_KEYS.contains(&k.as_str()))
        {
            fields.remove(k);
        }
        let input: Message = serde_json::from_value(Value::Object(fields))
            .map_err(|e| ApiError::input(op, format!("invalid field in set: {e}")))?;
        let mut message = input.clone();
        self.write_content(op, &mut message, &input)?;
        if let Some(quoted) = &message.quoted_message_id
            && stored.quoted_message_id.as_ref() != Some(quoted)
        {
            self.check_quote(op, stored.cid.as_deref().unwrap_or_default(), quoted)?;
        }
        Ok(message)
    }
}
