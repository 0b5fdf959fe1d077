//! The permission matrix of the seed page's user types on the built-in channel types:
//! regular, guest and anonymous users reading, posting in and creating `livestream` and
//! `messaging` channels. Refusals are typed: Stream code 17, HTTP 403, the server's text.

use crate::support::*;
use stream_chat_client::{ChatClient, ChatError, Message};
use stream_chat_server::ServerHandle;

#[derive(Clone, Copy, Debug)]
enum Who {
    /// A regular user who is not a member of the messaging channel.
    Regular,
    /// A regular user who is a member of it.
    Member,
    Guest,
    Anonymous,
}

fn connect(server: &ServerHandle, who: Who) -> (ChatClient, &'static str) {
    let client = client(server);
    let id = match who {
        Who::Regular => {
            connect_as(&client, server, "leela");
            "leela"
        }
        Who::Member => {
            connect_as(&client, server, "fry");
            "fry"
        }
        Who::Guest => {
            client
                .connect_guest_user("visitor", "Visitor")
                .execute()
                .into_result()
                .unwrap();
            "visitor"
        }
        Who::Anonymous => {
            client
                .connect_anonymous_user()
                .execute()
                .into_result()
                .unwrap();
            "!anon"
        }
    };
    (client, id)
}

/// `Ok(())` or the refusal's action name, after checking the error's shape.
fn outcome(result: Result<(), ChatError>, who: &str) -> Result<(), String> {
    let Err(err) = result else {
        return Ok(());
    };
    assert_eq!(err.stream_code(), Some(17), "{err}");
    assert_eq!(err.status_code(), Some(403), "{err}");
    let message = err.message();
    assert!(
        message.contains(&format!("User '{who}'")),
        "the server's message names the user: {message}"
    );
    let action = message
        .split("perform action ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("the server's message names the action: {message}"));
    Err(action.to_owned())
}

#[test]
fn each_user_type_reads_posts_and_creates_as_the_defaults_allow() {
    let server = server();
    // bender owns both channels (fry is a member of the messaging one), each with a message.
    let owner = connected(&server, "bender");
    let live = owner.channel("livestream", "show").unwrap();
    live.watch().execute().into_result().unwrap();
    live.send_message(Message::with_text("welcome"))
        .execute()
        .into_result()
        .unwrap();
    let private = owner.channel("messaging", "private").unwrap();
    private
        .create(["bender", "fry"])
        .execute()
        .into_result()
        .unwrap();
    private
        .send_message(Message::with_text("members only"))
        .execute()
        .into_result()
        .unwrap();

    let ok = || Ok(());
    let no = |a: &str| Err(a.to_owned());
    type Row = [Result<(), String>; 6];
    // livestream: read, post, create | messaging: read, post, create
    let matrix: [(Who, Row); 4] = [
        (
            Who::Regular,
            [
                ok(),
                ok(),
                ok(),
                no("ReadChannel"),
                no("CreateMessage"),
                ok(),
            ],
        ),
        (Who::Member, [ok(), ok(), ok(), ok(), ok(), ok()]),
        (
            Who::Guest,
            [
                ok(),
                no("CreateMessage"),
                no("CreateChannel"),
                no("ReadChannel"),
                no("CreateMessage"),
                no("CreateChannel"),
            ],
        ),
        (
            Who::Anonymous,
            [
                ok(),
                no("CreateMessage"),
                no("CreateChannel"),
                no("ReadChannel"),
                no("CreateMessage"),
                no("CreateChannel"),
            ],
        ),
    ];
    for (n, (who, expected)) in matrix.into_iter().enumerate() {
        let (client, id) = connect(&server, who);
        let mut got = Vec::new();
        for kind in ["livestream", "messaging"] {
            let existing = if kind == "livestream" {
                "show"
            } else {
                "private"
            };
            let channel = client.channel(kind, existing).unwrap();
            let read = channel.watch().execute().into_result().map(|state| {
                assert!(
                    state
                        .messages
                        .iter()
                        .any(|m| m.user.as_ref().unwrap().id == "bender"),
                    "a reader sees the conversation"
                );
                let caps = state.channel.own_capabilities.unwrap_or_default();
                let may_send = caps.iter().any(|c| c == "send-message");
                let expected_send = matches!(who, Who::Regular | Who::Member);
                assert_eq!(may_send, expected_send, "{who:?} {kind}: {caps:?}");
            });
            got.push(outcome(read, id));
            let post = channel
                .send_message(Message::with_text(format!("{who:?} was here")))
                .execute()
                .into_result()
                .map(drop);
            got.push(outcome(post, id));
            let create = client
                .channel(kind, &format!("new-{n}"))
                .unwrap()
                .create(Vec::<String>::new())
                .execute()
                .into_result()
                .map(drop);
            got.push(outcome(create, id));
        }
        eprintln!("{who:?}: {got:?}");
        assert_eq!(got, expected, "{who:?}");
        client.disconnect().execute().into_result().unwrap();
    }
}

#[test]
fn an_anonymous_viewer_reads_a_livestream_live_and_a_guest_cannot_post() {
    let server = server();
    let host = connected(&server, "bender");
    let live = host.channel("livestream", "stage").unwrap();
    live.watch().execute().into_result().unwrap();

    let (viewer, _) = connect(&server, Who::Anonymous);
    let viewer_channel = viewer.channel_cid("livestream:stage").unwrap();
    let seen = Events::<stream_chat_client::NewMessageEvent>::on(&viewer_channel);
    viewer_channel.watch().execute().into_result().unwrap();
    live.send_message(Message::with_text("on air"))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(seen.next().message.text.as_deref(), Some("on air"));

    let (guest, _) = connect(&server, Who::Guest);
    let err = guest
        .channel_cid("livestream:stage")
        .unwrap()
        .send_message(Message::with_text("hello?"))
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(
        (err.stream_code(), err.status_code()),
        (Some(17), Some(403))
    );
    assert!(
        err.message()
            .contains("with roles ['guest'] is not allowed to perform action CreateMessage"),
        "{err}"
    );
    // A guest reading a messaging channel is refused too.
    let err = guest
        .channel("messaging", "anything")
        .unwrap()
        .watch()
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(
        (err.stream_code(), err.status_code()),
        (Some(17), Some(403))
    );
}
