//! The Rust SDK's side of the peer bench. It runs in a child process (the bench binary
//! started again with `--worker`), so that the RSS and thread counts it reports are the
//! SDK's alone, as the JS side's are Node's alone; the server stays in the parent.
//! `js/peer.mjs` runs the same steps with the official JS client.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use serde_json::{Value, json};
use stream_chat_client::jwt;
use stream_chat_client::{
    ChannelClient, ChatClient, Message, NewMessageEvent, User, UserStartWatchingEvent,
};

use crate::common::{
    MARK_WATCHED, PHASE_BUDGET, TEXT, WARMUP, WINDOW, ms, ms_between, proc_status,
};

/// Where the server is and how to sign tokens for it.
pub struct Target {
    pub base_url: String,
    pub api_key: String,
    pub api_secret: String,
}

impl Target {
    fn client(&self) -> Result<ChatClient, String> {
        ChatClient::builder(&self.api_key)
            .base_url(&self.base_url)
            .connect_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("build a client: {e}"))
    }

    fn token(&self, user_id: &str) -> String {
        jwt::user_token(self.api_secret.as_bytes(), user_id, None)
    }

    fn connected(&self, user_id: &str) -> Result<ChatClient, String> {
        let client = self.client()?;
        client
            .connect_user(User::new(user_id), self.token(user_id))
            .execute()
            .into_result()
            .map_err(|e| format!("connect {user_id}: {e}"))?;
        Ok(client)
    }
}

fn watch(channel: &ChannelClient) -> Result<(), String> {
    channel
        .watch()
        .execute()
        .into_result()
        .map(drop)
        .map_err(|e| format!("watch {}: {e}", channel.cid()))
}

fn message(id: String) -> Message {
    let mut message = Message::with_text(TEXT);
    message.id = id;
    message
}

/// Waits for `id` on a listener's channel of `(message id, when the listener ran)`.
fn arrival(rx: &Receiver<(String, Instant)>, id: &str) -> Result<Instant, String> {
    let deadline = Instant::now() + PHASE_BUDGET;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((got, at)) if got == id => return Ok(at),
            Ok(_) => {}
            Err(_) => return Err(format!("no message.new for {id} within {PHASE_BUDGET:?}")),
        }
    }
}

/// Workloads (a) and (b): `connects` sequential connects of fresh clients, then
/// `round_trips` posts by one client, each received by a second one.
pub fn latency(
    target: &Target,
    prefix: &str,
    connects: usize,
    round_trips: usize,
) -> Result<Value, String> {
    let mut connect_ms = Vec::with_capacity(connects);
    let wall = Instant::now();
    for i in 0..connects {
        let id = format!("{prefix}c{i}");
        let client = target.client()?;
        let token = target.token(&id);
        let started = Instant::now();
        client
            .connect_user(User::new(&id), token)
            .execute()
            .into_result()
            .map_err(|e| format!("connect {id}: {e}"))?;
        connect_ms.push(ms(started.elapsed()));
        client
            .disconnect()
            .execute()
            .into_result()
            .map_err(|e| format!("disconnect {id}: {e}"))?;
        client.shutdown();
    }
    let connect_total_ms = ms(wall.elapsed());
    eprintln!("  rust: {connects} connects in {connect_total_ms:.0} ms");

    let sender = target.connected(&format!("{prefix}a"))?;
    let receiver = target.connected(&format!("{prefix}b"))?;
    let channel_id = format!("{prefix}rtt");
    let from = sender
        .channel("livestream", &channel_id)
        .map_err(|e| e.to_string())?;
    let to = receiver
        .channel("livestream", &channel_id)
        .map_err(|e| e.to_string())?;
    watch(&from)?;
    watch(&to)?;
    let listen = |channel: &ChannelClient| {
        let (tx, rx): (Sender<(String, Instant)>, _) = crossbeam_channel::unbounded();
        let subscription = channel.subscribe_for_type::<NewMessageEvent>(move |e| {
            let _ = tx.send((e.message.id.clone(), Instant::now()));
        });
        (subscription, rx)
    };
    let (_own_sub, own_rx) = listen(&from);
    let (_peer_sub, peer_rx) = listen(&to);

    let (mut rtt_ms, mut http_ms, mut peer_first, mut own_first) = (Vec::new(), Vec::new(), 0, 0);
    for i in 0..WARMUP + round_trips {
        let id = format!("{prefix}m{i}");
        let started = Instant::now();
        from.send_message(message(id.clone()))
            .execute()
            .into_result()
            .map_err(|e| format!("send {id}: {e}"))?;
        let answered = Instant::now();
        let peer_at = arrival(&peer_rx, &id)?;
        let own_at = arrival(&own_rx, &id)?;
        if i >= WARMUP {
            rtt_ms.push(ms_between(started, peer_at));
            http_ms.push(ms_between(started, answered));
            peer_first += usize::from(peer_at < answered);
            own_first += usize::from(own_at < answered);
        }
    }
    Ok(json!({
        "connect_ms": connect_ms,
        "connect_total_ms": connect_total_ms,
        "rtt_ms": rtt_ms,
        "http_ms": http_ms,
        "peer_event_first": peer_first,
        "own_event_first": own_first,
    }))
}

