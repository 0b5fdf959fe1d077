//! The machinery clients share (issue 14): one worker pool, one event dispatcher and one
//! timer per process, whatever the number of clients, with each client's events still in
//! order on its own strand and its shutdown still its own. Each test runs in a process of
//! its own (`own_process!`): they count every `stream-chat-*` thread of the process, or
//! hold one of the two shared dispatcher threads on purpose, which would slow the other
//! tests' listeners.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::support::net::silent_peer;
use crate::support::process::{client_threads, own_process, sdk_threads, shared_set};
use crate::support::{
    Events, WAIT, builder, connect_as, connected, poll_external, post, threads_named,
};
use stream_chat_client::{
    ChatClient, ChatEvent, ConnectionChangedEvent, ErrorKind, NewMessageEvent, User,
};
use stream_chat_server::Server;

const CLIENTS: usize = 50;

/// Fifty connected clients run on the shared set alone (their sockets on the shared
/// reactor, no thread per client); after they are shut down the same set is left.
#[test]
fn fifty_clients_add_no_thread() {
    own_process!(fifty_clients_add_no_thread);
    if threads_named("stream-chat-").is_none() {
        eprintln!("no /proc: thread counting skipped");
        return;
    }
    let server = Server::builder().start().unwrap();
    assert!(sdk_threads().is_empty(), "{:?}", sdk_threads());
    let clients: Vec<ChatClient> = (0..CLIENTS)
        .map(|i| {
            let client = builder(&server).build().unwrap();
            connect_as(&client, &server, &format!("user-{i}"));
            client
        })
        .collect();
    // Threads name themselves once running: wait for the shared set.
    let expected = shared_set();
    let settled = poll_external(WAIT, || sdk_threads() == expected);
    assert!(
        settled.is_some(),
        "the shared set once and no thread per client; client threads: {:?}, all: {:?}",
        client_threads(),
        sdk_threads()
    );
    eprintln!(
        "{CLIENTS} connected clients: {} SDK threads",
        sdk_threads().len()
    );

    for client in &clients {
        client.shutdown();
    }
    drop(clients);
    let gone = poll_external(WAIT, || sdk_threads() == shared_set());
    assert!(gone.is_some(), "threads left: {:?}", sdk_threads());
}

/// A listener of one client that blocks holds one dispatcher thread: another client's
/// events still arrive, and a third client's connect still times out at its deadline
/// (the timer runs no listener). The blocked client's events then follow, in order, and
/// its listener never runs twice at once.
#[test]
fn a_blocked_listener_delays_no_other_client() {
    own_process!(a_blocked_listener_delays_no_other_client);
    let server = Server::builder().start().unwrap();

    // Bender's listener blocks on his first event until released.
    let bender = builder(&server).build().unwrap();
    let (blocked_tx, blocked) = crossbeam_channel::bounded::<()>(1);
    let (release, gate) = crossbeam_channel::bounded::<()>(0);
    let (seen_tx, seen) = crossbeam_channel::unbounded::<String>();
    let (inside, overlap, started) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
        AtomicBool::new(false),
    );
    let (inside_l, overlap_l) = (Arc::clone(&inside), Arc::clone(&overlap));
    let _blocking = bender.subscribe(move |event: &ChatEvent| {
        if inside_l.swap(true, Ordering::SeqCst) {
            overlap_l.store(true, Ordering::SeqCst);
        }
        if !started.swap(true, Ordering::SeqCst) {
            let _ = blocked_tx.try_send(());
            let _ = gate.recv();
        }
        let _ = seen_tx.send(event.kind().to_owned());
        inside_l.store(false, Ordering::SeqCst);
    });
    connect_as(&bender, &server, "bender");
    blocked
        .recv_timeout(WAIT)
        .expect("bender's listener got an event");

    // Fry's events flow meanwhile, a message round trip included.
    let fry = connected(&server, "fry");
    let states = Events::<ConnectionChangedEvent>::of(&fry);
    let channel = fry.channel("messaging", "shared-blocked").unwrap();
    channel.create(["fry"]).execute().into_result().unwrap();
    channel.watch().execute().into_result().unwrap();
    let messages = Events::<NewMessageEvent>::on(&channel);
    post(&channel, "while bender's listener blocks");
    assert_eq!(
        messages.next().message.text(),
        "while bender's listener blocks"
    );
    drop(states);

    // A connect to a peer that never answers fails at its deadline.
    let (url, _accepted) = silent_peer();
    let limit = Duration::from_millis(300);
    let leela = ChatClient::builder("key")
        .base_url(url)
        .connect_timeout(limit)
        .build()
        .unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    let started = Instant::now();
    leela
        .connect_user(User::new("leela"), leela.dev_token("leela"))
        .enqueue(move |r| tx.send(r.error().kind()).unwrap());
    assert_eq!(rx.recv_timeout(WAIT).unwrap(), ErrorKind::Timeout);
    let took = started.elapsed();
    eprintln!("the connect timed out after {took:?} (limit {limit:?})");
    assert!(took >= limit, "{took:?}");
    assert!(seen.is_empty(), "bender's listener is still blocked");

    // Released, bender's events follow in order, one at a time.
    drop(release);
    let first = seen.recv_timeout(WAIT).unwrap();
    assert_eq!(first, "connection.changed");
    let next = seen.recv_timeout(WAIT).unwrap();
    assert_eq!(next, "connection.changed", "connecting, then connected");
    assert!(
        !overlap.load(Ordering::SeqCst),
        "the listener ran concurrently"
    );
    bender.shutdown();
    fry.shutdown();
    leela.shutdown();
}

/// Shutting one client down stops its events and fails its own pending call, while the
/// dispatcher, pool and timer go on for another client: its events keep coming and its
/// pending call of the same kind still completes.
#[test]
fn a_dropped_client_leaves_the_shared_dispatcher_serving_others() {
    own_process!(a_dropped_client_leaves_the_shared_dispatcher_serving_others);
    let server = Server::builder().start().unwrap();
    let bender = builder(&server).build().unwrap();
    let fry = builder(&server).build().unwrap();
    let bender_events = Events::<NewMessageEvent>::of(&bender);
    let fry_events = Events::<NewMessageEvent>::of(&fry);
    let channel = |client: &ChatClient| client.channel("messaging", "shared-dropped").unwrap();
    let setup = connected(&server, "fry");
    channel(&setup)
        .create(["fry", "bender"])
        .execute()
        .into_result()
        .unwrap();
    setup.shutdown();

    // A watch made before connecting waits for the connection, holding no thread.
    let (tx, rx) = crossbeam_channel::unbounded();
    for (name, client) in [("bender", &bender), ("fry", &fry)] {
        let tx = tx.clone();
        channel(client)
            .watch()
            .enqueue(move |r| tx.send((name, r.map(|_| ()).into_result())).unwrap());
    }
    bender.shutdown();
    let (who, result) = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(who, "bender");
    assert_eq!(result.unwrap_err().kind(), ErrorKind::ShutDown);
    drop(bender);

    connect_as(&fry, &server, "fry");
    let (who, result) = rx.recv_timeout(WAIT).unwrap();
    assert_eq!(who, "fry");
    result.unwrap();
    post(&channel(&fry), "after bender left");
    assert_eq!(fry_events.next().message.text(), "after bender left");
    assert!(bender_events.rx.try_recv().is_err(), "bender got an event");
    assert!(rx.try_recv().is_err(), "a callback fired twice");
    fry.shutdown();
}
