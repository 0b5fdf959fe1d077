//! Pins, partial updates and quotes through the SDK: `pin_message`, `pin_message_for`,
//! `unpin_message`, `get_pinned_messages` (with Kotlin's pagination), the channel state's
//! `pinned_messages`, `partial_update_message`, `quoted_message`, and the errors.

use std::time::{Duration, SystemTime};

use serde_json::{Map, json};

use crate::support::*;
use stream_chat_client::{
    ChatClient, Message, MessageUpdatedEvent, PinnedMessagesPagination, SortParam,
};

fn room(
    server: &stream_chat_server::ServerHandle,
    id: &str,
) -> (
    ChatClient,
    stream_chat_client::ChannelClient,
    ChatClient,
    stream_chat_client::ChannelClient,
) {
    let bender = connected(server, "bender");
    let fry = connected(server, "fry");
    let mine = bender.channel("messaging", id).unwrap();
    mine.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    let his = fry.channel("messaging", id).unwrap();
    his.watch().execute().into_result().unwrap();
    (bender, mine, fry, his)
}

#[test]
fn pins_reach_watchers_and_are_listed_in_pin_order() {
    let server = server();
    let (bender, mine, fry, his) = room(&server, "pins");
    let updates = Events::<MessageUpdatedEvent>::on(&his);
    let messages: Vec<Message> = ["one", "two", "three"]
        .into_iter()
        .map(|t| post(&mine, t))
        .collect();

    let pinned = his
        .pin_message(&messages[0], None)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        (
            pinned.pinned,
            pinned.pinned_by.as_ref().unwrap().id.as_str()
        ),
        (Some(true), "fry")
    );
    assert!(pinned.pinned_at.is_some() && pinned.pin_expires.is_none());
    let e = updates.next();
    assert_eq!(
        (e.message.id.as_str(), e.message.pinned),
        (messages[0].id.as_str(), Some(true))
    );
    let tomorrow = SystemTime::now() + Duration::from_secs(86_400);
    let two = bender
        .pin_message(&messages[1], Some(tomorrow))
        .execute()
        .into_result()
        .unwrap();
    assert!(two.pin_expires.is_some());
    let three = mine
        .pin_message_for(&messages[2], Duration::from_secs(600))
        .execute()
        .into_result()
        .unwrap();
    assert!(three.pin_expires.is_some());
    updates.take(2);

    let ids = |list: Vec<Message>| {
        list.into_iter()
            .map(|m| m.text.unwrap())
            .collect::<Vec<_>>()
    };
    let newest = his
        .get_pinned_messages(10, Vec::new(), None)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(ids(newest), ["three", "two", "one"]);
    let asc = vec![SortParam {
        field: "pinned_at".into(),
        direction: 1,
    }];
    assert_eq!(
        ids(his
            .get_pinned_messages(2, asc.clone(), None)
            .execute()
            .into_result()
            .unwrap()),
        ["one", "two"]
    );
    let before = PinnedMessagesPagination::BeforeMessage {
        message_id: messages[2].id.clone(),
        inclusive: false,
    };
    assert_eq!(
        ids(his
            .get_pinned_messages(10, Vec::new(), Some(before))
            .execute()
            .into_result()
            .unwrap()),
        ["two", "one"]
    );
    let after = PinnedMessagesPagination::AfterDate {
        date: SystemTime::UNIX_EPOCH,
        inclusive: true,
    };
    assert_eq!(
        ids(his
            .get_pinned_messages(1, asc, Some(after))
            .execute()
            .into_result()
            .unwrap()),
        ["one"]
    );
    let state = his.watch().execute().into_result().unwrap();
    assert_eq!(ids(state.pinned_messages), ["one", "two", "three"]);

    let unpinned = fry
        .unpin_message(&messages[0])
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        (unpinned.pinned, unpinned.pinned_at, unpinned.pinned_by),
        (Some(false), None, None)
    );
    assert_eq!(updates.next().message.pinned, Some(false));
    assert_eq!(
        his.get_pinned_messages(10, Vec::new(), None)
            .execute()
            .into_result()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn partial_updates_and_quotes() {
    let server = server();
    let (bender, mine, fry, his) = room(&server, "partial");
    let updates = Events::<MessageUpdatedEvent>::on(&his);
    let mut draft = Message::with_text("draft");
    draft.extra.insert("mood".into(), json!("meh"));
    let original = mine.send_message(draft).execute().into_result().unwrap();
    let quoting = his
        .send_message(Message {
            quoted_message_id: Some(original.id.clone()),
            ..Message::with_text("quoting")
        })
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(quoting.quoted_message.as_ref().unwrap().text(), "draft");

    let set = Map::from_iter([
        ("text".to_owned(), json!("final")),
        ("tag".to_owned(), json!("x")),
    ]);
    let edited = bender
        .partial_update_message(&original.id, set, vec!["mood".into()])
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        (edited.text(), edited.extra.get("tag")),
        ("final", Some(&json!("x")))
    );
    assert!(!edited.extra.contains_key("mood"));
    let e = updates.next();
    assert_eq!(e.message.text(), "final");
    let quoting = his
        .get_message(&quoting.id)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        quoting.quoted_message.unwrap().text(),
        "final",
        "the quote shows the message as it is now"
    );

    let code = |r: stream_chat_client::ChatResult<Message>| {
        let e = r.error().clone();
        (e.stream_code(), e.status_code())
    };
    let set = |k: &str, v: serde_json::Value| Map::from_iter([(k.to_owned(), v)]);
    assert_eq!(
        code(
            fry.partial_update_message(&original.id, set("text", json!("mine")), vec![])
                .execute()
        ),
        (Some(17), Some(403))
    );
    assert_eq!(
        code(
            bender
                .partial_update_message("nope", set("text", json!("x")), vec![])
                .execute()
        ),
        (Some(16), Some(404))
    );
    assert_eq!(
        code(
            bender
                .partial_update_message(&original.id, set("cid", json!("x")), vec![])
                .execute()
        ),
        (Some(4), Some(400))
    );
    assert_eq!(
        code(
            bender
                .partial_update_message(&original.id, set("text", json!("x".repeat(5001))), vec![])
                .execute()
        ),
        (Some(20), Some(400))
    );
    let past = SystemTime::now() - Duration::from_secs(60);
    assert_eq!(
        code(mine.pin_message(&original, Some(past)).execute()),
        (Some(4), Some(400))
    );
    let unknown = Message {
        quoted_message_id: Some("nope".into()),
        ..Message::with_text("x")
    };
    assert_eq!(
        code(mine.send_message(unknown).execute()),
        (Some(4), Some(400))
    );
}

