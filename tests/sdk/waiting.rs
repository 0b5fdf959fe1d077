//! Calls that need the connection id (watch, queries with watch or presence, query_users
//! with presence) wait for the socket: made before connect_user they succeed once
//! connected (and a subscription made first sees everything); the wait is bounded by
//! wait_for_connection_timeout, with a typed error saying why it ran out. Calls that need
//! only a user go out at once, also while the socket connects or reconnects.

use std::time::{Duration, Instant};

use crate::support::*;
use stream_chat_client::jwt;
use stream_chat_client::{
    ChatClient, ChatEvent, ConnectionState, ErrorKind, Message, QueryChannelsRequest,
    QueryUsersRequest, TokenError, User,
};

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
        .send_message(Message::with_text("the first message"))
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
        .send_message(Message::with_text("hi"))
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

fn users_request(ids: &[&str], presence: bool) -> QueryUsersRequest {
    QueryUsersRequest {
        presence: Some(presence),
        ..users_by_id(ids)
    }
}

#[test]
fn query_users_with_presence_waits_for_the_socket_and_sends_its_connection_id() {
    let server = server();
    let forwarding = proxy(&server, Upgrades::Forward, Rest::Forward);
    let client = ChatClient::builder(server.api_key())
        .base_url(&forwarding.url)
        .build()
        .unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    // Made before anybody connects, like a GUI showing a contact list with online dots.
    client
        .query_users(users_request(&["bender"], true))
        .enqueue(move |r| tx.send(r).unwrap());
    let data = connect_as(&client, &server, "bender");
    let users = rx.recv_timeout(WAIT).unwrap().into_result().unwrap();
    assert_silent(&rx);
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].id, "bender");
    let lines: Vec<_> = forwarding.rest.try_iter().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let connection_id = format!("connection_id={}", data.connection_id);
    assert!(lines[0].contains(&connection_id), "{lines:?}");

    // While a user connects to a socket that does not come up in time: a timeout, and
    // nothing sent.
    let limit = Duration::from_millis(600);
    let holding = proxy(&server, Upgrades::Hold, Rest::Forward);
    let client = ChatClient::builder(server.api_key())
        .base_url(&holding.url)
        .wait_for_connection_timeout(limit)
        .build()
        .unwrap();
    let recorder = Recorder::new(&client);
    client
        .connect_user(User::new("bender"), server.create_token("bender", None))
        .enqueue(|_| {});
    recorder.wait_state(ConnectionState::Connecting, WAIT);
    let started = Instant::now();
    let err = client
        .query_users(users_request(&["fry"], true))
        .execute()
        .into_result()
        .unwrap_err();
    let waited = started.elapsed();
    eprintln!("query_users(presence) while connecting failed after {waited:?}: {err}");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(waited >= limit - Duration::from_millis(20), "{waited:?}");
    assert_eq!(holding.rest.try_iter().count(), 0, "it was not sent");
    client.disconnect().execute().into_result().unwrap();
}

#[test]
fn calls_that_need_only_a_user_go_out_while_the_socket_connects_or_reconnects() {
    let server = server();
    connected(&server, "fry")
        .channel("messaging", "team")
        .unwrap()
        .create(["fry", "bender"])
        .execute()
        .into_result()
        .unwrap();
    for (upgrades, state) in [
        (Upgrades::Hold, ConnectionState::Connecting),
        (Upgrades::ForwardFirst, ConnectionState::Reconnecting),
    ] {
        let proxy = proxy(&server, upgrades, Rest::Forward);
        let client = ChatClient::builder(server.api_key())
            .base_url(&proxy.url)
            .wait_for_connection_timeout(Duration::from_millis(600))
            .max_reconnect_delay(Duration::from_millis(300))
            .build()
            .unwrap();
        let recorder = Recorder::new(&client);
        let connect = client.connect_user(User::new("bender"), server.create_token("bender", None));
        if state == ConnectionState::Reconnecting {
            connect.execute().into_result().unwrap();
            assert_eq!(server.kick_connections("bender"), 1);
        } else {
            connect.enqueue(|_| {});
        }
        recorder.wait_state(state, WAIT);

        // Each of these would fail with Timeout had it waited for the socket.
        let channel = client.channel("messaging", "team").unwrap();
        let text = format!("while {state}");
        let sent = channel
            .send_message(Message::with_text(text.as_str()))
            .execute()
            .into_result()
            .unwrap();
        assert_eq!(sent.text, Some(text));
        channel.mark_read().execute().into_result().unwrap();
        let users = client
            .query_users(users_request(&["fry"], false))
            .execute()
            .into_result()
            .unwrap();
        assert_eq!(users[0].id, "fry");
        let channels = client
            .query_channels(QueryChannelsRequest::default())
            .execute()
            .into_result()
            .unwrap();
        assert!(channels.iter().any(|c| c.channel.cid == "messaging:team"));
        assert_eq!(client.connection_state(), state, "still {state}");
        let lines: Vec<_> = proxy.rest.try_iter().collect();
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(
            lines.iter().all(|l| !l.contains("connection_id=")),
            "no connection id while {state}: {lines:?}"
        );
        client.disconnect().execute().into_result().unwrap();
    }
}
