//! Typing and custom events through the SDK: `keystroke` sends `typing.start` at most once
//! per `TYPING_START_INTERVAL` and `typing.stop` by itself after `TYPING_STOP_AFTER` of
//! silence (on the client's one timer thread: no thread per channel), `stop_typing`,
//! thread typing, `send_event`, `send_user_custom_event`, and the refusals.

use std::time::Instant;

use serde_json::{Map, json};

use crate::support::process::{own_process, sdk_threads};
use crate::support::*;
use stream_chat_client::{
    ChatClient, ChatEvent, Event, Subscription, TYPING_START_INTERVAL, TYPING_STOP_AFTER,
    TypingStartEvent, TypingStopEvent,
};

/// bender's messaging channel `id` with fry watching; fry's typing events and all his
/// channel's events (which keep fry's client alive).
fn room(
    server: &stream_chat_server::ServerHandle,
    id: &str,
) -> (
    ChatClient,
    stream_chat_client::ChannelClient,
    Events<TypingStartEvent>,
    Events<TypingStopEvent>,
    All,
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
    let starts = Events::<TypingStartEvent>::on(&his);
    let stops = Events::<TypingStopEvent>::on(&his);
    let (tx, rx) = crossbeam_channel::unbounded();
    let sub = his.subscribe(move |e| {
        let _ = tx.send(e.clone());
    });
    let all = All {
        rx,
        _sub: sub,
        _fry: fry,
    };
    // What set-up caused (fry's notification.added_to_channel, user.watching.start) may
    // reach fry's socket after the watch's response: a marker sent now comes after all of
    // it, so each test starts from a quiet channel.
    mine.send_event("ready", Map::new())
        .execute()
        .into_result()
        .unwrap();
    kinds_until(&all, "ready");
    (bender, mine, starts, stops, all)
}

/// Every event of one channel, in order, as fry's client receives them.
struct All {
    rx: crossbeam_channel::Receiver<ChatEvent>,
    _sub: Subscription,
    /// Kept alive with the subscription: a dropped client disconnects (the global
    /// `ChatClient::instance()` keeps only the last client built, in any test).
    _fry: ChatClient,
}

impl All {
    fn next(&self) -> ChatEvent {
        self.rx.recv_timeout(WAIT).expect("an event within WAIT")
    }
}

/// The events of `all` up to the custom event `marker`, their types in order.
fn kinds_until(all: &All, marker: &str) -> Vec<String> {
    let mut kinds = Vec::new();
    loop {
        let e = all.next();
        if e.kind() == marker {
            return kinds;
        }
        kinds.push(e.kind().to_owned());
    }
}

#[test]
fn keystrokes_are_throttled_and_stopped_after_silence() {
    let server = server();
    let (_bender, mine, starts, stops, all) = room(&server, "typing");
    // Taken before the keystroke: every automatic stop is armed after it.
    let typed_at = Instant::now();
    let sent = mine.keystroke(None).execute().into_result().unwrap();
    assert!(sent.is_some());
    let e = starts.next();
    assert_eq!((e.user.unwrap().id.as_str(), e.parent_id), ("bender", None));
    // Within the interval: nothing is sent. A marker after it proves it (events are ordered).
    assert!(
        mine.keystroke(None)
            .execute()
            .into_result()
            .unwrap()
            .is_none()
    );
    mine.send_event("marker", Map::new())
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(kinds_until(&all, "marker"), ["typing.start"]);
    // Silence: typing.stop comes by itself, not before TYPING_STOP_AFTER.
    let e = stops.next();
    let after = typed_at.elapsed();
    assert_eq!(e.user.unwrap().id, "bender");
    assert!(after >= TYPING_STOP_AFTER, "stopped after {after:?}");
    assert!(starts.rx.is_empty(), "no other start");
    // Stopped: the next keystroke starts again at once.
    assert!(
        mine.keystroke(None)
            .execute()
            .into_result()
            .unwrap()
            .is_some()
    );
    starts.next();
    mine.stop_typing(None).execute().into_result().unwrap();
    stops.next();
    assert!(TYPING_START_INTERVAL > TYPING_STOP_AFTER);
}

#[test]
fn a_new_keystroke_postpones_the_automatic_stop() {
    let server = server();
    let (_bender, mine, starts, stops, _all) = room(&server, "postponed");
    let sent = mine.keystroke(Some("p1")).execute().into_result().unwrap();
    assert_eq!(sent.and_then(|e| e.parent_id).as_deref(), Some("p1"));
    assert_eq!(starts.next().parent_id.as_deref(), Some("p1"));
    // The user types on half a stop-delay later (input timing, not a synchronisation).
    std::thread::sleep(TYPING_STOP_AFTER / 2);
    // Taken before the keystroke: its automatic stop is armed after it.
    let last_keystroke = Instant::now();
    assert!(
        mine.keystroke(Some("p1"))
            .execute()
            .into_result()
            .unwrap()
            .is_none()
    );
    let e = stops.next();
    assert_eq!(e.parent_id.as_deref(), Some("p1"), "the thread's stop");
    let quiet = last_keystroke.elapsed();
    assert!(
        quiet >= TYPING_STOP_AFTER,
        "stopped {quiet:?} after the last keystroke"
    );
    assert!(stops.rx.is_empty(), "one stop only");
}

