//! Read state, moderation, presence and user updates through the SDK against the
//! in-process server: results, the events a second client sees, permissions, bad input.

use serde_json::{Map, Value, json};
use stream_chat_client::{
    ChatClient, ChatError, ErrorKind, Message, NotificationChannelMutesUpdatedEvent,
    NotificationMarkReadEvent, NotificationMarkUnreadEvent, NotificationMutesUpdatedEvent,
    QueryUsersRequest, User, UserBannedEvent, UserPresenceChangedEvent, UserUnbannedEvent,
    UserUpdatedEvent, codes,
};

use crate::channel_admin::with_roles;
use crate::support::*;

#[track_caller]
fn assert_code<T: std::fmt::Debug>(result: Result<T, ChatError>, code: i32, status: u16) {
    let err = result.expect_err("the call must fail");
    assert_eq!(
        (err.stream_code(), err.status_code()),
        (Some(code), Some(status)),
        "{err}"
    );
}

fn map(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[test]
fn unread_counts_follow_reads_and_unreads() {
    let server = server();
    let bender = connected(&server, "bender");
    let fry = connected(&server, "fry");
    let own = bender.channel("messaging", "reads").unwrap();
    own.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    let sent: Vec<Message> = ["one", "two", "three"]
        .iter()
        .map(|t| post(&own, t))
        .collect();
    let counts = fry.get_unread_count().execute().into_result().unwrap();
    assert_eq!(counts.total_unread_count, 3);
    assert_eq!(counts.channels.len(), 1);
    assert_eq!(
        (
            counts.channels[0].channel_id.as_str(),
            counts.channels[0].unread_count
        ),
        ("messaging:reads", 3)
    );
    assert_eq!(counts.channel_type[0].channel_type, "messaging");

    let theirs = fry.channel("messaging", "reads").unwrap();
    let read_notes = Events::<NotificationMarkReadEvent>::of(&fry);
    theirs
        .mark_message_read(&sent[0].id)
        .execute()
        .into_result()
        .unwrap();
    let note = read_notes.next();
    assert_eq!(
        (note.total_unread_count, note.unread_channels),
        (Some(2), Some(1))
    );

    let unread = Events::<NotificationMarkUnreadEvent>::of(&fry);
    theirs.mark_read().execute().into_result().unwrap();
    assert_eq!(read_notes.next().total_unread_count, Some(0));
    theirs
        .mark_unread(&sent[1].id)
        .execute()
        .into_result()
        .unwrap();
    let event = unread.next();
    assert_eq!(
        event.first_unread_message_id.as_deref(),
        Some(sent[1].id.as_str())
    );
    assert_eq!(
        event.last_read_message_id.as_deref(),
        Some(sent[0].id.as_str())
    );
    assert_eq!(
        (event.unread_messages, event.total_unread_count),
        (2, Some(2))
    );
    assert!(event.last_read_at.is_some());

    fry.mark_all_read().execute().into_result().unwrap();
    let all = read_notes.next();
    assert_eq!((all.cid, all.unread_channels), (None, Some(0)));
    assert_eq!(
        fry.get_unread_count()
            .execute()
            .into_result()
            .unwrap()
            .total_unread_count,
        0
    );
    // bad input: an unknown message, a message of another channel
    assert_code(
        theirs.mark_unread("nope").execute().into_result(),
        codes::DOES_NOT_EXIST,
        404,
    );
    assert_code(
        theirs.mark_message_read("nope").execute().into_result(),
        codes::DOES_NOT_EXIST,
        404,
    );
}

#[test]
fn mutes_reach_the_muters_connections_and_leave_the_totals() {
    let server = server();
    let bender = connected(&server, "bender");
    let fry = connected(&server, "fry");
    let fry_phone = connected(&server, "fry");
    let own = bender.channel("messaging", "mutes").unwrap();
    own.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();

    let updated = Events::<NotificationMutesUpdatedEvent>::of(&fry_phone);
    let mute = fry
        .mute_user("bender", Some(60))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        (mute.user.id.as_str(), mute.target.id.as_str()),
        ("fry", "bender")
    );
    assert!(mute.expires.is_some());
    let me = updated.next().me.unwrap();
    assert_eq!(me.mutes.unwrap()[0]["target"]["id"], "bender");
    post(&own, "muted");
    assert_eq!(
        fry.get_unread_count()
            .execute()
            .into_result()
            .unwrap()
            .total_unread_count,
        0
    );
    fry.unmute_user("bender").execute().into_result().unwrap();
    assert_eq!(updated.next().me.unwrap().mutes, Some(vec![]));
    assert_eq!(
        fry.get_unread_count()
            .execute()
            .into_result()
            .unwrap()
            .total_unread_count,
        1
    );
    assert_code(
        fry.mute_user("fry", None).execute().into_result(),
        codes::INPUT,
        400,
    );
    assert_code(
        fry.mute_user("nobody", None).execute().into_result(),
        codes::DOES_NOT_EXIST,
        404,
    );
    assert_code(
        fry.mute_user("bender", Some(-1)).execute().into_result(),
        codes::INPUT,
        400,
    );

    let channel_mutes = Events::<NotificationChannelMutesUpdatedEvent>::of(&fry_phone);
    let theirs = fry.channel("messaging", "mutes").unwrap();
    theirs.mute(None).execute().into_result().unwrap();
    let me = channel_mutes.next().me.unwrap();
    assert_eq!(
        me.channel_mutes.unwrap()[0]["channel"]["cid"],
        "messaging:mutes"
    );
    assert_eq!(
        me.total_unread_count,
        Some(0),
        "a muted channel does not count"
    );
    fry.unmute_channel("messaging", "mutes")
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(channel_mutes.next().me.unwrap().total_unread_count, Some(1));
    // a non-member may not mute the channel
    let leela = connected(&server, "leela");
    assert_code(
        leela
            .mute_channel("messaging", "mutes", None)
            .execute()
            .into_result(),
        codes::NOT_ALLOWED,
        403,
    );
}

