//! The state store for GUI apps (Android's state plugin, the JS client's `channel.state`):
//! every channel the client watched or queried, as a [`ChannelState`], and the client's
//! [`ClientState`] (the current user, mutes, unread totals, connection state and the channel
//! list of each `query_channels` query), kept up to date by the same ordered event stream
//! the listeners get (recovered messages after a reconnect included) and by the responses
//! of `watch`, `query`, `create`, `query_channels`, `send_message`, `update_message` and
//! `delete_message`. Never by polling.
//!
//! Read it with [`ChatClient::state`](crate::ChatClient::state) and
//! [`ChannelClient::state`](crate::ChannelClient::state): immutable snapshots behind an
//! `Arc`, so reading costs one reference count and never blocks the event thread. Or
//! [`ChatClient::observe`](crate::ChatClient::observe) them: each change delivers a new
//! snapshot on the client's callback executor, coalesced (see [`Observation`]).
//!
//! Snapshots share structure: every collection sits behind its own `Arc` and the writer
//! changes it with `Arc::make_mut`, which copies only what a snapshot still holds. The
//! message list is chunked ([`MessageList`]) so a new message copies one chunk of 64
//! pointers and the chunk table, not the channel's 10,000 messages. We chose this over the
//! `im`/`rpds` crates: two `Arc` layers give the same sharing for the operations a chat
//! needs (append, edit or delete near the end, truncate), with no dependency, and
//! readers get plain slices-of-`Arc` iteration.
//!
//! With the cargo feature `offline`, the store is also kept in SQLite
//! (`ChatClientBuilder::offline`, `src/offline/`): see
//! `docs/state-and-offline.md`.

mod channel;
mod client;
mod list;
mod observe;
mod shared;
mod store;

pub use channel::{ChannelState, TYPING_TIMEOUT, Typing};
pub use client::{ClientState, QueryChannelsState};
pub use list::{MessageItem, MessageList, SyncStatus};
pub use observe::Observation;
pub(crate) use observe::{Snapshot, local};
#[cfg(feature = "offline")]
pub(crate) use store::{CachedChannel, PublishHook};
pub(crate) use store::{Store, Unmuted};

use std::sync::Arc;

use stream_chat_callbacks::Executor;
use stream_chat_protocol::{ChannelState as ChannelResponse, QueryChannelsRequest};

use crate::events::ChatEvent;

/// The store's reducer without a client: feed it events and responses, read the
/// [`ClientState`]. For testing how an app renders recorded or made-up events, and for
/// measuring the store (`examples/state_numbers.rs`). A client's own store is fed for you.
///
/// ```
/// use stream_chat_client::{ChatEvent, Event, Message, User};
/// use stream_chat_client::state::Reducer;
/// let reducer = Reducer::new();
/// reducer.apply(&ChatEvent::HealthCheck {
///     connection_id: "c".into(), created_at: None, me: Some(Box::new(User::new("bender"))),
/// });
/// let response = serde_json::from_value(serde_json::json!({
///     "channel": {"id": "pe", "type": "messaging", "cid": "messaging:pe"}
/// })).unwrap();
/// reducer.load(&response);
/// let mut frame = Event::new("message.new");
/// frame.cid = Some("messaging:pe".into());
/// frame.user = Some(User::new("fry"));
/// frame.message = Some(Message { id: "m1".into(), user: Some(User::new("fry")), ..Message::with_text("hi") });
/// reducer.apply(&ChatEvent::from(frame));
/// let state = reducer.state();
/// let channel = state.channel("messaging:pe").unwrap();
/// assert_eq!(channel.messages.len(), 1);
/// assert_eq!(channel.unread_count, 1);
/// ```
pub struct Reducer {
    store: Arc<Store>,
}

impl Default for Reducer {
    fn default() -> Self {
        Reducer::new()
    }
}

impl std::fmt::Debug for Reducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reducer").finish_non_exhaustive()
    }
}

impl Reducer {
    /// An empty store.
    pub fn new() -> Self {
        Reducer {
            store: Arc::new(Store::new(Executor::pool_thread())),
        }
    }

    /// Applies an event as the client's store does when the bus delivers it.
    pub fn apply(&self, event: &ChatEvent) {
        self.store.apply(event);
    }

    /// Applies a watch/query response for one channel.
    pub fn load(&self, response: &ChannelResponse) {
        self.store.loaded(response);
    }

    /// Applies a `query_channels` response.
    pub fn load_query(&self, request: &QueryChannelsRequest, channels: &[ChannelResponse]) {
        self.store.queried(request, channels);
    }

    /// The current state.
    pub fn state(&self) -> Arc<ClientState> {
        self.store.snapshot()
    }
}

impl Drop for Reducer {
    fn drop(&mut self) {
        self.store.shutdown();
    }
}

#[cfg(test)]
mod tests;
