//! Message search through the SDK (`search_messages`): filters, only readable channels,
//! stable cursors, and the refusals (Kotlin's local offset check, Stream's code 4).

use serde_json::{Map, json};

use crate::support::*;
use stream_chat_client::{ErrorKind, Message, SortParam};

fn filter(key: &str, value: serde_json::Value) -> Map<String, serde_json::Value> {
    Map::from_iter([(key.to_owned(), value)])
}

#[test]
fn search_pages_by_cursor_over_readable_channels() {
    let server = server();
    let bender = connected(&server, "bender");
    let leela = connected(&server, "leela");
    let ours = bender.channel("messaging", "ours").unwrap();
    ours.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    let hers = leela.channel("messaging", "hers").unwrap();
    hers.create(["leela"]).execute().into_result().unwrap();
    for i in 0..5 {
        post(&ours, &format!("Delivery number {i}"));
    }
    post(&hers, "delivery for leela");
    let mut with_image = Message::with_text("a picture");
    with_image.attachments = Some(vec![json!({"type": "image"})]);
    ours.send_message(with_image)
        .execute()
        .into_result()
        .unwrap();

    let channels = filter("members", json!({"$in": ["bender", "leela"]}));
    let by_text = filter("text", json!({"$autocomplete": "deliver"}));
    let asc = vec![SortParam {
        field: "created_at".into(),
        direction: 1,
    }];
    let first = bender
        .search_messages(channels.clone(), by_text.clone(), None, Some(2), None, asc)
        .execute()
        .into_result()
        .unwrap();
    let texts = |r: &stream_chat_client::SearchMessagesResult| {
        r.messages
            .iter()
            .map(|m| m.text().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(texts(&first), ["Delivery number 0", "Delivery number 1"]);
    assert!(first.previous.is_none());
    assert_eq!(
        first.messages[0].channel.as_ref().unwrap().cid,
        "messaging:ours"
    );
    // A new match arrives between pages: the cursor continues where it was.
    post(&ours, "Delivery number 5");
    let second = bender
        .search_messages(
            channels.clone(),
            by_text.clone(),
            None,
            Some(2),
            first.next.clone(),
            Vec::new(),
        )
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(texts(&second), ["Delivery number 2", "Delivery number 3"]);
    let back = bender
        .search_messages(
            channels.clone(),
            by_text.clone(),
            None,
            Some(2),
            second.previous.clone(),
            Vec::new(),
        )
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(texts(&back), texts(&first));
    // leela sees her channel only.
    let hers_only = leela
        .search_messages(channels.clone(), by_text, None, None, None, Vec::new())
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(texts(&hers_only), ["delivery for leela"]);
    let images = bender
        .search_messages(
            channels.clone(),
            filter("attachments.type", json!({"$in": ["image"]})),
            None,
            None,
            None,
            Vec::new(),
        )
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(texts(&images), ["a picture"]);

    // Refusals: Kotlin's local check, then the server's code 4.
    let e = bender
        .search_messages(
            channels.clone(),
            filter("text", json!({"$q": "x"})),
            Some(1),
            None,
            first.next,
            Vec::new(),
        )
        .execute()
        .error()
        .clone();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    for (channels, messages, next) in [
        (
            channels.clone(),
            filter("text", json!({"$regex": "x"})),
            None,
        ),
        (
            channels.clone(),
            filter("text", json!({"$q": "x"})),
            Some("not-a-cursor".to_owned()),
        ),
        (Map::new(), filter("text", json!({"$q": "x"})), None),
        (channels.clone(), Map::new(), None),
    ] {
        let e = bender
            .search_messages(channels, messages, None, None, next, Vec::new())
            .execute()
            .error()
            .clone();
        assert_eq!(
            (e.stream_code(), e.status_code()),
            (Some(4), Some(400)),
            "{e}"
        );
    }
}
