//! The store against a straightforward model: random sequences of events and call
//! responses (new, edit, delete, thread replies, pins, reads, mark unread, member changes,
//! truncation, local sends that succeed or fail, recovery after a reconnect with duplicates,
//! a re-watch) applied to the store give what the model computes. Plus unit tests of the
//! query lists and of coalescing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use serde_json::{Value, json};
use stream_chat_callbacks::{CallbackQueue, Executor};
use stream_chat_protocol::events::AnyEvent;
use stream_chat_protocol::time::format_rfc3339;
use stream_chat_protocol::{ChannelState as ChannelResponse, Message, QueryChannelsRequest};

use super::*;
use crate::events::{ChatEvent, from_server};

const CID: &str = "messaging:g";
const BASE: i128 = 1_704_067_200_000_000_000; // 2024-01-01T00:00:00Z
const USERS: [&str; 3] = ["me", "amy", "bob"];

/// Message `n`'s creation time: a fixed, distinct second per id, unrelated to the order of
/// generation.
fn time_of(n: u16) -> i128 {
    BASE + i128::from((u32::from(n) * 7919) % 1000) * 1_000_000_000
}

fn ts(n: i128) -> String {
    format_rfc3339(n)
}

fn event(v: Value) -> ChatEvent {
    from_server(AnyEvent::from_json(&v.to_string()).expect("a valid event"))
}

fn message_json(n: u16, author: usize, text: &str, parent: Option<u16>, pinned: bool) -> Value {
    let mut m = json!({
        "id": format!("m{n}"), "text": text, "user": {"id": USERS[author]},
        "created_at": ts(time_of(n)), "cid": CID, "type": "regular",
    });
    if let Some(p) = parent {
        m["parent_id"] = json!(format!("m{p}"));
    }
    if pinned {
        m["pinned"] = json!(true);
    }
    m
}

#[derive(Clone, Debug)]
enum Op {
    New {
        n: u16,
        author: usize,
        parent: Option<u16>,
        pinned: bool,
    },
    Edit {
        n: u16,
        text: u8,
        pinned: bool,
    },
    Delete {
        n: u16,
        hard: bool,
    },
    Read {
        user: usize,
    },
    MarkUnread {
        unread: u8,
    },
    MemberAdd {
        user: usize,
    },
    MemberRemove {
        user: usize,
    },
    Truncate {
        at: Option<u16>,
    },
    Send {
        n: u16,
        outcome: u8,
    },
    Recover {
        ns: Vec<u16>,
    },
    Rewatch {
        ns: Vec<u16>,
        unread: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let n = 0u16..40;
    prop_oneof![
        6 => (n.clone(), 0usize..3, proptest::option::weighted(0.2, 0u16..40), proptest::bool::weighted(0.1))
            .prop_map(|(n, author, parent, pinned)| Op::New { n, author, parent, pinned }),
        2 => (n.clone(), any::<u8>(), proptest::bool::weighted(0.2)).prop_map(|(n, text, pinned)| Op::Edit { n, text, pinned }),
        2 => (n.clone(), any::<bool>()).prop_map(|(n, hard)| Op::Delete { n, hard }),
        2 => (0usize..3).prop_map(|user| Op::Read { user }),
        1 => (0u8..5).prop_map(|unread| Op::MarkUnread { unread }),
        1 => (0usize..3).prop_map(|user| Op::MemberAdd { user }),
        1 => (0usize..3).prop_map(|user| Op::MemberRemove { user }),
        1 => proptest::option::of(0u16..1000).prop_map(|at| Op::Truncate { at }),
        2 => (n.clone(), 0u8..3).prop_map(|(n, outcome)| Op::Send { n, outcome }),
        1 => proptest::collection::vec(n.clone(), 0..5).prop_map(|ns| Op::Recover { ns }),
        1 => (proptest::collection::vec(n, 0..6), 0u8..4).prop_map(|(ns, unread)| Op::Rewatch { ns, unread }),
    ]
}

#[derive(Clone, Debug, PartialEq)]
struct M {
    text: String,
    status: SyncStatus,
    deleted: bool,
}

/// The model: plain maps, each rule written the obvious way.
#[derive(Debug, Default)]
struct Model {
    /// Main list by (time, id).
    main: BTreeMap<(i128, String), M>,
    replies: BTreeMap<String, BTreeMap<(i128, String), M>>,
    pinned: Vec<String>,
    members: BTreeSet<String>,
    reads: BTreeMap<String, u64>,
    unread: u64,
}

fn key(n: u16) -> (i128, String) {
    (time_of(n), format!("m{n}"))
}

impl Model {
    fn knows(&self, n: u16, parent: Option<u16>) -> bool {
        self.main.contains_key(&key(n))
            || parent.is_some_and(|p| {
                self.replies
                    .get(&format!("m{p}"))
                    .is_some_and(|r| r.contains_key(&key(n)))
            })
    }

