//! The state store over real sockets against the in-process server: a second client's
//! actions show up in the first client's state; query lists follow events; local sends go
//! pending → sent or failed; recovery after a reconnect fills the gap; observers on a GUI
//! loop's queue get coalesced snapshots in order. Waits are on observer deliveries with a
//! deadline, never on clocks.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use stream_chat_client::state::{ChannelState, ClientState, SyncStatus};
use stream_chat_client::{
    CallbackQueue, ChannelClient, ChatClient, Message, NewMessageEvent, QueryChannelsRequest,
    SortParam, codes,
};
use stream_chat_server::ServerHandle;

use crate::support::*;

/// Waits until the client state satisfies `fact`.
#[track_caller]
fn until_client(
    client: &ChatClient,
    what: &str,
    fact: impl Fn(&ClientState) -> bool + Send + Sync + 'static,
) -> Arc<ClientState> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let _o = client.observe(move |s| {
        if fact(s) {
            let _ = tx.send(Arc::clone(s));
        }
    });
    rx.recv_timeout(WAIT)
        .unwrap_or_else(|_| panic!("no client state where {what} within {WAIT:?}"))
}

fn texts(state: &ChannelState) -> Vec<String> {
    state
        .messages
        .iter()
        .map(|m| m.message.text.clone().unwrap_or_default())
        .collect()
}

/// bender creates messaging:`id` with fry; both watch it.
fn pair(server: &ServerHandle, id: &str) -> (ChatClient, ChannelClient, ChatClient, ChannelClient) {
    let bender = connected(server, "bender");
    let fry = connected(server, "fry");
    let own = bender.channel("messaging", id).unwrap();
    own.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    own.watch().execute().into_result().unwrap();
    let theirs = fry.channel("messaging", id).unwrap();
    theirs.watch().execute().into_result().unwrap();
    (bender, own, fry, theirs)
}

#[test]
fn a_second_clients_actions_show_up_in_the_first_clients_state() {
    let server = server();
    let (_bender, own, _fry, theirs) = pair(&server, "state-pair");
    let state = own.state().expect("watched");
    assert_eq!(state.members.len(), 2);
    assert!(state.membership.is_some());
    assert!(state.own_capabilities().iter().any(|c| c == "send-message"));

    // A message: in bender's list, counted unread, fry's read reset.
    let sent = post(&theirs, "hello bender");
    let st = state_until(&own, "fry's message", |s| s.messages.len() == 1);
    assert_eq!(texts(&st), ["hello bender"]);
    assert_eq!(st.messages.last().unwrap().status, SyncStatus::Synced);
    assert_eq!(st.unread_count, 1);
    assert_eq!(st.reads["fry"].unread_messages, 0);
    assert_eq!(st.reads["bender"].unread_messages, 1);

    // An edit, a reply in a thread, a pin.
    let mut edited = sent.clone();
    edited.text = Some("hello, bender".into());
    theirs
        .update_message(edited)
        .execute()
        .into_result()
        .unwrap();
    state_until(&own, "the edit", |s| texts(s) == ["hello, bender"]);
    let reply = Message {
        parent_id: Some(sent.id.clone()),
        ..Message::with_text("in a thread")
    };
    theirs.send_message(reply).execute().into_result().unwrap();
    let st = state_until(&own, "the reply", move |s| {
        s.thread(&sent.id).is_some_and(|t| t.len() == 1)
    });
    assert_eq!(
        st.messages.len(),
        1,
        "a thread-only reply stays out of the channel list"
    );

    // bender reads: unread 0, and fry sees bender's read.
    own.mark_read().execute().into_result().unwrap();
    state_until(&own, "own unread 0", |s| s.unread_count == 0);
    state_until(&theirs, "bender's read", |s| {
        s.reads
            .get("bender")
            .is_some_and(|r| r.unread_messages == 0 && r.last_read_message_id.is_some())
    });

    // Members: bender adds leela; fry's state has her.
    connected(&server, "leela");
    own.add_members(["leela"], None)
        .execute()
        .into_result()
        .unwrap();
    state_until(&theirs, "leela a member", |s| {
        s.members.contains_key("leela")
    });
    own.remove_members(["leela"], None)
        .execute()
        .into_result()
        .unwrap();
    state_until(&theirs, "leela gone", |s| !s.members.contains_key("leela"));

    // Channel data, then a truncation.
    let mut data = serde_json::Map::new();
    data.insert("name".into(), json!("Planet Express"));
    own.update(None, data).execute().into_result().unwrap();
    state_until(&theirs, "the new name", |s| {
        s.channel.extra.get("name") == Some(&json!("Planet Express"))
    });
    own.truncate(None).execute().into_result().unwrap();
    let st = state_until(&theirs, "no messages", |s| {
        s.messages.is_empty() && s.truncated_at().is_some()
    });
    assert!(st.replies.is_empty());
    assert_eq!(
        st.own_capabilities(),
        theirs.state().unwrap().own_capabilities()
    );

    // Deleting a message shows it deleted (soft) or removes it (hard).
    let a = post(&theirs, "soft");
    let b = post(&theirs, "hard");
    state_until(&own, "two messages", |s| s.messages.len() == 2);
    theirs
        .delete_message(&a.id, false)
        .execute()
        .into_result()
        .unwrap();
    theirs
        .delete_message(&b.id, true)
        .execute()
        .into_result()
        .unwrap();
    let st = state_until(&own, "one deleted message", |s| s.messages.len() == 1);
    assert_eq!(
        st.messages.last().unwrap().message.kind.as_deref(),
        Some("deleted")
    );
}