#[test]
fn a_moderator_bans_and_the_banned_user_is_refused_until_unbanned() {
    let server = server();
    with_roles(
        &server,
        &[("hermes", "moderator"), ("fry", "user"), ("amy", "user")],
    );
    let hermes = connected(&server, "hermes");
    let fry = connected(&server, "fry");
    let amy = connected(&server, "amy");
    let own = hermes.channel("messaging", "bans").unwrap();
    own.create(["hermes", "fry", "amy"])
        .execute()
        .into_result()
        .unwrap();
    let watching = amy.channel("messaging", "bans").unwrap();
    watching.watch().execute().into_result().unwrap();
    let banned = Events::<UserBannedEvent>::on(&watching);
    let unbanned = Events::<UserUnbannedEvent>::on(&watching);

    assert_code(
        watching.ban_user("fry", None, None).execute().into_result(),
        codes::NOT_ALLOWED,
        403,
    );
    own.ban_user("fry", Some("spam".into()), Some(10))
        .execute()
        .into_result()
        .unwrap();
    let event = banned.next();
    assert_eq!(
        (
            event.user.unwrap().id.as_str(),
            event.reason.as_deref(),
            event.shadow
        ),
        ("fry", Some("spam"), false)
    );
    assert!(event.expiration.is_some());
    let theirs = fry.channel("messaging", "bans").unwrap();
    let err = theirs
        .send_message(Message::with_text("hello?"))
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(
        (err.stream_code(), err.status_code()),
        (Some(17), Some(403))
    );
    assert!(err.message().contains("suspended"), "{}", err.message());
    let bans = own
        .query_banned_users(Map::new(), vec![], None, None)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(bans.len(), 1);
    assert_eq!(bans[0].user.id, "fry");
    assert_eq!(bans[0].banned_by.as_ref().unwrap().id, "hermes");
    let state = own
        .query(Default::default())
        .execute()
        .into_result()
        .unwrap();
    let member = state
        .members
        .iter()
        .find(|m| m.user_id.as_deref() == Some("fry"))
        .unwrap();
    assert_eq!(member.banned, Some(true));

    own.unban_user("fry").execute().into_result().unwrap();
    assert_eq!(unbanned.next().user.unwrap().id, "fry");
    post(&theirs, "back");

    // app-wide ban: refused everywhere; a plain user may not ban globally
    hermes
        .ban_user_globally("amy", None, None)
        .execute()
        .into_result()
        .unwrap();
    assert_code(
        watching
            .send_message(Message::with_text("x"))
            .execute()
            .into_result(),
        17,
        403,
    );
    assert_code(
        fry.ban_user_globally("hermes", None, None)
            .execute()
            .into_result(),
        17,
        403,
    );
    hermes
        .unban_user_globally("amy")
        .execute()
        .into_result()
        .unwrap();
    post(&watching, "amy again");

    // bad input
    let err = own
        .ban_user("fry", None, Some(-5))
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidArgument,
        "negative timeouts fail locally"
    );
    assert_code(
        own.ban_user("hermes", None, None).execute().into_result(),
        codes::INPUT,
        400,
    );
    assert_code(
        own.ban_user("nobody", None, None).execute().into_result(),
        codes::DOES_NOT_EXIST,
        404,
    );
    assert_code(
        hermes
            .ban_user("fry", "messaging", "nowhere", None, None)
            .execute()
            .into_result(),
        codes::DOES_NOT_EXIST,
        404,
    );
}

