//! Message search: `GET /search?payload=…` over the channels the caller may read, text
//! queries and message filters, sorting, and the `next`/`previous` cursors.

use serde_json::{Value, json};

use super::surface::*;
use crate::support::*;

fn search(env: &Env, auth: Auth, payload: Value) -> (u16, Value) {
    env.call(
        "GET",
        &format!("/search?payload={}", encode(&payload.to_string())),
        auth,
        None,
    )
}

fn hits(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"]["id"].as_str().unwrap().to_owned())
        .collect()
}

fn found(env: &Env, auth: Auth, payload: Value) -> Vec<String> {
    let mut ids = hits(&ok(search(env, auth, payload)));
    ids.sort();
    ids
}

/// alice and bob's room, and a room of carol's the others cannot read.
fn rooms(env: &Env) {
    room(env);
    env.create_channel("messaging:secret", "carol", &["carol"]);
    let say = |user, cid, id: &str, message: Value| {
        let mut m = message;
        m["id"] = json!(id);
        post(env, Auth::User(user), cid, m);
    };
    say(
        "alice",
        ROOM,
        "a1",
        json!({"text": "Supercalifragilistic day"}),
    );
    say(
        "bob",
        ROOM,
        "b1",
        json!({"text": "a super day, super super", "attachments": [{"type": "image"}]}),
    );
    say(
        "bob",
        ROOM,
        "b2",
        json!({"text": "nothing here", "mentioned_users": ["alice"], "mood": "calm"}),
    );
    say(
        "alice",
        ROOM,
        "a2",
        json!({"text": "SUPER reply", "parent_id": "a1"}),
    );
    say(
        "carol",
        "messaging:secret",
        "c1",
        json!({"text": "super secret"}),
    );
}

#[test]
fn search_finds_text_in_the_channels_the_caller_may_read() {
    let env = Env::start();
    rooms(&env);
    let all = json!({"cid": {"$in": [ROOM, "messaging:secret"]}});
    let body = ok(search(
        &env,
        Auth::User("alice"),
        json!({"filter_conditions": all, "query": "super"}),
    ));
    // Relevance first (how often it occurs), then id.
    assert_eq!(hits(&body), ["b1", "a1", "a2"]);
    let first = &body["results"][0]["message"];
    assert_eq!(
        first["channel"]["cid"], ROOM,
        "each hit carries its channel"
    );
    assert_eq!(first["user"]["id"], "bob");
    assert!(first["own_reactions"].is_array());
    // carol reads only her channel.
    assert_eq!(
        found(
            &env,
            Auth::User("carol"),
            json!({"filter_conditions": all, "query": "SUPER"})
        ),
        ["c1"]
    );
    assert_eq!(
        found(
            &env,
            Auth::Server,
            json!({"filter_conditions": all, "query": "super"})
        ),
        ["a1", "a2", "b1", "c1"]
    );
    assert!(
        found(
            &env,
            Auth::Anonymous,
            json!({"filter_conditions": all, "query": "super"})
        )
        .is_empty()
    );
    // A deleted message is not found.
    ok(env.call("DELETE", "/messages/a1", Auth::User("alice"), None));
    assert_eq!(
        found(
            &env,
            Auth::User("alice"),
            json!({"filter_conditions": all, "query": "super"})
        ),
        ["a2", "b1"]
    );
}

#[test]
fn message_filters_match_fields_and_operators() {
    let env = Env::start();
    rooms(&env);
    let f = |filter: Value| {
        found(
            &env,
            Auth::User("bob"),
            json!({"filter_conditions": {"members": {"$in": ["bob"]}}, "message_filter_conditions": filter}),
        )
    };
    assert_eq!(f(json!({"text": {"$autocomplete": "supercali"}})), ["a1"]);
    assert_eq!(f(json!({"text": {"$q": "day"}})), ["a1", "b1"]);
    assert_eq!(f(json!({"user.id": "bob"})), ["b1", "b2"]);
    assert_eq!(f(json!({"attachments.type": {"$in": ["image"]}})), ["b1"]);
    assert_eq!(f(json!({"attachments": {"$exists": true}})), ["b1"]);
    assert_eq!(
        f(json!({"mentioned_users.id": {"$contains": "alice"}})),
        ["b2"]
    );
    assert_eq!(f(json!({"parent_id": "a1"})), ["a2"]);
    assert_eq!(f(json!({"mood": "calm"})), ["b2"], "custom fields");
    assert_eq!(
        f(json!({"$or": [{"id": "a1"}, {"id": {"$in": ["b2"]}}]})),
        ["a1", "b2"]
    );
    ok(env.call(
        "PUT",
        "/messages/b2",
        Auth::User("bob"),
        Some(json!({"set": {"pinned": true}})),
    ));
    assert_eq!(f(json!({"pinned": true})), ["b2"]);
    // An explicit sort.
    let body = ok(search(
        &env,
        Auth::User("bob"),
        json!({
        "filter_conditions": {"cid": ROOM}, "message_filter_conditions": {"type": {"$in": ["regular", "reply"]}},
        "sort": [{"field": "created_at", "direction": -1}]}),
    ));
    assert_eq!(hits(&body), ["a2", "b2", "b1", "a1"]);
}

