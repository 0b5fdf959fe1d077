//! A bot that answers `!ping` with `pong`: it receives the server's webhooks (checking each
//! signature), and answers as itself through the server-side client. A user on the
//! user-side client sends `!ping` and sees the answer arrive.
//!
//! `cargo run --example bot` runs it all against a local server started in-process (the
//! server's `webhook_url` points at the bot). Against a server of your own, start it with
//! `stream-chat-server --webhook-url http://127.0.0.1:8088/` and run the bot's `serve` with
//! that address, your key and secret.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use stream_chat_client::{ChatClient, Message, NewMessageEvent, ServerClient, User};
use stream_chat_server::Server;

/// The bot's user id.
const BOT: &str = "pingbot";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The bot's webhook endpoint, then a server that posts every event to it.
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let hook_url = format!("http://{}/stream-webhook", listener.local_addr()?);
    let server = Server::builder().webhook_url(&hook_url).start()?;
    println!("server at {}, webhooks to {hook_url}", server.base_url());

    // The bot: the app's key and secret, no socket.
    let bot = ServerClient::builder(server.api_key(), server.api_secret())
        .base_url(server.base_url())
        .build()?;
    bot.upsert_users(vec![
        User::new(BOT).with_name("Ping Bot"),
        User::new("alice"),
    ])
    .execute()
    .into_result()?;
    bot.channel("messaging", "lobby")?
        .create(BOT, &[BOT, "alice"])
        .execute()
        .into_result()?;
    let answered = {
        let bot = bot.clone();
        std::thread::spawn(move || serve(&listener, &bot, 1))
    };

    // A user of the app: a token the backend (the bot's client) made, a live connection.
    let alice = ChatClient::builder(server.api_key())
        .base_url(server.base_url())
        .build()?;
    let token = bot.create_token("alice", None, Some(unix_now()));
    alice
        .connect_user(User::new("alice"), token)
        .execute()
        .into_result()?;
    let lobby = alice.channel("messaging", "lobby")?;
    let (tx, rx) = mpsc::channel();
    let _subscription = lobby.subscribe_for_type::<NewMessageEvent>(move |event| {
        let _ = tx.send(event.clone());
    });
    lobby.watch().execute().into_result()?;
    lobby
        .send_message(Message::with_text("anyone there? !ping"))
        .execute()
        .into_result()?;
    println!("alice: anyone there? !ping");
    loop {
        let event = rx.recv_timeout(Duration::from_secs(20))?;
        let from = event.user.map(|u| u.id).unwrap_or_default();
        if from == BOT {
            println!("{from}: {}", event.message.text.unwrap_or_default());
            break;
        }
    }
    let handled = answered
        .join()
        .map_err(|_| "the bot thread panicked")?
        .map_err(|e| e.to_string())?;
    println!("the bot verified and handled {handled} webhook deliveries");
    Ok(())
}

/// Serves webhooks until it answered `answers` pings; returns how many deliveries it took.
fn serve(
    listener: &TcpListener,
    bot: &ServerClient,
    answers: usize,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let (mut handled, mut answered) = (0, 0);
    for stream in listener.incoming() {
        let (signature, body) = read_request(&mut stream?)?;
        handled += 1;
        if !bot.verify_webhook(&body, &signature) {
            eprintln!("a webhook with a bad signature was ignored");
            continue;
        }
        // Only new messages with `!ping`, and never the bot's own. (A typed event refuses a
        // body of another type.)
        let Ok(event) = serde_json::from_slice::<NewMessageEvent>(&body) else {
            continue;
        };
        let from = event
            .user
            .as_ref()
            .map(|u| u.id.as_str())
            .unwrap_or_default();
        let text = event.message.text.as_deref().unwrap_or_default();
        if from == BOT || !text.contains("!ping") {
            continue;
        }
        let channel = bot.channel(&event.channel_type, &event.channel_id)?;
        channel
            .send_message(Message::with_text(format!("pong, {from}")), BOT)
            .execute()
            .into_result()?;
        answered += 1;
        if answered == answers {
            return Ok(handled);
        }
    }
    Ok(handled)
}

/// Reads one HTTP request (its `X-Signature` and exact body) and answers 200 at once, as a
/// webhook receiver should.
fn read_request(
    stream: &mut TcpStream,
) -> Result<(String, Vec<u8>), Box<dyn std::error::Error + Send + Sync>> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let (mut length, mut signature) = (0usize, String::new());
    let mut line = String::new();
    reader.read_line(&mut line)?; // POST /stream-webhook HTTP/1.1
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break; // the blank line before the body
        };
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse()?,
            "x-signature" => signature = value.trim().to_owned(),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    Ok((signature, body))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
