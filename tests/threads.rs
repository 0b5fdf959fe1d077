//! `disconnect()` stops every thread of the connection promptly. Its own test binary, so
//! that no other test's threads are counted.

mod common;

use std::time::{Duration, Instant};

use common::*;
use stream_chat_client::{ConnectionState, User};

#[test]
fn disconnect_stops_the_connection_threads_within_a_second() {
    let server = server();
    let client = builder(&server)
        .max_reconnect_delay(Duration::from_secs(25))
        .build()
        .unwrap();
    let Some(before) = threads_named("stream-chat-ws") else {
        eprintln!("no /proc: thread counting skipped");
        return;
    };
    assert_eq!(before, 0);

    // Connected: one connection thread, blocked in a read.
    client
        .connect_user(User::new("bender"), server.create_token("bender", None))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(threads_named("stream-chat-ws"), Some(1));
    let started = Instant::now();
    client.disconnect().execute().into_result().unwrap();
    let took = started.elapsed();
    eprintln!("disconnect (reader blocked in read) returned after {took:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert_eq!(
        threads_named("stream-chat-ws"),
        Some(0),
        "the reader thread has ended"
    );
    assert_eq!(server.usage().concurrent_connections, 0);

    // Reconnecting, in a long back-off sleep: disconnect wakes it at once.
    let recorder = Recorder::new(&client);
    client
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    server.shutdown();
    // From here the thread alternates between refused attempts and back-off sleeps.
    recorder.wait_state(ConnectionState::Reconnecting, WAIT);
    let started = Instant::now();
    client.disconnect().execute().into_result().unwrap();
    let took = started.elapsed();
    eprintln!("disconnect (thread in back-off) returned after {took:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert_eq!(threads_named("stream-chat-ws"), Some(0));
}
