//! Push devices: `POST /devices`, `GET /devices`, `DELETE /devices`: who may register, list
//! and remove whose devices, input errors, `me.devices`, the snapshot, and a restart on a
//! data directory.

use serde_json::{Value, json};
use stream_chat_server::Server;

use crate::support::{Auth, Env, TempDir};

fn add(env: &Env, auth: Auth, body: Value) -> (u16, Value) {
    env.call("POST", "/devices", auth, Some(body))
}

/// The ids of `GET /devices` (as `auth`, with `query` appended).
fn ids(env: &Env, auth: Auth, query: &str) -> Vec<String> {
    let (status, body) = env.call("GET", &format!("/devices{query}"), auth, None);
    assert_eq!(status, 200, "{body}");
    body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect()
}

fn ok((status, body): (u16, Value)) -> Value {
    assert_eq!(status, 200, "{body}");
    body
}

#[test]
fn a_user_adds_lists_and_removes_their_devices() {
    let env = Env::start();
    env.upsert(&["alice"]);
    let body = ok(add(
        &env,
        Auth::User("alice"),
        json!({"id": "fcm-1", "push_provider": "firebase"}),
    ));
    assert!(body["duration"].is_string(), "{body}");
    ok(add(
        &env,
        Auth::User("alice"),
        json!({"id": "apn-1", "push_provider": "apn", "push_provider_name": "prod"}),
    ));
    let (status, body) = env.call("GET", "/devices", Auth::User("alice"), None);
    assert_eq!(status, 200, "{body}");
    let devices = body["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2, "{body}");
    assert_eq!(devices[0]["id"], "fcm-1");
    assert_eq!(devices[0]["push_provider"], "firebase");
    assert_eq!(devices[0]["user_id"], "alice");
    assert!(devices[0]["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(devices[1]["push_provider"], "apn");
    assert_eq!(devices[1]["push_provider_name"], "prod");

    // Registering again updates in place (same creation time).
    let created = devices[0]["created_at"].clone();
    ok(add(
        &env,
        Auth::User("alice"),
        json!({"id": "fcm-1", "push_provider": "firebase", "push_provider_name": "beta"}),
    ));
    let (_, body) = env.call("GET", "/devices", Auth::User("alice"), None);
    assert_eq!(body["devices"][0]["push_provider_name"], "beta");
    assert_eq!(body["devices"][0]["created_at"], created);
    assert_eq!(body["devices"].as_array().unwrap().len(), 2);

    // `me.devices` on connect.
    let (_ws, me) = env.connect("alice");
    let me_devices = me["me"]["devices"].as_array().unwrap();
    assert_eq!(me_devices.len(), 2, "{me}");
    assert_eq!(me_devices[1]["id"], "apn-1");

    ok(env.call("DELETE", "/devices?id=fcm-1", Auth::User("alice"), None));
    assert_eq!(ids(&env, Auth::User("alice"), ""), ["apn-1"]);
    let (status, body) = env.call("DELETE", "/devices?id=fcm-1", Auth::User("alice"), None);
    assert_eq!((status, body["code"].clone()), (404, json!(16)), "{body}");
}

#[test]
fn a_user_token_acts_only_for_its_own_user() {
    let env = Env::start();
    env.upsert(&["alice", "bob"]);
    ok(add(
        &env,
        Auth::User("bob"),
        json!({"id": "bob-phone", "push_provider": "huawei", "user_id": "bob"}),
    ));
    let (status, body) = add(
        &env,
        Auth::User("alice"),
        json!({"id": "x", "push_provider": "firebase", "user_id": "bob"}),
    );
    assert_eq!((status, body["code"].clone()), (403, json!(17)), "{body}");
    // A `user_id` parameter other than the token's is refused by authentication.
    let (status, body) = env.call("GET", "/devices?user_id=bob", Auth::User("alice"), None);
    assert_eq!((status, body["code"].clone()), (401, json!(5)), "{body}");
    // Deleting bob's device: refused, by id alone or naming bob.
    let (status, body) = env.call("DELETE", "/devices?id=bob-phone", Auth::User("alice"), None);
    assert_eq!((status, body["code"].clone()), (403, json!(17)), "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("another user"),
        "{body}"
    );
    let (status, _) = env.call(
        "DELETE",
        "/devices?id=bob-phone&user_id=bob",
        Auth::User("alice"),
        None,
    );
    assert_eq!(status, 401);
    assert_eq!(ids(&env, Auth::User("bob"), ""), ["bob-phone"]);
    // Anonymous callers have no devices.
    let (status, _) = env.call("GET", "/devices", Auth::Anonymous, None);
    assert_eq!(status, 403);
}

#[test]
fn a_server_token_manages_any_users_devices() {
    let env = Env::start();
    env.upsert(&["alice", "bob"]);
    ok(add(
        &env,
        Auth::Server,
        json!({"id": "b1", "push_provider": "xiaomi", "user_id": "bob", "push_provider_name": null}),
    ));
    assert_eq!(ids(&env, Auth::Server, "?user_id=bob"), ["b1"]);
    assert_eq!(ids(&env, Auth::User("bob"), ""), ["b1"]);
    // The user must be named and exist.
    let (status, body) = add(
        &env,
        Auth::Server,
        json!({"id": "b2", "push_provider": "apn"}),
    );
    assert_eq!((status, body["code"].clone()), (400, json!(4)), "{body}");
    let (status, body) = add(
        &env,
        Auth::Server,
        json!({"id": "b2", "push_provider": "apn", "user_id": "nobody"}),
    );
    assert_eq!((status, body["code"].clone()), (404, json!(16)), "{body}");
    // A device id belongs to one user: registering it for alice moves it.
    ok(add(
        &env,
        Auth::Server,
        json!({"id": "b1", "push_provider": "xiaomi", "user_id": "alice"}),
    ));
    assert!(ids(&env, Auth::Server, "?user_id=bob").is_empty());
    assert_eq!(ids(&env, Auth::Server, "?user_id=alice"), ["b1"]);
    // Deleting naming the wrong user is not found; naming the owner removes it.
    let (status, _) = env.call("DELETE", "/devices?id=b1&user_id=bob", Auth::Server, None);
    assert_eq!(status, 404);
    ok(env.call("DELETE", "/devices?id=b1&user_id=alice", Auth::Server, None));
    assert!(ids(&env, Auth::Server, "?user_id=alice").is_empty());
}

#[test]
fn a_missing_id_or_a_bad_provider_is_an_input_error() {
    let env = Env::start();
    env.upsert(&["alice"]);
    let cases = [
        (
            json!({"push_provider": "firebase"}),
            "id is a required field",
        ),
        (
            json!({"id": "  ", "push_provider": "firebase"}),
            "id is a required field",
        ),
        (json!({"id": "d"}), "push_provider is a required field"),
        (
            json!({"id": "d", "push_provider": "carrier-pigeon"}),
            "push_provider 'carrier-pigeon' is not one of firebase, apn, huawei, xiaomi",
        ),
        (json!({"id": "d", "push_provider": 7}), ""),
    ];
    for (body, message) in cases {
        let (status, answer) = add(&env, Auth::User("alice"), body.clone());
        assert_eq!(status, 400, "{body} -> {answer}");
        assert_eq!(answer["code"], 4, "{body} -> {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(message),
            "{body} -> {answer}"
        );
    }
    let (status, body) = env.call("DELETE", "/devices", Auth::User("alice"), None);
    assert_eq!((status, body["code"].clone()), (400, json!(4)), "{body}");
    assert!(ids(&env, Auth::User("alice"), "").is_empty());
}

#[test]
fn devices_are_in_the_snapshot_and_go_with_a_reset_or_a_hard_delete() {
    let env = Env::start();
    env.upsert(&["alice", "bob"]);
    for (id, user) in [("a2", "alice"), ("b1", "bob"), ("a1", "alice")] {
        ok(add(
            &env,
            Auth::Server,
            json!({"id": id, "push_provider": "firebase", "user_id": user}),
        ));
    }
    let (status, doc) = env.call("GET", "/emulator/export", Auth::Server, None);
    assert_eq!(status, 200, "{doc}");
    let exported: Vec<&str> = doc["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        exported,
        ["a2", "a1", "b1"],
        "by user, then registration order"
    );

    let target = Env::start();
    ok(target.call("POST", "/emulator/import", Auth::Server, Some(doc.clone())));
    let (_, again) = target.call("GET", "/emulator/export", Auth::Server, None);
    assert_eq!(again, doc);
    assert_eq!(ids(&target, Auth::User("alice"), ""), ["a2", "a1"]);
    // A device of a user not in the document is refused.
    let mut bad = doc.clone();
    bad["devices"][0]["user_id"] = json!("nobody");
    let (status, body) = target.call("POST", "/emulator/import", Auth::Server, Some(bad));
    assert_eq!((status, body["code"].clone()), (400, json!(4)), "{body}");

    ok(env.call("DELETE", "/users/bob?hard_delete=true", Auth::Server, None));
    env.upsert(&["bob"]);
    assert!(ids(&env, Auth::User("bob"), "").is_empty());
    ok(target.call("POST", "/emulator/reset", Auth::Server, None));
    target.upsert(&["alice"]);
    assert!(ids(&target, Auth::User("alice"), "").is_empty());
}

#[test]
fn devices_survive_a_restart_on_a_data_dir() {
    let dir = TempDir::new("devices");
    {
        let env = Env::with(Server::builder().data_dir(&dir.0));
        env.upsert(&["alice"]);
        ok(add(
            &env,
            Auth::User("alice"),
            json!({"id": "kept", "push_provider": "apn", "push_provider_name": "prod"}),
        ));
        ok(add(
            &env,
            Auth::User("alice"),
            json!({"id": "gone", "push_provider": "firebase"}),
        ));
        ok(env.call("DELETE", "/devices?id=gone", Auth::User("alice"), None));
    }
    let env = Env::with(Server::builder().data_dir(&dir.0));
    let (status, body) = env.call("GET", "/devices", Auth::User("alice"), None);
    assert_eq!(status, 200, "{body}");
    let devices = body["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1, "{body}");
    assert_eq!(devices[0]["id"], "kept");
    assert_eq!(devices[0]["push_provider"], "apn");
    assert_eq!(devices[0]["push_provider_name"], "prod");
    assert_eq!(devices[0]["user_id"], "alice");
}