#[test]
fn a_shadow_banned_users_messages_are_shown_only_to_them() {
    let server = server();
    with_roles(&server, &[("hermes", "moderator")]);
    let hermes = connected(&server, "hermes");
    let fry = connected(&server, "fry");
    let amy = connected(&server, "amy");
    let own = hermes.channel("messaging", "shadow").unwrap();
    own.create(["hermes", "fry", "amy"])
        .execute()
        .into_result()
        .unwrap();
    own.shadow_ban_user("fry", None, None)
        .execute()
        .into_result()
        .unwrap();
    let watching = amy.channel("messaging", "shadow").unwrap();
    watching.watch().execute().into_result().unwrap();
    let seen = Events::<stream_chat_client::NewMessageEvent>::on(&watching);
    let theirs = fry.channel("messaging", "shadow").unwrap();
    let sent = post(&theirs, "nobody hears this");
    assert_eq!(sent.shadowed, Some(true));
    post(&own, "barrier");
    assert_eq!(
        texts(&seen.take(1)),
        ["barrier"],
        "amy never got fry's message"
    );
    let amys = watching
        .query(Default::default())
        .execute()
        .into_result()
        .unwrap();
    let texts: Vec<_> = amys
        .messages
        .iter()
        .filter_map(|m| m.text.clone())
        .collect();
    assert_eq!(texts, ["barrier"]);
    assert_eq!(
        amy.get_unread_count()
            .execute()
            .into_result()
            .unwrap()
            .total_unread_count,
        1
    );
    let frys = theirs
        .query(Default::default())
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(frys.messages.len(), 2, "fry sees his own message");
    own.remove_shadow_ban("fry")
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(post(&theirs, "heard").shadowed, Some(false));
}

#[test]
fn flags_and_blocks() {
    let server = server();
    let bender = connected(&server, "bender");
    let fry = connected(&server, "fry");
    let own = bender.channel("messaging", "flags").unwrap();
    own.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    let sent = post(&own, "rude");
    let flag = fry
        .flag_message(
            &sent.id,
            Some("spam".into()),
            map(&[("severity", json!("high"))]),
        )
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(flag.user.id, "fry");
    assert_eq!(flag.channel_cid.as_deref(), Some("messaging:flags"));
    assert_code(
        fry.flag_message(&sent.id, None, Map::new())
            .execute()
            .into_result(),
        codes::INPUT,
        400,
    );
    assert_code(
        fry.flag_message("nope", None, Map::new())
            .execute()
            .into_result(),
        codes::DOES_NOT_EXIST,
        404,
    );
    fry.unflag_message(&sent.id)
        .execute()
        .into_result()
        .unwrap();
    assert_code(
        fry.unflag_message(&sent.id).execute().into_result(),
        codes::INPUT,
        400,
    );
    let flag = fry
        .flag_user("bender", None, Map::new())
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(flag.target_user.unwrap().id, "bender");
    fry.unflag_user("bender").execute().into_result().unwrap();
    // a non-member may not flag a messaging message
    let leela = connected(&server, "leela");
    assert_code(
        leela
            .flag_message(&sent.id, None, Map::new())
            .execute()
            .into_result(),
        17,
        403,
    );

    // blocks: bender's messages no longer reach fry's socket
    let block = fry.block_user("bender").execute().into_result().unwrap();
    assert_eq!(
        (
            block.blocked_by_user_id.as_str(),
            block.blocked_user_id.as_str()
        ),
        ("fry", "bender")
    );
    assert_eq!(
        fry.query_blocked_users().execute().into_result().unwrap()[0].blocked_user_id,
        "bender"
    );
    let theirs = fry.channel("messaging", "flags").unwrap();
    theirs.watch().execute().into_result().unwrap();
    let seen = Events::<stream_chat_client::NewMessageEvent>::on(&theirs);
    post(&own, "blocked");
    post(&theirs, "barrier");
    assert_eq!(texts(&seen.take(1)), ["barrier"]);
    fry.unblock_user("bender").execute().into_result().unwrap();
    assert!(
        fry.query_blocked_users()
            .execute()
            .into_result()
            .unwrap()
            .is_empty()
    );
    assert_code(
        fry.block_user("fry").execute().into_result(),
        codes::INPUT,
        400,
    );
    assert_code(
        fry.block_user("nobody").execute().into_result(),
        codes::DOES_NOT_EXIST,
        404,
    );
}

