//! Partial updates (`PUT /messages/{id}`), pins (and their end), `GET
//! /channels/{type}/{id}/pinned_messages`, the channel state's `pinned_messages`, and quotes.

use std::time::Duration;

use serde_json::{Value, json};
use stream_chat_protocol::time;

use super::surface::*;
use crate::support::*;

fn put(env: &Env, auth: Auth, id: &str, body: Value) -> (u16, Value) {
    env.call("PUT", &format!("/messages/{id}"), auth, Some(body))
}

fn pinned(env: &Env, auth: Auth, cid: &str, payload: Value) -> (u16, Value) {
    let (kind, id) = cid.split_once(':').unwrap();
    let payload = encode(&payload.to_string());
    env.call(
        "GET",
        &format!("/channels/{kind}/{id}/pinned_messages?payload={payload}"),
        auth,
        None,
    )
}

#[test]
fn a_partial_update_sets_and_unsets_fields() {
    let env = Env::start();
    let (mut alice, _bob) = room(&env);
    let sent = post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "m1", "text": "draft", "mood": "meh", "tag": "x"}),
    );
    let body = ok(put(
        &env,
        Auth::User("alice"),
        "m1",
        json!({"set": {"text": "final <b>", "mood": "good"}, "unset": ["tag"]}),
    ));
    let m = &body["message"];
    assert_eq!(
        (m["text"].as_str(), m["mood"].as_str()),
        (Some("final <b>"), Some("good"))
    );
    assert_eq!(m["html"], "<p>final &lt;b&gt;</p>\n");
    assert!(m.get("tag").is_none(), "{m}");
    assert_eq!(m["created_at"], sent["created_at"]);
    assert_eq!(m["message_text_updated_at"], m["updated_at"]);
    let e = alice.next_event("message.updated");
    assert_envelope(&e, "message.updated", ROOM);
    assert_eq!(
        (e["message"]["text"].as_str(), e["user"]["id"].as_str()),
        (Some("final <b>"), Some("alice"))
    );

    // Only the author edits; content is checked as on send.
    assert_error(
        put(
            &env,
            Auth::User("bob"),
            "m1",
            json!({"set": {"text": "mine now"}}),
        ),
        403,
        17,
    );
    assert_error(
        put(
            &env,
            Auth::User("alice"),
            "m1",
            json!({"set": {"text": "x".repeat(5001)}}),
        ),
        400,
        20,
    );
    assert_error(
        put(
            &env,
            Auth::User("alice"),
            "m1",
            json!({"set": {"text": ""}}),
        ),
        400,
        4,
    );
    assert_error(
        put(&env, Auth::User("alice"), "m1", json!({"set": {"text": 5}})),
        400,
        4,
    );
    for reserved in [
        "id",
        "cid",
        "user",
        "created_at",
        "reply_count",
        "latest_reactions",
        "pinned_by",
    ] {
        assert_error(
            put(
                &env,
                Auth::User("alice"),
                "m1",
                json!({"set": {reserved: "x"}}),
            ),
            400,
            4,
        );
    }
    assert_error(
        put(&env, Auth::User("alice"), "m1", json!({"unset": ["type"]})),
        400,
        4,
    );
    assert_error(put(&env, Auth::User("alice"), "m1", json!({})), 400, 4);
    assert_error(
        put(
            &env,
            Auth::User("alice"),
            "m1",
            json!({"set": {"a": 1}, "unset": ["a"]}),
        ),
        400,
        4,
    );
    assert_error(
        put(
            &env,
            Auth::User("alice"),
            "nope",
            json!({"set": {"text": "x"}}),
        ),
        404,
        16,
    );
    assert_error(
        env.call("PUT", "/messages/m1", Auth::User("alice"), None),
        400,
        4,
    );
    // A server token edits as the user it names (or the author).
    let body = ok(put(
        &env,
        Auth::Server,
        "m1",
        json!({"set": {"mood": "server"}, "user": {"id": "alice"}}),
    ));
    assert_eq!(body["message"]["mood"], "server");
}

