//! Usage counting, kick, freeze, shutdown and restart.

use std::time::Duration;

use serde_json::json;
use stream_chat_server::{Server, Usage};

use crate::support::*;

#[test]
fn usage_counts_users_guests_and_connections() {
    let env = Env::start();
    let (_a1, _) = env.connect("alice");
    let (_a2, _) = env.connect("alice");
    let (_, guest) = env.call(
        "POST",
        "/guest",
        Auth::Anonymous,
        Some(json!({"user": {"id": "g1"}})),
    );
    let (_g, _) = env.connect_with(&[
        (
            "json",
            json!({"user_id": "g1", "user_details": {"id": "g1"}}).to_string(),
        ),
        (
            "authorization",
            guest["access_token"].as_str().unwrap().to_owned(),
        ),
    ]);
    let (anon, _) = env.connect_anonymous();
    assert_eq!(
        env.server.usage(),
        Usage {
            monthly_active_users: 2,
            concurrent_connections: 4
        }
    );
    let (status, body) = env.call("GET", "/emulator/usage", Auth::Server, None);
    assert_eq!(status, 200);
    assert_eq!(
        (
            body["monthly_active_users"].as_u64(),
            body["concurrent_connections"].as_u64()
        ),
        (Some(2), Some(4))
    );
    assert!(body["duration"].is_string());
    let (status, body) = env.call("GET", "/emulator/usage", Auth::User("alice"), None);
    assert_eq!((status, body["code"].as_i64()), (403, Some(17)));

    anon.close();
    env.wait_for("the anonymous socket to be gone", |c| {
        c.usage.concurrent_connections == 3
    });
    assert_eq!(env.server.usage().monthly_active_users, 2);
}

#[test]
fn kick_closes_the_users_sockets_with_1012() {
    let env = Env::start();
    let (mut alice, _) = env.connect("alice");
    let (mut bob, _) = env.connect("bob");
    assert_eq!(env.server.kick_connections("alice"), 1);
    assert_eq!(u16::from(alice.expect_close().code), 1012);
    bob.send_text("[]");
    assert_eq!(
        bob.next_json(WITHIN)["type"],
        "health.check",
        "other users are untouched"
    );
    assert_eq!(env.server.kick_connections("nobody"), 0);
}

#[test]
fn freeze_stops_every_frame_until_thawed() {
    let env = Env::with(Server::builder().health_check_interval(Duration::from_millis(100)));
    let (mut alice, first) = env.connect("alice");
    env.watch(
        Auth::User("alice"),
        "livestream:f",
        first["connection_id"].as_str().unwrap(),
    );
    alice.next_event("health.check");
    assert_eq!(env.server.freeze_connections("alice", true), 1);
    // Whatever was already queued may still arrive; after that, silence.
    while alice.next(Duration::from_millis(150)).is_some() {}
    alice.send_text("[]");
    env.send(Auth::Server, "livestream:f", "x");
    env.call(
        "POST",
        "/channels/livestream/f/message",
        Auth::Server,
        Some(json!({"message": {"text": "while frozen", "user_id": "bob"}})),
    );
    assert!(
        alice.next(Duration::from_millis(500)).is_none(),
        "a frozen socket receives nothing"
    );
    env.server.freeze_connections("alice", false);
    assert_eq!(
        alice.next_json(WITHIN)["type"],
        "health.check",
        "frames flow again after thawing"
    );
}

#[test]
fn a_freeze_is_in_force_when_it_returns() {
    let env = Env::start();
    let (mut alice, first) = env.connect("alice");
    let conn = first["connection_id"].as_str().unwrap();
    let (status, body) = env.watch(Auth::User("alice"), "livestream:race", conn);
    assert_eq!(status, 200, "{body}");
    let post = |text: &str| {
        let (status, body) = env.call(
            "POST",
            "/channels/livestream/race/message",
            Auth::Server,
            Some(json!({"message": {"text": text, "user_id": "bob"}})),
        );
        assert_eq!(status, 200, "{body}");
    };
    // The race is timing-dependent: repeat it so a regression shows up.
    for round in 0..50 {
        assert_eq!(env.server.freeze_connections("alice", true), 1);
        // Right after the call: a client frame and an event, neither of which may be answered
        // or delivered while frozen.
        alice.send_text("[]");
        post(&format!("frozen {round}"));
        if let Some(frame) = alice.try_next() {
            panic!("round {round}: {frame:?} was written after freeze_connections returned");
        }
        env.server.freeze_connections("alice", false);
        let marker = format!("after {round}");
        post(&marker);
        // After thawing: the marker and the answer to the ping read after the thaw, nothing else.
        let mut frames = frames_until_marker(&mut alice, &marker);
        if !frames.iter().any(|f| f["type"] == "health.check") {
            frames.push(alice.next_json(WITHIN));
        }
        let kinds: Vec<&str> = frames.iter().map(|f| f["type"].as_str().unwrap()).collect();
        let mut sorted = kinds.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            ["health.check", "message.new"],
            "round {round}: {frames:?}"
        );
    }
}

