//! Messages and channels as queries see them: client-chosen message ids, message and
//! channel paging, `queryChannels` filters and sorts, and the default page sizes.

use serde_json::{Value, json};

use crate::support::*;

#[test]
fn client_message_ids_are_kept_and_duplicates_refused() {
    let env = Env::start();
    let body = json!({"message": {"id": "client-generated-1", "text": "hi", "mood": "happy"}});
    let (status, sent) = env.call(
        "POST",
        "/channels/livestream/l/message",
        Auth::User("alice"),
        Some(body.clone()),
    );
    assert_eq!(status, 404, "the channel does not exist yet: {sent}");
    env.query_channel(Auth::User("alice"), "livestream:l", None);
    let (status, sent) = env.call(
        "POST",
        "/channels/livestream/l/message",
        Auth::User("alice"),
        Some(body.clone()),
    );
    assert_eq!(status, 200, "{sent}");
    let m = &sent["message"];
    assert_eq!(m["id"], "client-generated-1");
    assert_eq!(m["type"], "regular");
    assert_eq!(m["mood"], "happy");
    assert_eq!(m["attachments"], json!([]));
    assert_eq!(m["latest_reactions"], json!([]));
    let (status, dup) = env.call(
        "POST",
        "/channels/livestream/l/message",
        Auth::User("alice"),
        Some(body),
    );
    assert_eq!((status, dup["code"].as_i64()), (400, Some(4)), "{dup}");
    // A user cannot post as someone else.
    let (status, _) = env.call(
        "POST",
        "/channels/livestream/l/message",
        Auth::User("alice"),
        Some(json!({"message": {"text": "x", "user_id": "bob"}})),
    );
    assert_eq!(status, 403);
}