#[test]
fn pins_are_set_shown_listed_and_cleared() {
    let env = Env::start();
    let (mut alice, _bob) = room(&env);
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "m1", "text": "read me"}),
    );
    // A member pins anyone's message (JS sends explicit nulls).
    let body = ok(put(
        &env,
        Auth::User("bob"),
        "m1",
        json!({"set": {"pinned": true, "pin_expires": null, "pinned_at": null}}),
    ));
    let m = &body["message"];
    assert_eq!(m["pinned"], true);
    assert_eq!(m["pinned_by"]["id"], "bob");
    assert!(m["pinned_at"].is_string());
    assert!(m.get("pin_expires").is_none());
    let e = alice.next_event("message.updated");
    assert_eq!(
        (
            e["message"]["pinned"].as_bool(),
            e["message"]["pinned_by"]["id"].as_str()
        ),
        (Some(true), Some("bob"))
    );
    assert_eq!(e["message"]["pinned_at"], m["pinned_at"]);
    let state = ok(env.query_channel(Auth::User("alice"), ROOM, None));
    assert_eq!(ids(&state["pinned_messages"]), ["m1"]);
    assert_eq!(
        ids(&ok(pinned(&env, Auth::User("alice"), ROOM, json!({})))["messages"]),
        ["m1"]
    );

    let body = ok(put(
        &env,
        Auth::User("bob"),
        "m1",
        json!({"set": {"pinned": false}}),
    ));
    assert_eq!(body["message"]["pinned"], false);
    for key in ["pinned_at", "pinned_by", "pin_expires"] {
        assert!(
            body["message"].get(key).is_none(),
            "{key}: {}",
            body["message"]
        );
    }
    assert_eq!(
        alice.next_event("message.updated")["message"]["pinned"],
        false
    );
    let state = ok(env.query_channel(Auth::User("alice"), ROOM, None));
    assert_eq!(state["pinned_messages"], json!([]));

    // Pinned on send, with an end; an expiry is a time, seconds, or null.
    let later = time::format_rfc3339(time::now_nanos() + 3_600_000_000_000);
    let m2 = post(
        &env,
        Auth::User("bob"),
        ROOM,
        json!({"id": "m2", "text": "pinned", "pinned": true, "pin_expires": later}),
    );
    assert_eq!(
        (m2["pinned"].as_bool(), m2["pinned_by"]["id"].as_str()),
        (Some(true), Some("bob"))
    );
    assert_eq!(m2["pin_expires"], later);
    let body = ok(put(
        &env,
        Auth::User("bob"),
        "m2",
        json!({"set": {"pin_expires": 600}}),
    ));
    let expires = time::parse_rfc3339(body["message"]["pin_expires"].as_str().unwrap()).unwrap();
    let left = expires - time::now_nanos();
    assert!(left > 500_000_000_000 && left <= 600_000_000_000, "{left}");
    for bad in [
        json!("tomorrow"),
        json!(-5),
        json!("2001-01-01T00:00:00Z"),
        json!(true),
    ] {
        assert_error(
            put(
                &env,
                Auth::User("bob"),
                "m2",
                json!({"set": {"pinned": true, "pin_expires": bad}}),
            ),
            400,
            4,
        );
    }
    assert_error(
        put(
            &env,
            Auth::User("bob"),
            "m2",
            json!({"set": {"pinned": "yes"}}),
        ),
        400,
        4,
    );
}

