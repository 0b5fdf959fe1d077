//! A terminal chat UI driven by a GUI-style main loop: the channel list with unread badges
//! and the selected channel's live message list, rendered from the state store
//! (`client.observe_local`), while a scripted second user chats in another thread.
//!
//! Everything runs against a local Stream-compatible server started in this process. The
//! main thread is the "GUI thread": it owns a `CallbackQueue`, the client runs its
//! callbacks and state deliveries on it (`callback_executor(queue.executor())`), and each
//! frame drains the queue for up to 16 ms, then re-renders if the store delivered a new
//! snapshot. Deliveries are coalesced (at most one pending, carrying the latest state), so
//! a burst of events is one re-render. The UI state lives in `Rc<RefCell<..>>`: it never
//! leaves this thread, so it needs no lock, and nothing blocks this thread on the network
//! (every call is `enqueue_local`d).
//!
//! The app connects bender, lists his channels (`query_channels`, newest message first),
//! selects "Planet Express", marks it read whenever it shows unread messages (as a chat
//! app does for the open channel) and sends one message. Fry's client, on its own thread,
//! seeds three channels, then types, sends, edits, deletes, reacts and marks read. When his
//! script is done and the store shows its effect, the app renders a final frame, logs out
//! and exits; it exits non-zero if anything fails or takes longer than 30 seconds.
//!
//! Rendering: plain ANSI escape codes, no dependency. A no-input demo needs only "home the
//! cursor, draw lines, clear the rest", which is four escape sequences; ratatui (with
//! crossterm) would add a widget layout engine and a terminal backend we would not use, and
//! two more dependencies to every `cargo test` of the workspace. On a terminal it draws in
//! place on the alternate screen, restores the terminal on exit (and on Ctrl-C, unix), and
//! prints the last frame on the normal screen; the scripted user is paced so a human can
//! follow. When stdout is not a terminal (CI, `| cat`), it runs unpaced and prints each
//! frame that differs from the previous one as lines tagged `frame N:`, which
//! `scripts/check-examples.sh` checks for order and for the final badges and messages.
//!
//! `cargo run --example gui_event_loop` (or `... | cat` for the plain frames)

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Map, json};
use stream_chat_client::state::{ChannelState, ClientState, SyncStatus};
use stream_chat_client::{
    CallbackQueue, ChannelClient, ChatClient, ChatResult, Message, QueryChannelsRequest, Reaction,
    SortParam, User,
};
use stream_chat_protocol::time::parse_rfc3339;
use stream_chat_server::{Server, ServerHandle};

/// How long a frame drains the queue at most.
const FRAME: Duration = Duration::from_millis(16);
/// The whole run's deadline.
const GIVE_UP_AFTER: Duration = Duration::from_secs(30);
/// How long one step of fry's script may wait for the app.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause between fry's steps on a terminal, so a human can follow them.
const HUMAN_PACE: Duration = Duration::from_millis(500);
/// Pause between fry's steps otherwise: about two frames, so the plain log shows most
/// steps as frames of their own (the run still takes well under a second). Only pacing:
/// nothing waits on it for correctness.
const PLAIN_PACE: Duration = Duration::from_millis(30);

/// The channels fry seeds: id and name. The app opens the first one.
const CHANNELS: [(&str, &str); 3] = [
    ("planet-express", "Planet Express"),
    ("delivery", "Delivery"),
    ("slurm", "Slurm"),
];
const SELECTED: &str = "messaging:planet-express";
/// Bender's unread messages per channel once fry's script is done (the selected channel
/// is read as it is shown): one seed message plus what the script sends there.
const EXPECTED_UNREAD: [(&str, u64); 3] = [
    ("messaging:planet-express", 0),
    ("messaging:delivery", 3),
    ("messaging:slurm", 2),
];

/// What fry's thread tells the app.
enum Script {
    /// The channels exist.
    Seeded,
    /// A step, for the status line.
    Step(String),
    /// The script is done; the id of its last message in the selected channel.
    Done(String),
    Failed(String),
}

/// The app's progress.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Phase {
    Connecting,
    Connected,
    Querying,
    Running,
    Settling { since: Instant },
    Finished,
}

/// The UI thread's state (`Rc<RefCell<..>>`: never `Send`, never locked).
struct Ui {
    tty: bool,
    frame: u64,
    /// The latest snapshot the store delivered, and whether it was rendered.
    state: Option<Arc<ClientState>>,
    dirty: bool,
    phase: Phase,
    status: String,
    /// The lines last drawn (a frame is drawn only when they change).
    shown: Vec<String>,
    mark_read_in_flight: bool,
    failed: Option<String>,
}

