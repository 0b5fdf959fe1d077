//! The property test of the read state (`reads.rs`): random sequences of the operations
//! that change unread counts, driven through the domain API, and after every step each
//! member's `unread_messages` and `last_read_message_id`, and each user's totals and
//! per-channel unread list, compared with a plain model that recounts from scratch.

#![allow(clippy::needless_range_loop)] // indices are the model's user and channel numbers

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::json;
use stream_chat_protocol::{
    HideChannelRequest, MarkAllReadRequest, MarkReadRequest, MarkUnreadRequest, Message,
    MuteChannelRequest, MuteUserRequest, QueryChannelRequest, TruncateChannelRequest,
    UpdateChannelRequest,
};

use super::Chat;
use super::caller::Actor;
use super::channels::ChannelKey;
use crate::config::Config;

const USERS: [&str; 4] = ["u0", "u1", "u2", "u3"];
const CHANNELS: [&str; 2] = ["c0", "c1"];
/// Cases per run (each a fresh server and up to 40 operations).
pub(crate) const CASES: u32 = 512;

#[derive(Clone, Debug)]
enum Op {
    Send {
        user: usize,
        channel: usize,
    },
    MarkRead {
        user: usize,
        channel: usize,
    },
    MarkReadUpTo {
        user: usize,
        channel: usize,
        pick: usize,
    },
    MarkUnread {
        user: usize,
        channel: usize,
        pick: usize,
    },
    MarkAllRead {
        user: usize,
    },
    Truncate {
        channel: usize,
    },
    Delete {
        channel: usize,
        pick: usize,
        hard: bool,
    },
    Hide {
        user: usize,
        channel: usize,
        clear: bool,
    },
    Show {
        user: usize,
        channel: usize,
    },
    Remove {
        user: usize,
        channel: usize,
    },
    Add {
        user: usize,
        channel: usize,
    },
    MuteChannel {
        user: usize,
        channel: usize,
        on: bool,
    },
    MuteUser {
        user: usize,
        target: usize,
        on: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let u = 0..USERS.len();
    let c = 0..CHANNELS.len();
    prop_oneof![
        6 => (u.clone(), c.clone()).prop_map(|(user, channel)| Op::Send { user, channel }),
        2 => (u.clone(), c.clone()).prop_map(|(user, channel)| Op::MarkRead { user, channel }),
        2 => (u.clone(), c.clone(), 0..64usize)
            .prop_map(|(user, channel, pick)| Op::MarkReadUpTo { user, channel, pick }),
        2 => (u.clone(), c.clone(), 0..64usize)
            .prop_map(|(user, channel, pick)| Op::MarkUnread { user, channel, pick }),
        1 => u.clone().prop_map(|user| Op::MarkAllRead { user }),
        1 => c.clone().prop_map(|channel| Op::Truncate { channel }),
        2 => (c.clone(), 0..64usize, any::<bool>())
            .prop_map(|(channel, pick, hard)| Op::Delete { channel, pick, hard }),
        1 => (u.clone(), c.clone(), any::<bool>())
            .prop_map(|(user, channel, clear)| Op::Hide { user, channel, clear }),
        1 => (u.clone(), c.clone()).prop_map(|(user, channel)| Op::Show { user, channel }),
        1 => (u.clone(), c.clone()).prop_map(|(user, channel)| Op::Remove { user, channel }),
        1 => (u.clone(), c.clone()).prop_map(|(user, channel)| Op::Add { user, channel }),
        1 => (u.clone(), c.clone(), any::<bool>())
            .prop_map(|(user, channel, on)| Op::MuteChannel { user, channel, on }),
        1 => (u.clone(), u, any::<bool>())
            .prop_map(|(user, target, on)| Op::MuteUser { user, target, on }),
    ]
}

/// One message as the model sees it: a sequence number (time), author, deleted or not.
#[derive(Clone, Debug)]
struct M {
    id: String,
    seq: u64,
    author: usize,
    deleted: bool,
}

/// A member's read state in the model: read through `read` (a sequence number), the
/// last message read, hidden, messages at or before `floor` hidden from them.
#[derive(Clone, Debug, Default)]
struct R {
    read: u64,
    last_id: Option<String>,
    hidden: bool,
    floor: u64,
}

#[derive(Default)]
struct Model {
    seq: u64,
    next_id: u64,
    messages: [Vec<M>; 2],
    members: [BTreeSet<usize>; 2],
    reads: [BTreeMap<usize, R>; 2],
    channel_mutes: BTreeSet<(usize, usize)>,
    mutes: BTreeSet<(usize, usize)>,
}

impl Model {
    /// Whether `user` may post, mark read and mute in `c`: a member, or the creator (u0),
    /// who keeps the `-owner` grants after leaving.
    fn may(&self, user: usize, c: usize) -> bool {
        user == 0 || self.members[c].contains(&user)
    }

