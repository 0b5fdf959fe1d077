//! `ChatClient::shutdown()` releases every thread of the client (review #9), also with a
//! listener that captures the client (an `Arc` cycle) and when called from a callback. The
//! threads the process's clients share (pool, event dispatchers, timer) are not the
//! client's: they start with the first client and stay, exactly that set and no more.
//! In a process of its own (`own_process!`): it counts every `stream-chat-*` thread of the
//! process (their names do not tell clients apart), which no other test's threads may
//! pollute, and `ChatClient::instance()` is process-wide. Threads end with no notification
//! to wait on: `poll_external` checks their names until they are gone.

use std::sync::Arc;

use crate::support::process::{client_threads, own_process, sdk_threads, shared_set};
use crate::support::{WAIT, poll_external, threads_named};
use stream_chat_client::{ChatClient, ErrorKind, User};
use stream_chat_server::Server;

#[test]
fn shutdown_ends_every_thread_of_the_client() {
    own_process!(shutdown_ends_every_thread_of_the_client);
    if threads_named("stream-chat-").is_none() {
        eprintln!("no /proc: thread counting skipped");
        return;
    }
    let server = Server::builder().start().unwrap();
    assert!(sdk_threads().is_empty());

    let client = ChatClient::builder(server.api_key())
        .base_url(server.base_url())
        .build()
        .unwrap();
    let marker = Arc::new(());
    let (captured, held) = (client.clone(), Arc::clone(&marker));
    let subscription = client.subscribe(move |_| {
        let _ = (captured.connection_state(), &held);
    });
    client
        .connect_user(User::new("bender"), server.create_token("bender", None))
        .execute()
        .into_result()
        .unwrap();
    // The connection runs on the shared reactor: the client has no thread of its own
    // (the shared set names itself once running: wait for it).
    let settled = poll_external(WAIT, || sdk_threads() == shared_set());
    assert!(settled.is_some(), "SDK threads: {:?}", sdk_threads());
    assert!(client_threads().is_empty(), "{:?}", client_threads());

    client.shutdown();
    assert_eq!(
        ChatClient::instance().unwrap_err().kind(),
        ErrorKind::NotInitialized,
        "the singleton was this client"
    );
    let (tx, rx) = crossbeam_channel::unbounded();
    client
        .connect_anonymous_user()
        .enqueue(move |r| tx.send(r).unwrap());
    assert_eq!(
        rx.recv_timeout(WAIT).unwrap().error().kind(),
        ErrorKind::ShutDown
    );
    drop(client);
    drop(subscription);
    let gone = poll_external(WAIT, || sdk_threads() == shared_set());
    eprintln!("after shutdown(): every client thread ended within {gone:?}");
    assert!(gone.is_some(), "threads left: {:?}", sdk_threads());
    assert_eq!(Arc::strong_count(&marker), 1, "the listener was dropped");

    // Shut down from inside a callback (on a pool thread): nothing waits for itself.
    let client = ChatClient::builder(server.api_key())
        .base_url(server.base_url())
        .build()
        .unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    let inner = client.clone();
    client.connect_anonymous_user().enqueue(move |r| {
        inner.shutdown();
        tx.send(r.is_success()).unwrap();
    });
    assert!(rx.recv_timeout(WAIT).unwrap());
    drop(client);
    let gone = poll_external(WAIT, || sdk_threads() == shared_set());
    eprintln!("after shutdown() in a callback: every client thread ended within {gone:?}");
    assert!(gone.is_some(), "threads left: {:?}", sdk_threads());

    // A client with a pool of its own: its workers end with it too.
    let client = ChatClient::builder(server.api_key())
        .base_url(server.base_url())
        .worker_threads(3)
        .build()
        .unwrap();
    // Each thread names itself once running: wait for the names.
    let named = poll_external(WAIT, || client_threads() == ["stream-chat-wor"; 3]);
    assert!(named.is_some(), "client threads: {:?}", client_threads());
    client.shutdown();
    drop(client);
    let gone = poll_external(WAIT, || sdk_threads() == shared_set());
    assert!(gone.is_some(), "threads left: {:?}", sdk_threads());
}
