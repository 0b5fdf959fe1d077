//! Reactions: `POST /messages/{id}/reaction`, `DELETE /messages/{id}/reaction/{type}`,
//! `GET /messages/{id}/reactions`; the message's reaction summary, per-viewer
//! `own_reactions`, and the `reaction.*` events.

use serde_json::{Value, json};

use super::surface::*;
use crate::support::*;

fn react(env: &Env, auth: Auth, id: &str, body: Value) -> (u16, Value) {
    env.call(
        "POST",
        &format!("/messages/{id}/reaction"),
        auth,
        Some(body),
    )
}

fn unreact(env: &Env, auth: Auth, id: &str, kind: &str, user: Option<&str>) -> (u16, Value) {
    let query = user.map(|u| format!("?user_id={u}")).unwrap_or_default();
    env.call(
        "DELETE",
        &format!("/messages/{id}/reaction/{kind}{query}"),
        auth,
        None,
    )
}

fn kinds(list: &Value) -> Vec<(String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["type"].as_str().unwrap().to_owned(),
                r["user_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn a_member_reacts_and_watchers_get_reaction_new_with_the_whole_message() {
    let env = Env::start();
    let (mut alice, mut bob) = room(&env);
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "m1", "text": "hi"}),
    );

    let body = ok(react(
        &env,
        Auth::User("bob"),
        "m1",
        json!({"reaction": {"type": "love", "emoji_code": "❤️"}}),
    ));
    let reaction = &body["reaction"];
    assert_eq!(reaction["type"], "love");
    assert_eq!(reaction["message_id"], "m1");
    assert_eq!(reaction["user_id"], "bob");
    assert_eq!(reaction["user"]["id"], "bob");
    assert_eq!(reaction["score"], 1, "score defaults to 1");
    assert_eq!(reaction["emoji_code"], "❤️", "custom fields are kept");
    assert!(reaction["created_at"].is_string() && reaction["updated_at"].is_string());
    let m = &body["message"];
    assert_eq!(m["id"], "m1");
    assert_eq!(m["reaction_counts"], json!({"love": 1}));
    assert_eq!(m["reaction_scores"], json!({"love": 1}));
    let group = &m["reaction_groups"]["love"];
    assert_eq!(
        (group["count"].as_u64(), group["sum_scores"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(group["first_reaction_at"], reaction["created_at"]);
    assert_eq!(group["last_reaction_at"], reaction["updated_at"]);
    assert_eq!(kinds(&m["latest_reactions"]), pairs(&[("love", "bob")]));
    assert_eq!(
        kinds(&m["own_reactions"]),
        pairs(&[("love", "bob")]),
        "the caller's"
    );

    for ws in [&mut alice, &mut bob] {
        let event = ws.next_event("reaction.new");
        assert_envelope(&event, "reaction.new", ROOM);
        assert_eq!(event["user"]["id"], "bob");
        assert_eq!(&event["reaction"], reaction);
        assert_eq!(
            event["message"]["own_reactions"],
            json!([]),
            "nobody's in a broadcast"
        );
        assert_eq!(event["message"]["reaction_counts"], json!({"love": 1}));
        assert_eq!(event["message"]["latest_reactions"], m["latest_reactions"]);
    }

    // alice reacts too: the summary adds up, newest first; each caller sees their own.
    let body = ok(react(
        &env,
        Auth::User("alice"),
        "m1",
        json!({"reaction": {"type": "love", "score": 3}}),
    ));
    let m = &body["message"];
    assert_eq!(m["reaction_counts"], json!({"love": 2}));
    assert_eq!(m["reaction_scores"], json!({"love": 4}));
    assert_eq!(m["reaction_groups"]["love"]["sum_scores"], 4);
    assert_eq!(
        kinds(&m["latest_reactions"]),
        pairs(&[("love", "alice"), ("love", "bob")])
    );
    assert_eq!(kinds(&m["own_reactions"]), pairs(&[("love", "alice")]));
    for (user, own) in [("alice", "alice"), ("bob", "bob")] {
        let got = ok(env.call("GET", "/messages/m1", Auth::User(user), None));
        assert_eq!(
            kinds(&got["message"]["own_reactions"]),
            pairs(&[("love", own)])
        );
        let state = ok(env.query_channel(Auth::User(user), ROOM, None));
        assert_eq!(
            kinds(&state["messages"][0]["own_reactions"]),
            pairs(&[("love", own)]),
            "{user}'s channel state"
        );
    }
    let state = ok(env.query_channel(Auth::Server, ROOM, None));
    assert_eq!(
        state["messages"][0]["own_reactions"],
        json!([]),
        "server token"
    );
}

#[test]
fn enforce_unique_replaces_the_users_reactions_and_announces_reaction_updated() {
    let env = Env::start();
    let (_alice, mut bob) = room(&env);
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "m1", "text": "hi"}),
    );
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "m2", "text": "hi"}),
    );
    for kind in ["like", "wow"] {
        ok(react(
            &env,
            Auth::User("bob"),
            "m1",
            json!({"reaction": {"type": kind}}),
        ));
        assert_eq!(bob.next_event("reaction.new")["reaction"]["type"], kind);
    }
    ok(react(
        &env,
        Auth::User("alice"),
        "m1",
        json!({"reaction": {"type": "like"}}),
    ));
    bob.next_event("reaction.new");

    let body = ok(react(
        &env,
        Auth::User("bob"),
        "m1",
        json!({"reaction": {"type": "love"}, "enforce_unique": true}),
    ));
    let m = &body["message"];
    assert_eq!(
        m["reaction_counts"],
        json!({"like": 1, "love": 1}),
        "alice's like stays"
    );
    assert_eq!(kinds(&m["own_reactions"]), pairs(&[("love", "bob")]));
    let event = bob.next_event("reaction.updated");
    assert_envelope(&event, "reaction.updated", ROOM);
    assert_eq!(event["reaction"]["type"], "love");
    assert_eq!(event["reaction"]["user_id"], "bob");
    assert_eq!(
        event["message"]["reaction_counts"],
        json!({"like": 1, "love": 1})
    );
    let all = ok(env.call("GET", "/messages/m1/reactions", Auth::User("bob"), None));
    assert_eq!(
        kinds(&all["reactions"]),
        pairs(&[("love", "bob"), ("like", "alice")])
    );

    // Nothing to replace: a plain reaction.new.
    ok(react(
        &env,
        Auth::User("bob"),
        "m2",
        json!({"reaction": {"type": "love"}, "enforce_unique": true}),
    ));
    let event = bob.next_event("reaction.new");
    assert_eq!(event["message"]["id"], "m2");
}

