//! Every channel call over real sockets against the local server: channel()/channel_cid()
//! validation, watch, query with pagination, create, send_message, stop_watching,
//! mark_read, query_channels, and the typed events they cause.

use crate::support::*;
use serde_json::json;
use stream_chat_client::{
    ChatClient, ChatEvent, ErrorKind, Message, MessagePagination, MessageReadEvent,
    NewMessageEvent, NotificationMessageNewEvent, QueryChannelRequest, QueryChannelsRequest,
    SortParam, UserStartWatchingEvent, UserStopWatchingEvent,
};

#[test]
fn channel_types_ids_and_cids_are_validated_with_typed_errors() {
    let client = ChatClient::builder("key").build().unwrap();
    let ok = client.channel("messaging", "general").unwrap();
    assert_eq!(
        (ok.cid(), ok.channel_type(), ok.channel_id()),
        ("messaging:general", "messaging", "general")
    );
    let distinct = client.channel_cid("messaging:!members-a_b-1").unwrap();
    assert_eq!(distinct.channel_id(), "!members-a_b-1");
    for (t, id) in [
        ("", "x"),
        ("messaging", ""),
        ("mess aging", "x"),
        ("messaging", "a:b"),
        ("messaging", "a/b"),
        ("type!", "x"),
    ] {
        let err = client.channel(t, id).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidArgument,
            "{t:?} {id:?}: {err}"
        );
    }
    for cid in [
        "",
        "general",
        "messaging:",
        ":general",
        "a:b:c",
        "bad type:x",
    ] {
        let err = client.channel_cid(cid).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{cid:?}: {err}");
    }
    assert!(
        client
            .channel_cid("general")
            .unwrap_err()
            .message()
            .contains("channelType:channelId")
    );
}

#[test]
fn watch_returns_the_state_and_delivers_the_channels_events() {
    let server = server();
    let bender = connected(&server, "bender");
    let fry = connected(&server, "fry");
    let channel = bender.channel("livestream", "demo").unwrap();
    let starts = Events::<UserStartWatchingEvent>::on(&channel);
    let state = channel.watch().execute().into_result().unwrap();
    assert_eq!(state.channel.cid, "livestream:demo");
    assert_eq!(state.channel.created_by.as_ref().unwrap().id, "bender");
    assert!(state.messages.is_empty());
    assert_eq!(state.watcher_count, 1);
    let caps = state.channel.own_capabilities.clone().unwrap();
    assert!(caps.iter().any(|c| c == "send-message"), "{caps:?}");
    // Livestream channels are large: no connect events (user.watching.*) there.
    assert!(!state.channel.config.as_ref().unwrap().connect_events);
    assert!(!caps.iter().any(|c| c == "connect-events"), "{caps:?}");

    let fry_channel = fry.channel_cid("livestream:demo").unwrap();
    let fry_state = fry_channel.watch().execute().into_result().unwrap();
    assert_eq!(fry_state.watcher_count, 2);

    let bender_msgs = Events::<NewMessageEvent>::on(&channel);
    let fry_msgs = Events::<NewMessageEvent>::of(&fry);
    let sent = fry_channel
        .send_message(Message::with_text("Good news, everyone!"))
        .execute()
        .into_result()
        .unwrap();
    for event in [bender_msgs.next(), fry_msgs.next()] {
        assert_eq!(event.cid, "livestream:demo");
        assert_eq!(
            (event.channel_type.as_str(), event.channel_id.as_str()),
            ("livestream", "demo")
        );
        assert_eq!(event.message.id, sent.id);
        assert_eq!(event.message.text.as_deref(), Some("Good news, everyone!"));
        assert_eq!(event.user.as_ref().unwrap().id, "fry");
        assert_eq!(event.watcher_count, Some(2));
        assert!(!event.recovered);
    }
    // Events arrive in order: no user.watching.start came before the message.
    assert_eq!(starts.received().len(), 0);
}