    fn put(&mut self, n: u16, parent: Option<u16>, m: M, add: bool) {
        if let Some(p) = parent {
            let list = self.replies.entry(format!("m{p}")).or_default();
            if add || list.contains_key(&key(n)) {
                list.insert(key(n), m);
            } else if list.is_empty() {
                self.replies.remove(&format!("m{p}"));
            }
            return; // thread-only: replies are never shown in the channel here
        }
        if add || self.main.contains_key(&key(n)) {
            self.main.insert(key(n), m);
        }
    }

    fn new_message(
        &mut self,
        n: u16,
        author: usize,
        parent: Option<u16>,
        pinned: bool,
        text: &str,
    ) {
        let known = self.knows(n, parent);
        let m = M {
            text: text.into(),
            status: SyncStatus::Synced,
            deleted: false,
        };
        self.put(n, parent, m, true);
        if pinned && !self.pinned.contains(&format!("m{n}")) {
            self.pinned.push(format!("m{n}"));
        }
        if known || author == 0 || parent.is_some() {
            return;
        }
        for (user, unread) in self.reads.iter_mut() {
            if user == USERS[author] {
                *unread = 0;
            } else {
                *unread += 1;
            }
        }
        self.unread += 1;
    }
}

struct Run {
    store: Arc<Store>,
    model: Model,
    /// Which ids were generated as thread replies (and to what): a message keeps its parent.
    parents: BTreeMap<u16, Option<u16>>,
}

impl Run {
    fn new() -> Run {
        let store = Arc::new(Store::new(Executor::pool_thread()));
        store.apply(&event(
            json!({"type":"health.check","connection_id":"c","me":{"id":"me"}}),
        ));
        let mut run = Run {
            store,
            model: Model::default(),
            parents: BTreeMap::new(),
        };
        run.rewatch(&[], 0);
        run
    }

    fn parent(&mut self, n: u16, parent: Option<u16>) -> Option<u16> {
        // A message is a reply to at most one parent, never to itself.
        *self.parents.entry(n).or_insert(parent.filter(|p| *p != n))
    }

    fn rewatch(&mut self, ns: &[u16], unread: u8) {
        // Only top-level messages (a message seen first in a response stays top-level).
        let ns: BTreeSet<u16> = ns
            .iter()
            .copied()
            .filter(|&n| self.parent(n, None).is_none())
            .collect();
        let mut msgs: Vec<(i128, u16)> = ns.iter().map(|&n| (time_of(n), n)).collect();
        msgs.sort();
        let members: Vec<Value> = self
            .model
            .members
            .iter()
            .map(|u| json!({"user_id": u, "user": {"id": u}}))
            .collect();
        let reads: Vec<Value> = USERS
            .iter()
            .map(|u| json!({"user": {"id": u}, "last_read": ts(BASE), "unread_messages": if *u == "me" { u64::from(unread) } else { 0 }}))
            .collect();
        let response: ChannelResponse = serde_json::from_value(json!({
            "channel": {"id": "g", "type": "messaging", "cid": CID},
            "messages": msgs.iter().map(|&(_, n)| message_json(n, 1, "load", None, false)).collect::<Vec<_>>(),
            "members": members, "read": reads, "watcher_count": 1,
        }))
        .unwrap();
        self.store.loaded(&response);
        // Model: the response's messages merged in; in its time range, what it lacks is gone
        // (local unsent messages stay); outside the range everything stays.
        let range = msgs.first().map(|&(lo, _)| (lo, msgs.last().unwrap().0));
        let in_response: BTreeSet<String> = msgs.iter().map(|&(_, n)| format!("m{n}")).collect();
        let m = &mut self.model;
        m.main.retain(|(t, id), v| {
            v.status != SyncStatus::Synced
                || in_response.contains(id)
                || range.is_none_or(|(lo, hi)| *t < lo || *t > hi)
        });
        for &(_, n) in &msgs {
            m.main.insert(
                key(n),
                M {
                    text: "load".into(),
                    status: SyncStatus::Synced,
                    deleted: false,
                },
            );
        }
        m.pinned.clear();
        m.reads = USERS
            .iter()
            .map(|u| {
                (
                    u.to_string(),
                    if *u == "me" { u64::from(unread) } else { 0 },
                )
            })
            .collect();
        m.unread = u64::from(unread);
    }