#[test]
fn typing_in_many_channels_adds_no_thread() {
    own_process!(typing_in_many_channels_adds_no_thread);
    if crate::support::process::threads_named("stream-chat-").is_none() {
        eprintln!("no /proc: thread counting skipped");
        return;
    }
    let server = stream_chat_server::Server::builder().start().unwrap();
    let client = connected(&server, "bender");
    let stops = Events::<TypingStopEvent>::of(&client);
    let channels: Vec<_> = (0..20)
        .map(|i| {
            let c = client.channel("messaging", &format!("many-{i}")).unwrap();
            c.create(["bender"]).execute().into_result().unwrap();
            c.watch().execute().into_result().unwrap();
            c
        })
        .collect();
    let before = sdk_threads();
    for c in &channels {
        assert!(c.keystroke(None).execute().into_result().unwrap().is_some());
    }
    assert_eq!(sdk_threads(), before, "twenty pending stops, no new thread");
    let mut stopped: Vec<String> = stops.take(20).into_iter().map(|e| e.cid).collect();
    stopped.sort();
    stopped.dedup();
    assert_eq!(stopped.len(), 20, "each channel stopped once");
    assert_eq!(sdk_threads(), before);
}

#[test]
fn custom_events_carry_their_fields_and_reserved_types_are_refused() {
    let server = server();
    let (bender, mine, _starts, _stops, all) = room(&server, "custom");
    let extra = Map::from_iter([
        ("text".to_owned(), json!("hey")),
        ("n".to_owned(), json!(3)),
    ]);
    let event: Event = mine
        .send_event("friendship_request", extra)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        (event.kind.as_str(), event.user.unwrap().id.as_str()),
        ("friendship_request", "bender")
    );
    let ChatEvent::Other(got) = all.next() else {
        panic!("a custom event is ChatEvent::Other")
    };
    assert_eq!(
        (
            got.kind.as_str(),
            got.extra["text"].as_str(),
            got.extra["n"].as_i64()
        ),
        ("friendship_request", Some("hey"), Some(3))
    );
    assert_eq!(got.cid.as_deref(), Some("messaging:custom"));

    let code = |r: stream_chat_client::ChatResult<Event>| r.error().stream_code();
    assert_eq!(
        code(mine.send_event("message.new", Map::new()).execute()),
        Some(18)
    );
    assert_eq!(
        mine.send_event("", Map::new()).execute().error().kind(),
        stream_chat_client::ErrorKind::InvalidArgument
    );
    let big = Map::from_iter([("data".to_owned(), json!("x".repeat(6000)))]);
    let e = mine.send_event("blob", big).execute().error().clone();
    assert_eq!((e.stream_code(), e.status_code()), (Some(22), Some(413)));
    let e = bender
        .send_event("ping", "messaging", "custom", Map::new())
        .execute();
    assert!(e.is_success());
    // Typing where the channel type has it off.
    let stage = bender.channel("livestream", "stage").unwrap();
    stage.watch().execute().into_result().unwrap();
    let e = stage.keystroke(None).execute().error().clone();
    assert_eq!((e.stream_code(), e.status_code()), (Some(19), Some(400)));
    // Custom events to a user: server-side only.
    let e = bender
        .send_user_custom_event("fry", "poke", Map::new())
        .execute()
        .error()
        .clone();
    assert_eq!((e.stream_code(), e.status_code()), (Some(17), Some(403)));
}

#[test]
fn who_may_send_events_follows_the_default_grants() {
    let server = server();
    let owner = connected(&server, "bender");
    owner
        .channel("messaging", "private")
        .unwrap()
        .create(["bender"])
        .execute()
        .into_result()
        .unwrap();
    owner
        .channel("livestream", "stage")
        .unwrap()
        .watch()
        .execute()
        .into_result()
        .unwrap();
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
        let e = who
            .keystroke("messaging", "private", None)
            .execute()
            .error()
            .clone();
        assert_eq!(e.stream_code(), Some(17), "{e}");
        let e = who
            .send_event("ping", "messaging", "private", Map::new())
            .execute()
            .error()
            .clone();
        assert_eq!(e.stream_code(), Some(17), "{e}");
    }
    regular
        .send_event("ping", "livestream", "stage", Map::new())
        .execute()
        .into_result()
        .unwrap();
    for who in [&guest, &anonymous] {
        let e = who
            .send_event("ping", "livestream", "stage", Map::new())
            .execute()
            .error()
            .clone();
        assert_eq!(e.stream_code(), Some(17), "{e}");
    }
}
