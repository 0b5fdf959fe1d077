//! Notifications to a user's own connections: `notification.mark_read` and
//! `notification.added_to_channel`.

use serde_json::{Value, json};

use crate::support::*;

fn types(frames: &[Value]) -> Vec<&str> {
    frames.iter().map(|f| f["type"].as_str().unwrap()).collect()
}

#[test]
fn mark_read_notifies_every_connection_of_the_reader_with_its_unread_counts() {
    let env = Env::start();
    env.create_channel("messaging:room", "bob", &["alice", "bob"]);
    env.create_channel("messaging:other", "bob", &["alice", "bob"]);
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

    let (status, body) = env.mark_read(Auth::User("alice"), "messaging:room", None);
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
    let (status, body) = env.mark_read(
        Auth::Server,
        "messaging:other",
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
    let frames = frames_until_marker(&mut bob, "marker");
    assert!(types(&frames).contains(&"message.read"), "{frames:?}");
    assert!(
        !types(&frames).contains(&"notification.mark_read"),
        "{frames:?}"
    );
}

#[test]
fn added_members_are_notified_but_not_a_creator_adding_themselves() {
    let env = Env::start();
    let (mut ann, first) = env.connect("ann");
    let ann_conn = first["connection_id"].as_str().unwrap().to_owned();
    let (mut ben, first) = env.connect("ben");
    let ben_conn = first["connection_id"].as_str().unwrap().to_owned();
    let (mut ben2, _) = env.connect("ben");
    // Ann creates a channel with herself and Ben.
    let (status, body) = env.query_channel(
        Auth::User("ann"),
        "messaging:trip",
        Some(json!({"data": {"members": ["ann", "ben"], "name": "Trip"}})),
    );
    assert_eq!(status, 200, "{body}");
    for ws in [&mut ben, &mut ben2] {
        let note = ws.next_event("notification.added_to_channel");
        assert_eq!(note["cid"], "messaging:trip");
        assert_eq!(note["channel_id"], "trip");
        assert_eq!(note["channel_type"], "messaging");
        assert!(note["created_at"].as_str().unwrap().ends_with('Z'));
        let channel = &note["channel"];
        assert_eq!(channel["cid"], "messaging:trip");
        assert_eq!(channel["name"], "Trip");
        assert_eq!(channel["config"]["name"], "messaging");
        let caps = channel["own_capabilities"].as_array().unwrap();
        assert!(
            caps.contains(&json!("send-message")),
            "Ben's view: {caps:?}"
        );
        assert!(!caps.contains(&json!("update-channel-members")), "{caps:?}");
        assert_eq!(note["member"]["user_id"], "ben");
        assert_eq!(note["member"]["user"]["id"], "ben");
        assert_eq!(note["member"]["role"], "member");
    }
    // add_members (by the creator, then server side) notifies the newcomers only.
    let (mut cat, _) = env.connect("cat");
    let (status, body) = env.call(
        "POST",
        "/channels/messaging/trip",
        Auth::User("ann"),
        Some(json!({"add_members": ["cat", "ben"]})),
    );
    assert_eq!(status, 200, "{body}");
    let note = cat.next_event("notification.added_to_channel");
    assert_eq!(note["member"]["user_id"], "cat");
    assert_eq!(note["channel"]["member_count"], 3);
    // A server-side creation whose creator is a member: only the others hear of it.
    env.create_channel("messaging:plan", "ann", &["ann", "cat"]);
    let note = cat.next_event("notification.added_to_channel");
    assert_eq!(note["cid"], "messaging:plan");
    // Neither Ann (the creator, in both channels) nor Ben (already a member when added
    // again) got anything more: all their events up to a marker message are checked.
    for (ws, conn, user) in [(&mut ann, &ann_conn, "ann"), (&mut ben, &ben_conn, "ben")] {
        let cid = format!("livestream:end-{user}");
        let (status, body) = env.watch(Auth::User(user), &cid, conn);
        assert_eq!(status, 200, "{body}");
        env.send(Auth::User(user), &cid, "marker");
        let frames = frames_until_marker(ws, "marker");
        assert!(
            !types(&frames).contains(&"notification.added_to_channel"),
            "{user}: {frames:?}"
        );
    }
}
