//! Webhooks: every event of a scripted session reaches a receiver once, in order, signed,
//! with Stream's headers; a failed first attempt is retried with the same id.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;
use stream_chat_protocol::webhook::verify_webhook;
use stream_chat_server::Server;

use crate::support::receiver::{Delivery, Receiver};
use crate::support::{Auth, Env, WITHIN};

/// Runs a session: a watcher connects and watches, messages are sent, edited, deleted, the
/// channel is read, a user deactivated, the watcher leaves. Returns the event types in the order they happened.
fn scripted_session(env: &Env) -> Vec<&'static str> {
    env.upsert(&["alice", "bob"]);
    env.create_channel("messaging:hooks", "alice", &["alice", "bob"]);
    let (mut ws, connected) = env.connect("bob");
    let conn = connected["connection_id"].as_str().unwrap().to_owned();
    assert_eq!(
        env.watch(Auth::User("bob"), "messaging:hooks", &conn).0,
        200
    );
    let (_, sent) = env.send(Auth::User("alice"), "messaging:hooks", "one");
    env.send(Auth::User("alice"), "messaging:hooks", "two");
    let id = sent["message"]["id"].as_str().unwrap();
    let (status, _) = env.call(
        "POST",
        &format!("/messages/{id}"),
        Auth::User("alice"),
        Some(json!({"message": {"text": "one, edited"}})),
    );
    assert_eq!(status, 200);
    assert_eq!(
        env.call(
            "POST",
            "/channels/messaging/hooks/event",
            Auth::User("bob"),
            Some(json!({"event": {"type": "typing.start"}}))
        )
        .0,
        200
    );
    assert_eq!(
        env.call(
            "DELETE",
            &format!("/messages/{id}"),
            Auth::User("alice"),
            None
        )
        .0,
        200
    );
    assert_eq!(
        env.mark_read(Auth::User("bob"), "messaging:hooks", None).0,
        200
    );
    assert_eq!(
        env.call("POST", "/users/alice/deactivate", Auth::Server, None)
            .0,
        200
    );
    ws.next_event("message.read");
    ws.close();
    vec![
        "user.watching.start",
        "message.new",
        "message.new",
        "message.updated",
        "message.deleted",
        "message.read",
        "notification.mark_read",
        "user.deactivated",
        "user.watching.stop",
    ]
}

/// Collects deliveries until `count` were answered 2xx; returns all of them.
fn collect(receiver: &Receiver, count: usize) -> Vec<Delivery> {
    let mut all = Vec::new();
    while all.iter().filter(|d: &&Delivery| d.status < 300).count() < count {
        let delivery = receiver
            .next(WITHIN)
            .unwrap_or_else(|| panic!("only {} deliveries: {:?}", all.len(), types(&all)));
        all.push(delivery);
    }
    all
}

fn types(deliveries: &[Delivery]) -> Vec<String> {
    deliveries
        .iter()
        .map(|d| d.json()["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn check_signed(env: &Env, delivery: &Delivery) {
    let signature = delivery.header("x-signature");
    assert!(
        verify_webhook(
            &delivery.body,
            signature,
            env.server.api_secret().as_bytes()
        ),
        "bad signature on {}",
        String::from_utf8_lossy(&delivery.body)
    );
    assert_eq!(delivery.header("x-api-key"), env.server.api_key());
    assert_eq!(delivery.header("content-type"), "application/json");
    assert!(!delivery.header("x-webhook-id").is_empty());
}

#[test]
fn every_event_arrives_once_in_order_and_signed() {
    let receiver = Receiver::start(|_| 200);
    let env = Env::with(Server::builder().webhook_url(receiver.url()));
    let expected = scripted_session(&env);
    let deliveries = collect(&receiver, expected.len());
    assert_eq!(types(&deliveries), expected);
    let mut ids = HashSet::new();
    let mut last = String::new();
    for d in &deliveries {
        check_signed(&env, d);
        assert_eq!(d.header("x-webhook-attempt"), "1");
        assert!(
            ids.insert(d.header("x-webhook-id").to_owned()),
            "ids are unique"
        );
        let created = d.json()["created_at"].as_str().unwrap().to_owned();
        assert!(
            created > last,
            "in the order they happened: {created} after {last}"
        );
        last = created;
    }
    assert!(
        receiver.next(Duration::from_millis(300)).is_none(),
        "nothing more (no typing)"
    );
}

#[test]
fn a_failed_first_attempt_is_retried_with_the_same_id_and_order_holds() {
    let receiver = Receiver::start(|attempt| if attempt == 1 { 503 } else { 200 });
    let env = Env::with(Server::builder().webhook_url(receiver.url()));
    let expected = scripted_session(&env);
    let deliveries = collect(&receiver, expected.len());
    assert_eq!(
        deliveries.len(),
        2 * expected.len(),
        "one failure, one success each"
    );
    for pair in deliveries.chunks(2) {
        let (failed, delivered) = (&pair[0], &pair[1]);
        assert_eq!((failed.status, delivered.status), (503, 200));
        assert_eq!(failed.header("x-webhook-attempt"), "1");
        assert_eq!(delivered.header("x-webhook-attempt"), "2");
        assert_eq!(
            failed.header("x-webhook-id"),
            delivered.header("x-webhook-id")
        );
        assert_eq!(failed.body, delivered.body, "the same bytes");
        check_signed(&env, delivered);
    }
    let delivered: Vec<Delivery> = deliveries.into_iter().filter(|d| d.status == 200).collect();
    assert_eq!(types(&delivered), expected);
}

#[test]
fn a_receiver_that_refuses_is_not_retried_and_a_dead_one_does_not_slow_chat() {
    let receiver = Receiver::start(|_| 400);
    let env = Env::with(Server::builder().webhook_url(receiver.url()));
    env.upsert(&["alice"]);
    let first = receiver.next(WITHIN);
    assert!(first.is_none() || first.unwrap().status == 400);
    env.create_channel("messaging:r", "alice", &["alice"]);
    env.send(Auth::User("alice"), "messaging:r", "x");
    let d = receiver.next(WITHIN).expect("delivered once");
    assert_eq!(d.header("x-webhook-attempt"), "1");
    assert!(
        receiver.next(Duration::from_millis(600)).is_none(),
        "4xx is final"
    );
    // Nobody listens at all: chat traffic goes on at its usual pace.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", dead.local_addr().unwrap());
    drop(dead);
    let env = Env::with(Server::builder().webhook_url(url));
    env.upsert(&["alice"]);
    env.create_channel("messaging:d", "alice", &["alice"]);
    let started = std::time::Instant::now();
    for i in 0..20 {
        assert_eq!(
            env.send(Auth::User("alice"), "messaging:d", &format!("m{i}"))
                .0,
            200
        );
    }
    assert!(
        started.elapsed() < WITHIN,
        "sends did not wait for webhooks"
    );
}
