//! Calls waiting for the socket must not hold pool workers: watches enqueued before
//! `connect_user` on a 2-worker pool must not starve the connect's own start.

use std::time::{Duration, Instant};

use crate::support::*;
use stream_chat_client::{ErrorKind, User};

#[test]
fn waiting_watches_leave_the_pool_free_for_the_connect() {
    let server = server();
    let client = builder(&server)
        .worker_threads(2)
        .wait_for_connection_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let (tx, rx) = crossbeam_channel::unbounded();
    let started = Instant::now();
    for i in 0..4 {
        let tx = tx.clone();
        client
            .channel("livestream", &format!("w{i}"))
            .unwrap()
            .watch()
            .enqueue(move |r| tx.send(("watch", r.map(|_| ()))).unwrap());
    }
    let tx2 = tx.clone();
    client
        .connect_user(User::new("bender"), server.create_token("bender", None))
        .enqueue(move |r| tx2.send(("connect", r.map(|_| ()))).unwrap());
    for _ in 0..5 {
        let (what, result) = rx.recv_timeout(WAIT).expect("every callback fires");
        assert!(result.is_success(), "{what}: {:?}", result);
    }
    let took = started.elapsed();
    eprintln!("4 watches + connect on 2 workers: all done in {took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");

    // Nobody connecting: the wait still fails typed at its deadline.
    let idle = builder(&server)
        .worker_threads(2)
        .wait_for_connection_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = enqueue_and_wait(&idle.channel("livestream", "x").unwrap().watch())
        .error()
        .clone();
    assert_eq!(err.kind(), ErrorKind::NotConnected);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn execute_inside_a_callback_on_a_one_worker_pool_does_not_hang() {
    let server = server();
    let client = builder(&server).worker_threads(1).build().unwrap();
    connect_as(&client, &server, "bender");
    let (tx, rx) = crossbeam_channel::bounded(1);
    let inner = client.clone();
    // The callback runs on the pool's only worker and blocks it in execute().
    client
        .channel("livestream", "nested")
        .unwrap()
        .create(Vec::<String>::new())
        .enqueue(move |_| {
            let channel = inner.channel("livestream", "nested").unwrap();
            tx.send(channel.watch().execute().map(|state| state.channel.cid))
                .unwrap();
        });
    let result = rx.recv_timeout(WAIT).expect("a nested execute completes");
    assert_eq!(result.into_result().unwrap(), "livestream:nested");
}
