//! A panic on the connection thread fails the session instead of leaving it stuck in
//! `Connecting` (review #2): the connect resolves with `Panicked`, the state goes to
//! `Disconnected`, and a new connect works. The panic comes from a logger that panics on
//! the connection thread's first record about the user `panic-me`: a `support::logs` tap,
//! so the panic stays in this test's connection (no other test has a `panic-me`) while the
//! other tests share the process.

use std::time::{Duration, Instant};

use crate::support::logs;
use stream_chat_client::{ChatClient, ChatEvent, ConnectionState, ErrorKind, User};
use stream_chat_server::Server;

#[test]
fn a_panicking_connection_thread_fails_the_connect_and_the_session() {
    let _panicking = logs::tap(log::LevelFilter::Debug, |record| {
        if record.target().starts_with("stream_chat_client::")
            && record.target().ends_with("socket")
            && record.args().to_string().contains("'panic-me'")
        {
            panic!("the logger panicked on the connection thread");
        }
    });
    let server = Server::builder().start().unwrap();
    let client = ChatClient::builder(server.api_key())
        .base_url(server.base_url())
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let (states_tx, states) = crossbeam_channel::unbounded();
    let _subscription = client.subscribe(move |event| {
        if let ChatEvent::ConnectionChanged { state, error } = event {
            let _ = states_tx.send((*state, error.as_ref().map(|e| e.kind())));
        }
    });
    let started = Instant::now();
    let result = client
        .connect_user(User::new("panic-me"), server.create_token("panic-me", None))
        .execute();
    let took = started.elapsed();
    eprintln!("connect with a panicking connection thread resolved after {took:?}: {result:?}");
    assert_eq!(result.error().kind(), ErrorKind::Panicked, "{result:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    let wait = Duration::from_secs(20);
    assert_eq!(
        states.recv_timeout(wait).unwrap(),
        (ConnectionState::Connecting, None)
    );
    assert_eq!(
        states.recv_timeout(wait).unwrap(),
        (ConnectionState::Disconnected, Some(ErrorKind::Panicked))
    );
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    assert!(client.current_user().is_none());

    let data = client
        .connect_user(User::new("fry"), server.create_token("fry", None))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(data.user.id, "fry");
    client.shutdown();
}