#[test]
fn sending_the_same_type_again_replaces_that_reaction() {
    let env = Env::start();
    let (_alice, mut bob) = room(&env);
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "m1", "text": "hi"}),
    );
    let first = ok(react(
        &env,
        Auth::User("bob"),
        "m1",
        json!({"reaction": {"type": "clap"}}),
    ));
    bob.next_event("reaction.new");
    let again = ok(react(
        &env,
        Auth::User("bob"),
        "m1",
        json!({"reaction": {"type": "clap", "score": 5}}),
    ));
    assert_eq!(again["message"]["reaction_counts"], json!({"clap": 1}));
    assert_eq!(again["message"]["reaction_scores"], json!({"clap": 5}));
    assert_eq!(
        again["reaction"]["created_at"],
        first["reaction"]["created_at"]
    );
    assert!(again["reaction"]["updated_at"].as_str() > first["reaction"]["updated_at"].as_str());
    assert_eq!(bob.next_event("reaction.new")["reaction"]["score"], 5);
}

#[test]
fn deleting_a_reaction_announces_reaction_deleted() {
    let env = Env::start();
    let (mut alice, _bob) = room(&env);
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "m1", "text": "hi"}),
    );
    ok(react(
        &env,
        Auth::User("bob"),
        "m1",
        json!({"reaction": {"type": "love"}}),
    ));
    ok(react(
        &env,
        Auth::User("bob"),
        "m1",
        json!({"reaction": {"type": "like"}}),
    ));
    alice.next_event("reaction.new");
    alice.next_event("reaction.new");

    // A user token removes its own reactions only: its user_id is its own.
    assert_error(
        unreact(&env, Auth::User("alice"), "m1", "love", Some("bob")),
        401,
        5,
    );
    assert_error(
        unreact(&env, Auth::User("alice"), "m1", "love", None),
        404,
        16,
    );
    let body = ok(unreact(&env, Auth::User("bob"), "m1", "love", None));
    assert_eq!(body["reaction"]["type"], "love");
    assert_eq!(body["reaction"]["user_id"], "bob");
    assert_eq!(body["message"]["reaction_counts"], json!({"like": 1}));
    assert_eq!(
        kinds(&body["message"]["own_reactions"]),
        pairs(&[("like", "bob")])
    );
    let event = alice.next_event("reaction.deleted");
    assert_envelope(&event, "reaction.deleted", ROOM);
    assert_eq!(event["reaction"]["type"], "love");
    assert_eq!(event["reaction"]["user_id"], "bob");
    assert_eq!(event["message"]["reaction_counts"], json!({"like": 1}));
    assert!(event["message"]["reaction_groups"].get("love").is_none());
    // Gone: deleting it again is 16.
    assert_error(
        unreact(&env, Auth::User("bob"), "m1", "love", None),
        404,
        16,
    );
    // Server side: the user is named, and required.
    assert_error(unreact(&env, Auth::Server, "m1", "like", None), 400, 4);
    let body = ok(unreact(&env, Auth::Server, "m1", "like", Some("bob")));
    assert_eq!(body["message"]["reaction_counts"], json!({}));
    assert_eq!(
        alice.next_event("reaction.deleted")["reaction"]["type"],
        "like"
    );
}

