//! Threads: replies (`parent_id`, `show_in_channel`), the parent's `reply_count` and
//! `thread_participants`, `GET /messages/{id}/replies`, `POST /threads`, `GET
//! /threads/{id}`, thread reads and `notification.thread_message_new`.

use serde_json::{Value, json};

use super::surface::*;
use crate::support::*;

fn reply(env: &Env, user: &str, parent: &str, id: &str, extra: Value) -> Value {
    let mut message = json!({"id": id, "text": format!("reply {id}"), "parent_id": parent});
    message
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    post(env, Auth::User(user), ROOM, message)
}

fn replies(env: &Env, auth: Auth, parent: &str, query: &str) -> (u16, Value) {
    env.call(
        "GET",
        &format!("/messages/{parent}/replies{query}"),
        auth,
        None,
    )
}

fn unread_of(state: &Value, user: &str) -> u64 {
    state["read"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user"]["id"] == user)
        .unwrap()["unread_messages"]
        .as_u64()
        .unwrap()
}

fn participant_ids(message: &Value) -> Vec<String> {
    ids(&message["thread_participants"])
}

#[test]
fn a_reply_updates_its_parent_and_stays_out_of_the_channel() {
    let env = Env::start();
    let (mut alice, mut bob) = room(&env);
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "p1", "text": "question"}),
    );
    ok(env.mark_read(Auth::User("alice"), ROOM, None));
    for ws in [&mut alice, &mut bob] {
        assert_eq!(ws.next_event("message.new")["message"]["id"], "p1");
    }

    let r1 = reply(&env, "bob", "p1", "r1", json!({}));
    assert_eq!(
        (r1["type"].as_str(), r1["parent_id"].as_str()),
        (Some("reply"), Some("p1"))
    );
    for ws in [&mut alice, &mut bob] {
        let new = ws.next_event("message.new");
        assert_eq!(
            (
                new["message"]["id"].as_str(),
                new["message"]["parent_id"].as_str()
            ),
            (Some("r1"), Some("p1"))
        );
        let updated = ws.next_event("message.updated");
        assert_envelope(&updated, "message.updated", ROOM);
        assert_eq!(updated["message"]["id"], "p1");
        assert_eq!(updated["message"]["reply_count"], 1);
        assert_eq!(participant_ids(&updated["message"]), ["alice", "bob"]);
        assert_eq!(updated["user"]["id"], "bob");
    }
    let state = ok(env.query_channel(Auth::User("alice"), ROOM, None));
    assert_eq!(
        ids(&state["messages"]),
        ["p1"],
        "a thread-only reply is not in the channel"
    );
    assert_eq!(state["messages"][0]["reply_count"], 1);
    assert_eq!(participant_ids(&state["messages"][0]), ["alice", "bob"]);
    assert_eq!(unread_of(&state, "alice"), 0, "nor in its unread count");

    // Shown in the channel too: listed and counted.
    reply(&env, "bob", "p1", "r2", json!({"show_in_channel": true}));
    let state = ok(env.query_channel(Auth::User("alice"), ROOM, None));
    assert_eq!(ids(&state["messages"]), ["p1", "r2"]);
    assert_eq!(state["messages"][1]["show_in_channel"], true);
    assert_eq!(unread_of(&state, "alice"), 1);
    assert_eq!(state["messages"][0]["reply_count"], 2);
    assert_eq!(
        participant_ids(&state["messages"][0]),
        ["alice", "bob"],
        "each once"
    );
}