#[test]
fn who_may_pin_follows_the_default_grants() {
    let server = server();
    let owner = connected(&server, "bender");
    let room = owner.channel("messaging", "private").unwrap();
    room.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    let message = post(&room, "pin me");
    let stage = owner.channel("livestream", "stage").unwrap();
    stage.watch().execute().into_result().unwrap();
    let theirs = post(&stage, "the owner's");
    let regular = connected(&server, "leela");
    let guest = client(&server);
    guest
        .connect_guest_user("visitor", "Visitor")
        .execute()
        .into_result()
        .unwrap();
    let anonymous = client(&server);
    anonymous
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    for who in [&regular, &guest, &anonymous] {
        let e = who.pin_message(&message, None).execute().error().clone();
        assert_eq!(
            (e.stream_code(), e.status_code()),
            (Some(17), Some(403)),
            "{e}"
        );
    }
    let member = connected(&server, "fry");
    member
        .pin_message(&message, None)
        .execute()
        .into_result()
        .unwrap();
    // livestream: one's own messages only.
    let e = regular.pin_message(&theirs, None).execute().error().clone();
    assert_eq!(e.stream_code(), Some(17));
    let on_stage = regular.channel("livestream", "stage").unwrap();
    let own = post(&on_stage, "mine");
    regular
        .pin_message(&own, None)
        .execute()
        .into_result()
        .unwrap();
    let e = anonymous
        .channel("livestream", "stage")
        .unwrap()
        .get_pinned_messages(10, Vec::new(), None)
        .execute();
    assert_eq!(
        e.into_result().unwrap().len(),
        1,
        "anonymous users read them"
    );
}