#[test]
fn user_updates_reach_the_users_connections_and_the_watchers() {
    let server = server();
    let bender = connected(&server, "bender");
    let fry = connected(&server, "fry");
    let own = bender.channel("messaging", "people").unwrap();
    own.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    fry.channel("messaging", "people")
        .unwrap()
        .watch()
        .execute()
        .into_result()
        .unwrap();
    let at_fry = Events::<UserUpdatedEvent>::of(&fry);
    let at_bender = Events::<UserUpdatedEvent>::of(&bender);
    let user = bender
        .update_user(User::new("bender").with_name("Bender B. Rodríguez"))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(user.name(), "Bender B. Rodríguez");
    assert_eq!(at_fry.next().user.unwrap().name(), "Bender B. Rodríguez");
    let mine = at_bender.next().user.unwrap();
    assert_eq!(mine.name(), "Bender B. Rodríguez");
    assert!(
        mine.total_unread_count.is_some(),
        "its own connections get the own user"
    );

    let user = bender
        .partial_update_user("bender", map(&[("mood", json!("grumpy"))]), vec![])
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        (user.extra_data["mood"].as_str(), user.name()),
        (Some("grumpy"), "Bender B. Rodríguez")
    );
    assert_eq!(at_fry.next().user.unwrap().extra_data["mood"], "grumpy");
    let err = bender
        .partial_update_user("fry", Map::new(), vec![])
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_code(
        bender
            .update_user(User::new("fry").with_name("Not Fry"))
            .execute()
            .into_result(),
        17,
        403,
    );
    assert_code(
        bender
            .update_user(User::new("bender").with_role("admin"))
            .execute()
            .into_result(),
        17,
        403,
    );
}

#[test]
fn presence_follows_the_first_connection_up_and_the_last_down() {
    let server = server();
    let bender = connected(&server, "bender");
    let own = bender.channel("messaging", "presence").unwrap();
    own.create(["bender", "fry", "ghost"])
        .execute()
        .into_result()
        .unwrap();
    let presence = Events::<UserPresenceChangedEvent>::of(&bender);
    let mut request = QueryUsersRequest::default();
    request
        .filter_conditions
        .insert("id".into(), json!({"$in": ["fry", "ghost"]}));
    request.presence = Some(true);
    let users = bender.query_users(request).execute().into_result().unwrap();
    assert!(users.iter().all(|u| u.online == Some(false)));

    let fry = connected(&server, "fry");
    let up = presence.next().user.unwrap();
    assert_eq!((up.id.as_str(), up.online), ("fry", Some(true)));
    assert!(up.last_active.is_some());
    let fry_phone = connected(&server, "fry");
    fry_phone.disconnect().execute().into_result().unwrap();
    fry.disconnect().execute().into_result().unwrap();
    let down = presence.next().user.unwrap();
    assert_eq!(
        (down.id.as_str(), down.online),
        ("fry", Some(false)),
        "no event for fry's second socket: the next one is his last one going down"
    );

    // an invisible user causes no event and shows offline
    let ghost = client(&server);
    ghost
        .connect_user(
            User::new("ghost").with_extra("invisible", true),
            server.create_token("ghost", None),
        )
        .execute()
        .into_result()
        .unwrap();
    let fry = connected(&server, "fry");
    assert_eq!(
        presence.next().user.unwrap().id,
        "fry",
        "the ghost's connect sent nothing"
    );
    let mut request = QueryUsersRequest::default();
    request
        .filter_conditions
        .insert("id".into(), json!("ghost"));
    let users = bender.query_users(request).execute().into_result().unwrap();
    assert_eq!(users[0].online, Some(false));
    drop((fry, ghost));
}

#[test]
fn guests_and_anonymous_users_may_not_moderate() {
    let server = server();
    let bender = connected(&server, "bender");
    bender
        .channel("messaging", "g")
        .unwrap()
        .create(["bender"])
        .execute()
        .into_result()
        .unwrap();
    let anonymous: ChatClient = client(&server);
    anonymous
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    assert_code(
        anonymous.mute_user("bender", None).execute().into_result(),
        17,
        403,
    );
    assert_code(
        anonymous.block_user("bender").execute().into_result(),
        17,
        403,
    );
    assert_code(
        anonymous
            .flag_user("bender", None, Map::new())
            .execute()
            .into_result(),
        17,
        403,
    );
    let guest = client(&server);
    guest
        .connect_guest_user("visitor", "Visitor")
        .execute()
        .into_result()
        .unwrap();
    guest
        .mute_user("bender", None)
        .execute()
        .into_result()
        .unwrap();
    assert_code(
        guest
            .channel("messaging", "g")
            .unwrap()
            .mute(None)
            .execute()
            .into_result(),
        17,
        403,
    );
    assert_code(
        guest
            .ban_user_globally("bender", None, None)
            .execute()
            .into_result(),
        17,
        403,
    );
}
