//! The messages guide (`docs/messages.md`) in action: two users settle a question in a
//! thread, type, react, pin the answer, edit, quote and find it again by search, while
//! fry's client prints every event of the channel as it arrives.
//!
//! Everything runs against a local Stream-compatible server started in this process.
//! `cargo run --example thread_and_reactions` exits non-zero if any step fails; each step
//! waits for the event it causes (with a bounded wait), never for a clock.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use serde_json::{Map, json};
use stream_chat_client::{
    ChannelClient, ChatClient, ChatEvent, Message, QueryThreadsRequest, Reaction, Subscription,
    TYPING_STOP_AFTER, User,
};
use stream_chat_server::{Server, ServerHandle};

/// How long one step may take before the example gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!(
                "\nthe thread, the reactions, the pin and the search all worked as documented"
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("\nFAILED: {message}");
            ExitCode::FAILURE
        }
    }
}

/// A client of `server`, connected as `id`.
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

/// fry's view of the channel: each event as one line, in order.
struct Screen {
    rx: Receiver<(String, String)>,
    _subscription: Subscription,
}

impl Screen {
    fn watch(channel: &ChannelClient) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        let subscription = channel.subscribe(move |event| {
            if let Some(line) = describe(event) {
                let _ = tx.send((event.kind().to_owned(), line));
            }
        });
        Screen {
            rx,
            _subscription: subscription,
        }
    }

    /// Prints the events up to the first of type `kind`, which it returns the line of.
    fn until(&self, kind: &str) -> Result<String, String> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (got, line) = self
                .rx
                .recv_timeout(left)
                .map_err(|_| format!("fry's client saw no {kind} within {STEP_TIMEOUT:?}"))?;
            println!("  [fry's screen] {line}");
            if got == kind {
                return Ok(line);
            }
        }
    }
}

fn who(user: &Option<User>) -> &str {
    user.as_ref().map_or("someone", |u| u.id.as_str())
}

/// `love 1, like 2`.
fn counts(message: &Message) -> String {
    let counts: BTreeMap<String, u64> = message.reaction_counts.clone().unwrap_or_default();
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
    if parts.is_empty() {
        "no reactions".to_owned()
    } else {
        parts.join(", ")
    }
}

/// The line fry's screen shows for `event` (nothing for connection housekeeping).
fn describe(event: &ChatEvent) -> Option<String> {
    Some(match event {
        ChatEvent::MessageNew(e) => {
            let place = if e.message.show_in_channel == Some(true) {
                "in the thread and the channel"
            } else if e.message.parent_id.is_some() {
                "in the thread"
            } else {
                "in the channel"
            };
            format!(
                "{} wrote {place}: {}",
                who(&e.message.user),
                e.message.text()
            )
        }
        ChatEvent::MessageUpdated(e) => {
            let mut notes = Vec::new();
            if let Some(n) = e.message.reply_count.filter(|n| *n > 0) {
                notes.push(format!("{n} {}", if n == 1 { "reply" } else { "replies" }));
            }
            if e.message.pinned == Some(true) {
                notes.push("pinned".to_owned());
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join(", "))
            };
            format!("updated: {}{notes}", e.message.text())
        }
        ChatEvent::ReactionNew(e) => format!(
            "{} reacted {}: {}",
            who(&e.user),
            e.reaction.kind,
            counts(&e.message)
        ),
        ChatEvent::ReactionUpdated(e) => format!(
            "{} changed their reaction to {}: {}",
            who(&e.user),
            e.reaction.kind,
            counts(&e.message)
        ),
        ChatEvent::ReactionDeleted(e) => format!(
            "{} took back {}: {}",
            who(&e.user),
            e.reaction.kind,
            counts(&e.message)
        ),
        ChatEvent::TypingStart(e) => {
            let place = if e.parent_id.is_some() {
                " in the thread"
            } else {
                ""
            };
            format!("{} is typing{place}...", who(&e.user))
        }
        ChatEvent::TypingStop(e) => format!("{} stopped typing", who(&e.user)),
        ChatEvent::Other(e) => format!("custom event {} from {}", e.kind, who(&e.user)),
        _ => return None,
    })
}

