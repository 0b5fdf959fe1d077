//! The socket stays up: the server going away and coming back on the same port, a
//! connection that goes silent (dead-link detection), and server kicks; all recovered
//! without a second connect_user.

use std::time::{Duration, Instant};

use crate::support::*;
use stream_chat_client::{ChatEvent, ConnectionState, User};
use stream_chat_server::Server;

#[test]
fn server_restart_on_the_same_port_reconnects_without_a_second_connect() {
    let server = server();
    let addr = server.addr();
    let client = builder(&server)
        .health_check_interval(Duration::from_millis(500))
        .dead_connection_timeout(Duration::from_secs(2))
        .max_reconnect_delay(Duration::from_millis(500))
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let recorder = Recorder::new(&client);
    let token = server.create_token("bender", None);
    let first = client
        .connect_user(User::new("bender").with_name("Bender"), token)
        .execute()
        .into_result()
        .unwrap();
    recorder.wait_state(ConnectionState::Connected, WAIT);

    let stopped_at = Instant::now();
    server.shutdown();
    let (lost_at, error) = recorder.wait_state(ConnectionState::Disconnected, WAIT);
    eprintln!(
        "server stopped -> Disconnected after {:?} ({error:?})",
        lost_at - stopped_at
    );
    recorder.wait_state(ConnectionState::Reconnecting, WAIT);
    assert!(client.connection_id().is_none());
    assert_eq!(
        client.current_user().unwrap().id,
        "bender",
        "the user stays set while reconnecting"
    );

    let restarted_at = Instant::now();
    let server = Server::builder()
        .addr(addr)
        .start()
        .expect("restart on the same port");
    let (back_at, _) = recorder.wait_state(ConnectionState::Connected, WAIT);
    eprintln!(
        "server restarted -> Connected again after {:?} (down for {:?} in total)",
        back_at - restarted_at,
        back_at - stopped_at
    );
    let connection_id = client.connection_id().expect("connected");
    assert_ne!(connection_id, first.connection_id);
    assert_eq!(client.connection_state(), ConnectionState::Connected);
    assert_eq!(server.usage().concurrent_connections, 1);
    assert_eq!(client.current_user().unwrap().id, "bender");
}

#[test]
fn a_silent_connection_is_declared_dead_and_replaced() {
    let server = server();
    let dead_after = Duration::from_millis(1500);
    let client = builder(&server)
        .health_check_interval(Duration::from_millis(300))
        .dead_connection_timeout(dead_after)
        .max_reconnect_delay(Duration::from_millis(300))
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let recorder = Recorder::new(&client);
    let first = client
        .connect_user(User::new("bender"), server.create_token("bender", None))
        .execute()
        .into_result()
        .unwrap();
    recorder.wait_state(ConnectionState::Connected, WAIT);
    // The server answers pings: health checks keep arriving while the link is healthy.
    let (hc_tx, hc_rx) = crossbeam_channel::unbounded();
    let _hc = client.subscribe_for(&["health.check"], move |e| {
        let _ = hc_tx.send(e.clone());
    });
    assert!(matches!(
        hc_rx.recv_timeout(WAIT),
        Ok(ChatEvent::HealthCheck { .. })
    ));

    server.freeze_connections("bender", true);
    let frozen_at = Instant::now();
    let (dead_at, error) = recorder.wait_state(ConnectionState::Disconnected, WAIT);
    let detected = dead_at - frozen_at;
    eprintln!(
        "frozen link declared dead after {detected:?} (dead_connection_timeout {dead_after:?}): {error:?}"
    );
    assert!(
        detected >= dead_after - Duration::from_millis(400),
        "{detected:?}"
    );
    assert!(
        detected < dead_after + Duration::from_secs(1),
        "{detected:?}"
    );
    server.freeze_connections("bender", false);
    let (back_at, _) = recorder.wait_state(ConnectionState::Connected, WAIT);
    eprintln!(
        "reconnected {:?} after the link was declared dead",
        back_at - dead_at
    );
    assert_ne!(client.connection_id().unwrap(), first.connection_id);
}

#[test]
fn a_kicked_connection_reconnects_with_backoff() {
    let server = server();
    let client = client(&server);
    let recorder = Recorder::new(&client);
    client
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    recorder.wait_state(ConnectionState::Connected, WAIT);
    let kicked_at = Instant::now();
    server.kick_connections("!anon");
    recorder.wait_state(ConnectionState::Disconnected, WAIT);
    recorder.wait_state(ConnectionState::Reconnecting, WAIT);
    let (back_at, _) = recorder.wait_state(ConnectionState::Connected, WAIT);
    let took = back_at - kicked_at;
    eprintln!("kicked anonymous connection back after {took:?}");
    // Stream's first retry waits 250-500 ms.
    assert!(took >= Duration::from_millis(240), "{took:?}");
    assert_eq!(client.current_user().unwrap().id, "!anon");
}

#[test]
fn terminal_errors_on_reconnect_stop_reconnecting_and_clear_the_user() {
    let server = server();
    let addr = server.addr();
    let client = builder(&server)
        .max_reconnect_delay(Duration::from_millis(200))
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let recorder = Recorder::new(&client);
    let (errors_tx, errors_rx) = crossbeam_channel::unbounded();
    let _errors = client.subscribe_for(&["connection.error"], move |e| {
        if let ChatEvent::ConnectionError { error } = e {
            let _ = errors_tx.send(error.stream_code());
        }
    });
    client
        .connect_user(User::new("bender"), server.create_token("bender", None))
        .execute()
        .into_result()
        .unwrap();
    recorder.wait_state(ConnectionState::Connected, WAIT);
    // The app's secret changes: the cached token now has a bad signature (code 43).
    server.shutdown();
    let started = Instant::now();
    let _server = Server::builder()
        .addr(addr)
        .api_secret("a-rotated-secret")
        .start()
        .unwrap();
    // Disconnected twice: the link lost (then Reconnecting), then the terminal error.
    let (_, lost) = recorder.wait_state(ConnectionState::Disconnected, WAIT);
    assert_eq!(
        lost.and_then(|e| e.stream_code()),
        None,
        "the lost link has no Stream code"
    );
    let (ended_at, error) = recorder.wait_state(ConnectionState::Disconnected, WAIT);
    assert!(
        client.current_user().is_none(),
        "a terminal error disconnects the user"
    );
    let error = error.expect("the terminal error");
    eprintln!(
        "code {:?} on every reconnect: gave up after {:?}",
        error.stream_code(),
        ended_at - started
    );
    assert_eq!(error.stream_code(), Some(43));
    let codes: Vec<_> = errors_rx.try_iter().collect();
    assert_eq!(
        codes.len() as u32,
        4,
        "one attempt plus three retries: {codes:?}"
    );
    assert!(codes.iter().all(|c| *c == Some(43)));
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    assert!(client.connection_id().is_none());
}
