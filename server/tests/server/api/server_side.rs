//! Server-side administration: token revocation on REST and WebSocket, deactivation,
//! reactivation, deletion (one user, or a batch through a task), and user tokens refused.

use serde_json::{Value, json};
use stream_chat_protocol::{codes, time};

use crate::support::{Auth, Env, now, signed};

/// A token for `user_id` issued `ago` seconds ago.
fn issued(env: &Env, user_id: &str, ago: i64) -> String {
    signed(env, json!({"user_id": user_id, "iat": now() - ago}))
}

fn revoke(env: &Env, auth: Auth, user_id: &str, before: Value) -> (u16, Value) {
    env.call(
        "PATCH",
        "/users",
        auth,
        Some(json!({"users": [{"id": user_id, "set": {"revoke_tokens_issued_before": before}}]})),
    )
}

fn connect_with_token(env: &Env, user_id: &str, token: String) -> Value {
    let mut params = env.user_params(user_id);
    params[1].1 = token;
    env.connect_with(&params).1
}

#[test]
fn revoked_tokens_are_refused_with_code_40_on_rest_and_websocket() {
    let env = Env::start();
    env.upsert(&["alice"]);
    env.create_channel("messaging:rv", "alice", &["alice"]);
    let old = issued(&env, "alice", 60);
    let (status, _) = env.query_channel(Auth::Token(&old), "messaging:rv", None);
    assert_eq!(status, 200);
    // Only a server token may revoke.
    let at = time::format_rfc3339(time::now_nanos());
    let (status, err) = revoke(&env, Auth::User("alice"), "alice", json!(at));
    assert_eq!((status, err["code"].as_i64()), (403, Some(17)), "{err}");
    let (status, body) = revoke(&env, Auth::Server, "alice", json!(at));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["users"]["alice"]["revoke_tokens_issued_before"],
        json!(at)
    );
    let (status, err) = env.query_channel(Auth::Token(&old), "messaging:rv", None);
    assert_eq!((status, err["code"].as_i64()), (401, Some(40)), "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("revoked"),
        "{err}"
    );
    let frame = connect_with_token(&env, "alice", old.clone());
    assert_eq!(frame["type"], "connection.error", "{frame}");
    assert_eq!(frame["error"]["code"], codes::TOKEN_EXPIRED);
    // A token without iat counts as issued long ago; a fresh one works on both.
    let (status, _) = env.query_channel(Auth::User("alice"), "messaging:rv", None);
    assert_eq!(status, 401);
    let fresh = issued(&env, "alice", 0);
    assert_eq!(
        env.query_channel(Auth::Token(&fresh), "messaging:rv", None)
            .0,
        200
    );
    assert_eq!(
        connect_with_token(&env, "alice", fresh)["type"],
        "health.check"
    );
    // An upsert keeps the revocation; null lifts it.
    env.upsert(&["alice"]);
    assert_eq!(
        env.query_channel(Auth::Token(&old), "messaging:rv", None).0,
        401
    );
    let (status, _) = revoke(&env, Auth::Server, "alice", Value::Null);
    assert_eq!(status, 200);
    assert_eq!(
        env.query_channel(Auth::Token(&old), "messaging:rv", None).0,
        200
    );
    let (status, err) = revoke(&env, Auth::Server, "alice", json!("yesterday"));
    assert_eq!((status, err["code"].as_i64()), (400, Some(4)), "{err}");
    let (status, err) = revoke(&env, Auth::Server, "nobody", json!(at));
    assert_eq!(status, 404, "{err}");
}

#[test]
fn deactivated_users_cannot_call_or_connect_until_reactivated() {
    let env = Env::start();
    env.upsert(&["alice", "bob"]);
    env.create_channel("messaging:da", "alice", &["alice", "bob"]);
    let (mut ws, _) = env.connect("bob");
    let (status, err) = env.call("POST", "/users/bob/deactivate", Auth::User("alice"), None);
    assert_eq!((status, err["code"].as_i64()), (403, Some(17)), "{err}");
    let (status, body) = env.call(
        "POST",
        "/users/bob/deactivate",
        Auth::Server,
        Some(json!({"created_by_id": "alice"})),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body["user"]["deactivated_at"].is_string(), "{body}");
    assert_eq!(
        ws.read_until_closed(),
        Some(stream_chat_server::KICK_CLOSE_CODE)
    );
    let (status, err) = env.send(Auth::User("bob"), "messaging:da", "hi");
    assert_eq!((status, err["code"].as_i64()), (403, Some(17)), "{err}");
    let (_, frame) = env.connect("bob");
    assert_eq!(frame["type"], "connection.error");
    let (status, err) = env.call("POST", "/users/alice/reactivate", Auth::Server, None);
    assert_eq!(
        (status, err["code"].as_i64()),
        (400, Some(4)),
        "alice is active: {err}"
    );
    let (status, body) = env.call(
        "POST",
        "/users/bob/reactivate",
        Auth::Server,
        Some(json!({"name": "Bob again"})),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body["user"].get("deactivated_at").is_none(), "{body}");
    assert_eq!(body["user"]["name"], "Bob again");
    assert_eq!(env.send(Auth::User("bob"), "messaging:da", "back").0, 200);
    assert_eq!(
        env.call("POST", "/users/nobody/deactivate", Auth::Server, None)
            .0,
        404
    );
}

#[test]
fn users_are_deleted_one_by_one_or_in_a_task() {
    let env = Env::start();
    env.upsert(&["a", "b", "c", "d"]);
    let (status, err) = env.call("DELETE", "/users/a", Auth::User("a"), None);
    assert_eq!((status, err["code"].as_i64()), (403, Some(17)), "{err}");
    let (status, body) = env.call("DELETE", "/users/a", Auth::Server, None);
    assert_eq!(status, 200, "{body}");
    assert!(body["user"]["deleted_at"].is_string());
    let (status, err) = env.call(
        "POST",
        "/users/delete",
        Auth::Server,
        Some(json!({"user_ids": ["b", "nobody"], "user": "hard"})),
    );
    assert_eq!(status, 404, "every id is checked first: {err}");
    let (status, body) = env.call(
        "POST",
        "/users/delete",
        Auth::Server,
        Some(json!({"user_ids": ["b", "c"], "user": "hard"})),
    );
    assert_eq!(status, 200, "{body}");
    let task = body["task_id"].as_str().unwrap();
    let (status, err) = env.call("GET", &format!("/tasks/{task}"), Auth::User("d"), None);
    assert_eq!(status, 403, "{err}");
    let (status, task) = env.call("GET", &format!("/tasks/{task}"), Auth::Server, None);
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["status"], "completed");
    assert_eq!(task["result"]["deleted_user_ids"], json!(["b", "c"]));
    let payload = crate::support::encode(r#"{"filter_conditions":{}}"#);
    let (_, users) = env.call(
        "GET",
        &format!("/users?payload={payload}"),
        Auth::Server,
        None,
    );
    let ids: Vec<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["a", "d"],
        "hard-deleted users are gone, soft-deleted kept"
    );
    let (status, err) = env.send(Auth::User("a"), "messaging:x", "hi");
    assert_eq!(status, 403, "a deleted user is refused: {err}");
    let (status, _) = env.call(
        "POST",
        "/users/delete",
        Auth::Server,
        Some(json!({"user_ids": ["d"], "user": "sideways"})),
    );
    assert_eq!(status, 400);
    let (_, usage) = env.call("GET", "/emulator/usage", Auth::Server, None);
    assert_eq!(usage["webhook_overflows"], 0);
}