/// A connect call resolves with the user already in the state, though the connect's own
/// event is still on its way (here: the event thread is held). A query right after it
/// counts the caller's unread messages from that user: with no `me` yet it counted none
/// (the stress run saw 1 instead of 2 in `a_query_list_stays_sorted_and_follows_events`).
#[test]
fn a_connect_resolves_with_its_user_in_the_state_and_a_query_right_after_counts_unread() {
    let server = server();
    let bender = connected(&server, "bender");
    let channel = bender.channel("messaging", "me-first").unwrap();
    channel
        .create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    post(&channel, "unread by fry");

    let fry = client(&server);
    let held = hold_events(&fry);
    connect_as(&fry, &server, "fry");
    let me = fry.state().me.clone();
    assert_eq!(me.map(|u| u.id.clone()).as_deref(), Some("fry"));
    let mut request = QueryChannelsRequest::default();
    request
        .filter_conditions
        .insert("id".into(), json!("me-first"));
    fry.query_channels(request).execute().into_result().unwrap();
    let unread = fry
        .state()
        .channel("messaging:me-first")
        .map(|c| c.unread_count);
    held.release();
    assert_eq!(unread, Some(1));
}

/// The kinds of a message's own reactions in `state`, sorted.
fn own_kinds(state: &ChannelState, id: &str) -> Vec<String> {
    let mut kinds: Vec<String> = state
        .message(id)
        .and_then(|m| m.message.own_reactions.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.kind)
        .collect();
    kinds.sort();
    kinds
}

fn count_of(state: &ChannelState, id: &str, kind: &str) -> u64 {
    state
        .message(id)
        .and_then(|m| m.message.reaction_counts.as_ref()?.get(kind).copied())
        .unwrap_or(0)
}