#[test]
fn query_paginates_messages_and_can_watch() {
    let server = server();
    let bender = connected(&server, "bender");
    let channel = bender.channel("livestream", "pages").unwrap();
    channel
        .create(Vec::<String>::new())
        .execute()
        .into_result()
        .unwrap();
    for i in 0..6 {
        let message = Message {
            id: format!("p-{i}"),
            ..Message::with_text(format!("message {i}"))
        };
        channel
            .send_message(message)
            .execute()
            .into_result()
            .unwrap();
    }
    let page = |pagination: MessagePagination| -> Vec<String> {
        let state = channel
            .query(QueryChannelRequest {
                state: Some(true),
                messages: Some(pagination),
                ..QueryChannelRequest::default()
            })
            .execute()
            .into_result()
            .unwrap();
        state.messages.into_iter().map(|m| m.id).collect()
    };
    let limit = Some(2);
    assert_eq!(
        page(MessagePagination {
            limit,
            ..Default::default()
        }),
        ["p-4", "p-5"]
    );
    assert_eq!(
        page(MessagePagination {
            limit,
            id_lt: Some("p-4".into()),
            ..Default::default()
        }),
        ["p-2", "p-3"]
    );
    assert_eq!(
        page(MessagePagination {
            limit,
            id_gt: Some("p-1".into()),
            ..Default::default()
        }),
        ["p-2", "p-3"]
    );
    assert_eq!(
        page(MessagePagination {
            limit: Some(3),
            id_around: Some("p-3".into()),
            ..Default::default()
        }),
        ["p-2", "p-3", "p-4"]
    );

    // query(watch: true) subscribes this connection like watch().
    let fry = connected(&server, "fry");
    let fry_channel = fry.channel_cid("livestream:pages").unwrap();
    let events = Events::<NewMessageEvent>::on(&fry_channel);
    let state = fry_channel
        .query(QueryChannelRequest {
            watch: Some(true),
            state: Some(true),
            messages: Some(MessagePagination {
                limit: Some(1),
                ..Default::default()
            }),
            ..QueryChannelRequest::default()
        })
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(state.messages.len(), 1);
    channel
        .send_message(Message::with_text("after the watch"))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        events.next().message.text.as_deref(),
        Some("after the watch")
    );
}

#[test]
fn create_makes_a_channel_with_members_and_custom_data() {
    let server = server();
    let bender = connected(&server, "bender");
    let mut data = serde_json::Map::new();
    data.insert("name".into(), json!("Planet Express"));
    data.insert("rank".into(), json!(7));
    let state = bender
        .channel("messaging", "planet-express")
        .unwrap()
        .create_with_data(["bender", "fry"], data)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(state.channel.cid, "messaging:planet-express");
    assert_eq!(state.channel.extra["name"], "Planet Express");
    assert_eq!(state.channel.extra["rank"], 7);
    let mut members: Vec<_> = state
        .members
        .iter()
        .map(|m| (m.user_id.clone().unwrap(), m.role.clone().unwrap()))
        .collect();
    members.sort();
    assert_eq!(
        members,
        [
            ("bender".to_owned(), "owner".to_owned()),
            ("fry".to_owned(), "member".to_owned())
        ]
    );
    assert_eq!(
        state.membership.and_then(|m| m.user_id).as_deref(),
        Some("bender")
    );
    // A member reads it; the read states are listed.
    let fry = connected(&server, "fry");
    let seen = fry
        .channel_cid("messaging:planet-express")
        .unwrap()
        .watch()
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(seen.channel.member_count, Some(2));
    assert_eq!(seen.read.len(), 2);
    // create() on an existing channel is a read.
    let again = bender
        .channel("messaging", "planet-express")
        .unwrap()
        .create(["bender"])
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(again.members.len(), 2);
}

#[test]
fn send_message_keeps_custom_fields_and_ids_and_is_idempotent() {
    let server = server();
    let bender = connected(&server, "bender");
    let channel = bender.channel("livestream", "send").unwrap();
    channel.watch().execute().into_result().unwrap();

    let mut message = Message::with_text("Bite my shiny metal ass");
    message.extra.insert("mood".into(), json!("sarcastic"));
    message
        .extra
        .insert("score".into(), json!({"shiny": true, "metal": 100}));
    let sent = channel
        .send_message(message)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(sent.id.len(), 36, "a UUID was generated: {}", sent.id);
    assert_eq!(sent.extra["mood"], "sarcastic");
    assert_eq!(sent.extra["score"]["metal"], 100);
    assert_eq!(sent.user.as_ref().unwrap().id, "bender");
    assert_eq!(sent.cid.as_deref(), Some("livestream:send"));

    let own = Message {
        id: "bender-own-id".into(),
        ..Message::with_text("mine")
    };
    let stored = channel
        .send_message(own.clone())
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(stored.id, "bender-own-id");
    // Sending the same id again (what a retry does) cannot post a second copy.
    let err = channel
        .send_message(own)
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(
        (err.stream_code(), err.status_code()),
        (Some(4), Some(400)),
        "{err}"
    );
    let state = channel.watch().execute().into_result().unwrap();
    let copies = state
        .messages
        .iter()
        .filter(|m| m.id == "bender-own-id")
        .count();
    assert_eq!(copies, 1);

    // Bad input comes back typed, with the server's message.
    let err = channel
        .send_message(Message::with_text("   "))
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.stream_code(), Some(4), "{err}");
    let err = channel
        .send_message(Message::with_text("x".repeat(5001)))
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(
        (err.stream_code(), err.status_code()),
        (Some(20), Some(400)),
        "{err}"
    );
    let err = bender
        .channel("nosuchtype", "x")
        .unwrap()
        .send_message(Message::with_text("hi"))
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(
        (err.stream_code(), err.status_code()),
        (Some(16), Some(404)),
        "{err}"
    );
}

