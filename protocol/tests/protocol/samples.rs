//! JSON round-trips of the wire samples in the protocol reference.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use stream_chat_protocol::*;

/// Parses `sample` into `T` and checks it serializes back to the same JSON value.
fn round_trip<T: DeserializeOwned + Serialize>(sample: Value) -> T {
    let parsed: T = serde_json::from_value(sample.clone()).expect("sample parses");
    assert_eq!(
        serde_json::to_value(&parsed).unwrap(),
        without_null_pins(sample)
    );
    parsed
}

/// `sample` without the pin fields Stream writes as `null` on an unpinned message
/// (`pinned_at`, `pinned_by`, `pin_expires`): they decode to `None`, written back as absent.
fn without_null_pins(mut sample: Value) -> Value {
    match &mut sample {
        Value::Object(map) => {
            for key in ["pinned_at", "pinned_by", "pin_expires"] {
                if map.get(key) == Some(&Value::Null) {
                    map.remove(key);
                }
            }
            for v in map.values_mut() {
                *v = without_null_pins(v.take());
            }
        }
        Value::Array(items) => {
            for v in items {
                *v = without_null_pins(v.take());
            }
        }
        _ => {}
    }
    sample
}

#[test]
fn health_check_with_me() {
    let frame = json!({
        "type": "health.check",
        "connection_id": "68893fd3-0a15-1cdb-0200-000000001193",
        "cid": "*",
        "created_at": "2025-08-01T00:07:30.504563511Z",
        "me": {
            "id": "luke_skywalker", "name": "Luke", "image": "https://x/luke.png", "language": "en",
            "role": "admin", "teams": [], "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-02T00:00:00Z", "banned": false, "online": true,
            "last_active": "2025-08-01T00:07:30Z", "invisible": false,
            "privacy_settings": {"typing_indicators": {"enabled": true}, "read_receipts": {"enabled": true}},
            "devices": [], "mutes": [], "channel_mutes": [],
            "unread_count": 0, "total_unread_count": 0, "unread_channels": 0, "unread_threads": 0,
            "birthland": "Tatooine"
        }
    });
    let event: Event = round_trip(frame);
    assert!(event.is_connected_event());
    let me = event.me.unwrap();
    assert_eq!(me.name(), "Luke");
    assert_eq!(me.extra_data["birthland"], "Tatooine");
    assert_eq!(me.channel_mutes, Some(vec![]));
}

