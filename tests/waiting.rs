//! Calls that need the connection id wait for the socket: made before connect_user they
//! succeed once connected (and a subscription made first sees everything); the wait is
//! bounded by wait_for_connection_timeout, with a typed error saying why it ran out.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::*;
use stream_chat_client::{
    ChatClient, ChatEvent, ConnectionState, ErrorKind, Message, QueryChannelsRequest, TokenError,
    User,
};
use stream_chat_protocol::jwt;

/// A peer that accepts TCP and never answers (a socket that never comes up).
fn silent_peer() -> (String, crossbeam_channel::Receiver<std::net::TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            if tx.send(stream).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

#[test]
fn watch_made_before_connect_user_waits_and_a_prior_subscription_sees_the_first_events() {
    let server = server();
    let client = client(&server);
    // Subscribed and watching before anything is connected, like a GUI starting up.
    let recorder = Recorder::new(&client);
    let channel = client.channel("livestream", "early").unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    channel
        .watch()
        .enqueue(move |r| tx.send((Instant::now(), r)).unwrap());

    let fry = connected(&server, "fry");
    let fry_channel = fry.channel_cid("livestream:early").unwrap();
    fry_channel.watch().execute().into_result().unwrap();

    client
        .connect_user(User::new("bender"), server.create_token("bender", None))
        .execute()
        .into_result()
        .unwrap();
    let (_, result) = rx.recv_timeout(WAIT).expect("the watch resolves");
    let state = result.into_result().unwrap();
    assert_eq!(state.channel.cid, "livestream:early");
    assert!(state.watchers.iter().any(|u| u.id == "bender"));
    assert_silent(&rx); // one callback

    let sent = fry_channel
        .send_message(Message::text("the first message"))
        .execute()
        .into_result()
        .unwrap();
    let mut kinds = Vec::new();
    let first_message = loop {
        let (_, event) = recorder.rx.recv_timeout(WAIT).expect("events arrive");
        kinds.push(event.kind().to_owned());
        if let ChatEvent::MessageNew(e) = event {
            break e;
        }
    };
    assert_eq!(first_message.message.id, sent.id, "the first message.new");
    assert_eq!(
        kinds[..3],
        ["connection.changed", "connection.changed", "health.check"]
    );
    let states: Vec<_> = recorder.states_so_far();
    assert!(states.is_empty(), "no more state changes: {states:?}");
}

#[test]
fn with_nobody_connecting_the_wait_ends_not_connected_after_the_timeout() {
    let server = server();
    let limit = Duration::from_millis(600);
    let client = builder(&server)
        .wait_for_connection_timeout(limit)
        .build()
        .unwrap();
    let channel = client.channel("livestream", "lonely").unwrap();
    let started = Instant::now();
    let err = channel.watch().execute().into_result().unwrap_err();
    let waited = started.elapsed();
    eprintln!("watch() without a user failed after {waited:?}: {err}");
    assert_eq!(err.kind(), ErrorKind::NotConnected, "{err}");
    assert!(
        err.message().contains("wait_for_connection_timeout"),
        "{err}"
    );
    assert!(waited >= limit - Duration::from_millis(20), "{waited:?}");
    assert!(waited < limit + Duration::from_millis(700), "{waited:?}");

    let err = client
        .query_channels(QueryChannelsRequest {
            watch: Some(true),
            ..Default::default()
        })
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotConnected, "{err}");

    // Calls that need only a user do not wait.
    let started = Instant::now();
    let err = channel
        .send_message(Message::text("hi"))
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotConnected, "{err}");
    assert!(started.elapsed() < limit, "{:?}", started.elapsed());
}

