//! The four flows of the User Types page over real sockets against the local server,
//! plus the rules around them: idempotent same-user connects, already-connected errors,
//! switch_user, disconnect, and exactly-once callbacks. The join records of the collapsing
//! connects come from a `support::logs` capture filtered to this test's user.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::json;
use stream_chat_client::{
    Call, ChatClient, ChatResult, ConnectionData, ConnectionState, ErrorKind, Executor,
    QueryUsersRequest, TokenError, TokenSource, User,
};
use stream_chat_server::Server;

#[test]
fn regular_user_with_a_jwt_connects_and_gets_me_back() {
    let server = server();
    let client = client(&server);
    let user = User::new("bender")
        .with_name("Bender")
        .with_image("https://bit.ly/321RmWb");
    let token = server.create_token("bender", None);
    let started = Instant::now();
    let data = enqueue_and_wait(&client.connect_user(user, token))
        .into_result()
        .unwrap();
    eprintln!("JWT connect took {:?}", started.elapsed());
    assert_eq!(data.user.id, "bender");
    assert_eq!(data.user.name(), "Bender");
    assert_eq!(data.user.image(), "https://bit.ly/321RmWb");
    assert_eq!(data.user.role.as_deref(), Some("user"));
    assert!(!data.connection_id.is_empty());
    assert_eq!(client.connection_id(), Some(data.connection_id.clone()));
    assert_eq!(client.connection_state(), ConnectionState::Connected);
    assert_eq!(client.current_user().map(|u| u.id), Some("bender".into()));
    assert_eq!(server.usage().concurrent_connections, 1);
}

#[test]
fn regular_user_with_a_token_provider_connects_with_one_provider_call() {
    let server = server();
    let client = client(&server);
    let secret = server.api_secret().to_owned();
    let (provider, calls) = counting_provider(move |_| {
        stream_chat_client::jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() + 3600))
    });
    let data = client
        .connect_user(User::new("bender"), provider)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(data.user.id, "bender");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn guest_user_connects_with_the_token_and_user_from_post_guest() {
    let server = server();
    let client = client(&server);
    let data = enqueue_and_wait(&client.connect_guest_user("bender", "Bender"))
        .into_result()
        .unwrap();
    assert_eq!(data.user.role.as_deref(), Some("guest"));
    assert!(
        data.user.id.contains("bender"),
        "guest id derives from the requested id: {}",
        data.user.id
    );
    assert_eq!(data.user.name(), "Bender");
    assert_eq!(client.current_user().unwrap().id, data.user.id);
    assert_eq!(
        server.usage().monthly_active_users,
        1,
        "guests count towards MAU"
    );
}

#[test]
fn guest_under_multi_tenancy_gets_the_servers_coded_error() {
    let server = Server::builder().multi_tenant(true).start().unwrap();
    let client = client(&server);
    let err = enqueue_and_wait(&client.connect_guest_user("bender", "Bender"))
        .into_result()
        .unwrap_err();
    eprintln!("multi-tenant guest: {err}");
    assert_eq!(err.kind(), ErrorKind::Api);
    assert!(err.stream_code().is_some(), "{err:?}");
    assert!(err.status_code().is_some_and(|s| s >= 400), "{err:?}");
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    assert!(client.current_user().is_none());
}

#[test]
fn anonymous_user_equals_the_seed_pages_json() {
    let server = server();
    let client = client(&server);
    let data = enqueue_and_wait(&client.connect_anonymous_user())
        .into_result()
        .unwrap();
    let mut me = serde_json::to_value(&data.user).unwrap();
    let last_active = me.as_object_mut().unwrap().remove("last_active");
    assert!(
        last_active.is_some_and(|v| v.is_string()),
        "last_active is a timestamp"
    );
    let seed = json!({
        "id": "!anon",
        "role": "anonymous",
        "roles": [],
        "created_at": "0001-01-01T00:00:00Z",
        "updated_at": "0001-01-01T00:00:00Z",
        "banned": false,
        "online": true,
        "invisible": false,
        "devices": [],
        "mutes": [],
        "channel_mutes": [],
        "unread_count": 0,
        "total_unread_count": 0,
        "unread_channels": 0,
        "language": ""
    });
    assert_eq!(me, seed);
    assert_eq!(
        server.usage().monthly_active_users,
        0,
        "anonymous users are not MAU"
    );
    assert_eq!(server.usage().concurrent_connections, 1);
    // REST calls go out without a token and are judged by the anonymous role: searching
    // users is not allowed, and the server's permission error comes back typed.
    let request = users_by_id(&["nobody"]);
    let err = client
        .query_users(request)
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(
        (err.stream_code(), err.status_code()),
        (Some(17), Some(403)),
        "{err}"
    );
    assert!(err.message().contains("!anon"), "{err}");
}

