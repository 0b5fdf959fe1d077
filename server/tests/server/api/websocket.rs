//! The WebSocket endpoint: connected event, payload variants, keep-alive, anonymous `me`.

use std::time::Duration;

use serde_json::{Value, json};
use stream_chat_server::Server;
use tungstenite::Message;

use crate::support::*;

#[test]
fn first_frame_is_a_health_check_with_a_full_me() {
    let env = Env::start();
    let token = env.token("alice");
    let (_ws, first) = env.connect_with(&[
        (
            "json",
            json!({"user_id": "alice", "user_details": {"id": "alice", "name": "Alice", "tier": 3}, "client_request_id": "r1"})
                .to_string(),
        ),
        ("authorization", token),
        ("stream-auth-type", "jwt".into()),
        ("X-Stream-Client", "stream-chat-js-v9.53.0-node|client_bundle=node-cjs".into()),
    ]);
    assert_eq!(first["type"], "health.check");
    assert_eq!(first["cid"], "*");
    assert!(
        first["connection_id"]
            .as_str()
            .is_some_and(|c| !c.is_empty())
    );
    assert!(first["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(first.get("error").is_none());
    let me = &first["me"];
    assert_eq!(me["id"], "alice");
    assert_eq!(me["role"], "user");
    assert_eq!(me["name"], "Alice");
    assert_eq!(me["tier"], 3);
    assert_eq!(me["online"], true);
    for key in ["devices", "mutes", "channel_mutes"] {
        assert_eq!(me[key], json!([]), "{key}");
    }
    for key in ["unread_count", "total_unread_count", "unread_channels"] {
        assert_eq!(me[key], 0, "{key}");
    }
    // The user was upserted from user_details.
    let (_, users) = env.call("GET", "/users", Auth::Server, None);
    assert_eq!(users["users"][0]["name"], "Alice");
}

#[test]
fn every_sdk_payload_variant_is_accepted() {
    let env = Env::start();
    let token = env.token("bob");
    // Android/Dart/Go style: server_determines_connection_id, X-Stream-Client and the token inside json.
    let (_ws, first) = env.connect_with(&[
        (
            "json",
            json!({"user_id": "bob", "user_details": {"id": "bob"}, "server_determines_connection_id": true,
                   "X-Stream-Client": "stream-chat-android-6.8.0", "user_token": token,
                   "device": {"id": "d1", "push_provider": "firebase"}})
            .to_string(),
        ),
        ("stream-auth-type", "jwt".into()),
    ]);
    assert_eq!(first["me"]["id"], "bob");
    // Reduced user_details, no stream-auth-type (defaults to jwt).
    let (_ws2, first) = env.connect_with(&[
        ("json", json!({"user_details": {"id": "bob"}}).to_string()),
        ("authorization", env.token("bob")),
    ]);
    assert_eq!(first["me"]["id"], "bob");
}

#[test]
fn user_details_cannot_raise_the_role() {
    let env = Env::start();
    let (_ws, first) = env.connect_with(&[
        (
            "json",
            json!({"user_id": "eve", "user_details": {"id": "eve", "role": "admin"}}).to_string(),
        ),
        ("authorization", env.token("eve")),
    ]);
    assert_eq!(first["me"]["role"], "user");
}

#[test]
fn anonymous_me_is_exactly_the_documented_one() {
    let env = Env::start();
    let (_ws, first) = env.connect_anonymous();
    let mut me = first["me"].clone();
    let last_active = me.as_object_mut().unwrap().remove("last_active").unwrap();
    assert!(last_active.as_str().unwrap().ends_with('Z'));
    let seed = json!({
        "id": "!anon", "role": "anonymous", "roles": [],
        "created_at": "0001-01-01T00:00:00Z", "updated_at": "0001-01-01T00:00:00Z",
        "banned": false, "online": true, "invisible": false,
        "devices": [], "mutes": [], "channel_mutes": [],
        "unread_count": 0, "total_unread_count": 0, "unread_channels": 0, "language": ""
    });
    assert_eq!(me, seed);
    // Never stored as a user.
    let (_, users) = env.call("GET", "/users", Auth::Server, None);
    assert_eq!(users["users"], json!([]));
}

fn assert_plain_health_check(frame: &Value, connection_id: &Value) {
    assert_eq!(frame["type"], "health.check", "{frame}");
    assert_eq!(&frame["connection_id"], connection_id);
    assert_eq!(frame["cid"], "*");
    assert!(
        frame.get("me").is_none(),
        "later health checks carry no me: {frame}"
    );
}

#[test]
fn client_health_checks_and_garbage_get_a_health_check_back() {
    let env = Env::start();
    let (mut ws, first) = env.connect("alice");
    let id = first["connection_id"].clone();
    ws.send_text(r#"[{"type":"health.check","client_id":"alice--1"}]"#);
    assert_plain_health_check(&ws.next_json(WITHIN), &id);
    ws.send_text(r#"{"type":"health.check","client_id":"alice--1"}"#);
    assert_plain_health_check(&ws.next_json(WITHIN), &id);
    ws.send_text("}}} not json at all");
    assert_plain_health_check(&ws.next_json(WITHIN), &id);
    ws.send(Message::binary(b"ping".to_vec()));
    assert_plain_health_check(&ws.next_json(WITHIN), &id);
    // Android re-sends its connected event (with `me`) as the ping.
    ws.send_text(&first.to_string());
    assert_plain_health_check(&ws.next_json(WITHIN), &id);
    ws.send(Message::Ping(b"p".to_vec().into()));
    match ws.next(WITHIN) {
        Some(Message::Pong(p)) => assert_eq!(&p[..], b"p"),
        other => panic!("expected a pong, got {other:?}"),
    }
}

#[test]
fn unsolicited_health_checks_follow_the_interval() {
    let env = Env::with(Server::builder().health_check_interval(Duration::from_millis(200)));
    let (mut ws, first) = env.connect("alice");
    for _ in 0..2 {
        assert_plain_health_check(&ws.next_json(WITHIN), &first["connection_id"]);
    }
    // The default interval is 30 s: nothing arrives unprompted right after connecting.
    let quiet = Env::start();
    let (mut ws, _) = quiet.connect("alice");
    assert!(ws.next(Duration::from_millis(300)).is_none());
}

#[test]
fn oversized_frames_close_the_socket_instead_of_hanging() {
    let env = Env::start();
    let (mut ws, _) = env.connect("alice");
    ws.try_send_text(&"x".repeat(2 * 1024 * 1024));
    assert_eq!(ws.read_until_closed(), Some(1009));
    // The server is still fine.
    let (_ws, first) = env.connect("bob");
    assert_eq!(first["me"]["id"], "bob");
}
