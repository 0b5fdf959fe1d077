//! The "User Types" flows as a synchronous script: every call runs with `execute()` on
//! this thread and returns a `ChatResult`, so `?` works through `into_result()`.
//!
//! `cargo run --example sync_script`

use std::time::Duration;

use stream_chat_client::{ChatClient, ChatError, TokenError, User};
use stream_chat_server::Server;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::builder().start()?;
    let client = ChatClient::builder(server.api_key())
        .base_url(server.base_url())
        .connect_timeout(Duration::from_secs(10))
        .build()?;

    let user = User::new("bender")
        .with_name("Bender")
        .with_image("https://bit.ly/321RmWb");

    // A JWT issued by your backend (here: the local server).
    let token = server.create_token("bender", None);
    let data = client
        .connect_user(user.clone(), token)
        .execute()
        .into_result()?;
    println!("JWT:            {} on {}", data.user.id, data.connection_id);
    client.disconnect().execute().into_result()?;

    // A token provider; a closure with the provider's signature works too.
    let fresh = server.create_token("bender", Some(Duration::from_secs(3600)));
    let provider = move || -> Result<String, TokenError> { Ok(fresh.clone()) };
    let data = client
        .connect_user(user, provider)
        .execute()
        .into_result()?;
    println!("TokenProvider:  {} on {}", data.user.id, data.connection_id);
    client.disconnect().execute().into_result()?;

    // "bender" is a regular user by now, and the server will not turn it into a guest.
    let data = client
        .connect_guest_user("visitor", "Visitor")
        .execute()
        .into_result()?;
    println!(
        "guest:          {} (role {}) on {}",
        data.user.id,
        data.user.role(),
        data.connection_id
    );
    client.disconnect().execute().into_result()?;

    let data = client.connect_anonymous_user().execute().into_result()?;
    println!(
        "anonymous:      {} (role {}) on {}",
        data.user.id,
        data.user.role(),
        data.connection_id
    );
    client.disconnect().execute().into_result()?;

    // Errors are typed: match on the kind, or read Stream's code and HTTP status.
    let wrong: Result<_, ChatError> = client
        .connect_user(User::new("bender"), client.dev_token("fry"))
        .execute()
        .into_result();
    if let Err(e) = wrong {
        // `e.kind()` is ErrorKind::TokenUserMismatch; Display already names it.
        println!("mismatch:       {e}");
    }
    server.shutdown();
    Ok(())
}
