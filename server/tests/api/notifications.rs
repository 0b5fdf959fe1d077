//! Notifications to a user's own connections: `notification.mark_read` and
//! `notification.added_to_channel`.

use serde_json::{Value, json};

use crate::common::*;

/// Creates `kind:id` server-side with `creator` and `members`.
fn create(env: &Env, cid: &str, creator: &str, members: &[&str]) {
    let (kind, id) = cid.split_once(':').unwrap();
    let (status, body) = env.call(
        "POST",
        &format!("/channels/{kind}/{id}/query"),
        Auth::Server,
        Some(json!({"data": {"created_by_id": creator, "members": members}})),
    );
    assert_eq!(status, 200, "{body}");
}

/// Text frames up to and including the `message.new` whose text is `marker`.
fn until_marker(ws: &mut Ws, marker: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let frame = ws.next_json(WITHIN);
        let done = frame["type"] == "message.new" && frame["message"]["text"] == marker;
        seen.push(frame);
        if done {
            return seen;
        }
    }
}

fn types(frames: &[Value]) -> Vec<&str> {
    frames.iter().map(|f| f["type"].as_str().unwrap()).collect()
}

#[test]
fn mark_read_notifies_every_connection_of_the_reader_with_its_unread_counts() {
    let env = Env::start();
    create(&env, "messaging:room", "bob", &["alice", "bob"]);
    create(&env, "messaging:other", "bob", &["alice", "bob"]);
    let (mut watching, a) = env.connect("alice");
    let (mut elsewhere, _) = env.connect("alice");
    let (mut bob, b) = env.connect("bob");
    env.watch(
        Auth::User("alice"),
        "messaging:room",
        a["connection_id"].as_str().unwrap(),
    );
    env.watch(
        Auth::User("bob"),
        "messaging:room",
        b["connection_id"].as_str().unwrap(),
    );
    env.send(Auth::User("bob"), "messaging:room", "one");
    env.send(Auth::User("bob"), "messaging:room", "two");
    env.send(Auth::User("bob"), "messaging:other", "three");

    let (status, body) = env.call(
        "POST",
        "/channels/messaging/room/read",
        Auth::User("alice"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["event"]["type"], "message.read");
    for ws in [&mut watching, &mut elsewhere] {
        let note = ws.next_event("notification.mark_read");
        assert_eq!(note["cid"], "messaging:room");
        assert_eq!(note["channel_id"], "room");
        assert_eq!(note["channel_type"], "messaging");
        assert_eq!(note["user"]["id"], "alice");
        // "other" is still unread.
        assert_eq!(note["total_unread_count"], 1, "{note}");
        assert_eq!(note["unread_channels"], 1, "{note}");
        assert_eq!(note["unread_count"], 1, "{note}");
        assert!(note["created_at"].as_str().unwrap().ends_with('Z'));
    }
    // Server side, for alice: the counters drop to zero.
    let (status, body) = env.call(
        "POST",
        "/channels/messaging/other/read",
        Auth::Server,
        Some(json!({"user_id": "alice"})),
    );
    assert_eq!(status, 200, "{body}");
    let note = elsewhere.next_event("notification.mark_read");
    assert_eq!(note["cid"], "messaging:other");
    assert_eq!(
        (
            &note["total_unread_count"],
            &note["unread_channels"],
            &note["unread_count"]
        ),
        (&json!(0), &json!(0), &json!(0))
    );
    // Bob watches "room" and sees alice's message.read, but no notification of hers.
    env.send(Auth::User("alice"), "messaging:room", "marker");
    let frames = until_marker(&mut bob, "marker");
    assert!(types(&frames).contains(&"message.read"), "{frames:?}");
    assert!(
        !types(&frames).contains(&"notification.mark_read"),
        "{frames:?}"
    );
}