#[test]
fn reactions_page_newest_first_and_latest_reactions_keep_ten() {
    let env = Env::start();
    let users: Vec<String> = (0..12).map(|i| format!("u{i:02}")).collect();
    let refs: Vec<&str> = users.iter().map(String::as_str).collect();
    env.upsert(&refs);
    env.create_channel("livestream:show", "u00", &[]);
    post(
        &env,
        Auth::User("u00"),
        "livestream:show",
        json!({"id": "m1", "text": "hi"}),
    );
    let mut last = Value::Null;
    for user in &users {
        last = ok(react(
            &env,
            Auth::User(user),
            "m1",
            json!({"reaction": {"type": "like"}}),
        ));
    }
    assert_eq!(last["message"]["reaction_counts"], json!({"like": 12}));
    let latest = kinds(&last["message"]["latest_reactions"]);
    assert_eq!(latest.len(), 10, "capped at 10");
    assert_eq!(latest[0].1, "u11", "newest first");

    let page = |q: &str| {
        ok(env.call(
            "GET",
            &format!("/messages/m1/reactions{q}"),
            Auth::Anonymous,
            None,
        ))
    };
    let first = page("");
    assert_eq!(
        first["reactions"].as_array().unwrap().len(),
        10,
        "default limit 10"
    );
    assert_eq!(first["reactions"][0]["user_id"], "u11");
    let rest = page("?limit=5&offset=10");
    let who: Vec<&str> = rest["reactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(who, ["u01", "u00"]);
    assert_error(
        env.call(
            "GET",
            "/messages/m1/reactions?limit=ten",
            Auth::Anonymous,
            None,
        ),
        400,
        4,
    );
}

#[test]
fn who_may_react_follows_the_default_grants() {
    let env = Env::start();
    let (_alice, _bob) = room(&env);
    guest(&env, "visitor");
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "m1", "text": "hi"}),
    );
    let love = json!({"reaction": {"type": "love"}});
    // messaging: members only.
    assert_error(
        react(&env, Auth::User("carol"), "m1", love.clone()),
        403,
        17,
    );
    assert_error(
        react(&env, Auth::User("visitor"), "m1", love.clone()),
        403,
        17,
    );
    assert_error(react(&env, Auth::Anonymous, "m1", love.clone()), 403, 17);
    ok(react(&env, Auth::User("bob"), "m1", love.clone()));
    // A server token names the user, and must.
    assert_error(react(&env, Auth::Server, "m1", love.clone()), 400, 4);
    let body = ok(react(
        &env,
        Auth::Server,
        "m1",
        json!({"reaction": {"type": "like", "user_id": "alice"}}),
    ));
    assert_eq!(body["reaction"]["user_id"], "alice");
    assert_eq!(
        kinds(&body["message"]["own_reactions"]),
        pairs(&[("like", "alice")])
    );
    // A user may not react as someone else.
    assert_error(
        react(
            &env,
            Auth::User("bob"),
            "m1",
            json!({"reaction": {"type": "x", "user_id": "alice"}}),
        ),
        403,
        17,
    );
    // Reading them: whoever reads the channel.
    assert_error(
        env.call("GET", "/messages/m1/reactions", Auth::User("carol"), None),
        403,
        17,
    );
    assert_error(
        env.call("GET", "/messages/m1/reactions", Auth::Anonymous, None),
        403,
        17,
    );
    ok(env.call("GET", "/messages/m1/reactions", Auth::User("bob"), None));

    // livestream: any user, but no guest and no anonymous.
    env.create_channel("livestream:show", "alice", &[]);
    post(
        &env,
        Auth::User("alice"),
        "livestream:show",
        json!({"id": "l1", "text": "hi"}),
    );
    ok(react(&env, Auth::User("carol"), "l1", love.clone()));
    assert_error(
        react(&env, Auth::User("visitor"), "l1", love.clone()),
        403,
        17,
    );
    assert_error(react(&env, Auth::Anonymous, "l1", love.clone()), 403, 17);
    ok(env.call("GET", "/messages/l1/reactions", Auth::Anonymous, None));
    // Removing one's own; anonymous has none to remove.
    assert_error(unreact(&env, Auth::Anonymous, "l1", "love", None), 403, 17);
    ok(unreact(&env, Auth::User("carol"), "l1", "love", None));
}