    fn step(&mut self, op: &Op) {
        match op.clone() {
            Op::New {
                n,
                author,
                parent,
                pinned,
            } => {
                let parent = self.parent(n, parent);
                self.store.apply(&event(json!({"type":"message.new","cid":CID,"user":{"id":USERS[author]},
                    "created_at": ts(time_of(n)), "message": message_json(n, author, "new", parent, pinned)})));
                self.model.new_message(n, author, parent, pinned, "new");
            }
            Op::Edit { n, text, pinned } => {
                let parent = self.parent(n, None);
                let text = format!("edit{text}");
                self.store
                    .apply(&event(json!({"type":"message.updated","cid":CID,
                    "message": message_json(n, 1, &text, parent, pinned)})));
                let m = M {
                    text,
                    status: SyncStatus::Synced,
                    deleted: false,
                };
                self.model.put(n, parent, m, false);
                let id = format!("m{n}");
                if pinned {
                    if !self.model.pinned.contains(&id) {
                        self.model.pinned.push(id);
                    }
                } else {
                    self.model.pinned.retain(|p| *p != id);
                }
            }
            Op::Delete { n, hard } => {
                let parent = self.parent(n, None);
                let mut m = message_json(n, 1, "gone", parent, false);
                m["type"] = json!("deleted");
                self.store.apply(&event(
                    json!({"type":"message.deleted","cid":CID,"hard_delete":hard,"message":m}),
                ));
                let id = format!("m{n}");
                self.model.pinned.retain(|p| *p != id);
                if hard {
                    self.model.main.remove(&key(n));
                    if let Some(p) = parent
                        && let Some(r) = self.model.replies.get_mut(&format!("m{p}"))
                    {
                        r.remove(&key(n));
                    }
                } else {
                    let gone = M {
                        text: "gone".into(),
                        status: SyncStatus::Synced,
                        deleted: true,
                    };
                    self.model.put(n, parent, gone, false);
                }
            }
            Op::Read { user } => {
                self.store.apply(&event(
                    json!({"type":"message.read","cid":CID,"user":{"id":USERS[user]},
                    "created_at": ts(BASE)}),
                ));
                self.model.reads.insert(USERS[user].into(), 0);
                if user == 0 {
                    self.model.unread = 0;
                }
            }
            Op::MarkUnread { unread } => {
                self.store.apply(&event(
                    json!({"type":"notification.mark_unread","cid":CID,"user":{"id":"me"},
                    "unread_messages": unread, "last_read_at": ts(BASE)}),
                ));
                self.model.reads.insert("me".into(), u64::from(unread));
                self.model.unread = u64::from(unread);
            }
            Op::MemberAdd { user } => {
                self.store.apply(&event(
                    json!({"type":"member.added","cid":CID,"user":{"id":USERS[user]},
                    "member":{"user_id":USERS[user],"user":{"id":USERS[user]}}}),
                ));
                self.model.members.insert(USERS[user].into());
            }
            Op::MemberRemove { user } => {
                self.store.apply(&event(
                    json!({"type":"member.removed","cid":CID,"user":{"id":USERS[user]}}),
                ));
                self.model.members.remove(USERS[user]);
            }
            Op::Truncate { at } => {
                let mut channel = json!({"id":"g","type":"messaging","cid":CID});
                if let Some(at) = at {
                    channel["truncated_at"] = json!(ts(BASE + i128::from(at) * 1_000_000_000));
                }
                self.store.apply(&event(
                    json!({"type":"channel.truncated","cid":CID,"channel":channel}),
                ));
                let m = &mut self.model;
                match at {
                    Some(at) => {
                        let cut = BASE + i128::from(at) * 1_000_000_000;
                        m.main.retain(|(t, _), _| *t >= cut);
                        for r in m.replies.values_mut() {
                            r.retain(|(t, _), _| *t >= cut);
                        }
                        m.replies.retain(|_, r| !r.is_empty());
                        m.pinned
                            .retain(|id| time_of(id[1..].parse().unwrap()) >= cut);
                    }
                    None => {
                        m.main.clear();
                        m.replies.clear();
                        m.pinned.clear();
                    }
                }
                m.unread = 0;
            }
            Op::Send { n, outcome } => {
                if self.parent(n, None).is_some() {
                    return;
                }
                let message: Message =
                    serde_json::from_value(message_json(n, 0, "mine", None, false)).unwrap();
                self.store.pending(CID, &message);
                // Re-sending an id the server has (it refuses the duplicate) shows nothing new.
                let on_server = self
                    .model
                    .main
                    .get(&key(n))
                    .is_some_and(|m| m.status == SyncStatus::Synced);
                if !on_server {
                    let pending = M {
                        text: "mine".into(),
                        status: SyncStatus::Pending,
                        deleted: false,
                    };
                    self.model.main.insert(key(n), pending);
                }
                match outcome {
                    0 => {
                        self.store.synced(CID, &message);
                        self.model.main.insert(
                            key(n),
                            M {
                                text: "mine".into(),
                                status: SyncStatus::Synced,
                                deleted: false,
                            },
                        );
                    }
                    1 => {
                        self.store.failed(CID, &message.id);
                        if !on_server {
                            self.model.main.get_mut(&key(n)).unwrap().status = SyncStatus::Failed;
                        }
                    }
                    _ => {} // still pending
                }
            }
            Op::Recover { ns } => {
                // After a reconnect: missed messages replayed as recovered message.new (some
                // already known: duplicates change nothing), then connection.recovered.
                for n in ns {
                    let parent = self.parent(n, None);
                    self.store.apply(&event(
                        json!({"type":"message.new","cid":CID,"user":{"id":"amy"},
                        "recovered": true, "message": message_json(n, 1, "new", parent, false)}),
                    ));
                    self.model.new_message(n, 1, parent, false, "new");
                }
            }
            Op::Rewatch { ns, unread } => self.rewatch(&ns, unread),
        }
    }

