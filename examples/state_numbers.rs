//! Measures the state store (printed, not asserted): its memory per 1,000 messages, the
//! cost of a new snapshot while an older one is held, and the time to apply 10,000 events.
//! Runs the store's reducer (`state::Reducer`) on made-up events, no network.
//!
//! `cargo run --release --example state_numbers` for representative times (CI runs it in
//! debug through `scripts/check-examples.sh`, so its times there are debug times).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use stream_chat_client::state::{ChannelState, Reducer};
use stream_chat_client::{ChatEvent, Event, Message, User};

/// Counts the bytes live on the heap.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY-free: delegates to the system allocator and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CID: &str = "messaging:numbers";

fn message_new(n: usize) -> ChatEvent {
    let mut frame = Event::new("message.new");
    frame.cid = Some(CID.into());
    let author = if n.is_multiple_of(2) { "fry" } else { "leela" };
    frame.user = Some(User::new(author));
    // A typical chat line: ~60 characters, an author, timestamps.
    let at = format!(
        "2024-01-01T{:02}:{:02}:{:02}.{:06}Z",
        n / 3600 % 24,
        n / 60 % 60,
        n % 60,
        n
    );
    frame.message = Some(Message {
        id: format!("{n:08x}-6f1c-4a8e-9d1b-5c0a2e7b3f40"),
        user: Some(User::new(author).with_name(author)),
        created_at: Some(at.clone()),
        updated_at: Some(at),
        kind: Some("regular".into()),
        ..Message::with_text(format!(
            "message number {n}: good news, everyone, the delivery is late"
        ))
    });
    ChatEvent::from(frame)
}

fn fresh() -> Reducer {
    let reducer = Reducer::new();
    reducer.apply(&ChatEvent::HealthCheck {
        connection_id: "c".into(),
        created_at: None,
        me: Some(Box::new(User::new("bender"))),
    });
    let response = serde_json::from_value(serde_json::json!({
        "channel": {"id": "numbers", "type": "messaging", "cid": CID},
        "members": [{"user_id": "bender"}, {"user_id": "fry"}, {"user_id": "leela"}],
        "read": [
            {"user": {"id": "bender"}, "last_read": "2024-01-01T00:00:00Z", "unread_messages": 0},
            {"user": {"id": "fry"}, "last_read": "2024-01-01T00:00:00Z", "unread_messages": 0},
            {"user": {"id": "leela"}, "last_read": "2024-01-01T00:00:00Z", "unread_messages": 0}
        ]
    }))
    .expect("a channel response");
    reducer.load(&response);
    reducer
}

fn channel(reducer: &Reducer) -> Arc<ChannelState> {
    Arc::clone(reducer.state().channel(CID).expect("the channel"))
}

fn main() {
    const N: usize = 10_000;
    let events: Vec<ChatEvent> = (0..N).map(message_new).collect();

    // Memory: the store's heap growth over 10,000 messages (the events themselves are
    // counted apart: they were allocated before).
    let reducer = fresh();
    let before = LIVE.load(Ordering::Relaxed);
    for e in &events {
        reducer.apply(e);
    }
    let grown = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    let state = channel(&reducer);
    assert_eq!(state.messages.len(), N);
    println!(
        "store memory: {} KiB per 1,000 messages ({} messages, {} KiB in all; inline, before \
         its strings, a Message is {} bytes and its author's User {} bytes)",
        grown / (N / 1000) / 1024,
        N,
        grown / 1024,
        std::mem::size_of::<Message>(),
        std::mem::size_of::<User>(),
    );

    // One more message while a snapshot of the 10,000 is held: the copy is one chunk and
    // the chunk table, not the list.
    let held = channel(&reducer);
    let before = LIVE.load(Ordering::Relaxed);
    reducer.apply(&message_new(N));
    let cost = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    println!(
        "a new snapshot while one of {} messages is held: {} bytes more",
        held.messages.len(),
        cost
    );
    drop(held);

    // Time: 10,000 events applied, with no snapshot held, then with a snapshot taken after
    // every event (as an observer that renders each change would).
    let reducer = fresh();
    let start = Instant::now();
    for e in &events {
        reducer.apply(e);
    }
    let plain = start.elapsed();
    let reducer = fresh();
    let start = Instant::now();
    let mut last = None;
    for e in &events {
        reducer.apply(e);
        last = Some(reducer.state());
    }
    let observed = start.elapsed();
    drop(last);
    println!(
        "10,000 message.new events applied in {plain:.2?} ({:.2?} per event)",
        plain / N as u32
    );
    println!(
        "the same with a snapshot taken after each: {observed:.2?} ({:.2?} per event)",
        observed / N as u32
    );
    println!(
        "unread count after them: {}",
        channel(&reducer).unread_count
    );
}
