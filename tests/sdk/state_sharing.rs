//! What a watching client keeps (issue 14): `watch()` asks for a page of 30 watchers, as
//! Android's state layer does, with the server's `watcher_count` for the rest; clients of
//! one process that load equal lists of a channel keep one copy, and an event that changes
//! one client's list gives that client its own copy, leaving the others and every older
//! snapshot as they were. Waits are on observer deliveries with a deadline.

use std::sync::Arc;

use stream_chat_client::{ChannelClient, ChatClient, QueryChannelRequest};

use crate::support::*;

fn watching(
    client: &ChatClient,
    kind: &str,
    id: &str,
) -> (ChannelClient, stream_chat_client::ChannelState) {
    let channel = client.channel(kind, id).unwrap();
    let state = channel.watch().execute().into_result().unwrap();
    (channel, state)
}

#[test]
fn watch_brings_a_page_of_thirty_watchers_and_the_full_count() {
    let server = server();
    let clients: Vec<ChatClient> = (0..33)
        .map(|i| connected(&server, &format!("viewer-{i}")))
        .collect();
    for client in &clients[..32] {
        watching(client, "livestream", "crowd");
    }
    let (channel, answer) = watching(&clients[32], "livestream", "crowd");
    assert_eq!(answer.watcher_count, 33);
    assert_eq!(answer.watchers.len(), 30, "the page watch() asks for");
    let state = channel.state().unwrap();
    assert_eq!(state.watcher_count, 33);
    assert_eq!(state.watchers.len(), 30);
    // The rest are a query away.
    let rest = channel
        .query(QueryChannelRequest {
            state: Some(true),
            watchers: Some(serde_json::json!({ "limit": 30, "offset": 30 })),
            ..QueryChannelRequest::default()
        })
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(rest.watchers.len(), 3);
    let mut everyone: Vec<String> = answer
        .watchers
        .iter()
        .chain(&rest.watchers)
        .map(|u| u.id.clone())
        .collect();
    everyone.sort();
    everyone.dedup();
    assert_eq!(everyone.len(), 33, "two pages name every watcher once");
}

#[test]
fn clients_of_one_process_keep_one_copy_of_equal_lists_until_one_changes() {
    let server = server();
    let (fry, leela) = (connected(&server, "fry"), connected(&server, "leela"));
    let setup = fry.channel("messaging", "shared-lists").unwrap();
    setup
        .create(["fry", "leela", "bender"])
        .execute()
        .into_result()
        .unwrap();
    let (at_fry, _) = watching(&fry, "messaging", "shared-lists");
    let (at_leela, _) = watching(&leela, "messaging", "shared-lists");
    state_until(&at_fry, "leela watches", |s| {
        s.watchers.contains_key("leela")
    });
    // Fry reloads the channel: the same watchers and members leela's watch brought.
    at_fry
        .query(QueryChannelRequest {
            state: Some(true),
            ..QueryChannelRequest::default()
        })
        .execute()
        .into_result()
        .unwrap();
    let (fry_before, leela_before) = (at_fry.state().unwrap(), at_leela.state().unwrap());
    assert_eq!(fry_before.watchers, leela_before.watchers);
    assert!(
        Arc::ptr_eq(&fry_before.watchers, &leela_before.watchers),
        "equal watcher lists are one copy"
    );
    assert!(Arc::ptr_eq(&fry_before.members, &leela_before.members));

    // Bender starts watching: each client's list changes on its own.
    let bender = connected(&server, "bender");
    watching(&bender, "messaging", "shared-lists");
    let fry_after = state_until(&at_fry, "bender watches", |s| {
        s.watchers.contains_key("bender")
    });
    let leela_after = state_until(&at_leela, "bender watches", |s| {
        s.watchers.contains_key("bender")
    });
    for after in [&fry_after, &leela_after] {
        let mut ids: Vec<&str> = after.watchers.keys().map(String::as_str).collect();
        ids.sort();
        assert_eq!(ids, ["bender", "fry", "leela"]);
    }
    // The snapshots taken before still show the list as it was.
    assert!(!fry_before.watchers.contains_key("bender"));
    assert!(!leela_before.watchers.contains_key("bender"));
    assert_eq!(fry_before.watchers.len(), 2);
}
