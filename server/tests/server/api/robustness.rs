//! Robustness: slow consumers, bursts of connections, hostile input, extreme settings.

use std::time::{Duration, Instant};

use serde_json::json;
use stream_chat_server::{LAGGING_CLOSE_CODE, Server};

use crate::support::*;

/// A custom-data limit that lets [`post_padded`] through (Stream's is 5 KB).
const PAD_LIMIT: usize = 1024 * 1024;

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
    // Messages padded with 256 KiB of custom data fill the socket buffers fast.
    let env = Env::with(
        Server::builder()
            .max_queued_frames(4)
            .max_custom_data(PAD_LIMIT),
    );
    let (mut slow, s) = env.connect("slow");
    let (mut fast, f) = env.connect("fast");
    // Messaging, whose watchers hear of each other leaving (livestream has no connect events).
    env.create_channel("messaging:busy", "host", &["host", "slow", "fast"]);
    for (user, first) in [("slow", &s), ("fast", &f)] {
        let (status, body) = env.watch(
            Auth::User(user),
            "messaging:busy",
            first["connection_id"].as_str().unwrap(),
        );
        assert_eq!(status, 200, "{body}");
    }
    // `slow` never reads from here on. Large frames fill the kernel's socket buffers
    // (a few MiB on loopback) quickly; then its 4-frame queue overflows.
    let deadline = Instant::now() + WITHIN;
    let mut sent = 0;
    // The slow one may leave (and `fast` hear of it) before the counter is read again: one
    // more message can follow its `user.watching.stop`, which must not be skipped over.
    let mut left = None;
    while env.server.slow_consumer_disconnects() == 0 {
        assert!(
            Instant::now() < deadline,
            "a stalled reader was not disconnected after {sent} large messages"
        );
        post_padded(&env, "messaging:busy", &format!("m{sent}"), 256 * 1024);
        // The healthy watcher gets every message, in order, without waiting for the slow one.
        let event = loop {
            let frame = fast.next_json(WITHIN);
            match frame["type"].as_str() {
                Some("message.new") => break frame,
                Some("user.watching.stop") => left = Some(frame),
                _ => {}
            }
        };
        assert_eq!(event["message"]["text"], format!("m{sent}"));
        sent += 1;
    }
    assert_eq!(env.server.slow_consumer_disconnects(), 1);
    // It is gone from the channel at once: the others see it leave.
    let stop = left.unwrap_or_else(|| fast.next_event("user.watching.stop"));
    assert_eq!(stop["user"]["id"], "slow");
    assert_eq!(stop["watcher_count"], 1);
    env.wait_for("the slow connection to be dropped", |c| {
        c.usage.concurrent_connections == 1
    });
    let (_, usage) = env.call("GET", "/emulator/usage", Auth::Server, None);
    assert_eq!(usage["slow_consumer_disconnects"], 1);
    // What it had in flight still arrives, then the close frame with code 1013 (written
    // after it with a deadline of its own, issue 15).
    assert_eq!(slow.read_until_closed(), Some(LAGGING_CLOSE_CODE));
    // New messages still flow to the healthy watcher.
    post_padded(&env, "messaging:busy", "after", 10);
    assert_eq!(fast.next_event("message.new")["message"]["text"], "after");
}

#[test]
fn a_burst_larger_than_the_queue_does_not_drop_a_reader_that_keeps_up() {
    // 1,200 server-side messages at once: over Stream's 1,000 a minute for the app.
    let env = Env::with(
        Server::builder()
            .max_custom_data(PAD_LIMIT)
            .rate_limits(stream_chat_server::RateLimits::off()),
    );
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
        let (status, state) = env.query_channel(Auth::User("u050"), "livestream:crowd", Some(body));
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
    let (status, bad) = env.query_channel(
        Auth::User("u050"),
        "livestream:crowd",
        Some(json!({"watchers": {"limit": -1}})),
    );
    assert_eq!((status, bad["code"].as_i64()), (400, Some(4)), "{bad}");
    // u000's second connection leaving does not make u000 stop watching.
    again.close();
    env.wait_for("u000's second socket to close", |c| {
        c.usage.concurrent_connections == 107
    });
    assert_eq!(query(json!({}))["watcher_count"], 107);
}