/// Starts `total` operations with at most `WINDOW` in flight; each reports on `done`.
fn windowed(
    total: usize,
    what: &str,
    start: impl Fn(usize, Sender<Result<(), String>>),
) -> Result<(), String> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let deadline = Instant::now() + PHASE_BUDGET;
    let (mut next, mut done) = (0, 0);
    while done < total {
        while next < total && next - done < WINDOW {
            start(next, tx.clone());
            next += 1;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Ok(())) => done += 1,
            Ok(Err(e)) => return Err(format!("{what}: {e}")),
            Err(_) => {
                return Err(format!(
                    "{what}: {done} of {total} done within {PHASE_BUDGET:?}"
                ));
            }
        }
    }
    Ok(())
}

/// What the fleet's listeners record.
struct Arrivals {
    clients: usize,
    /// Message ids are `{prefix}f{n}`; this is `{prefix}f`.
    id_prefix: String,
    /// Per message number: receivers so far.
    received: Vec<AtomicUsize>,
    /// Every (message number, when a listener ran).
    at: Mutex<Vec<(usize, Instant)>>,
    /// Message numbers whose last receiver just got them, and when.
    complete: Sender<(usize, Instant)>,
    watching_frames: AtomicUsize,
}

impl Arrivals {
    fn on_message(&self, id: &str) {
        let now = Instant::now();
        let Some(n) = id
            .strip_prefix(&self.id_prefix)
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return;
        };
        let Some(count) = self.received.get(n) else {
            return;
        };
        self.at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((n, now));
        if count.fetch_add(1, Ordering::AcqRel) + 1 == self.clients {
            let _ = self.complete.send((n, now));
        }
    }
}

