//! The offline store (feature `offline`, on for this binary through the dev-dependency on
//! the SDK itself): messages sent while the socket is down are kept and sent once it is
//! back, in order, each once; a refused one is failed until `retry_message`; a new client
//! on the same file has the channel list and messages before any network; a corrupt or
//! newer-schema file is moved aside with a log line. Real sockets against the in-process
//! server, whose `refuse_connections`/`kick_connections` take the socket down. The WARN
//! lines are caught with `support::logs`, filtered to this test's file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::*;
use stream_chat_client::state::{ChannelState, SyncStatus};
use stream_chat_client::{
    ChatClient, ChatClientBuilder, ConnectionState, Message, NewMessageEvent, QueryChannelsRequest,
    SortParam, TokenError, TokenSource, codes,
};
use stream_chat_server::{RateLimits, Server, ServerHandle};

/// A directory of its own for one test's database, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new(test: &str) -> Dir {
        let dir = std::env::temp_dir().join(format!("sdk-offline-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn db(&self) -> PathBuf {
        self.0.join("chat.db")
    }

    /// The files of the directory (names).
    fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A client with the offline store at `db` that reconnects within 0.3 s.
fn offline_builder(server: &ServerHandle, db: &Path) -> ChatClientBuilder {
    builder(server)
        .offline(db)
        .max_reconnect_delay(Duration::from_millis(300))
        .connect_timeout(Duration::from_secs(3))
}

fn quiet_server() -> ServerHandle {
    Server::builder()
        .rate_limits(RateLimits::off())
        .start()
        .unwrap()
}

/// Kicks `user` and keeps them out; returns once the client saw the socket drop.
fn go_offline(server: &ServerHandle, user: &str, recorder: &Recorder) {
    server.refuse_connections(user, true);
    assert_eq!(server.kick_connections(user), 1);
    recorder.wait_state(ConnectionState::Disconnected, WAIT);
}

/// Lets `user` in again once the client tried and was refused.
fn go_online(server: &ServerHandle, user: &str) {
    assert_server(
        server,
        &format!("a refused reconnect of {user}"),
        WAIT,
        |s| s.refused_connections(user) > 0,
    );
    server.refuse_connections(user, false);
}

/// Waits until `channel`'s state satisfies `fact`, through an observer (no polling).
fn wait_channel(
    channel: &stream_chat_client::ChannelClient,
    what: &str,
    fact: impl Fn(&ChannelState) -> bool + Send + Sync + 'static,
) -> std::sync::Arc<ChannelState> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let _o = channel.observe(move |s| {
        if fact(s) {
            let _ = tx.send(std::sync::Arc::clone(s));
        }
    });
    rx.recv_timeout(WAIT)
        .unwrap_or_else(|_| panic!("the channel state never got {what}"))
}

fn numbered(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("m{i:02}")).collect()
}

fn main_texts(state: &ChannelState) -> Vec<String> {
    state
        .messages
        .iter()
        .map(|m| m.message.text().to_owned())
        .collect()
}

