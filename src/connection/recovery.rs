//! Watched channels and state recovery. Every server event passes through the tracker on
//! its way to the event bus: it remembers, per channel, the newest message seen and a
//! bounded set of recent message ids (to drop duplicates). After a reconnect it re-watches
//! the channels on the new connection and delivers the messages they missed as
//! `message.new` events, then `connection.recovered`. Events received on the new
//! connection meanwhile are held back (at most [`MAX_HELD`]), so each channel's messages
//! stay in order. Known messages that the recovery query shows edited or soft-deleted are
//! replayed as `message.updated` / `message.deleted`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use stream_chat_callbacks::{ChatError, ErrorKind};
use stream_chat_protocol::events::ChannelEvent;
use stream_chat_protocol::names::message_type;
use stream_chat_protocol::time::parse_rfc3339;
use stream_chat_protocol::{ChannelState, Message, MessagePagination, QueryChannelRequest, cid};

use super::session::Session;
use crate::events::{
    ChatEvent, ConnectionRecoveredEvent, EventSender, MessageDeletedEvent, MessageUpdatedEvent,
    NewMessageEvent, RecoveryGap,
};
use crate::rest::{Http, Request};

/// Messages per recovery query (Stream's default channel page).
const PAGE_SIZE: usize = 100;
/// Recent message ids remembered per channel for de-duplication.
const RECENT_IDS: usize = 512;
/// Live events held back during a recovery. Beyond it the held events are delivered in
/// order, later ones go out live, and the channels not yet recovered get a
/// [`RecoveryGap`] instead of their missed messages (which would now arrive out of order).
pub(crate) const MAX_HELD: usize = 10_000;

/// What a known message looked like when last delivered: to spot edits and deletions.
#[derive(Clone, Debug, Default, PartialEq)]
struct Version {
    updated_at: Option<String>,
    text: Option<String>,
    deleted: bool,
}

impl Version {
    fn of(m: &Message) -> Self {
        Version {
            updated_at: m.updated_at.clone(),
            text: m.text.clone(),
            deleted: m.kind.as_deref() == Some(message_type::DELETED),
        }
    }
}

/// A point in a channel's history: a message id and/or its time (ns since the epoch).
#[derive(Clone, Debug, Default, PartialEq)]
struct Seen {
    id: Option<String>,
    at: Option<i128>,
}

#[derive(Default)]
struct Entry {
    /// Re-watched after a reconnect.
    watching: bool,
    /// The newest message seen (delivered, or in a state the app received).
    last: Option<Seen>,
    recent: VecDeque<String>,
    recent_set: HashSet<String>,
    /// The version of each id in `recent`.
    versions: HashMap<String, Version>,
}

impl Entry {
    /// Records a message as seen; false if it was seen before (a duplicate).
    fn note(&mut self, message: &Message) -> bool {
        if message.id.is_empty() {
            return true;
        }
        if !self.recent_set.insert(message.id.clone()) {
            return false;
        }
        self.recent.push_back(message.id.clone());
        self.versions
            .insert(message.id.clone(), Version::of(message));
        if self.recent.len() > RECENT_IDS
            && let Some(old) = self.recent.pop_front()
        {
            self.recent_set.remove(&old);
            self.versions.remove(&old);
        }
        self.advance(Seen {
            id: Some(message.id.clone()),
            at: message.created_at.as_deref().and_then(parse_rfc3339),
        });
        true
    }

    /// Records the current version of a known message; true if it changed.
    fn changed(&mut self, message: &Message) -> bool {
        match self.versions.get_mut(&message.id) {
            Some(v) => {
                let now = Version::of(message);
                let changed = *v != now;
                *v = now;
                changed
            }
            None => false,
        }
    }

    /// Moves `last` forward to `seen` unless `last` is known to be newer.
    fn advance(&mut self, seen: Seen) {
        let newer = match (&self.last, seen.at) {
            (Some(Seen { at: Some(old), .. }), Some(new)) => new >= *old,
            // Without times, the later arrival is the newer one.
            _ => seen.id.is_some() || seen.at.is_some(),
        };
        if newer {
            self.last = Some(seen);
        }
    }
}

