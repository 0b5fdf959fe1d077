//! Stream's "User Types" page, ported line by line: a regular user with a JWT and with a
//! `TokenProvider`, a guest user and an anonymous user, each connected with `enqueue`
//! against a local Stream-compatible server started in this process.
//!
//! `cargo run --example user_types` prints every step and exits non-zero if one fails.

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use stream_chat_client::jwt;
use stream_chat_client::{ChatClient, ChatResult, ConnectionData, TokenError, TokenProvider, User};
use stream_chat_server::Server;

/// How long one step may take before the example gives up on it.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("\nall four user types connected");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("\nFAILED: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let server = Server::builder()
        .start()
        .map_err(|e| format!("local server: {e}"))?;
    println!("local Stream-compatible server on {}", server.base_url());
    let client = ChatClient::builder(server.api_key())
        .base_url(server.base_url())
        .build()
        .map_err(|e| e.to_string())?;

    println!("\n## Connecting with a Regular User");
    let user = User::new("bender")
        .with_name("Bender")
        .with_image("https://bit.ly/321RmWb");

    // You can set up a user token in two ways:

    // 1. Setup the current user with a JWT token
    // The page's sample token was issued for "fancy-mode-0", not "bender": the SDK refuses
    // it before any request. Your backend (here: the local server) issues bender's token.
    let page_token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiZmFuY3ktbW9kZS0wIn0.rSnrWOv8EbsiYzJlvVwqwCgATZ1Magj_fZl-bZyCHKI";
    match client.connect_user(user.clone(), page_token).execute() {
        ChatResult::Failure(e) => println!("the page's sample token is refused as expected: {e}"),
        ChatResult::Success(_) => {
            return Err("the page's token for another user was accepted".into());
        }
    }
    let token = server.create_token("bender", None);
    let (tx, rx) = mpsc::channel();
    client
        .connect_user(user.clone(), token)
        .enqueue(move |result| {
            if result.is_success() {
                // Logged in
                let user: &User = &result.data().user;
                let connection_id: &str = &result.data().connection_id;
                println!(
                    "1. JWT: logged in as {} ({}), connection {connection_id}",
                    user.id,
                    user.name()
                );
            } else {
                // Handle result.error()
                println!("1. JWT: failed: {}", result.error());
            }
            let _ = tx.send(result);
        });
    finish_step("regular user with a JWT", &rx, &client)?;

    // 2. Setup the current user with a TokenProvider
    let token_provider = YourTokenProvider {
        your_token_service: YourTokenService {
            api_secret: server.api_secret().to_owned(),
        },
        user: user.clone(),
    };
    let (tx, rx) = mpsc::channel();
    client
        .connect_user(user, token_provider)
        .enqueue(move |result| {
            report("2. TokenProvider", &result);
            let _ = tx.send(result);
        });
    finish_step("regular user with a TokenProvider", &rx, &client)?;

    println!("\n## Connecting with a Guest User");
    // "bender" is a regular user of this app by now, and the server will not turn a
    // regular user into a guest. The guest section therefore runs against a second app
    // (a second local server), where "bender" is new.
    let guest_app = Server::builder()
        .start()
        .map_err(|e| format!("local server: {e}"))?;
    let guest_client = ChatClient::builder(guest_app.api_key())
        .base_url(guest_app.base_url())
        .build()
        .map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::channel();
    guest_client
        .connect_guest_user("bender", "Bender")
        .enqueue(move |result| {
            report("guest", &result);
            let _ = tx.send(result);
        });
    finish_step("guest user", &rx, &guest_client)?;
    guest_app.shutdown();

    println!("\n## Connecting with an Anonymous User");
    let (tx, rx) = mpsc::channel();
    client.connect_anonymous_user().enqueue(move |result| {
        report("anonymous", &result);
        if let ChatResult::Success(data) = &result {
            let json = serde_json::to_string_pretty(&data.user).unwrap_or_default();
            println!("the special user you receive back:\n{json}");
        }
        let _ = tx.send(result);
    });
    finish_step("anonymous user", &rx, &client)?;
    server.shutdown();
    Ok(())
}

/// Your backend's token endpoint. Here it signs with the local server's API secret, as
/// your backend would with yours.
struct YourTokenService {
    api_secret: String,
}

impl YourTokenService {
    fn get_token(&self, user: &User) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        jwt::user_token(self.api_secret.as_bytes(), &user.id, Some(now + 3600))
    }
}

/// Called on an SDK thread, never on yours; again only when the token expires.
struct YourTokenProvider {
    your_token_service: YourTokenService,
    user: User,
}

impl TokenProvider for YourTokenProvider {
    // Make a request to your backend to generate a valid token for the user
    fn load_token(&self) -> Result<String, TokenError> {
        println!("   (TokenProvider::load_token called)");
        Ok(self.your_token_service.get_token(&self.user))
    }
}

fn report(step: &str, result: &ChatResult<ConnectionData>) {
    match result {
        ChatResult::Success(data) => println!(
            "{step}: connected as {} (role {}), connection {}",
            data.user.id,
            data.user.role.as_deref().unwrap_or("?"),
            data.connection_id
        ),
        ChatResult::Failure(e) => println!("{step}: failed: {e}"),
    }
}

/// Waits for the step's callback, then disconnects so the next user type can connect.
fn finish_step(
    step: &str,
    rx: &mpsc::Receiver<ChatResult<ConnectionData>>,
    client: &ChatClient,
) -> Result<(), String> {
    match rx.recv_timeout(STEP_TIMEOUT) {
        Ok(ChatResult::Success(_)) => {}
        Ok(ChatResult::Failure(e)) => return Err(format!("{step}: {e}")),
        Err(_) => return Err(format!("{step}: no callback within {STEP_TIMEOUT:?}")),
    }
    client
        .disconnect()
        .execute()
        .into_result()
        .map_err(|e| format!("{step}: disconnect: {e}"))
}