#[test]
fn replies_are_paged_oldest_first() {
    let env = Env::start();
    let (_alice, _bob) = room(&env);
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "p1", "text": "question"}),
    );
    // Ids that do not sort like their order.
    for id in ["r5", "r4", "r3", "r2", "r1"] {
        reply(&env, "bob", "p1", id, json!({}));
    }
    let page = |q: &str| ids(&ok(replies(&env, Auth::User("alice"), "p1", q))["messages"]);
    assert_eq!(page(""), ["r5", "r4", "r3", "r2", "r1"]);
    assert_eq!(page("?limit=2"), ["r2", "r1"], "the newest, oldest first");
    assert_eq!(
        page("?limit=2&id_lt=r2"),
        ["r4", "r3"],
        "older (getRepliesMore)"
    );
    assert_eq!(page("?limit=2&id_gt=r4"), ["r3", "r2"], "newer");
    assert_eq!(page("?limit=2&id_lte=r3"), ["r4", "r3"]);
    let asc = super::super::support::encode(r#"[{"field":"created_at","direction":1}]"#);
    assert_eq!(
        page(&format!("?limit=2&sort={asc}")),
        ["r5", "r4"],
        "from the start"
    );
    assert_eq!(page(&format!("?limit=2&offset=1&sort={asc}")), ["r4", "r3"]);
    assert_eq!(
        page(&format!("?limit=2&sort={asc}&id_gt=r4")),
        ["r3", "r2"],
        "getNewerReplies"
    );
    let all = ok(replies(&env, Auth::User("alice"), "p1", ""));
    let third = all["messages"][2]["created_at"].as_str().unwrap();
    assert_eq!(
        page(&format!("?created_at_before={}", encode(third))),
        ["r5", "r4"]
    );
    assert_eq!(
        page(&format!(
            "?created_at_after_or_equal={}&limit=1",
            encode(third)
        )),
        ["r3"]
    );
    assert!(page("?id_lt=unknown").is_empty());

    assert_error(
        replies(&env, Auth::User("alice"), "p1", "?limit=-1"),
        400,
        4,
    );
    assert_error(
        replies(
            &env,
            Auth::User("alice"),
            "p1",
            "?created_at_before=yesterday",
        ),
        400,
        4,
    );
    assert_error(
        replies(&env, Auth::User("alice"), "p1", "?sort=created_at"),
        400,
        4,
    );
    assert_error(replies(&env, Auth::User("alice"), "nope", ""), 404, 16);
    assert_error(replies(&env, Auth::User("carol"), "p1", ""), 403, 17);
    assert_error(replies(&env, Auth::Anonymous, "p1", ""), 403, 17);
    assert_eq!(
        ids(&ok(replies(&env, Auth::Server, "p1", "?limit=1"))["messages"]),
        ["r1"]
    );
}

#[test]
fn replies_that_cannot_be_are_refused() {
    let env = Env::start();
    let (_alice, _bob) = room(&env);
    guest(&env, "visitor");
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "p1", "text": "question"}),
    );
    reply(&env, "bob", "p1", "r1", json!({}));
    env.create_channel("messaging:other", "alice", &["alice"]);
    post(
        &env,
        Auth::User("alice"),
        "messaging:other",
        json!({"id": "o1", "text": "elsewhere"}),
    );
    let send =
        |auth, parent: &str| post_raw(&env, auth, ROOM, json!({"text": "re", "parent_id": parent}));
    assert_error(send(Auth::User("bob"), "nope"), 400, 4);
    assert_error(send(Auth::User("bob"), "o1"), 400, 4);
    assert_error(send(Auth::User("bob"), "r1"), 400, 21);
    assert_error(send(Auth::User("carol"), "p1"), 403, 17);
    assert_error(send(Auth::User("visitor"), "p1"), 403, 17);
    assert_error(send(Auth::Anonymous, "p1"), 403, 17);
    let (status, body) = post_raw(
        &env,
        Auth::Server,
        ROOM,
        json!({"text": "from the server", "parent_id": "p1", "user_id": "alice"}),
    );
    assert_eq!(status, 200, "{body}");
    let parent = ok(env.call("GET", "/messages/p1", Auth::User("bob"), None));
    assert_eq!(
        parent["message"]["reply_count"], 2,
        "refused replies left no trace"
    );
}

#[test]
fn participants_not_watching_get_notification_thread_message_new() {
    let env = Env::start();
    env.upsert(&["alice", "bob"]);
    env.create_channel(ROOM, "alice", &["alice", "bob"]);
    let mut bob = watcher(&env, "bob", ROOM);
    let (mut alice, _) = env.connect("alice"); // connected, not watching
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "p1", "text": "question"}),
    );
    reply(&env, "bob", "p1", "r1", json!({}));
    let note = alice.next_event("notification.thread_message_new");
    assert_envelope(&note, "notification.thread_message_new", ROOM);
    assert_eq!(note["message"]["id"], "r1");
    assert_eq!(note["message"]["parent_id"], "p1");
    assert_eq!(note["channel"]["cid"], ROOM);
    assert_eq!(
        (
            note["unread_threads"].as_u64(),
            note["unread_thread_messages"].as_u64()
        ),
        (Some(1), Some(1))
    );
    reply(&env, "bob", "p1", "r2", json!({}));
    let note = alice.next_event("notification.thread_message_new");
    assert_eq!(
        (
            note["unread_threads"].as_u64(),
            note["unread_thread_messages"].as_u64()
        ),
        (Some(1), Some(2))
    );
    // The replier watches: message.new and message.updated, no notification.
    bob.next_event("message.updated");
    bob.assert_no_event(
        "notification.thread_message_new",
        std::time::Duration::from_millis(300),
    );
}