    fn check(&self) {
        let st = self.store.channel(CID).expect("the channel is kept");
        let m = &self.model;
        let view = |l: &MessageList| -> Vec<(String, M)> {
            l.iter()
                .map(|i| {
                    let deleted = i.message.kind.as_deref() == Some("deleted");
                    (
                        i.message.id.clone(),
                        M {
                            text: i.message.text.clone().unwrap_or_default(),
                            status: i.status,
                            deleted,
                        },
                    )
                })
                .collect()
        };
        let model_view = |l: &BTreeMap<(i128, String), M>| -> Vec<(String, M)> {
            l.iter()
                .map(|((_, id), v)| (id.clone(), v.clone()))
                .collect()
        };
        assert_eq!(view(&st.messages), model_view(&m.main), "messages");
        let replies: BTreeMap<String, Vec<(String, M)>> = st
            .replies
            .iter()
            .filter(|(_, l)| !l.is_empty())
            .map(|(p, l)| (p.clone(), view(l)))
            .collect();
        let model_replies: BTreeMap<String, Vec<(String, M)>> = m
            .replies
            .iter()
            .filter(|(_, l)| !l.is_empty())
            .map(|(p, l)| (p.clone(), model_view(l)))
            .collect();
        assert_eq!(replies, model_replies, "replies");
        let pinned: Vec<&str> = st.pinned_messages.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(pinned, m.pinned, "pinned");
        let members: BTreeSet<String> = st.members.keys().cloned().collect();
        assert_eq!(members, m.members, "members");
        let reads: BTreeMap<String, u64> = st
            .reads
            .iter()
            .map(|(u, r)| (u.clone(), r.unread_messages))
            .collect();
        assert_eq!(reads, m.reads, "reads");
        assert_eq!(st.unread_count, m.unread, "unread count");
        assert_eq!(
            st.membership.is_some(),
            m.members.contains("me"),
            "membership"
        );
    }
}

/// Cases of the model-based property (reported in docs/state-and-offline.md).
const CASES: u32 = 512;

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_store_equals_the_model(ops in proptest::collection::vec(op(), 1..120)) {
        let mut run = Run::new();
        for op in &ops {
            run.step(op);
            run.check();
        }
    }
}

