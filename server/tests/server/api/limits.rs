//! Issue 15, the server's side: user ids in tokens, custom-data sizes, rate limits, HTTP
//! timeouts, the connection cap and the 1013 close frame of a stalled reader.

use serde_json::{Value, json};

use crate::support::*;

/// User ids `POST /users` refuses: 10,000 bytes, spaces, `*`, a control character.
fn bad_user_ids() -> Vec<String> {
    vec![
        "a".repeat(10_000),
        "two words".into(),
        "star*".into(),
        "tab\tbed".into(),
    ]
}

#[test]
fn a_token_whose_user_id_post_users_refuses_is_refused_on_rest_and_websocket() {
    let env = Env::start();
    for id in bad_user_ids() {
        // The same id through POST /users: code 4.
        let (status, body) = env.call(
            "POST",
            "/users",
            Auth::Server,
            Some(json!({"users": {id.clone(): {"id": id.clone()}}})),
        );
        assert_eq!((status, body["code"].as_i64()), (400, Some(4)), "{body}");
        // A token signed for it, on REST: the same code, nothing created.
        let token = env.token(&id);
        let (status, body) = env.call("POST", "/channels", Auth::Token(&token), None);
        assert_eq!((status, body["code"].as_i64()), (400, Some(4)), "{body}");
        assert!(body["message"].as_str().unwrap().contains("user id"), "{body}");
        assert!(body["message"].as_str().unwrap().len() < 1000, "the id is not echoed");
        // Over WebSocket: a connection.error with code 4, no user created.
        let params = vec![
            (
                "json",
                json!({"user_id": id, "user_details": {"id": id}}).to_string(),
            ),
            ("authorization", token),
            ("stream-auth-type", "jwt".into()),
        ];
        let (mut ws, first) = env.connect_with(&params);
        assert_eq!(first["type"], "connection.error", "{first}");
        assert_eq!(first["error"]["code"], 4, "{first}");
        assert_eq!(ws.read_until_closed(), Some(1000));
    }
    let (status, body) = env.call(
        "GET",
        &format!(
            "/users?payload={}",
            encode(&json!({"filter_conditions": {}}).to_string())
        ),
        Auth::Server,
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["users"], Value::Array(vec![]), "no user was created");
}
