//! Tokens against the local server: client-side checks before any request, Stream's
//! auth codes (43, 40), and the provider called again only after code 40, on the
//! WebSocket and on REST, with concurrent refreshes sharing one provider call. No test
//! waits for a token to expire: tokens are minted already expired with the server's
//! secret, and a proxy hands the server such a token in place of the cached one.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::support::*;
use stream_chat_client::jwt;
use stream_chat_client::{ChatClient, ConnectionState, ErrorKind, TokenError, User};

#[test]
fn bad_tokens_fail_before_any_request() {
    // Nothing listens on this port: any network attempt would fail with a network error.
    let client = ChatClient::builder("key")
        .base_url(format!("http://127.0.0.1:{}", closed_port()))
        .build()
        .unwrap();
    let started = Instant::now();
    let cases = [
        ("", ErrorKind::EmptyToken),
        ("  ", ErrorKind::EmptyToken),
        ("not-a-jwt", ErrorKind::InvalidToken),
        ("a.b.c", ErrorKind::InvalidToken),
        (jwt::dev_token("").as_str(), ErrorKind::InvalidToken),
        (jwt::dev_token("fry").as_str(), ErrorKind::TokenUserMismatch),
    ]
    .map(|(t, k)| (t.to_owned(), k));
    for (token, kind) in cases {
        let err = enqueue_and_wait(&client.connect_user(User::new("bender"), token.as_str()))
            .into_result()
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{token:?}: {err}");
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    // The seed page's sample token belongs to "fancy-mode-0", not "bender".
    let page_token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiZmFuY3ktbW9kZS0wIn0.rSnrWOv8EbsiYzJlvVwqwCgATZ1Magj_fZl-bZyCHKI";
    let err = client
        .connect_user(User::new("bender"), page_token)
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenUserMismatch);
    assert!(err.message().contains("fancy-mode-0"), "{err}");
}

#[test]
fn a_provider_returning_garbage_or_failing_gets_a_typed_error() {
    let server = server();
    let client = client(&server);
    let err = client
        .connect_user(User::new("bender"), || -> Result<String, TokenError> {
            Ok(jwt::dev_token("fry"))
        })
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenUserMismatch);
    let err = client
        .connect_user(User::new("bender"), || -> Result<String, TokenError> {
            Err("backend down".into())
        })
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TokenProviderFailed);
    assert!(std::error::Error::source(&err).is_some());
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    assert_eq!(server.usage().concurrent_connections, 0);
}

#[test]
fn a_bad_signature_fails_with_stream_code_43() {
    let server = server();
    let client = client(&server);
    let token = jwt::user_token(b"not-the-apps-secret", "bender", None);
    let started = Instant::now();
    let err = enqueue_and_wait(&client.connect_user(User::new("bender"), token))
        .into_result()
        .unwrap_err();
    eprintln!("bad signature rejected in {:?}: {err}", started.elapsed());
    assert_eq!(err.stream_code(), Some(43));
    assert_eq!(err.status_code(), Some(401));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no retry loop on the first connect"
    );
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
    assert!(client.current_user().is_none());
}

#[test]
fn an_expired_static_token_fails_with_stream_code_40() {
    let server = server();
    let client = client(&server);
    let token = jwt::user_token(
        server.api_secret().as_bytes(),
        "bender",
        Some(now_secs() - 3600),
    );
    let err = client
        .connect_user(User::new("bender"), token)
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.stream_code(), Some(40));
    assert_eq!(err.status_code(), Some(401));
    assert!(err.is_auth_error());
}

#[test]
fn the_provider_is_called_again_after_code_40_on_the_websocket() {
    let server = server();
    let client = client(&server);
    let secret = server.api_secret().to_owned();
    // First an expired token, then valid ones.
    let (provider, calls) = counting_provider(move |n| {
        let exp = if n == 0 {
            now_secs() - 3600
        } else {
            now_secs() + 3600
        };
        jwt::user_token(secret.as_bytes(), "bender", Some(exp))
    });
    let started = Instant::now();
    let data = client
        .connect_user(User::new("bender"), provider)
        .execute()
        .into_result()
        .unwrap();
    eprintln!(
        "connect with an expired first token took {:?}",
        started.elapsed()
    );
    assert_eq!(data.user.id, "bender");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn a_provider_that_keeps_returning_expired_tokens_ends_with_a_terminal_40() {
    let server = server();
    let client = client(&server);
    let secret = server.api_secret().to_owned();
    let (provider, calls) = counting_provider(move |_| {
        jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() - 3600))
    });
    let err = client
        .connect_user(User::new("bender"), provider)
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.stream_code(), Some(40));
    let n = calls.load(Ordering::SeqCst);
    eprintln!("provider calls before giving up: {n}");
    assert!((2..=4).contains(&n), "bounded retries, got {n}");
}