    fn tick(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn unread(&self, user: usize, c: usize) -> u64 {
        let r = &self.reads[c][&user];
        self.messages[c]
            .iter()
            .filter(|m| m.seq > r.read.max(r.floor))
            .filter(|m| m.author != user && !m.deleted && !self.mutes.contains(&(user, m.author)))
            .count() as u64
    }

    fn newest(&self, c: usize) -> Option<String> {
        self.messages[c].last().map(|m| m.id.clone())
    }

    /// `(total, {cid: unread})` as `GET /unread` reports them.
    fn totals(&self, user: usize) -> (u64, BTreeMap<String, u64>) {
        let mut per = BTreeMap::new();
        for c in 0..CHANNELS.len() {
            if !self.members[c].contains(&user)
                || self.reads[c][&user].hidden
                || self.channel_mutes.contains(&(user, c))
            {
                continue;
            }
            let n = self.unread(user, c);
            if n > 0 {
                per.insert(format!("messaging:{}", CHANNELS[c]), n);
            }
        }
        (per.values().sum(), per)
    }
}

fn key(c: usize) -> ChannelKey {
    ChannelKey::new("Test", "messaging".into(), CHANNELS[c].into()).unwrap()
}

fn user(u: usize) -> Actor {
    Actor::User(USERS[u].into())
}

/// Creates the users and channels (members u0, u1, u2; u3 is not a member).
fn setup() -> (Chat, Model) {
    let chat = Chat::new(&Config::default());
    let mut model = Model::default();
    for c in 0..CHANNELS.len() {
        let body: QueryChannelRequest = serde_json::from_value(json!({
            "data": {"created_by_id": "u0", "members": ["u0", "u1", "u2"]}
        }))
        .unwrap();
        chat.query_channel("Test", Actor::Server, &key(c), body, None)
            .unwrap();
        let now = model.tick();
        for u in 0..3 {
            model.members[c].insert(u);
            model.reads[c].insert(
                u,
                R {
                    read: now,
                    ..R::default()
                },
            );
        }
    }
    chat.lock()
        .store
        .put_user(stream_chat_protocol::User::new("u3"))
        .unwrap();
    (chat, model)
}

/// Applies `op` to the server and, when the server accepts it, to the model; an op the
/// model says must be refused is checked to be refused.
fn apply(chat: &Chat, model: &mut Model, op: &Op) {
    match *op {
        Op::Send {
            user: u,
            channel: c,
        } => {
            let id = format!("m{}", model.next_id);
            model.next_id += 1;
            let message = Message {
                id: id.clone(),
                ..Message::with_text("hi")
            };
            let sent = chat.send_message("Test", user(u), &key(c), message);
            if !model.may(u, c) {
                assert!(sent.is_err(), "a non-member posted");
                return;
            }
            sent.unwrap();
            let seq = model.tick();
            model.messages[c].push(M {
                id: id.clone(),
                seq,
                author: u,
                deleted: false,
            });
            for r in model.reads[c].values_mut() {
                r.hidden = false;
            }
            if model.members[c].contains(&u) {
                let r = model.reads[c].get_mut(&u).unwrap();
                r.read = seq;
                r.last_id = Some(id);
            }
        }
        Op::MarkRead {
            user: u,
            channel: c,
        } => {
            let done = chat.mark_read("Test", user(u), &key(c), MarkReadRequest::default());
            if !model.may(u, c) {
                assert!(done.is_err());
                return;
            }
            done.unwrap();
            let now = model.tick();
            let newest = model.newest(c);
            let r = model.reads[c].get_mut(&u).unwrap();
            r.read = now;
            r.last_id = newest;
        }
        Op::MarkReadUpTo {
            user: u,
            channel: c,
            pick,
        } => {
            let Some(m) = pick_message(model, c, pick) else {
                return;
            };
            let mark = MarkReadRequest {
                message_id: Some(m.id.clone()),
                ..MarkReadRequest::default()
            };
            let done = chat.mark_read("Test", user(u), &key(c), mark);
            if !model.may(u, c) {
                assert!(done.is_err());
                return;
            }
            done.unwrap();
            model.tick();
            let r = model.reads[c].get_mut(&u).unwrap();
            r.read = m.seq;
            r.last_id = Some(m.id);
        }
        Op::MarkUnread {
            user: u,
            channel: c,
            pick,
        } => {
            let Some(m) = pick_message(model, c, pick) else {
                return;
            };
            let mark = MarkUnreadRequest {
                message_id: Some(m.id.clone()),
                ..MarkUnreadRequest::default()
            };
            let done = chat.mark_unread("Test", user(u), &key(c), mark);
            if !model.members[c].contains(&u) {
                assert!(done.is_err());
                return;
            }
            done.unwrap();
            let before = model.messages[c]
                .iter()
                .take_while(|x| x.id != m.id)
                .last()
                .map(|x| x.id.clone());
            let r = model.reads[c].get_mut(&u).unwrap();
            r.read = m.seq - 1;
            r.last_id = before;
        }
        Op::MarkAllRead { user: u } => {
            chat.mark_all_read("Test", user(u), MarkAllReadRequest::default())
                .unwrap();
            for c in 0..CHANNELS.len() {
                if model.members[c].contains(&u) {
                    let now = model.tick();
                    let newest = model.newest(c);
                    let r = model.reads[c].get_mut(&u).unwrap();
                    r.read = now;
                    r.last_id = newest;
                }
            }
        }
        Op::Truncate { channel: c } => {
            let body = TruncateChannelRequest::default();
            chat.truncate_channel("Test", Actor::Server, &key(c), body)
                .unwrap();
            model.tick();
            model.messages[c].clear();
        }
        Op::Delete {
            channel: c,
            pick,
            hard,
        } => {
            let Some(m) = pick_message(model, c, pick) else {
                return;
            };
            let how = Some(if hard { "true" } else { "false" });
            chat.delete_message("Test", Actor::Server, &m.id, how)
                .unwrap();
            model.tick();
            if hard {
                model.messages[c].retain(|x| x.id != m.id);
            } else if let Some(x) = model.messages[c].iter_mut().find(|x| x.id == m.id) {
                x.deleted = true;
            }
        }
        Op::Hide {
            user: u,
            channel: c,
            clear,
        } => {
            let body = HideChannelRequest {
                user_id: None,
                clear_history: Some(clear),
            };
            let done = chat.hide_channel("Test", user(u), &key(c), body, true);
            if !model.members[c].contains(&u) {
                assert!(done.is_err());
                return;
            }
            done.unwrap();
            let now = model.tick();
            let r = model.reads[c].get_mut(&u).unwrap();
            r.hidden = true;
            if clear {
                r.floor = now;
                r.read = now;
                r.last_id = None;
            }
        }
        Op::Show {
            user: u,
            channel: c,
        } => {
            let done = chat.hide_channel(
                "Test",
                user(u),
                &key(c),
                HideChannelRequest::default(),
                false,
            );
            if !model.members[c].contains(&u) {
                assert!(done.is_err());
                return;
            }
            done.unwrap();
            model.tick();
            model.reads[c].get_mut(&u).unwrap().hidden = false;
        }
        Op::Remove {
            user: u,
            channel: c,
        } => {
            let body = UpdateChannelRequest {
                remove_members: Some(vec![json!(USERS[u])]),
                ..UpdateChannelRequest::default()
            };
            chat.update_channel("Test", Actor::Server, &key(c), body)
                .unwrap();
            model.tick();
            model.members[c].remove(&u);
        }
        Op::Add {
            user: u,
            channel: c,
        } => {
            let body = UpdateChannelRequest {
                add_members: Some(vec![json!(USERS[u])]),
                ..UpdateChannelRequest::default()
            };
            chat.update_channel("Test", Actor::Server, &key(c), body)
                .unwrap();
            let now = model.tick();
            if model.members[c].insert(u) {
                // A returning member keeps their read state; a new one has read everything.
                let r = model.reads[c].entry(u).or_insert_with(|| R {
                    read: now,
                    ..R::default()
                });
                r.hidden = false;
                r.floor = 0;
            }
        }
        Op::MuteChannel {
            user: u,
            channel: c,
            on,
        } => {
            let body = MuteChannelRequest {
                channel_cid: Some(key(c).cid),
                ..MuteChannelRequest::default()
            };
            let done = chat.mute_channels("Test", user(u), body, on);
            if !model.may(u, c) {
                assert!(done.is_err());
                return;
            }
            done.unwrap();
            model.tick();
            if on {
                model.channel_mutes.insert((u, c));
            } else {
                model.channel_mutes.remove(&(u, c));
            }
        }
        Op::MuteUser {
            user: u,
            target: t,
            on,
        } => {
            let body = MuteUserRequest {
                target_id: Some(USERS[t].into()),
                ..MuteUserRequest::default()
            };
            let done = if on {
                chat.mute_users("Test", user(u), body)
            } else {
                chat.unmute_users("Test", user(u), body)
            };
            if on && u == t {
                assert!(done.is_err(), "muting oneself is refused");
                return;
            }
            done.unwrap();
            model.tick();
            if on {
                model.mutes.insert((u, t));
            } else {
                model.mutes.remove(&(u, t));
            }
        }
    }
}

/// A message of channel `c` (the `pick`-th, modulo), if it has any.
fn pick_message(model: &Model, c: usize, pick: usize) -> Option<M> {
    let messages = &model.messages[c];
    (!messages.is_empty()).then(|| messages[pick % messages.len()].clone())
}

/// Every counter the server reports equals the model's.
fn check(chat: &Chat, model: &Model, step: usize, op: &Op) {
    for u in 0..USERS.len() {
        let counts = chat.unread_counts("Test", user(u), None).unwrap();
        let (total, per) = model.totals(u);
        let got: BTreeMap<String, u64> = counts
            .channels
            .iter()
            .map(|c| (c.channel_id.clone(), c.unread_count))
            .collect();
        assert_eq!(
            (counts.total_unread_count, &got),
            (total, &per),
            "totals of {} after step {step} ({op:?})",
            USERS[u]
        );
        let me = chat.lock().own_user(USERS[u]).unwrap();
        assert_eq!(me.total_unread_count, Some(total), "me of {}", USERS[u]);
        assert_eq!(me.unread_channels, Some(per.len() as u64));
    }
    for c in 0..CHANNELS.len() {
        let world = chat.lock();
        let reads: BTreeMap<String, super::store::ReadRecord> = world
            .store
            .reads(&key(c).cid)
            .unwrap()
            .into_iter()
            .collect();
        drop(world);
        for &u in &model.members[c] {
            let read = &reads[USERS[u]];
            let want = &model.reads[c][&u];
            assert_eq!(
                (read.unread, &read.last_read_message_id),
                (model.unread(u, c), &want.last_id),
                "{} in {} after step {step} ({op:?})",
                USERS[u],
                CHANNELS[c]
            );
        }
    }
}

proptest! {
    // No regression files: a failure prints its minimal sequence of operations.
    #![proptest_config(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn unread_counts_follow_the_model(ops in prop::collection::vec(op(), 1..40)) {
        let (chat, mut model) = setup();
        check(&chat, &model, 0, &Op::MarkAllRead { user: 0 });
        for (step, op) in ops.iter().enumerate() {
            apply(&chat, &mut model, op);
            check(&chat, &model, step + 1, op);
        }
    }
}
