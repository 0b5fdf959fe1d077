//! Reactions through the SDK against the in-process server: send (plain, again,
//! `enforce_unique`), delete, list, per-viewer `own_reactions`, the typed `reaction.*`
//! events a watcher receives, the grants per user type and typed errors.

use crate::support::*;
use stream_chat_client::{
    ChannelClient, ChatClient, ErrorKind, Message, Reaction, ReactionDeletedEvent,
    ReactionNewEvent, ReactionUpdateEvent,
};

/// bender's messaging channel `cid` with fry as a member: both connected, fry watching.
fn room(
    server: &stream_chat_server::ServerHandle,
    id: &str,
) -> (ChatClient, ChannelClient, ChatClient, ChannelClient) {
    let bender = connected(server, "bender");
    let fry = connected(server, "fry");
    let mine = bender.channel("messaging", id).unwrap();
    mine.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    let his = fry.channel("messaging", id).unwrap();
    his.watch().execute().into_result().unwrap();
    (bender, mine, fry, his)
}

fn reaction(message: &Message, kind: &str) -> Reaction {
    Reaction {
        message_id: message.id.clone(),
        ..Reaction::new(kind)
    }
}

fn kinds(list: &Option<Vec<Reaction>>) -> Vec<(String, String)> {
    list.iter()
        .flatten()
        .map(|r| (r.kind.clone(), r.user_id.clone()))
        .collect()
}

fn pair(kind: &str, user: &str) -> (String, String) {
    (kind.to_owned(), user.to_owned())
}

#[test]
fn reactions_reach_a_watcher_typed_and_own_reactions_are_per_viewer() {
    let server = server();
    let (bender, mine, fry, his) = room(&server, "reactions");
    let news = Events::<ReactionNewEvent>::on(&his);
    let updates = Events::<ReactionUpdateEvent>::on(&his);
    let deletions = Events::<ReactionDeletedEvent>::on(&his);
    let sent = post(&mine, "react to me");

    let stored = mine
        .send_reaction(reaction(&sent, "love"), false)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        (
            stored.user_id.as_str(),
            stored.score,
            stored.message_id.as_str()
        ),
        ("bender", 1, sent.id.as_str())
    );
    let e = news.next();
    assert_eq!(
        (e.cid.as_str(), e.reaction.user_id.as_str()),
        ("messaging:reactions", "bender")
    );
    assert_eq!(e.message.reaction_counts.as_ref().unwrap()["love"], 1);
    assert_eq!(e.message.reaction_groups.as_ref().unwrap()["love"].count, 1);
    assert_eq!(
        e.message.own_reactions,
        Some(Vec::new()),
        "nobody's in a broadcast"
    );
    assert_eq!(kinds(&e.message.latest_reactions), [pair("love", "bender")]);

    // Each viewer sees their own reactions.
    let his_view = his.get_message(&sent.id).execute().into_result().unwrap();
    assert_eq!(kinds(&his_view.own_reactions), []);
    let my_view = mine.get_message(&sent.id).execute().into_result().unwrap();
    assert_eq!(kinds(&my_view.own_reactions), [pair("love", "bender")]);

    // fry reacts twice, then once with enforce_unique: his others are replaced.
    for kind in ["like", "wow"] {
        his.send_reaction(reaction(&sent, kind), false)
            .execute()
            .into_result()
            .unwrap();
        assert_eq!(news.next().reaction.kind, kind);
    }
    his.send_reaction(reaction(&sent, "clap"), true)
        .execute()
        .into_result()
        .unwrap();
    let e = updates.next();
    assert_eq!(
        (e.reaction.kind.as_str(), e.reaction.user_id.as_str()),
        ("clap", "fry")
    );
    let counts = e.message.reaction_counts.unwrap();
    assert_eq!(counts.keys().collect::<Vec<_>>(), ["clap", "love"]);
    let page = fry
        .get_reactions(&sent.id, 0, 10)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        page.iter()
            .map(|r| (r.kind.clone(), r.user_id.clone()))
            .collect::<Vec<_>>(),
        [pair("clap", "fry"), pair("love", "bender")]
    );
    assert_eq!(
        his.get_reactions(&sent.id, 1, 10)
            .execute()
            .into_result()
            .unwrap()
            .len(),
        1
    );

    // Through the client, by cid.
    let message = bender
        .delete_reaction(&sent.id, "love", "messaging:reactions")
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(message.reaction_counts.unwrap().len(), 1);
    let e = deletions.next();
    assert_eq!(
        (e.reaction.kind.as_str(), e.reaction.user_id.as_str()),
        ("love", "bender")
    );
    bender
        .send_reaction(reaction(&sent, "love"), false, "messaging:reactions")
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(news.next().reaction.user_id, "bender");
}