#[test]
fn plain_reconnects_keep_the_token() {
    let server = server();
    let client = builder(&server)
        .max_reconnect_delay(Duration::from_millis(300))
        .build()
        .unwrap();
    let recorder = Recorder::new(&client);
    let secret = server.api_secret().to_owned();
    let (provider, calls) = counting_provider(move |_| {
        jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() + 3600))
    });
    let first = client
        .connect_user(User::new("bender"), provider)
        .execute()
        .into_result()
        .unwrap();
    recorder.wait_state(ConnectionState::Connected, WAIT);
    server.kick_connections("bender");
    recorder.wait_state(ConnectionState::Disconnected, WAIT);
    recorder.wait_state(ConnectionState::Connected, WAIT);
    assert_ne!(client.connection_id().unwrap(), first.connection_id);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "no provider call for a plain reconnect"
    );
}

#[test]
fn the_provider_is_called_again_after_code_40_on_rest_and_reloads_are_shared() {
    let server = server();
    let proxy = proxy(&server, Upgrades::Forward, Rest::Forward);
    let client = ChatClient::builder(server.api_key())
        .base_url(&proxy.url)
        .worker_threads(8)
        .build()
        .unwrap();
    let secret = server.api_secret().to_owned();
    let first = jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() + 3600));
    let expired = jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() - 60));
    // The reload waits until the test lets it finish.
    let (release, released) = crossbeam_channel::unbounded::<()>();
    let handed_out = first.clone();
    let (provider, calls) = counting_provider(move |n| {
        if n == 0 {
            return handed_out.clone();
        }
        released
            .recv_timeout(WAIT)
            .expect("the test releases the reload");
        jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() + 7200))
    });
    client
        .connect_user(User::new("bender"), provider)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // From now on the server sees the cached token as expired.
    proxy.expire(&first, &expired);
    let started = Instant::now();
    let (tx, rx) = crossbeam_channel::unbounded();
    let queries: Vec<_> = (0..6)
        .map(|_| client.query_users(users_by_id(&["bender"])))
        .collect();
    for q in &queries {
        let tx = tx.clone();
        q.enqueue(move |r| tx.send(r).unwrap());
    }
    drop(tx);
    // All six went out with the cached token before any reload could finish.
    for _ in 0..6 {
        proxy
            .rest
            .recv_timeout(WAIT)
            .expect("a query reaches the server");
    }
    release.send(()).unwrap();
    for _ in 0..6 {
        let users = rx.recv_timeout(WAIT).unwrap().into_result().unwrap();
        assert_eq!(
            users.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
            ["bender"]
        );
    }
    assert_silent(&rx);
    eprintln!(
        "6 concurrent REST calls through a code-40 refresh took {:?}",
        started.elapsed()
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one reload shared by all six requests"
    );
    assert_eq!(proxy.rest.try_iter().count(), 6, "each sent once more");
}

#[test]
fn a_reconnect_with_an_expired_cached_token_reloads_it_once() {
    let server = server();
    let proxy = proxy(&server, Upgrades::Forward, Rest::Forward);
    let client = ChatClient::builder(server.api_key())
        .base_url(&proxy.url)
        .max_reconnect_delay(Duration::from_millis(300))
        .build()
        .unwrap();
    let recorder = Recorder::new(&client);
    let secret = server.api_secret().to_owned();
    let first = jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() + 3600));
    let expired = jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() - 60));
    let handed_out = first.clone();
    let (provider, calls) = counting_provider(move |n| match n {
        0 => handed_out.clone(),
        _ => jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() + 7200)),
    });
    client
        .connect_user(User::new("bender"), provider)
        .execute()
        .into_result()
        .unwrap();
    recorder.wait_state(ConnectionState::Connected, WAIT);
    proxy.expire(&first, &expired);
    server.kick_connections("bender");
    recorder.wait_state(ConnectionState::Disconnected, WAIT);
    recorder.wait_state(ConnectionState::Connected, WAIT);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "the reconnect got code 40 and reloaded once"
    );
    assert!(client.connection_id().is_some());
}

#[test]
fn a_provider_that_hangs_still_resolves_the_connect_within_its_timeout() {
    let server = server();
    let timeout = Duration::from_secs(1);
    let client = builder(&server).connect_timeout(timeout).build().unwrap();
    let (_never, blocked) = crossbeam_channel::bounded::<()>(0);
    let provider = move || -> Result<String, TokenError> {
        let _ = blocked.recv_timeout(Duration::from_secs(30));
        Err("gave up".into())
    };
    let started = Instant::now();
    let err = enqueue_and_wait(&client.connect_user(User::new("bender"), provider))
        .into_result()
        .unwrap_err();
    let elapsed = started.elapsed();
    eprintln!("hanging provider: connect resolved after {elapsed:?}");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        elapsed >= timeout && elapsed < timeout + Duration::from_millis(500),
        "{elapsed:?}"
    );
    assert_eq!(client.connection_state(), ConnectionState::Disconnected);
}