#[test]
fn query_threads_lists_the_callers_threads_by_cursor() {
    let env = Env::start();
    let (_alice, _bob) = room(&env);
    env.create_channel("messaging:two", "alice", &["alice", "carol"]);
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "p1", "text": "one"}),
    );
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "p2", "text": "two"}),
    );
    post(
        &env,
        Auth::User("alice"),
        "messaging:two",
        json!({"id": "p3", "text": "three"}),
    );
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "lonely", "text": "no replies"}),
    );
    reply(&env, "bob", "p1", "r1", json!({}));
    reply(&env, "bob", "p2", "r2", json!({}));
    reply(&env, "bob", "p2", "r3", json!({}));
    post(
        &env,
        Auth::User("carol"),
        "messaging:two",
        json!({"id": "r4", "text": "hey", "parent_id": "p3"}),
    );

    let query = |auth, body: Value| env.call("POST", "/threads", auth, Some(body));
    let thread_ids = |body: &Value| -> Vec<String> {
        body["threads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["parent_message_id"].as_str().unwrap().to_owned())
            .collect()
    };
    // Newest activity first.
    let all = ok(query(Auth::User("alice"), json!({})));
    assert_eq!(thread_ids(&all), ["p3", "p2", "p1"]);
    let t = &all["threads"][1];
    assert_eq!(t["channel_cid"], ROOM);
    assert_eq!(t["channel"]["cid"], ROOM);
    assert_eq!(t["parent_message"]["id"], "p2");
    assert_eq!(t["reply_count"], 2);
    assert_eq!(
        (
            t["participant_count"].as_u64(),
            t["created_by_user_id"].as_str()
        ),
        (Some(2), Some("alice"))
    );
    assert_eq!(ids(&t["latest_replies"]), ["r2", "r3"]);
    let participants: Vec<&str> = t["thread_participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(participants, ["alice", "bob"]);
    assert_eq!(t["last_message_at"], t["latest_replies"][1]["created_at"]);
    let read: Vec<(String, u64)> = t["read"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["user"]["id"].as_str().unwrap().to_owned(),
                r["unread_messages"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(read, [("alice".to_owned(), 2), ("bob".to_owned(), 0)]);

    // bob takes part in p1 and p2 only; carol only in p3.
    assert_eq!(
        thread_ids(&ok(query(Auth::User("bob"), json!({})))),
        ["p2", "p1"]
    );
    assert_eq!(
        thread_ids(&ok(query(Auth::User("carol"), json!({})))),
        ["p3"]
    );
    // Limits, filter, sort.
    let small = ok(query(
        Auth::User("alice"),
        json!({"reply_limit": 1, "participant_limit": 1, "filter": {"channel_cid": ROOM}}),
    ));
    assert_eq!(thread_ids(&small), ["p2", "p1"]);
    assert_eq!(ids(&small["threads"][0]["latest_replies"]), ["r3"]);
    assert_eq!(
        small["threads"][0]["thread_participants"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let sorted = ok(query(
        Auth::User("alice"),
        json!({"sort": [{"field": "reply_count", "direction": -1}]}),
    ));
    assert_eq!(thread_ids(&sorted), ["p2", "p1", "p3"]);

    // Pages by cursor; a new thread does not shift the next page.
    let first = ok(query(Auth::User("alice"), json!({"limit": 2})));
    assert_eq!(thread_ids(&first), ["p3", "p2"]);
    assert!(first.get("prev").is_none());
    let next = first["next"].as_str().unwrap().to_owned();
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "p4", "text": "new"}),
    );
    reply(&env, "bob", "p4", "r5", json!({}));
    let second = ok(query(
        Auth::User("alice"),
        json!({"limit": 2, "next": next}),
    ));
    assert_eq!(thread_ids(&second), ["p1"]);
    assert!(second.get("next").is_none());
    let back = ok(query(
        Auth::User("alice"),
        json!({"limit": 2, "prev": second["prev"]}),
    ));
    assert_eq!(thread_ids(&back), ["p3", "p2"]);

    // Server side: one user's, or all.
    assert_eq!(
        thread_ids(&ok(query(Auth::Server, json!({"user_id": "carol"})))),
        ["p3"]
    );
    assert_eq!(thread_ids(&ok(query(Auth::Server, json!({})))).len(), 4);
    // Bad input.
    assert_error(
        query(Auth::User("alice"), json!({"next": "garbage"})),
        400,
        4,
    );
    assert_error(
        query(
            Auth::User("alice"),
            json!({"filter": {"x": {"$regex": "a"}}}),
        ),
        400,
        4,
    );
    assert_error(query(Auth::User("alice"), json!({"limit": "ten"})), 400, 4);
    assert_error(
        query(Auth::User("alice"), json!({"user_id": "bob"})),
        403,
        17,
    );
    assert_eq!(
        thread_ids(&ok(query(Auth::Anonymous, json!({})))),
        Vec::<String>::new()
    );
}

#[test]
fn get_thread_returns_one_thread_and_may_watch_its_channel() {
    let env = Env::start();
    let (_alice, _bob) = room(&env);
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "p1", "text": "question"}),
    );
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "lonely", "text": "no replies"}),
    );
    for id in ["r1", "r2", "r3", "r4"] {
        reply(&env, "bob", "p1", id, json!({}));
    }
    let get = |auth, path: &str| env.call("GET", path, auth, None);
    let t = ok(get(Auth::User("alice"), "/threads/p1"))["thread"].clone();
    assert_eq!(t["parent_message_id"], "p1");
    assert_eq!(
        ids(&t["latest_replies"]),
        ["r2", "r3", "r4"],
        "three by default"
    );
    assert_eq!(t["reply_count"], 4);
    let t = ok(get(
        Auth::User("alice"),
        "/threads/p1?reply_limit=1&participant_limit=1",
    ))["thread"]
        .clone();
    assert_eq!(ids(&t["latest_replies"]), ["r4"]);
    assert_eq!(t["thread_participants"].as_array().unwrap().len(), 1);
    assert_error(get(Auth::User("alice"), "/threads/lonely"), 404, 16);
    assert_error(get(Auth::User("alice"), "/threads/r1"), 404, 16);
    assert_error(get(Auth::User("alice"), "/threads/nope"), 404, 16);
    assert_error(get(Auth::User("carol"), "/threads/p1"), 403, 17);
    assert_error(get(Auth::User("alice"), "/threads/p1?watch=maybe"), 400, 4);
    assert_error(
        get(Auth::User("alice"), "/threads/p1?reply_limit=x"),
        400,
        4,
    );
    // Watching through the thread: the channel's events arrive.
    let (mut ws, first) = env.connect("alice");
    let conn = first["connection_id"].as_str().unwrap();
    ok(get(
        Auth::User("alice"),
        &format!("/threads/p1?watch=true&connection_id={conn}"),
    ));
    reply(&env, "bob", "p1", "r5", json!({}));
    assert_eq!(ws.next_event("message.new")["message"]["id"], "r5");
}