#[test]
fn refused_users_get_a_retryable_503_without_an_upgrade() {
    let env = Env::start();
    let (mut open, _) = env.connect("alice");
    env.server.refuse_connections("alice", true);
    let (status, body) = env.connect_refused(&env.user_params("alice"));
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], -1, "{body}");
    assert_eq!(body["StatusCode"], 503, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("'alice'"),
        "{body}"
    );
    assert_eq!(env.server.refused_connections("alice"), 1);
    // Sockets already open stay open; other users connect.
    open.send_text("[]");
    assert_eq!(open.next_json(WITHIN)["type"], "health.check");
    let (_bob, first) = env.connect("bob");
    assert_eq!(first["me"]["id"], "bob");
    assert_eq!(env.server.usage().concurrent_connections, 2);
    // A bad token is still an auth error, reported in-band.
    let (mut ws, first) = env.connect_with(&[
        (
            "json",
            json!({"user_id": "alice", "user_details": {"id": "alice"}}).to_string(),
        ),
        (
            "authorization",
            stream_chat_protocol::jwt::user_token(b"wrong secret", "alice", None),
        ),
    ]);
    assert_eq!(first["error"]["code"], 43, "{first}");
    assert_eq!(ws.read_until_closed(), Some(1000));
    // Anonymous connections are refused as "!anon".
    env.server.refuse_connections("!anon", true);
    let (status, _) = env.connect_refused(&[
        (
            "json",
            json!({"user_id": "x", "user_details": {"id": "x"}}).to_string(),
        ),
        ("stream-auth-type", "anonymous".into()),
    ]);
    assert_eq!(status, 503);
    // Accepted again once the refusal is lifted.
    env.server.refuse_connections("alice", false);
    let (_again, first) = env.connect("alice");
    assert_eq!(first["me"]["id"], "alice");
    assert_eq!(env.server.refused_connections("alice"), 1);
}

#[test]
fn shutdown_closes_sockets_and_the_port_can_be_reused() {
    let env = Env::start();
    let addr = env.server.addr();
    let (mut ws, _) = env.connect("alice");
    env.server.shutdown();
    assert_eq!(ws.read_until_closed(), Some(1001));
    env.server.shutdown(); // idempotent
    let again = Env::with(Server::builder().addr(addr));
    assert_eq!(again.server.addr(), addr);
    let (_ws, first) = again.connect("alice");
    assert_eq!(first["me"]["id"], "alice");
    drop(again);
    std::net::TcpListener::bind(addr).expect("port is free after drop");
}

#[test]
fn the_handle_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<stream_chat_server::ServerHandle>();
    let env = Env::start();
    let server = &env.server;
    std::thread::scope(|s| {
        s.spawn(|| assert_eq!(server.kick_connections("nobody"), 0));
        s.spawn(|| assert_eq!(server.usage(), Usage::default()));
    });
}

#[test]
fn wait_for_wakes_when_a_counter_changes_and_times_out_with_the_last_seen() {
    let env = Env::start();
    env.server.refuse_connections("alice", true);
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            env.server.wait_for(WITHIN, |c| {
                c.usage.concurrent_connections == 1 && c.refused_connections("alice") == 1
            })
        });
        let (status, _) = env.connect_refused(&env.user_params("alice"));
        assert_eq!(status, 503);
        let (bob, _) = env.connect("bob");
        let seen = waiter.join().unwrap().expect("woken by the changes");
        assert_eq!(seen.usage.concurrent_connections, 1);
        assert_eq!(seen.connections_of("bob"), 1);
        assert_eq!(seen.refused_connections("alice"), 1);
        bob.close();
    });
    let gone = env.wait_for("bob's socket to be gone", |c| c.connections_of("bob") == 0);
    assert_eq!(gone.usage.monthly_active_users, 1);
    let last = env
        .server
        .wait_for(Duration::from_millis(50), |c| {
            c.slow_consumer_disconnects > 0
        })
        .expect_err("nothing was slow");
    assert_eq!(last.usage.concurrent_connections, 0);
}
