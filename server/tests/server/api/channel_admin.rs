//! Channel administration, members, read state, moderation and presence on the wire: the
//! fields each event carries (Android's DTOs fail on a missing required field, the JS
//! client misbehaves on some), and Stream-shaped errors for bad requests.

use serde_json::{Value, json};

use crate::support::*;

/// bob's socket watching messaging:`id` (alice created it with bob); returns it.
fn watched(env: &Env, id: &str) -> Ws {
    let cid = format!("messaging:{id}");
    env.create_channel(&cid, "alice", &["alice", "bob"]);
    let (ws, hello) = env.connect("bob");
    let (status, body) = env.watch(
        Auth::User("bob"),
        &cid,
        hello["connection_id"].as_str().unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    ws
}

#[track_caller]
fn ok(result: (u16, Value)) -> Value {
    assert_eq!(result.0, 200, "{}", result.1);
    result.1
}

#[track_caller]
fn err(result: (u16, Value), status: u16, code: i64) {
    assert_eq!(
        (result.0, result.1["code"].as_i64()),
        (status, Some(code)),
        "{}",
        result.1
    );
    assert!(
        result.1["message"]
            .as_str()
            .unwrap()
            .contains("failed with error")
    );
}

#[test]
fn channel_events_carry_what_the_clients_require() {
    let env = Env::start();
    env.upsert(&["alice", "bob", "carol"]);
    let mut bob = watched(&env, "wire");
    let base = "/channels/messaging/wire";

    ok(env.call(
        "POST",
        base,
        Auth::User("alice"),
        Some(json!({"data": {"name": "Wire", "color": "red"}})),
    ));
    let e = bob.next_event("channel.updated");
    assert_eq!(e["user"]["id"], "alice");
    assert_eq!(e["channel"]["cid"], "messaging:wire");
    assert_eq!(
        e["channel"]["color"], "red",
        "the complete channel, custom fields included"
    );
    assert!(e["channel"].get("own_capabilities").is_none());

    ok(env.call(
        "POST",
        base,
        Auth::User("alice"),
        Some(json!({"add_members": ["carol"]})),
    ));
    let e = bob.next_event("member.added");
    assert_eq!(e["user"]["id"], "carol");
    assert_eq!(e["member"]["user"]["id"], "carol");
    assert_eq!(e["member"]["user_id"], "carol");
    assert_eq!(e["member"]["channel_role"], "channel_member");
    assert_eq!(e["member"]["status"], "member");
    assert_eq!(e["member"]["banned"], false);

    let sent = ok(env.send(Auth::User("alice"), "messaging:wire", "one"));
    ok(env.send(Auth::User("alice"), "messaging:wire", "two"));
    ok(env.call(
        "POST",
        &format!("{base}/unread"),
        Auth::User("bob"),
        Some(json!({"message_id": sent["message"]["id"]})),
    ));
    let e = bob.next_event("notification.mark_unread");
    for key in [
        "cid",
        "channel_type",
        "channel_id",
        "created_at",
        "last_read_at",
    ] {
        assert!(e[key].is_string(), "{key}: {e}");
    }
    assert_eq!(e["user"]["id"], "bob");
    assert_eq!(e["first_unread_message_id"], sent["message"]["id"]);
    assert_eq!(
        (
            e["unread_messages"].as_u64(),
            e["total_unread_count"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(e["unread_channels"], 1);
    assert!(
        e.get("last_read_message_id").is_none(),
        "no message before the first: {e}"
    );

    ok(env.call(
        "POST",
        &format!("{base}/hide"),
        Auth::User("bob"),
        Some(json!({"clear_history": true})),
    ));
    let e = bob.next_event("channel.hidden");
    assert_eq!(
        (e["user"]["id"].as_str(), e["clear_history"].as_bool()),
        (Some("bob"), Some(true))
    );
    assert_eq!(e["channel"]["cid"], "messaging:wire");
    ok(env.call("POST", &format!("{base}/show"), Auth::User("bob"), None));
    let e = bob.next_event("channel.visible");
    assert_eq!(
        (e["user"]["id"].as_str(), e["channel"]["cid"].as_str()),
        (Some("bob"), Some("messaging:wire"))
    );

    ok(env.call(
        "POST",
        "/moderation/ban",
        Auth::Server,
        Some(json!({"target_user_id": "carol", "type": "messaging", "id": "wire", "user_id": "alice", "reason": "x"})),
    ));
    let e = bob.next_event("user.banned");
    assert_eq!(
        (
            e["cid"].as_str(),
            e["user"]["id"].as_str(),
            e["shadow"].as_bool()
        ),
        (Some("messaging:wire"), Some("carol"), Some(false))
    );
    assert_eq!(e["created_by"]["id"], "alice");
    ok(env.call(
        "DELETE",
        "/moderation/ban?target_user_id=carol&type=messaging&id=wire",
        Auth::Server,
        None,
    ));
    let e = bob.next_event("user.unbanned");
    assert_eq!(e["user"]["id"], "carol");

    ok(env.call(
        "POST",
        &format!("{base}/truncate"),
        Auth::User("alice"),
        None,
    ));
    let e = bob.next_event("channel.truncated");
    assert!(e["channel"]["truncated_at"].is_string(), "{e}");

    ok(env.call(
        "POST",
        base,
        Auth::User("alice"),
        Some(json!({"remove_members": ["carol"]})),
    ));
    let e = bob.next_event("member.removed");
    assert_eq!(e["user"]["id"], "carol", "the JS client removes event.user");

    let res = ok(env.call("DELETE", base, Auth::User("alice"), None));
    assert!(res["channel"]["deleted_at"].is_string());
    let e = bob.next_event("channel.deleted");
    assert_eq!(
        (e["cid"].as_str(), e["channel"]["cid"].as_str()),
        (Some("messaging:wire"), Some("messaging:wire"))
    );
    // the channel is gone: its events no longer reach bob, and its id is free again
    err(
        env.call("POST", base, Auth::User("alice"), Some(json!({"data": {}}))),
        404,
        16,
    );
}

#[test]
fn members_who_do_not_watch_get_the_notification_forms() {
    let env = Env::start();
    env.upsert(&["alice", "bob"]);
    env.create_channel("messaging:n", "alice", &["alice", "bob"]);
    let (mut bob, _) = env.connect("bob");
    ok(env.send(Auth::User("alice"), "messaging:n", "hi"));
    assert_eq!(
        bob.next_event("notification.message_new")["total_unread_count"],
        1
    );
    ok(env.call(
        "POST",
        "/channels/messaging/n/truncate",
        Auth::User("alice"),
        None,
    ));
    let e = bob.next_event("notification.channel_truncated");
    assert_eq!(
        (
            e["total_unread_count"].as_u64(),
            e["unread_channels"].as_u64()
        ),
        (Some(0), Some(0))
    );
    ok(env.call(
        "POST",
        "/channels/messaging/n",
        Auth::User("alice"),
        Some(json!({"remove_members": ["bob"]})),
    ));
    let e = bob.next_event("notification.removed_from_channel");
    assert_eq!(
        (e["cid"].as_str(), e["member"]["user_id"].as_str()),
        (Some("messaging:n"), Some("bob"))
    );
    ok(env.call(
        "POST",
        "/channels/messaging/n",
        Auth::User("alice"),
        Some(json!({"invites": ["bob"]})),
    ));
    let e = bob.next_event("notification.invited");
    assert_eq!(
        (
            e["member"]["invited"].as_bool(),
            e["channel"]["cid"].as_str()
        ),
        (Some(true), Some("messaging:n"))
    );
    ok(env.call(
        "POST",
        "/channels/messaging/n",
        Auth::User("bob"),
        Some(json!({"accept_invite": true})),
    ));
    let e = bob.next_event("notification.invite_accepted");
    assert!(e["member"]["invite_accepted_at"].is_string());
    ok(env.call("DELETE", "/channels/messaging/n", Auth::Server, None));
    let e = bob.next_event("notification.channel_deleted");
    assert!(e["channel"]["deleted_at"].is_string());
}

#[test]
fn bad_requests_are_stream_errors() {
    let env = Env::start();
    env.upsert(&["alice", "bob"]);
    env.create_channel("messaging:bad", "alice", &["alice", "bob"]);
    err(
        env.call("GET", "/members", Auth::User("alice"), None),
        400,
        4,
    );
    err(
        env.call("GET", "/members?payload=%7B", Auth::User("alice"), None),
        400,
        4,
    );
    let payload =
        encode(&json!({"type": "messaging", "id": "nope", "filter_conditions": {}}).to_string());
    err(
        env.call(
            "GET",
            &format!("/members?payload={payload}"),
            Auth::User("alice"),
            None,
        ),
        404,
        16,
    );
    let payload =
        encode(&json!({"type": "nosuchtype", "id": "bad", "filter_conditions": {}}).to_string());
    err(
        env.call(
            "GET",
            &format!("/members?payload={payload}"),
            Auth::User("alice"),
            None,
        ),
        404,
        16,
    );
    err(
        env.call(
            "PATCH",
            "/channels/messaging/bad",
            Auth::User("alice"),
            Some(json!({"set": {"cooldown": -1}})),
        ),
        400,
        4,
    );
    err(
        env.call(
            "PATCH",
            "/channels/messaging/bad",
            Auth::User("alice"),
            Some(json!({"set": {"frozen": "yes"}})),
        ),
        400,
        4,
    );
    err(
        env.call(
            "POST",
            "/channels/messaging/bad",
            Auth::User("alice"),
            Some(json!({"assign_roles": [{"user_id": "bob", "channel_role": "boss"}]})),
        ),
        400,
        4,
    );
    err(
        env.call(
            "POST",
            "/moderation/ban",
            Auth::Server,
            Some(json!({"target_user_id": "bob"})),
        ),
        400,
        4,
    );
    err(
        env.call(
            "POST",
            "/moderation/ban",
            Auth::User("alice"),
            Some(json!({"target_user_id": "bob", "type": "messaging"})),
        ),
        400,
        4,
    );
    err(
        env.call("DELETE", "/moderation/ban", Auth::Server, None),
        400,
        4,
    );
    err(
        env.call(
            "POST",
            "/moderation/mute",
            Auth::User("alice"),
            Some(json!({})),
        ),
        400,
        4,
    );
    err(
        env.call(
            "POST",
            "/moderation/mute/channel",
            Auth::User("alice"),
            Some(json!({"channel_cid": "nocolon"})),
        ),
        400,
        4,
    );
    err(
        env.call(
            "POST",
            "/moderation/mute/channel",
            Auth::User("alice"),
            Some(json!({"channel_cid": "messaging:bad", "expiration": -1})),
        ),
        400,
        4,
    );
    err(
        env.call(
            "POST",
            "/moderation/flag",
            Auth::User("alice"),
            Some(json!({"target_message_id": "m", "target_user_id": "bob"})),
        ),
        400,
        4,
    );
    err(env.call("GET", "/unread", Auth::Server, None), 400, 4);
    err(
        env.call(
            "POST",
            "/channels/messaging/bad/unread",
            Auth::User("bob"),
            Some(json!({})),
        ),
        400,
        4,
    );
    err(
        env.call(
            "POST",
            "/channels/messaging/bad/unread",
            Auth::User("bob"),
            Some(json!({"thread_id": "t"})),
        ),
        400,
        4,
    );
    err(
        env.call(
            "DELETE",
            "/channels/messaging/bad?hard_delete=maybe",
            Auth::Server,
            None,
        ),
        400,
        4,
    );
    err(
        env.call(
            "POST",
            "/users/block",
            Auth::Anonymous,
            Some(json!({"blocked_user_id": "bob"})),
        ),
        403,
        17,
    );
}

#[test]
fn turning_invisible_while_online_looks_like_going_offline() {
    let env = Env::start();
    env.upsert(&["alice", "bob"]);
    env.create_channel("messaging:p", "alice", &["alice", "bob"]);
    let (mut alice, hello) = env.connect("alice");
    let conn = hello["connection_id"].as_str().unwrap().to_owned();
    ok(env.call(
        "POST",
        &format!("/channels/messaging/p/query?connection_id={conn}"),
        Auth::User("alice"),
        Some(json!({"presence": true, "state": true})),
    ));
    let (_bob, _) = env.connect("bob");
    let e = alice.next_event("user.presence.changed");
    assert_eq!(
        (e["user"]["id"].as_str(), e["user"]["online"].as_bool()),
        (Some("bob"), Some(true))
    );
    assert!(e["user"]["last_active"].is_string());
    ok(env.call(
        "PATCH",
        "/users",
        Auth::User("bob"),
        Some(json!({"users": [{"id": "bob", "set": {"invisible": true}}]})),
    ));
    let e = alice.next_event("user.presence.changed");
    assert_eq!(
        (e["user"]["id"].as_str(), e["user"]["online"].as_bool()),
        (Some("bob"), Some(false))
    );
    let users = ok(env.call(
        "GET",
        &format!(
            "/users?payload={}",
            encode(r#"{"filter_conditions":{"id":"bob"}}"#)
        ),
        Auth::User("alice"),
        None,
    ));
    assert_eq!(users["users"][0]["online"], false);
}