#[test]
fn marking_a_thread_read_leaves_the_channel_read_state_alone() {
    let env = Env::start();
    let (mut alice_ws, _bob_ws) = room(&env);
    let (mut alice_other, _) = env.connect("alice");
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "p1", "text": "question"}),
    );
    post(
        &env,
        Auth::User("bob"),
        ROOM,
        json!({"id": "m2", "text": "in the channel"}),
    );
    reply(&env, "bob", "p1", "r1", json!({}));
    reply(&env, "bob", "p1", "r2", json!({}));
    let before = unread_of(
        &ok(env.query_channel(Auth::User("alice"), ROOM, None)),
        "alice",
    );
    assert_eq!(before, 1);

    let body = ok(env.mark_read(Auth::User("alice"), ROOM, Some(json!({"thread_id": "p1"}))));
    assert_eq!(body["event"]["thread"]["parent_message_id"], "p1");
    let read = alice_ws.next_event("message.read");
    assert_envelope(&read, "message.read", ROOM);
    assert_eq!(read["user"]["id"], "alice");
    assert_eq!(read["thread"]["parent_message_id"], "p1");
    assert_eq!(read["last_read_message_id"], "r2");
    let note = alice_other.next_event("notification.mark_read");
    assert_eq!(note["thread_id"], "p1");
    assert_eq!(note["thread"]["parent_message_id"], "p1");
    assert_eq!(
        (
            note["unread_threads"].as_u64(),
            note["unread_thread_messages"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(note["unread_channels"], 1, "the channel is still unread");

    let state = ok(env.query_channel(Auth::User("alice"), ROOM, None));
    assert_eq!(
        unread_of(&state, "alice"),
        1,
        "the channel read state is untouched"
    );
    let t = ok(env.call("GET", "/threads/p1", Auth::User("alice"), None))["thread"].clone();
    let mine = t["read"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user"]["id"] == "alice")
        .unwrap()
        .clone();
    assert_eq!(
        (
            mine["unread_messages"].as_u64(),
            mine["last_read_message_id"].as_str()
        ),
        (Some(0), Some("r2"))
    );

    assert_error(
        env.mark_read(
            Auth::User("alice"),
            ROOM,
            Some(json!({"thread_id": "nope"})),
        ),
        404,
        16,
    );
    assert_error(
        env.mark_read(Auth::User("alice"), ROOM, Some(json!({"thread_id": "r1"}))),
        404,
        16,
    );
    assert_error(
        env.mark_read(Auth::User("carol"), ROOM, Some(json!({"thread_id": "p1"}))),
        403,
        17,
    );
}