#[test]
fn message_pagination() {
    let env = Env::start();
    env.query_channel(Auth::User("alice"), "livestream:p", None);
    let ids: Vec<String> = (0..5)
        .map(|i| {
            env.send(Auth::User("alice"), "livestream:p", &format!("m{i}"))
                .1["message"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let page = |messages: Value| {
        let (_, state) = env.query_channel(
            Auth::User("alice"),
            "livestream:p",
            Some(json!({"messages": messages})),
        );
        state["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(page(json!({})), ["m0", "m1", "m2", "m3", "m4"]);
    assert_eq!(page(json!({"limit": 2})), ["m3", "m4"]);
    assert_eq!(page(json!({"limit": 2, "id_lt": ids[3]})), ["m1", "m2"]);
    assert_eq!(page(json!({"limit": 2, "id_gt": ids[0]})), ["m1", "m2"]);
}

#[test]
fn query_channels_filters_sorts_and_pages() {
    let env = Env::start();
    for (id, members) in [
        ("a", ["ann", "ben"]),
        ("b", ["ben", "cat"]),
        ("c", ["cat", "dan"]),
    ] {
        env.create_channel(&format!("messaging:{id}"), members[0], &members);
    }
    for id in ["b", "c", "a"] {
        env.call(
            "POST",
            &format!("/channels/messaging/{id}/message"),
            Auth::Server,
            Some(json!({"message": {"text": id, "user_id": "cat"}})),
        );
    }
    let query = |auth: Auth, body: Value| {
        let (status, res) = env.call("POST", "/channels", auth, Some(body));
        assert_eq!(status, 200, "{res}");
        res["channels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["channel"]["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let by_last = json!([{"field": "last_message_at", "direction": -1}]);
    assert_eq!(
        query(
            Auth::Server,
            json!({"filter_conditions": {"members": {"$in": ["ben"]}}, "sort": by_last})
        ),
        ["a", "b"]
    );
    assert_eq!(
        query(
            Auth::Server,
            json!({"filter_conditions": {"cid": {"$in": ["messaging:a", "messaging:c"]}}, "sort": by_last})
        ),
        ["a", "c"]
    );
    assert_eq!(
        query(
            Auth::Server,
            json!({"filter_conditions": {"type": "messaging"}, "sort": by_last})
        ),
        ["a", "c", "b"]
    );
    assert_eq!(
        query(
            Auth::Server,
            json!({"filter_conditions": {}, "sort": [{"field": "last_message_at", "direction": 1}], "limit": 2, "offset": 1})
        ),
        ["c", "a"]
    );
    assert_eq!(
        query(
            Auth::Server,
            json!({"filter_conditions": {"members": {"$eq": ["dan", "cat"]}}})
        ),
        ["c"]
    );
    // A user only sees channels they may read.
    assert_eq!(
        query(
            Auth::User("dan"),
            json!({"filter_conditions": {"type": "messaging"}})
        ),
        ["c"]
    );
    let (status, body) = env.call(
        "POST",
        "/channels",
        Auth::Server,
        Some(json!({"filter_conditions": {"id": {"$regex": "a"}}})),
    );
    assert_eq!((status, body["code"].as_i64()), (400, Some(4)));
    // Elements carry what clients need.
    let (_, res) = env.call(
        "POST",
        "/channels",
        Auth::Server,
        Some(json!({"filter_conditions": {"cid": "messaging:a"}})),
    );
    let element = &res["channels"][0];
    assert_eq!(element["messages"][0]["text"], "a");
    assert!(
        element["channel"]["config"]["read_events"]
            .as_bool()
            .unwrap()
    );
    assert!(element.get("duration").is_none());
}

#[test]
fn watching_from_query_channels_delivers_events() {
    let env = Env::start();
    env.create_channel("messaging:a", "ann", &["ann", "ben"]);
    let (mut ann, first) = env.connect("ann");
    let conn = first["connection_id"].as_str().unwrap();
    let (status, _) = env.call(
        "POST",
        &format!("/channels?connection_id={conn}"),
        Auth::User("ann"),
        Some(json!({"filter_conditions": {"members": {"$in": ["ann"]}}, "watch": true, "state": true})),
    );
    assert_eq!(status, 200);
    env.send(Auth::User("ben"), "messaging:a", "yo");
    assert_eq!(ann.next_event("message.new")["message"]["text"], "yo");
}

#[test]
fn pagination_follows_channel_order_for_client_ids_and_times() {
    let env = Env::start();
    env.query_channel(Auth::User("ann"), "livestream:uuids", None);
    // Client-generated ids in an order unrelated to their sorting.
    let ids = ["f3c1", "0a9e", "c77d", "19b2", "e004"];
    let mut times = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let (status, sent) = env.call(
            "POST",
            "/channels/livestream/uuids/message",
            Auth::User("ann"),
            Some(json!({"message": {"id": id, "text": format!("t{i}")}})),
        );
        assert_eq!(status, 200, "{sent}");
        times.push(sent["message"]["created_at"].as_str().unwrap().to_owned());
    }
    let page = |messages: Value| {
        let (status, state) = env.query_channel(
            Auth::User("ann"),
            "livestream:uuids",
            Some(json!({"messages": messages})),
        );
        assert_eq!(status, 200, "{state}");
        state["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(page(json!({"limit": 2, "id_lt": "19b2"})), ["0a9e", "c77d"]);
    assert_eq!(page(json!({"limit": 2, "id_gt": "0a9e"})), ["c77d", "19b2"]);
    assert_eq!(
        page(json!({"id_gte": "c77d", "id_lte": "19b2"})),
        ["c77d", "19b2"]
    );
    assert_eq!(
        page(json!({"limit": 2, "created_at_after": times[1]})),
        ["c77d", "19b2"]
    );
    assert_eq!(
        page(json!({"created_at_after_or_equal": times[3]})),
        ["19b2", "e004"]
    );
    assert_eq!(
        page(json!({"limit": 2, "created_at_before": times[2]})),
        ["f3c1", "0a9e"]
    );
    assert_eq!(
        page(json!({"limit": 10, "created_at_before_or_equal": times[1]})),
        ["f3c1", "0a9e"]
    );
    assert_eq!(
        page(json!({"limit": 3, "created_at_around": times[2]})),
        ["0a9e", "c77d", "19b2"]
    );
    for bad in [json!("last tuesday"), json!(12)] {
        let (status, body) = env.query_channel(
            Auth::User("ann"),
            "livestream:uuids",
            Some(json!({"messages": {"created_at_after": bad}})),
        );
        assert_eq!((status, body["code"].as_i64()), (400, Some(4)), "{body}");
    }
}

#[test]
fn default_page_sizes_are_the_ones_the_js_client_assumes() {
    // 120 messages from one user in a moment: over Stream's 60 a minute.
    let env = Env::with(
        stream_chat_server::Server::builder().rate_limits(stream_chat_server::RateLimits::off()),
    );
    env.query_channel(Auth::User("ann"), "livestream:long", None);
    for i in 0..120 {
        let (status, body) = env.send(Auth::User("ann"), "livestream:long", &format!("n{i}"));
        assert_eq!(status, 200, "{body}");
    }
    let (_, state) = env.query_channel(
        Auth::User("ann"),
        "livestream:long",
        Some(json!({"state": true})),
    );
    let messages = state["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 100, "channel query: 100");
    assert_eq!(messages[99]["text"], "n119", "the newest, oldest first");
    let (_, found) = env.call(
        "POST",
        "/channels",
        Auth::User("ann"),
        Some(json!({"filter_conditions": {"cid": "livestream:long"}})),
    );
    assert_eq!(
        found["channels"][0]["messages"].as_array().unwrap().len(),
        25,
        "queryChannels: 25"
    );
}