#[test]
fn empty_ids_are_invalid_arguments() {
    let client = ChatClient::builder("key")
        .base_url(format!("http://127.0.0.1:{}", closed_port()))
        .build()
        .unwrap();
    let err = client
        .connect_user(User::new(""), jwt::dev_token(""))
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    let err = client
        .connect_guest_user("", "Nobody")
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn a_provider_failing_once_during_a_reconnect_is_retried() {
    let server = server();
    let proxy = proxy(&server, Upgrades::Forward, Rest::Forward);
    let client = ChatClient::builder(server.api_key())
        .base_url(&proxy.url)
        .max_reconnect_delay(Duration::from_millis(300))
        .build()
        .unwrap();
    let recorder = Recorder::new(&client);
    let secret = server.api_secret().to_owned();
    let first = jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() + 3600));
    let expired = jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() - 60));
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&calls);
    let handed_out = first.clone();
    let provider = move || -> Result<String, TokenError> {
        match counter.fetch_add(1, Ordering::SeqCst) {
            0 => Ok(handed_out.clone()),
            1 => Err("token backend briefly down".into()),
            _ => Ok(jwt::user_token(
                secret.as_bytes(),
                "bender",
                Some(now_secs() + 7200),
            )),
        }
    };
    client
        .connect_user(User::new("bender"), provider)
        .execute()
        .into_result()
        .unwrap();
    recorder.wait_state(ConnectionState::Connected, WAIT);
    proxy.expire(&first, &expired);
    server.kick_connections("bender");
    recorder.wait_state(ConnectionState::Disconnected, WAIT);
    recorder.wait_state(ConnectionState::Connected, WAIT);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "40 -> reload fails -> reload again"
    );
    assert_eq!(client.current_user().unwrap().id, "bender");
}

/// Connects bender through `proxy` with provider A (whose token the proxy can expire),
/// then connects bender again with `second`; returns A's token and call count.
fn connect_twice(
    server: &stream_chat_server::ServerHandle,
    client: &ChatClient,
    second: stream_chat_client::TokenSource,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let secret = server.api_secret().to_owned();
    let first = jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() + 3600));
    let handed_out = first.clone();
    let (a, a_calls) = counting_provider(move |_| handed_out.clone());
    let data = client
        .connect_user(User::new("bender"), a)
        .execute()
        .into_result()
        .unwrap();
    let again = client
        .connect_user(User::new("bender"), second)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        again.connection_id, data.connection_id,
        "the same connection"
    );
    (first, a_calls)
}

#[test]
fn a_same_user_connect_with_a_new_provider_is_used_for_later_reloads() {
    let server = server();
    let proxy = proxy(&server, Upgrades::Forward, Rest::Forward);
    let client = builder(&server).base_url(&proxy.url).build().unwrap();
    let secret = server.api_secret().to_owned();
    let (b, b_calls) = counting_provider(move |_| {
        jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() + 7200))
    });
    let (first, a_calls) = connect_twice(&server, &client, b);
    assert_eq!(
        b_calls.load(Ordering::SeqCst),
        0,
        "joining calls no provider"
    );
    assert_eq!(client.current_token().as_deref(), Some(first.as_str()));
    let expired = jwt::user_token(
        server.api_secret().as_bytes(),
        "bender",
        Some(now_secs() - 60),
    );
    proxy.expire(&first, &expired);
    let users = client
        .query_users(users_by_id(&["bender"]))
        .execute()
        .into_result();
    assert_eq!(users.unwrap().len(), 1);
    assert_eq!(
        (
            a_calls.load(Ordering::SeqCst),
            b_calls.load(Ordering::SeqCst)
        ),
        (1, 1),
        "the code-40 reload asked the adopted provider B, not A"
    );
    assert_ne!(client.current_token().as_deref(), Some(first.as_str()));
}

#[test]
fn a_same_user_connect_with_a_fixed_token_replaces_the_cached_one() {
    let server = server();
    let proxy = proxy(&server, Upgrades::Forward, Rest::Forward);
    let client = builder(&server).base_url(&proxy.url).build().unwrap();
    let secret = server.api_secret().to_owned();
    let second = jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() + 7200));
    let (first, a_calls) = connect_twice(&server, &client, second.as_str().into());
    assert_eq!(client.current_token().as_deref(), Some(second.as_str()));
    // The old token is now rejected: the call goes out with the new one, no reload.
    let expired = jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() - 60));
    proxy.expire(&first, &expired);
    let users = client
        .query_users(users_by_id(&["bender"]))
        .execute()
        .into_result();
    assert_eq!(users.unwrap().len(), 1);
    assert_eq!(a_calls.load(Ordering::SeqCst), 1, "A was not asked again");
}

#[test]
fn current_token_is_the_loaded_token_and_none_for_anonymous_or_nobody() {
    let server = server();
    let client = client(&server);
    assert_eq!(client.current_token(), None);
    let token = server.create_token("bender", None);
    let handed_out = token.clone();
    let (provider, _) = counting_provider(move |_| handed_out.clone());
    client
        .connect_user(User::new("bender"), provider)
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(client.current_token().as_deref(), Some(token.as_str()));
    assert!(
        !format!("{client:?}").contains(&token),
        "not in Debug output"
    );
    client.disconnect().execute().into_result().unwrap();
    assert_eq!(client.current_token(), None);
    client
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(
        client.current_token(),
        None,
        "the anonymous user has no token"
    );
}
