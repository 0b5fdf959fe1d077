//! The server-side client: every call against the local server, a user token's client
//! seeing the effects (messages posted as another user, revoked tokens, deactivation), and
//! the secret kept out of user-side clients.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use crate::support::*;
use stream_chat_client::{
    ChatClient, DeactivateUserRequest, DeleteUsersRequest, ErrorKind, Message, NewMessageEvent,
    PartialUserUpdate, QueryChannelsRequest, QueryUsersRequest, ReactivateUserRequest,
    ServerClient, TokenSource, Upload, User, codes,
};
use stream_chat_server::ServerHandle;

fn admin(server: &ServerHandle) -> ServerClient {
    ServerClient::builder(server.api_key(), server.api_secret())
        .base_url(server.base_url())
        .build()
        .unwrap()
}

#[test]
fn users_are_managed_and_queried_as_the_app() {
    let server = server();
    let admin = admin(&server);
    let users = admin
        .upsert_users(vec![
            User::new("ann").with_name("Ann").with_role("admin"),
            User::new("bob"),
        ])
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(users["ann"].role.as_deref(), Some("admin"));
    let mut update = PartialUserUpdate {
        id: "bob".into(),
        ..Default::default()
    };
    update.set.insert("name".into(), "Bob".into());
    update.set.insert("team_color".into(), "red".into());
    let users = admin
        .partial_update_users(vec![update])
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(users["bob"].name(), "Bob");
    assert_eq!(users["bob"].extra_data["team_color"], "red");
    let all = admin
        .query_users(QueryUsersRequest::default())
        .execute()
        .into_result()
        .unwrap();
    let ids: Vec<&str> = all.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["ann", "bob"]);
    let one = admin
        .upsert_user(User::new("cy"))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(one.id, "cy");

    let deactivated = admin
        .deactivate_user("cy", DeactivateUserRequest::default())
        .execute()
        .into_result()
        .unwrap();
    assert!(deactivated.extra_data.contains_key("deactivated_at"));
    let err = admin
        .deactivate_user("nobody", DeactivateUserRequest::default())
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.stream_code(), Some(codes::DOES_NOT_EXIST));
    let back = admin
        .reactivate_user("cy", ReactivateUserRequest::default())
        .execute()
        .into_result()
        .unwrap();
    assert!(!back.extra_data.contains_key("deactivated_at"));
    let deleted = admin
        .delete_user("cy", false)
        .execute()
        .into_result()
        .unwrap();
    assert!(deleted.extra_data.contains_key("deleted_at"));
    let task = admin
        .delete_users(DeleteUsersRequest::new(vec!["bob".into()], "hard"))
        .execute()
        .into_result()
        .unwrap();
    let status = admin.get_task(&task).execute().into_result().unwrap();
    assert!(status.is_completed(), "{status:?}");
    let left = admin
        .query_users(QueryUsersRequest::default())
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        left.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["ann", "cy"]
    );
}

