//! Message update, delete and get: `POST`, `DELETE` and `GET /messages/{id}`.

use serde_json::{Value, json};

use crate::support::*;

/// A messaging channel `room` of alice and bob, both watching; returns their sockets.
fn room(env: &Env) -> (Ws, Ws) {
    env.create_channel("messaging:room", "alice", &["alice", "bob"]);
    let mut sockets = Vec::new();
    for user in ["alice", "bob"] {
        let (ws, first) = env.connect(user);
        let conn = first["connection_id"].as_str().unwrap();
        let (status, body) = env.watch(Auth::User(user), "messaging:room", conn);
        assert_eq!(status, 200, "{body}");
        sockets.push(ws);
    }
    let bob = sockets.pop().unwrap();
    (sockets.pop().unwrap(), bob)
}

fn send(env: &Env, auth: Auth, message: Value) -> Value {
    let (status, body) = env.call(
        "POST",
        "/channels/messaging/room/message",
        auth,
        Some(json!({ "message": message })),
    );
    assert_eq!(status, 200, "{body}");
    body["message"].clone()
}

fn texts(state: &Value) -> Vec<(String, String)> {
    state["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["text"].as_str().unwrap().to_owned(),
                m["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn assert_code(status: u16, body: &Value, expected: (u16, i64)) {
    assert_eq!(
        (status, body["code"].as_i64()),
        (expected.0, Some(expected.1)),
        "{body}"
    );
    assert_eq!(body["StatusCode"], expected.0, "{body}");
}

#[test]
fn the_author_updates_a_message_and_watchers_get_message_updated() {
    let env = Env::start();
    let (mut alice, mut bob) = room(&env);
    let sent = send(
        &env,
        Auth::User("alice"),
        json!({"id": "m1", "text": "hello", "mood": "ok"}),
    );
    // What the JS client sends back: the whole message, server fields included.
    let mut edit = sent.clone();
    edit["text"] = json!("hello <again>");
    edit["mood"] = json!("great");
    edit["type"] = json!("system");
    edit["cid"] = json!("messaging:elsewhere");
    edit["created_at"] = json!("2000-01-01T00:00:00Z");
    let (status, body) = env.call(
        "POST",
        "/messages/m1",
        Auth::User("alice"),
        Some(json!({ "message": edit })),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body["duration"].is_string());
    let updated = &body["message"];
    assert_eq!(updated["id"], "m1");
    assert_eq!(updated["text"], "hello <again>");
    assert_eq!(updated["html"], "<p>hello &lt;again&gt;</p>\n");
    assert_eq!(updated["mood"], "great");
    assert_eq!(updated["type"], "regular");
    assert_eq!(updated["cid"], "messaging:room");
    assert_eq!(updated["user"]["id"], "alice");
    assert_eq!(updated["created_at"], sent["created_at"]);
    assert!(updated["updated_at"].as_str() > sent["updated_at"].as_str());
    assert_eq!(updated["message_text_updated_at"], updated["updated_at"]);
    for ws in [&mut alice, &mut bob] {
        let event = ws.next_event("message.updated");
        assert_eq!(event["cid"], "messaging:room");
        assert_eq!(event["channel_id"], "room");
        assert_eq!(event["channel_type"], "messaging");
        assert_eq!(event["user"]["id"], "alice");
        assert_eq!(&event["message"], updated);
        assert!(event["created_at"].is_string());
    }
    let (status, got) = env.call("GET", "/messages/m1", Auth::User("bob"), None);
    assert_eq!(status, 200, "{got}");
    assert_eq!(&got["message"], updated);
    let (_, state) = env.query_channel(Auth::User("bob"), "messaging:room", None);
    assert_eq!(texts(&state), [("hello <again>".into(), "regular".into())]);
}

#[test]
fn only_the_author_updates_or_deletes_and_server_tokens_may_too() {
    let env = Env::start();
    let (_alice, mut bob) = room(&env);
    send(
        &env,
        Auth::User("alice"),
        json!({"id": "m1", "text": "mine"}),
    );
    let edit = Some(json!({"message": {"text": "bob was here"}}));
    let (status, body) = env.call("POST", "/messages/m1", Auth::User("bob"), edit.clone());
    assert_code(status, &body, (403, 17));
    assert_eq!(
        body["message"],
        "UpdateMessage failed with error: \"User 'bob' with roles ['user'] is not allowed to perform action UpdateMessage in scope 'messaging'\""
    );
    let (status, body) = env.call("DELETE", "/messages/m1", Auth::User("bob"), None);
    assert_code(status, &body, (403, 17));
    assert!(
        body["message"].as_str().unwrap().contains("DeleteMessage"),
        "{body}"
    );
    // Acting as the author with one's own token is refused too.
    let (status, body) = env.call(
        "POST",
        "/messages/m1",
        Auth::User("bob"),
        Some(json!({"message": {"text": "x", "user_id": "alice"}})),
    );
    assert_code(status, &body, (403, 17));
    // Outsiders cannot even read it; anonymous users neither (messaging).
    for auth in [Auth::User("carol"), Auth::Anonymous] {
        let (status, body) = env.call("GET", "/messages/m1", auth, None);
        assert_code(status, &body, (403, 17));
    }
    // Server side: allowed; the event names the author when no user is given.
    let (status, body) = env.call(
        "POST",
        "/messages/m1",
        Auth::Server,
        Some(json!({"message": {"text": "moderated"}})),
    );
    assert_eq!(status, 200, "{body}");
    let event = bob.next_event("message.updated");
    assert_eq!(
        (
            event["user"]["id"].as_str(),
            event["message"]["text"].as_str()
        ),
        (Some("alice"), Some("moderated"))
    );
    let (status, body) = env.call("DELETE", "/messages/m1", Auth::Server, None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(bob.next_event("message.deleted")["user"]["id"], "alice");
}

#[test]
fn bad_updates_and_unknown_messages() {
    let env = Env::start();
    let (_alice, _bob) = room(&env);
    send(
        &env,
        Auth::User("alice"),
        json!({"id": "m1", "text": "mine"}),
    );
    let update = |body: Value| env.call("POST", "/messages/m1", Auth::User("alice"), Some(body));
    let (status, body) = update(json!({"message": {"id": "m2", "text": "x"}}));
    assert_code(status, &body, (400, 4));
    let (status, body) = update(json!({"message": {"text": "  "}}));
    assert_code(status, &body, (400, 4));
    let (status, body) = update(json!({"message": {"text": "x".repeat(5001)}}));
    assert_code(status, &body, (400, 20));
    let (status, body) = update(json!({"text": "no message object"}));
    assert_code(status, &body, (400, 4));
    for (method, body) in [
        ("GET", None),
        ("POST", Some(json!({"message": {"text": "x"}}))),
        ("DELETE", None),
    ] {
        let (status, res) = env.call(method, "/messages/nope", Auth::User("alice"), body);
        assert_code(status, &res, (404, 16));
    }
    let (status, body) = env.call(
        "DELETE",
        "/messages/m1?hard=maybe",
        Auth::User("alice"),
        None,
    );
    assert_code(status, &body, (400, 4));
}

#[test]
fn soft_deletes_stay_as_deleted_and_hard_deletes_vanish() {
    let env = Env::start();
    let (mut alice, mut bob) = room(&env);
    for id in ["m1", "m2", "m3"] {
        send(&env, Auth::User("alice"), json!({"id": id, "text": id}));
    }
    let (status, body) = env.call("DELETE", "/messages/m1", Auth::User("alice"), None);
    assert_eq!(status, 200, "{body}");
    let soft = &body["message"];
    assert_eq!(
        (soft["id"].as_str(), soft["type"].as_str()),
        (Some("m1"), Some("deleted"))
    );
    assert!(
        soft["deleted_at"].as_str().unwrap().ends_with('Z'),
        "{soft}"
    );
    for ws in [&mut alice, &mut bob] {
        let event = ws.next_event("message.deleted");
        assert_eq!(event["cid"], "messaging:room");
        assert_eq!(event["channel_id"], "room");
        assert_eq!(event["channel_type"], "messaging");
        assert_eq!(event["hard_delete"], false);
        assert_eq!(event["user"]["id"], "alice");
        assert_eq!(&event["message"], soft);
    }
    let (status, body) = env.call(
        "DELETE",
        "/messages/m2?hard=true",
        Auth::User("alice"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["message"]["type"], "deleted");
    for ws in [&mut alice, &mut bob] {
        let event = ws.next_event("message.deleted");
        assert_eq!(event["hard_delete"], true);
        assert_eq!(event["message"]["id"], "m2");
    }
    let (_, state) = env.query_channel(Auth::User("bob"), "messaging:room", None);
    assert_eq!(
        texts(&state),
        [
            ("m1".into(), "deleted".into()),
            ("m3".into(), "regular".into())
        ]
    );
    let (status, body) = env.call("GET", "/messages/m1", Auth::User("bob"), None);
    assert_eq!((status, &body["message"]["type"]), (200, &json!("deleted")));
    let (status, body) = env.call("GET", "/messages/m2", Auth::User("bob"), None);
    assert_code(status, &body, (404, 16));
    // A deleted message cannot be edited; deleting it softly again changes nothing.
    let (status, body) = env.call(
        "POST",
        "/messages/m1",
        Auth::User("alice"),
        Some(json!({"message": {"text": "back"}})),
    );
    assert_code(status, &body, (400, 4));
    let (status, again) = env.call("DELETE", "/messages/m1", Auth::User("alice"), None);
    assert_eq!((status, &again["message"]), (200, soft));
    send(&env, Auth::User("bob"), json!({"text": "marker"}));
    for frame in frames_until_marker(&mut bob, "marker") {
        assert_ne!(
            frame["type"], "message.deleted",
            "no event for a no-op: {frame}"
        );
    }
    // A hard delete still removes a soft-deleted message.
    let (status, _) = env.call("DELETE", "/messages/m1?hard=1", Auth::User("alice"), None);
    assert_eq!(status, 200);
    assert_eq!(bob.next_event("message.deleted")["hard_delete"], true);
    let (_, state) = env.query_channel(Auth::User("bob"), "messaging:room", None);
    assert_eq!(
        texts(&state),
        [
            ("m3".into(), "regular".into()),
            ("marker".into(), "regular".into())
        ]
    );
}

#[test]
fn livestream_authors_edit_their_own_messages_without_membership() {
    let env = Env::start();
    send_live(&env, "dan", "d1");
    let (status, body) = env.call(
        "POST",
        "/messages/d1",
        Auth::User("dan"),
        Some(json!({"message": {"text": "edited"}})),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = env.call("DELETE", "/messages/d1", Auth::User("eve"), None);
    assert_code(status, &body, (403, 17));
    // Anonymous viewers read it but cannot touch it.
    let (status, body) = env.call("GET", "/messages/d1", Auth::Anonymous, None);
    assert_eq!((status, &body["message"]["text"]), (200, &json!("edited")));
    let (status, body) = env.call("DELETE", "/messages/d1", Auth::Anonymous, None);
    assert_code(status, &body, (403, 17));
}

fn send_live(env: &Env, user: &str, id: &str) {
    let (status, body) = env.query_channel(Auth::User(user), "livestream:show", None);
    assert_eq!(status, 200, "{body}");
    let (status, body) = env.call(
        "POST",
        "/channels/livestream/show/message",
        Auth::User(user),
        Some(json!({"message": {"id": id, "text": id}})),
    );
    assert_eq!(status, 200, "{body}");
}
