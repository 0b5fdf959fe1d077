//! Teams under `--multi-tenant` (issue 15): users see and touch only channels and users of
//! their teams; code 17 otherwise; no event crosses teams.

use serde_json::{Value, json};
use stream_chat_server::Server;

use crate::api::uploads::{PNG, form, upload};
use crate::support::*;

/// A multi-tenant server with `blue1`, `blue2` (team blue), `red1` (team red), `nobody` (no
/// team) and the channels `livestream:blue-room` (team blue) and `livestream:red-room` (team
/// red), each with a message.
fn teams() -> Env {
    let env = Env::with(Server::builder().multi_tenant(true));
    let users = json!({"users": {
        "blue1": {"id": "blue1", "teams": ["blue"]},
        "blue2": {"id": "blue2", "teams": ["blue"]},
        "red1": {"id": "red1", "teams": ["red"]},
        "nobody": {"id": "nobody"},
    }});
    let (status, body) = env.call("POST", "/users", Auth::Server, Some(users));
    assert_eq!(status, 200, "{body}");
    for (cid, team, members, creator) in [
        (
            "livestream:blue-room",
            "blue",
            vec!["blue1", "blue2"],
            "blue1",
        ),
        ("livestream:red-room", "red", vec!["red1"], "red1"),
    ] {
        let data = json!({"data": {"team": team, "members": members, "created_by_id": creator}});
        let (status, body) = env.query_channel(Auth::Server, cid, Some(data));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["channel"]["team"], team, "{body}");
        let (kind, id) = cid.split_once(':').unwrap();
        let message =
            json!({"message": {"id": format!("{id}-m"), "text": "hello", "user_id": creator}});
        let (status, body) = env.call(
            "POST",
            &format!("/channels/{kind}/{id}/message"),
            Auth::Server,
            Some(message),
        );
        assert_eq!(status, 200, "{body}");
    }
    env
}

fn forbidden((status, body): (u16, Value)) {
    assert_eq!((status, body["code"].as_i64()), (403, Some(17)), "{body}");
}

