//! Message update, delete and get end to end, and the notification events the server
//! sends for reads and new memberships: each received by a real watcher socket.

use crate::support::*;
use stream_chat_client::{
    ErrorKind, Message, MessageDeletedEvent, MessageUpdatedEvent, NewMessageEvent,
    NotificationAddedToChannelEvent, NotificationMarkReadEvent,
};

#[test]
fn a_watcher_receives_edits_and_soft_and_hard_deletions() {
    let server = server();
    let author = connected(&server, "bender");
    let watcher = connected(&server, "fry");
    let seen = watcher.channel("livestream", "edits").unwrap();
    let updates = Events::<MessageUpdatedEvent>::on(&seen);
    let deletions = Events::<MessageDeletedEvent>::on(&seen);
    let news = Events::<NewMessageEvent>::on(&seen);
    let channel = author.channel("livestream", "edits").unwrap();
    channel.watch().execute().into_result().unwrap();
    seen.watch().execute().into_result().unwrap();

    let mut soft = channel
        .send_message(Message::with_text("helo"))
        .execute()
        .into_result()
        .unwrap();
    let hard = channel
        .send_message(Message::with_text("gone"))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(news.take(2).len(), 2);

    soft.text = Some("hello".into());
    let edited = channel
        .update_message(soft.clone())
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(edited.text.as_deref(), Some("hello"));
    let e = updates.next();
    assert_eq!(
        (e.message.id.as_str(), e.message.text.as_deref()),
        (soft.id.as_str(), Some("hello"))
    );
    assert_eq!(e.user.unwrap().id, "bender");
    let got = seen.get_message(&soft.id).execute().into_result().unwrap();
    assert_eq!(got.text.as_deref(), Some("hello"));

    let deleted = channel
        .delete_message(&soft.id, false)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(deleted.kind.as_deref(), Some("deleted"));
    let e = deletions.next();
    assert_eq!(e.message.id, soft.id);
    assert!(!e.hard_delete);
    let got = seen.get_message(&soft.id).execute().into_result().unwrap();
    assert_eq!(got.kind.as_deref(), Some("deleted"));

    channel
        .delete_message(&hard.id, true)
        .execute()
        .into_result()
        .unwrap();
    let e = deletions.next();
    assert_eq!(e.message.id, hard.id);
    assert!(e.hard_delete);
    let err = seen.get_message(&hard.id).execute().error().clone();
    assert_eq!(
        (err.stream_code(), err.status_code()),
        (Some(16), Some(404))
    );
}

#[test]
fn only_the_author_may_edit_or_delete_a_message() {
    let server = server();
    let author = connected(&server, "bender");
    let other = connected(&server, "fry");
    let channel = author.channel("livestream", "own").unwrap();
    channel.watch().execute().into_result().unwrap();
    let mut sent = channel
        .send_message(Message::with_text("mine"))
        .execute()
        .into_result()
        .unwrap();
    let theirs = other.channel("livestream", "own").unwrap();
    sent.text = Some("yours now".into());
    let err = theirs
        .update_message(sent.clone())
        .execute()
        .error()
        .clone();
    assert_eq!(
        (err.stream_code(), err.status_code()),
        (Some(17), Some(403))
    );
    let err = theirs
        .delete_message(&sent.id, true)
        .execute()
        .error()
        .clone();
    assert_eq!(
        (err.stream_code(), err.status_code()),
        (Some(17), Some(403))
    );
    let stored = theirs
        .get_message(&sent.id)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(stored.text.as_deref(), Some("mine"));
}

#[test]
fn message_calls_check_the_id_before_sending() {
    let server = server();
    let client = connected(&server, "bender");
    let channel = client.channel("livestream", "ids").unwrap();
    for bad in ["", "a/b", "a?b"] {
        let err = channel.get_message(bad).execute().error().clone();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{bad:?}");
    }
    let err = channel
        .update_message(Message::with_text("no id"))
        .execute()
        .error()
        .clone();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn marking_read_notifies_the_readers_other_connection() {
    let server = server();
    let poster = connected(&server, "fry");
    poster
        .channel("messaging", "reads")
        .unwrap()
        .create(["fry", "bender"])
        .execute()
        .into_result()
        .unwrap();
    poster
        .channel("messaging", "reads")
        .unwrap()
        .send_message(Message::with_text("unread"))
        .execute()
        .into_result()
        .unwrap();
    let phone = connected(&server, "bender");
    let laptop = connected(&server, "bender");
    let on_laptop = Events::<NotificationMarkReadEvent>::of(&laptop);
    phone
        .channel("messaging", "reads")
        .unwrap()
        .mark_read()
        .execute()
        .into_result()
        .unwrap();
    let e = on_laptop.next();
    assert_eq!(e.cid.as_deref(), Some("messaging:reads"));
    assert_eq!(e.user.unwrap().id, "bender");
    assert_eq!(e.total_unread_count, Some(0));
    assert_eq!(e.unread_channels, Some(0));
}

#[test]
fn an_added_member_is_notified() {
    let server = server();
    let added = connected(&server, "fry");
    let notes = Events::<NotificationAddedToChannelEvent>::of(&added);
    let creator = connected(&server, "bender");
    creator
        .channel("messaging", "crew")
        .unwrap()
        .create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    let e = notes.next();
    assert_eq!(e.cid, "messaging:crew");
    assert_eq!(
        (e.channel_type.as_str(), e.channel_id.as_str()),
        ("messaging", "crew")
    );
    assert_eq!(e.channel.unwrap().cid, "messaging:crew");
    assert_eq!(e.member.unwrap().user_id.as_deref(), Some("fry"));
}
