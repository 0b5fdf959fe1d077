//! Channel administration and members through the SDK against the in-process server: each
//! call's result, the events a second client sees, the permissions of every default role
//! (member, owner, channel moderator, moderator, admin, guest, anonymous) and bad input.

use serde_json::{Map, Value, json};
use stream_chat_client::{
    ChannelClient, ChannelDeletedEvent, ChannelHiddenEvent, ChannelTruncatedEvent,
    ChannelUpdatedEvent, ChannelVisibleEvent, ChatClient, ChatError, ErrorKind, MemberAddedEvent,
    MemberRemovedEvent, MemberUpdatedEvent, Message, NotificationAddedToChannelEvent,
    NotificationInviteAcceptedEvent, NotificationInvitedEvent, NotificationRemovedFromChannelEvent,
    QueryChannelsRequest, SortParam, codes,
};
use stream_chat_server::ServerHandle;

use crate::support::*;

/// Upserts users with app roles through the server-side REST API.
pub fn with_roles(server: &ServerHandle, users: &[(&str, &str)]) {
    let map: Map<String, Value> = users
        .iter()
        .map(|(id, role)| (id.to_string(), json!({"id": id, "role": role})))
        .collect();
    let url = format!("{}/users?api_key={}", server.base_url(), server.api_key());
    let response = ureq::post(&url)
        .header("Authorization", &server.server_token())
        .header("stream-auth-type", "jwt")
        .send_json(json!({ "users": map }))
        .expect("upsert users");
    assert_eq!(response.status().as_u16(), 200);
}