#[test]
fn a_user_cannot_touch_a_channel_of_another_team_on_any_route() {
    let env = teams();
    let blue = Auth::User("blue1");
    let red = "/channels/livestream/red-room";
    forbidden(env.query_channel(blue, "livestream:red-room", None));
    forbidden(env.call(
        "POST",
        &format!("{red}/message"),
        blue,
        Some(json!({"message": {"text": "hi"}})),
    ));
    forbidden(env.call("GET", "/messages/red-room-m", blue, None));
    forbidden(env.call(
        "POST",
        "/messages/red-room-m",
        blue,
        Some(json!({"message": {"text": "x"}})),
    ));
    forbidden(env.call("DELETE", "/messages/red-room-m", blue, None));
    forbidden(env.call("POST", &format!("{red}/read"), blue, None));
    forbidden(env.call(
        "POST",
        &format!("{red}/event"),
        blue,
        Some(json!({"event": {"type": "typing.start"}})),
    ));
    forbidden(env.call(
        "POST",
        red,
        blue,
        Some(json!({"data": {"name": "mine now"}})),
    ));
    forbidden(env.call(
        "PATCH",
        red,
        blue,
        Some(json!({"set": {"name": "mine now"}})),
    ));
    forbidden(env.call("DELETE", red, blue, None));
    forbidden(env.call("POST", &format!("{red}/truncate"), blue, None));
    forbidden(env.call("POST", &format!("{red}/hide"), blue, None));
    forbidden(env.call(
        "POST",
        "/moderation/mute/channel",
        blue,
        Some(json!({"channel_cid": "livestream:red-room"})),
    ));
    forbidden(env.call(
        "POST",
        "/moderation/flag",
        blue,
        Some(json!({"target_message_id": "red-room-m"})),
    ));
    // Reactions, replies, pins, threads, search (issue 9's routes).
    forbidden(env.call(
        "POST",
        "/messages/red-room-m/reaction",
        blue,
        Some(json!({"reaction": {"type": "like"}})),
    ));
    forbidden(env.call("DELETE", "/messages/red-room-m/reaction/like", blue, None));
    forbidden(env.call("GET", "/messages/red-room-m/reactions", blue, None));
    forbidden(env.call("GET", "/messages/red-room-m/replies", blue, None));
    forbidden(env.call(
        "PUT",
        "/messages/red-room-m",
        blue,
        Some(json!({"set": {"pinned": true}})),
    ));
    forbidden(env.call("GET", "/threads/red-room-m", blue, None));
    forbidden(env.call(
        "POST",
        &format!("{red}/message"),
        blue,
        Some(json!({"message": {"text": "reply", "parent_id": "red-room-m"}})),
    ));
    let search = json!({"filter_conditions": {"type": "livestream"}, "query": "hello"}).to_string();
    let (status, body) = env.call(
        "GET",
        &format!("/search?payload={}", encode(&search)),
        blue,
        None,
    );
    assert_eq!(status, 200, "{body}");
    let found: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["blue-room-m"], "search sees only team blue: {body}");
    let (status, body) = env.call("POST", "/threads", blue, Some(json!({})));
    assert_eq!(status, 200, "{body}");
    // Users of another team cannot be acted on either, though their id is known.
    for (path, body) in [
        ("/moderation/mute", json!({"target_id": "red1"})),
        ("/users/block", json!({"blocked_user_id": "red1"})),
        ("/moderation/flag", json!({"target_user_id": "red1"})),
    ] {
        forbidden(env.call("POST", path, blue, Some(body)));
    }
    let (status, body) = env.call(
        "POST",
        "/moderation/mute",
        blue,
        Some(json!({"target_id": "blue2"})),
    );
    assert_eq!(status, 200, "{body}");
    let members =
        json!({"type": "livestream", "id": "red-room", "filter_conditions": {}}).to_string();
    forbidden(env.call(
        "GET",
        &format!("/members?payload={}", encode(&members)),
        blue,
        None,
    ));
    // A user of no team reaches neither team's channels.
    forbidden(env.query_channel(Auth::User("nobody"), "livestream:blue-room", None));
    // Its own team's channel is fine, and nothing of the red one changed.
    let (status, body) = env.query_channel(blue, "livestream:blue-room", None);
    assert_eq!(status, 200, "{body}");
    let (_, red_state) = env.query_channel(Auth::Server, "livestream:red-room", None);
    assert_eq!(
        red_state["messages"].as_array().unwrap().len(),
        1,
        "{red_state}"
    );
    assert!(red_state["channel"].get("name").is_none(), "{red_state}");
}