#[test]
fn who_may_pin_follows_the_default_grants() {
    let env = Env::start();
    let (_alice, _bob) = room(&env);
    guest(&env, "visitor");
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "m1", "text": "hi"}),
    );
    let pin = json!({"set": {"pinned": true}});
    assert_error(put(&env, Auth::User("carol"), "m1", pin.clone()), 403, 17);
    assert_error(put(&env, Auth::User("visitor"), "m1", pin.clone()), 403, 17);
    assert_error(put(&env, Auth::Anonymous, "m1", pin.clone()), 403, 17);
    let body = ok(put(
        &env,
        Auth::Server,
        "m1",
        json!({"set": {"pinned": true}, "user_id": "bob"}),
    ));
    assert_eq!(body["message"]["pinned_by"]["id"], "bob");
    // livestream: a user pins their own message only.
    env.create_channel("livestream:show", "alice", &[]);
    post(
        &env,
        Auth::User("alice"),
        "livestream:show",
        json!({"id": "l1", "text": "hi"}),
    );
    post(
        &env,
        Auth::User("carol"),
        "livestream:show",
        json!({"id": "l2", "text": "mine"}),
    );
    assert_error(put(&env, Auth::User("carol"), "l1", pin.clone()), 403, 17);
    ok(put(&env, Auth::User("carol"), "l2", pin.clone()));
    assert_eq!(
        ids(&ok(pinned(&env, Auth::Anonymous, "livestream:show", json!({})))["messages"]),
        ["l2"]
    );
    assert_error(pinned(&env, Auth::User("carol"), ROOM, json!({})), 403, 17);
    assert_error(
        pinned(&env, Auth::User("alice"), "messaging:nowhere", json!({})),
        404,
        16,
    );
    let (status, body) = env.call(
        "GET",
        "/channels/messaging/room/pinned_messages?payload=%7Bnope",
        Auth::User("alice"),
        None,
    );
    assert_error((status, body), 400, 4);
}

#[test]
fn pinned_messages_page_in_pin_order() {
    let env = Env::start();
    let (_alice, _bob) = room(&env);
    // Pinned in another order than posted, ids unsorted.
    for id in ["e", "d", "c", "b", "a"] {
        post(
            &env,
            Auth::User("alice"),
            ROOM,
            json!({"id": id, "text": id}),
        );
    }
    let order = ["c", "a", "e", "b", "d"];
    let mut at = Vec::new();
    for id in order {
        let m = ok(put(
            &env,
            Auth::User("alice"),
            id,
            json!({"set": {"pinned": true}}),
        ))["message"]
            .clone();
        at.push(m["pinned_at"].as_str().unwrap().to_owned());
    }
    let page =
        |payload: Value| ids(&ok(pinned(&env, Auth::User("bob"), ROOM, payload))["messages"]);
    assert_eq!(
        page(json!({})),
        ["d", "b", "e", "a", "c"],
        "newest pin first"
    );
    let asc = json!([{"field": "pinned_at", "direction": 1}]);
    assert_eq!(page(json!({"sort": asc})), ["c", "a", "e", "b", "d"]);
    assert_eq!(page(json!({"limit": 2})), ["d", "b"]);
    assert_eq!(page(json!({"limit": 2, "offset": 2})), ["e", "a"]);
    assert_eq!(page(json!({"limit": 2, "id_lt": "e"})), ["a", "c"]);
    assert_eq!(page(json!({"limit": 2, "id_lte": "e"})), ["e", "a"]);
    assert_eq!(
        page(json!({"limit": 2, "id_gt": "a", "sort": asc})),
        ["e", "b"]
    );
    assert_eq!(page(json!({"pinned_at_before": at[2]})), ["a", "c"]);
    assert_eq!(page(json!({"pinned_at_after_or_equal": at[3]})), ["d", "b"]);
    assert_eq!(
        page(json!({"limit": 3, "id_around": "e", "sort": asc})),
        ["a", "e", "b"]
    );
    assert!(page(json!({"id_lt": "unknown"})).is_empty());
    assert_error(
        pinned(
            &env,
            Auth::User("bob"),
            ROOM,
            json!({"pinned_at_before": "soon"}),
        ),
        400,
        4,
    );
    // The channel state carries the ten most recently pinned, oldest pin first.
    let state = ok(env.query_channel(Auth::User("bob"), ROOM, None));
    assert_eq!(ids(&state["pinned_messages"]), order);
}