#[test]
fn bad_reactions_are_refused_with_streams_codes() {
    let env = Env::start();
    let (_alice, _bob) = room(&env);
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "m1", "text": "hi"}),
    );
    let bob = Auth::User("bob");
    assert_error(
        react(&env, bob, "nope", json!({"reaction": {"type": "love"}})),
        404,
        16,
    );
    assert_error(unreact(&env, bob, "nope", "love", None), 404, 16);
    assert_error(
        env.call("GET", "/messages/nope/reactions", bob, None),
        404,
        16,
    );
    assert_error(
        react(&env, bob, "m1", json!({"reaction": {"type": ""}})),
        400,
        4,
    );
    assert_error(
        react(&env, bob, "m1", json!({"reaction": {"type": "  "}})),
        400,
        4,
    );
    assert_error(react(&env, bob, "m1", json!({"reaction": {}})), 400, 4);
    assert_error(react(&env, bob, "m1", json!({})), 400, 4);
    assert_error(react(&env, bob, "m1", json!({"reaction": "love"})), 400, 4);
    let long = "x".repeat(256);
    assert_error(
        react(&env, bob, "m1", json!({"reaction": {"type": long}})),
        400,
        4,
    );
    assert_error(
        react(
            &env,
            bob,
            "m1",
            json!({"reaction": {"type": "love", "score": -1}}),
        ),
        400,
        4,
    );
    assert_error(
        react(
            &env,
            bob,
            "m1",
            json!({"reaction": {"type": "love", "score": "many"}}),
        ),
        400,
        4,
    );
    // A deleted message takes no reactions; a hard-deleted one has none left.
    ok(react(
        &env,
        bob,
        "m1",
        json!({"reaction": {"type": "love"}}),
    ));
    ok(env.call("DELETE", "/messages/m1", Auth::User("alice"), None));
    assert_error(
        react(&env, bob, "m1", json!({"reaction": {"type": "wow"}})),
        400,
        4,
    );
    ok(env.call(
        "DELETE",
        "/messages/m1?hard=true",
        Auth::User("alice"),
        None,
    ));
    assert_error(
        env.call("GET", "/messages/m1/reactions", bob, None),
        404,
        16,
    );
}
