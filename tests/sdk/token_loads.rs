//! A TokenProvider call that hangs does not block the session for good: once the call
//! that waited for it gave up, the next reload calls the provider again, and the stuck
//! call's late result is ignored. In a process of its own (`own_process!`): it waits for
//! the process's token threads to be gone (no other test's may be running), and a thread
//! ends with no notification to wait on, so `poll_external` checks until it has.

use std::time::{Duration, Instant};

use crate::support::process::own_process;
use crate::support::*;
use stream_chat_client::jwt;
use stream_chat_client::{ErrorKind, User};

#[test]
fn a_reload_that_hangs_is_superseded_by_the_next_one() {
    own_process!(a_reload_that_hangs_is_superseded_by_the_next_one);
    let server = server();
    let proxy = proxy(&server, Upgrades::Forward, Rest::Forward);
    let request_timeout = Duration::from_secs(1);
    let client = builder(&server)
        .base_url(&proxy.url)
        .request_timeout(request_timeout)
        .build()
        .unwrap();
    let secret = server.api_secret().to_owned();
    let token = |exp: i64| jwt::user_token(secret.as_bytes(), "bender", Some(now_secs() + exp));
    let (first, late, fresh) = (token(3600), token(5400), token(7200));
    let expired = token(-60);
    // Call 1 hangs until the test releases it; calls 0 and 2 answer at once.
    let (release, released) = crossbeam_channel::bounded::<()>(1);
    let handed_out = [first.clone(), late.clone(), fresh.clone()];
    let (provider, calls) = counting_provider(move |n| {
        if n == 1 {
            let _ = released.recv_timeout(WAIT);
        }
        handed_out[n.min(2)].clone()
    });
    client
        .connect_user(User::new("bender"), provider)
        .execute()
        .into_result()
        .unwrap();
    proxy.expire(&first, &expired);
    let request = users_by_id(&["bender"]);

    // Code 40, the reload hangs: this call ends at its request timeout.
    let started = Instant::now();
    let err = client
        .query_users(request.clone())
        .execute()
        .into_result()
        .unwrap_err();
    let first_took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    // Code 40 again: nobody waits for the stuck load any more, so the provider is asked anew.
    let started = Instant::now();
    let users = client.query_users(request).execute().into_result().unwrap();
    let second_took = started.elapsed();
    eprintln!(
        "stuck reload: first call timed out after {first_took:?}, the next one reloaded \
         and succeeded in {second_took:?}"
    );
    assert_eq!(users.len(), 1);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert!(second_took < request_timeout, "{second_took:?}");
    assert_eq!(client.current_token().as_deref(), Some(fresh.as_str()));

    // The stuck call returns late: once its thread is gone, its token was ignored.
    release.send(()).unwrap();
    let gone = poll_external(WAIT, || {
        threads_named("stream-chat-token").is_some_and(|t| t.is_empty())
    });
    assert!(gone.is_some(), "the abandoned token thread ends");
    assert_eq!(client.current_token().as_deref(), Some(fresh.as_str()));
}