#[test]
fn with_a_socket_that_never_comes_up_the_wait_ends_with_a_timeout() {
    let (url, accepted) = silent_peer();
    let limit = Duration::from_millis(600);
    let client = ChatClient::builder("key")
        .base_url(url)
        .connect_timeout(Duration::from_secs(10))
        .wait_for_connection_timeout(limit)
        .build()
        .unwrap();
    let recorder = Recorder::new(&client);
    client
        .connect_user(User::new("bender"), jwt::dev_token("bender"))
        .enqueue(|_| {});
    recorder.wait_state(ConnectionState::Connecting, WAIT);
    let _held = accepted
        .recv_timeout(WAIT)
        .expect("the socket is being opened");
    let started = Instant::now();
    let err = client
        .channel("livestream", "x")
        .unwrap()
        .watch()
        .execute()
        .into_result()
        .unwrap_err();
    let waited = started.elapsed();
    eprintln!("watch() against a silent server failed after {waited:?}: {err}");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(waited >= limit - Duration::from_millis(20), "{waited:?}");
    assert!(waited < limit + Duration::from_millis(700), "{waited:?}");
    client.disconnect().execute().into_result().unwrap();
}

#[test]
fn disconnect_or_a_failed_connect_ends_the_wait_at_once() {
    let (url, accepted) = silent_peer();
    let client = ChatClient::builder("key")
        .base_url(url)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let recorder = Recorder::new(&client);
    client
        .connect_user(User::new("bender"), jwt::dev_token("bender"))
        .enqueue(|_| {});
    recorder.wait_state(ConnectionState::Connecting, WAIT);
    let _held = accepted.recv_timeout(WAIT).unwrap();
    // Made while bender is connecting: it belongs to that session, whether its work
    // starts before or after the disconnect.
    let (tx, rx) = crossbeam_channel::unbounded();
    client
        .channel("livestream", "x")
        .unwrap()
        .watch()
        .enqueue(move |r| tx.send(r).unwrap());
    let started = Instant::now();
    client.disconnect().execute().into_result().unwrap();
    let err = rx
        .recv_timeout(WAIT)
        .expect("the waiting call resolves")
        .into_result()
        .unwrap_err();
    eprintln!(
        "disconnect() ended a waiting watch after {:?}",
        started.elapsed()
    );
    assert_eq!(err.kind(), ErrorKind::NotConnected, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // A connect refused by the server (bad signature, code 43) ends it too. The provider
    // holds the session in Connecting until the watch call is made.
    let server = server();
    let client = builder(&server)
        .wait_for_connection_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let (release, released) = crossbeam_channel::bounded::<()>(1);
    let provider = move || -> Result<String, TokenError> {
        released.recv_timeout(WAIT)?;
        Ok(jwt::user_token(b"not-the-secret", "bender", None))
    };
    let recorder = Recorder::new(&client);
    client
        .connect_user(User::new("bender"), provider)
        .enqueue(|_| {});
    recorder.wait_state(ConnectionState::Connecting, WAIT);
    let watch = client.channel("livestream", "x").unwrap().watch();
    let (tx, rx) = crossbeam_channel::unbounded();
    watch.enqueue(move |r| tx.send(r).unwrap());
    let started = Instant::now();
    release.send(()).unwrap();
    let err = rx.recv_timeout(WAIT).unwrap().into_result().unwrap_err();
    eprintln!(
        "a refused connect ended a waiting watch after {:?}: {err}",
        started.elapsed()
    );
    assert_eq!(err.kind(), ErrorKind::NotConnected, "{err}");
    let cause = std::error::Error::source(&err).map(|c| c.to_string());
    assert!(
        cause.as_deref().is_some_and(|c| c.contains("signature")),
        "{cause:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn cancelling_a_waiting_call_wakes_it_at_once() {
    let server = server();
    let client = builder(&server)
        .wait_for_connection_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let call = client.channel("livestream", "x").unwrap().watch();
    let handle = call.cancel_handle();
    let (tx, rx) = crossbeam_channel::unbounded();
    let waiter = std::thread::spawn(move || {
        let result = call.execute();
        tx.send(Instant::now()).unwrap();
        result
    });
    let started = Instant::now();
    handle.cancel();
    let ended = rx.recv_timeout(WAIT).expect("execute returns");
    let result = waiter.join().unwrap();
    assert!(result.error().is_cancelled(), "{:?}", result.error());
    assert!(
        ended.saturating_duration_since(started) < Duration::from_secs(1),
        "{:?}",
        ended.saturating_duration_since(started)
    );
}
