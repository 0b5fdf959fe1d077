//! No missed message across a dropped socket: after a reconnect the client re-watches its
//! channels and delivers the messages that arrived meanwhile as `message.new`
//! (`recovered: true`), once each and in order, then `connection.recovered`. The socket is
//! cut by the server (kick) or goes silent until the health check declares it dead
//! (freeze).

use std::time::{Duration, Instant};

use crate::support::*;
use stream_chat_client::{
    ChatClient, ChatEvent, ConnectionRecoveredEvent, ConnectionState, Message, MessagePagination,
    NewMessageEvent, QueryChannelRequest,
};
use stream_chat_server::ServerHandle;

/// A client that notices a dead link within 1.5 s and reconnects within 0.3 s.
fn watcher_client(server: &ServerHandle) -> ChatClient {
    builder(server)
        .health_check_interval(Duration::from_millis(300))
        .dead_connection_timeout(Duration::from_millis(1500))
        .max_reconnect_delay(Duration::from_millis(300))
        .connect_timeout(Duration::from_secs(3))
        .build()
        .unwrap()
}

/// The new-message events up to (without) the one with text `marker`.
fn until(events: &Events<NewMessageEvent>, marker: &str) -> Vec<NewMessageEvent> {
    let mut got = Vec::new();
    loop {
        let e = events.next();
        if e.message.text.as_deref() == Some(marker) {
            return got;
        }
        got.push(e);
    }
}

/// The new-message events up to and including the one with text `last`.
fn until_text(events: &Events<NewMessageEvent>, last: &str) -> Vec<NewMessageEvent> {
    let mut got = Vec::new();
    loop {
        let e = events.next();
        let done = e.message.text.as_deref() == Some(last);
        got.push(e);
        if done {
            return got;
        }
    }
}

/// Waits until the client tried to reconnect and was refused, then lets it in. The client
/// only logs refusals; the server counts them.
fn allow_reconnects(server: &ServerHandle, user: &str) {
    assert_server(
        server,
        &format!("a refused reconnect attempt of {user}"),
        WAIT,
        |c| c.refused_connections(user) > 0,
    );
    server.refuse_connections(user, false);
}

fn numbered(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("m{i:03}")).collect()
}

#[test]
fn messages_posted_while_kicked_arrive_after_the_reconnect_once_and_in_order() {
    let server = server();
    let watcher = watcher_client(&server);
    connect_as(&watcher, &server, "bender");
    let recorder = Recorder::new(&watcher);
    let channel = watcher.channel("livestream", "kick").unwrap();
    let events = Events::<NewMessageEvent>::on(&channel);
    let recoveries = Events::<ConnectionRecoveredEvent>::of(&watcher);
    channel.watch().execute().into_result().unwrap();
    let poster = connected(&server, "fry");
    let out = poster.channel_cid("livestream:kick").unwrap();

    for text in numbered(0..5) {
        post(&out, &text);
    }
    let live = events.take(5);
    assert_eq!(texts(&live), numbered(0..5));
    assert!(live.iter().all(|e| !e.recovered));

    // Reconnects are refused until the missed messages are posted: strictly while down.
    server.refuse_connections("bender", true);
    let kicked_at = Instant::now();
    assert_eq!(server.kick_connections("bender"), 1);
    recorder.wait_state(ConnectionState::Disconnected, WAIT);
    for text in numbered(5..15) {
        post(&out, &text);
    }
    allow_reconnects(&server, "bender");
    let recovery = recoveries.next();
    eprintln!(
        "kick -> connection.recovered after {:?}: {} message(s) recovered",
        kicked_at.elapsed(),
        recovery.recovered_messages
    );
    assert_eq!(recovery.channels, ["livestream:kick"]);
    assert!(recovery.gaps.is_empty(), "{:?}", recovery.gaps);
    assert_eq!(
        recovery.connection_id,
        watcher.connection_id().unwrap(),
        "recovered on the new connection"
    );
    post(&out, "end");
    let after = until(&events, "end");
    assert_eq!(texts(&after), numbered(5..15), "each once, in order");
    assert!(
        after.iter().all(|e| e.recovered),
        "none arrived live while down"
    );
    assert_eq!(recovery.recovered_messages, 10);
    // The channel is watched on the new connection: live events flow again.
    post(&out, "live again");
    let e = events.next();
    assert_eq!(e.message.text.as_deref(), Some("live again"));
    assert!(!e.recovered);
}

