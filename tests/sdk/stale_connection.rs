//! A watch the server answers with code 46 (its connection id is stale) is sent once more,
//! on the next connection. It waits for the SDK's log record of the retry: a
//! `support::logs` capture of every "retrying once" record, of which the test reads only
//! those naming its own connections (other tests in the process may retry theirs).

use crate::support::*;
use crossbeam_channel::select;
use stream_chat_client::{ChatClient, User};

#[test]
fn a_watch_answered_code_46_is_sent_once_more_on_the_next_connection() {
    let capture = logs::capture(log::LevelFilter::Info, |line| {
        line.target.starts_with("stream_chat_client") && line.text.contains("retrying once")
    });
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
    // Records of other tests' retries name their own connections: skip them.
    let ours = |line: &logs::Line, ids: &[&str]| ids.iter().any(|id| line.text.contains(id));
    loop {
        select! {
            recv(capture.rx) -> line => {
                let line = line.unwrap();
                if ours(&line, &[&first]) {
                    eprintln!("retry: {}", line.text);
                    break;
                }
            }
            recv(rx) -> result => panic!("finished without a retry: {:?}", result.unwrap()),
            default(WAIT) => panic!("no retry and no result"),
        }
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
    assert!(
        !capture
            .rx
            .try_iter()
            .any(|line| ours(&line, &[&first, &second])),
        "retried only once"
    );
}
