//! Typed events against the samples of the protocol reference (§2.2, §2.5, §6.10): each
//! decodes into its struct, in one pass and by every path alike, and serializes back to
//! the same JSON; unknown and malformed frames are kept whole.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use stream_chat_protocol::events::{AnyEvent, ChannelEvent, types};
use stream_chat_protocol::*;

/// Decodes `sample` by every path (text, value, `Deserialize`, the struct itself), checks
/// they agree and that it serializes back to `sample`, and returns the event.
fn typed<T>(sample: Value) -> AnyEvent
where
    T: DeserializeOwned + Serialize + Into<AnyEvent> + PartialEq + std::fmt::Debug,
{
    let text = sample.to_string();
    let event = AnyEvent::from_json(&text).expect("decodes");
    assert_eq!(AnyEvent::from_value(sample.clone()).unwrap(), event);
    assert_eq!(serde_json::from_str::<AnyEvent>(&text).unwrap(), event);
    let direct: T = serde_json::from_str(&text).expect("decodes as its struct");
    assert_eq!(direct.into(), event);
    assert_eq!(serde_json::to_value(&event).unwrap(), sample, "round trip");
    event
}

fn message() -> Value {
    json!({"id":"m1","text":"Test","type":"regular","user":{"id":"luke","name":"Luke"},
        "attachments":[],"latest_reactions":[],"cid":"messaging:general",
        "created_at":"2025-08-01T00:00:00.504563511Z","updated_at":"2025-08-01T00:00:00.504563511Z"})
}

fn channel() -> Value {
    json!({"id":"general","type":"messaging","cid":"messaging:general","member_count":2,"frozen":false})
}