/// Reaction events keep the current user's own reactions (a broadcast carries nobody's):
/// their own reaction is added, an `enforce_unique` one replaces the others, a delete
/// removes it, and another user's reaction leaves them as they were (JS
/// `_addOwnReactionToMessage` / `_removeOwnReactionFromMessage`).
#[test]
fn reaction_events_keep_the_current_users_own_reactions() {
    let server = server();
    let bender = connected(&server, "bender");
    let fry = connected(&server, "fry");
    let mine = bender.channel("messaging", "own-reactions").unwrap();
    mine.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    mine.watch().execute().into_result().unwrap();
    let his = fry.channel("messaging", "own-reactions").unwrap();
    his.watch().execute().into_result().unwrap();
    let sent = post(&mine, "react to me");
    let id = sent.id.clone();
    let react = |channel: &ChannelClient, kind: &str, unique: bool| {
        let reaction = stream_chat_client::Reaction {
            message_id: id.clone(),
            ..stream_chat_client::Reaction::new(kind)
        };
        channel
            .send_reaction(reaction, unique)
            .execute()
            .into_result()
            .unwrap();
    };

    // The events are what fry's state learns from; bender's through his own events too.
    react(&mine, "love", false);
    let i = id.clone();
    let st = state_until(&his, "bender's love", move |s| count_of(s, &i, "love") == 1);
    assert_eq!(own_kinds(&st, &id), Vec::<String>::new(), "fry has none");
    react(&mine, "like", false);
    let i = id.clone();
    state_until(&his, "bender's like", move |s| count_of(s, &i, "like") == 1);
    react(&his, "wow", false);
    let i = id.clone();
    let st = state_until(&mine, "fry's wow", move |s| count_of(s, &i, "wow") == 1);
    assert_eq!(
        own_kinds(&st, &id),
        ["like", "love"],
        "after fry's reaction"
    );
    let i = id.clone();
    let st = state_until(&his, "his own wow", move |s| own_kinds(s, &i) == ["wow"]);
    assert_eq!(count_of(&st, &id, "love"), 1);

    react(&mine, "haha", true);
    let i = id.clone();
    let st = state_until(&his, "bender's haha", move |s| count_of(s, &i, "haha") == 1);
    assert_eq!(
        count_of(&st, &id, "love"),
        0,
        "enforce_unique replaced bender's others"
    );
    let i = id.clone();
    let st = state_until(&mine, "only haha", move |s| own_kinds(s, &i) == ["haha"]);
    assert_eq!(count_of(&st, &id, "wow"), 1);

    mine.delete_reaction(&id, "haha")
        .execute()
        .into_result()
        .unwrap();
    let i = id.clone();
    state_until(&his, "haha gone", move |s| count_of(s, &i, "haha") == 0);
    let i = id.clone();
    state_until(&mine, "no own reaction", move |s| {
        own_kinds(s, &i).is_empty() && count_of(s, &i, "haha") == 0
    });
}

/// Reaction, pin and partial-update calls put the message as the server returned it into
/// the state before their callers see the result, as `send_message` does (here the event
/// thread is held, so no event can do it).
#[test]
fn message_changing_calls_are_in_the_state_when_they_return() {
    let server = server();
    let bender = client(&server);
    connect_as(&bender, &server, "bender");
    let channel = bender.channel("messaging", "calls-first").unwrap();
    channel.create(["bender"]).execute().into_result().unwrap();
    let sent = post(&channel, "change me");
    let id = sent.id.clone();
    let i = id.clone();
    state_until(&channel, "the message", move |s| s.message(&i).is_some());

    let held = hold_events(&bender);
    let reaction = stream_chat_client::Reaction {
        message_id: id.clone(),
        ..stream_chat_client::Reaction::new("love")
    };
    channel
        .send_reaction(reaction, false)
        .execute()
        .into_result()
        .unwrap();
    let st = channel.state().unwrap();
    let reacted = (count_of(&st, &id, "love"), own_kinds(&st, &id));
    let pinned = channel
        .pin_message(&sent, None)
        .execute()
        .into_result()
        .unwrap();
    let st = channel.state().unwrap();
    let pin_state = (
        st.message(&id).and_then(|m| m.message.pinned),
        st.pinned_messages.iter().any(|m| m.id == id),
    );
    let mut set = serde_json::Map::new();
    set.insert("text".into(), json!("changed"));
    bender
        .partial_update_message(&id, set, Vec::new())
        .execute()
        .into_result()
        .unwrap();
    let text = channel
        .state()
        .unwrap()
        .message(&id)
        .and_then(|m| m.message.text.clone());
    channel
        .delete_reaction(&id, "love")
        .execute()
        .into_result()
        .unwrap();
    let after_delete = count_of(&channel.state().unwrap(), &id, "love");
    held.release();
    assert_eq!(pinned.pinned, Some(true));
    assert_eq!(reacted, (1, vec!["love".to_owned()]));
    assert_eq!(pin_state, (Some(true), true));
    assert_eq!(text.as_deref(), Some("changed"));
    assert_eq!(after_delete, 0);
}

