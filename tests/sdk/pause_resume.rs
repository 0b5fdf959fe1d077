//! `disconnect_socket()` / `reconnect_socket()`: the pause and resume hooks an app calls
//! from its own lifecycle (a Rust library has none), and `subscribe_for_single`. Real
//! sockets against the in-process server.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::support::*;
use stream_chat_client::{
    ChatClient, ChatEvent, ConnectionRecoveredEvent, ConnectionState, ErrorKind, NewMessageEvent,
    User,
};
use stream_chat_server::ServerHandle;

/// Open sockets of `user` on the server (un-freezing changes nothing, and counts them).
fn sockets_of(server: &ServerHandle, user: &str) -> usize {
    server.freeze_connections(user, false)
}

#[test]
fn a_paused_client_has_no_socket_keeps_its_user_and_gets_no_events() {
    let server = server();
    let client = client(&server);
    let token = server.create_token("bender", None);
    client
        .connect_user(User::new("bender"), token.as_str())
        .execute()
        .into_result()
        .unwrap();
    let channel = client.channel("livestream", "paused").unwrap();
    channel.watch().execute().into_result().unwrap();
    assert_eq!(sockets_of(&server, "bender"), 1);
    let recorder = Recorder::new(&client);

    enqueue_and_wait(&client.disconnect_socket())
        .into_result()
        .unwrap();
    let (_, error) = recorder.wait_state(ConnectionState::Disconnected, WAIT);
    assert!(
        error.is_none(),
        "a requested pause is no failure: {error:?}"
    );
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    assert_eq!(client.connection_id(), None);
    assert_eq!(
        client.current_user().unwrap().id,
        "bender",
        "the user is kept"
    );
    assert_eq!(client.current_token().as_deref(), Some(token.as_str()));
    // The server closes the socket on its own task: wait for its count.
    assert_server(&server, "the server closed bender's socket", WAIT, |c| {
        c.usage.concurrent_connections == 0
    });

    let poster = connected(&server, "fry");
    let out = poster.channel_cid("livestream:paused").unwrap();
    out.watch().execute().into_result().unwrap();
    // The poster's own echoes prove the messages went out to the watchers by now.
    let echo = Events::<NewMessageEvent>::on(&out);
    post(&out, "while paused");
    post(&out, "second");
    assert_eq!(texts(&echo.take(2)), ["while paused", "second"]);
    assert_eq!(
        sockets_of(&server, "bender"),
        0,
        "no reconnect while paused"
    );
    let leaked: Vec<String> = recorder
        .rx
        .try_iter()
        .map(|(_, e)| e.kind().to_owned())
        .collect();
    assert!(leaked.is_empty(), "events while paused: {leaked:?}");
}

#[test]
fn messages_posted_while_paused_arrive_after_reconnect_socket_once_in_order_recovered() {
    let server = server();
    let (source, loads) = counting_provider({
        let token = server.create_token("bender", None);
        move |_| token.clone()
    });
    let client = client(&server);
    let first = client
        .connect_user(User::new("bender"), source)
        .execute()
        .into_result()
        .unwrap();
    let channel = client.channel("livestream", "resume").unwrap();
    let events = Events::<NewMessageEvent>::on(&channel);
    let recoveries = Events::<ConnectionRecoveredEvent>::of(&client);
    channel.watch().execute().into_result().unwrap();
    let poster = connected(&server, "fry");
    let out = poster.channel_cid("livestream:resume").unwrap();
    post(&out, "live");
    let live = events.next();
    assert_eq!(live.message.text.as_deref(), Some("live"));
    assert!(!live.recovered);

    client.disconnect_socket().execute().into_result().unwrap();
    // As above: the server's count of sockets.
    assert_server(&server, "the server closed bender's socket", WAIT, |c| {
        c.connections_of("bender") == 0
    });
    let missed: Vec<String> = (1..=5).map(|i| format!("m{i}")).collect();
    for text in &missed {
        post(&out, text);
    }

    let data = enqueue_and_wait(&client.reconnect_socket())
        .into_result()
        .unwrap();
    assert_ne!(data.connection_id, first.connection_id, "a new socket");
    assert_eq!(data.user.id, "bender");
    assert_eq!(client.connection_state(), ConnectionState::Connected);
    assert_eq!(
        loads.load(Ordering::SeqCst),
        1,
        "the cached token was reused"
    );
    let recovery = recoveries.next();
    assert_eq!(recovery.channels, ["livestream:resume"]);
    assert_eq!(recovery.connection_id, data.connection_id);
    assert_eq!(recovery.recovered_messages, 5);

    post(&out, "end");
    let mut after = Vec::new();
    loop {
        let e = events.next();
        if e.message.text.as_deref() == Some("end") {
            assert!(!e.recovered, "live again after the recovery");
            break;
        }
        after.push(e);
    }
    assert_eq!(texts(&after), missed, "each once, in order");
    assert!(after.iter().all(|e| e.recovered), "{after:?}");
}