#[test]
fn an_expired_pin_is_no_pin_anywhere() {
    let env = Env::start();
    let (_alice, _bob) = room(&env);
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "m1", "text": "for a moment"}),
    );
    // Three seconds: far more than a request takes on a loaded machine.
    let body = ok(put(
        &env,
        Auth::User("alice"),
        "m1",
        json!({"set": {"pinned": true, "pin_expires": 3}}),
    ));
    assert_eq!(body["message"]["pinned"], true);
    let expires = time::parse_rfc3339(body["message"]["pin_expires"].as_str().unwrap()).unwrap();
    assert_eq!(
        ids(&ok(pinned(&env, Auth::User("bob"), ROOM, json!({})))["messages"]),
        ["m1"]
    );
    // The pin ends by the clock, not by an event: wait for that instant to pass.
    let wait = expires - time::now_nanos() + 50_000_000;
    if wait > 0 {
        std::thread::sleep(Duration::from_nanos(wait as u64));
    }
    let got = ok(env.call("GET", "/messages/m1", Auth::User("bob"), None));
    assert_eq!(got["message"]["pinned"], false);
    assert!(got["message"].get("pinned_at").is_none());
    assert!(
        ok(pinned(&env, Auth::User("bob"), ROOM, json!({})))["messages"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let state = ok(env.query_channel(Auth::User("bob"), ROOM, None));
    assert_eq!(state["pinned_messages"], json!([]));
    assert_eq!(state["messages"][0]["pinned"], false);
    // The next write stores it unpinned.
    let body = ok(put(
        &env,
        Auth::User("alice"),
        "m1",
        json!({"set": {"mood": "over"}}),
    ));
    assert_eq!(body["message"]["pinned"], false);
}

#[test]
fn a_quote_embeds_the_quoted_message_as_it_is_now() {
    let env = Env::start();
    let (mut alice, _bob) = room(&env);
    post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "q", "text": "original"}),
    );
    let m = post(
        &env,
        Auth::User("bob"),
        ROOM,
        json!({"id": "m1", "text": "quoting", "quoted_message_id": "q"}),
    );
    assert_eq!(m["quoted_message_id"], "q");
    assert_eq!(
        (
            m["quoted_message"]["id"].as_str(),
            m["quoted_message"]["text"].as_str()
        ),
        (Some("q"), Some("original"))
    );
    let e = alice.next_event("message.new");
    assert_eq!(e["message"]["id"], "q");
    let e = alice.next_event("message.new");
    assert_eq!(e["message"]["quoted_message"]["text"], "original");
    // A quote of a quote is one level deep.
    let m2 = post(
        &env,
        Auth::User("alice"),
        ROOM,
        json!({"id": "m2", "text": "deeper", "quoted_message_id": "m1"}),
    );
    assert_eq!(m2["quoted_message"]["id"], "m1");
    assert!(m2["quoted_message"].get("quoted_message").is_none(), "{m2}");
    // The quoted message changes: every read shows the new one.
    ok(put(
        &env,
        Auth::User("alice"),
        "q",
        json!({"set": {"text": "edited"}}),
    ));
    let got = ok(env.call("GET", "/messages/m1", Auth::User("alice"), None));
    assert_eq!(got["message"]["quoted_message"]["text"], "edited");
    let state = ok(env.query_channel(Auth::User("alice"), ROOM, None));
    assert_eq!(state["messages"][1]["quoted_message"]["text"], "edited");
    ok(env.call("DELETE", "/messages/q", Auth::User("alice"), None));
    let got = ok(env.call("GET", "/messages/m1", Auth::User("alice"), None));
    assert_eq!(got["message"]["quoted_message"]["type"], "deleted");
    // Unknown, or in another channel: refused.
    env.create_channel("messaging:other", "alice", &["alice"]);
    post(
        &env,
        Auth::User("alice"),
        "messaging:other",
        json!({"id": "o1", "text": "elsewhere"}),
    );
    assert_error(
        post_raw(
            &env,
            Auth::User("bob"),
            ROOM,
            json!({"text": "x", "quoted_message_id": "nope"}),
        ),
        400,
        4,
    );
    assert_error(
        post_raw(
            &env,
            Auth::User("bob"),
            ROOM,
            json!({"text": "x", "quoted_message_id": "o1"}),
        ),
        400,
        4,
    );
    assert_error(
        put(
            &env,
            Auth::User("bob"),
            "m1",
            json!({"set": {"quoted_message_id": "o1"}}),
        ),
        400,
        4,
    );
}