/// A recovery in progress (one thread per session at a time).
struct Recovery {
    /// Connection to (re-)run the recovery on; taken by the thread.
    pending: Option<String>,
    connection_id: String,
    /// Events received meanwhile, delivered once the missed messages are.
    buffer: Vec<ChatEvent>,
    channels: Vec<String>,
    recovered: usize,
    gaps: Vec<RecoveryGap>,
    /// The buffer exceeded [`MAX_HELD`]: events go out live from then on.
    overflowed: bool,
}

#[derive(Default)]
struct State {
    /// The session the state belongs to (0: none).
    session: u64,
    /// The current connection, while connected.
    connection_id: Option<String>,
    channels: HashMap<String, Entry>,
    recovery: Option<Recovery>,
}

/// Sees each channel's state as re-watched after a reconnect (the state store's hook).
pub(crate) type RewatchHook = dyn Fn(&ChannelState) + Send + Sync;

pub(crate) struct Tracker {
    events: EventSender,
    http: Arc<Http>,
    max_recovered: usize,
    state: Mutex<State>,
    rewatched: Option<Arc<RewatchHook>>,
}

impl Tracker {
    pub(crate) fn new(
        events: EventSender,
        http: Arc<Http>,
        max_recovered: usize,
        rewatched: Option<Arc<RewatchHook>>,
    ) -> Self {
        Tracker {
            events,
            http,
            max_recovered: max_recovered.max(1),
            state: Mutex::new(State::default()),
            rewatched,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session starts from scratch: watches belong to connections of one user.
    pub(crate) fn reset(&self, session: u64) {
        *self.lock() = State {
            session,
            ..State::default()
        };
    }

    /// Publishes a server event: held back during a recovery, de-duplicated otherwise.
    pub(crate) fn dispatch(&self, event: ChatEvent) {
        let mut st = self.lock();
        let holds = !matches!(
            event,
            ChatEvent::HealthCheck { .. } | ChatEvent::ConnectionError { .. }
        );
        let State {
            channels, recovery, ..
        } = &mut *st;
        if holds && let Some(recovery) = recovery.as_mut().filter(|r| !r.overflowed) {
            recovery.buffer.push(event);
            if recovery.buffer.len() > MAX_HELD {
                log::warn!(
                    "more than {MAX_HELD} events held back during a recovery: delivering them"
                );
                recovery.overflowed = true;
                for event in std::mem::take(&mut recovery.buffer) {
                    deliver(&self.events, channels, event);
                }
            }
            return;
        }
        deliver(&self.events, channels, event);
    }

    pub(crate) fn lost(&self, session: u64) {
        let mut st = self.lock();
        if st.session == session {
            st.connection_id = None;
        }
    }

    /// The session is connected on `connection_id`; after a reconnect, recover.
    pub(crate) fn connected(
        self: &Arc<Self>,
        session: &Arc<Session>,
        connection_id: &str,
        reconnect: bool,
    ) {
        let mut st = self.lock();
        if st.session != session.id() {
            return;
        }
        st.connection_id = Some(connection_id.to_owned());
        if reconnect {
            self.recover(&mut st, session, connection_id);
        }
    }

    /// Channels watched through `connection_id`, with the state the app received.
    pub(crate) fn watched(
        self: &Arc<Self>,
        session: &Arc<Session>,
        connection_id: &str,
        states: &[ChannelState],
    ) {
        let mut st = self.lock();
        if st.session != session.id() {
            return;
        }
        for state in states {
            let entry = st.channels.entry(cid_of(state)).or_default();
            entry.watching = true;
            for m in &state.messages {
                entry.note(m);
            }
            if let Some(at) = state
                .channel
                .last_message_at
                .as_deref()
                .and_then(parse_rfc3339)
            {
                entry.advance(Seen {
                    id: None,
                    at: Some(at),
                });
            }
        }
        // The watch landed on a connection that has been replaced meanwhile.
        if let Some(current) = st.connection_id.clone()
            && current != connection_id
            && !states.is_empty()
        {
            log::info!("a watch used a stale connection; re-watching on {current}");
            self.recover(&mut st, session, &current);
        }
    }

    pub(crate) fn unwatched(&self, cid: &str) {
        self.lock().channels.remove(cid);
    }

    /// Starts (or re-arms) the recovery of the watched channels on `connection_id`.
    fn recover(self: &Arc<Self>, st: &mut State, session: &Arc<Session>, connection_id: &str) {
        if let Some(recovery) = st.recovery.as_mut() {
            recovery.pending = Some(connection_id.to_owned());
            recovery.connection_id = connection_id.to_owned();
            return;
        }
        st.recovery = Some(Recovery {
            pending: Some(connection_id.to_owned()),
            connection_id: connection_id.to_owned(),
            buffer: Vec::new(),
            channels: Vec::new(),
            recovered: 0,
            gaps: Vec::new(),
            overflowed: false,
        });
        if !st.channels.values().any(|e| e.watching) {
            self.finish(st);
            return;
        }
        let (tracker, session) = (Arc::clone(self), Arc::clone(session));
        let spawned = std::thread::Builder::new()
            .name("stream-chat-recovery".into())
            .spawn(move || tracker.run(&session));
        if let Err(e) = spawned {
            log::error!("cannot start the recovery thread: {e}");
            self.finish(st);
        }
    }

    /// Delivers what was held back, then `connection.recovered`.
    fn finish(&self, st: &mut State) {
        let Some(recovery) = st.recovery.take() else {
            return;
        };
        log::info!(
            "recovered {} channel(s), {} missed message(s), {} gap(s)",
            recovery.channels.len(),
            recovery.recovered,
            recovery.gaps.len()
        );
        for event in recovery.buffer {
            deliver(&self.events, &mut st.channels, event);
        }
        self.events.send(ChatEvent::ConnectionRecovered(Box::new(
            ConnectionRecoveredEvent {
                connection_id: recovery.connection_id,
                channels: recovery.channels,
                recovered_messages: recovery.recovered,
                gaps: recovery.gaps,
            },
        )));
    }

    /// The recovery thread: one pass per pending connection, until none is pending.
    fn run(&self, session: &Arc<Session>) {
        loop {
            let (connection_id, targets) = {
                let mut st = self.lock();
                if st.session != session.id() {
                    return;
                }
                let Some(recovery) = st.recovery.as_mut() else {
                    return;
                };
                let Some(connection_id) = recovery.pending.take() else {
                    self.finish(&mut st);
                    return;
                };
                recovery.channels.clear();
                recovery.gaps.clear();
                let mut targets: Vec<(String, Option<Seen>)> = st
                    .channels
                    .iter()
                    .filter(|(_, e)| e.watching)
                    .map(|(cid, e)| (cid.clone(), e.last.clone()))
                    .collect();
                targets.sort_by(|a, b| a.0.cmp(&b.0));
                (connection_id, targets)
            };
            for (cid, last) in targets {
                if session.is_stopped() {
                    return;
                }
                let outcome = self.missed(session, &connection_id, &cid, last.as_ref());
                let mut st = self.lock();
                if st.session != session.id() {
                    return;
                }
                let State {
                    channels, recovery, ..
                } = &mut *st;
                let Some(recovery) = recovery.as_mut() else {
                    return;
                };
                if !channels.get(&cid).is_some_and(|e| e.watching) {
                    continue; // stop_watching() meanwhile
                }
                match outcome {
                    Ok(_) if recovery.overflowed => {
                        recovery.gaps.push(RecoveryGap {
                            cid,
                            before_message_id: None,
                            error: Some(ChatError::new(
                                ErrorKind::Network,
                                format!(
                                    "more than {MAX_HELD} live events arrived during the recovery; \
                                     the missed messages were not delivered"
                                ),
                            )),
                        });
                    }
                    Ok((messages, truncated, known)) => {
                        let entry = channels.entry(cid.clone()).or_default();
                        let changed: Vec<Message> =
                            known.into_iter().filter(|m| entry.changed(m)).collect();
                        for message in changed {
                            self.events.send(replayed_event(&cid, message));
                        }
                        if truncated {
                            recovery.gaps.push(RecoveryGap {
                                cid: cid.clone(),
                                before_message_id: messages.first().map(|m| m.id.clone()),
                                error: None,
                            });
                        }
                        for message in messages {
                            let event = recovered_event(&cid, message);
                            if deliver(&self.events, channels, event) {
                                recovery.recovered += 1;
                            }
                        }
                        recovery.channels.push(cid);
                    }
                    Err(error) => {
                        log::warn!("re-watching {cid} failed: {error}");
                        recovery.gaps.push(RecoveryGap {
                            cid,
                            before_message_id: None,
                            error: Some(error),
                        });
                    }
                }
            }
        }
    }

    /// Re-watches `cid` on `connection_id` and pages back to `last`: the missed messages,
    /// oldest first, whether older missed ones were left out (the bound), and the
    /// already-seen messages those pages held (their current state, oldest first).
    fn missed(
        &self,
        session: &Session,
        connection_id: &str,
        cid: &str,
        last: Option<&Seen>,
    ) -> Result<(Vec<Message>, bool, Vec<Message>), ChatError> {
        let (kind, id) = cid.split_once(':').unwrap_or((cid, ""));
        let path = format!("channels/{kind}/{id}/query");
        let auth = session.rest_auth(Some(connection_id.to_owned()));
        let stop = || session.is_stopped();
        let page_size = PAGE_SIZE.min(self.max_recovered + 1);
        let mut newest_first: Vec<Message> = Vec::new();
        let mut seen: Vec<Message> = Vec::new();
        let mut before: Option<String> = None;
        loop {
            // The first query re-watches: it registers the connection and takes the
            // snapshot atomically, so everything newer arrives as a live event.
            let request = QueryChannelRequest {
                state: Some(true),
                watch: Some(before.is_none()),
                presence: Some(false),
                messages: Some(MessagePagination {
                    limit: Some(page_size as u32),
                    id_lt: before.clone(),
                    ..MessagePagination::default()
                }),
                ..QueryChannelRequest::default()
            };
            let state: ChannelState =
                self.http
                    .send(&Request::post(&path, &request)?, &auth, &stop)?;
            // The re-watched state (members, reads, watchers, the newest page), before the
            // missed messages go out as events: those are then known, not counted twice.
            if before.is_none()
                && let Some(hook) = &self.rewatched
            {
                hook(&state);
            }
            let full = state.messages.len() >= page_size;
            let mut reached = false;
            for m in state.messages.iter().rev() {
                if reached || is_seen(m, last) {
                    reached = true;
                    seen.push(m.clone());
                    continue;
                }
                if newest_first.len() == self.max_recovered {
                    newest_first.reverse();
                    return Ok((newest_first, true, Vec::new()));
                }
                newest_first.push(m.clone());
            }
            before = state.messages.first().map(|m| m.id.clone());
            if reached || !full || before.is_none() {
                newest_first.reverse();
                seen.reverse();
                return Ok((newest_first, false, seen));
            }
        }
    }
}

/// Sends `event`, unless it is a `message.new` seen before. Returns whether it was sent.
fn deliver(events: &EventSender, channels: &mut HashMap<String, Entry>, event: ChatEvent) -> bool {
    match &event {
        ChatEvent::MessageNew(m)
            if !channels.entry(m.cid.clone()).or_default().note(&m.message) =>
        {
            log::debug!("dropping a duplicate message.new for {}", m.message.id);
            return false;
        }
        ChatEvent::MessageUpdated(m) => {
            if let Some(entry) = channels.get_mut(&m.cid) {
                entry.changed(&m.message);
            }
        }
        ChatEvent::MessageDeleted(m) => {
            if let Some(entry) = channels.get_mut(&m.cid) {
                entry.changed(&m.message);
            }
        }
        _ => {}
    }
    events.send(event);
    true
}

/// Whether `m` is at or before the point `last` (so it was seen already).
fn is_seen(m: &Message, last: Option<&Seen>) -> bool {
    let Some(last) = last else {
        return false;
    };
    if last.id.as_deref() == Some(m.id.as_str()) {
        return true;
    }
    match (m.created_at.as_deref().and_then(parse_rfc3339), last.at) {
        (Some(at), Some(seen)) if last.id.is_some() => at < seen,
        (Some(at), Some(seen)) => at <= seen,
        _ => false,
    }
}

fn recovered_event(cid: &str, message: Message) -> ChatEvent {
    let created_at = message.created_at.clone();
    ChatEvent::MessageNew(Box::new(NewMessageEvent {
        user: message.user.clone(),
        recovered: true,
        message,
        ..NewMessageEvent::for_channel(cid, created_at)
    }))
}

/// A known message the recovery query shows changed: `message.deleted` when it is now
/// soft-deleted, `message.updated` otherwise. `extra.recovered` is true.
fn replayed_event(cid: &str, message: Message) -> ChatEvent {
    let mut extra = serde_json::Map::new();
    extra.insert("recovered".into(), serde_json::Value::Bool(true));
    if message.kind.as_deref() == Some(message_type::DELETED) {
        let deleted_at = message
            .extra
            .get("deleted_at")
            .and_then(|v| v.as_str())
            .map(String::from)
            .or_else(|| message.updated_at.clone());
        ChatEvent::MessageDeleted(Box::new(MessageDeletedEvent {
            extra,
            message,
            ..MessageDeletedEvent::for_channel(cid, deleted_at)
        }))
    } else {
        let updated_at = message.updated_at.clone();
        ChatEvent::MessageUpdated(Box::new(MessageUpdatedEvent {
            extra,
            message,
            ..MessageUpdatedEvent::for_channel(cid, updated_at)
        }))
    }
}

fn cid_of(state: &ChannelState) -> String {
    if state.channel.cid.is_empty() {
        cid::format(&state.channel.kind, &state.channel.id)
    } else {
        state.channel.cid.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: &str, at: &str) -> Message {
        Message {
            id: id.into(),
            created_at: Some(at.into()),
            ..Message::default()
        }
    }

    #[test]
    fn entries_drop_duplicates_and_keep_the_newest() {
        let mut e = Entry::default();
        assert!(e.note(&msg("b", "2020-01-01T00:00:02Z")));
        assert!(e.note(&msg("a", "2020-01-01T00:00:01Z")));
        assert!(!e.note(&msg("b", "2020-01-01T00:00:02Z")));
        assert_eq!(e.last.as_ref().unwrap().id.as_deref(), Some("b"));
        for i in 0..RECENT_IDS + 10 {
            e.note(&msg(&format!("x{i}"), "2020-01-01T00:00:03Z"));
        }
        assert_eq!(e.recent.len(), RECENT_IDS);
        assert_eq!(e.recent_set.len(), RECENT_IDS);
        assert!(
            e.note(&msg("b", "2020-01-01T00:00:02Z")),
            "forgotten beyond the bound"
        );
    }

    #[test]
    fn the_seen_point_is_the_id_or_an_older_time() {
        let last = Seen {
            id: Some("m5".into()),
            at: parse_rfc3339("2020-01-01T00:00:05Z"),
        };
        assert!(is_seen(&msg("m5", "2020-01-01T00:00:05Z"), Some(&last)));
        assert!(is_seen(&msg("m4", "2020-01-01T00:00:04Z"), Some(&last)));
        assert!(!is_seen(&msg("m6", "2020-01-01T00:00:06Z"), Some(&last)));
        assert!(!is_seen(&msg("m5b", "2020-01-01T00:00:05Z"), Some(&last)));
        let watermark = Seen {
            id: None,
            at: parse_rfc3339("2020-01-01T00:00:05Z"),
        };
        assert!(is_seen(
            &msg("m5", "2020-01-01T00:00:05Z"),
            Some(&watermark)
        ));
        assert!(!is_seen(&msg("m1", "2020-01-01T00:00:01Z"), None));
    }
}
