//! The webhook queue: every event the chat emits (to a channel's watchers or to a user) is
//! offered here once, under the world's lock, so the queue holds events in the order they
//! happened. The delivery task (`webhooks.rs`) takes them out one at a time.
//!
//! Offering never waits: the queue is bounded, and an event that finds it full is counted
//! ([`HookQueue::dropped`], reported by `/emulator/usage`) and dropped, so a slow or dead
//! receiver never slows chat traffic. An event sent to several users' connections (the
//! same frame) is offered once. Typing and health events are not delivered, as on Stream.

use std::collections::VecDeque;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use serde::Deserialize;
use stream_chat_protocol::events::types;
use tokio::sync::mpsc;

use super::World;
use super::connections::Frame;
use crate::config::WEBHOOK_DEDUP_WINDOW;

/// Event types never delivered to webhooks.
const NOT_DELIVERED: [&str; 3] = [types::TYPING_START, types::TYPING_STOP, types::HEALTH_CHECK];

/// Where emitted events wait for webhook delivery.
pub(crate) struct HookQueue {
    /// `None` when no webhook URL is configured.
    tx: Option<mpsc::Sender<Bytes>>,
    /// Hashes of the latest frames offered, to offer a frame shared by recipients once.
    recent: Mutex<VecDeque<u64>>,
    dropped: AtomicU64,
}

/// Just the `type` of an event.
#[derive(Deserialize)]
struct Kind<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
}

impl HookQueue {
    /// No webhooks: offering does nothing.
    pub(crate) fn disabled() -> Self {
        HookQueue {
            tx: None,
            recent: Mutex::new(VecDeque::new()),
            dropped: AtomicU64::new(0),
        }
    }

    /// A queue of `capacity` events and the receiving end for the delivery task.
    pub(crate) fn bounded(capacity: usize) -> (Self, mpsc::Receiver<Bytes>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (
            HookQueue {
                tx: Some(tx),
                ..HookQueue::disabled()
            },
            rx,
        )
    }

    /// Events dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Offers an emitted event's frame (see the module documentation).
    pub(crate) fn offer(&self, frame: &Frame) {
        let Some(tx) = &self.tx else {
            return;
        };
        let bytes = frame.clone().into_bytes();
        match serde_json::from_slice::<Kind<'_>>(&bytes) {
            Ok(k) if !NOT_DELIVERED.contains(&k.kind.as_ref()) => {}
            _ => return,
        }
        let mut hasher = DefaultHasher::new();
        bytes.hash(&mut hasher);
        let hash = hasher.finish();
        {
            let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
            if recent.contains(&hash) {
                return;
            }
            if recent.len() == WEBHOOK_DEDUP_WINDOW {
                recent.pop_front();
            }
            recent.push_back(hash);
        }
        if tx.try_send(bytes).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::warn!(dropped, "the webhook queue is full: an event was dropped");
        }
    }
}

/// A new delivery id (`X-Webhook-Id`).
pub(crate) fn hook_id() -> String {
    super::random_id()
}

impl World {
    /// Offers `event` to the webhook queue only (events no socket receives, such as
    /// `user.deactivated`).
    pub(crate) fn hook_only(&self, event: &impl serde::Serialize) {
        if let Some(frame) = Frame::of(event) {
            self.hooks.offer(&frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(json: &str) -> Frame {
        Frame::of(&serde_json::from_str::<serde_json::Value>(json).unwrap()).unwrap()
    }

    #[test]
    fn each_event_once_no_typing_and_overflow_is_counted() {
        let (queue, mut rx) = HookQueue::bounded(2);
        let new = frame(r#"{"type":"message.new","created_at":"1"}"#);
        queue.offer(&new);
        queue.offer(&new); // the same frame to a second user
        queue.offer(&frame(r#"{"type":"typing.start","created_at":"2"}"#));
        queue.offer(&frame(r#"{"type":"message.read","created_at":"3"}"#));
        queue.offer(&frame(r#"{"type":"message.read","created_at":"4"}"#));
        assert_eq!(queue.dropped(), 1);
        let text = |b: Bytes| String::from_utf8(b.to_vec()).unwrap();
        assert!(text(rx.try_recv().unwrap()).contains("message.new"));
        assert!(text(rx.try_recv().unwrap()).contains(r#""3""#));
        assert!(rx.try_recv().is_err());
        HookQueue::disabled().offer(&new);
    }
}
