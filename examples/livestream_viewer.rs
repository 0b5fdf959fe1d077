//! The User Types page in action on a `livestream` channel: "While you're anonymous, you
//! can't do much, but for the livestream channel type, you're still allowed to read the
//! chat conversation", and "Guest users have a limited set of permissions".
//!
//! A regular user hosts `livestream:demo` and posts; an anonymous viewer prints the chat as
//! it happens; a guest reads along, but its post is refused with the permission error.
//! Everything runs against a local Stream-compatible server started in this process.
//!
//! `cargo run --example livestream_viewer` exits non-zero if any step fails; it stops once
//! the viewer has seen every message (or after a bounded wait).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use stream_chat_client::{ChatClient, ChatError, Message, NewMessageEvent, User};
use stream_chat_server::Server;

/// Messages the host posts.
const MESSAGES: usize = 5;
/// How long one step may take before the example gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("\nthe viewer read the whole chat; the guest was refused as documented");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("\nFAILED: {message}");
            ExitCode::FAILURE
        }
    }
}

fn client(server: &stream_chat_server::ServerHandle) -> Result<ChatClient, String> {
    ChatClient::builder(server.api_key())
        .base_url(server.base_url())
        .build()
        .map_err(|e| e.to_string())
}

fn run() -> Result<(), String> {
    let server = Server::builder()
        .start()
        .map_err(|e| format!("local server: {e}"))?;
    println!("local Stream-compatible server on {}", server.base_url());

    // The host: a regular user, who may create a livestream and post in it.
    let host = client(&server)?;
    host.connect_user(
        User::new("bender").with_name("Bender"),
        server.create_token("bender", None),
    )
    .execute()
    .into_result()
    .map_err(|e| format!("host connect: {e}"))?;
    let stage = host
        .channel("livestream", "demo")
        .map_err(|e| e.to_string())?;
    stage
        .watch()
        .execute()
        .into_result()
        .map_err(|e| format!("host watch: {e}"))?;
    println!("bender (regular user) opened livestream:demo");

    // The viewer: anonymous. It subscribes and asks to watch before it is even connected;
    // the watch waits for the socket.
    println!("\n## Anonymous viewer");
    let viewer = client(&server)?;
    let channel = viewer
        .channel_cid("livestream:demo")
        .map_err(|e| e.to_string())?;
    let (seen_tx, seen_rx) = crossbeam_channel::unbounded();
    let _subscription = channel.subscribe_for_type::<NewMessageEvent>(move |event| {
        let author = event.user.as_ref().map_or("?", |u| u.id.as_str());
        let text = event.message.text.as_deref().unwrap_or("");
        println!("  [viewer] {author}: {text}");
        let _ = seen_tx.send(event.message.id.clone());
    });
    let (watched_tx, watched_rx) = crossbeam_channel::bounded(1);
    channel.watch().enqueue(move |result| {
        let _ = watched_tx.send(result.into_result());
    });
    let me = viewer
        .connect_anonymous_user()
        .execute()
        .into_result()
        .map_err(|e| format!("anonymous connect: {e}"))?;
    println!("connected as {} (role {})", me.user.id, me.user.role());
    let state = watched_rx
        .recv_timeout(STEP_TIMEOUT)
        .map_err(|_| "the viewer's watch did not resolve".to_owned())?
        .map_err(|e| format!("anonymous watch: {e}"))?;
    let caps = state.channel.own_capabilities.unwrap_or_default();
    println!("watching; own_capabilities: {}", caps.join(", "));
    let refused = channel
        .send_message(Message::with_text("can I talk?"))
        .execute()
        .into_result();
    expect_permission_error("the anonymous viewer", refused)?;

    // The guest: may read the livestream, may not post in it.
    println!("\n## Guest");
    let guest = client(&server)?;
    guest
        .connect_guest_user("visitor", "Visitor")
        .execute()
        .into_result()
        .map_err(|e| format!("guest connect: {e}"))?;
    let guest_channel = guest
        .channel_cid("livestream:demo")
        .map_err(|e| e.to_string())?;
    let read = guest_channel
        .watch()
        .execute()
        .into_result()
        .map_err(|e| format!("guest watch: {e}"))?;
    println!(
        "the guest reads the channel ({} watching)",
        read.watcher_count
    );
    let refused = guest_channel
        .send_message(Message::with_text("Hi everyone!"))
        .execute()
        .into_result();
    expect_permission_error("the guest", refused)?;

    // The host posts; the viewer prints each message as it arrives.
    println!("\n## The chat, as the viewer sees it");
    let mut sent = Vec::new();
    for i in 1..=MESSAGES {
        let message = stage
            .send_message(Message::with_text(format!(
                "Good news, everyone! ({i}/{MESSAGES})"
            )))
            .execute()
            .into_result()
            .map_err(|e| format!("host post {i}: {e}"))?;
        sent.push(message.id);
    }
    let deadline = Instant::now() + STEP_TIMEOUT;
    let mut seen = Vec::new();
    while seen.len() < sent.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        let id = seen_rx
            .recv_timeout(left)
            .map_err(|_| format!("the viewer saw {} of {MESSAGES} messages", seen.len()))?;
        seen.push(id);
    }
    if seen != sent {
        return Err("the viewer saw the messages out of order".into());
    }
    for c in [&viewer, &guest, &host] {
        c.disconnect()
            .execute()
            .into_result()
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Checks that `result` is Stream's permission error (code 17, HTTP 403) and prints it.
fn expect_permission_error<T>(who: &str, result: Result<T, ChatError>) -> Result<(), String> {
    match result {
        Ok(_) => Err(format!("{who} was allowed to post")),
        Err(e) if e.stream_code() == Some(17) && e.status_code() == Some(403) => {
            println!("{who} may not post: code 17, HTTP 403: {}", e.message());
            Ok(())
        }
        Err(e) => Err(format!("{who}: expected a permission error, got {e}")),
    }
}
