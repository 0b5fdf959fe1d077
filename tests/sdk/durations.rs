//! Builder durations (review #2, #3): huge values mean "no limit" and never overflow a
//! deadline, meaningless ones are typed errors, and a zero reconnect delay is not a
//! busy loop.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::support::WAIT;
use stream_chat_client::{ChatClient, ConnectionState, ErrorKind, QueryUsersRequest, User};
use stream_chat_server::Server;

#[test]
fn duration_max_means_no_limit_and_nothing_panics() {
    let server = Server::builder().start().unwrap();
    let client = ChatClient::builder(server.api_key())
        .base_url(server.base_url())
        .connect_timeout(Duration::MAX)
        .request_timeout(Duration::MAX)
        .wait_for_connection_timeout(Duration::MAX)
        .dead_connection_timeout(Duration::MAX)
        .max_reconnect_delay(Duration::MAX)
        .build()
        .unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    client
        .connect_user(User::new("bender"), server.create_token("bender", None))
        .enqueue(move |r| tx.send(r).unwrap());
    let data = rx.recv_timeout(WAIT).unwrap().into_result().unwrap();
    assert_eq!(data.user.id, "bender");
    let users = client
        .query_users(QueryUsersRequest::default())
        .execute()
        .into_result()
        .unwrap();
    assert!(users.iter().any(|u| u.id == "bender"));
    // Waits for the connection with wait_for_connection_timeout = MAX.
    let channel = client.channel("livestream", "durations").unwrap();
    channel.watch().execute().into_result().unwrap();
    client.disconnect().execute().into_result().unwrap();
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    client.shutdown();
}

#[test]
fn meaningless_durations_are_typed_errors() {
    let build = |b: stream_chat_client::ChatClientBuilder| b.build().map(|c| c.shutdown());
    let base = || ChatClient::builder("key");
    for (what, result) in [
        (
            "zero connect",
            build(base().connect_timeout(Duration::ZERO)),
        ),
        (
            "zero request",
            build(base().request_timeout(Duration::ZERO)),
        ),
        (
            "zero health",
            build(base().health_check_interval(Duration::ZERO)),
        ),
        (
            "dead == health",
            build(
                base()
                    .health_check_interval(Duration::from_secs(5))
                    .dead_connection_timeout(Duration::from_secs(5)),
            ),
        ),
        (
            "dead < health",
            build(base().dead_connection_timeout(Duration::from_secs(1))),
        ),
        (
            "health MAX (above the default dead timeout)",
            build(base().health_check_interval(Duration::MAX)),
        ),
    ] {
        let err = result.expect_err(what);
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{what}: {err}");
    }
    // A zero reconnect delay is raised to Stream's 250 ms floor, not refused.
    build(base().max_reconnect_delay(Duration::ZERO)).unwrap();
}

#[test]
fn a_zero_max_reconnect_delay_is_not_a_busy_loop() {
    let server = Server::builder().start().unwrap();
    let client = ChatClient::builder(server.api_key())
        .base_url(server.base_url())
        .max_reconnect_delay(Duration::ZERO)
        .build()
        .unwrap();
    client
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    let addr = server.addr();
    server.shutdown();
    // Something that accepts and drops at the server's address: every reconnect attempt
    // reaches it and fails at once.
    let listener = TcpListener::bind(addr).unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if tx.send(stream.is_ok()).is_err() {
                return;
            }
        }
    });
    let window = Duration::from_millis(1500);
    let first = rx.recv_timeout(WAIT).expect("the client reconnects");
    assert!(first);
    let until = Instant::now() + window;
    let mut attempts = 1;
    while rx.recv_deadline(until).is_ok() {
        attempts += 1;
    }
    eprintln!("max_reconnect_delay(0): {attempts} reconnect attempts in {window:?} (250 ms floor)");
    assert!(attempts <= 8, "{attempts} attempts in {window:?}");
    client.shutdown();
}