#[test]
fn stop_watching_ends_the_channels_events_and_tells_the_others() {
    let server = server();
    let bender = connected(&server, "bender");
    let fry = connected(&server, "fry");
    // Messaging tells the others (livestream has connect events off).
    let a = bender.channel("messaging", "a").unwrap();
    a.create(["bender", "fry"]).execute().into_result().unwrap();
    let b = bender.channel("livestream", "b").unwrap();
    a.watch().execute().into_result().unwrap();
    b.watch().execute().into_result().unwrap();
    let starts = Events::<UserStartWatchingEvent>::on(&a);
    let fry_a = fry.channel_cid("messaging:a").unwrap();
    let fry_b = fry.channel_cid("livestream:b").unwrap();
    fry_a.watch().execute().into_result().unwrap();
    // The local server also tells a watcher about its own start; look for fry's.
    let start = loop {
        let e = starts.next();
        if e.user.as_ref().is_some_and(|u| u.id == "fry") {
            break e;
        }
    };
    assert_eq!(start.cid, "messaging:a");
    assert_eq!(start.watcher_count, Some(2));
    let stops = Events::<UserStopWatchingEvent>::on(&fry_a);
    let bender_msgs = Events::<NewMessageEvent>::of(&bender);

    a.stop_watching().execute().into_result().unwrap();
    let stop = stops.next();
    assert_eq!(stop.user.unwrap().id, "bender");
    assert_eq!(stop.watcher_count, Some(1));

    // Posted in a, then in b: b's arrives, a's never did (one connection, in order).
    fry_a
        .send_message(Message::with_text("in a"))
        .execute()
        .into_result()
        .unwrap();
    fry_b
        .send_message(Message::with_text("in b"))
        .execute()
        .into_result()
        .unwrap();
    let first = bender_msgs.next();
    assert_eq!(
        (first.cid.as_str(), first.message.text.as_deref()),
        ("livestream:b", Some("in b"))
    );
}

#[test]
fn mark_read_reaches_the_watchers_as_message_read() {
    let server = server();
    let bender = connected(&server, "bender");
    let fry = connected(&server, "fry");
    let channel = bender.channel("messaging", "read").unwrap();
    channel
        .create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    let fry_channel = fry.channel_cid("messaging:read").unwrap();
    fry_channel.watch().execute().into_result().unwrap();
    let reads = Events::<MessageReadEvent>::of(&fry);
    let sent = fry_channel
        .send_message(Message::with_text("read me"))
        .execute()
        .into_result()
        .unwrap();
    channel.mark_read().execute().into_result().unwrap();
    let read = reads.next();
    assert_eq!(read.cid, "messaging:read");
    assert_eq!(read.user.unwrap().id, "bender");
    assert_eq!(read.last_read_message_id.as_deref(), Some(sent.id.as_str()));
    let state = fry_channel
        .query(QueryChannelRequest {
            state: Some(true),
            ..Default::default()
        })
        .execute()
        .into_result()
        .unwrap();
    let bender_read = state.read.iter().find(|r| r.user.id == "bender").unwrap();
    assert_eq!(bender_read.unread_messages, 0);
}

#[test]
fn members_who_do_not_watch_get_notification_message_new() {
    let server = server();
    let bender = connected(&server, "bender");
    let fry = connected(&server, "fry");
    let notifications = Events::<NotificationMessageNewEvent>::of(&fry);
    let channel = bender.channel("messaging", "notify").unwrap();
    channel
        .create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    channel
        .send_message(Message::with_text("psst"))
        .execute()
        .into_result()
        .unwrap();
    let n = notifications.next();
    assert_eq!(n.cid, "messaging:notify");
    assert_eq!(n.message.text.as_deref(), Some("psst"));
    assert_eq!(n.channel.unwrap().cid, "messaging:notify");
    assert_eq!(n.total_unread_count, Some(1));
}

