//! Channels: watching, fan-out, permissions, creation, members, reads (queries and paging
//! are in `queries`).

use serde_json::{Value, json};

use crate::support::*;

#[test]
fn message_new_reaches_every_watcher_including_the_sender() {
    let env = Env::start();
    let (mut alice, a) = env.connect("alice");
    let (mut bob, b) = env.connect("bob");
    let (status, state) = env.watch(
        Auth::User("alice"),
        "livestream:show",
        a["connection_id"].as_str().unwrap(),
    );
    assert_eq!(status, 200, "{state}");
    assert_eq!(state["channel"]["cid"], "livestream:show");
    assert_eq!(state["messages"], json!([]));
    assert_eq!(state["watcher_count"], 1);
    let (_, state) = env.watch(
        Auth::User("bob"),
        "livestream:show",
        b["connection_id"].as_str().unwrap(),
    );
    assert_eq!(state["watcher_count"], 2);
    let watchers: Vec<&str> = state["watchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(watchers, ["alice", "bob"]);

    let (status, sent) = env.send(Auth::User("alice"), "livestream:show", "hello");
    assert_eq!(status, 200, "{sent}");
    for ws in [&mut alice, &mut bob] {
        // Livestream has connect events off: no user.watching.start came first.
        let event = ws.next_json(WITHIN);
        assert_eq!(event["type"], "message.new", "{event}");
        assert_eq!(event["cid"], "livestream:show");
        assert_eq!(event["channel_id"], "show");
        assert_eq!(event["channel_type"], "livestream");
        assert_eq!(event["watcher_count"], 2);
        assert_eq!(event["user"]["id"], "alice");
        assert_eq!(event["message"]["text"], "hello");
        assert_eq!(event["message"]["id"], sent["message"]["id"]);
        assert!(event["created_at"].is_string());
    }

    // Bob leaving is not announced either; the next message counts one watcher.
    bob.close();
    env.wait_for("bob's socket to be gone", |c| {
        c.usage.concurrent_connections == 1
    });
    env.send(Auth::User("alice"), "livestream:show", "alone");
    let event = alice.next_json(WITHIN);
    assert_eq!(event["type"], "message.new", "{event}");
    assert_eq!(event["watcher_count"], 1);
}

#[test]
fn livestream_has_connect_events_off_and_messaging_on() {
    let env = Env::start();
    let (_alice, a) = env.connect("alice");
    let (_, state) = env.watch(
        Auth::User("alice"),
        "livestream:cfg",
        a["connection_id"].as_str().unwrap(),
    );
    assert_eq!(state["channel"]["config"]["connect_events"], false);
    let caps = state["channel"]["own_capabilities"].as_array().unwrap();
    assert!(!caps.contains(&json!("connect-events")), "{caps:?}");
    assert!(caps.contains(&json!("send-message")), "{caps:?}");
    env.create_channel("messaging:cfg", "alice", &["alice"]);
    let (_, state) = env.watch(
        Auth::User("alice"),
        "messaging:cfg",
        a["connection_id"].as_str().unwrap(),
    );
    assert_eq!(state["channel"]["config"]["connect_events"], true);
    let caps = state["channel"]["own_capabilities"].as_array().unwrap();
    assert!(caps.contains(&json!("connect-events")), "{caps:?}");
}

/// A watcher page is in user id order, with offset and limit, whatever the join order.
#[test]
fn the_watcher_page_is_in_id_order_and_paged() {
    let env = Env::start();
    let mut sockets = Vec::new();
    for user in ["dora", "bob", "eve", "alice", "carl"] {
        let (ws, hello) = env.connect(user);
        let (status, body) = env.watch(
            Auth::User(user),
            "livestream:page",
            hello["connection_id"].as_str().unwrap(),
        );
        assert_eq!(status, 200, "{body}");
        sockets.push(ws);
    }
    let page = |offset: u64, limit: u64| -> Vec<String> {
        let (status, body) = env.call(
            "POST",
            "/channels/livestream/page/query",
            Auth::User("alice"),
            Some(json!({"state": true, "watchers": {"offset": offset, "limit": limit}})),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["watcher_count"], 5);
        body["watchers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(page(0, 10), ["alice", "bob", "carl", "dora", "eve"]);
    assert_eq!(page(1, 2), ["bob", "carl"]);
    assert_eq!(page(4, 10), ["eve"]);
    assert_eq!(page(5, 10), Vec::<String>::new());
}

/// Text frames of `ws` up to and including the answer to a client health check sent now.
fn drain(ws: &mut Ws) -> Vec<Value> {
    ws.send_text("[]");
    let mut seen = Vec::new();
    loop {
        let frame = ws.next_json(WITHIN);
        if frame["type"] == "health.check" {
            return seen;
        }
        seen.push(frame);
    }
}

#[test]
fn a_watcher_gets_its_own_watching_start_but_not_its_own_stop() {
    let env = Env::start();
    // Messaging has connect events on (livestream has them off); created before anyone
    // connects, so that no notification.added_to_channel is in the way.
    env.create_channel("messaging:w", "alice", &["alice", "bob"]);
    let (mut alice, a) = env.connect("alice");
    let (mut alice2, a2) = env.connect("alice");
    let (mut bob, b) = env.connect("bob");
    let id = |v: &Value| v["connection_id"].as_str().unwrap().to_owned();
    env.watch(Auth::User("alice"), "messaging:w", &id(&a));
    let own = drain(&mut alice);
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(own[0]["type"], "user.watching.start");
    assert_eq!(own[0]["user"]["id"], "alice");
    assert_eq!(own[0]["watcher_count"], 1);
    // A second connection of a user who already watches starts nothing new.
    env.watch(Auth::User("alice"), "messaging:w", &id(&a2));
    assert_eq!(drain(&mut alice), Vec::<Value>::new());
    assert_eq!(drain(&mut alice2), Vec::<Value>::new());
    env.watch(Auth::User("bob"), "messaging:w", &id(&b));
    for ws in [&mut alice, &mut alice2, &mut bob] {
        let start = drain(ws);
        assert_eq!(start.len(), 1, "{start:?}");
        assert_eq!(start[0]["user"]["id"], "bob");
        assert_eq!(start[0]["watcher_count"], 2);
    }
    // The connection that stops is no longer a watcher: the others hear of it, it does not.
    let (status, body) = env.call(
        "POST",
        &format!(
            "/channels/messaging/w/stop-watching?connection_id={}",
            id(&b)
        ),
        Auth::User("bob"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(drain(&mut bob), Vec::<Value>::new());
    for ws in [&mut alice, &mut alice2] {
        let stop = drain(ws);
        assert_eq!(stop.len(), 1, "{stop:?}");
        assert_eq!(stop[0]["type"], "user.watching.stop");
        assert_eq!(stop[0]["user"]["id"], "bob");
        assert_eq!(stop[0]["watcher_count"], 1);
    }
}

/// The answer to a client frame follows every event queued before the server read that
/// frame, so "send a health check, read up to its answer" is a barrier ([`drain`]). The
/// connection task took client frames ahead of queued events, so under load an event
/// queued just before a ping went out after its answer (the test above flaked). Here the
/// task is held in a write deterministically: alice reads nothing while ~8 MB of messages
/// (twice what the socket buffers hold here) queue for her; then one more event and her
/// ping wait together until she reads.
#[test]
fn events_queued_before_a_client_frame_is_read_go_out_before_its_answer() {
    // Over Stream's 60 messages a minute from one user: limits off.
    let env = Env::with(
        stream_chat_server::Server::builder()
            .max_queued_frames(4096)
            .rate_limits(stream_chat_server::RateLimits::off()),
    );
    let (mut alice, a) = env.connect("alice");
    let conn = a["connection_id"].as_str().unwrap().to_owned();
    let (status, body) = env.watch(Auth::User("alice"), "livestream:order", &conn);
    assert_eq!(status, 200, "{body}");
    // Under Stream's 5,000-character text limit; ~8.5 KB per frame with its html.
    let text = "x".repeat(4000);
    const FLOOD: usize = 1000;
    for _ in 0..FLOOD {
        let (status, body) = env.send(Auth::User("alice"), "livestream:order", &text);
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = env.send(Auth::User("alice"), "livestream:order", "last");
    assert_eq!(status, 200, "{body}");
    alice.send_text("[]");
    let mut messages = 0;
    let last_before_answer = loop {
        let frame = alice.next_json(WITHIN);
        match frame["type"].as_str() {
            Some("health.check") => break false,
            Some("message.new") if frame["message"]["text"] == "last" => break true,
            Some("message.new") => messages += 1,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert!(
        last_before_answer,
        "the answer to the ping came after {messages} of the {FLOOD} messages queued before it"
    );
    assert_eq!(messages, FLOOD);
    assert_eq!(alice.next_json(WITHIN)["type"], "health.check");
}

#[test]
fn stop_watching_unsubscribes_the_connection() {
    let env = Env::start();
    let (mut alice, a) = env.connect("alice");
    let (mut bob, b) = env.connect("bob");
    let (a_id, b_id) = (
        a["connection_id"].as_str().unwrap(),
        b["connection_id"].as_str().unwrap(),
    );
    env.create_channel("messaging:s", "alice", &["alice", "bob"]);
    env.watch(Auth::User("alice"), "messaging:s", a_id);
    env.watch(Auth::User("bob"), "messaging:s", b_id);
    let (status, body) = env.call(
        "POST",
        &format!("/channels/messaging/s/stop-watching?connection_id={b_id}"),
        Auth::User("bob"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(alice.next_event("user.watching.stop")["user"]["id"], "bob");
    env.send(Auth::User("alice"), "messaging:s", "only alice sees this");
    assert_eq!(
        alice.next_event("message.new")["message"]["text"],
        "only alice sees this"
    );
    bob.assert_no_event("message.new", std::time::Duration::from_millis(300));
}

#[test]
fn mark_read_emits_message_read() {
    let env = Env::start();
    let (mut alice, a) = env.connect("alice");
    env.create_channel("messaging:room", "alice", &["alice", "bob"]);
    env.watch(
        Auth::User("alice"),
        "messaging:room",
        a["connection_id"].as_str().unwrap(),
    );
    let (_, sent) = env.send(Auth::User("bob"), "messaging:room", "unread for alice");
    let (status, body) = env.mark_read(Auth::User("alice"), "messaging:room", None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["event"]["type"], "message.read");
    let event = alice.next_event("message.read");
    assert_eq!(event["user"]["id"], "alice");
    assert_eq!(event["cid"], "messaging:room");
    assert_eq!(event["last_read_message_id"], sent["message"]["id"]);
    let (_, state) = env.query_channel(Auth::User("alice"), "messaging:room", None);
    let read: Vec<&Value> = state["read"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["user"]["id"] == "alice")
        .collect();
    assert_eq!(read[0]["unread_messages"], 0);
    let bob_read: Vec<&Value> = state["read"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["user"]["id"] == "bob")
        .collect();
    assert!(bob_read[0]["last_read"].is_string());
}

#[test]
fn unread_counts_and_notification_for_members_not_watching() {
    let env = Env::start();
    env.create_channel("messaging:room", "alice", &["alice", "bob"]);
    let (mut bob, _) = env.connect("bob");
    env.send(Auth::User("alice"), "messaging:room", "ping");
    let note = bob.next_event("notification.message_new");
    assert_eq!(note["channel"]["cid"], "messaging:room");
    assert_eq!(note["total_unread_count"], 1);
    let (_, first) = env.connect("bob");
    assert_eq!(first["me"]["unread_count"], 1);
    assert_eq!(first["me"]["unread_channels"], 1);
}

/// Query/watch, send, and create outcomes (HTTP status) for one caller.
fn outcomes(env: &Env, auth: Auth, existing: &str, fresh: &str) -> (u16, u16, u16) {
    let (kind, id) = existing.split_once(':').unwrap();
    let (read, _) = env.call("POST", &format!("/channels/{kind}/{id}/query"), auth, None);
    let (post, _) = env.send(auth, existing, "hi");
    let (kind, id) = fresh.split_once(':').unwrap();
    let (create, _) = env.call("POST", &format!("/channels/{kind}/{id}/query"), auth, None);
    (read, post, create)
}

#[test]
fn permission_matrix_follows_the_default_grants() {
    let env = Env::start();
    env.upsert(&["owner", "member", "stranger"]);
    env.create_channel("livestream:ls", "owner", &[]);
    env.create_channel("messaging:dm", "owner", &["owner", "member"]);
    let (_, guest) = env.call(
        "POST",
        "/guest",
        Auth::Anonymous,
        Some(json!({"user": {"id": "visitor"}})),
    );
    let guest_token = guest["access_token"].as_str().unwrap().to_owned();

    // livestream: users read+write without membership; guests and anonymous only read.
    assert_eq!(
        outcomes(
            &env,
            Auth::User("stranger"),
            "livestream:ls",
            "livestream:new1"
        ),
        (200, 200, 200)
    );
    assert_eq!(
        outcomes(
            &env,
            Auth::Token(&guest_token),
            "livestream:ls",
            "livestream:new2"
        ),
        (200, 403, 403)
    );
    assert_eq!(
        outcomes(&env, Auth::Anonymous, "livestream:ls", "livestream:new3"),
        (200, 403, 403)
    );
    // messaging: creator and members read+write, any user may create; guests and anonymous nothing.
    assert_eq!(
        outcomes(&env, Auth::User("member"), "messaging:dm", "messaging:new4"),
        (200, 200, 200)
    );
    assert_eq!(
        outcomes(&env, Auth::User("owner"), "messaging:dm", "messaging:new5"),
        (200, 200, 200)
    );
    assert_eq!(
        outcomes(
            &env,
            Auth::User("stranger"),
            "messaging:dm",
            "messaging:new6"
        ),
        (403, 403, 200)
    );
    assert_eq!(
        outcomes(
            &env,
            Auth::Token(&guest_token),
            "messaging:dm",
            "messaging:new7"
        ),
        (403, 403, 403)
    );
    assert_eq!(
        outcomes(&env, Auth::Anonymous, "messaging:dm", "messaging:new8"),
        (403, 403, 403)
    );

    let (status, body) = env.query_channel(Auth::Token(&guest_token), "messaging:dm", None);
    assert_eq!(status, 403);
    assert_eq!(body["code"], 17);
    assert_eq!(body["StatusCode"], 403);
    assert_eq!(
        body["message"],
        "GetOrCreateChannel failed with error: \"User 'visitor' with roles ['guest'] is not allowed to perform action ReadChannel in scope 'messaging'\""
    );
    let (_, body) = env.send(Auth::Anonymous, "livestream:ls", "x");
    assert_eq!(
        body["message"],
        "SendMessage failed with error: \"User '!anon' with roles ['anonymous'] is not allowed to perform action CreateMessage in scope 'livestream'\""
    );
    // own_capabilities reflect the grants.
    let (_, state) = env.query_channel(Auth::Anonymous, "livestream:ls", None);
    let caps = state["channel"]["own_capabilities"].as_array().unwrap();
    assert!(!caps.contains(&json!("send-message")));
    let (_, state) = env.query_channel(Auth::User("stranger"), "livestream:ls", None);
    let caps = state["channel"]["own_capabilities"].as_array().unwrap();
    assert!(caps.contains(&json!("send-message")) && caps.contains(&json!("read-events")));
}

#[test]
fn server_side_creation_needs_created_by() {
    let env = Env::start();
    let (status, body) = env.query_channel(Auth::Server, "messaging:orphan", None);
    assert_eq!((status, body["code"].as_i64()), (400, Some(4)), "{body}");
    assert!(body["message"].as_str().unwrap().contains("created_by"));
    env.create_channel("messaging:ok", "ann", &["ann", "ben"]);
    let (_, state) = env.query_channel(Auth::Server, "messaging:ok", None);
    assert_eq!(state["channel"]["created_by"]["id"], "ann");
    assert_eq!(state["channel"]["member_count"], 2);
    assert_eq!(state["members"][0]["role"], "owner");
}

#[test]
fn unknown_channel_type_and_channel() {
    let env = Env::start();
    let (status, body) = env.call(
        "POST",
        "/channels/no-such-type/x/query",
        Auth::User("alice"),
        None,
    );
    assert_eq!((status, body["code"].as_i64()), (404, Some(16)), "{body}");
    assert!(body["message"].as_str().unwrap().contains("no-such-type"));
    let (status, body) = env.send(Auth::Server, "messaging:never", "x");
    assert_eq!(
        (status, body["code"].as_i64()),
        (400, Some(4)),
        "server sends need a user: {body}"
    );
    let (status, body) = env.call(
        "POST",
        "/channels/messaging/never/message",
        Auth::Server,
        Some(json!({"message": {"text": "x", "user_id": "ann"}})),
    );
    assert_eq!((status, body["code"].as_i64()), (404, Some(16)), "{body}");
    let (status, body) = env.call(
        "POST",
        "/channels/messaging/bad%20id/query",
        Auth::User("alice"),
        None,
    );
    assert_eq!((status, body["code"].as_i64()), (400, Some(4)), "{body}");
}

#[test]
fn distinct_channels_by_members() {
    let env = Env::start();
    let body = json!({"data": {"members": ["ann", "ben"]}});
    let (status, first) = env.call(
        "POST",
        "/channels/messaging/query",
        Auth::User("ann"),
        Some(body),
    );
    assert_eq!(status, 200, "{first}");
    let (_, again) = env.call(
        "POST",
        "/channels/messaging/query",
        Auth::User("ben"),
        Some(json!({"data": {"members": ["ben", "ann"]}})),
    );
    assert_eq!(first["channel"]["cid"], again["channel"]["cid"]);
    assert!(
        first["channel"]["id"]
            .as_str()
            .unwrap()
            .starts_with("!members-")
    );
    let (status, body) = env.call(
        "POST",
        "/channels/messaging/query",
        Auth::User("ann"),
        Some(json!({"data": {"members": ["ann"]}})),
    );
    assert_eq!((status, body["code"].as_i64()), (400, Some(4)));
}

#[test]
fn add_members_updates_the_channel() {
    let env = Env::start();
    env.create_channel("messaging:room", "ann", &["ann"]);
    let (status, res) = env.call(
        "POST",
        "/channels/messaging/room",
        Auth::Server,
        Some(json!({"add_members": ["ben", "cat"]})),
    );
    assert_eq!(status, 200, "{res}");
    let ids: Vec<&str> = res["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ann", "ben", "cat"]);
    let (status, _) = env.call(
        "POST",
        "/channels/messaging/room",
        Auth::User("ben"),
        Some(json!({"add_members": ["dan"]})),
    );
    assert_eq!(status, 403, "only the creator updates members");
}

#[test]
fn nobody_watches_or_unwatches_with_someone_elses_connection() {
    let env = Env::start();
    let (mut alice, a) = env.connect("alice");
    let (mut bob, b) = env.connect("bob");
    let (a_id, b_id) = (
        a["connection_id"].as_str().unwrap(),
        b["connection_id"].as_str().unwrap(),
    );
    // Mallory subscribes bob's socket to a channel: refused, and bob gets nothing from it.
    let (status, body) = env.watch(Auth::User("mallory"), "livestream:trap", b_id);
    assert_eq!((status, body["code"].as_i64()), (400, Some(4)), "{body}");
    env.send(Auth::User("mallory"), "livestream:trap", "spam");
    bob.assert_no_event("message.new", std::time::Duration::from_millis(300));
    // Nor may she (or an anonymous caller) unsubscribe alice.
    env.watch(Auth::User("alice"), "livestream:show", a_id);
    for auth in [Auth::User("mallory"), Auth::Anonymous] {
        let (status, body) = env.call(
            "POST",
            &format!("/channels/livestream/show/stop-watching?connection_id={a_id}"),
            auth,
            None,
        );
        assert_eq!((status, body["code"].as_i64()), (400, Some(4)), "{body}");
    }
    env.send(Auth::User("bob"), "livestream:show", "still watching");
    assert_eq!(
        alice.next_event("message.new")["message"]["text"],
        "still watching"
    );
    // Stopping with a connection that is already gone is a no-op, as before.
    let (status, body) = env.call(
        "POST",
        "/channels/livestream/show/stop-watching?connection_id=gone",
        Auth::User("alice"),
        None,
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn watching_with_a_connection_that_is_not_open_is_code_46() {
    let env = Env::start();
    let (alice, a) = env.connect("alice");
    let stale = a["connection_id"].as_str().unwrap().to_owned();
    alice.close();
    env.wait_for("alice's socket to be gone", |c| {
        c.usage.concurrent_connections == 0
    });
    for conn in [stale.as_str(), "never-existed"] {
        let (status, body) = env.watch(Auth::User("alice"), "livestream:show", conn);
        assert_eq!((status, body["code"].as_i64()), (400, Some(46)), "{body}");
        assert_eq!(body["StatusCode"], 400);
        assert_eq!(
            body["message"],
            format!("GetOrCreateChannel failed with error: \"connection_id '{conn}' not found\"")
        );
        let (status, body) = env.call(
            "POST",
            &format!("/channels?connection_id={conn}"),
            Auth::User("alice"),
            Some(json!({"filter_conditions": {"cid": "livestream:show"}, "watch": true})),
        );
        assert_eq!((status, body["code"].as_i64()), (400, Some(46)), "{body}");
    }
    // A new connection of the same user watches fine; another user's stays code 4.
    let (_again, a) = env.connect("alice");
    let (_bob, b) = env.connect("bob");
    let fresh = a["connection_id"].as_str().unwrap();
    let (status, body) = env.watch(Auth::User("alice"), "livestream:show", fresh);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["watcher_count"], 1, "{body}");
    let (status, body) = env.watch(
        Auth::User("alice"),
        "livestream:show",
        b["connection_id"].as_str().unwrap(),
    );
    assert_eq!((status, body["code"].as_i64()), (400, Some(4)), "{body}");
}

/// A message reaches every watcher but those who blocked its author (found by a reverse
/// lookup, not by scanning the audience); a shadowed one reaches its author only, anonymous
/// watchers included in "everyone else".
#[test]
fn blockers_and_everyone_but_a_shadowed_author_do_not_get_the_message() {
    let env = Env::start();
    let mut watchers = Vec::new();
    for user in ["alice", "bob", "carl"] {
        let (ws, hello) = env.connect(user);
        let (status, body) = env.watch(
            Auth::User(user),
            "livestream:quiet",
            hello["connection_id"].as_str().unwrap(),
        );
        assert_eq!(status, 200, "{body}");
        watchers.push(ws);
    }
    let (mut anon, hello) = env.connect_anonymous();
    let (status, body) = env.watch(
        Auth::Anonymous,
        "livestream:quiet",
        hello["connection_id"].as_str().unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = env.call(
        "POST",
        "/users/block",
        Auth::User("bob"),
        Some(json!({"blocked_user_id": "alice"})),
    );
    assert_eq!(status, 200, "{body}");
    let [alice, bob, carl] = &mut watchers[..] else {
        unreachable!()
    };

    env.send(Auth::User("alice"), "livestream:quiet", "not for bob");
    for ws in [&mut *alice, &mut *carl, &mut anon] {
        assert_eq!(
            ws.next_event("message.new")["message"]["text"],
            "not for bob"
        );
    }
    assert!(
        drain(bob).iter().all(|e| e["type"] != "message.new"),
        "bob blocked alice"
    );
    env.send(Auth::User("carl"), "livestream:quiet", "for all");
    for ws in [&mut *alice, &mut *bob, &mut *carl, &mut anon] {
        assert_eq!(ws.next_event("message.new")["message"]["text"], "for all");
    }

    let (status, body) = env.call(
        "POST",
        "/moderation/ban",
        Auth::Server,
        Some(json!({"target_user_id": "carl", "shadow": true, "banned_by_id": "alice"})),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = env.send(Auth::User("carl"), "livestream:quiet", "shadowed");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        carl.next_event("message.new")["message"]["text"],
        "shadowed"
    );
    for ws in [&mut *alice, &mut *bob, &mut anon] {
        let seen = drain(ws);
        assert!(
            seen.iter().all(|e| e["message"]["text"] != "shadowed"),
            "{seen:?}"
        );
    }
}

/// Livestream has connect events off: watching one with `presence: true` subscribes to no
/// one, and its members' presence changes do not travel through it; messaging's do.
#[test]
fn presence_does_not_travel_through_a_livestream_channel() {
    let env = Env::start();
    env.upsert(&["alice", "bob"]);
    env.create_channel("livestream:stage", "alice", &["bob"]);
    env.create_channel("messaging:pals", "alice", &["alice", "bob"]);
    let (mut alice, hello) = env.connect("alice");
    let conn = hello["connection_id"].as_str().unwrap().to_owned();
    let (status, body) = env.call(
        "POST",
        &format!("/channels/livestream/stage/query?connection_id={conn}"),
        Auth::User("alice"),
        Some(json!({"presence": true, "state": true, "watch": true})),
    );
    assert_eq!(status, 200, "{body}");

    // Bob, a member of the livestream channel, comes online and goes offline: alice hears
    // nothing (what his connect or close queued for her is in before the answer to her ping).
    let (bob, _) = env.connect("bob");
    let seen = drain(&mut alice);
    assert!(
        seen.iter().all(|e| e["type"] != "user.presence.changed"),
        "{seen:?}"
    );
    bob.close();
    env.wait_for("bob's socket to be gone", |c| {
        c.usage.concurrent_connections == 1
    });
    let seen = drain(&mut alice);
    assert!(
        seen.iter().all(|e| e["type"] != "user.presence.changed"),
        "{seen:?}"
    );

    // The same user seen through a messaging channel: presence arrives.
    let (status, body) = env.call(
        "POST",
        &format!("/channels/messaging/pals/query?connection_id={conn}"),
        Auth::User("alice"),
        Some(json!({"presence": true, "state": true, "watch": true})),
    );
    assert_eq!(status, 200, "{body}");
    let (_bob, _) = env.connect("bob");
    let e = alice.next_event("user.presence.changed");
    assert_eq!(
        (e["user"]["id"].as_str(), e["user"]["online"].as_bool()),
        (Some("bob"), Some(true))
    );
}