/// Workload (c): `k` clients in this process connect, watch one livestream channel, and
/// receive `messages` posts from one more client (message 0 is the barrier that says every
/// earlier frame has arrived: the server keeps each socket's frames in order).
pub fn fleet(target: &Target, prefix: &str, k: usize, messages: usize) -> Result<Value, String> {
    let channel_id = format!("{prefix}fleet");
    let poster = target.connected(&format!("{prefix}poster"))?;
    let stage = poster
        .channel("livestream", &channel_id)
        .map_err(|e| e.to_string())?;
    watch(&stage)?;
    let (complete_tx, complete_rx) = crossbeam_channel::unbounded();
    let arrivals = Arc::new(Arrivals {
        clients: k,
        id_prefix: format!("{prefix}f"),
        received: (0..=messages).map(|_| AtomicUsize::new(0)).collect(),
        at: Mutex::new(Vec::with_capacity(k * (messages + 1))),
        complete: complete_tx,
        watching_frames: AtomicUsize::new(0),
    });
    let (rss_base_kib, threads_base) = proc_status();

    let started = Instant::now();
    let clients = (0..k)
        .map(|_| target.client())
        .collect::<Result<Vec<_>, _>>()?;
    windowed(k, "connect", |i, done| {
        let id = format!("{prefix}w{i}");
        clients[i]
            .connect_user(User::new(&id), target.token(&id))
            .enqueue(move |r| {
                let _ = done.send(r.into_result().map(drop).map_err(|e| format!("{id}: {e}")));
            });
    })?;
    let connect_all_ms = ms(started.elapsed());
    eprintln!("  rust: {k} connected in {connect_all_ms:.0} ms");

    let mut channels = Vec::with_capacity(k);
    let mut subscriptions = Vec::with_capacity(2 * k);
    for client in &clients {
        let channel = client
            .channel("livestream", &channel_id)
            .map_err(|e| e.to_string())?;
        let mine = Arc::clone(&arrivals);
        subscriptions.push(
            channel.subscribe_for_type::<NewMessageEvent>(move |e| mine.on_message(&e.message.id)),
        );
        let mine = Arc::clone(&arrivals);
        subscriptions.push(
            channel.subscribe_for_type::<UserStartWatchingEvent>(move |_| {
                mine.watching_frames.fetch_add(1, Ordering::Relaxed);
            }),
        );
        channels.push(channel);
    }
    let watch_started = Instant::now();
    windowed(k, "watch", |i, done| {
        channels[i].watch().enqueue(move |r| {
            let _ = done.send(r.into_result().map(drop).map_err(|e| e.to_string()));
        });
    })?;
    let watch_responses_ms = ms(watch_started.elapsed());
    let post = |n: usize| -> Result<(Instant, Instant), String> {
        let posted = Instant::now();
        stage
            .send_message(message(format!("{prefix}f{n}")))
            .execute()
            .into_result()
            .map_err(|e| format!("post {n}: {e}"))?;
        let (got, at) = complete_rx
            .recv_timeout(PHASE_BUDGET)
            .map_err(|_| format!("message {n} did not reach all {k} within {PHASE_BUDGET:?}"))?;
        if got != n {
            return Err(format!("message {got} completed while waiting for {n}"));
        }
        Ok((posted, at))
    };
    post(0)?;
    let watch_all_ms = ms(watch_started.elapsed());
    let (rss_watched_kib, threads_watched) = proc_status();
    dump_smaps(prefix)?;
    println!("{MARK_WATCHED}");
    eprintln!("  rust: {k} watching after {watch_all_ms:.0} ms");

    let mut posted_at = vec![started; messages + 1];
    let mut to_all_ms = Vec::with_capacity(messages);
    for (n, slot) in posted_at.iter_mut().enumerate().skip(1) {
        let (posted, all) = post(n)?;
        *slot = posted;
        to_all_ms.push(ms_between(posted, all));
    }
    let fanout_ms: Vec<f64> = arrivals
        .at
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|&(n, at)| ms_between(posted_at[n], at))
        .collect();
    Ok(json!({
        "k": k,
        "connect_all_ms": connect_all_ms,
        "watch_responses_ms": watch_responses_ms,
        "watch_all_ms": watch_all_ms,
        "rss_base_kib": rss_base_kib,
        "rss_watched_kib": rss_watched_kib,
        "threads_base": threads_base,
        "threads_watched": threads_watched,
        "watching_frames": arrivals.watching_frames.load(Ordering::Relaxed),
        "fanout_ms": fanout_ms,
        "to_all_ms": to_all_ms,
    }))
}

/// With `PEER_DUMP_SMAPS=<folder>`, copies this process's memory map (`/proc/self/smaps`) to
/// `<folder>/<prefix>.smaps` at the moment the fleet's RSS is measured: where the bytes per
/// client go.
fn dump_smaps(prefix: &str) -> Result<(), String> {
    let Some(dir) = std::env::var_os("PEER_DUMP_SMAPS") else {
        return Ok(());
    };
    let path = std::path::Path::new(&dir).join(format!("{prefix}.smaps"));
    let smaps = std::fs::read("/proc/self/smaps").map_err(|e| format!("smaps: {e}"))?;
    std::fs::write(&path, smaps).map_err(|e| format!("{}: {e}", path.display()))
}