#[test]
fn query_channels_filters_sorts_pages_and_watches() {
    let server = server();
    let bender = connected(&server, "bender");
    for (id, rank) in [("c1", 1), ("c2", 3), ("c3", 2), ("c4", 4)] {
        let mut data = serde_json::Map::new();
        data.insert("rank".into(), json!(rank));
        bender
            .channel("messaging", id)
            .unwrap()
            .create_with_data(["bender", "fry"], data)
            .execute()
            .into_result()
            .unwrap();
    }
    bender
        .channel("messaging", "other")
        .unwrap()
        .create(["bender"])
        .execute()
        .into_result()
        .unwrap();

    let fry = connected(&server, "fry");
    let mut request = QueryChannelsRequest {
        sort: vec![SortParam {
            field: "rank".into(),
            direction: -1,
        }],
        limit: Some(2),
        offset: Some(1),
        watch: Some(true),
        ..Default::default()
    };
    request
        .filter_conditions
        .insert("members".into(), json!({"$in": ["fry"]}));
    let channels = fry.query_channels(request).execute().into_result().unwrap();
    let cids: Vec<_> = channels.iter().map(|c| c.channel.cid.as_str()).collect();
    assert_eq!(cids, ["messaging:c2", "messaging:c3"]);

    // The returned channels are watched; the others are not.
    let msgs = Events::<NewMessageEvent>::of(&fry);
    for id in ["c4", "c2"] {
        bender
            .channel("messaging", id)
            .unwrap()
            .send_message(Message::with_text(format!("in {id}")))
            .execute()
            .into_result()
            .unwrap();
    }
    assert_eq!(msgs.next().cid, "messaging:c2");

    // Without watch, no connection is needed: a filter on cid, default sort.
    let mut request = QueryChannelsRequest::default();
    request.filter_conditions.insert(
        "cid".into(),
        json!({"$in": ["messaging:c1", "messaging:other"]}),
    );
    let channels = bender
        .query_channels(request)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(channels.len(), 2);
    // An unsupported operator is the server's typed input error.
    let mut request = QueryChannelsRequest::default();
    request
        .filter_conditions
        .insert("cid".into(), json!({"$regex": "c.*"}));
    let err = bender
        .query_channels(request)
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.stream_code(), Some(4), "{err}");
}

#[test]
fn channel_subscribe_sees_only_its_channel() {
    let server = server();
    let bender = connected(&server, "bender");
    let a = bender.channel("livestream", "sub-a").unwrap();
    let b = bender.channel("livestream", "sub-b").unwrap();
    a.watch().execute().into_result().unwrap();
    b.watch().execute().into_result().unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    let _sub = a.subscribe(move |e| {
        let _ = tx.send(e.clone());
    });
    let all = Events::<NewMessageEvent>::of(&bender);
    for (channel, text) in [(&b, "b1"), (&a, "a1"), (&b, "b2"), (&a, "a2")] {
        channel
            .send_message(Message::with_text(text))
            .execute()
            .into_result()
            .unwrap();
    }
    assert_eq!(texts(&all.take(4)), ["b1", "a1", "b2", "a2"]);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match rx.recv_timeout(WAIT).expect("a's events") {
            ChatEvent::MessageNew(e) => seen.push(e.message.text.clone().unwrap()),
            other => assert_eq!(other.cid(), Some("livestream:sub-a"), "{other:?}"),
        }
    }
    assert_eq!(seen, ["a1", "a2"]);
    // Everything the listener got so far belongs to a.
    for e in rx.try_iter() {
        assert_eq!(e.cid(), Some("livestream:sub-a"), "{e:?}");
    }
}

#[test]
fn every_channel_call_calls_back_exactly_once_when_enqueued() {
    let server = server();
    let bender = connected(&server, "bender");
    let channel = bender.channel("messaging", "once").unwrap();
    fn ok<T>(r: stream_chat_client::ChatResult<T>) -> T {
        r.into_result().unwrap()
    }
    let state = ok(enqueue_and_wait(&channel.create(["bender", "fry"])));
    assert_eq!(state.members.len(), 2);
    ok(enqueue_and_wait(&channel.watch()));
    let sent = ok(enqueue_and_wait(
        &channel.send_message(Message::with_text("once")),
    ));
    assert_eq!(sent.text.as_deref(), Some("once"));
    ok(enqueue_and_wait(
        &channel.query(QueryChannelRequest::default()),
    ));
    ok(enqueue_and_wait(&channel.mark_read()));
    ok(enqueue_and_wait(&channel.stop_watching()));
    let channels = ok(enqueue_and_wait(
        &bender.query_channels(QueryChannelsRequest::default()),
    ));
    assert_eq!(channels.len(), 1);
    // Failures call back once too.
    let err = enqueue_and_wait(&bender.channel("nosuch", "x").unwrap().watch())
        .into_result()
        .unwrap_err();
    assert_eq!(err.stream_code(), Some(16), "{err}");
}
