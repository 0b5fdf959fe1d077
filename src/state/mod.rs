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
//! Not in this version (see `docs/state-and-offline.md`): the offline SQLite store and
//! `restore_user`.

mod channel;
mod client;
mod list;
mod observe;
mod store;

pub use channel::{ChannelState, TYPING_TIMEOUT, Typing};
pub use client::{ClientState, QueryChannelsState};
pub use list::{MessageItem, MessageList, SyncStatus};
pub use observe::Observation;
pub(crate) use observe::{Snapshot, local};
pub(crate) use store::Store;

#[cfg(test)]
mod tests;