#[test]
fn connecting_the_connected_user_again_returns_the_existing_connection() {
    let server = server();
    let client = client(&server);
    let token = server.create_token("bender", None);
    let first = client
        .connect_user(User::new("bender"), token.as_str())
        .execute()
        .into_result()
        .unwrap();
    let again = client
        .connect_user(User::new("bender"), token.as_str())
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(first.connection_id, again.connection_id);
    assert_eq!(server.usage().concurrent_connections, 1);
}

#[test]
fn another_user_is_refused_until_disconnect() {
    let server = server();
    let client = client(&server);
    client
        .connect_user(User::new("bender"), server.create_token("bender", None))
        .execute()
        .into_result()
        .unwrap();
    let fry = || client.connect_user(User::new("fry"), server.create_token("fry", None));
    let refused = fry().execute().error().clone();
    assert_eq!(refused.kind(), ErrorKind::AlreadyConnected);
    // The message names who holds the connection and gives the advice once.
    let text = refused.to_string();
    assert!(text.contains("'bender'"), "{text}");
    assert_eq!(text.matches("disconnect()").count(), 1, "{text}");
    assert_eq!(
        client.connect_anonymous_user().execute().error().kind(),
        ErrorKind::AlreadyConnected
    );
    assert_eq!(
        client
            .connect_guest_user("fry", "Fry")
            .execute()
            .error()
            .kind(),
        ErrorKind::AlreadyConnected,
        "refused before POST /guest"
    );
    assert_eq!(
        server.usage().monthly_active_users,
        1,
        "no guest was created"
    );
    client.disconnect().execute().into_result().unwrap();
    assert_eq!(fry().execute().into_result().unwrap().user.id, "fry");
}

#[test]
fn switch_user_replaces_the_connection() {
    let server = server();
    let client = client(&server);
    let recorder = Recorder::new(&client);
    let first = client
        .connect_user(User::new("bender"), server.create_token("bender", None))
        .execute()
        .into_result()
        .unwrap();
    let second = client
        .switch_user(User::new("fry"), server.create_token("fry", None))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(second.user.id, "fry");
    assert_ne!(first.connection_id, second.connection_id);
    assert_eq!(client.current_user().unwrap().id, "fry");
    recorder.wait_state(ConnectionState::Connected, WAIT);
    recorder.wait_state(ConnectionState::Disconnected, WAIT);
    recorder.wait_state(ConnectionState::Connecting, WAIT);
    recorder.wait_state(ConnectionState::Connected, WAIT);
    // Nobody connected: switch_user is a plain connect.
    client.disconnect().execute().into_result().unwrap();
    let third = client
        .switch_user(User::new("leela"), server.create_token("leela", None))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(third.user.id, "leela");
}

#[test]
fn disconnect_without_a_user_is_an_error_and_clears_state_otherwise() {
    let server = server();
    let client = client(&server);
    let err = enqueue_and_wait(&client.disconnect())
        .into_result()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotConnected);
    client
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    enqueue_and_wait(&client.disconnect())
        .into_result()
        .unwrap();
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    assert!(client.current_user().is_none());
    assert!(client.connection_id().is_none());
    assert_eq!(
        client.disconnect().execute().error().kind(),
        ErrorKind::NotConnected
    );
    // REST calls need a user.
    let err = client
        .query_users(QueryUsersRequest::default())
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotConnected);
}