#[test]
fn channels_and_messages_on_behalf_of_users_reach_a_user_client() {
    let server = server();
    let admin = admin(&server);
    let channel = admin.channel("messaging", "desk").unwrap();
    let state = channel
        .create("agent", &["agent", "customer"])
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(state.channel.created_by.unwrap().id, "agent");
    channel
        .add_members(&["supervisor"])
        .execute()
        .into_result()
        .unwrap();
    // The customer's app, with a token the server side made.
    let customer = client(&server);
    let token = admin.create_token("customer", None, Some(now_secs()));
    customer
        .connect_user(User::new("customer"), token)
        .execute()
        .into_result()
        .unwrap();
    let watched = customer.channel("messaging", "desk").unwrap();
    let news = Events::<NewMessageEvent>::on(&watched);
    let state = watched.watch().execute().into_result().unwrap();
    assert_eq!(state.members.len(), 3);
    let sent = channel
        .send_message(Message::with_text("how can I help?"), "agent")
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(sent.user.as_ref().unwrap().id, "agent");
    let event = news.next();
    assert_eq!(
        (event.message.id.as_str(), event.user.unwrap().id.as_str()),
        (sent.id.as_str(), "agent")
    );
    // A file as the agent, then a message carrying it.
    let file = channel
        .send_file(
            Upload::from_bytes(b"invoice".to_vec(), "invoice.txt"),
            "agent",
        )
        .execute()
        .into_result()
        .unwrap();
    let mut message = Message::with_text("your invoice");
    message.attachments = Some(vec![file.file_attachment("invoice.txt", "text/plain", 7)]);
    channel
        .send_message(message, "agent")
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        news.next().message.attachments.unwrap()[0]["asset_url"],
        file.file.as_str()
    );
    let err = customer
        .channel("messaging", "desk")
        .unwrap()
        .delete_file(&file.file)
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(
        err.stream_code(),
        Some(codes::NOT_ALLOWED),
        "the agent's file"
    );
    channel
        .delete_file(&file.file)
        .execute()
        .into_result()
        .unwrap();
    // The app sees every channel; a user only theirs.
    admin
        .channel("messaging", "private")
        .unwrap()
        .create("agent", &["agent"])
        .execute()
        .into_result()
        .unwrap();
    let all = admin
        .query_channels(QueryChannelsRequest::default())
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(all.len(), 2);
    let mine = customer
        .query_channels(QueryChannelsRequest::default())
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(mine.len(), 1);
}

#[test]
fn a_revoked_token_is_refused_and_a_provider_loads_a_fresh_one() {
    let server = server();
    let admin = admin(&server);
    admin
        .upsert_user(User::new("eve"))
        .execute()
        .into_result()
        .unwrap();
    let old = admin.create_token("eve", None, Some(now_secs() - 60));
    // The fixed old token first, then fresh ones from the "backend".
    let loads = Arc::new(AtomicUsize::new(0));
    let (minter, counter, stale) = (admin.clone(), Arc::clone(&loads), old.clone());
    let provider = move || -> Result<String, stream_chat_client::TokenError> {
        match counter.fetch_add(1, Ordering::SeqCst) {
            0 => Ok(stale.clone()),
            _ => Ok(minter.create_token("eve", None, Some(now_secs()))),
        }
    };
    let before = SystemTime::now() - Duration::from_secs(10);
    admin
        .revoke_user_token("eve", before)
        .execute()
        .into_result()
        .unwrap();
    // A client holding only the old token is refused with 40.
    let fixed = client(&server);
    let err = fixed
        .connect_user(User::new("eve"), old.clone())
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.stream_code(), Some(codes::TOKEN_EXPIRED), "{err}");
    // One with a provider reloads and connects.
    let with_provider = client(&server);
    with_provider
        .connect_user(User::new("eve"), TokenSource::provider(provider))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        loads.load(Ordering::SeqCst),
        2,
        "the revoked token, then a fresh one"
    );
    admin
        .lift_token_revocation("eve")
        .execute()
        .into_result()
        .unwrap();
}

#[test]
fn the_secret_stays_out_of_user_side_clients() {
    let server = server();
    let user_side = client(&server);
    let err = user_side
        .connect_user(User::new("mallory"), server.server_token())
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidToken);
    assert!(err.message().contains("ServerClient"), "{}", err.message());
    let err = ServerClient::builder(server.api_key(), "")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let debug = format!("{:?}", admin(&server));
    assert!(!debug.contains(server.api_secret()), "{debug}");
}

#[test]
fn a_wrong_secret_is_refused_with_the_servers_code() {
    let server = server();
    let wrong = ServerClient::builder(server.api_key(), "not the secret")
        .base_url(server.base_url())
        .build()
        .unwrap();
    let err = wrong
        .upsert_user(User::new("x"))
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(
        err.stream_code(),
        Some(codes::TOKEN_SIGNATURE_INVALID),
        "{err}"
    );
    let _ = ChatClient::builder("k"); // the user-side builder has no secret setting at all
}
