//! Threads through the SDK: replies (typed `message.new` with `parent_id`, the parent's
//! `message.updated`), `get_replies`, `get_replies_more`, `get_newer_replies`,
//! `query_threads`, `get_thread`, `mark_thread_read`, `notification.thread_message_new`,
//! and the errors.

use crate::support::*;
use stream_chat_client::{
    ChannelClient, GetThreadRequest, Message, MessageReadEvent, MessageUpdatedEvent,
    NewMessageEvent, NotificationThreadMessageNewEvent, QueryThreadsRequest,
};

fn reply(channel: &ChannelClient, parent: &Message, text: &str) -> Message {
    let message = Message {
        parent_id: Some(parent.id.clone()),
        ..Message::with_text(text)
    };
    channel
        .send_message(message)
        .execute()
        .into_result()
        .unwrap()
}

fn texts_of(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(Message::text).collect()
}

#[test]
fn replies_thread_a_parent_and_page_both_ways() {
    let server = server();
    let bender = connected(&server, "bender");
    let fry = connected(&server, "fry");
    let mine = bender.channel("messaging", "threads").unwrap();
    mine.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    let his = fry.channel("messaging", "threads").unwrap();
    his.watch().execute().into_result().unwrap();
    let news = Events::<NewMessageEvent>::on(&his);
    let updates = Events::<MessageUpdatedEvent>::on(&his);
    let reads = Events::<MessageReadEvent>::on(&his);

    let parent = post(&mine, "question");
    assert_eq!(news.next().message.id, parent.id);
    let first = reply(&his, &parent, "one");
    assert_eq!(first.kind.as_deref(), Some("reply"));
    let e = news.next();
    assert_eq!(
        (e.message.parent_id.as_deref(), e.message.text()),
        (Some(parent.id.as_str()), "one")
    );
    let e = updates.next();
    assert_eq!(
        (e.message.id.as_str(), e.message.reply_count),
        (parent.id.as_str(), Some(1))
    );
    let participants: Vec<_> = e
        .message
        .thread_participants
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(participants, ["bender", "fry"]);
    for text in ["two", "three", "four"] {
        reply(&his, &parent, text);
    }
    // The channel lists no thread-only reply.
    let state = his.watch().execute().into_result().unwrap();
    assert_eq!(texts_of(&state.messages), ["question"]);
    assert_eq!(state.messages[0].reply_count, Some(4));

    let newest = bender
        .get_replies(&parent.id, 2)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(texts_of(&newest), ["three", "four"]);
    let older = bender
        .get_replies_more(&parent.id, &newest[0].id, 5)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(texts_of(&older), ["one", "two"]);
    let from_start = bender
        .get_newer_replies(&parent.id, 3, None)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(texts_of(&from_start), ["one", "two", "three"]);
    let newer = bender
        .get_newer_replies(&parent.id, 3, Some(&older[1].id))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(texts_of(&newer), ["three", "four"]);

    let page = bender
        .query_threads(QueryThreadsRequest {
            reply_limit: Some(2),
            ..Default::default()
        })
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(page.threads.len(), 1);
    let thread = &page.threads[0];
    assert_eq!(
        (thread.parent_message_id.as_str(), thread.reply_count),
        (parent.id.as_str(), Some(4))
    );
    assert_eq!(texts_of(&thread.latest_replies), ["three", "four"]);
    let unread: Vec<_> = thread
        .read
        .iter()
        .flatten()
        .map(|r| (r.user.id.clone(), r.unread_messages))
        .collect();
    assert_eq!(unread, [("bender".to_owned(), 4), ("fry".to_owned(), 0)]);

    // Read, watched through the thread: the watcher sees the thread's read.
    let options = GetThreadRequest {
        watch: Some(true),
        reply_limit: Some(1),
        ..Default::default()
    };
    let thread = bender
        .get_thread(&parent.id, options)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(texts_of(&thread.latest_replies), ["four"]);
    mine.mark_thread_read(&parent.id)
        .execute()
        .into_result()
        .unwrap();
    let e = reads.next();
    assert_eq!(e.user.unwrap().id, "bender");
    assert_eq!(e.thread.unwrap().parent_message_id, parent.id);
    let thread = bender
        .get_thread(&parent.id, GetThreadRequest::default())
        .execute()
        .into_result()
        .unwrap();
    let mine_read = thread
        .read
        .unwrap()
        .into_iter()
        .find(|r| r.user.id == "bender")
        .unwrap();
    assert_eq!(mine_read.unread_messages, 0);
    bender
        .mark_thread_read("messaging", "threads", &parent.id)
        .execute()
        .into_result()
        .unwrap();
}

#[test]
fn a_participant_who_does_not_watch_is_notified_of_replies() {
    let server = server();
    let bender = connected(&server, "bender");
    let fry = connected(&server, "fry");
    let notes = Events::<NotificationThreadMessageNewEvent>::of(&bender);
    let mine = bender.channel("messaging", "notify").unwrap();
    mine.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    let parent = post(&mine, "question");
    let his = fry.channel("messaging", "notify").unwrap();
    reply(&his, &parent, "answer");
    let e = notes.next();
    assert_eq!(
        (e.cid.as_str(), e.message.text()),
        ("messaging:notify", "answer")
    );
    assert_eq!(
        (e.unread_threads, e.unread_thread_messages),
        (Some(1), Some(1))
    );
    assert_eq!(e.channel.unwrap().cid, "messaging:notify");
}

#[test]
fn impossible_replies_and_threads_are_typed_errors() {
    let server = server();
    let bender = connected(&server, "bender");
    let mine = bender.channel("messaging", "errors").unwrap();
    mine.create(["bender"]).execute().into_result().unwrap();
    let parent = post(&mine, "question");
    let lonely = post(&mine, "nobody answers");
    let first = reply(&mine, &parent, "one");
    let code = |r: stream_chat_client::ChatResult<Message>| {
        let e = r.error().clone();
        (e.stream_code(), e.status_code())
    };
    let nested = Message {
        parent_id: Some(first.id.clone()),
        ..Message::with_text("deeper")
    };
    assert_eq!(
        code(mine.send_message(nested).execute()),
        (Some(21), Some(400))
    );
    let orphan = Message {
        parent_id: Some("nope".into()),
        ..Message::with_text("lost")
    };
    assert_eq!(
        code(mine.send_message(orphan).execute()),
        (Some(4), Some(400))
    );
    let e = bender
        .get_thread(&lonely.id, GetThreadRequest::default())
        .execute()
        .error()
        .clone();
    assert_eq!((e.stream_code(), e.status_code()), (Some(16), Some(404)));
    let e = bender.get_replies("nope", 10).execute().error().clone();
    assert_eq!(e.stream_code(), Some(16));
    let e = mine.mark_thread_read("nope").execute().error().clone();
    assert_eq!(e.stream_code(), Some(16));
    // Not a member, a guest, anonymous: not even reading.
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
        let e = who.get_replies(&parent.id, 10).execute().error().clone();
        assert_eq!(
            (e.stream_code(), e.status_code()),
            (Some(17), Some(403)),
            "{e}"
        );
        let outsider = who.channel("messaging", "errors").unwrap();
        let e = outsider
            .send_message(Message {
                parent_id: Some(parent.id.clone()),
                ..Message::with_text("hi")
            })
            .execute()
            .error()
            .clone();
        assert_eq!(e.stream_code(), Some(17), "{e}");
    }
}