#[test]
fn concurrent_connects_of_one_user_collapse_into_one_attempt() {
    // The SDK's "joins the attempt in progress" records of `racer` (no other test connects
    // a `racer`).
    let joins = logs::capture(log::LevelFilter::Debug, |line| {
        line.text.contains("'racer' joins the attempt in progress")
    });

    let server = server();
    // The server's answer to the WebSocket upgrade waits until all 8 connects wait.
    let (gate_tx, gate) = crossbeam_channel::bounded::<()>(0);
    let proxy = Proxy::start(&server, move |path| {
        if path == "/connect" {
            Route::After(gate.clone())
        } else {
            Route::Forward
        }
    });
    let client = ChatClient::builder(server.api_key())
        .base_url(&proxy.url)
        .worker_threads(8)
        .build()
        .unwrap();
    let secret = server.api_secret().to_owned();
    let (provider, calls) = counting_provider(move |_| {
        stream_chat_client::jwt::user_token(secret.as_bytes(), "racer", None)
    });
    let fired = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = crossbeam_channel::unbounded();
    let calls_made: Vec<_> = (0..8)
        .map(|_| client.connect_user(User::new("racer"), provider.clone()))
        .collect();
    for call in &calls_made {
        let (tx, fired) = (tx.clone(), Arc::clone(&fired));
        call.enqueue(move |r| {
            fired.fetch_add(1, Ordering::SeqCst);
            tx.send(r).unwrap();
        });
    }
    drop(tx);
    // One connect started the attempt; the other 7 joined it while it waits.
    let joined: Vec<String> = (0..7)
        .map(|_| joins.rx.recv_timeout(WAIT).expect("a connect joins").text)
        .collect();
    let last = &joined[6];
    assert!(last.contains("(8 waiting)"), "{last}");
    assert_eq!(proxy.seen.recv_timeout(WAIT).unwrap(), "/connect");
    assert!(
        rx.try_recv().is_err(),
        "nothing resolved before the server answered"
    );
    drop(gate_tx);

    let ids: Vec<String> = (0..8)
        .map(|_| {
            rx.recv_timeout(WAIT)
                .unwrap()
                .into_result()
                .unwrap()
                .connection_id
        })
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    // Every callback consumed, none fired twice.
    assert_silent(&rx);
    assert_eq!(fired.load(Ordering::SeqCst), 8);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one provider call");
    assert!(proxy.seen.try_recv().is_err(), "one WebSocket upgrade");
    // The server counts sockets on its own tasks: wait for its count.
    assert_server(&server, "one socket", WAIT, |c| {
        c.usage.concurrent_connections == 1
    });
    client.shutdown();
}

#[test]
fn an_undecodable_first_frame_fails_the_connect_at_once_with_parse() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut ws = tungstenite::accept(stream).unwrap();
        ws.send(tungstenite::Message::text("<html>502 Bad Gateway</html>"))
            .unwrap();
        while ws.read().is_ok() {}
    });
    let timeout = Duration::from_secs(10);
    let client = ChatClient::builder("key")
        .base_url(url)
        .connect_timeout(timeout)
        .build()
        .unwrap();
    let started = Instant::now();
    let result = client
        .connect_user(
            User::new("bender"),
            stream_chat_client::jwt::dev_token("bender"),
        )
        .execute();
    let took = started.elapsed();
    eprintln!("undecodable first frame: connect resolved after {took:?}: {result:?}");
    assert_eq!(result.error().kind(), ErrorKind::Parse, "{result:?}");
    assert!(
        took < Duration::from_secs(2),
        "{took:?} (connect_timeout {timeout:?})"
    );
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    client.shutdown();
}