#[test]
fn uploads_stay_within_a_team() {
    let env = teams();
    let moderators =
        json!({"users": {"red-mod": {"id": "red-mod", "role": "moderator", "teams": ["red"]}}});
    let (status, body) = env.call("POST", "/users", Auth::Server, Some(moderators));
    assert_eq!(status, 200, "{body}");
    let png = || form("dot.png", Some("image/png"), PNG, None);
    let blue = Auth::User("blue1");
    forbidden(upload(&env, blue, "livestream:red-room", "image", png()));
    forbidden(upload(&env, blue, "livestream:red-room", "file", png()));
    let (status, body) = upload(&env, blue, "livestream:blue-room", "image", png());
    assert_eq!(status, 200, "{body}");
    let url = body["file"].as_str().expect("a file URL").to_owned();
    // A moderator may delete anyone's file, but only in a channel of their teams (admins,
    // with Stream's `*-any-team` grants, are not restricted).
    let delete = format!("/channels/livestream/blue-room/image?url={}", encode(&url));
    forbidden(env.call("DELETE", &delete, Auth::User("red-mod"), None));
    let (status, body) = env.call("DELETE", &delete, blue, None);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn queries_list_only_the_callers_teams() {
    let env = teams();
    let (status, body) = env.call(
        "POST",
        "/channels",
        Auth::User("blue1"),
        Some(json!({"filter_conditions": {}})),
    );
    assert_eq!(status, 200, "{body}");
    let cids: Vec<&str> = body["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["channel"]["cid"].as_str().unwrap())
        .collect();
    assert_eq!(cids, ["livestream:blue-room"]);
    let users =
        json!({"filter_conditions": {}, "sort": [{"field": "id", "direction": 1}]}).to_string();
    let (status, body) = env.call(
        "GET",
        &format!("/users?payload={}", encode(&users)),
        Auth::User("blue1"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> = body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["blue1", "blue2"]);
    // The server sees everyone.
    let (_, body) = env.call(
        "GET",
        &format!("/users?payload={}", encode(&users)),
        Auth::Server,
        None,
    );
    assert_eq!(body["users"].as_array().unwrap().len(), 4, "{body}");
}

#[test]
fn channels_and_members_stay_within_a_team() {
    let env = teams();
    // Creating a channel for another team, or for no team, is refused; for one's own it works.
    forbidden(env.query_channel(
        Auth::User("blue1"),
        "livestream:sneaky",
        Some(json!({"data": {"team": "red"}})),
    ));
    forbidden(env.query_channel(Auth::User("blue1"), "livestream:teamless", None));
    let (status, body) = env.query_channel(
        Auth::User("blue1"),
        "livestream:blue-2",
        Some(json!({"data": {"team": "blue", "members": ["blue1", "blue2"]}})),
    );
    assert_eq!(status, 200, "{body}");
    // A member from another team is refused, at creation and when added.
    forbidden(env.query_channel(
        Auth::User("blue1"),
        "livestream:mixed",
        Some(json!({"data": {"team": "blue", "members": ["blue1", "red1"]}})),
    ));
    forbidden(env.call(
        "POST",
        "/channels/livestream/blue-room",
        Auth::User("blue1"),
        Some(json!({"add_members": ["red1"]})),
    ));
    forbidden(env.call(
        "POST",
        "/channels/livestream/blue-room",
        Auth::Server,
        Some(json!({"add_members": ["red1"]})),
    ));
}

#[test]
fn no_event_crosses_teams() {
    let env = teams();
    let (mut blue, b) = env.connect("blue1");
    let (mut red, r) = env.connect("red1");
    // Watching the other team's channel is refused, so each watches its own.
    forbidden(env.watch(
        Auth::User("blue1"),
        "livestream:red-room",
        b["connection_id"].as_str().unwrap(),
    ));
    let (status, _) = env.watch(
        Auth::User("blue1"),
        "livestream:blue-room",
        b["connection_id"].as_str().unwrap(),
    );
    assert_eq!(status, 200);
    let (status, _) = env.watch(
        Auth::User("red1"),
        "livestream:red-room",
        r["connection_id"].as_str().unwrap(),
    );
    assert_eq!(status, 200);
    // Red talks, then blue: blue hears only blue, red only red.
    env.send(Auth::User("red1"), "livestream:red-room", "red secret");
    env.send(Auth::User("blue2"), "livestream:blue-room", "blue marker");
    env.send(Auth::User("red1"), "livestream:red-room", "red marker");
    for frame in frames_until_marker(&mut blue, "blue marker") {
        assert_ne!(frame["cid"], "livestream:red-room", "{frame}");
        assert!(!frame.to_string().contains("red secret"), "{frame}");
    }
    for frame in frames_until_marker(&mut red, "red marker") {
        assert_ne!(frame["cid"], "livestream:blue-room", "{frame}");
        assert!(!frame.to_string().contains("blue marker"), "{frame}");
    }
}

#[test]
fn without_multi_tenancy_teams_do_not_restrict() {
    let env = Env::start();
    env.call(
        "POST",
        "/users",
        Auth::Server,
        Some(json!({"users": {"red1": {"id": "red1", "teams": ["red"]}}})),
    );
    let data = json!({"data": {"team": "blue", "created_by_id": "x"}});
    let (status, _) = env.query_channel(Auth::Server, "livestream:blue-room", Some(data));
    assert_eq!(status, 200);
    let (status, body) = env.query_channel(Auth::User("red1"), "livestream:blue-room", None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["channel"]["team"], "blue");
}