#[test]
fn an_anonymous_viewer_misses_nothing_while_a_poster_keeps_posting_across_the_kick() {
    // Long enough that posting goes on while the viewer reconnects and recovers, so live
    // events arrive during the recovery and must wait behind the recovered ones.
    const TOTAL: usize = 1000;
    // 1,000 messages from one user at once: over Stream's 60 a minute, so limits off.
    let server = stream_chat_server::Server::builder()
        .rate_limits(stream_chat_server::RateLimits::off())
        .start()
        .unwrap();
    let host = connected(&server, "bender");
    let stage = host.channel("livestream", "busy").unwrap();
    stage.watch().execute().into_result().unwrap();

    let viewer = builder(&server)
        .max_reconnect_delay(Duration::from_millis(300))
        .max_recovered_messages(TOTAL)
        .build()
        .unwrap();
    viewer
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    let channel = viewer.channel_cid("livestream:busy").unwrap();
    let events = Events::<NewMessageEvent>::on(&channel);
    let recoveries = Events::<ConnectionRecoveredEvent>::of(&viewer);
    channel.watch().execute().into_result().unwrap();

    let poster = {
        let stage = stage.clone();
        std::thread::spawn(move || {
            for text in numbered(0..TOTAL) {
                post(&stage, &text);
            }
        })
    };
    // Cut the viewer's socket in the middle of the stream.
    let mut got = events.take(20);
    let kicked_at = Instant::now();
    assert_eq!(server.kick_connections("!anon"), 1);
    let recovery = recoveries.next();
    let took = kicked_at.elapsed();
    poster.join().unwrap();
    post(&stage, "end");
    got.extend(until(&events, "end"));
    let recovered = got.iter().filter(|e| e.recovered).count();
    eprintln!(
        "{TOTAL} messages, kick after 20: recovered {recovered} ({} reported) in {took:?}",
        recovery.recovered_messages
    );
    assert_eq!(texts(&got), numbered(0..TOTAL), "each once, in order");
    assert!(recovery.gaps.is_empty(), "{:?}", recovery.gaps);
    assert_eq!(recovered, recovery.recovered_messages);
    let last_recovered = got.iter().rposition(|e| e.recovered).unwrap_or(0);
    let live_after = got[last_recovered..]
        .iter()
        .filter(|e| !e.recovered)
        .count();
    eprintln!("{live_after} live message(s) followed the recovered ones");
}

#[test]
fn messages_posted_while_the_link_is_frozen_arrive_after_it_is_declared_dead() {
    let server = server();
    let watcher = watcher_client(&server);
    connect_as(&watcher, &server, "bender");
    let recorder = Recorder::new(&watcher);
    let channel = watcher.channel("livestream", "freeze").unwrap();
    let events = Events::<NewMessageEvent>::on(&channel);
    let recoveries = Events::<ConnectionRecoveredEvent>::of(&watcher);
    channel.watch().execute().into_result().unwrap();
    let poster = connected(&server, "fry");
    let out = poster.channel_cid("livestream:freeze").unwrap();
    post(&out, "before");
    assert_eq!(events.next().message.text.as_deref(), Some("before"));

    let frozen_at = Instant::now();
    assert_eq!(server.freeze_connections("bender", true), 1);
    // The freeze is in force once the call returns: the server drops all of these for
    // the frozen socket and recovery brings them.
    for text in numbered(0..10) {
        post(&out, &text);
    }
    let (dead_at, error) = recorder.wait_state(ConnectionState::Disconnected, WAIT);
    let recovery = recoveries.next();
    eprintln!(
        "freeze -> declared dead after {:?} ({}) -> connection.recovered after {:?} in total",
        dead_at - frozen_at,
        error.map(|e| e.to_string()).unwrap_or_default(),
        frozen_at.elapsed()
    );
    let got = events.take(10);
    assert_eq!(texts(&got), numbered(0..10), "each once, in order");
    let flagged = got.iter().filter(|e| e.recovered).count();
    assert_eq!(flagged, recovery.recovered_messages);
    assert_eq!(flagged, 10, "none arrives live on a frozen socket");
    assert_eq!(got[9].user.as_ref().unwrap().id, "fry");
    server.freeze_connections("bender", false);
    post(&out, "end");
    assert!(
        until(&events, "end").is_empty(),
        "nothing twice after the thaw"
    );
}