#[test]
fn connected_health_check_of_the_reference() {
    let frame = json!({
        "type": "health.check",
        "connection_id": "68893fd3-0a15-1cdb-0200-000000001193",
        "cid": "*",
        "created_at": "2025-08-01T00:07:30.504563511Z",
        "me": {"id": "luke_skywalker", "role": "admin", "online": true, "unread_channels": 0,
               "privacy_settings": {"typing_indicators": {"enabled": true}}, "birthland": "Tatooine"}
    });
    let AnyEvent::HealthCheck(e) = typed::<HealthCheckEvent>(frame) else {
        panic!()
    };
    assert!(e.is_connected_event());
    assert_eq!(e.me.unwrap().extra_data["birthland"], "Tatooine");
    // The server's answer to a ping: no `me`.
    let pong = json!({"type":"health.check","connection_id":"c1","cid":"*","created_at":"2025-08-01T00:07:30.504563511Z"});
    let AnyEvent::HealthCheck(e) = typed::<HealthCheckEvent>(pong) else {
        panic!()
    };
    assert!(!e.is_connected_event());
    // The JS client's ping.
    let ping: Vec<AnyEvent> =
        serde_json::from_str(r#"[{"type":"health.check","client_id":"alice--1"}]"#).unwrap();
    assert!(
        matches!(&ping[0], AnyEvent::HealthCheck(p) if p.client_id.as_deref() == Some("alice--1"))
    );
}

#[test]
fn connection_error_of_the_reference() {
    let frame = json!({"type":"connection.error","created_at":"2025-02-17T16:52:12.479337212Z","connection_id":"",
        "error":{"code":40,"message":"JWTAuth error","StatusCode":401,"duration":"","more_info":"","details":[]}});
    let event = typed::<ConnectionErrorEvent>(frame);
    assert_eq!(event.error().map(|e| e.code), Some(codes::TOKEN_EXPIRED));
}

#[test]
fn channel_events_of_the_reference_round_trip() {
    let envelope = |kind: &str| {
        json!({"type": kind, "cid": "messaging:general", "channel_id": "general",
               "channel_type": "messaging", "created_at": "2025-08-01T00:00:00.504563511Z"})
    };
    let with = |kind: &str, fields: Value| {
        let mut v = envelope(kind);
        v.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        v
    };

    let new = with(
        "message.new",
        json!({"message": message(), "user": {"id": "luke"}, "message_id": "m1",
        "watcher_count": 2, "channel_member_count": 3, "unread_count": 1, "total_unread_count": 1,
        "unread_channels": 1, "channel_custom": {"color": "red"}}),
    );
    let AnyEvent::MessageNew(e) = typed::<NewMessageEvent>(new) else {
        panic!()
    };
    assert_eq!(
        (e.message.id.as_str(), e.watcher_count, e.recovered),
        ("m1", Some(2), false)
    );
    assert_eq!(e.channel_member_count, Some(3));
    assert_eq!(e.extra["channel_custom"]["color"], "red");
    assert_eq!(e.cid(), Some("messaging:general"));

    let updated = with(
        "message.updated",
        json!({"message": message(), "user": {"id": "luke"}, "watcher_count": 1}),
    );
    assert!(matches!(
        typed::<MessageUpdatedEvent>(updated),
        AnyEvent::MessageUpdated(_)
    ));
    let deleted = with(
        "message.deleted",
        json!({"message": message(), "hard_delete": true}),
    );
    assert!(matches!(
        typed::<MessageDeletedEvent>(deleted),
        AnyEvent::MessageDeleted(d) if d.hard_delete
    ));
    let read = with(
        "message.read",
        json!({"user": {"id": "luke"}, "last_read_message_id": "m1", "thread": {"parent_message_id": "p"}}),
    );
    let AnyEvent::MessageRead(r) = typed::<MessageReadEvent>(read) else {
        panic!()
    };
    assert_eq!(r.last_read_message_id.as_deref(), Some("m1"));
    assert_eq!(r.thread.map(|t| t.parent_message_id).as_deref(), Some("p"));
    for (kind, stop) in [("user.watching.start", false), ("user.watching.stop", true)] {
        let frame = with(kind, json!({"user": {"id": "leia"}, "watcher_count": 0}));
        let event = if stop {
            typed::<UserStopWatchingEvent>(frame)
        } else {
            typed::<UserStartWatchingEvent>(frame)
        };
        assert_eq!(event.kind(), kind);
    }
    let note = with(
        "notification.message_new",
        json!({"channel": channel(), "message": message(), "total_unread_count": 4,
        "unread_count": 4, "unread_channels": 1}),
    );
    let AnyEvent::NotificationMessageNew(n) = typed::<NotificationMessageNewEvent>(note) else {
        panic!()
    };
    assert_eq!(
        (n.total_unread_count, n.channel.unwrap().frozen),
        (Some(4), Some(false))
    );
    let added = with(
        "notification.added_to_channel",
        json!({"channel": channel(), "member": {"user_id": "leia", "role": "member"}}),
    );
    assert!(matches!(
        typed::<NotificationAddedToChannelEvent>(added),
        AnyEvent::NotificationAddedToChannel(a) if a.member.is_some()
    ));
    // Marked read: one channel, or all of them (no cid).
    let one = with(
        "notification.mark_read",
        json!({"user": {"id": "luke"}, "total_unread_count": 0, "unread_channels": 0, "unread_count": 0}),
    );
    assert!(matches!(
        typed::<NotificationMarkReadEvent>(one),
        AnyEvent::NotificationMarkRead(m) if m.cid.as_deref() == Some("messaging:general")
    ));
    let all =
        json!({"type": "notification.mark_read", "user": {"id": "luke"}, "unread_channels": 0});
    assert!(matches!(
        typed::<NotificationMarkReadEvent>(all),
        AnyEvent::NotificationMarkRead(m) if m.cid.is_none()
    ));
}

#[test]
fn channel_type_and_id_come_from_the_cid_when_left_out() {
    let e = AnyEvent::from_json(
        r#"{"type":"message.new","cid":"messaging:g","message":{"id":"m1","text":"hi"},"user":{"id":"a"},"watcher_count":2,"channel_member_count":3}"#,
    )
    .unwrap();
    let AnyEvent::MessageNew(m) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        (m.channel_type.as_str(), m.channel_id.as_str()),
        ("messaging", "g")
    );
    assert_eq!(
        (m.message.id.as_str(), m.watcher_count, m.recovered),
        ("m1", Some(2), false)
    );
    assert_eq!(m.channel_member_count, Some(3));
}