/// `mark_read` shows the channel read when it returns (its answer's `message.read` is
/// applied), though the socket's events are held back: a GUI's badge clears with the call.
#[test]
fn mark_read_clears_the_badge_when_it_returns() {
    let server = server();
    let bender = connected(&server, "bender");
    let fry = connected(&server, "fry");
    let mine = bender.channel("messaging", "badge").unwrap();
    mine.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    let his = fry.channel("messaging", "badge").unwrap();
    his.watch().execute().into_result().unwrap();
    post(&mine, "unread for fry");
    state_until(&his, "one unread", |s| s.unread_count == 1);

    let held = hold_events(&fry);
    // An event the held listener stops on, so nothing from the socket reaches the store.
    post(&mine, "holds fry's event thread");
    his.mark_read().execute().into_result().unwrap();
    let state = his.state().unwrap();
    let fry_read = state.reads.get("fry").map(|r| r.unread_messages);
    held.release();
    assert_eq!((state.unread_count, fry_read), (0, Some(0)));
}

/// Channel-changing calls are in the state when they return, as their answers say, with
/// the socket's events held back: data, members and roles, truncate, hide and show,
/// delete.
#[test]
fn channel_changing_calls_are_in_the_state_when_they_return() {
    let server = server();
    let bender = connected(&server, "bender");
    connected(&server, "amy");
    connected(&server, "fry");
    let channel = bender.channel("messaging", "admin-first").unwrap();
    channel
        .create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    channel.watch().execute().into_result().unwrap();
    post(&channel, "before the truncate");
    state_until(&channel, "the message", |s| !s.messages.is_empty());

    let held = hold_events(&bender);
    let now = || channel.state().unwrap();
    let mut seen = Vec::new();
    let mut set = serde_json::Map::new();
    set.insert("color".into(), json!("red"));
    channel
        .update_partial(set, Vec::new())
        .execute()
        .into_result()
        .unwrap();
    seen.push((
        "color",
        now().channel.extra.get("color").cloned() == Some(json!("red")),
    ));
    channel
        .add_members(["amy"], None)
        .execute()
        .into_result()
        .unwrap();
    seen.push(("amy added", now().members.contains_key("amy")));
    channel
        .add_moderators(["fry"], None)
        .execute()
        .into_result()
        .unwrap();
    let role = now()
        .members
        .get("fry")
        .and_then(|m| m.channel_role.clone());
    seen.push((
        "fry moderates",
        role.as_deref() == Some("channel_moderator"),
    ));
    channel
        .remove_members(["amy"], None)
        .execute()
        .into_result()
        .unwrap();
    seen.push(("amy removed", !now().members.contains_key("amy")));
    channel.truncate(None).execute().into_result().unwrap();
    seen.push(("truncated", now().messages.is_empty()));
    channel.hide(false).execute().into_result().unwrap();
    seen.push(("hidden", now().hidden()));
    channel.show().execute().into_result().unwrap();
    seen.push(("shown", !now().hidden()));
    channel.delete().execute().into_result().unwrap();
    seen.push(("deleted", channel.state().is_none()));
    held.release();
    let missed: Vec<&str> = seen
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(what, _)| *what)
        .collect();
    assert!(
        missed.is_empty(),
        "not in the state when the call returned: {missed:?}"
    );
}