#[test]
fn client_health_check_array_and_connection_error() {
    let ping: Vec<Event> =
        serde_json::from_str(r#"[{"type":"health.check","client_id":"alice--1"}]"#).unwrap();
    assert_eq!(ping[0].kind, "health.check");
    assert_eq!(ping[0].extra["client_id"], "alice--1");

    let frame = json!({"type":"connection.error","created_at":"2025-02-17T16:52:12.479337212Z","connection_id":"",
        "error":{"code":40,"message":"JWTAuth error","StatusCode":401,"duration":"","more_info":"","details":[]}});
    let event: Event = round_trip(frame);
    assert_eq!(event.error.unwrap().code, codes::TOKEN_EXPIRED);
}

#[test]
fn error_bodies() {
    let flutter = json!({"code":17,"message":"GetOrCreateChannel failed with error: \"User 'soft-term-8' with role user is not allowed to access Resource CreateChannel on channel type messaging\"",
        "StatusCode":403,"duration":"0.00ms","more_info":"https://getstream.io/chat/docs/api_errors_response","details":[]});
    let e: ApiErrorBody = round_trip(flutter);
    assert_eq!((e.code, e.status_code), (17, 403));

    // Without `details` (as in the Swift issue) it still parses; we always write `[]` back.
    let swift = json!({"code":40,"message":"SendEvent failed with error: \"JWTAuth error: token is expired (exp)\"",
        "more_info":"https://getstream.io/chat/docs/api_errors_response","StatusCode":401,"duration":""});
    let e: ApiErrorBody = serde_json::from_value(swift).unwrap();
    assert_eq!(serde_json::to_value(&e).unwrap()["details"], json!([]));
    assert_eq!(
        e.to_string(),
        "StreamChat error code 40: SendEvent failed with error: \"JWTAuth error: token is expired (exp)\""
    );

    let detailed = json!({"code":4,"message":"m","StatusCode":400,"duration":"","more_info":"",
        "details":[{"code":4,"messages":["x"]}],"exception_fields":{"id":"bad"}});
    let e: ApiErrorBody = round_trip(detailed);
    assert_eq!(e.exception_fields.unwrap()["id"], "bad");
    // JS types describe `details` as one object: accepted and wrapped.
    let single: ApiErrorBody =
        serde_json::from_value(json!({"code":4,"details":{"code":4}})).unwrap();
    assert_eq!(single.details.len(), 1);
}

fn message_sample() -> Value {
    json!({"id":"m1","text":"Test","html":"<p>Test</p>\n","type":"regular","user":{"id":"luke","role":"user","name":"Luke"},
        "attachments":[],"latest_reactions":[],"own_reactions":[],"reaction_counts":{},"reaction_scores":{},
        "reply_count":0,"deleted_reply_count":0,"cid":"messaging:general","created_at":"2025-08-01T00:00:00.1Z",
        "updated_at":"2025-08-01T00:00:00.1Z","shadowed":false,"mentioned_users":[],"silent":false,"pinned":false,
        "pinned_at":null,"pinned_by":null,"pin_expires":null,"restricted_visibility":[]})
}

#[test]
fn message_and_send_bodies() {
    // Stream writes an unpinned message's pin fields as null: they decode to None.
    let m: Message = round_trip(message_sample());
    assert_eq!(
        (&m.pinned_at, &m.pinned_by, &m.pin_expires),
        (&None, &None, &None)
    );
    assert_eq!(m.kind.as_deref(), Some("regular"));
    assert_eq!(m.reaction_counts.as_ref().map(|c| c.len()), Some(0));
    let r: MessageResponse = round_trip(json!({"message": message_sample(), "duration": "1.2ms"}));
    assert_eq!(r.message.id, "m1");
    let send: SendMessageRequest = round_trip(json!({"message":{"text":"hello"}}));
    assert_eq!(send.message, Message::with_text("hello"));
}

#[test]
fn channel_query_response() {
    let user = json!({"id":"alice","role":"user","name":"Alice"});
    let sample = json!({
        "channel": {"id":"general","type":"messaging","cid":"messaging:general","created_at":"2025-01-01T00:00:00Z",
            "updated_at":"2025-01-01T00:00:00Z","created_by":user,"frozen":false,"disabled":false,"member_count":1,
            "config":{"created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z","name":"messaging",
                "typing_events":true,"read_events":true,"connect_events":true,"search":true,"reactions":true,
                "replies":true,"quotes":true,"mutes":true,"uploads":true,"url_enrichment":true,"custom_events":true,
                "push_notifications":true,"reminders":true,"mark_messages_pending":false,"polls":true,
                "message_retention":"infinite","max_message_length":5000,"automod":"AI","automod_behavior":"block",
                "commands":[{"name":"giphy","description":"Post a random gif","args":"[text]","set":"fun_set"}]},
            "own_capabilities":["read-events","send-message"],"hidden":false,"blocked":false,"color":"blue"},
        "messages":[message_sample()],
        "pinned_messages":[],
        "members":[{"user_id":"alice","user":user,"status":"member","created_at":"2025-01-01T00:00:00Z",
            "updated_at":"2025-01-01T00:00:00Z","banned":false,"shadow_banned":false,"role":"owner",
            "channel_role":"channel_member","notifications_muted":false}],
        "membership":null,
        "read":[{"user":user,"last_read":"2025-01-01T00:00:00Z","unread_messages":0,"last_read_message_id":"m1"}],
        "watcher_count":1,
        "watchers":[user],
        "threads":[],
        "duration":"0.50ms"
    });
    let state: ChannelState = round_trip(sample.clone());
    assert_eq!(state.channel.cid, "messaging:general");
    assert!(state.channel.config.as_ref().unwrap().read_events);
    assert_eq!(state.channel.extra["blocked"], false);
    assert_eq!(state.members[0].role.as_deref(), Some("owner"));

    let mut element = sample;
    element.as_object_mut().unwrap().remove("duration");
    let list: QueryChannelsResponse = round_trip(json!({"channels":[element],"duration":"1ms"}));
    assert_eq!(list.channels.len(), 1);
}

#[test]
fn query_requests() {
    let q: QueryChannelRequest =
        round_trip(json!({"data":{},"state":true,"watch":true,"presence":false}));
    assert_eq!(q.data.unwrap(), ChannelRequestData::default());
    let q: QueryChannelsRequest = round_trip(
        json!({"filter_conditions":{"cid":{"$in":["messaging:a"]}},
        "sort":[{"field":"last_message_at","direction":-1}],"state":true,"watch":true,"presence":false,"limit":30}),
    );
    assert_eq!(q.sort[0].direction, -1);
    let _: QueryUsersRequest = round_trip(
        json!({"filter_conditions":{"id":{"$in":["a"]}},"sort":[{"field":"id","direction":1}],"presence":false}),
    );
    let _: UsersResponse =
        round_trip(json!({"users":{"a":{"id":"a","role":"user"}},"duration":""}));
    let _: QueryUsersResponse = round_trip(json!({"users":[{"id":"a"}],"duration":""}));
    let _: PartialUpdateUsersRequest =
        round_trip(json!({"users":[{"id":"a","set":{"name":"A"},"unset":["image"]}]}));
}

#[test]
fn message_pagination_time_keys_are_typed_and_round_trip() {
    let sample = json!({
        "limit": 20,
        "created_at_before": "2025-01-01T00:00:10Z",
        "created_at_before_or_equal": "2025-01-01T00:00:09Z",
        "created_at_after": "2025-01-01T00:00:01.5+02:00",
        "created_at_after_or_equal": "2025-01-01T00:00:02Z",
        "created_at_around": "2025-01-01T00:00:05Z",
        "future_key": 1
    });
    let p: MessagePagination = round_trip(sample);
    assert_eq!(p.created_at_before.as_deref(), Some("2025-01-01T00:00:10Z"));
    assert_eq!(
        p.created_at_before_or_equal.as_deref(),
        Some("2025-01-01T00:00:09Z")
    );
    assert_eq!(
        p.created_at_after.as_deref(),
        Some("2025-01-01T00:00:01.5+02:00")
    );
    assert_eq!(
        p.created_at_after_or_equal.as_deref(),
        Some("2025-01-01T00:00:02Z")
    );
    assert_eq!(p.created_at_around.as_deref(), Some("2025-01-01T00:00:05Z"));
    assert_eq!(
        p.extra.len(),
        1,
        "only unmodelled keys stay in extra: {:?}",
        p.extra
    );
    // Unset keys are left out; null reads as unset.
    let p: MessagePagination = round_trip(json!({"id_lt": "m1"}));
    assert_eq!(
        p,
        MessagePagination {
            id_lt: Some("m1".into()),
            ..Default::default()
        }
    );
    let p: MessagePagination = serde_json::from_value(json!({"created_at_after": null})).unwrap();
    assert_eq!(serde_json::to_value(&p).unwrap(), json!({}));
    // A value built the old way, with the key in `extra`, serializes as before.
    let mut old = MessagePagination::latest(5);
    old.extra
        .insert("created_at_before".into(), json!("2025-01-01T00:00:00Z"));
    assert_eq!(
        serde_json::to_value(&old).unwrap(),
        json!({"limit": 5, "created_at_before": "2025-01-01T00:00:00Z"})
    );
}

#[test]
fn request_builders_send_what_the_official_clients_send() {
    let q = QueryChannelRequest::watch().with_messages(MessagePagination::before("m9", 30));
    assert_eq!(
        serde_json::to_value(&q).unwrap(),
        json!({"state": true, "watch": true, "presence": false, "messages": {"limit": 30, "id_lt": "m9"}})
    );
    assert_eq!(
        serde_json::to_value(MessagePagination::after("m1", 5)).unwrap(),
        json!({"limit": 5, "id_gt": "m1"})
    );
    let q = QueryChannelsRequest::default()
        .filter("cid", json!({"$in": ["messaging:a"]}))
        .sort_by("last_message_at", -1)
        .watching()
        .page(30, 0);
    let reconnect = json!({"filter_conditions": {"cid": {"$in": ["messaging:a"]}},
        "sort": [{"field": "last_message_at", "direction": -1}],
        "state": true, "watch": true, "presence": false, "limit": 30, "offset": 0});
    assert_eq!(serde_json::to_value(&q).unwrap(), reconnect);
    let replaced = QueryChannelsRequest::default()
        .filter("type", "livestream")
        .filter("type", "messaging");
    assert_eq!(replaced.filter_conditions["type"], "messaging");
}

#[test]
fn connect_payload_variants() {
    let js: ConnectPayload = round_trip(
        json!({"user_id":"alice","user_details":{"id":"alice","name":"Alice"},"client_request_id":"r"}),
    );
    assert_eq!(js.user_id, "alice");
    let anon: ConnectPayload = round_trip(
        json!({"user_id":"0b9c","user_details":{"id":"0b9c","anon":true},"client_request_id":"r"}),
    );
    assert_eq!(anon.user_details.unwrap().extra_data["anon"], true);
    let old: ConnectPayload = round_trip(
        json!({"user_id":"a","user_details":{"id":"a"},"user_token":"t","server_determines_connection_id":true,
        "X-Stream-Client":"stream-chat-android-6.8.0","device":{"id":"d","push_provider":"firebase"}}),
    );
    assert_eq!(old.user_token.as_deref(), Some("t"));
    let guest: GuestResponse =
        round_trip(json!({"access_token":"t","user":{"id":"bob","role":"guest"},"duration":"1ms"}));
    assert_eq!(guest.user.id, "bob");
}

#[test]
fn anonymous_me_matches_the_seed_page() {
    let seed = json!({
        "id": "!anon", "role": "anonymous", "roles": [],
        "created_at": "0001-01-01T00:00:00Z", "updated_at": "0001-01-01T00:00:00Z",
        "last_active": "2020-11-02T18:36:01.125136Z",
        "banned": false, "online": true, "invisible": false,
        "devices": [], "mutes": [], "channel_mutes": [],
        "unread_count": 0, "total_unread_count": 0, "unread_channels": 0, "language": ""
    });
    let me: User = round_trip(seed.clone());
    assert_eq!(me, User::anonymous("2020-11-02T18:36:01.125136Z"));
    assert_eq!(
        serde_json::to_value(User::anonymous("2020-11-02T18:36:01.125136Z")).unwrap(),
        seed
    );
}