fn map(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// The error of a call that must fail.
#[track_caller]
fn refused<T: std::fmt::Debug>(result: Result<T, ChatError>) -> ChatError {
    result.expect_err("the call must fail")
}

#[track_caller]
fn assert_code(err: &ChatError, code: i32, status: u16) {
    assert_eq!(
        (err.stream_code(), err.status_code()),
        (Some(code), Some(status)),
        "{err}"
    );
}

/// bender creates messaging:`id` with fry; both watch it. Returns both clients and channels.
fn pair(server: &ServerHandle, id: &str) -> (ChatClient, ChannelClient, ChatClient, ChannelClient) {
    let bender = connected(server, "bender");
    let fry = connected(server, "fry");
    let own = bender.channel("messaging", id).unwrap();
    own.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    own.watch().execute().into_result().unwrap();
    let other = fry.channel("messaging", id).unwrap();
    other.watch().execute().into_result().unwrap();
    (bender, own, fry, other)
}

#[test]
fn update_and_update_partial_reach_the_other_watcher() {
    let server = server();
    let (_bender, own, _fry, other) = pair(&server, "upd");
    let updates = Events::<ChannelUpdatedEvent>::on(&other);
    let notes = Events::<stream_chat_client::NewMessageEvent>::on(&other);
    let data = map(&[("name", json!("Planet Express")), ("color", json!("green"))]);
    let channel = own
        .update(Some(Message::with_text("Renamed")), data)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(channel.extra["name"], "Planet Express");
    let caps = channel.own_capabilities.unwrap();
    assert!(caps.iter().any(|c| c == "update-channel"), "{caps:?}");
    let event = updates.next();
    assert_eq!(event.user.unwrap().id, "bender");
    let seen = event.channel.unwrap();
    assert_eq!(seen.extra["color"], "green");
    assert_eq!(
        seen.own_capabilities, None,
        "a broadcast channel has no capabilities"
    );
    let note = notes.next();
    assert_eq!(note.message.kind.as_deref(), Some("system"));
    assert_eq!(note.message.text.as_deref(), Some("Renamed"));

    let partial = own
        .update_partial(map(&[("topic", json!("deliveries"))]), vec!["color".into()])
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(partial.extra["topic"], "deliveries");
    assert!(!partial.extra.contains_key("color"));
    assert_eq!(partial.extra["name"], "Planet Express");
    let seen = updates.next().channel.unwrap();
    assert_eq!(seen.extra["topic"], "deliveries");

    // Reserved fields are input errors; a member may not update.
    let err = refused(
        own.update_partial(map(&[("created_at", json!("now"))]), vec![])
            .execute()
            .into_result(),
    );
    assert_code(&err, codes::INPUT, 400);
    let err = refused(other.update(None, Map::new()).execute().into_result());
    assert_code(&err, codes::NOT_ALLOWED, 403);
}

#[test]
fn delete_truncate_hide_and_show() {
    let server = server();
    let (bender, own, fry, other) = pair(&server, "adm");
    post(&own, "one");
    post(&own, "two");

    let truncated = Events::<ChannelTruncatedEvent>::on(&other);
    let channel = own
        .truncate(Some(Message::with_text("cleared")))
        .execute()
        .into_result()
        .unwrap();
    assert!(channel.truncated_at.is_some());
    let event = truncated.next();
    assert!(event.channel.unwrap().truncated_at.is_some());
    assert_eq!(event.message.unwrap().text.as_deref(), Some("cleared"));
    let state = other
        .query(Default::default())
        .execute()
        .into_result()
        .unwrap();
    let texts: Vec<_> = state
        .messages
        .iter()
        .filter_map(|m| m.text.clone())
        .collect();
    assert_eq!(texts, ["cleared"]);
    let err = refused(other.truncate(None).execute().into_result());
    assert_code(&err, codes::NOT_ALLOWED, 403);

    // hide: channel.hidden to fry's connections; the channel leaves his list until a message.
    let hidden = Events::<ChannelHiddenEvent>::of(&fry);
    other.hide(false).execute().into_result().unwrap();
    assert!(!hidden.next().clear_history);
    let mine = |hidden: bool| {
        let mut request =
            QueryChannelsRequest::default().filter("members", json!({"$in": ["fry"]}));
        if hidden {
            request = request.filter("hidden", true);
        }
        fry.query_channels(request)
            .execute()
            .into_result()
            .unwrap()
            .len()
    };
    assert_eq!((mine(false), mine(true)), (0, 1));
    let visible = Events::<ChannelVisibleEvent>::of(&fry);
    post(&own, "wake up");
    visible.next();
    assert_eq!(mine(false), 1);
    other.hide(true).execute().into_result().unwrap();
    other.show().execute().into_result().unwrap();
    visible.next();
    let state = other
        .query(Default::default())
        .execute()
        .into_result()
        .unwrap();
    assert!(state.messages.is_empty(), "history cleared for fry");

    // delete: channel.deleted; the id is free again afterwards.
    let err = refused(other.delete().execute().into_result());
    assert_code(&err, codes::NOT_ALLOWED, 403);
    let deleted = Events::<ChannelDeletedEvent>::on(&other);
    let gone = own.delete().execute().into_result().unwrap();
    assert!(gone.deleted_at.is_some());
    assert_eq!(deleted.next().cid, "messaging:adm");
    let err = refused(own.update(None, Map::new()).execute().into_result());
    assert_code(&err, codes::DOES_NOT_EXIST, 404);
    drop(bender);
}

#[test]
fn unknown_channels_are_code_16() {
    let server = server();
    let bender = connected(&server, "bender");
    let nowhere = bender.channel("messaging", "nowhere").unwrap();
    let results: Vec<Result<(), ChatError>> = vec![
        nowhere
            .update(None, Map::new())
            .execute()
            .into_result()
            .map(drop),
        nowhere
            .update_partial(Map::new(), vec![])
            .execute()
            .into_result()
            .map(drop),
        nowhere.delete().execute().into_result().map(drop),
        nowhere.truncate(None).execute().into_result().map(drop),
        nowhere.hide(false).execute().into_result(),
        nowhere
            .add_members(["fry"], None)
            .execute()
            .into_result()
            .map(drop),
        nowhere
            .query_members(0, 0, Map::new(), vec![])
            .execute()
            .into_result()
            .map(drop),
        nowhere.mark_read().execute().into_result(),
        nowhere.mute(None).execute().into_result(),
    ];
    for result in results {
        assert_code(&refused(result), codes::DOES_NOT_EXIST, 404);
    }
}

#[test]
fn members_join_leave_get_promoted_and_are_queried() {
    let server = server();
    let (_bender, own, _fry, other) = pair(&server, "crew");
    let leela = connected(&server, "leela");
    let added = Events::<MemberAddedEvent>::on(&other);
    let welcomed = Events::<NotificationAddedToChannelEvent>::of(&leela);
    let channel = own
        .add_members(["leela", "amy"], None)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(channel.member_count, Some(4));
    let mut ids: Vec<String> = added
        .take(2)
        .into_iter()
        .map(|e| e.member.unwrap().user.unwrap().id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["amy", "leela"]);
    assert_eq!(welcomed.next().cid, "messaging:crew");

    let promoted = Events::<MemberUpdatedEvent>::on(&other);
    own.add_moderators(["leela"], None)
        .execute()
        .into_result()
        .unwrap();
    let member = promoted.next().member.unwrap();
    assert_eq!(
        (member.channel_role.as_deref(), member.is_moderator),
        (Some("channel_moderator"), Some(true))
    );
    let moderators = other
        .query_members(0, 10, map(&[("is_moderator", json!(true))]), vec![])
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(moderators.len(), 1);
    assert_eq!(moderators[0].user_id.as_deref(), Some("leela"));
    let sorted = other
        .query_members(
            1,
            2,
            Map::new(),
            vec![SortParam {
                field: "user_id".into(),
                direction: -1,
            }],
        )
        .execute()
        .into_result()
        .unwrap();
    let ids: Vec<_> = sorted.iter().filter_map(|m| m.user_id.clone()).collect();
    assert_eq!(ids, ["fry", "bender"]);
    // the channel moderator may now change members; demoted, not any more
    let leela_channel = leela.channel("messaging", "crew").unwrap();
    leela_channel
        .remove_members(["amy"], None)
        .execute()
        .into_result()
        .unwrap();
    own.demote_moderators(["leela"], None)
        .execute()
        .into_result()
        .unwrap();
    let err = refused(
        leela_channel
            .add_members(["amy"], None)
            .execute()
            .into_result(),
    );
    assert_code(&err, codes::NOT_ALLOWED, 403);

    // fry leaves on his own; the watchers get member.removed, he the notification
    let removed = Events::<MemberRemovedEvent>::on(&own);
    let gone = Events::<NotificationRemovedFromChannelEvent>::of(&_fry);
    other
        .remove_members(["fry"], None)
        .execute()
        .into_result()
        .unwrap();
    // (amy's member.removed, from leela's step above, may arrive after the subscription)
    let fry_removed = removed.next_where(|e| e.user.as_ref().is_some_and(|u| u.id == "fry"));
    assert_eq!(fry_removed.user.unwrap().id, "fry");
    assert_eq!(gone.next().cid, "messaging:crew");

    // bad input: an unknown user, a moderator who is not a member, an unknown role
    let err = refused(own.remove_members(["nobody"], None).execute().into_result());
    assert_code(&err, codes::INPUT, 400);
    let err = refused(own.add_moderators(["fry"], None).execute().into_result());
    assert_code(&err, codes::INPUT, 400);
    let err = refused(
        own.partial_update_member("leela", map(&[("channel_role", json!("captain"))]), vec![])
            .execute()
            .into_result(),
    );
    assert_code(&err, codes::INPUT, 400);
    let err = refused(
        own.partial_update_member("nobody", map(&[("pinned", json!(true))]), vec![])
            .execute()
            .into_result(),
    );
    assert_code(&err, codes::DOES_NOT_EXIST, 404);
}

#[test]
fn partial_member_update_pins_for_oneself_and_tells_the_watchers() {
    let server = server();
    let (_bender, own, _fry, other) = pair(&server, "pins");
    let updated = Events::<MemberUpdatedEvent>::on(&own);
    let member = other
        .partial_update_member(
            "fry",
            map(&[("pinned", json!(true)), ("nickname", json!("Fry"))]),
            vec![],
        )
        .execute()
        .into_result()
        .unwrap();
    assert!(member.pinned_at.is_some());
    assert_eq!(member.extra["nickname"], "Fry");
    assert_eq!(updated.next().member.unwrap().extra["nickname"], "Fry");
    let member = other
        .partial_update_member("fry", Map::new(), vec!["pinned".into()])
        .execute()
        .into_result()
        .unwrap();
    assert!(member.pinned_at.is_none());
    // another member's fields are not fry's to change
    let err = refused(
        other
            .partial_update_member("bender", map(&[("pinned", json!(true))]), vec![])
            .execute()
            .into_result(),
    );
    assert_code(&err, codes::NOT_ALLOWED, 403);
}

#[test]
fn invites_are_accepted_or_rejected() {
    let server = server();
    let bender = connected(&server, "bender");
    let zoidberg = connected(&server, "zoidberg");
    let hermes = connected(&server, "hermes");
    let own = bender.channel("messaging", "invite").unwrap();
    own.create(["bender"]).execute().into_result().unwrap();
    own.watch().execute().into_result().unwrap();
    let invited = Events::<NotificationInvitedEvent>::of(&zoidberg);
    let invited_too = Events::<NotificationInvitedEvent>::of(&hermes);
    own.invite_members(["zoidberg", "hermes"], None)
        .execute()
        .into_result()
        .unwrap();
    let note = invited.next();
    let member = note.member.unwrap();
    assert_eq!(
        (member.invited, member.status.as_deref()),
        (Some(true), Some("pending"))
    );
    invited_too.next();

    let updated = Events::<MemberUpdatedEvent>::on(&own);
    let accepted = Events::<NotificationInviteAcceptedEvent>::of(&zoidberg);
    let theirs = zoidberg.channel("messaging", "invite").unwrap();
    theirs
        .accept_invite(Some("Hooray!".into()))
        .execute()
        .into_result()
        .unwrap();
    assert!(accepted.next().member.unwrap().invite_accepted_at.is_some());
    let member = updated.next().member.unwrap();
    assert_eq!(member.status.as_deref(), Some("member"));
    let err = refused(theirs.accept_invite(None).execute().into_result());
    assert_code(&err, codes::INPUT, 400);

    let removed = Events::<MemberRemovedEvent>::on(&own);
    hermes
        .channel("messaging", "invite")
        .unwrap()
        .reject_invite()
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(removed.next().user.unwrap().id, "hermes");
    let members = own
        .query_members(0, 0, Map::new(), vec![])
        .execute()
        .into_result()
        .unwrap();
    let ids: Vec<_> = members.iter().filter_map(|m| m.user_id.clone()).collect();
    assert_eq!(ids, ["bender", "zoidberg"]);
}

#[test]
fn distinct_channels_come_from_the_member_set() {
    let server = server();
    let bender = connected(&server, "bender");
    let fry = connected(&server, "fry");
    let a = bender
        .create_channel(
            "messaging",
            "",
            ["bender", "fry"],
            map(&[("topic", json!("dm"))]),
        )
        .execute()
        .into_result()
        .unwrap();
    let b = fry
        .create_channel("messaging", "", ["fry", "bender", "fry"], Map::new())
        .execute()
        .into_result()
        .unwrap();
    assert!(a.id.starts_with("!members-"), "{}", a.id);
    assert_eq!(a.cid, b.cid);
    assert_eq!(b.extra["topic"], "dm", "the first creation's data");
    let c = bender
        .create_channel("messaging", "", ["bender", "leela"], Map::new())
        .execute()
        .into_result()
        .unwrap();
    assert_ne!(c.cid, a.cid);
    let named = bender
        .create_channel("messaging", "named", ["bender"], Map::new())
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(named.cid, "messaging:named");
    let err = refused(
        bender
            .create_channel("messaging", "", ["bender"], Map::new())
            .execute()
            .into_result(),
    );
    assert_code(&err, codes::INPUT, 400);
    let err = refused(
        bender
            .create_channel("messaging", "a b", ["bender"], Map::new())
            .execute()
            .into_result(),
    );
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn slow_mode_refuses_members_inside_the_cooldown_but_not_moderators() {
    let server = server();
    with_roles(&server, &[("hermes", "moderator"), ("fry", "user")]);
    let hermes = connected(&server, "hermes");
    let fry = connected(&server, "fry");
    let own = hermes.channel("messaging", "slow").unwrap();
    own.create(["hermes", "fry"])
        .execute()
        .into_result()
        .unwrap();
    let theirs = fry.channel("messaging", "slow").unwrap();
    theirs.watch().execute().into_result().unwrap();
    let updates = Events::<ChannelUpdatedEvent>::on(&theirs);

    let err = own
        .enable_slow_mode(121)
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = refused(theirs.enable_slow_mode(30).execute().into_result());
    assert_code(&err, codes::NOT_ALLOWED, 403);
    let channel = own.enable_slow_mode(30).execute().into_result().unwrap();
    assert_eq!(channel.cooldown, Some(30));
    assert_eq!(updates.next().channel.unwrap().cooldown, Some(30));

    post(&theirs, "first");
    let err = refused(
        theirs
            .send_message(Message::with_text("second"))
            .execute()
            .into_result(),
    );
    assert_code(&err, codes::COOLDOWN, 403);
    post(&own, "moderators skip it");
    post(&own, "twice");
    let channel = own.disable_slow_mode().execute().into_result().unwrap();
    assert_eq!(channel.cooldown, None);
    post(&theirs, "free again");
}

/// What each default role may do to a channel it did not create (the owner row: one it
/// did create), checked on a fresh channel per role and action.
#[test]
fn administration_follows_the_default_roles() {
    let server = server();
    with_roles(
        &server,
        &[
            ("mod", "moderator"),
            ("root", "admin"),
            ("owner", "user"),
            ("member", "user"),
            ("chanmod", "user"),
            ("victim", "user"),
        ],
    );
    let guest = client(&server);
    guest
        .connect_guest_user("visitor", "Visitor")
        .execute()
        .into_result()
        .unwrap();
    let anonymous = client(&server);
    anonymous
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    let owner = connected(&server, "owner");
    let actors: Vec<(&str, ChatClient)> = vec![
        ("member", connected(&server, "member")),
        ("owner", owner.clone()),
        ("chanmod", connected(&server, "chanmod")),
        ("mod", connected(&server, "mod")),
        ("root", connected(&server, "root")),
        ("visitor", guest),
        ("!anon", anonymous),
    ];
    type Act = fn(&ChannelClient) -> Result<(), ChatError>;
    let actions: [(&str, Act, [bool; 7]); 6] = [
        (
            "update",
            |c| c.update(None, Map::new()).execute().into_result().map(drop),
            [false, true, true, true, true, false, false],
        ),
        (
            "add_members",
            |c| {
                c.add_members(["extra"], None)
                    .execute()
                    .into_result()
                    .map(drop)
            },
            [false, true, true, true, true, false, false],
        ),
        (
            "truncate",
            |c| c.truncate(None).execute().into_result().map(drop),
            [false, true, false, false, true, false, false],
        ),
        (
            "delete",
            |c| c.delete().execute().into_result().map(drop),
            [false, true, false, false, true, false, false],
        ),
        (
            "slow mode",
            |c| c.enable_slow_mode(5).execute().into_result().map(drop),
            [false, false, true, true, true, false, false],
        ),
        (
            "ban",
            |c| c.ban_user("victim", None, None).execute().into_result(),
            [false, false, true, true, true, false, false],
        ),
    ];
    let mut n = 0;
    for (name, act, allowed) in actions {
        for ((who, client), want) in actors.iter().zip(allowed) {
            n += 1;
            let id = format!("roles-{n}");
            let mut members = vec!["owner", "member", "chanmod", "victim"];
            if *who == "visitor" {
                members.push("visitor");
            }
            owner
                .channel("messaging", &id)
                .unwrap()
                .create(members)
                .execute()
                .into_result()
                .unwrap();
            owner
                .channel("messaging", &id)
                .unwrap()
                .add_moderators(["chanmod"], None)
                .execute()
                .into_result()
                .unwrap();
            let channel = client.channel("messaging", &id).unwrap();
            let got = act(&channel);
            match got {
                Ok(()) => assert!(want, "{who} may not {name}"),
                Err(err) => {
                    assert!(!want, "{who} may {name}: {err}");
                    assert_code(&err, codes::NOT_ALLOWED, 403);
                }
            }
        }
    }
}