/// Mute and unmute calls are in the state when they return (the mute answers carry the
/// user with its mutes; an unmute's answer carries nothing, so the mute is taken out),
/// with the socket's events held back.
#[test]
fn mute_calls_are_in_the_state_when_they_return() {
    let server = server();
    let bender = connected(&server, "bender");
    connected(&server, "fry");
    let channel = bender.channel("messaging", "mute-first").unwrap();
    channel
        .create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();

    let held = hold_events(&bender);
    let mut seen = Vec::new();
    let muted_users = |c: &ChatClient| -> Vec<String> {
        c.state()
            .mutes
            .iter()
            .map(|m| m.target.id.clone())
            .collect()
    };
    bender
        .mute_user("fry", None)
        .execute()
        .into_result()
        .unwrap();
    seen.push(("fry muted", muted_users(&bender) == ["fry"]));
    channel.mute(None).execute().into_result().unwrap();
    seen.push((
        "channel muted",
        bender.state().channel_mutes.len() == 1 && channel.state().is_some_and(|s| s.muted),
    ));
    bender.unmute_user("fry").execute().into_result().unwrap();
    seen.push(("fry unmuted", muted_users(&bender).is_empty()));
    channel.unmute().execute().into_result().unwrap();
    seen.push((
        "channel unmuted",
        bender.state().channel_mutes.is_empty() && channel.state().is_some_and(|s| !s.muted),
    ));
    held.release();
    let missed: Vec<&str> = seen
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(what, _)| *what)
        .collect();
    assert!(
        missed.is_empty(),
        "not in the state when the call returned: {missed:?}"
    );
}

#[test]
fn a_query_list_stays_sorted_and_follows_events() {
    let server = server();
    let bender = connected(&server, "bender");
    let fry = connected(&server, "fry");
    for id in ["q-old", "q-new"] {
        bender
            .channel("messaging", id)
            .unwrap()
            .create(["bender", "fry"])
            .execute()
            .into_result()
            .unwrap();
    }
    post(&bender.channel("messaging", "q-old").unwrap(), "first");
    post(&bender.channel("messaging", "q-new").unwrap(), "second");
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
        .insert("members".into(), json!({"$in": ["fry"]}));
    fry.query_channels(request.clone())
        .execute()
        .into_result()
        .unwrap();
    let list = |s: &ClientState| {
        s.query(&request)
            .map(|q| q.cids.clone())
            .unwrap_or_default()
    };
    assert_eq!(list(&fry.state()), ["messaging:q-new", "messaging:q-old"]);

    // A message in the older channel moves it to the top, with an unread badge.
    post(&bender.channel("messaging", "q-old").unwrap(), "third");
    let r = request.clone();
    let st = until_client(&fry, "q-old on top", move |s| {
        s.query(&r)
            .is_some_and(|q| q.cids.first().map(String::as_str) == Some("messaging:q-old"))
    });
    assert_eq!(st.channel("messaging:q-old").unwrap().unread_count, 2);

    // Added to a new channel: it joins the list; deleted: it leaves.
    let added = bender.channel("messaging", "q-added").unwrap();
    added.create(["bender"]).execute().into_result().unwrap();
    added
        .add_members(["fry"], None)
        .execute()
        .into_result()
        .unwrap();
    let r = request.clone();
    until_client(&fry, "q-added listed", move |s| {
        s.query(&r)
            .is_some_and(|q| q.cids.iter().any(|c| c == "messaging:q-added"))
    });
    bender
        .channel("messaging", "q-new")
        .unwrap()
        .delete()
        .execute()
        .into_result()
        .unwrap();
    let r = request.clone();
    let st = until_client(&fry, "q-new gone", move |s| {
        s.query(&r)
            .is_some_and(|q| !q.cids.iter().any(|c| c == "messaging:q-new"))
    });
    assert!(st.channel("messaging:q-new").is_none());

    // Hiding takes it out of the list; the channel stays, marked hidden.
    fry.channel("messaging", "q-old")
        .unwrap()
        .hide(false)
        .execute()
        .into_result()
        .unwrap();
    let r = request.clone();
    let st = until_client(&fry, "q-old hidden", move |s| {
        s.query(&r)
            .is_some_and(|q| !q.cids.iter().any(|c| c == "messaging:q-old"))
    });
    assert!(st.channel("messaging:q-old").unwrap().hidden());
}