impl Ui {
    /// Shows `status` in the next frame.
    fn set_status(&mut self, status: impl Into<String>) {
        self.status = status.into();
        self.dirty = true;
    }

    fn fail(&mut self, why: String) {
        if self.failed.is_none() {
            self.failed = Some(why);
        }
    }
}

fn main() -> ExitCode {
    let tty = std::io::stdout().is_terminal();
    let server = match Server::builder().start() {
        Ok(server) => server,
        Err(e) => {
            eprintln!("local server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = run(&server, tty);
    server.shutdown();
    match outcome {
        Ok(frames) => {
            println!("{frames} frames rendered; fry's script is done and the state matches it");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("FAILED: {why}");
            ExitCode::FAILURE
        }
    }
}

fn run(server: &ServerHandle, tty: bool) -> Result<u64, String> {
    // Fry seeds the channels, then waits for the app's "go" (with the id of bender's
    // message to react to).
    let (script_tx, script_rx) = channel::<Script>();
    let (go_tx, go_rx) = channel::<String>();
    let pace = if tty { HUMAN_PACE } else { PLAIN_PACE };
    let fry_login = (
        server.api_key().to_owned(),
        server.base_url(),
        server.create_token("fry", None),
    );
    let fry = thread::spawn(move || {
        let report = script_tx.clone();
        if let Err(e) = fry_script(fry_login, pace, &script_tx, &go_rx) {
            let _ = report.send(Script::Failed(e));
        }
    });

    // The GUI thread: its queue, and a client whose callbacks and state deliveries it runs.
    let queue = CallbackQueue::new();
    let client = ChatClient::builder(server.api_key())
        .base_url(server.base_url())
        .callback_executor(queue.executor())
        .build()
        .map_err(|e| e.to_string())?;
    let ui = Rc::new(RefCell::new(Ui {
        tty,
        frame: 0,
        state: None,
        dirty: false,
        phase: Phase::Connecting,
        status: "connecting".into(),
        shown: Vec::new(),
        mark_read_in_flight: false,
        failed: None,
    }));
    let on_state = Rc::clone(&ui);
    let observation = client.observe_local(&queue, move |state| {
        let mut ui = on_state.borrow_mut();
        ui.state = Some(Arc::clone(state));
        ui.dirty = true;
    });
    let terminal = tty.then(Terminal::enter);

    let on_connect = Rc::clone(&ui);
    client
        .connect_user(
            User::new("bender").with_name("Bender"),
            server.create_token("bender", None),
        )
        .enqueue_local(&queue, move |result| {
            let mut ui = on_connect.borrow_mut();
            match result {
                ChatResult::Success(_) => ui.phase = Phase::Connected,
                ChatResult::Failure(e) => ui.fail(format!("connect: {e}")),
            }
        });

    let request = channel_list_request();
    let selected = client
        .channel("messaging", "planet-express")
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut seeded = false;
    let mut last_message: Option<String> = None;
    loop {
        // 1. run the SDK's callbacks and state deliveries queued since the last frame
        queue.run_until(Instant::now() + FRAME);
        // 2. what fry's thread reported
        loop {
            match script_rx.try_recv() {
                Ok(Script::Seeded) => seeded = true,
                Ok(Script::Step(step)) => ui.borrow_mut().set_status(step),
                Ok(Script::Done(id)) => {
                    let mut ui = ui.borrow_mut();
                    ui.set_status("fry's script is done");
                    ui.phase = Phase::Settling {
                        since: Instant::now(),
                    };
                    last_message = Some(id);
                }
                Ok(Script::Failed(e)) => ui.borrow_mut().fail(format!("fry: {e}")),
                Err(_) => break,
            }
        }
        // 3. app logic
        let phase = ui.borrow().phase;
        match phase {
            Phase::Connected if seeded => {
                ui.borrow_mut().phase = Phase::Querying;
                ui.borrow_mut().set_status("loading the channel list");
                let on_list = Rc::clone(&ui);
                let on_send = Rc::clone(&ui);
                let channel = selected.clone();
                let queue_for_send = queue.clone();
                let go = go_tx.clone();
                client
                    .query_channels(request.clone())
                    .enqueue_local(&queue, move |result| {
                        if let ChatResult::Failure(e) = result {
                            on_list.borrow_mut().fail(format!("query_channels: {e}"));
                            return;
                        }
                        on_list.borrow_mut().phase = Phase::Running;
                        // Shown at once as pending (the store has it before the server answers).
                        channel
                            .send_message(Message::with_text("Bite my shiny metal ass"))
                            .enqueue_local(&queue_for_send, move |result| match result {
                                ChatResult::Success(sent) => {
                                    let _ = go.send(sent.id);
                                }
                                ChatResult::Failure(e) => {
                                    on_send.borrow_mut().fail(format!("send_message: {e}"))
                                }
                            });
                    });
            }
            Phase::Settling { since } => {
                let state = ui.borrow().state.clone();
                let settled = state
                    .as_deref()
                    .is_some_and(|s| settled(s, last_message.as_deref().unwrap_or_default()))
                    && !ui.borrow().mark_read_in_flight;
                if settled {
                    ui.borrow_mut().phase = Phase::Finished;
                    ui.borrow_mut()
                        .set_status("done: fry's script is in the state");
                } else if since.elapsed() > STEP_TIMEOUT {
                    ui.borrow_mut()
                        .fail("the state did not show fry's script within 10 s".into());
                }
            }
            _ => {}
        }
        // The open channel is read as it is shown.
        let unread_here = ui
            .borrow()
            .state
            .as_ref()
            .and_then(|s| s.channel(SELECTED).map(|c| c.unread_count))
            .unwrap_or(0);
        if unread_here > 0 && !ui.borrow().mark_read_in_flight {
            ui.borrow_mut().mark_read_in_flight = true;
            let on_read = Rc::clone(&ui);
            selected.mark_read().enqueue_local(&queue, move |result| {
                let mut ui = on_read.borrow_mut();
                ui.mark_read_in_flight = false;
                if let ChatResult::Failure(e) = result {
                    ui.fail(format!("mark_read: {e}"));
                }
            });
        }
        // 4. render
        let mut u = ui.borrow_mut();
        if u.dirty {
            u.dirty = false;
            let lines = render(u.state.as_deref(), &request, &u.status);
            if lines != u.shown {
                u.frame += 1;
                draw(u.tty, u.frame, &lines);
                u.shown = lines;
            }
        }
        if u.failed.is_some() || u.phase == Phase::Finished {
            break;
        }
        if started.elapsed() > GIVE_UP_AFTER {
            u.fail("gave up after 30 s".into());
            break;
        }
    }
    // Stop rendering before logging out (the store empties on disconnect).
    observation.dispose();
    drop(terminal);
    drop(go_tx);
    let (frames, failed, shown) = {
        let ui = ui.borrow();
        (ui.frame, ui.failed.clone(), ui.shown.clone())
    };
    if tty {
        // The last frame stays on the normal screen.
        for line in &shown {
            println!("{line}");
        }
    }
    let logout = client.disconnect().execute().into_result();
    if fry.join().is_err() {
        return Err("fry's thread panicked".into());
    }
    if let Some(why) = failed {
        return Err(why);
    }
    logout.map_err(|e| format!("disconnect: {e}"))?;
    Ok(frames)
}

/// Bender's channel list: the channels he is a member of, newest message first.
fn channel_list_request() -> QueryChannelsRequest {
    let mut request = QueryChannelsRequest {
        sort: vec![SortParam {
            field: "last_message_at".into(),
            direction: -1,
        }],
        watch: Some(true),
        ..Default::default()
    };
    request
        .filter_conditions
        .insert("members".into(), json!({"$in": ["bender"]}));
    request
}

/// Whether the state shows the whole script: the expected badges and fry's last message
/// in the selected channel.
fn settled(state: &ClientState, last_message: &str) -> bool {
    let badges = EXPECTED_UNREAD
        .iter()
        .all(|(cid, n)| state.channel(cid).is_some_and(|c| c.unread_count == *n));
    let last = state
        .channel(SELECTED)
        .is_some_and(|c| c.messages.get(last_message).is_some() && c.typing.is_empty());
    badges && last
}

/// The frame's lines, plain text: the header, the channel list, the selected channel.
fn render(
    state: Option<&ClientState>,
    request: &QueryChannelsRequest,
    status: &str,
) -> Vec<String> {
    let Some(state) = state else {
        return vec!["Stream Chat: starting".into()];
    };
    let who = state.me.as_ref().map_or_else(
        || "nobody".to_owned(),
        |me| format!("{} ({})", me.id, me.name()),
    );
    let mut lines = vec![
        format!("Stream Chat: {} as {who}", state.connection_state),
        format!("status: {status}"),
    ];
    let Some(list) = state.query(request) else {
        return lines;
    };
    // The tab badge: the server's count for this user, carried by `message.new`,
    // `notification.*` and the connect's `me` (it counts every channel, listed or not).
    let channels = state.channels_of(list);
    lines.push(format!(
        "Channels ({}), {} unread",
        channels.len(),
        state.total_unread_count
    ));
    for channel in channels {
        let marker = if channel.cid == SELECTED { '>' } else { ' ' };
        let badge = match channel.unread_count {
            0 => String::new(),
            n => format!("[{n}]"),
        };
        lines.push(format!(" {marker} {:<22}{badge:>5}", name(&channel)));
    }
    let Some(channel) = state.channel(SELECTED) else {
        return lines;
    };
    lines.push(format!(
        "#{}: {} messages, {} members, {} watching",
        channel.channel.id,
        channel.messages.len(),
        channel.members.len(),
        channel.watcher_count
    ));
    let me = state.me.as_ref().map(|u| u.id.as_str()).unwrap_or_default();
    let seen = seen_by(channel, me);
    for item in channel.messages.iter() {
        let m = &item.message;
        let author = m.user.as_ref().map_or("?", |u| u.name());
        let text = if m.kind.as_deref() == Some("deleted") {
            "(deleted)".to_owned()
        } else {
            m.text().to_owned()
        };
        let mut line = format!("   {author:<8}{text}");
        if m.extra.contains_key("message_text_updated_at") {
            line.push_str("  (edited)");
        }
        for (kind, count) in m.reaction_counts.iter().flatten() {
            line.push_str(&format!("  [{kind} {count}]"));
        }
        match item.status {
            SyncStatus::Pending => line.push_str("  (sending)"),
            SyncStatus::Failed => line.push_str("  (failed)"),
            _ => {}
        }
        lines.push(line);
        for reader in seen.iter().filter(|(id, _)| id == &m.id) {
            lines.push(format!("           seen by {}", reader.1));
        }
    }
    let typing: Vec<&str> = channel.typing_users().iter().map(|u| u.name()).collect();
    if !typing.is_empty() {
        lines.push(format!("   {} typing...", typing.join(", ")));
    }
    lines
}

/// The channel's name, or its id.
fn name(channel: &ChannelState) -> &str {
    channel
        .channel
        .extra
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or(&channel.channel.id)
}

/// Read receipts: for each other member's read, the newest of my messages they read
/// (message id, reader's name).
fn seen_by(channel: &ChannelState, me: &str) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    for (reader, read) in channel.reads.iter() {
        if reader == me {
            continue;
        }
        let Some(read_at) = parse_rfc3339(&read.last_read) else {
            continue;
        };
        let newest_read_of_mine = channel.messages.iter().rev().find(|item| {
            item.message.user_id_or_empty() == me
                && item.status == SyncStatus::Synced
                && item
                    .message
                    .created_at
                    .as_deref()
                    .and_then(parse_rfc3339)
                    .is_some_and(|t| t <= read_at)
        });
        if let Some(item) = newest_read_of_mine {
            seen.push((item.message.id.clone(), read.user.name().to_owned()));
        }
    }
    seen
}

/// Draws a frame: in place on a terminal, else as lines tagged with the frame number.
fn draw(tty: bool, frame: u64, lines: &[String]) {
    let mut out = std::io::stdout().lock();
    if tty {
        // Cursor home; each line then "clear to end of line"; then clear below.
        let _ = write!(out, "\x1b[H");
        for (i, line) in lines.iter().enumerate() {
            let styled = match i {
                0 => format!("\x1b[1m{line}\x1b[0m"),
                _ if line.starts_with(" >") => format!("\x1b[7m{line}\x1b[0m"),
                _ if line.starts_with('#') => format!("\x1b[1m{line}\x1b[0m"),
                _ => line.clone(),
            };
            let _ = writeln!(out, "{styled}\x1b[K");
        }
        let _ = write!(out, "\x1b[J");
    } else {
        for line in lines {
            let _ = writeln!(out, "frame {frame:4}: {line}");
        }
    }
    let _ = out.flush();
}

/// The alternate screen while alive; the normal screen and the cursor back when dropped
/// (and on Ctrl-C, on unix).
struct Terminal;

const ENTER: &str = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
const LEAVE: &str = "\x1b[?25h\x1b[?1049l";

impl Terminal {
    fn enter() -> Terminal {
        print!("{ENTER}");
        let _ = std::io::stdout().flush();
        #[cfg(unix)]
        restore_on_interrupt();
        Terminal
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        print!("{LEAVE}");
        let _ = std::io::stdout().flush();
    }
}

/// Ctrl-C: leave the alternate screen, show the cursor and exit (130, as shells report
/// SIGINT). `write` and `_exit` are async-signal-safe; nothing else runs in the handler.
#[cfg(unix)]
fn restore_on_interrupt() {
    extern "C" fn on_interrupt(_: libc::c_int) {
        // SAFETY: writes a static buffer to fd 1 and exits; both are async-signal-safe.
        unsafe {
            libc::write(1, LEAVE.as_ptr().cast(), LEAVE.len());
            libc::_exit(130);
        }
    }
    let handler: extern "C" fn(libc::c_int) = on_interrupt;
    // SAFETY: installs a handler that only calls async-signal-safe functions.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
}

/// Fry's side, on its own thread with its own client (blocking calls: it is a script, not
/// a UI). Seeds the channels, waits for the app's go, then chats.
fn fry_script(
    (api_key, base_url, token): (String, String, String),
    pace: Duration,
    report: &Sender<Script>,
    go: &Receiver<String>,
) -> Result<(), String> {
    let step = |what: &str| {
        let _ = report.send(Script::Step(format!("fry: {what}")));
        thread::sleep(pace);
    };
    let fry = ChatClient::builder(&api_key)
        .base_url(base_url)
        .build()
        .map_err(|e| e.to_string())?;
    fry.connect_user(User::new("fry").with_name("Fry"), token)
        .execute()
        .into_result()
        .map_err(|e| format!("connect: {e}"))?;
    let mut channels: Vec<ChannelClient> = Vec::new();
    for (id, name) in CHANNELS {
        let channel = fry.channel("messaging", id).map_err(|e| e.to_string())?;
        let mut data = Map::new();
        data.insert("name".into(), json!(name));
        channel
            .create_with_data(["bender", "fry"], data)
            .execute()
            .into_result()
            .map_err(|e| format!("create {id}: {e}"))?;
        send(&channel, &format!("Welcome to {name}"))?;
        channels.push(channel);
    }
    let _ = report.send(Script::Seeded);
    let benders = match go.recv_timeout(STEP_TIMEOUT) {
        Ok(id) => id,
        Err(RecvTimeoutError::Timeout) => return Err("the app did not start in 10 s".into()),
        Err(RecvTimeoutError::Disconnected) => return Ok(()), // the app gave up
    };
    let [express, delivery, slurm] = &channels[..] else {
        return Err("three channels".into());
    };

    step("reacts to bender's message");
    let reaction = Reaction {
        message_id: benders,
        ..Reaction::new("love")
    };
    express
        .send_reaction(reaction, false)
        .execute()
        .into_result()
        .map_err(|e| format!("react: {e}"))?;
    step("marks Planet Express read");
    express
        .mark_read()
        .execute()
        .into_result()
        .map_err(|e| format!("mark_read: {e}"))?;
    step("types in Planet Express");
    express
        .keystroke(None)
        .execute()
        .into_result()
        .map_err(|e| format!("typing: {e}"))?;
    step("still typing");
    express
        .stop_typing(None)
        .execute()
        .into_result()
        .map_err(|e| format!("typing: {e}"))?;
    let pizza = send(express, "Pizza is here")?;
    step("sends to Slurm");
    send(slurm, "Slurm Queen wants to see you")?;
    step("edits the pizza message");
    express
        .update_message(Message {
            text: Some("Pizza is here, two of them".into()),
            ..pizza.clone()
        })
        .execute()
        .into_result()
        .map_err(|e| format!("edit: {e}"))?;
    step("posts to the wrong channel");
    let oops = send(express, "Wrong channel, sorry")?;
    step("deletes it");
    express
        .delete_message(&oops.id, false)
        .execute()
        .into_result()
        .map_err(|e| format!("delete: {e}"))?;
    step("sends to Delivery");
    send(delivery, "Package for Omicron Persei 8")?;
    step("sends to Delivery again");
    send(delivery, "The Hypnotoad is coming too")?;
    let _ = report.send(Script::Done(oops.id));
    Ok(())
}

fn send(channel: &ChannelClient, text: &str) -> Result<Message, String> {
    channel
        .send_message(Message::with_text(text))
        .execute()
        .into_result()
        .map_err(|e| format!("send to {}: {e}", channel.cid()))
}
