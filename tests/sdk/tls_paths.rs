//! TLS end to end: clients told to trust a private root (`tls_root_certificates`) connect
//! over `wss` through a TLS-terminating proxy in front of the local server, call REST over
//! `https`, and get events whose frames span several TLS records; a client with the
//! default roots refuses that proxy with a certificate error, and a bad root fails
//! `build()`.

use std::time::Duration;

use serde_json::json;
use stream_chat_client::{
    ChatClient, ConnectionState, ErrorKind, Message, NewMessageEvent, ServerClient,
};
use stream_chat_server::Server;

use crate::support::*;

/// Larger than a TLS record (16 KiB) and than a socket's first read buffer (4 KiB).
const BLOB: usize = 40 * 1024;

fn trusting(base: &str, api_key: &str) -> ChatClient {
    ChatClient::builder(api_key)
        .base_url(base)
        .tls_root_certificates([TEST_CA.to_vec()])
        .build()
        .unwrap()
}

#[test]
fn clients_trusting_a_private_root_chat_over_https_and_wss() {
    let server = Server::builder().max_custom_data(2 * BLOB).start().unwrap();
    let front = tls_front(&server);
    let (fry, leela) = (
        trusting(&front, server.api_key()),
        trusting(&front, server.api_key()),
    );
    let connected = connect_as(&fry, &server, "fry");
    assert!(!connected.connection_id.is_empty());
    connect_as(&leela, &server, "leela");
    assert_eq!(leela.connection_state(), ConnectionState::Connected);

    let channel = fry.channel("messaging", "over-tls").unwrap();
    channel
        .create(["fry", "leela"])
        .execute()
        .into_result()
        .unwrap();
    let at_leela = leela.channel("messaging", "over-tls").unwrap();
    at_leela.watch().execute().into_result().unwrap();
    let events = Events::<NewMessageEvent>::of(&leela);

    let blob: String = "0123456789abcdef".repeat(BLOB / 16);
    let mut message = Message::with_text("a large message, encrypted both ways");
    message.extra.insert("blob".into(), json!(blob));
    let sent = channel
        .send_message(message)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        sent.extra["blob"],
        json!(blob),
        "the https answer carried it"
    );

    let event = events.rx.recv_timeout(WAIT).expect("message.new over wss");
    assert_eq!(event.message.id, sent.id);
    assert_eq!(event.message.extra["blob"], json!(blob));
    // The connection keeps working after the large frame.
    let small = post(&channel, "and a small one");
    let next = events.rx.recv_timeout(WAIT).expect("the next message.new");
    assert_eq!(next.message.id, small.id);
}

#[test]
fn a_server_side_client_trusting_the_root_calls_over_https() {
    let server = server();
    let front = tls_front(&server);
    let admin = ServerClient::builder(server.api_key(), server.api_secret())
        .base_url(&front)
        .tls_root_certificates([TEST_CA.to_vec()])
        .build()
        .unwrap();
    let users = admin
        .upsert_users(vec![stream_chat_client::User::new("hermes")])
        .execute()
        .into_result()
        .unwrap();
    assert!(users.contains_key("hermes"));
}

#[test]
fn the_default_roots_refuse_the_private_one() {
    let server = server();
    let front = tls_front(&server);
    let client = ChatClient::builder(server.api_key())
        .base_url(&front)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let err = client
        .connect_user(
            stream_chat_client::User::new("zoidberg"),
            server.create_token("zoidberg", None),
        )
        .execute()
        .into_result()
        .unwrap_err();
    assert_ne!(
        err.kind(),
        ErrorKind::Timeout,
        "refused at once, not timed out: {err}"
    );
    let text = format!("{err} {}", err.hint().unwrap_or_default());
    assert!(text.to_lowercase().contains("certificate"), "{text}");
}

#[test]
fn a_root_that_does_not_parse_fails_build() {
    let err = ChatClient::builder("key")
        .base_url("https://127.0.0.1:1")
        .tls_root_certificates([vec![0x30, 0x03, 0x02, 0x01]])
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let none: [Vec<u8>; 0] = [];
    let err = ChatClient::builder("key")
        .tls_root_certificates(none)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}