fn run() -> Result<(), String> {
    let server = Server::builder()
        .start()
        .map_err(|e| format!("local server: {e}"))?;
    println!("local Stream-compatible server on {}", server.base_url());
    let bender = connect(&server, "bender", "Bender")?;
    let fry = connect(&server, "fry", "Fry")?;
    let err = |what: &str| {
        let what = what.to_owned();
        move |e: stream_chat_client::ChatError| format!("{what}: {e}")
    };

    let ours = bender
        .channel("messaging", "launch")
        .map_err(|e| e.to_string())?;
    ours.create(["bender", "fry"])
        .execute()
        .into_result()
        .map_err(err("create"))?;
    let his = fry
        .channel("messaging", "launch")
        .map_err(|e| e.to_string())?;
    his.watch().execute().into_result().map_err(err("watch"))?;
    let screen = Screen::watch(&his);
    println!("bender and fry share messaging:launch; fry watches it\n");

    println!("## A question and a thread");
    let question = ours
        .send_message(Message::with_text("When do we launch?"))
        .execute()
        .into_result()
        .map_err(err("question"))?;
    screen.until("message.new")?;

    // fry types in the thread: typing.start at once, typing.stop by itself after silence.
    his.keystroke(Some(&question.id))
        .execute()
        .into_result()
        .map_err(err("keystroke"))?;
    screen.until("typing.start")?;
    screen.until("typing.stop")?;
    println!(
        "(the stop came by itself after {} ms without a keystroke)",
        TYPING_STOP_AFTER.as_millis()
    );
    let reply = |channel: &ChannelClient, text: &str, shown: bool| {
        let message = Message {
            parent_id: Some(question.id.clone()),
            show_in_channel: shown.then_some(true),
            ..Message::with_text(text)
        };
        channel.send_message(message).execute().into_result()
    };
    // Each reply reaches the watchers, then the question with its new reply count.
    reply(&his, "Tuesday?", false).map_err(err("fry's reply"))?;
    screen.until("message.new")?;
    screen.until("message.updated")?;
    let answer = reply(&ours, "Tuesday it is, everyone.", true).map_err(err("bender's reply"))?;
    screen.until("message.new")?;
    screen.until("message.updated")?;

    let replies = fry
        .get_replies(&question.id, 10)
        .execute()
        .into_result()
        .map_err(err("get_replies"))?;
    let texts: Vec<&str> = replies.iter().map(|m| m.text()).collect();
    println!("get_replies: {}", texts.join(" / "));
    let parent = his
        .get_message(&question.id)
        .execute()
        .into_result()
        .map_err(err("get_message"))?;
    let participants: Vec<&str> = parent
        .thread_participants
        .iter()
        .flatten()
        .map(|u| u.id.as_str())
        .collect();
    println!(
        "the question has {} replies from {}",
        parent.reply_count.unwrap_or(0),
        participants.join(" and ")
    );

    println!("\n## Reactions");
    let on_answer = |kind: &str| Reaction {
        message_id: answer.id.clone(),
        ..Reaction::new(kind)
    };
    his.send_reaction(on_answer("like"), false)
        .execute()
        .into_result()
        .map_err(err("fry's like"))?;
    screen.until("reaction.new")?;
    ours.send_reaction(on_answer("love"), false)
        .execute()
        .into_result()
        .map_err(err("bender's love"))?;
    screen.until("reaction.new")?;
    // enforce_unique: fry's thumbs up replaces his like.
    his.send_reaction(on_answer("thumbsup"), true)
        .execute()
        .into_result()
        .map_err(err("fry's thumbs up"))?;
    screen.until("reaction.updated")?;
    let reactions = his
        .get_reactions(&answer.id, 0, 10)
        .execute()
        .into_result()
        .map_err(err("get_reactions"))?;
    let listed: Vec<String> = reactions
        .iter()
        .map(|r| format!("{} by {}", r.kind, r.user_id))
        .collect();
    println!("get_reactions: {}", listed.join(", "));
    ours.delete_reaction(&answer.id, "love")
        .execute()
        .into_result()
        .map_err(err("delete_reaction"))?;
    screen.until("reaction.deleted")?;

    println!("\n## Pin, edit, quote");
    ours.pin_message(&answer, None)
        .execute()
        .into_result()
        .map_err(err("pin"))?;
    screen.until("message.updated")?;
    let pinned = his
        .get_pinned_messages(10, Vec::new(), None)
        .execute()
        .into_result()
        .map_err(err("get_pinned_messages"))?;
    println!(
        "pinned: {} message(s), the first: {}",
        pinned.len(),
        pinned[0].text()
    );
    let set = Map::from_iter([("text".to_owned(), json!("When do we launch? (decided)"))]);
    bender
        .partial_update_message(&question.id, set, Vec::new())
        .execute()
        .into_result()
        .map_err(err("partial_update_message"))?;
    screen.until("message.updated")?;
    let quote = Message {
        quoted_message_id: Some(answer.id.clone()),
        ..Message::with_text("Noted, packing my bags.")
    };
    let sent = his
        .send_message(quote)
        .execute()
        .into_result()
        .map_err(err("quote"))?;
    screen.until("message.new")?;
    let quoted = sent.quoted_message.as_deref().map_or("", |m| m.text());
    println!("fry's message quotes: {quoted}");
    ours.send_event(
        "launch_countdown",
        Map::from_iter([("t".to_owned(), json!(10))]),
    )
    .execute()
    .into_result()
    .map_err(err("send_event"))?;
    screen.until("launch_countdown")?;

    println!("\n## Threads and search");
    let threads = fry
        .query_threads(QueryThreadsRequest {
            limit: Some(10),
            reply_limit: Some(1),
            ..Default::default()
        })
        .execute()
        .into_result()
        .map_err(err("query_threads"))?;
    for thread in &threads.threads {
        let parent = thread.parent_message.as_ref().map_or("", |m| m.text());
        println!(
            "fry's thread: \"{parent}\", {} replies",
            thread.reply_count.unwrap_or(0)
        );
    }
    his.mark_thread_read(&question.id)
        .execute()
        .into_result()
        .map_err(err("mark_thread_read"))?;
    let channels = Map::from_iter([("members".to_owned(), json!({"$in": ["fry"]}))]);
    let words = Map::from_iter([("text".to_owned(), json!({"$q": "tuesday"}))]);
    let found = fry
        .search_messages(channels, words, None, Some(10), None, Vec::new())
        .execute()
        .into_result()
        .map_err(err("search_messages"))?;
    for m in &found.messages {
        let cid = m.channel.as_ref().map_or("", |c| c.cid.as_str());
        println!("search \"tuesday\": {} in {cid}", m.text());
    }
    if found.messages.len() != 2 {
        return Err(format!(
            "search found {} messages, not 2",
            found.messages.len()
        ));
    }

    for client in [&fry, &bender] {
        client
            .disconnect()
            .execute()
            .into_result()
            .map_err(err("disconnect"))?;
    }
    Ok(())
}
