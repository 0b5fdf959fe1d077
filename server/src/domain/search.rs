//! Message search (`GET /search`): the messages of the channels the caller may read that
//! match a text `query` (case-insensitive substring, the same as `{text: {$q: query}}`) or
//! message filter conditions (`text` with `$q`/`$autocomplete`, `id`, `type`, `parent_id`,
//! `reply_count`, `attachments`, `attachments.type`, `mentioned_users.id`, `user.id`,
//! `created_at`, `updated_at`, `pinned`, custom fields). Deleted and system messages are
//! not searched. Sorted by relevance (how often the text occurs), then id, unless told;
//! paged by `limit` + `offset` or by the opaque `next`/`previous` cursors (`cursor.rs`).
//! At most [`MAX_SEARCH_CHANNELS`] channels are searched; a filter matching more gets a
//! `results_warning`.

use serde_json::{Map, Value, json};
use stream_chat_protocol::names::message_type;
use stream_chat_protocol::{Message, SearchRequest, SearchResult, SearchWarning, SortParam, time};

use super::caller::Actor;
use super::channels::{Loaded, channel_doc};
use super::message_view::{Viewer, pin_active};
use super::permissions::{self, Action};
use super::{Chat, cursor, filter};
use crate::config::{DEFAULT_SEARCH_LIMIT, MAX_SEARCH_CHANNELS, MAX_SEARCH_RESULTS};
use crate::error::{ApiError, ApiResult};

/// A search's answer: results, cursors, and the warning when channels were left out.
pub(crate) struct Found {
    pub results: Vec<SearchResult>,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub warning: Option<SearchWarning>,
}

/// The text terms a filter looks for in `text` (`$q`, `$autocomplete`, at any depth).
fn text_terms(filter: &Map<String, Value>, terms: &mut Vec<String>) {
    for (key, cond) in filter {
        match (key.as_str(), cond) {
            ("$and" | "$or", Value::Array(items)) => {
                for item in items.iter().filter_map(Value::as_object) {
                    text_terms(item, terms);
                }
            }
            ("text", Value::Object(ops)) => {
                for op in ["$q", "$autocomplete"] {
                    if let Some(term) = ops.get(op).and_then(Value::as_str) {
                        terms.push(term.to_lowercase());
                    }
                }
            }
            _ => {}
        }
    }
}

/// The document a message filter matches against, with its relevance for `terms`.
fn message_doc(m: &Message, now: i128, terms: &[String]) -> Value {
    let mut doc = m.extra.clone();
    let text = m.text.clone().unwrap_or_default();
    let lower = text.to_lowercase();
    let relevance: usize = terms
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| lower.matches(t.as_str()).count())
        .sum();
    let attachments = m.attachments.clone().unwrap_or_default();
    let attachment_types: Vec<Value> = attachments
        .iter()
        .filter_map(|a| a.get("type").cloned())
        .collect();
    let mentioned: Vec<Value> = m
        .mentioned_users
        .iter()
        .flatten()
        .filter_map(|u| u.get("id").or(Some(u)).cloned())
        .collect();
    for (k, v) in [
        ("id", json!(m.id)),
        ("cid", json!(m.cid)),
        ("text", json!(text)),
        ("type", json!(m.kind)),
        ("parent_id", json!(m.parent_id)),
        ("reply_count", json!(m.reply_count.unwrap_or(0))),
        (
            "attachments",
            if attachments.is_empty() {
                Value::Null
            } else {
                json!(attachments)
            },
        ),
        ("attachments.type", json!(attachment_types)),
        ("mentioned_users.id", json!(mentioned)),
        ("user.id", json!(m.user_id_or_empty())),
        ("created_at", json!(m.created_at)),
        ("updated_at", json!(m.updated_at)),
        ("pinned", json!(pin_active(m, now))),
        ("relevance", json!(relevance)),
    ] {
        doc.insert(k.to_owned(), v);
    }
    Value::Object(doc)
}