#[test]
fn who_may_react_follows_the_default_grants() {
    let server = server();
    let owner = connected(&server, "bender");
    let room = owner.channel("messaging", "private").unwrap();
    room.create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    let in_room = post(&room, "members only");
    let stage = owner.channel("livestream", "stage").unwrap();
    stage.watch().execute().into_result().unwrap();
    let on_stage = post(&stage, "for everyone");

    let regular = connected(&server, "leela");
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
    let member = connected(&server, "fry");
    let react = |who: &ChatClient, cid: &str, message: &Message| {
        who.send_reaction(reaction(message, "love"), false, cid)
            .execute()
            .into_result()
            .map(|_| ())
    };
    for who in [&regular, &guest, &anonymous] {
        let err = react(who, "messaging:private", &in_room).unwrap_err();
        assert_eq!(
            (err.stream_code(), err.status_code()),
            (Some(17), Some(403)),
            "{err}"
        );
    }
    react(&member, "messaging:private", &in_room).unwrap();
    react(&regular, "livestream:stage", &on_stage).unwrap();
    for who in [&guest, &anonymous] {
        let err = react(who, "livestream:stage", &on_stage).unwrap_err();
        assert_eq!(err.stream_code(), Some(17), "{err}");
    }
    // Reading reactions: whoever reads the channel.
    assert_eq!(
        anonymous
            .get_reactions(&on_stage.id, 0, 10)
            .execute()
            .into_result()
            .unwrap()
            .len(),
        1
    );
    let err = regular
        .get_reactions(&in_room.id, 0, 10)
        .execute()
        .error()
        .clone();
    assert_eq!(err.stream_code(), Some(17));
}

#[test]
fn bad_reactions_are_typed_errors() {
    let server = server();
    let (bender, mine, _fry, _his) = room(&server, "bad");
    let sent = post(&mine, "hi");
    let code = |r: stream_chat_client::ChatResult<Reaction>| {
        let e = r.error().clone();
        (e.stream_code(), e.status_code())
    };
    let unknown = Reaction {
        message_id: "nope".into(),
        ..Reaction::new("love")
    };
    assert_eq!(
        code(mine.send_reaction(unknown, false).execute()),
        (Some(16), Some(404))
    );
    assert_eq!(
        code(
            mine.send_reaction(reaction(&sent, &"x".repeat(256)), false)
                .execute()
        ),
        (Some(4), Some(400))
    );
    // Refused before any request.
    for bad in [
        reaction(&sent, ""),
        reaction(&sent, "  "),
        Reaction::new("love"),
    ] {
        let e = mine.send_reaction(bad, false).execute().error().clone();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    }
    let e = mine
        .delete_reaction(&sent.id, "love")
        .execute()
        .error()
        .clone();
    assert_eq!((e.stream_code(), e.status_code()), (Some(16), Some(404)));
    assert_eq!(
        mine.delete_reaction(&sent.id, "").execute().error().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        mine.get_reactions("", 0, 1).execute().error().kind(),
        ErrorKind::InvalidArgument
    );
    let e = bender
        .send_reaction(reaction(&sent, "love"), false, "no cid")
        .execute()
        .error()
        .clone();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}
