//! Channel events over the socket: delivered once each and in the order received (also
//! through a GUI-style CallbackQueue), and typed subscriptions for the connection events.

use std::time::{Duration, Instant};

use crate::support::*;
use stream_chat_client::{
    CallbackQueue, ChatEvent, ConnectionChangedEvent, ConnectionState, HealthCheckEvent, Message,
    NewMessageEvent, User,
};

const N: usize = 50;

#[test]
fn a_watcher_receives_fifty_messages_once_each_in_order() {
    let server = server();
    let poster = connected(&server, "fry");
    let watcher = connected(&server, "bender");
    let channel = watcher.channel("livestream", "order").unwrap();
    let events = Events::<NewMessageEvent>::on(&channel);
    channel.watch().execute().into_result().unwrap();
    let post = poster.channel_cid("livestream:order").unwrap();
    post.watch().execute().into_result().unwrap();

    let expected: Vec<String> = (0..N).map(|i| format!("message {i:02}")).collect();
    let started = Instant::now();
    for text in &expected {
        post.send_message(Message::with_text(text.clone()))
            .execute()
            .into_result()
            .unwrap();
    }
    post.send_message(Message::with_text("end"))
        .execute()
        .into_result()
        .unwrap();
    let mut got = Vec::new();
    loop {
        let e = events.next();
        assert!(!e.recovered);
        match e.message.text.as_deref() {
            Some("end") => break,
            _ => got.push(e.message.text.clone().unwrap()),
        }
    }
    eprintln!(
        "{N} messages posted and delivered in {:?}",
        started.elapsed()
    );
    assert_eq!(got, expected, "each once, in order");
}

#[test]
fn order_holds_through_a_callback_queue_drained_by_a_gui_loop() {
    let server = server();
    let queue = CallbackQueue::new();
    let watcher = builder(&server)
        .callback_executor(queue.executor())
        .build()
        .unwrap();
    let channel = watcher.channel("livestream", "gui").unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    let _sub = channel.subscribe_for_type::<NewMessageEvent>(move |e| {
        tx.send((std::thread::current().id(), e.message.text.clone().unwrap()))
            .unwrap();
    });
    // Calls made before connecting; their callbacks also run on the loop's thread.
    let (watched_tx, watched_rx) = crossbeam_channel::unbounded();
    channel
        .watch()
        .enqueue(move |r| watched_tx.send(r.is_success()).unwrap());
    let (connected_tx, connected_rx) = crossbeam_channel::unbounded();
    watcher
        .connect_user(User::new("bender"), server.create_token("bender", None))
        .enqueue(move |r| connected_tx.send(r.is_success()).unwrap());
    let deadline = Instant::now() + WAIT;
    // Everything `until` looks at is sent by callbacks that run on this queue, so the loop
    // wakes for each of them: no tick needed.
    let run = |until: &dyn Fn() -> bool| {
        while !until() {
            assert!(Instant::now() < deadline, "the GUI loop timed out");
            queue.wait_and_run(deadline);
        }
    };
    let is_connected = std::cell::Cell::new(None);
    let watched = std::cell::Cell::new(None);
    run(&|| {
        if let Ok(ok) = connected_rx.try_recv() {
            is_connected.set(Some(ok));
        }
        if let Ok(ok) = watched_rx.try_recv() {
            watched.set(Some(ok));
        }
        is_connected.get().is_some() && watched.get().is_some()
    });
    assert_eq!(
        (is_connected.get(), watched.get()),
        (Some(true), Some(true))
    );

    let poster = connected(&server, "fry");
    let post = poster.channel_cid("livestream:gui").unwrap();
    for i in 0..N {
        post.send_message(Message::with_text(format!("{i:02}")))
            .execute()
            .into_result()
            .unwrap();
    }
    let got = std::cell::RefCell::new(Vec::new());
    run(&|| {
        got.borrow_mut().extend(rx.try_iter());
        got.borrow().len() >= N
    });
    let got = got.into_inner();
    let loop_thread = std::thread::current().id();
    assert!(
        got.iter().all(|(t, _)| *t == loop_thread),
        "listeners ran on the loop"
    );
    let texts: Vec<_> = got.into_iter().map(|(_, t)| t).collect();
    let expected: Vec<_> = (0..N).map(|i| format!("{i:02}")).collect();
    assert_eq!(texts, expected);
}

#[test]
fn connection_events_can_be_subscribed_by_type() {
    let server = stream_chat_server::Server::builder()
        .health_check_interval(Duration::from_millis(200))
        .start()
        .unwrap();
    let client = client(&server);
    let states = Events::<ConnectionChangedEvent>::of(&client);
    let checks = Events::<HealthCheckEvent>::of(&client);
    let data = connect_as(&client, &server, "bender");
    assert_eq!(states.next().state, ConnectionState::Connecting);
    assert_eq!(states.next().state, ConnectionState::Connected);
    let first = checks.next();
    assert_eq!(first.connection_id, data.connection_id);
    assert_eq!(first.me.map(|me| me.id).as_deref(), Some("bender"));
    let later = checks.next();
    assert!(later.me.is_none(), "only the first health check carries me");

    // The enum carries the same data for match-style listeners.
    let (tx, rx) = crossbeam_channel::unbounded();
    let _s = client.subscribe(move |e| {
        if let ChatEvent::ConnectionChanged { state, .. } = e {
            let _ = tx.send(*state);
        }
    });
    client.disconnect().execute().into_result().unwrap();
    assert_eq!(states.next().state, ConnectionState::Disconnected);
    assert_eq!(
        rx.recv_timeout(WAIT).unwrap(),
        ConnectionState::Disconnected
    );
}