/// Code 4 unless the request is a valid search; returns the message filter it stands for.
fn message_filter(op: &str, request: &SearchRequest) -> ApiResult<Map<String, Value>> {
    match request.filter_conditions.as_ref() {
        Some(f) if !f.is_empty() => filter::validate(f)
            .map_err(|e| ApiError::input(op, format!("filter_conditions: {e}")))?,
        _ => return Err(ApiError::input(op, "filter_conditions is required")),
    }
    let filter = match (&request.query, &request.message_filter_conditions) {
        (Some(_), Some(_)) => {
            return Err(ApiError::input(
                op,
                "query and message_filter_conditions cannot be used together",
            ));
        }
        (Some(q), None) if !q.trim().is_empty() => {
            Map::from_iter([("text".to_owned(), json!({"$q": q}))])
        }
        (None, Some(f)) if !f.is_empty() => f.clone(),
        _ => {
            return Err(ApiError::input(
                op,
                "either query or message_filter_conditions is required",
            ));
        }
    };
    filter::validate(&filter)
        .map_err(|e| ApiError::input(op, format!("message_filter_conditions: {e}")))?;
    let offset = request.offset.unwrap_or(0);
    if offset > 0 && (request.next.is_some() || !request.sort.is_empty()) {
        return Err(ApiError::input(
            op,
            "cannot use offset with sort or next parameters",
        ));
    }
    if offset >= MAX_SEARCH_RESULTS {
        return Err(ApiError::input(
            op,
            format!("offset reaches at most the first {MAX_SEARCH_RESULTS} results"),
        ));
    }
    Ok(filter)
}

impl Chat {
    /// `GET /search`: see the module documentation.
    pub(crate) fn search(
        &self,
        op: &str,
        actor: Actor,
        request: SearchRequest,
    ) -> ApiResult<Found> {
        let message_filter = message_filter(op, &request)?;
        let channel_filter = request.filter_conditions.clone().unwrap_or_default();
        let mut terms = Vec::new();
        text_terms(&message_filter, &mut terms);
        let offset = request.offset.unwrap_or(0);
        let limit = request
            .limit
            .unwrap_or(DEFAULT_SEARCH_LIMIT)
            .min(MAX_SEARCH_RESULTS - offset) as usize;

        let (world, caller) = self.enter(actor)?;
        let mut channels = Vec::new();
        let mut matched = 0;
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
            let searchable = permissions::config(&channel.record.kind, "").search;
            let muted = world.channel_muted(&caller.id, &channel.record.cid)?;
            let hit = filter::matches(&channel_doc(&channel, &caller, muted), &channel_filter)
                .map_err(|e| ApiError::input(op, e))?;
            if hit && readable && searchable {
                matched += 1;
                if channels.len() < MAX_SEARCH_CHANNELS {
                    channels.push(channel);
                }
            }
        }
        let warning = (matched > channels.len()).then(|| SearchWarning {
            warning_code: 1,
            warning_description: format!(
                "the channel filter matched {matched} channels: only the first {MAX_SEARCH_CHANNELS} were searched"
            ),
            channel_search_count: channels.len() as u64,
            channel_search_cids: channels.iter().map(|c| c.record.cid.clone()).collect(),
        });

        let now = time::now_nanos();
        let mut hits = Vec::new();
        for (i, channel) in channels.iter().enumerate() {
            for m in world.store.all_messages(&channel.record.cid)? {
                if matches!(
                    m.kind.as_deref(),
                    Some(message_type::DELETED | message_type::SYSTEM)
                ) {
                    continue;
                }
                let doc = message_doc(&m, now, &terms);
                if filter::matches(&doc, &message_filter).map_err(|e| ApiError::input(op, e))? {
                    hits.push((doc, (m, i)));
                }
            }
        }
        let mut sort = request.sort.clone();
        if sort.is_empty() {
            sort.push(SortParam {
                field: "relevance".into(),
                direction: -1,
            });
        }
        let page = cursor::page(
            hits,
            &cursor::Request {
                sort: &sort,
                unique: "id",
                limit,
                offset: offset as usize,
                cursor: request.next.as_deref(),
            },
        )
        .map_err(|e| ApiError::input(op, e))?;
        let viewer = Viewer::of(&caller);
        let mut results = Vec::new();
        for (m, i) in page.items {
            let mut message = world.message_view(m, viewer)?;
            message.channel = Some(Box::new(world.channel_view(&channels[i], &caller)?));
            results.push(SearchResult { message });
        }
        Ok(Found {
            results,
            next: page.next,
            previous: page.prev,
            warning,
        })
    }
}