/// Sends raw bytes as one HTTP/1.1 request and returns the status and the JSON body.
fn raw_request(env: &Env, head: &[u8]) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect_timeout(&env.server.addr(), WITHIN).unwrap();
    tcp.set_read_timeout(Some(WITHIN)).unwrap();
    tcp.write_all(head).unwrap();
    let mut response = Vec::new();
    tcp.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").unwrap().1;
    (
        status,
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

#[test]
fn hostile_input_gets_stream_shaped_errors_never_a_dropped_connection() {
    let env = Env::start();
    let token = env.server.server_token();
    let assert_error = |(status, body): (u16, serde_json::Value), code: i64, what: &str| {
        assert_eq!(body["code"].as_i64(), Some(code), "{what}: {body}");
        assert_eq!(
            body["StatusCode"].as_u64(),
            Some(u64::from(status)),
            "{what}"
        );
        let mut keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "StatusCode",
                "code",
                "details",
                "duration",
                "message",
                "more_info"
            ],
            "{what}"
        );
    };
    // Invalid UTF-8 in the query string (api_key and payload) and in a path segment.
    let request = |target: &str| {
        format!(
            "GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\nConnection: close\r\n\r\n"
        )
    };
    assert_error(
        raw_request(&env, request("/users?api_key=%FF%FE").as_bytes()),
        2,
        "bad key",
    );
    let key = env.server.api_key();
    let bad_payload = request(&format!("/users?api_key={key}&payload=%FF%7B"));
    assert_error(raw_request(&env, bad_payload.as_bytes()), 4, "bad payload");
    let post = |path: &str, body: &str| {
        format!(
            "POST {path}?api_key={key} HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let cases = [
        (
            "/channels/livestream/%FF%FE/query",
            "{}".to_owned(),
            4,
            "invalid UTF-8 id",
        ),
        (
            "/channels/livestream/a:b/query",
            "{}".to_owned(),
            4,
            "colon in id",
        ),
        (
            "/channels/livestream/%2E%2E/query",
            "{}".to_owned(),
            4,
            "dots in id",
        ),
        (
            "/channels/livestream/x/query",
            format!("{{\"data\":{}1{}}}", "[".repeat(5000), "]".repeat(5000)),
            4,
            "deeply nested JSON",
        ),
        (
            "/channels/livestream/x/query",
            r#"{"messages":{"limit":99999999999}}"#.to_owned(),
            4,
            "limit beyond u32",
        ),
        (
            "/channels",
            r#"{"limit":-1}"#.to_owned(),
            4,
            "negative limit",
        ),
        (
            "/channels",
            format!(
                "{{\"filter_conditions\":{}}}",
                "{\"$and\":[".repeat(200) + &"]}".repeat(200)
            ),
            4,
            "filter nested beyond the JSON depth limit",
        ),
        (
            "/channels",
            r#"{"filter_conditions":{"$where":"1"}}"#.to_owned(),
            4,
            "unknown operator",
        ),
    ];
    for (path, body, code, what) in cases {
        assert_error(raw_request(&env, post(path, &body).as_bytes()), code, what);
    }
    // Huge but valid numbers are clamped, not overflowed.
    let (status, body) = env.call(
        "POST",
        "/channels",
        Auth::Server,
        Some(json!({"limit": u32::MAX, "offset": u32::MAX, "message_limit": u32::MAX})),
    );
    assert_eq!(
        (status, body["channels"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    let (status, _) = env.call(
        "GET",
        &format!(
            "/users?payload={}",
            encode(&json!({"limit": u32::MAX, "offset": u32::MAX}).to_string())
        ),
        Auth::Server,
        None,
    );
    assert_eq!(status, 200);
    // The WebSocket: an invalid json= payload, a replacement character, or none at all.
    for params in [
        vec![("json", "{not json".to_owned())],
        vec![("json", "\u{FFFD}".to_owned())],
        vec![],
    ] {
        let mut ws = env.open_ws(&params, true);
        let frame = ws.next_json(WITHIN);
        assert_eq!(frame["type"], "connection.error", "{frame}");
        assert_eq!(frame["error"]["code"], 4, "{frame}");
        assert_eq!(ws.read_until_closed(), Some(1000));
    }
    // After all that the server still serves.
    let (_ws, first) = env.connect("alice");
    assert_eq!(first["me"]["id"], "alice");
}
