//! Robustness: slow consumers, bursts of connections, hostile input, extreme settings.

use std::time::{Duration, Instant};

use serde_json::json;
use stream_chat_server::{LAGGING_CLOSE_CODE, Server};

use crate::common::*;

/// Posts a server-side message from `host` with a `pad` custom field of `pad` bytes.
fn post_padded(env: &Env, cid: &str, text: &str, pad: usize) {
    let (kind, id) = cid.split_once(':').unwrap();
    let (status, body) = env.call(
        "POST",
        &format!("/channels/{kind}/{id}/message"),
        Auth::Server,
        Some(json!({"message": {"text": text, "user_id": "host", "pad": "x".repeat(pad)}})),
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_stalled_reader_is_disconnected_and_counted_while_others_keep_up() {
    let env = Env::with(Server::builder().max_queued_frames(4));
    let (mut slow, s) = env.connect("slow");
    let (mut fast, f) = env.connect("fast");
    for (user, first) in [("slow", &s), ("fast", &f)] {
        let (status, body) = env.watch(
            Auth::User(user),
            "livestream:busy",
            first["connection_id"].as_str().unwrap(),
        );
        assert_eq!(status, 200, "{body}");
    }
    // `slow` never reads from here on. Large frames fill the kernel's socket buffers
    // (a few MiB on loopback) quickly; then its 4-frame queue overflows.
    let deadline = Instant::now() + WITHIN;
    let mut sent = 0;
    while env.server.slow_consumer_disconnects() == 0 {
        assert!(
            Instant::now() < deadline,
            "a stalled reader was not disconnected after {sent} large messages"
        );
        post_padded(&env, "livestream:busy", &format!("m{sent}"), 256 * 1024);
        // The healthy watcher gets every message, in order, without waiting for the slow one.
        let event = fast.next_event("message.new");
        assert_eq!(event["message"]["text"], format!("m{sent}"));
        sent += 1;
    }
    assert_eq!(env.server.slow_consumer_disconnects(), 1);
    // It is gone from the channel at once: the others see it leave.
    let stop = fast.next_event("user.watching.stop");
    assert_eq!(stop["user"]["id"], "slow");
    assert_eq!(stop["watcher_count"], 1);
    eventually("the slow connection to be dropped", || {
        env.server.usage().concurrent_connections == 1
    });
    let (_, usage) = env.call("GET", "/emulator/usage", Auth::Server, None);
    assert_eq!(usage["slow_consumer_disconnects"], 1);
    // What it had in flight still arrives, then the socket ends: with close code 1013 when the
    // close frame fit before the server gave up on the stalled link, or dropped outright.
    let code = slow.read_until_closed();
    assert!(
        code.is_none() || code == Some(LAGGING_CLOSE_CODE),
        "unexpected close code {code:?}"
    );
    // New messages still flow to the healthy watcher.
    post_padded(&env, "livestream:busy", "after", 10);
    assert_eq!(fast.next_event("message.new")["message"]["text"], "after");
}

#[test]
fn a_burst_larger_than_the_queue_does_not_drop_a_reader_that_keeps_up() {
    let env = Env::start();
    let (mut ws, first) = env.connect("reader");
    env.watch(
        Auth::User("reader"),
        "livestream:burst",
        first["connection_id"].as_str().unwrap(),
    );
    // More events than the default queue holds, while the reader is not reading: the server
    // writes them out as they come and the socket buffers absorb them.
    let burst = 1200;
    for i in 0..burst {
        post_padded(&env, "livestream:burst", &format!("b{i}"), 0);
    }
    for i in 0..burst {
        assert_eq!(
            ws.next_event("message.new")["message"]["text"],
            format!("b{i}")
        );
    }
    assert_eq!(env.server.slow_consumer_disconnects(), 0);
}

#[test]
fn a_huge_health_check_interval_does_not_break_connections() {
    let env = Env::with(Server::builder().health_check_interval(Duration::MAX));
    let (mut ws, first) = env.connect("alice");
    assert_eq!(first["type"], "health.check");
    ws.send_text(r#"[{"type":"health.check","client_id":"alice--1"}]"#);
    let reply = ws.next_json(WITHIN);
    assert_eq!(reply["type"], "health.check", "{reply}");
    assert_eq!(reply["connection_id"], first["connection_id"]);
    assert_eq!(env.server.usage().concurrent_connections, 1);
}

#[test]
fn watchers_are_paginated_and_counted_per_user() {
    let env = Env::start();
    let mut sockets = Vec::new();
    // 105 users, one of them twice, plus two anonymous connections.
    for i in 0..105 {
        let user = format!("u{i:03}");
        let (ws, first) = env.connect(&user);
        env.watch(
            Auth::User(&user),
            "livestream:crowd",
            first["connection_id"].as_str().unwrap(),
        );
        sockets.push(ws);
    }
    let (again, first) = env.connect("u000");
    env.watch(
        Auth::User("u000"),
        "livestream:crowd",
        first["connection_id"].as_str().unwrap(),
    );
    for _ in 0..2 {
        let (ws, first) = env.connect_anonymous();
        env.watch(
            Auth::Anonymous,
            "livestream:crowd",
            first["connection_id"].as_str().unwrap(),
        );
        sockets.push(ws);
    }
    let query = |body: serde_json::Value| {
        let (status, state) = env.call(
            "POST",
            "/channels/livestream/crowd/query",
            Auth::User("u050"),
            Some(body),
        );
        assert_eq!(status, 200, "{state}");
        state
    };
    let state = query(json!({}));
    assert_eq!(state["watcher_count"], 107, "105 users + 2 anonymous");
    let watchers = state["watchers"].as_array().unwrap();
    assert_eq!(watchers.len(), 100, "the default page of watchers");
    assert_eq!(watchers[0]["id"], "u000");
    let page = query(json!({"watchers": {"limit": 2, "offset": 103}}));
    let ids: Vec<&str> = page["watchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["u103", "u104"]);
    let (status, bad) = env.call(
        "POST",
        "/channels/livestream/crowd/query",
        Auth::User("u050"),
        Some(json!({"watchers": {"limit": -1}})),
    );
    assert_eq!((status, bad["code"].as_i64()), (400, Some(4)), "{bad}");
    // u000's second connection leaving does not make u000 stop watching.
    again.close();
    eventually("u000's second socket to close", || {
        env.server.usage().concurrent_connections == 107
    });
    assert_eq!(query(json!({}))["watcher_count"], 107);
}