#[test]
fn pause_and_resume_without_a_user_fail_not_connected() {
    let server = server();
    let client = client(&server);
    let err = enqueue_and_wait(&client.reconnect_socket());
    assert_eq!(err.error().kind(), ErrorKind::NotConnected);
    let err = enqueue_and_wait(&client.disconnect_socket());
    assert_eq!(err.error().kind(), ErrorKind::NotConnected);

    // After disconnect() the user is gone: nothing to resume.
    connect_as(&client, &server, "bender");
    client.disconnect().execute().into_result().unwrap();
    let err = client.reconnect_socket().execute();
    assert_eq!(err.error().kind(), ErrorKind::NotConnected);
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
}

#[test]
fn pausing_twice_is_fine_and_resuming_a_live_socket_returns_it() {
    let server = server();
    let client = client(&server);
    let first = connect_as(&client, &server, "bender");
    let same = client.reconnect_socket().execute().into_result().unwrap();
    assert_eq!(same, first, "already up: the current connection");

    client.disconnect_socket().execute().into_result().unwrap();
    enqueue_and_wait(&client.disconnect_socket())
        .into_result()
        .unwrap();
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    let data = client.reconnect_socket().execute().into_result().unwrap();
    assert_eq!(client.connection_id(), Some(data.connection_id.clone()));
    assert_eq!(sockets_of(&server, "bender"), 1);

    // disconnect() still ends a paused session for good.
    client.disconnect_socket().execute().into_result().unwrap();
    client.disconnect().execute().into_result().unwrap();
    assert!(client.current_user().is_none());
}

#[test]
fn subscribe_for_single_delivers_exactly_one_event() {
    let server = server();
    let client: ChatClient = connected(&server, "bender");
    let channel = client.channel("livestream", "single").unwrap();
    channel.watch().execute().into_result().unwrap();
    // Registered first, so each event reaches it before the counting listener below.
    let (tx, once) = crossbeam_channel::unbounded();
    let single = client.subscribe_for_single(&["message.new", "reaction.new"], move |e| {
        let _ = tx.send(e.clone());
    });
    let all = Events::<NewMessageEvent>::of(&client);

    // Events from several posters at once.
    let posters: Vec<_> = (0..4)
        .map(|i| {
            let server_user = format!("poster{i}");
            let poster = connected(&server, &server_user);
            std::thread::spawn(move || {
                let out = poster.channel_cid("livestream:single").unwrap();
                for n in 0..5 {
                    post(&out, &format!("{i}-{n}"));
                }
            })
        })
        .collect();
    for p in posters {
        p.join().unwrap();
    }
    all.take(20);
    let first = once.recv_timeout(WAIT).expect("one event");
    assert!(matches!(first, ChatEvent::MessageNew(_)), "{first:?}");
    assert!(once.try_recv().is_err(), "a second delivery");
    assert!(single.is_disposed());
}

#[test]
fn a_refused_resume_times_out_typed_within_the_connect_timeout_then_keeps_trying() {
    let server = server();
    let limit = Duration::from_millis(800);
    let client = builder(&server)
        .connect_timeout(limit)
        .max_reconnect_delay(Duration::from_millis(300))
        .build()
        .unwrap();
    connect_as(&client, &server, "bender");
    client.disconnect_socket().execute().into_result().unwrap();
    server.refuse_connections("bender", true);
    let recorder = Recorder::new(&client);

    let started = Instant::now();
    let result = enqueue_and_wait(&client.reconnect_socket());
    let took = started.elapsed();
    assert_eq!(
        result.error().kind(),
        ErrorKind::Timeout,
        "{}",
        result.error()
    );
    assert!(
        took >= limit && took < limit + Duration::from_secs(2),
        "{took:?}"
    );
    assert!(server.refused_connections("bender") >= 1, "it did try");
    assert_eq!(
        client.current_user().unwrap().id,
        "bender",
        "the user is kept"
    );

    // Like after a lost connection, the client keeps trying and gets in once allowed.
    server.refuse_connections("bender", false);
    recorder.wait_state(ConnectionState::Connected, WAIT);
    assert_eq!(sockets_of(&server, "bender"), 1);
}
