//! A watch the server answers with code 46 (its connection id is stale) is sent once more,
//! on the next connection. Own binary: it waits for the SDK's log record of the retry,
//! and the logger is process-wide.

mod common;

use std::sync::Mutex;

use common::*;
use crossbeam_channel::{Sender, select};
use stream_chat_client::{ChatClient, User};

static RETRIES: Mutex<Option<Sender<String>>> = Mutex::new(None);

struct Retries;

impl log::Log for Retries {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let text = record.args().to_string();
        if record.target().starts_with("stream_chat_client")
            && text.contains("retrying once")
            && let Some(tx) = RETRIES.lock().unwrap().as_ref()
        {
            let _ = tx.send(text);
        }
    }
    fn flush(&self) {}
}

#[test]
fn a_watch_answered_code_46_is_sent_once_more_on_the_next_connection() {
    let (retry_tx, retries) = crossbeam_channel::unbounded();
    *RETRIES.lock().unwrap() = Some(retry_tx);
    log::set_logger(&Retries).unwrap();
    log::set_max_level(log::LevelFilter::Info);

    let server = server();
    let proxy = proxy(&server, Upgrades::Forward, Rest::Forward);
    let client = ChatClient::builder(server.api_key())
        .base_url(&proxy.url)
        .build()
        .unwrap();
    let first = client
        .connect_user(User::new("bender"), server.create_token("bender", None))
        .execute()
        .into_result()
        .unwrap()
        .connection_id;
    while proxy.rest.try_recv().is_ok() {}
    // The server now sees requests on this connection with an id it does not know.
    proxy.expire(&first, "gone");
    let (tx, rx) = crossbeam_channel::unbounded();
    client
        .channel("livestream", "stale")
        .unwrap()
        .watch()
        .enqueue(move |r| tx.send(r.map(|s| s.channel.cid)).unwrap());
    let query = proxy.rest.recv_timeout(WAIT).unwrap();
    assert!(
        query.contains("/query?") && query.contains("connection_id=gone"),
        "{query}"
    );
    select! {
        recv(retries) -> text => eprintln!("retry: {}", text.unwrap()),
        recv(rx) -> result => panic!("finished without a retry: {:?}", result.unwrap()),
        default(WAIT) => panic!("no retry and no result"),
    }
    // The retry waits for a connection other than the stale one.
    assert_eq!(server.kick_connections("bender"), 1);
    let cid = rx.recv_timeout(WAIT).unwrap().into_result().unwrap();
    assert_eq!(cid, "livestream:stale");
    let second = client.connection_id().unwrap();
    assert_ne!(second, first);
    let retried = proxy.rest.recv_timeout(WAIT).unwrap();
    assert!(
        retried.contains("/query?") && retried.contains(&format!("connection_id={second}")),
        "{retried}"
    );
    assert!(retries.try_recv().is_err(), "retried only once");
}
