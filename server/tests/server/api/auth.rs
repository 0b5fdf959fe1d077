//! Authentication over REST and WebSocket: api_key, token errors, dev tokens.

use serde_json::{Value, json};
use stream_chat_protocol::jwt;
use stream_chat_server::Server;

use crate::support::*;

/// (token, expected code) for every token failure.
fn bad_tokens(env: &Env, user: &str) -> Vec<(String, i64)> {
    let t = now();
    let mut tampered = env.token(user);
    tampered.pop();
    tampered.push(if env.token(user).ends_with('A') {
        'B'
    } else {
        'A'
    });
    vec![
        (signed(env, json!({"user_id": user, "exp": t - 3600})), 40),
        (signed(env, json!({"user_id": user, "nbf": t + 3600})), 41),
        (signed(env, json!({"user_id": user, "iat": t + 3600})), 42),
        (jwt::user_token(b"not-the-secret", user, None), 43),
        (tampered, 43),
        ("not-a-jwt".to_owned(), 5),
        (
            format!(
                "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
                env.token(user).split('.').nth(1).unwrap()
            ),
            5,
        ),
    ]
}

#[test]
fn rest_api_key_is_checked_on_every_request() {
    let env = Env::start();
    let url = format!("{}/channels", env.server.base_url());
    let (status, body) = env.call_url("POST", &url, Auth::Server, None);
    assert_eq!((status, body["code"].as_i64()), (401, Some(2)), "{body}");
    let (status, body) = env.call_url("POST", &format!("{url}?api_key=wrong"), Auth::Server, None);
    assert_eq!((status, body["code"].as_i64()), (401, Some(2)), "{body}");
    assert_eq!(body["StatusCode"], 401);
    assert_eq!(body["details"], json!([]));
    let (status, _) = env.call("POST", "/channels", Auth::Server, None);
    assert_eq!(status, 200);
}

#[test]
fn rest_token_errors_map_to_stream_codes() {
    let env = Env::start();
    for (token, code) in bad_tokens(&env, "alice") {
        let (status, body) = env.call("POST", "/channels", Auth::Token(&token), None);
        assert_eq!(status, 401, "{token}: {body}");
        assert_eq!(body["code"], code, "{token}: {body}");
        assert_eq!(body["StatusCode"], 401);
        let message = body["message"].as_str().unwrap();
        assert!(
            message.starts_with("QueryChannels failed with error: \"JWTAuth error: "),
            "{message}"
        );
    }
    let (status, body) = env.call("POST", "/channels", Auth::Token(""), None);
    assert_eq!((status, body["code"].as_i64()), (401, Some(5)), "{body}");
}

#[test]
fn expired_token_message_is_streams() {
    let env = Env::start();
    let token = signed(&env, json!({"user_id": "alice", "exp": now() - 60}));
    let (_, body) = env.call("POST", "/channels", Auth::Token(&token), None);
    assert_eq!(
        body["message"],
        "QueryChannels failed with error: \"JWTAuth error: token is expired (exp)\""
    );
}

#[test]
fn a_user_token_acts_only_as_its_user() {
    let env = Env::start();
    let (status, body) = env.call(
        "POST",
        "/channels?user_id=mallory",
        Auth::User("alice"),
        None,
    );
    assert_eq!((status, body["code"].as_i64()), (401, Some(5)), "{body}");
    let (status, _) = env.call("POST", "/channels?user_id=alice", Auth::User("alice"), None);
    assert_eq!(status, 200);
}

#[test]
fn dev_tokens_need_disable_auth_checks() {
    let env = Env::start();
    let dev = jwt::dev_token("alice");
    let (status, body) = env.call("POST", "/channels", Auth::Token(&dev), None);
    assert_eq!((status, body["code"].as_i64()), (401, Some(43)), "{body}");

    let open = Env::with(Server::builder().disable_auth_checks(true));
    let (status, body) = open.call("POST", "/channels", Auth::Token(&dev), None);
    assert_eq!(status, 200, "{body}");
    let (_, first) = open.connect_with(&[
        (
            "json",
            json!({"user_id": "alice", "user_details": {"id": "alice"}}).to_string(),
        ),
        ("authorization", dev),
        ("stream-auth-type", "jwt".into()),
    ]);
    assert_eq!(first["me"]["id"], "alice");
}

/// Expects a `connection.error` frame with `code`, then a close with 1000.
fn assert_ws_refused(ws: &mut Ws, first: &Value, code: i64) {
    assert_eq!(first["type"], "connection.error", "{first}");
    assert_eq!(first["connection_id"], "");
    assert_eq!(first["error"]["code"], code, "{first}");
    assert!(first["error"]["StatusCode"].as_u64().unwrap() >= 400);
    assert_eq!(first["error"]["details"], json!([]));
    assert!(first["created_at"].is_string());
    assert_eq!(u16::from(ws.expect_close().code), 1000);
}

#[test]
fn websocket_token_errors_send_an_error_frame_then_close_1000() {
    let env = Env::start();
    for (token, code) in bad_tokens(&env, "alice") {
        let (mut ws, first) = env.connect_with(&[
            (
                "json",
                json!({"user_id": "alice", "user_details": {"id": "alice"}}).to_string(),
            ),
            ("authorization", token.clone()),
            ("stream-auth-type", "jwt".into()),
        ]);
        assert_ws_refused(&mut ws, &first, code);
        assert_eq!(first["error"]["StatusCode"], 401, "{token}");
        if code == 43 {
            assert_eq!(
                first["error"]["message"],
                "JWTAuth error: signature is not valid"
            );
        }
    }
    assert_eq!(
        env.server.usage().monthly_active_users,
        0,
        "refused connections are not counted"
    );
}

#[test]
fn websocket_input_errors() {
    let env = Env::start();
    let token = env.token("alice");
    // Unknown api_key.
    let mut ws = env.open_ws(
        &[
            (
                "json",
                json!({"user_id": "alice", "user_details": {"id": "alice"}}).to_string(),
            ),
            ("authorization", token.clone()),
            ("api_key", "wrong".into()),
        ],
        false,
    );
    let first = ws.next_json(WITHIN);
    assert_ws_refused(&mut ws, &first, 2);
    // Missing user_details.
    let (mut ws, first) = env.connect_with(&[
        ("json", json!({"user_id": "alice"}).to_string()),
        ("authorization", token.clone()),
    ]);
    assert_ws_refused(&mut ws, &first, 4);
    assert_eq!(
        first["error"]["message"],
        "user_details is a required field"
    );
    // Garbage json parameter.
    let (mut ws, first) = env.connect_with(&[
        ("json", "{not json".into()),
        ("authorization", token.clone()),
    ]);
    assert_ws_refused(&mut ws, &first, 4);
    // Token for someone else.
    let (mut ws, first) = env.connect_with(&[
        (
            "json",
            json!({"user_id": "mallory", "user_details": {"id": "mallory"}}).to_string(),
        ),
        ("authorization", token),
    ]);
    assert_ws_refused(&mut ws, &first, 5);
    // Server tokens cannot connect.
    let (mut ws, first) = env.connect_with(&[
        (
            "json",
            json!({"user_id": "alice", "user_details": {"id": "alice"}}).to_string(),
        ),
        ("authorization", env.server.server_token()),
    ]);
    assert_ws_refused(&mut ws, &first, 5);
}
