//! Moderation and unread badges: a channel moderator bans a user, whose post is then refused
//! with Stream's permission error, while another member's unread badge follows every message
//! and read. Everything runs against a local Stream-compatible server started in this
//! process.
//!
//! `cargo run --example moderation` exits non-zero if any step fails; every wait is bounded.

use std::process::ExitCode;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use stream_chat_client::{
    ChatClient, Message, NotificationMarkReadEvent, NotificationMessageNewEvent, Subscription,
    User, UserBannedEvent, codes,
};
use stream_chat_server::{Server, ServerHandle};

/// How long one step may take before the example gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("\nthe ban held, and the badge followed every message and read");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("\nFAILED: {message}");
            ExitCode::FAILURE
        }
    }
}

/// A client of the local server, connected as `id`.
fn connect(server: &ServerHandle, id: &str, name: &str) -> Result<ChatClient, String> {
    let client = ChatClient::builder(server.api_key())
        .base_url(server.base_url())
        .build()
        .map_err(|e| e.to_string())?;
    client
        .connect_user(User::new(id).with_name(name), server.create_token(id, None))
        .execute()
        .into_result()
        .map_err(|e| format!("{id} connect: {e}"))?;
    Ok(client)
}

/// The unread badge of a user: the totals of every `notification.*` event that carries them.
struct Badge {
    rx: Receiver<(String, u64)>,
    _subscriptions: [Subscription; 2],
}

impl Badge {
    fn of(client: &ChatClient) -> Badge {
        let (tx, rx) = channel();
        let new = tx.clone();
        let messages = client.subscribe_for_type::<NotificationMessageNewEvent>(move |e| {
            let text = e.message.text.clone().unwrap_or_default();
            let _ = new.send((
                format!("new message \"{text}\""),
                e.total_unread_count.unwrap_or(0),
            ));
        });
        let reads = client.subscribe_for_type::<NotificationMarkReadEvent>(move |e| {
            let _ = tx.send(("marked read".into(), e.total_unread_count.unwrap_or(0)));
        });
        Badge {
            rx,
            _subscriptions: [messages, reads],
        }
    }

    /// Waits for the next change and checks the count.
    fn expect(&self, who: &str, count: u64) -> Result<(), String> {
        let (why, got) = self
            .rx
            .recv_timeout(STEP_TIMEOUT)
            .map_err(|_| format!("{who}'s badge did not change within {STEP_TIMEOUT:?}"))?;
        println!("  {who}'s badge: {got} ({why})");
        if got == count {
            Ok(())
        } else {
            Err(format!("{who}'s badge shows {got}, not {count}"))
        }
    }
}

fn run() -> Result<(), String> {
    let server = Server::builder()
        .start()
        .map_err(|e| format!("local server: {e}"))?;
    println!("local Stream-compatible server on {}", server.base_url());

    let bender = connect(&server, "bender", "Bender")?;
    let hermes = connect(&server, "hermes", "Hermes")?;
    let fry = connect(&server, "fry", "Fry")?;
    let amy = connect(&server, "amy", "Amy")?;

    // Bender creates the office and makes Hermes its moderator.
    let office = bender
        .channel("messaging", "office")
        .map_err(|e| e.to_string())?;
    office
        .create(["bender", "hermes", "fry", "amy"])
        .execute()
        .into_result()
        .map_err(|e| format!("create: {e}"))?;
    office
        .add_moderators(["hermes"], None)
        .execute()
        .into_result()
        .map_err(|e| format!("add_moderators: {e}"))?;
    println!("bender created messaging:office and made hermes its moderator");

    // Amy does not watch the office: her badge follows the notification events.
    let badge = Badge::of(&amy);
    let frys = fry
        .channel("messaging", "office")
        .map_err(|e| e.to_string())?;
    frys.send_message(Message::with_text("Shut up and take my money!"))
        .execute()
        .into_result()
        .map_err(|e| format!("fry's first post: {e}"))?;
    badge.expect("amy", 1)?;

    // Hermes bans Fry for ten minutes; the watchers hear of it.
    let watching = hermes
        .channel("messaging", "office")
        .map_err(|e| e.to_string())?;
    watching
        .watch()
        .execute()
        .into_result()
        .map_err(|e| format!("watch: {e}"))?;
    let (tx, bans) = channel();
    let _ban_events = watching.subscribe_for_type::<UserBannedEvent>(move |e| {
        let _ = tx.send(e.user.as_ref().map(|u| u.id.clone()).unwrap_or_default());
    });
    watching
        .ban_user("fry", Some("too much money talk".into()), Some(10))
        .execute()
        .into_result()
        .map_err(|e| format!("ban: {e}"))?;
    let banned = bans
        .recv_timeout(STEP_TIMEOUT)
        .map_err(|_| "no user.banned event".to_string())?;
    println!("hermes banned {banned} from the office for 10 minutes");

    // Fry's next post is refused with Stream's permission error.
    match frys
        .send_message(Message::with_text("Hello?"))
        .execute()
        .into_result()
    {
        Ok(_) => return Err("the banned user could post".into()),
        Err(err) if err.stream_code() == Some(codes::NOT_ALLOWED) => {
            println!(
                "fry's post was refused (code 17, HTTP 403): {}",
                err.message()
            );
        }
        Err(err) => return Err(format!("unexpected refusal: {err}")),
    }

    // Others still post; Amy's badge counts on.
    watching
        .send_message(Message::with_text("Sweet llamas of the Bahamas!"))
        .execute()
        .into_result()
        .map_err(|e| format!("hermes's post: {e}"))?;
    badge.expect("amy", 2)?;

    // Lifted, Fry posts again; Amy reads the office and her badge clears.
    watching
        .unban_user("fry")
        .execute()
        .into_result()
        .map_err(|e| format!("unban: {e}"))?;
    frys.send_message(Message::with_text("I'm back!"))
        .execute()
        .into_result()
        .map_err(|e| format!("fry's post after the unban: {e}"))?;
    badge.expect("amy", 3)?;
    amy.channel("messaging", "office")
        .map_err(|e| e.to_string())?
        .mark_read()
        .execute()
        .into_result()
        .map_err(|e| format!("mark read: {e}"))?;
    badge.expect("amy", 0)?;
    let counts = amy
        .get_unread_count()
        .execute()
        .into_result()
        .map_err(|e| format!("unread counts: {e}"))?;
    println!(
        "amy's unread counts: {} in total",
        counts.total_unread_count
    );
    Ok(())
}