fn channel_json(id: &str, last_message_at: Option<i128>) -> Value {
    let mut c = json!({"id": id, "type": "messaging", "cid": format!("messaging:{id}"), "created_at": ts(BASE)});
    if let Some(t) = last_message_at {
        c["last_message_at"] = json!(ts(t));
    }
    c
}

#[test]
fn query_lists_stay_sorted_and_follow_events() {
    let store = Arc::new(Store::new(Executor::pool_thread()));
    store.apply(&event(
        json!({"type":"health.check","connection_id":"c","me":{"id":"me"}}),
    ));
    let request = QueryChannelsRequest {
        sort: vec![stream_chat_protocol::SortParam {
            field: "last_message_at".into(),
            direction: -1,
        }],
        ..Default::default()
    };
    let channels: Vec<ChannelResponse> = ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(i, id)| {
            serde_json::from_value(
                json!({"channel": channel_json(id, Some(BASE + (3 - i as i128) * 1_000_000_000))}),
            )
            .unwrap()
        })
        .collect();
    store.queried(&request, &channels);
    let cids = |s: &Arc<Store>| s.snapshot().query(&request).unwrap().cids.clone();
    assert_eq!(cids(&store), ["messaging:a", "messaging:b", "messaging:c"]);
    // A new message in c moves it to the top.
    store.apply(&event(json!({"type":"message.new","cid":"messaging:c","user":{"id":"amy"},
        "message":{"id":"x","text":"hi","user":{"id":"amy"},"created_at": ts(BASE + 10_000_000_000)}})));
    assert_eq!(cids(&store), ["messaging:c", "messaging:a", "messaging:b"]);
    assert_eq!(store.channel("messaging:c").unwrap().unread_count, 1);
    // notification.message_new brings d in, on top; channel.deleted and hidden take out.
    store.apply(&event(json!({"type":"notification.message_new","cid":"messaging:d","total_unread_count":2,
        "channel": channel_json("d", None),
        "message":{"id":"y","text":"yo","user":{"id":"bob"},"created_at": ts(BASE + 20_000_000_000)}})));
    assert_eq!(
        cids(&store),
        ["messaging:d", "messaging:c", "messaging:a", "messaging:b"]
    );
    assert_eq!(store.snapshot().total_unread_count, 2);
    store.apply(&event(
        json!({"type":"channel.deleted","cid":"messaging:a"}),
    ));
    store.apply(&event(json!({"type":"channel.hidden","cid":"messaging:b"})));
    assert_eq!(cids(&store), ["messaging:d", "messaging:c"]);
    assert!(store.channel("messaging:a").is_none());
    assert!(store.channel("messaging:b").unwrap().hidden());
    store.apply(&event(
        json!({"type":"channel.visible","cid":"messaging:b"}),
    ));
    assert_eq!(cids(&store), ["messaging:d", "messaging:c", "messaging:b"]);
    // Muting the channel: the store marks it, and its new messages stop counting.
    store.apply(&event(json!({"type":"notification.channel_mutes_updated","me":{"id":"me",
        "channel_mutes":[{"user":{"id":"me"},"channel":{"id":"c","type":"messaging","cid":"messaging:c"},
        "created_at": ts(BASE), "updated_at": ts(BASE)}]}})));
    assert!(store.channel("messaging:c").unwrap().muted);
    store.apply(&event(json!({"type":"message.new","cid":"messaging:c","user":{"id":"amy"},
        "message":{"id":"z","text":"hi","user":{"id":"amy"},"created_at": ts(BASE + 30_000_000_000)}})));
    assert_eq!(store.channel("messaging:c").unwrap().unread_count, 1);
}

#[test]
fn snapshots_share_structure_and_stay_as_they_were() {
    let store = Arc::new(Store::new(Executor::pool_thread()));
    store.apply(&event(
        json!({"type":"health.check","connection_id":"c","me":{"id":"me"}}),
    ));
    store.loaded(&serde_json::from_value(json!({"channel": channel_json("g", None)})).unwrap());
    for n in 0..500u16 {
        store.apply(&event(
            json!({"type":"message.new","cid":CID,"user":{"id":"amy"},
            "message": message_json(n, 1, "x", None, false)}),
        ));
    }
    let before = store.channel(CID).unwrap();
    store.apply(&event(
        json!({"type":"message.new","cid":CID,"user":{"id":"amy"},
        "message": message_json(600, 1, "x", None, false)}),
    ));
    let after = store.channel(CID).unwrap();
    assert_eq!((before.messages.len(), after.messages.len()), (500, 501));
    assert!(
        Arc::ptr_eq(&before.members, &after.members),
        "untouched maps are shared"
    );
    assert_eq!(after.version, before.version + 1);
}