/// The message surface's events (reactions, typing, thread notifications) decode into their
/// structs by every path and serialize back unchanged.
#[test]
fn message_surface_events_are_typed() {
    let with = |kind: &str, fields: Value| {
        let mut v = json!({"type": kind, "cid": "messaging:general", "channel_id": "general",
            "channel_type": "messaging", "created_at": "2025-08-01T00:00:00.504563511Z"});
        v.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        v
    };
    let reaction = json!({"type":"love","message_id":"m1","user_id":"luke","user":{"id":"luke"},"score":1,
        "created_at":"2025-08-01T00:00:00.504563511Z","updated_at":"2025-08-01T00:00:00.504563511Z"});
    let mut reacted = message();
    reacted["reaction_counts"] = json!({"love": 1});
    reacted["reaction_groups"] = json!({"love": {"count": 1, "sum_scores": 1,
        "first_reaction_at": "2025-08-01T00:00:00.504563511Z", "last_reaction_at": "2025-08-01T00:00:00.504563511Z"}});
    let fields = json!({"message": reacted, "reaction": reaction, "user": {"id": "luke"}});
    let AnyEvent::ReactionNew(e) = typed::<ReactionNewEvent>(with("reaction.new", fields.clone()))
    else {
        panic!()
    };
    assert_eq!(
        (
            e.reaction.user_id.as_str(),
            e.message.reaction_groups.unwrap()["love"].count
        ),
        ("luke", 1)
    );
    assert!(matches!(
        typed::<ReactionUpdateEvent>(with("reaction.updated", fields.clone())),
        AnyEvent::ReactionUpdated(_)
    ));
    assert!(matches!(
        typed::<ReactionDeletedEvent>(with("reaction.deleted", fields)),
        AnyEvent::ReactionDeleted(_)
    ));
    let start = with(
        "typing.start",
        json!({"user": {"id": "a"}, "parent_id": "p1"}),
    );
    let AnyEvent::TypingStart(t) = typed::<TypingStartEvent>(start) else {
        panic!()
    };
    assert_eq!(t.parent_id.as_deref(), Some("p1"));
    assert!(
        matches!(typed::<TypingStopEvent>(with("typing.stop", json!({"user": {"id": "a"}}))), AnyEvent::TypingStop(t) if t.parent_id.is_none())
    );
    let note = with(
        "notification.thread_message_new",
        json!({"message": message(), "channel": channel(), "unread_threads": 1, "unread_thread_messages": 2}),
    );
    assert!(matches!(
        typed::<NotificationThreadMessageNewEvent>(note),
        AnyEvent::NotificationThreadMessageNew(n) if n.unread_thread_messages == Some(2)
    ));
    // A reaction event without its reaction is kept whole.
    let partial = with("reaction.new", json!({"message": message()}));
    assert!(matches!(
        AnyEvent::from_value(partial).unwrap(),
        AnyEvent::Other(_)
    ));
}

#[test]
fn unknown_events_round_trip_unchanged() {
    for raw in [
        r#"{"type":"ai_indicator.update","cid":"messaging:general","channel_id":"general","channel_type":"messaging","ai_state":"AI_STATE_THINKING","user":{"id":"a"}}"#,
        r#"{"type":"friendship_request","cid":"messaging:general","text":"Let's be friends","nested":{"a":[1,2]}}"#,
        r#"{"type":"notification.reminder_due","cid":"messaging:general","member":{"user_id":"a"}}"#,
        r#"{"type":"user.custom_status","user":{"id":"a","online":false}}"#,
    ] {
        let event = AnyEvent::from_json(raw).unwrap();
        assert!(matches!(event, AnyEvent::Other(_)), "{raw}");
        let raw: Value = serde_json::from_str(raw).unwrap();
        assert_eq!(serde_json::to_value(&event).unwrap(), raw);
    }
}