#[test]
fn twenty_messages_sent_while_disconnected_are_delivered_once_in_order_after_the_reconnect() {
    let server = quiet_server();
    let dir = Dir::new("twenty");
    let bender = offline_builder(&server, &dir.db()).build().unwrap();
    connect_as(&bender, &server, "bender");
    let recorder = Recorder::new(&bender);
    let channel = bender.channel("messaging", "offline-20").unwrap();
    channel
        .create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    channel.watch().execute().into_result().unwrap();
    let fry = connected(&server, "fry");
    let fry_channel = fry.channel_cid("messaging:offline-20").unwrap();
    let received = Events::<NewMessageEvent>::on(&fry_channel);
    fry_channel.watch().execute().into_result().unwrap();

    go_offline(&server, "bender", &recorder);
    let (tx, callbacks) = crossbeam_channel::unbounded();
    for text in numbered(20) {
        let tx = tx.clone();
        channel
            .send_message(Message::with_text(text.clone()))
            .enqueue(move |result| tx.send((text, result)).unwrap());
    }
    drop(tx);
    // Each callback once, with the message as queued: pending in the state, in order.
    let mut answered = Vec::new();
    for _ in 0..20 {
        let (text, result) = callbacks.recv_timeout(WAIT).expect("a send's callback");
        let message = result.into_result().expect("queued, not failed");
        assert_eq!(message.text(), text);
        answered.push(text);
    }
    answered.sort();
    assert_eq!(answered, numbered(20));
    let state = channel.state().unwrap();
    assert_eq!(main_texts(&state), numbered(20));
    assert!(
        state
            .messages
            .iter()
            .all(|m| m.status == SyncStatus::Pending)
    );
    assert!(!bender.connection_state().is_connected());

    go_online(&server, "bender");
    let delivered = received.take(20);
    assert_eq!(texts(&delivered), numbered(20), "in order");
    let state = wait_channel(&channel, "20 synced messages", |s| {
        s.messages.len() == 20 && s.messages.iter().all(|m| m.status == SyncStatus::Synced)
    });
    assert_eq!(main_texts(&state), numbered(20));
    // Each once: the server has 20, and no callback came twice.
    let stored = fry_channel.watch().execute().into_result().unwrap();
    assert_eq!(stored.messages.len(), 20, "{:?}", stored.messages);
    assert_silent(&callbacks);
}

#[test]
fn a_refused_queued_message_is_failed_until_retry_message_sends_it() {
    let server = quiet_server();
    let dir = Dir::new("retry");
    let bender = offline_builder(&server, &dir.db()).build().unwrap();
    connect_as(&bender, &server, "bender");
    let recorder = Recorder::new(&bender);
    let channel = bender.channel("messaging", "offline-retry").unwrap();
    channel.create(["bender"]).execute().into_result().unwrap();
    channel.watch().execute().into_result().unwrap();

    go_offline(&server, "bender", &recorder);
    let long = Message {
        id: "too-long".into(),
        ..Message::with_text("x".repeat(10_000))
    };
    let queued = channel.send_message(long).execute().into_result().unwrap();
    assert_eq!(queued.id, "too-long");
    let after = Message {
        id: "after".into(),
        ..Message::with_text("after")
    };
    channel.send_message(after).execute().into_result().unwrap();
    go_online(&server, "bender");
    // The refused one is failed; the queue goes on past it.
    let state = wait_channel(&channel, "a failed and a sent message", |s| {
        s.message("too-long")
            .is_some_and(|m| m.status == SyncStatus::Failed)
            && s.message("after")
                .is_some_and(|m| m.status == SyncStatus::Synced)
    });
    let mut failed = state.message("too-long").unwrap().message.clone();

    // Sent as is, it is refused again (a permanent error): failed once more. The call fails
    // at once, or, while the queue still holds "after" (the re-watch after the reconnect
    // may show it sent before the queue let go of it), succeeds as queued and fails there.
    let again = bender.retry_message(failed.clone()).execute().into_result();
    if let Err(err) = again {
        assert_eq!(err.stream_code(), Some(codes::MESSAGE_TOO_LONG));
    }
    wait_channel(&channel, "the retry failed again", |s| {
        s.message("too-long")
            .is_some_and(|m| m.status == SyncStatus::Failed)
    });
    failed.text = Some("shorter".into());
    let sent = bender
        .retry_message(failed)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!((sent.id.as_str(), sent.text()), ("too-long", "shorter"));
    wait_channel(&channel, "the retry sent", |s| {
        s.message("too-long")
            .is_some_and(|m| m.status == SyncStatus::Synced && m.message.text() == "shorter")
    });
    // Once on the server.
    let stored = channel.watch().execute().into_result().unwrap();
    let ids: Vec<&str> = stored.messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids.iter().filter(|id| **id == "too-long").count(),
        1,
        "{ids:?}"
    );
}

