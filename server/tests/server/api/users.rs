//! User endpoints: GET returns an array, POST and PATCH an id-keyed map.

use serde_json::json;

use crate::support::*;

#[test]
fn upsert_query_and_partial_update() {
    let env = Env::start();
    let (status, res) = env.call(
        "POST",
        "/users",
        Auth::Server,
        Some(json!({"users": {"ann": {"id": "ann", "name": "Ann", "color": "red"}, "ben": {"id": "ben", "role": "admin"}}})),
    );
    assert_eq!(status, 200, "{res}");
    assert!(res["users"].is_object());
    assert_eq!(res["users"]["ann"]["color"], "red");
    assert_eq!(res["users"]["ann"]["role"], "user");
    assert_eq!(res["users"]["ben"]["role"], "admin");
    assert!(res["users"]["ann"]["created_at"].is_string());

    let payload = encode(
        &json!({"filter_conditions": {"id": {"$in": ["ann", "nobody"]}}, "presence": false})
            .to_string(),
    );
    let (status, res) = env.call(
        "GET",
        &format!("/users?payload={payload}"),
        Auth::User("ann"),
        None,
    );
    assert_eq!(status, 200, "{res}");
    assert!(res["users"].is_array());
    assert_eq!(res["users"].as_array().unwrap().len(), 1);
    assert_eq!(res["users"][0]["name"], "Ann");

    let (status, res) = env.call(
        "PATCH",
        "/users",
        Auth::Server,
        Some(json!({"users": [{"id": "ann", "set": {"city": "Oslo", "name": "Annie"}, "unset": ["color"]}]})),
    );
    assert_eq!(status, 200, "{res}");
    let ann = &res["users"]["ann"];
    assert_eq!(
        (ann["city"].as_str(), ann["name"].as_str()),
        (Some("Oslo"), Some("Annie"))
    );
    assert!(ann.get("color").is_none());
    assert_eq!(ann["role"], "user");
}

#[test]
fn users_may_update_only_themselves_and_not_their_role() {
    let env = Env::start();
    env.upsert(&["ann", "ben"]);
    let (status, res) = env.call(
        "POST",
        "/users",
        Auth::User("ann"),
        Some(json!({"users": {"ann": {"id": "ann", "name": "A"}}})),
    );
    assert_eq!(status, 200, "{res}");
    let (status, res) = env.call(
        "POST",
        "/users",
        Auth::User("ann"),
        Some(json!({"users": {"ben": {"id": "ben"}}})),
    );
    assert_eq!((status, res["code"].as_i64()), (403, Some(17)));
    let (status, _) = env.call(
        "POST",
        "/users",
        Auth::User("ann"),
        Some(json!({"users": {"ann": {"id": "ann", "role": "admin"}}})),
    );
    assert_eq!(status, 403);
    let (status, _) = env.call(
        "PATCH",
        "/users",
        Auth::User("ann"),
        Some(json!({"users": [{"id": "ann", "set": {"role": "admin"}}]})),
    );
    assert_eq!(status, 403);
    let (status, _) = env.call("GET", "/users", Auth::Anonymous, None);
    assert_eq!(status, 403);
    let (status, res) = env.call(
        "PATCH",
        "/users",
        Auth::Server,
        Some(json!({"users": [{"id": "ghost", "set": {}}]})),
    );
    assert_eq!((status, res["code"].as_i64()), (400, Some(4)));
}