/// The events of channel administration, members, read state, moderation and presence
/// decode into their structs and write back the same JSON.
#[test]
fn administration_and_moderation_events_are_typed_and_round_trip() {
    let frames = [
        json!({"type":"notification.invited","cid":"messaging:general","channel_type":"messaging","channel_id":"general","member":{"user_id":"a"}}),
        json!({"type":"user.presence.changed","user":{"id":"a","online":false}}),
        json!({"type":"user.updated","user":{"id":"a","name":"A"}}),
        json!({"type":"channel.hidden","cid":"messaging:g","channel_type":"messaging","channel_id":"g","user":{"id":"a"},"clear_history":true}),
        json!({"type":"member.removed","cid":"messaging:g","channel_type":"messaging","channel_id":"g","user":{"id":"b"}}),
        json!({"type":"notification.mark_unread","cid":"messaging:g","channel_type":"messaging","channel_id":"g","unread_messages":2,"last_read_at":"2025-01-01T00:00:00Z"}),
        json!({"type":"user.banned","cid":"messaging:g","channel_type":"messaging","channel_id":"g","user":{"id":"b"},"shadow":false}),
        json!({"type":"user.unbanned","user":{"id":"b"},"shadow":false}),
        json!({"type":"notification.mutes_updated","me":{"id":"a","mutes":[]}}),
    ];
    for raw in frames {
        let event = AnyEvent::from_value(raw.clone()).unwrap();
        assert!(!matches!(event, AnyEvent::Other(_)), "{raw}");
        assert_eq!(event.kind(), raw["type"].as_str().unwrap());
        assert_eq!(serde_json::to_value(&event).unwrap(), raw);
    }
}

/// A known type whose fields do not fit its struct is kept whole as `Other`, never a panic.
#[test]
fn malformed_known_events_are_kept_whole() {
    for frame in [
        json!({"type":"message.new","cid":"messaging:g","x":1}),
        json!({"type":"message.new","message":{"id":"m1"}}),
        json!({"type":"message.new","cid":"general","message":{"id":"m1"}}),
        json!({"type":"message.deleted","cid":"messaging:g","message":{"id":"m"},"hard_delete":"yes"}),
        json!({"type":"notification.message_new","cid":"messaging:g","message":{"id":"m"},"channel":7}),
        json!({"type":"notification.mark_read","total_unread_count":"many"}),
        json!({"type":"user.watching.start","watcher_count":1}),
        json!({"type":"connection.error"}),
        json!({"type":"health.check","client_id":7}),
    ] {
        let event = AnyEvent::from_json(&frame.to_string()).unwrap();
        assert!(matches!(event, AnyEvent::Other(_)), "{frame}");
        assert_eq!(serde_json::to_value(&event).unwrap(), frame);
        assert_eq!(AnyEvent::from_value(frame.clone()).unwrap(), event);
    }
    // Not an event at all, or a field the generic frame types too is malformed: an error,
    // as before the typed events.
    for bad in [
        "",
        "[]",
        "7",
        "{",
        r#"{"type":1}"#,
        r#"{"type":"x","me":[]}"#,
        r#"{"type":"message.updated","cid":"messaging:g","message":"m1"}"#,
        r#"{"type":"user.watching.start","cid":"messaging:g","watcher_count":-1}"#,
    ] {
        assert!(AnyEvent::from_json(bad).is_err(), "{bad}");
    }
}

