//! Typing and custom events: `POST /channels/{type}/{id}/event` (typing with `parent_id`,
//! the channel type's `typing_events`, reserved types, size) and `POST /users/{id}/event`.

use serde_json::{Value, json};

use super::surface::*;
use crate::support::*;

fn event(env: &Env, auth: Auth, cid: &str, event: Value) -> (u16, Value) {
    let (kind, id) = cid.split_once(':').unwrap();
    env.call(
        "POST",
        &format!("/channels/{kind}/{id}/event"),
        auth,
        Some(json!({ "event": event })),
    )
}

#[test]
fn typing_reaches_every_watcher_with_its_thread() {
    let env = Env::start();
    let (mut alice, mut bob) = room(&env);
    let body = ok(event(
        &env,
        Auth::User("bob"),
        ROOM,
        json!({"type": "typing.start", "parent_id": "p1"}),
    ));
    assert_eq!(body["event"]["type"], "typing.start");
    assert_eq!(body["event"]["parent_id"], "p1");
    for ws in [&mut alice, &mut bob] {
        let e = ws.next_event("typing.start");
        assert_envelope(&e, "typing.start", ROOM);
        assert_eq!(e["user"]["id"], "bob");
        assert_eq!(e["parent_id"], "p1");
        assert_eq!(e, body["event"]);
    }
    ok(event(
        &env,
        Auth::User("bob"),
        ROOM,
        json!({"type": "typing.stop"}),
    ));
    let e = alice.next_event("typing.stop");
    assert_eq!(e["user"]["id"], "bob");
    assert!(
        e.get("parent_id").is_none(),
        "no parent_id key outside a thread: {e}"
    );
    // Server side: the user is named.
    ok(event(
        &env,
        Auth::Server,
        ROOM,
        json!({"type": "typing.start", "user_id": "alice"}),
    ));
    let e = bob.next_event("typing.start");
    assert_eq!(e["user"]["id"], "alice");
    assert!(e.get("user_id").is_none());
    assert_error(
        event(&env, Auth::Server, ROOM, json!({"type": "typing.start"})),
        400,
        4,
    );
    assert_error(
        event(
            &env,
            Auth::User("bob"),
            ROOM,
            json!({"type": "typing.start", "parent_id": 7}),
        ),
        400,
        4,
    );
}

#[test]
fn typing_follows_the_channel_types_config_and_grants() {
    let env = Env::start();
    let (_alice, _bob) = room(&env);
    guest(&env, "visitor");
    for who in [Auth::User("carol"), Auth::User("visitor"), Auth::Anonymous] {
        assert_error(
            event(&env, who, ROOM, json!({"type": "typing.start"})),
            403,
            17,
        );
    }
    // livestream: typing events are off for the type (the JS client does not send them).
    env.create_channel("livestream:show", "alice", &[]);
    let state = ok(env.query_channel(Auth::User("carol"), "livestream:show", None));
    assert_eq!(state["channel"]["config"]["typing_events"], false);
    let caps = state["channel"]["own_capabilities"].as_array().unwrap();
    assert!(!caps.contains(&json!("typing-events")), "{caps:?}");
    assert!(caps.contains(&json!("send-custom-events")), "{caps:?}");
    assert_error(
        event(
            &env,
            Auth::User("carol"),
            "livestream:show",
            json!({"type": "typing.start"}),
        ),
        400,
        19,
    );
    let room_caps =
        ok(env.query_channel(Auth::User("bob"), ROOM, None))["channel"]["own_capabilities"].clone();
    assert!(
        room_caps
            .as_array()
            .unwrap()
            .contains(&json!("typing-events"))
    );
}

