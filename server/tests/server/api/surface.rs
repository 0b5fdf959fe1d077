//! Helpers of the message-surface tests (reactions, threads, typing, pins, search): a
//! messaging room of alice (owner) and bob (member) watching it, carol a user outside it,
//! a guest, and short ways to call and check.

use serde_json::{Value, json};

use crate::support::*;

pub const ROOM: &str = "messaging:room";

/// `messaging:room` of alice and bob, both watching (their sockets, in that order); carol
/// exists but is no member.
pub fn room(env: &Env) -> (Ws, Ws) {
    env.upsert(&["alice", "bob", "carol"]);
    env.create_channel(ROOM, "alice", &["alice", "bob"]);
    let alice = watcher(env, "alice", ROOM);
    let bob = watcher(env, "bob", ROOM);
    (alice, bob)
}

/// A socket of `user` watching `cid`.
pub fn watcher(env: &Env, user: &str, cid: &str) -> Ws {
    let (ws, first) = env.connect(user);
    let conn = first["connection_id"].as_str().unwrap();
    let (status, body) = env.watch(Auth::User(user), cid, conn);
    assert_eq!(status, 200, "{body}");
    ws
}

/// A guest user `id` (through `POST /guest`); call as them with `Auth::User(id)`.
pub fn guest(env: &Env, id: &str) {
    let (status, body) = env.call(
        "POST",
        "/guest",
        Auth::Anonymous,
        Some(json!({"user": {"id": id}})),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "guest");
}

/// Posts `message` to `cid` and returns the stored message (status 200 asserted).
pub fn post(env: &Env, auth: Auth, cid: &str, message: Value) -> Value {
    let (status, body) = post_raw(env, auth, cid, message);
    assert_eq!(status, 200, "{body}");
    body["message"].clone()
}

pub fn post_raw(env: &Env, auth: Auth, cid: &str, message: Value) -> (u16, Value) {
    let (kind, id) = cid.split_once(':').unwrap();
    env.call(
        "POST",
        &format!("/channels/{kind}/{id}/message"),
        auth,
        Some(json!({ "message": message })),
    )
}

/// Asserts Stream's error shape with `code` and HTTP `status`.
#[track_caller]
pub fn assert_error(res: (u16, Value), status: u16, code: i64) {
    let (got, body) = res;
    assert_eq!((got, body["code"].as_i64()), (status, Some(code)), "{body}");
    assert_eq!(body["StatusCode"], status, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// Asserts status 200 and returns the body.
#[track_caller]
pub fn ok(res: (u16, Value)) -> Value {
    let (status, body) = res;
    assert_eq!(status, 200, "{body}");
    assert!(body["duration"].is_string(), "{body}");
    body
}

/// The ids of a list of objects.
pub fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts the channel envelope of an event about `cid`.
#[track_caller]
pub fn assert_envelope(event: &Value, kind: &str, cid: &str) {
    let (t, id) = cid.split_once(':').unwrap();
    assert_eq!(event["type"], kind, "{event}");
    assert_eq!(event["cid"], cid, "{event}");
    assert_eq!(event["channel_type"], t, "{event}");
    assert_eq!(event["channel_id"], id, "{event}");
    assert!(event["created_at"].is_string(), "{event}");
}