/// An error body makes an error frame whatever the type says, as the JS and Android clients
/// treat it.
#[test]
fn an_error_body_makes_an_error_frame() {
    let e = AnyEvent::from_json(
        r#"{"type":"health.check","connection_id":"c","me":{"id":"a"},"error":{"code":43,"message":"bad signature"}}"#,
    )
    .unwrap();
    assert!(matches!(&e, AnyEvent::Other(o) if o.kind == "health.check"));
    assert_eq!(e.error().map(|b| b.code), Some(43));
    let fine = AnyEvent::from_json(r#"{"type":"health.check","connection_id":"c","error":null}"#);
    assert!(matches!(fine.unwrap(), AnyEvent::HealthCheck(_)));
}

#[test]
fn a_struct_refuses_a_frame_of_another_type() {
    let frame = r#"{"type":"message.updated","cid":"a:b","message":{"id":"m"}}"#;
    assert!(serde_json::from_str::<NewMessageEvent>(frame).is_err());
    assert!(serde_json::from_str::<MessageUpdatedEvent>(frame).is_ok());
    // Inside an outer enum the tag may be gone already: a frame without `type` is accepted.
    let untagged: NewMessageEvent =
        serde_json::from_str(r#"{"cid":"a:b","message":{"id":"m"}}"#).unwrap();
    assert!(untagged.extra.is_empty());
}

/// What the local server builds serializes to the keys it sent before the typed events
/// (the JS and Python interop tests read them).
#[test]
fn server_built_events_have_the_keys_clients_read() {
    let keys = |event: &dyn erased::Json| -> Vec<String> {
        let mut keys: Vec<String> = event.json().as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let at = Some("2025-01-01T00:00:00.000000000Z".to_owned());
    let new = NewMessageEvent {
        user: Some(User::new("a")),
        message: Message::with_text("hi"),
        message_id: Some("m1".into()),
        watcher_count: Some(1),
        channel_member_count: Some(2),
        ..NewMessageEvent::for_channel("messaging:g", at.clone())
    };
    assert_eq!(
        keys(&new),
        [
            "channel_id",
            "channel_member_count",
            "channel_type",
            "cid",
            "created_at",
            "message",
            "message_id",
            "type",
            "user",
            "watcher_count"
        ]
    );
    let added = NotificationAddedToChannelEvent {
        channel: Some(Channel::default()),
        member: Some(Member::default()),
        ..NotificationAddedToChannelEvent::for_channel("messaging:g", at.clone())
    };
    assert_eq!(
        keys(&added),
        [
            "channel",
            "channel_id",
            "channel_type",
            "cid",
            "created_at",
            "member",
            "type"
        ]
    );
    let deleted = MessageDeletedEvent::for_channel("messaging:g", at.clone());
    assert_eq!(
        serde_json::to_value(&deleted).unwrap()["hard_delete"],
        false
    );
    let mut custom = Event::for_channel("messaging:g", at);
    custom.kind = types::TYPING_START.into();
    assert_eq!(
        keys(&custom),
        ["channel_id", "channel_type", "cid", "created_at", "type"]
    );
    let error = ConnectionErrorEvent::new(ApiErrorBody::new(codes::AUTHENTICATION, "bad"), "t");
    assert_eq!(
        keys(&error),
        ["connection_id", "created_at", "error", "type"]
    );
}

/// `&dyn Serialize` for the key listing above.
mod erased {
    pub trait Json {
        fn json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap()
        }
    }
}

#[test]
fn every_typed_name_is_in_the_list() {
    for (name, ty) in [
        (types::HEALTH_CHECK, HealthCheckEvent::TYPE),
        (types::CONNECTION_ERROR, ConnectionErrorEvent::TYPE),
        (types::MESSAGE_NEW, NewMessageEvent::TYPE),
        (types::MESSAGE_UPDATED, MessageUpdatedEvent::TYPE),
        (types::MESSAGE_DELETED, MessageDeletedEvent::TYPE),
        (types::MESSAGE_READ, MessageReadEvent::TYPE),
        (types::USER_WATCHING_START, UserStartWatchingEvent::TYPE),
        (types::USER_WATCHING_STOP, UserStopWatchingEvent::TYPE),
        (
            types::NOTIFICATION_MESSAGE_NEW,
            NotificationMessageNewEvent::TYPE,
        ),
        (
            types::NOTIFICATION_MARK_READ,
            NotificationMarkReadEvent::TYPE,
        ),
        (
            types::NOTIFICATION_ADDED_TO_CHANNEL,
            NotificationAddedToChannelEvent::TYPE,
        ),
    ] {
        assert_eq!(name, ty);
        assert_eq!(
            types::is_notification(name),
            name.starts_with("notification.")
        );
    }
}

/// Found by the `event_decoding` fuzz target: a key written twice (inside the channel of a
/// `notification.message_new`) made the typed decode fail, so the frame came out as
/// `Other`, and typed once re-encoded. Now the last value wins on every path, as with
/// JSON.parse, and the frame is typed.
#[test]
fn a_repeated_key_keeps_its_last_value_and_the_frame_stays_typed() {
    let text = r#"{"type":"notification.message_new","cid":"messaging:general",
        "channel":{"id":"general","type":"messaging","cid":"messaging","cid":"messaging:general"},
        "message":{"id":"m1","text":"first","text":"hello"}}"#;
    let event = AnyEvent::from_json(text).unwrap();
    let AnyEvent::NotificationMessageNew(typed) = &event else {
        panic!("not typed: {event:?}");
    };
    assert_eq!(typed.message.text.as_deref(), Some("hello"));
    assert_eq!(typed.channel.as_ref().unwrap().cid, "messaging:general");
    let value: Value = serde_json::from_str(text).unwrap();
    assert_eq!(AnyEvent::from_value(value).unwrap(), event);
    let again = AnyEvent::from_json(&serde_json::to_string(&event).unwrap()).unwrap();
    assert_eq!(again, event);
}
