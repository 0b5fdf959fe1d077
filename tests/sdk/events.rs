//! Events: registered synchronously (also before connecting), delivered in order on the
//! client's callback executor, filtered by type, stopped by dispose and drop.

use std::time::{Duration, Instant};

use crate::support::*;
use stream_chat_client::{
    CallbackQueue, ChatClient, ChatEvent, ConnectionState, ErrorKind, Executor, User,
};
use stream_chat_server::Server;

#[test]
fn a_subscription_made_before_connecting_sees_the_whole_connection() {
    let server = server();
    let client = client(&server);
    let recorder = Recorder::new(&client);
    let data = client
        .connect_user(
            User::new("bender").with_name("Bender"),
            server.create_token("bender", None),
        )
        .execute()
        .into_result()
        .unwrap();
    let mut kinds = Vec::new();
    let first_health_check = loop {
        let (_, event) = recorder.rx.recv_timeout(WAIT).expect("events arrive");
        kinds.push(event.kind().to_owned());
        if let ChatEvent::HealthCheck {
            connection_id, me, ..
        } = event
        {
            break (connection_id, me);
        }
    };
    assert_eq!(
        kinds,
        ["connection.changed", "connection.changed", "health.check"]
    );
    assert_eq!(first_health_check.0, data.connection_id);
    assert_eq!(
        first_health_check.1.map(|me| me.id),
        Some("bender".into()),
        "the first health.check carries me"
    );
    client.disconnect().execute().into_result().unwrap();
    recorder.wait_state(ConnectionState::Disconnected, WAIT);
}

/// A listener gets the events published after `subscribe` returned, never older ones
/// still waiting for the dispatcher thread: under load that thread runs behind, and a
/// recorder made after a connect returned used to get that connect's `Connected` and
/// take it for the next one (a `pause_resume.rs` test flaked this way under load). Here
/// the dispatcher is held deterministically: the executor blocks it until the test lets go.
#[test]
fn a_listener_gets_no_event_published_before_it_subscribed() {
    let server = server();
    let (release, gate) = crossbeam_channel::bounded::<()>(0);
    let client = ChatClient::builder(server.api_key())
        .base_url(server.base_url())
        // The dispatcher thread hands each event to the executor: this one holds it until
        // `release` is dropped.
        .callback_executor(Executor::from_fn(move |task| {
            let _ = gate.recv();
            task()
        }))
        .build()
        .unwrap();
    let states = |client: &ChatClient| {
        let (tx, rx) = crossbeam_channel::unbounded();
        let subscription = client.subscribe(move |e| {
            if let ChatEvent::ConnectionChanged { state, .. } = e {
                let _ = tx.send(*state);
            }
        });
        (subscription, rx)
    };
    let (_early, early) = states(&client);
    client
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    // `Connecting` and `Connected` are published; the dispatcher is held at the first.
    let (_late, late) = states(&client);
    drop(release);
    client.disconnect().execute().into_result().unwrap();

    let all = [
        ConnectionState::Connecting,
        ConnectionState::Connected,
        ConnectionState::Disconnected,
    ];
    for state in all {
        assert_eq!(early.recv_timeout(WAIT).unwrap(), state);
    }
    assert_eq!(
        late.recv_timeout(WAIT).unwrap(),
        ConnectionState::Disconnected,
        "the first event published after it subscribed"
    );
    client.shutdown();
}

#[test]
fn subscribe_for_filters_by_type_and_dispose_stops_delivery() {
    let server = Server::builder()
        .health_check_interval(Duration::from_millis(200))
        .start()
        .unwrap();
    let client = client(&server);
    let (tx, rx) = crossbeam_channel::unbounded();
    let health = client.subscribe_for(&["health.check"], move |e| {
        let _ = tx.send(e.kind().to_owned());
    });
    client
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            rx.recv_timeout(WAIT).unwrap(),
            "health.check",
            "only the subscribed type"
        );
    }
    health.dispose();
    assert!(health.is_disposed());
    // A second subscription sees the server's health checks go on. Events are delivered
    // one after the other, so once it has seen one, a delivery to the disposed listener
    // that was under way during dispose() has finished: drain it, then expect silence.
    let (tx2, rx2) = crossbeam_channel::unbounded();
    let _other = client.subscribe_for(&["health.check"], move |_| {
        let _ = tx2.send(());
    });
    rx2.recv_timeout(WAIT).unwrap();
    let in_flight = rx.try_iter().count();
    assert!(in_flight <= 1, "{in_flight}");
    for _ in 0..3 {
        rx2.recv_timeout(WAIT).unwrap();
    }
    assert!(rx.try_recv().is_err(), "nothing after dispose");
}

#[test]
fn dropping_the_subscription_stops_delivery() {
    let server = Server::builder()
        .health_check_interval(Duration::from_millis(200))
        .start()
        .unwrap();
    let client = client(&server);
    let (tx, rx) = crossbeam_channel::unbounded();
    drop(client.subscribe(move |e| {
        let _ = tx.send(e.kind().to_owned());
    }));
    let recorder = Recorder::new(&client);
    client
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    recorder.wait_state(ConnectionState::Connected, WAIT);
    for _ in 0..2 {
        loop {
            let (_, e) = recorder.rx.recv_timeout(WAIT).unwrap();
            if e.kind() == "health.check" {
                break;
            }
        }
    }
    assert!(
        rx.try_recv().is_err(),
        "a dropped subscription receives nothing"
    );
}

#[test]
fn events_and_callbacks_run_on_the_callback_queue_in_order() {
    let server = Server::builder()
        .health_check_interval(Duration::from_millis(100))
        .start()
        .unwrap();
    let queue = CallbackQueue::new();
    let client = builder(&server)
        .callback_executor(queue.executor())
        .build()
        .unwrap();
    let ui_thread = std::thread::current().id();
    let (tx, rx) = crossbeam_channel::unbounded();
    let events_tx = tx.clone();
    let _s = client.subscribe(move |e| {
        assert_eq!(std::thread::current().id(), ui_thread);
        let _ = events_tx.send(format!("event {}", e.kind()));
    });
    client.connect_anonymous_user().enqueue(move |r| {
        assert_eq!(std::thread::current().id(), ui_thread);
        let _ = tx.send(format!("connected {}", r.is_success()));
    });
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    while seen
        .iter()
        .filter(|s: &&String| s.as_str() == "event health.check")
        .count()
        < 5
    {
        assert!(Instant::now() < deadline, "timed out; saw {seen:?}");
        queue.wait_and_run(deadline);
        seen.extend(rx.try_iter());
    }
    assert!(seen.contains(&"connected true".to_owned()), "{seen:?}");
    let events: Vec<_> = seen
        .iter()
        .filter(|s| s.starts_with("event"))
        .cloned()
        .collect();
    assert_eq!(
        &events[..3],
        [
            "event connection.changed",
            "event connection.changed",
            "event health.check"
        ]
    );
}

#[test]
fn a_listener_that_panics_does_not_stop_other_listeners() {
    let server = server();
    let client = client(&server);
    let _bad = client.subscribe(|_| panic!("listener bug"));
    let recorder = Recorder::new(&client);
    client
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    recorder.wait_state(ConnectionState::Connecting, WAIT);
    recorder.wait_state(ConnectionState::Connected, WAIT);
    client.disconnect().execute().into_result().unwrap();
    recorder.wait_state(ConnectionState::Disconnected, WAIT);
    assert_eq!(
        client.disconnect().execute().error().kind(),
        ErrorKind::NotConnected
    );
}