#[test]
fn beyond_the_bound_the_newest_are_delivered_and_the_gap_can_be_paged_back() {
    let server = server();
    let watcher = builder(&server)
        .health_check_interval(Duration::from_millis(300))
        .dead_connection_timeout(Duration::from_millis(1500))
        .max_reconnect_delay(Duration::from_millis(300))
        .max_recovered_messages(5)
        .build()
        .unwrap();
    connect_as(&watcher, &server, "bender");
    let channel = watcher.channel("livestream", "bound").unwrap();
    let events = Events::<NewMessageEvent>::on(&channel);
    let recoveries = Events::<ConnectionRecoveredEvent>::of(&watcher);
    channel.watch().execute().into_result().unwrap();
    let poster = connected(&server, "fry");
    let out = poster.channel_cid("livestream:bound").unwrap();
    post(&out, "seen");
    events.next();

    server.freeze_connections("bender", true);
    let sent: Vec<Message> = numbered(0..8).iter().map(|t| post(&out, t)).collect();
    let recovery = recoveries.next();
    server.freeze_connections("bender", false);
    assert_eq!(recovery.recovered_messages, 5);
    assert_eq!(recovery.gaps.len(), 1, "{:?}", recovery.gaps);
    let gap = &recovery.gaps[0];
    assert_eq!(gap.cid, "livestream:bound");
    assert!(gap.error.is_none());
    assert_eq!(gap.before_message_id.as_deref(), Some(sent[3].id.as_str()));
    let got = until_text(&events, "m007");
    let recovered: Vec<_> = got.iter().filter(|e| e.recovered).cloned().collect();
    assert_eq!(texts(&recovered), numbered(3..8), "the newest five");
    assert_eq!(got.len(), 5, "nothing arrives live on a frozen socket");

    // The documented call for the rest: page back from the gap.
    let older = channel
        .query(QueryChannelRequest {
            state: Some(true),
            messages: Some(MessagePagination {
                limit: Some(100),
                id_lt: gap.before_message_id.clone(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .execute()
        .into_result()
        .unwrap();
    let texts: Vec<_> = older
        .messages
        .iter()
        .filter_map(|m| m.text.clone())
        .collect();
    assert_eq!(texts, ["seen", "m000", "m001", "m002"]);
}

#[test]
fn every_watched_channel_is_recovered_and_stopped_ones_are_not() {
    let server = server();
    let watcher = watcher_client(&server);
    connect_as(&watcher, &server, "bender");
    let recorder = Recorder::new(&watcher);
    let events = Events::<NewMessageEvent>::of(&watcher);
    let recoveries = Events::<ConnectionRecoveredEvent>::of(&watcher);
    let poster = connected(&server, "fry");
    let mut outs = Vec::new();
    for id in ["a", "b", "c"] {
        let mine = watcher.channel("livestream", id).unwrap();
        mine.watch().execute().into_result().unwrap();
        if id == "c" {
            mine.stop_watching().execute().into_result().unwrap();
        }
        outs.push(poster.channel("livestream", id).unwrap());
    }
    // A messaging channel through query_channels(watch) is tracked as well.
    poster
        .channel("messaging", "team")
        .unwrap()
        .create(["fry", "bender"])
        .execute()
        .into_result()
        .unwrap();
    let mut request = stream_chat_client::QueryChannelsRequest {
        watch: Some(true),
        ..Default::default()
    };
    request
        .filter_conditions
        .insert("type".into(), serde_json::json!("messaging"));
    watcher
        .query_channels(request)
        .execute()
        .into_result()
        .unwrap();
    outs.push(poster.channel("messaging", "team").unwrap());

    server.refuse_connections("bender", true);
    server.kick_connections("bender");
    recorder.wait_state(ConnectionState::Disconnected, WAIT);
    for out in &outs {
        post(out, &format!("while down in {}", out.cid()));
    }
    allow_reconnects(&server, "bender");
    let recovery = recoveries.next();
    assert_eq!(
        recovery.channels,
        ["livestream:a", "livestream:b", "messaging:team"]
    );
    post(&outs[0], "end");
    let got = until(&events, "end");
    assert!(
        got.iter().all(|e| e.recovered),
        "none arrived live while down"
    );
    let mut cids: Vec<_> = got.iter().map(|e| e.cid.as_str()).collect();
    cids.sort();
    assert_eq!(cids, ["livestream:a", "livestream:b", "messaging:team"]);
}

#[test]
fn connection_recovered_follows_every_reconnect_and_disconnect_forgets_the_watches() {
    let server = server();
    let watcher = watcher_client(&server);
    let recorder = Recorder::new(&watcher);
    connect_as(&watcher, &server, "bender");
    watcher
        .channel("livestream", "x")
        .unwrap()
        .watch()
        .execute()
        .into_result()
        .unwrap();
    watcher.disconnect().execute().into_result().unwrap();
    connect_as(&watcher, &server, "bender");
    server.kick_connections("bender");
    let mut kinds = Vec::new();
    let recovered = loop {
        let (_, e) = recorder.rx.recv_timeout(WAIT).expect("events");
        match e {
            ChatEvent::ConnectionRecovered(r) => break r,
            ChatEvent::ConnectionChanged { state, .. } => kinds.push(state.to_string()),
            _ => {}
        }
    };
    assert_eq!(
        kinds,
        [
            "connecting",
            "connected",
            "disconnected",
            "connecting",
            "connected",
            "disconnected",
            "reconnecting",
            "connected"
        ]
    );
    assert!(recovered.channels.is_empty(), "{:?}", recovered.channels);
    assert_eq!(recovered.recovered_messages, 0);
}

#[test]
fn edits_and_deletions_made_while_down_are_replayed_after_the_reconnect() {
    let server = server();
    let watcher = watcher_client(&server);
    let recorder = Recorder::new(&watcher);
    connect_as(&watcher, &server, "bender");
    let channel = watcher.channel("livestream", "edits").unwrap();
    let events = Events::<NewMessageEvent>::on(&channel);
    let updates = Events::<stream_chat_client::MessageUpdatedEvent>::on(&channel);
    let deletions = Events::<stream_chat_client::MessageDeletedEvent>::on(&channel);
    let recoveries = Events::<ConnectionRecoveredEvent>::of(&watcher);
    channel.watch().execute().into_result().unwrap();
    let poster = connected(&server, "fry");
    let out = poster.channel_cid("livestream:edits").unwrap();
    let mut edited = post(&out, "typo");
    let deleted = post(&out, "regret");
    let kept = post(&out, "fine");
    assert_eq!(events.take(3).len(), 3);

    server.refuse_connections("bender", true);
    server.kick_connections("bender");
    recorder.wait_state(ConnectionState::Disconnected, WAIT);
    edited.text = Some("fixed".into());
    out.update_message(edited.clone())
        .execute()
        .into_result()
        .unwrap();
    out.delete_message(&deleted.id, false)
        .execute()
        .into_result()
        .unwrap();
    post(&out, "new");
    allow_reconnects(&server, "bender");

    recoveries.next();
    let e = updates.next();
    assert_eq!(e.message.id, edited.id);
    assert_eq!(e.message.text.as_deref(), Some("fixed"));
    assert_eq!(e.extra["recovered"], true);
    let e = deletions.next();
    assert_eq!(e.message.id, deleted.id);
    assert!(!e.hard_delete);
    assert_eq!(events.next().message.text.as_deref(), Some("new"));
    // Nothing else changed: the unchanged message is not replayed, nothing comes twice.
    post(&out, "end");
    assert_eq!(texts(&until(&events, "end")), Vec::<String>::new());
    assert!(updates.rx.try_recv().is_err(), "{} replayed", kept.id);
    assert!(deletions.rx.try_recv().is_err());
}