#[test]
fn a_new_client_on_the_same_file_has_the_channel_list_and_messages_before_any_network() {
    let server = quiet_server();
    let dir = Dir::new("restart");
    let first = offline_builder(&server, &dir.db()).build().unwrap();
    connect_as(&first, &server, "bender");
    for (id, texts) in [("old", ["o1", "o2"]), ("new", ["n1", "n2"])] {
        let channel = first.channel("messaging", id).unwrap();
        channel
            .create(["bender", "fry"])
            .execute()
            .into_result()
            .unwrap();
        for text in texts {
            post(&channel, text);
        }
    }
    let mut request = QueryChannelsRequest {
        sort: vec![SortParam {
            field: "last_message_at".into(),
            direction: -1,
        }],
        watch: Some(true),
        ..Default::default()
    };
    request
        .filter_conditions
        .insert("members".into(), serde_json::json!({"$in": ["bender"]}));
    first
        .query_channels(request.clone())
        .execute()
        .into_result()
        .unwrap();
    // A reply in a thread, and one message that waits for the connection.
    let old = first.channel("messaging", "old").unwrap();
    let parent = old
        .state()
        .unwrap()
        .messages
        .iter()
        .next()
        .unwrap()
        .message
        .clone();
    let reply = Message {
        parent_id: Some(parent.id.clone()),
        ..Message::with_text("a reply")
    };
    old.send_message(reply).execute().into_result().unwrap();
    let recorder = Recorder::new(&first);
    go_offline(&server, "bender", &recorder);
    let waiting = Message {
        id: "waiting".into(),
        ..Message::with_text("sent after the restart")
    };
    old.send_message(waiting).execute().into_result().unwrap();
    first.shutdown(); // the process ends; the file is written before shutdown returns

    // Restart: no network yet (the server refuses bender meanwhile).
    let client = offline_builder(&server, &dir.db()).build().unwrap();
    let state = client.state();
    assert_eq!(state.me.as_ref().unwrap().id, "bender");
    let list = state.query(&request).expect("the cached query list");
    assert_eq!(list.cids, ["messaging:new", "messaging:old"]);
    let old_state = state.channel("messaging:old").unwrap();
    assert_eq!(
        main_texts(old_state),
        ["o1", "o2", "sent after the restart"]
    );
    assert_eq!(old_state.members.len(), 2);
    assert_eq!(
        old_state.message("waiting").unwrap().status,
        SyncStatus::Pending
    );
    let thread = old_state.thread(&parent.id).expect("the cached thread");
    assert_eq!(thread.iter().next().unwrap().message.text(), "a reply");
    assert_eq!(
        main_texts(state.channel("messaging:new").unwrap()),
        ["n1", "n2"]
    );
    assert!(!client.connection_state().is_connected());

    // The last user comes back with the app's token provider; the waiting message is sent.
    server.refuse_connections("bender", false);
    let token = server.create_token("bender", None);
    let provider =
        TokenSource::provider(move || -> Result<String, TokenError> { Ok(token.clone()) });
    let data = client
        .restore_user(provider)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(data.user.id, "bender");
    let channel = client.channel("messaging", "old").unwrap();
    wait_channel(&channel, "the waiting message sent", |s| {
        s.message("waiting")
            .is_some_and(|m| m.status == SyncStatus::Synced)
    });
    let fry = connected(&server, "fry");
    let stored = fry
        .channel("messaging", "old")
        .unwrap()
        .watch()
        .execute()
        .into_result()
        .unwrap();
    let texts: Vec<&str> = stored.messages.iter().map(|m| m.text()).collect();
    assert_eq!(texts, ["o1", "o2", "sent after the restart"]);
}