#[test]
fn a_send_is_pending_then_sent_and_a_refused_one_is_failed() {
    let server = server();
    let bender = connected(&server, "bender");
    let channel = bender.channel("messaging", "state-sends").unwrap();
    channel.create(["bender"]).execute().into_result().unwrap();
    channel.watch().execute().into_result().unwrap();
    // The default executor runs observers where the change happens: every step is seen.
    let (tx, rx) = crossbeam_channel::unbounded();
    let _o = channel.observe(move |s| {
        if let Some(m) = s.messages.last() {
            let _ = tx.send((m.message.id.clone(), m.status));
        }
    });
    let message = Message {
        id: "local-1".into(),
        ..Message::with_text("hi")
    };
    channel
        .send_message(message)
        .execute()
        .into_result()
        .unwrap();
    let seen: Vec<_> = rx.try_iter().collect();
    assert_eq!(
        seen.first(),
        Some(&("local-1".to_string(), SyncStatus::Pending)),
        "{seen:?}"
    );
    assert_eq!(
        channel.state().unwrap().message("local-1").unwrap().status,
        SyncStatus::Synced,
        "sent before the call returns"
    );

    let too_long = Message {
        id: "local-2".into(),
        ..Message::with_text("x".repeat(10_000))
    };
    let err = channel
        .send_message(too_long)
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.stream_code(), Some(codes::MESSAGE_TOO_LONG));
    let st = channel.state().unwrap();
    assert_eq!(st.message("local-2").unwrap().status, SyncStatus::Failed);
    // Re-sending an id the server has refuses the duplicate and leaves the sent one alone.
    let again = Message {
        id: "local-1".into(),
        ..Message::with_text("hi")
    };
    assert!(channel.send_message(again).execute().into_result().is_err());
    assert_eq!(
        channel.state().unwrap().message("local-1").unwrap().status,
        SyncStatus::Synced
    );
}

#[test]
fn messages_missed_while_disconnected_are_in_the_state_after_recovery() {
    let server = server();
    let (bender, own, _fry, theirs) = pair(&server, "state-recovery");
    // fry may rename the channel (below, while bender is away).
    own.add_moderators(["fry"], None)
        .execute()
        .into_result()
        .unwrap();
    post(&theirs, "before");
    state_until(&own, "the first message", |s| s.messages.len() == 1);
    let (tx, rx) = crossbeam_channel::unbounded();
    let _o = bender.observe(move |s| {
        let _ = tx.send(s.connection_state);
    });
    server.refuse_connections("bender", true);
    assert!(server.kick_connections("bender") > 0);
    let deadline = Instant::now() + WAIT;
    while rx
        .recv_deadline(deadline)
        .expect("a disconnected state")
        .is_connected()
    {}
    let mut last = None;
    for text in ["one", "two", "three"] {
        last = Some(post(&theirs, text));
    }
    // fry reads while bender is away: no event reaches bender, the re-watch brings it.
    theirs.mark_read().execute().into_result().unwrap();
    // fry renames the channel while bender's socket is down: bender misses the
    // channel.updated event; the re-watch after the reconnect brings the name.
    let mut data = serde_json::Map::new();
    data.insert("name".into(), json!("renamed while away"));
    theirs.update(None, data).execute().into_result().unwrap();
    assert!(own.state().unwrap().channel.extra.get("name").is_none());
    server.refuse_connections("bender", false);
    let st = state_until(&own, "the missed messages", |s| s.messages.len() == 4);
    assert_eq!(texts(&st), ["before", "one", "two", "three"]);
    assert_eq!(st.unread_count, 4, "each missed message counted once");
    assert_eq!(st.messages.last().unwrap().message.id, last.unwrap().id);
    state_until(&own, "the name from the re-watch", |s| {
        s.channel.extra.get("name") == Some(&json!("renamed while away"))
    });
    assert!(
        until_client(&bender, "connected again", |s| s
            .connection_state
            .is_connected())
        .me
        .is_some()
    );
}