#[test]
fn cursors_page_without_repeating_or_skipping() {
    let env = Env::start();
    room(&env);
    for i in 0..7 {
        post(
            &env,
            Auth::User("alice"),
            ROOM,
            json!({"id": format!("m{i}"), "text": "hello"}),
        );
    }
    let payload = |extra: Value| {
        let mut p = json!({"filter_conditions": {"cid": ROOM}, "query": "hello", "limit": 3,
            "sort": [{"field": "created_at", "direction": 1}]});
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        p
    };
    let first = ok(search(&env, Auth::User("bob"), payload(json!({}))));
    assert_eq!(hits(&first), ["m0", "m1", "m2"]);
    assert!(first.get("previous").is_none());
    let next = first["next"].as_str().unwrap().to_owned();
    // A message of the first page goes away meanwhile: the next page is not shifted (an
    // offset of 3 would now skip m3).
    ok(env.call(
        "DELETE",
        "/messages/m1?hard=true",
        Auth::User("alice"),
        None,
    ));
    let second = ok(search(
        &env,
        Auth::User("bob"),
        json!({"filter_conditions": {"cid": ROOM}, "query": "hello", "limit": 3, "next": next}),
    ));
    assert_eq!(
        hits(&second),
        ["m3", "m4", "m5"],
        "the cursor carries the sort"
    );
    let third = ok(search(
        &env,
        Auth::User("bob"),
        json!({"filter_conditions": {"cid": ROOM}, "query": "hello", "limit": 3, "next": second["next"]}),
    ));
    assert_eq!(hits(&third), ["m6"]);
    assert!(third.get("next").is_none());
    let back = ok(search(
        &env,
        Auth::User("bob"),
        json!({"filter_conditions": {"cid": ROOM}, "query": "hello", "limit": 3, "next": third["previous"]}),
    ));
    assert_eq!(hits(&back), ["m3", "m4", "m5"]);
    // Offsets page too, without cursors mixed in.
    let by_offset = ok(search(
        &env,
        Auth::User("bob"),
        json!({"filter_conditions": {"cid": ROOM}, "query": "hello", "limit": 2, "offset": 4}),
    ));
    assert_eq!(hits(&by_offset).len(), 2);
}

#[test]
fn bad_searches_are_refused_with_code_4() {
    let env = Env::start();
    rooms(&env);
    let bad = |payload: Value| assert_error(search(&env, Auth::User("alice"), payload), 400, 4);
    let cid = json!({"cid": ROOM});
    bad(json!({"query": "super"}));
    bad(json!({"filter_conditions": {}, "query": "super"}));
    bad(json!({"filter_conditions": cid}));
    bad(json!({"filter_conditions": cid, "query": "  "}));
    bad(
        json!({"filter_conditions": cid, "query": "a", "message_filter_conditions": {"text": "a"}}),
    );
    bad(json!({"filter_conditions": cid, "query": "a", "offset": 2, "next": "00"}));
    bad(
        json!({"filter_conditions": cid, "query": "a", "offset": 2, "sort": [{"field": "id", "direction": 1}]}),
    );
    bad(json!({"filter_conditions": cid, "query": "a", "next": "not-a-cursor"}));
    bad(json!({"filter_conditions": cid, "query": "a", "offset": 1000}));
    bad(json!({"filter_conditions": cid, "message_filter_conditions": {"text": {"$regex": "x"}}}));
    bad(json!({"filter_conditions": {"cid": {"$bogus": 1}}, "query": "a"}));
    bad(json!({"filter_conditions": cid, "query": 5}));
    assert_error(
        env.call("GET", "/search", Auth::User("alice"), None),
        400,
        4,
    );
    assert_error(
        env.call("GET", "/search?payload=%7B", Auth::User("alice"), None),
        400,
        4,
    );
}
