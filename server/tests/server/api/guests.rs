//! Guest users: `POST /guest` without a token, multi-tenant refusal.

use base64::Engine;
use serde_json::{Value, json};
use stream_chat_server::Server;

use crate::support::*;

#[test]
fn guest_flow() {
    let env = Env::start();
    let (status, res) = env.call(
        "POST",
        "/guest",
        Auth::Anonymous,
        Some(json!({"user": {"id": "u>>>", "name": "Visitor", "role": "admin"}})),
    );
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["user"]["id"], "u>>>");
    assert_eq!(res["user"]["role"], "guest");
    assert_eq!(res["user"]["name"], "Visitor");
    assert!(res["duration"].is_string());
    let token = res["access_token"].as_str().unwrap();
    // The JS client decodes the payload with the standard alphabet.
    let payload = token.split('.').nth(1).unwrap();
    assert!(!payload.contains(['-', '_']), "{payload}");
    let padded = format!("{payload}{}", "=".repeat((4 - payload.len() % 4) % 4));
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(padded)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["user_id"], "u>>>");

    // Connect as the JS client does after /guest: the returned user comes back as user_details.
    let (_ws, first) = env.connect_with(&[
        ("json", json!({"user_id": "u>>>", "user_details": {"id": "u>>>", "name": "Visitor", "role": "guest"}}).to_string()),
        ("authorization", token.to_owned()),
        ("stream-auth-type", "jwt".into()),
    ]);
    assert_eq!(first["me"]["role"], "guest");
    assert_eq!(
        env.server.usage().monthly_active_users,
        1,
        "guests count towards MAU"
    );

    // A guest cannot take over a regular user's id.
    env.upsert(&["regular"]);
    let (status, res) = env.call(
        "POST",
        "/guest",
        Auth::Anonymous,
        Some(json!({"user": {"id": "regular"}})),
    );
    assert_eq!((status, res["code"].as_i64()), (400, Some(4)));
}

#[test]
fn guests_are_refused_under_multi_tenancy() {
    let env = Env::with(Server::builder().multi_tenant(true));
    let (status, res) = env.call(
        "POST",
        "/guest",
        Auth::Anonymous,
        Some(json!({"user": {"id": "visitor"}})),
    );
    assert_eq!(status, 403, "{res}");
    assert_eq!(res["code"], 17);
    assert_eq!(res["StatusCode"], 403);
    assert!(
        res["message"]
            .as_str()
            .unwrap()
            .starts_with("CreateGuest failed with error: ")
    );
    assert!(res["message"].as_str().unwrap().contains("multi-tenancy"));
    // Regular users still work.
    let (_ws, first) = env.connect("alice");
    assert_eq!(first["me"]["id"], "alice");
}
