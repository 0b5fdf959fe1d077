//! A GUI-style main loop without a GUI toolkit: callbacks and events are queued on a
//! `CallbackQueue` and run between "frames" on this thread, so the "UI" state needs no
//! locks. The loop connects a user, shows connection events as they arrive, then
//! disconnects and quits. Every line is printed when it happens, tagged with its frame.
//!
//! Call callbacks use `enqueue_local`: they are not `Send` and touch the screen (an
//! `Rc<RefCell<..>>`) directly, as Android's main-thread callbacks touch views. Event
//! listeners must be `Send`; they run on this thread too (the queue is the client's
//! executor) and hand each event to the screen through a channel, which the screen reads
//! before anything else happens on it, so lines keep the order the queue ran them in.
//!
//! `cargo run --example gui_event_loop`

use std::cell::RefCell;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use stream_chat_client::{CallbackQueue, ChatClient, ChatEvent, ChatResult, User};
use stream_chat_server::Server;

const FRAME: Duration = Duration::from_millis(16);
const GIVE_UP_AFTER: Duration = Duration::from_secs(30);
/// Frames to stay connected before logging out (about a second).
const CONNECTED_FRAMES: u64 = 60;

/// What the "screen" shows; lives on the UI thread only (`Rc<RefCell<..>>`, not `Send`).
struct Screen {
    frame: u64,
    status: String,
    connected_at: Option<u64>,
    done: bool,
    failed: bool,
    /// Connection states sent by the (`Send`) event listener.
    states: Receiver<String>,
}

impl Screen {
    /// Prints `line` now, tagged with the current frame.
    fn show(&mut self, line: &str) {
        println!("frame {:4}: {line}", self.frame);
    }

    /// Applies the events the listener handed over so far (they ran before whatever
    /// happens on the screen next).
    fn catch_up(&mut self) {
        while let Ok(state) = self.states.try_recv() {
            self.show(&format!("connection: {state}"));
            self.status = state;
        }
    }
}

fn main() -> ExitCode {
    let server = match Server::builder().start() {
        Ok(server) => server,
        Err(e) => {
            eprintln!("local server: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Created on this thread: it owns the queue, so `enqueue_local` callbacks run here.
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

    let (states_tx, states) = channel::<String>();
    let _subscription = client.subscribe(move |event| {
        if let ChatEvent::ConnectionChanged { state, .. } = event {
            let _ = states_tx.send(state.to_string());
        }
    });
    let screen = Rc::new(RefCell::new(Screen {
        frame: 0,
        status: "starting".into(),
        connected_at: None,
        done: false,
        failed: false,
        states,
    }));

    let token = server.create_token("bender", None);
    let on_connect = Rc::clone(&screen);
    client
        .connect_user(User::new("bender").with_name("Bender"), token)
        .enqueue_local(&queue, move |result| {
            let mut screen = on_connect.borrow_mut();
            screen.catch_up();
            match result {
                ChatResult::Success(data) => {
                    screen.connected_at = Some(screen.frame);
                    let line = format!(
                        "connected as {} ({}) on {}",
                        data.user.id,
                        data.user.name(),
                        data.connection_id
                    );
                    screen.show(&line);
                }
                ChatResult::Failure(e) => {
                    screen.show(&format!("error: {e}"));
                    screen.failed = true;
                    screen.done = true;
                }
            }
        });

    let started = Instant::now();
    let mut disconnect_sent = false;
    loop {
        // 1. run the SDK's callbacks queued since the last frame (waits at most a frame)
        queue.run_until(Instant::now() + FRAME);
        let mut s = screen.borrow_mut();
        s.catch_up();
        if s.done {
            break;
        }
        // 2. "render"
        s.frame += 1;
        if s.frame.is_multiple_of(30) {
            let line = format!("status {}", s.status);
            s.show(&line);
        }
        // 3. app logic: stay connected for a second's worth of frames, then log out
        if !disconnect_sent
            && s.connected_at
                .is_some_and(|f| s.frame - f >= CONNECTED_FRAMES)
        {
            disconnect_sent = true;
            s.show("logging out");
            let on_disconnect = Rc::clone(&screen);
            client.disconnect().enqueue_local(&queue, move |result| {
                let mut screen = on_disconnect.borrow_mut();
                screen.catch_up();
                match result {
                    ChatResult::Success(()) => screen.show("disconnected"),
                    ChatResult::Failure(e) => {
                        screen.show(&format!("error: {e}"));
                        screen.failed = true;
                    }
                }
                screen.done = true;
            });
        }
        if started.elapsed() > GIVE_UP_AFTER {
            s.show("gave up waiting");
            s.failed = true;
            break;
        }
    }
    let s = screen.borrow();
    println!("{} frames, final status: {}", s.frame, s.status);
    let failed = s.failed;
    drop(s);
    server.shutdown();
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