#[test]
fn every_callback_fires_exactly_once_across_outcomes() {
    let server = server();
    let client = client(&server);
    let fired = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = crossbeam_channel::unbounded();
    let count = |tx: crossbeam_channel::Sender<bool>| {
        let fired = Arc::clone(&fired);
        move |r: ChatResult<_>| {
            fired.fetch_add(1, Ordering::SeqCst);
            tx.send(r.is_success()).unwrap();
        }
    };
    let outcomes = [
        // success
        client.connect_user(User::new("bender"), server.create_token("bender", None)),
        // client-side failure
        client.connect_user(User::new("bender"), ""),
        // same user again: success
        client.connect_user(User::new("bender"), server.create_token("bender", None)),
    ];
    let mut expected = Vec::new();
    for (call, ok) in outcomes.iter().zip([true, false, true]) {
        call.enqueue(count(tx.clone()));
        expected.push(ok);
        assert_eq!(rx.recv_timeout(WAIT).unwrap(), ok);
    }
    client.disconnect().execute().into_result().unwrap();
    // server-side failure (bad signature) after disconnect
    let bad = stream_chat_client::jwt::user_token(b"not-the-secret", "bender", None);
    let c = client.connect_user(User::new("bender"), bad);
    c.enqueue(count(tx.clone()));
    assert!(!rx.recv_timeout(WAIT).unwrap());
    // enqueueing twice: the second callback reports AlreadyExecuted, the first is not repeated
    c.enqueue(count(tx.clone()));
    assert!(!rx.recv_timeout(WAIT).unwrap());
    // Each callback owns a sender and is consumed when it fires: none fires twice.
    drop(tx);
    assert_silent(&rx);
    assert_eq!(fired.load(Ordering::SeqCst), 5);
}

/// What a callback read of the client, next to its call's outcome.
#[derive(Debug, PartialEq)]
struct Outcome {
    result: Result<Option<String>, ErrorKind>,
    state: ConnectionState,
    user: Option<String>,
    connection_id: Option<String>,
}

/// Enqueues `call` and returns what its callback read, in the callback.
fn outcome<T: Send + 'static>(
    client: &ChatClient,
    call: Call<T>,
    connection_id_of: fn(&T) -> Option<String>,
) -> Outcome {
    let (tx, rx) = crossbeam_channel::unbounded();
    let inside = client.clone();
    call.enqueue(move |r: ChatResult<T>| {
        let result = r
            .into_result()
            .map(|t| connection_id_of(&t))
            .map_err(|e| e.kind());
        tx.send(Outcome {
            result,
            state: inside.connection_state(),
            user: inside.current_user().map(|u| u.id),
            connection_id: inside.connection_id(),
        })
        .unwrap();
    });
    let got = rx.recv_timeout(WAIT).expect("the call calls back");
    assert_silent(&rx);
    got
}

fn connected_as(id: &str, result: &Outcome) -> Outcome {
    Outcome {
        result: result.result.clone(),
        state: ConnectionState::Connected,
        user: Some(id.to_owned()),
        connection_id: result.result.clone().ok().flatten(),
    }
}

fn failed(kind: ErrorKind) -> Outcome {
    Outcome {
        result: Err(kind),
        state: ConnectionState::Disconnected,
        user: None,
        connection_id: None,
    }
}