#[test]
fn a_burst_is_one_delivery_of_the_latest_snapshot() {
    let queue = CallbackQueue::new();
    let store = Arc::new(Store::new(queue.executor()));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let _o = store.observe(
        None,
        None,
        Box::new(move |s| {
            if let Snapshot::Client(s) = s {
                sink.lock().unwrap().push(s.version)
            }
        }),
        None,
    );
    for i in 0..1000 {
        store.apply(&event(
            json!({"type":"health.check","connection_id":"c","me":{"id":"me","n":i}}),
        ));
    }
    assert_eq!(queue.len(), 1, "one pending delivery, however many changes");
    queue.run_pending();
    let latest = store.snapshot().version;
    assert_eq!(*seen.lock().unwrap(), [latest]);
}

#[test]
fn typing_users_expire_after_the_timeout_or_stop() {
    let store = Arc::new(Store::new(Executor::pool_thread()));
    store.apply(&event(
        json!({"type":"health.check","connection_id":"c","me":{"id":"me"}}),
    ));
    store.loaded(&serde_json::from_value(json!({"channel": channel_json("g", None)})).unwrap());
    let typing = |s: &Arc<Store>| -> Vec<String> {
        s.channel(CID).unwrap().typing.keys().cloned().collect()
    };
    let start = std::time::Instant::now();
    store.apply(&event(
        json!({"type":"typing.start","cid":CID,"user":{"id":"amy"}}),
    ));
    store.apply(&event(
        json!({"type":"typing.start","cid":CID,"user":{"id":"bob"}}),
    ));
    assert_eq!(typing(&store), ["amy", "bob"]);
    assert_eq!(store.channel(CID).unwrap().typing_users().len(), 2);
    store.apply(&event(
        json!({"type":"typing.stop","cid":CID,"user":{"id":"bob"}}),
    ));
    assert_eq!(typing(&store), ["amy"]);
    // Not yet due: nothing changes; past TYPING_TIMEOUT: gone (what the timer's sweep does).
    store.update(|inner| inner.expire_typing(start));
    assert_eq!(typing(&store), ["amy"]);
    let later = std::time::Instant::now() + TYPING_TIMEOUT;
    store.update(|inner| inner.expire_typing(later));
    assert!(typing(&store).is_empty());
    store.shutdown();
}

#[test]
fn snapshots_are_consistent_under_concurrent_reads() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let store = Arc::new(Store::new(Executor::pool_thread()));
    store.apply(&event(
        json!({"type":"health.check","connection_id":"c","me":{"id":"me"}}),
    ));
    store.loaded(&serde_json::from_value(json!({"channel": channel_json("g", None)})).unwrap());
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (store, done) = (Arc::clone(&store), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut reads = 0u64;
                let mut last_version = 0;
                // Reads as fast as it can while the writer runs: each snapshot must be whole.
                while !done.load(Ordering::Acquire) || reads == 0 {
                    let state = store.snapshot();
                    let channel = state.channel(CID).expect("the channel");
                    let n = channel.messages.len();
                    assert_eq!(channel.messages.iter().count(), n);
                    // Every message is someone else's and unread: the count matches the list.
                    assert_eq!(channel.unread_count, n as u64);
                    let ids: Vec<i128> = channel
                        .messages
                        .iter()
                        .map(|m| m.created_at_nanos())
                        .collect();
                    assert!(ids.windows(2).all(|w| w[0] <= w[1]), "in order");
                    assert!(state.version >= last_version, "never back in time");
                    last_version = state.version;
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    for n in 0..2000u16 {
        store.apply(&event(
            json!({"type":"message.new","cid":CID,"user":{"id":"amy"},
            "message": message_json(n, 1, "x", None, false)}),
        ));
    }
    done.store(true, Ordering::Release);
    for r in readers {
        assert!(r.join().expect("a reader saw a torn snapshot") > 0);
    }
    assert_eq!(store.channel(CID).unwrap().messages.len(), 2000);
}