#[test]
fn custom_events_carry_their_fields_to_the_watchers() {
    let env = Env::start();
    let (mut alice, _bob) = room(&env);
    guest(&env, "visitor");
    let body = ok(event(
        &env,
        Auth::User("bob"),
        ROOM,
        json!({"type": "friendship_request", "text": "hey", "level": {"n": 3}}),
    ));
    let e = alice.next_event("friendship_request");
    assert_envelope(&e, "friendship_request", ROOM);
    assert_eq!(
        (e["text"].as_str(), e["level"]["n"].as_i64()),
        (Some("hey"), Some(3))
    );
    assert_eq!(e["user"]["id"], "bob");
    assert_eq!(e, body["event"]);
    // AI indicators are client events too.
    ok(event(
        &env,
        Auth::User("bob"),
        ROOM,
        json!({"type": "ai_indicator.update", "ai_state": "AI_STATE_THINKING", "message_id": "m1"}),
    ));
    assert_eq!(
        alice.next_event("ai_indicator.update")["ai_state"],
        "AI_STATE_THINKING"
    );

    // The server's event families are not a client's to send.
    for reserved in [
        "message.new",
        "reaction.new",
        "notification.mark_read",
        "typing.maybe",
        "health.check",
    ] {
        assert_error(
            event(&env, Auth::User("bob"), ROOM, json!({"type": reserved})),
            400,
            18,
        );
    }
    assert_error(
        event(&env, Auth::User("bob"), ROOM, json!({"type": ""})),
        400,
        4,
    );
    assert_error(
        event(&env, Auth::User("bob"), ROOM, json!({"text": "no type"})),
        400,
        4,
    );
    let (kind, id) = ROOM.split_once(':').unwrap();
    assert_error(
        env.call(
            "POST",
            &format!("/channels/{kind}/{id}/event"),
            Auth::User("bob"),
            Some(json!({})),
        ),
        400,
        4,
    );
    assert_error(
        env.call(
            "POST",
            &format!("/channels/{kind}/{id}/event"),
            Auth::User("bob"),
            Some(json!({"event": "typing.start"})),
        ),
        400,
        4,
    );
    let big = "x".repeat(6 * 1024);
    assert_error(
        event(
            &env,
            Auth::User("bob"),
            ROOM,
            json!({"type": "blob", "data": big}),
        ),
        413,
        22,
    );
    assert_error(
        event(
            &env,
            Auth::User("bob"),
            "messaging:nowhere",
            json!({"type": "ping"}),
        ),
        404,
        16,
    );
    // Grants: members in messaging; in livestream users but no guest or anonymous.
    assert_error(
        event(&env, Auth::User("carol"), ROOM, json!({"type": "ping"})),
        403,
        17,
    );
    env.create_channel("livestream:show", "alice", &[]);
    ok(event(
        &env,
        Auth::User("carol"),
        "livestream:show",
        json!({"type": "ping"}),
    ));
    assert_error(
        event(
            &env,
            Auth::User("visitor"),
            "livestream:show",
            json!({"type": "ping"}),
        ),
        403,
        17,
    );
    assert_error(
        event(
            &env,
            Auth::Anonymous,
            "livestream:show",
            json!({"type": "ping"}),
        ),
        403,
        17,
    );
}

#[test]
fn user_custom_events_go_to_every_connection_of_the_user_from_a_server() {
    let env = Env::start();
    env.upsert(&["alice", "bob"]);
    let (mut one, _) = env.connect("alice");
    let (mut two, _) = env.connect("alice");
    let (mut bob, _) = env.connect("bob");
    let send = |auth, user: &str, body: Value| {
        env.call("POST", &format!("/users/{user}/event"), auth, Some(body))
    };
    let body = ok(send(
        Auth::Server,
        "alice",
        json!({"event": {"type": "friendship_accepted", "from": "bob"}}),
    ));
    assert_eq!(body.as_object().unwrap().len(), 1, "only duration: {body}");
    for ws in [&mut one, &mut two] {
        let e = ws.next_event("friendship_accepted");
        assert_eq!(e["from"], "bob");
        assert!(e["created_at"].is_string());
        assert!(e.get("cid").is_none());
    }
    bob.assert_no_event("friendship_accepted", std::time::Duration::from_millis(300));
    assert_error(
        send(
            Auth::User("bob"),
            "alice",
            json!({"event": {"type": "poke"}}),
        ),
        403,
        17,
    );
    assert_error(
        send(Auth::Anonymous, "alice", json!({"event": {"type": "poke"}})),
        403,
        17,
    );
    assert_error(
        send(Auth::Server, "nobody", json!({"event": {"type": "poke"}})),
        404,
        16,
    );
    assert_error(
        send(Auth::Server, "alice", json!({"event": {"type": "poke.me"}})),
        400,
        4,
    );
    assert_error(send(Auth::Server, "alice", json!({"event": {}})), 400, 4);
    assert_error(send(Auth::Server, "alice", json!({})), 400, 4);
}
