//! A GUI-style main loop without a GUI toolkit: callbacks and events are queued on a
//! `CallbackQueue` and run between "frames" on this thread, so the "UI" state needs no
//! locks. The loop connects a user, shows connection events as they arrive, then
//! disconnects and quits.
//!
//! `cargo run --example gui_event_loop`

use std::process::ExitCode;
use std::time::{Duration, Instant};

use stream_chat_client::{CallbackQueue, ChatClient, ChatEvent, ChatResult, User};
use stream_chat_server::Server;

const FRAME: Duration = Duration::from_millis(16);
const GIVE_UP_AFTER: Duration = Duration::from_secs(30);

/// What the "screen" shows; touched only on the UI thread.
#[derive(Debug, Default)]
struct Screen {
    status: String,
    log: Vec<String>,
    connected: bool,
    done: bool,
    failed: bool,
}

fn main() -> ExitCode {
    let server = match Server::builder().start() {
        Ok(server) => server,
        Err(e) => {
            eprintln!("local server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let queue = CallbackQueue::new();
    let client = match ChatClient::builder(server.api_key())
        .base_url(server.base_url())
        .callback_executor(queue.executor())
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };

    // Callbacks run on this thread (the queue is drained here), but must be `Send`: they
    // report through a channel that the loop applies to the screen.
    let (ui_tx, ui_rx) = std::sync::mpsc::channel::<UiMessage>();
    let events_tx = ui_tx.clone();
    let _subscription = client.subscribe(move |event| {
        if let ChatEvent::ConnectionChanged { state, .. } = event {
            let _ = events_tx.send(UiMessage::State(state.to_string()));
        }
    });
    let mut screen = Screen {
        status: "starting".into(),
        ..Screen::default()
    };

    let token = server.create_token("bender", None);
    let connect_tx = ui_tx.clone();
    client
        .connect_user(User::new("bender").with_name("Bender"), token)
        .enqueue(move |result| {
            let _ = connect_tx.send(match result {
                ChatResult::Success(data) => UiMessage::Connected(data.user.id, data.connection_id),
                ChatResult::Failure(e) => UiMessage::Failed(e.to_string()),
            });
        });

    let started = Instant::now();
    let mut frames = 0u64;
    let mut disconnect_sent = false;
    let mut connected_since: Option<u64> = None;
    while !screen.done {
        // 1. run the SDK's callbacks queued since the last frame (never blocks for long)
        queue.run_until(Instant::now() + FRAME);
        // 2. apply what they reported
        for message in ui_rx.try_iter() {
            apply(&mut screen, message);
        }
        // 3. "render"
        frames += 1;
        if frames.is_multiple_of(30) {
            println!("frame {frames:4}: {}", screen.status);
        }
        // 4. app logic: stay connected for a second's worth of frames, then log out
        if screen.connected && connected_since.is_none() {
            connected_since = Some(frames);
        }
        if connected_since.is_some_and(|f| frames - f >= 60) && !disconnect_sent {
            disconnect_sent = true;
            let tx = ui_tx.clone();
            client.disconnect().enqueue(move |result| {
                let _ = tx.send(match result {
                    ChatResult::Success(()) => UiMessage::Disconnected,
                    ChatResult::Failure(e) => UiMessage::Failed(e.to_string()),
                });
            });
        }
        if started.elapsed() > GIVE_UP_AFTER {
            screen.log.push("gave up waiting".into());
            screen.failed = true;
            break;
        }
    }
    for line in &screen.log {
        println!("  {line}");
    }
    println!("{frames} frames, final status: {}", screen.status);
    server.shutdown();
    if screen.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

enum UiMessage {
    State(String),
    Connected(String, String),
    Disconnected,
    Failed(String),
}

fn apply(screen: &mut Screen, message: UiMessage) {
    match message {
        UiMessage::State(state) => {
            screen.status = state.clone();
            screen.log.push(format!("connection: {state}"));
        }
        UiMessage::Connected(user, connection_id) => {
            screen.connected = true;
            screen
                .log
                .push(format!("connected as {user} ({connection_id})"));
        }
        UiMessage::Disconnected => {
            screen.log.push("disconnected".into());
            screen.done = true;
        }
        UiMessage::Failed(e) => {
            screen.log.push(format!("error: {e}"));
            screen.failed = true;
            screen.done = true;
        }
    }
}