#[test]
fn another_user_on_the_same_file_starts_empty_and_replaces_the_cache() {
    let server = quiet_server();
    let dir = Dir::new("switch");
    let first = offline_builder(&server, &dir.db()).build().unwrap();
    connect_as(&first, &server, "bender");
    let channel = first.channel("messaging", "benders").unwrap();
    channel.create(["bender"]).execute().into_result().unwrap();
    post(&channel, "mine");
    first.shutdown();

    let client = offline_builder(&server, &dir.db()).build().unwrap();
    assert!(client.state().channel("messaging:benders").is_some());
    connect_as(&client, &server, "fry");
    assert!(client.state().channel("messaging:benders").is_none());
    // Fry's `me` reaches the store (and the file) through the event thread.
    let (tx, rx) = crossbeam_channel::unbounded();
    let _o = client.observe(move |s| {
        if s.me.as_ref().is_some_and(|me| me.id == "fry") {
            let _ = tx.send(());
        }
    });
    rx.recv_timeout(WAIT).expect("fry in the state");
    client.shutdown();
    let again = offline_builder(&server, &dir.db()).build().unwrap();
    let state = again.state();
    assert_eq!(state.me.as_ref().unwrap().id, "fry");
    assert!(state.channel("messaging:benders").is_none());
}

/// Builds a client on `db` and returns the WARN lines about it.
fn build_and_capture(server: &ServerHandle, db: &Path) -> (ChatClient, Vec<String>) {
    let name = db.display().to_string();
    let capture = logs::capture(log::LevelFilter::Warn, move |l| l.text.contains(&name));
    let client = offline_builder(server, db)
        .build()
        .expect("recovered, not an error");
    (client, capture.rx.try_iter().map(|l| l.text).collect())
}

#[test]
fn a_corrupt_file_is_moved_aside_with_a_log_line_and_a_fresh_database_works() {
    let server = server();
    let dir = Dir::new("corrupt");
    std::fs::write(dir.db(), vec![0x5a; 8192]).unwrap();
    let (client, lines) = build_and_capture(&server, &dir.db());
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("moved aside"), "{}", lines[0]);
    let files = dir.files();
    let aside = files
        .iter()
        .find(|f| f.starts_with("chat.db.corrupt-"))
        .unwrap_or_else(|| panic!("no file moved aside: {files:?}"));
    assert_eq!(std::fs::read(dir.0.join(aside)).unwrap(), vec![0x5a; 8192]);
    assert!(client.state().channels.is_empty());

    // The fresh file keeps what the next client needs.
    connect_as(&client, &server, "bender");
    let channel = client.channel("messaging", "fresh").unwrap();
    channel.create(["bender"]).execute().into_result().unwrap();
    post(&channel, "kept");
    client.shutdown();
    let (again, lines) = build_and_capture(&server, &dir.db());
    assert!(lines.is_empty(), "{lines:?}");
    assert_eq!(
        main_texts(again.state().channel("messaging:fresh").unwrap()),
        ["kept"]
    );
}

#[test]
fn a_file_of_a_newer_schema_is_moved_aside_never_read() {
    let server = server();
    let dir = Dir::new("newer");
    {
        let conn = rusqlite::Connection::open(dir.db()).unwrap();
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
            .unwrap();
    }
    let (client, lines) = build_and_capture(&server, &dir.db());
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("schema version 99"), "{}", lines[0]);
    assert!(client.state().channels.is_empty());
    let conn = rusqlite::Connection::open(dir.db()).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1, "a fresh database of this SDK's schema");
}

#[test]
fn a_path_that_cannot_be_opened_is_a_typed_error() {
    let dir = Dir::new("bad-path");
    let err = ChatClient::builder("key")
        .offline(dir.0.join("no-such-dir").join("chat.db"))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), stream_chat_client::ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("no-such-dir"), "{err}");
}

#[test]
fn clear_offline_data_leaves_nothing_for_the_next_client() {
    let server = server();
    let dir = Dir::new("clear");
    let client = offline_builder(&server, &dir.db()).build().unwrap();
    connect_as(&client, &server, "bender");
    let channel = client.channel("messaging", "cleared").unwrap();
    channel.create(["bender"]).execute().into_result().unwrap();
    client.disconnect().execute().into_result().unwrap();
    client.clear_offline_data().unwrap();
    client.shutdown();
    let again = offline_builder(&server, &dir.db()).build().unwrap();
    assert!(again.state().me.is_none());
    assert!(again.state().channels.is_empty());
    let none = again.restore_user("unused").execute();
    assert_eq!(
        none.error().kind(),
        stream_chat_client::ErrorKind::NotConnected
    );
}