#[test]
fn a_gui_loop_gets_coalesced_snapshots_in_order() {
    // 100 messages from one user in a few seconds: over Stream's 60 a minute per endpoint.
    let server = stream_chat_server::Server::builder()
        .rate_limits(stream_chat_server::RateLimits::off())
        .start()
        .unwrap();
    let fry = connected(&server, "fry");
    // The GUI thread: a queue whose waker counts pushes, a client delivering through it.
    let (pushed_tx, pushed) = crossbeam_channel::unbounded();
    let queue = CallbackQueue::with_waker(move || {
        let _ = pushed_tx.send(());
    });
    let bender = builder(&server)
        .callback_executor(queue.executor())
        .build()
        .unwrap();
    connect_as(&bender, &server, "bender");
    let own = bender.channel("messaging", "state-gui").unwrap();
    own.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    own.watch().execute().into_result().unwrap();
    let theirs = fry.channel("messaging", "state-gui").unwrap();

    let screen: Rc<RefCell<Vec<(u64, usize)>>> = Rc::default();
    let shown = Rc::clone(&screen);
    let _o = own.observe_local(&queue, move |s| {
        shown.borrow_mut().push((s.version, s.messages.len()))
    });
    // A listener per message.new marks when the store has applied each one (it applies an
    // event before handing it to listeners).
    let (seen_tx, seen) = crossbeam_channel::unbounded();
    // (Typed: other events of the channel, such as bender's own user.watching.start, may
    // still arrive and must not count.)
    let _s = own.subscribe_for_type::<NewMessageEvent>(move |_| {
        let _ = seen_tx.send(());
    });
    queue.run_pending();
    assert_eq!(screen.borrow().len(), 1, "the current state first");
    screen.borrow_mut().clear();
    while pushed.try_recv().is_ok() {}

    // 50 messages while the GUI loop does not drain: one pending delivery, the latest.
    for i in 0..50 {
        post(&theirs, &format!("m{i}"));
    }
    let deadline = Instant::now() + WAIT;
    let mut listener_tasks = 0;
    while listener_tasks < 50 {
        // Each push is a message.new listener task or the observer's one delivery.
        pushed
            .recv_deadline(deadline)
            .expect("the events reach the queue");
        listener_tasks = queue.len().saturating_sub(1);
    }
    queue.run_pending();
    let drained: Vec<_> = seen.try_iter().collect();
    assert_eq!(drained.len(), 50);
    assert_eq!(
        screen.borrow().len(),
        1,
        "one delivery for 50 changes: {:?}",
        screen.borrow()
    );
    assert_eq!(screen.borrow()[0].1, 50, "the latest snapshot");

    // Draining while messages arrive: several deliveries, in order, ending at the last.
    screen.borrow_mut().clear();
    let poster = std::thread::spawn(move || {
        for i in 50..100 {
            post(&theirs, &format!("m{i}"));
        }
    });
    let deadline = Instant::now() + WAIT;
    while screen.borrow().last().is_none_or(|(_, n)| *n < 100) {
        assert!(
            Instant::now() < deadline,
            "not all 100 messages were shown: {:?}",
            screen.borrow().last()
        );
        queue.wait_and_run(deadline);
    }
    poster.join().unwrap();
    let shown = screen.borrow();
    assert!(
        shown
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
        "in order: {shown:?}"
    );
    assert!(
        shown.len() <= 50,
        "coalesced: {} deliveries for 50 changes",
        shown.len()
    );
}