/// Every call that changes the connection shows that change to its own callback: the
/// state, the current user and the connection id are already what the outcome says
/// (issue 8). The callbacks run inline on the thread that resolves the call (connection
/// thread, timer, caller), so no scheduling delay can hide a change made after the
/// callback. Covers success, join, pause, resume, switch, disconnect, a terminal server
/// error, a failing token provider and shutdown; timeouts and cancellation are in
/// `pending_connects.rs`.
#[test]
fn every_connection_call_shows_its_outcome_to_its_own_callback() {
    let server = server();
    let client = builder(&server)
        .callback_executor(Executor::from_fn(|task| task()))
        .build()
        .unwrap();
    let id = |d: &ConnectionData| Some(d.connection_id.clone());
    let none = |_: &()| None;
    let bender = || server.create_token("bender", None);

    let connect = outcome(
        &client,
        client.connect_user(User::new("bender"), bender()),
        id,
    );
    assert!(connect.result.is_ok(), "{connect:?}");
    assert_eq!(connect, connected_as("bender", &connect), "connect_user");
    let join = outcome(
        &client,
        client.connect_user(User::new("bender"), bender()),
        id,
    );
    assert_eq!(join, connect, "connecting the connected user again");

    let pause = outcome(&client, client.disconnect_socket(), none);
    let paused = Outcome {
        result: Ok(None),
        state: ConnectionState::Disconnected,
        user: Some("bender".into()),
        connection_id: None,
    };
    assert_eq!(pause, paused, "disconnect_socket");
    let resume = outcome(&client, client.reconnect_socket(), id);
    assert!(resume.result.is_ok(), "{resume:?}");
    assert_ne!(resume.result, connect.result, "a new connection");
    assert_eq!(resume, connected_as("bender", &resume), "reconnect_socket");

    let switch = outcome(
        &client,
        client.switch_user(User::new("fry"), server.create_token("fry", None)),
        id,
    );
    assert!(switch.result.is_ok(), "{switch:?}");
    assert_eq!(switch, connected_as("fry", &switch), "switch_user");
    let disconnect = outcome(&client, client.disconnect(), none);
    let disconnected = Outcome {
        result: Ok(None),
        state: ConnectionState::Disconnected,
        user: None,
        connection_id: None,
    };
    assert_eq!(disconnect, disconnected, "disconnect");

    // The server refuses the token (bad signature): a terminal failure of the first connect.
    let forged = stream_chat_client::jwt::user_token(b"not-the-secret", "bender", None);
    let refused = outcome(
        &client,
        client.connect_user(User::new("bender"), forged),
        id,
    );
    let kind = refused.result.clone().unwrap_err();
    assert_eq!(refused, failed(kind), "a refused token");
    let provider = TokenSource::provider(|| -> Result<String, TokenError> {
        Err("the backend is down".into())
    });
    let no_token = outcome(
        &client,
        client.connect_user(User::new("bender"), provider),
        id,
    );
    assert_eq!(
        no_token,
        failed(ErrorKind::TokenProviderFailed),
        "a failing token provider"
    );

    // Shut down while a connect waits for a token that never comes.
    let (gate_tx, gate) = crossbeam_channel::bounded::<()>(0);
    let (asked_tx, asked) = crossbeam_channel::bounded::<()>(1);
    let provider = TokenSource::provider(move || -> Result<String, TokenError> {
        let _ = asked_tx.try_send(());
        let _ = gate.recv();
        Err("released".into())
    });
    let (tx, rx) = crossbeam_channel::unbounded();
    let inside = client.clone();
    client
        .connect_user(User::new("bender"), provider)
        .enqueue(move |r| {
            tx.send(Outcome {
                result: r.into_result().map(|_| None).map_err(|e| e.kind()),
                state: inside.connection_state(),
                user: inside.current_user().map(|u| u.id),
                connection_id: inside.connection_id(),
            })
            .unwrap();
        });
    asked.recv_timeout(WAIT).expect("the provider is asked");
    client.shutdown();
    let shut = rx.recv_timeout(WAIT).expect("the connect calls back");
    assert_eq!(shut, failed(ErrorKind::ShutDown), "shutdown");
    drop(gate_tx);
}

#[test]
fn debug_output_never_contains_tokens() {
    let server = server();
    let client = client(&server);
    let token = server.create_token("bender", None);
    client
        .connect_user(User::new("bender"), token.as_str())
        .execute()
        .into_result()
        .unwrap();
    let debug = format!("{client:?}");
    assert!(!debug.contains(&token), "{debug}");
    assert!(debug.contains("bender"), "{debug}");
    let source: stream_chat_client::TokenSource = token.as_str().into();
    assert!(!format!("{source:?}").contains(&token));
}

#[test]
fn bad_builder_input_is_a_typed_error() {
    for (key, url) in [
        ("", "http://127.0.0.1:1"),
        ("k", "not a url"),
        ("k", "ws://127.0.0.1:1"),
        ("k", "http://"),
    ] {
        let err = ChatClient::builder(key).base_url(url).build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{key:?} {url:?}");
    }
    let err = ChatClient::builder("k")
        .connect_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}