/// After `clear_offline_data` nothing is written until the next connect call: a logout
/// (clear, then shut down while connected) leaves no user, though the shutdown records the
/// connected user and snapshots of earlier events may still reach the writer (the doctest
/// of `restore_user` sometimes restored a cleared user that way).
#[test]
fn a_clear_is_not_undone_until_the_next_connect() {
    let server = server();
    let dir = Dir::new("clear-connected");
    let client = offline_builder(&server, &dir.db()).build().unwrap();
    connect_as(&client, &server, "bender");
    let channel = client.channel("messaging", "cleared-live").unwrap();
    channel.create(["bender"]).execute().into_result().unwrap();
    client.clear_offline_data().unwrap();
    post(&channel, "after the clear");
    client.shutdown();
    let again = offline_builder(&server, &dir.db()).build().unwrap();
    assert!(again.state().me.is_none(), "{:?}", again.state().me);
    assert!(again.state().channels.is_empty());
    let none = again.restore_user("unused").execute();
    assert_eq!(
        none.error().kind(),
        stream_chat_client::ErrorKind::NotConnected
    );

    // The next connect writes again.
    connect_as(&again, &server, "bender");
    let back = again.channel("messaging", "cleared-live").unwrap();
    back.watch().execute().into_result().unwrap();
    again.shutdown();
    let third = offline_builder(&server, &dir.db()).build().unwrap();
    assert_eq!(third.state().me.as_ref().unwrap().id, "bender");
    assert_eq!(
        main_texts(third.state().channel("messaging:cleared-live").unwrap()),
        ["after the clear"]
    );
}

/// A channel loaded before the connect's own event reached the store (the event thread
/// was busy), then a shutdown before that event: the channel is still written, as the
/// connected user's. It was lost twice over: the writer skipped snapshots without `me`
/// after its first, and at shutdown the session it asked for the user had ended.
#[test]
fn a_channel_loaded_before_the_connect_event_is_written_at_shutdown() {
    let server = server();
    let dir = Dir::new("before-me");
    let client = offline_builder(&server, &dir.db()).build().unwrap();
    // Holds the event thread on the first event (the connect's `connecting`): the store
    // gets `me` only after the release.
    let held = hold_events(&client);
    connect_as(&client, &server, "leela");
    let channel = client.channel("messaging", "before-me").unwrap();
    channel.create(["leela"]).execute().into_result().unwrap();
    // (The connect put its user in the state; its event has not been applied.)
    client.shutdown();
    held.release();

    let again = offline_builder(&server, &dir.db()).build().unwrap();
    assert_eq!(again.state().me.as_ref().unwrap().id, "leela");
    assert!(
        again.state().channel("messaging:before-me").is_some(),
        "{:?}",
        again.state().channels.keys().collect::<Vec<_>>()
    );
}

#[test]
fn a_disconnect_keeps_the_file_for_the_next_start() {
    let server = server();
    let dir = Dir::new("disconnect");
    let client = offline_builder(&server, &dir.db()).build().unwrap();
    connect_as(&client, &server, "bender");
    let channel = client.channel("messaging", "kept").unwrap();
    channel.create(["bender"]).execute().into_result().unwrap();
    post(&channel, "still here");
    let mut request = QueryChannelsRequest::default();
    request
        .filter_conditions
        .insert("members".into(), serde_json::json!({"$in": ["bender"]}));
    client
        .query_channels(request.clone())
        .execute()
        .into_result()
        .unwrap();
    client.disconnect().execute().into_result().unwrap();
    assert!(
        client.state().channels.is_empty(),
        "the state goes with the user"
    );
    client.shutdown();

    let again = offline_builder(&server, &dir.db()).build().unwrap();
    let state = again.state();
    assert_eq!(state.me.as_ref().unwrap().id, "bender");
    assert_eq!(state.query(&request).unwrap().cids, ["messaging:kept"]);
    assert_eq!(
        main_texts(state.channel("messaging:kept").unwrap()),
        ["still here"]
    );
}