#[test]
fn a_typing_user_expires_after_the_timeout_without_typing_stop() {
    use stream_chat_client::state::TYPING_TIMEOUT;
    let server = server();
    let (_bender, own, _fry, theirs) = pair(&server, "state-typing");
    // fry starts typing and never stops (a raw event: keystroke() would stop by itself).
    let started = Instant::now();
    theirs
        .send_event(
            stream_chat_client::event_types::TYPING_START,
            serde_json::Map::new(),
        )
        .execute()
        .into_result()
        .unwrap();
    let st = state_until(&own, "fry typing", |s| s.typing.contains_key("fry"));
    assert_eq!(st.typing_users()[0].id, "fry");
    // The store's timer drops the entry at its deadline and publishes the change.
    let (tx, rx) = crossbeam_channel::unbounded();
    let _o = own.observe(move |s| {
        if !s.typing.contains_key("fry") {
            let _ = tx.send(Instant::now());
        }
    });
    let gone = rx
        .recv_timeout(TYPING_TIMEOUT + WAIT)
        .expect("the typing entry expires");
    assert!(
        gone.duration_since(started) >= TYPING_TIMEOUT,
        "not before the timeout"
    );
}

/// Stream's `message.new` is per recipient: a watching member gets their own unread totals
/// with it (no `notification.*` event reaches a member who watches), so the client state's
/// badge total follows; other watchers get the event without them.
#[test]
fn a_watching_members_unread_total_follows_message_new() {
    let server = server();
    let (bender, own, fry, _theirs) = pair(&server, "totals-a");
    let second = bender.channel("messaging", "totals-b").unwrap();
    second
        .create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    second.watch().execute().into_result().unwrap();
    fry.channel("messaging", "totals-b")
        .unwrap()
        .watch()
        .execute()
        .into_result()
        .unwrap();
    let at_fry = Events::<NewMessageEvent>::of(&fry);
    let at_bender = Events::<NewMessageEvent>::of(&bender);
    for (channel, text) in [(&own, "one"), (&second, "two"), (&second, "three")] {
        channel
            .send_message(Message::with_text(text))
            .execute()
            .into_result()
            .unwrap();
    }
    let totals: Vec<_> = at_fry
        .take(3)
        .iter()
        .map(|e| (e.total_unread_count, e.unread_channels, e.unread_count))
        .collect();
    assert_eq!(
        totals,
        [
            (Some(1), Some(1), Some(1)),
            (Some(2), Some(2), Some(2)),
            (Some(3), Some(2), Some(3))
        ],
        "the recipient's counts after each message"
    );
    let state = until_client(&fry, "3 unread in 2 channels", |s| {
        s.total_unread_count == 3 && s.unread_channels == 2
    });
    assert_eq!(state.total_unread_count, 3);
    let sender: Vec<_> = at_bender
        .take(3)
        .iter()
        .map(|e| e.total_unread_count)
        .collect();
    assert_eq!(sender, [Some(0); 3], "the author's own counts");

    // A watcher who is not a member (a livestream viewer) gets no counts.
    let leela = connected(&server, "leela");
    let stream = bender.channel("livestream", "totals-live").unwrap();
    stream.create(["bender"]).execute().into_result().unwrap();
    leela
        .channel("livestream", "totals-live")
        .unwrap()
        .watch()
        .execute()
        .into_result()
        .unwrap();
    let at_leela = Events::<NewMessageEvent>::of(&leela);
    stream
        .send_message(Message::with_text("live"))
        .execute()
        .into_result()
        .unwrap();
    let e = at_leela.next();
    assert_eq!(e.message.text(), "live");
    assert_eq!((e.total_unread_count, e.unread_channels), (None, None));
}
