//! The chat domain: users, channels, members, messages, reads, permissions, who watches
//! what and who receives which event. No HTTP and no axum here: `routes/` and `ws.rs`
//! extract a request, call a [`Chat`] operation and render its answer.
//!
//! [`Chat`] is the handle: one lock over the [`World`] (the [`store::Store`] that keeps the
//! chat state, the [`connections::Connections`] that are open, a clock), held for short
//! synchronous sections only (never across `.await`, never while writing to a socket:
//! events are queued on bounded per-connection queues). One lock makes each operation
//! atomic and its events ordered like its writes.
//!
//! Each API area is an `impl Chat` block in a file of its own (`channels.rs`, `messages.rs`,
//! `reads.rs`, `events.rs`, `users.rs`, `sessions.rs`, `usage.rs`, `reactions.rs`,
//! `threads.rs`, `pins.rs`, `search.rs`); `message_view.rs` shows a stored message to a
//! viewer, `cursor.rs` pages by opaque cursors. Below them, `fanout.rs`
//! decides who receives which event, `caller.rs` who is asking, `permissions.rs` what they
//! may do, `filter.rs` what a query filter matches; at the bottom `store/` keeps the state
//! and `connections.rs` the open sockets. Imports only run downwards, and nothing here
//! imports `routes/`, `ws.rs` or axum.

pub(crate) mod caller;
pub(crate) mod channels;
pub(crate) mod connections;
mod events;
mod fanout;
pub(crate) mod filter;
mod messages;
pub(crate) mod permissions;
mod reads;
pub(crate) mod sessions;
mod store;
pub(crate) mod usage;
mod users;
// Channel administration, members, read state, moderation, presence, user updates.
mod admin;
mod bans;
mod devices;
mod flags;
mod members;
mod moderation;
mod presence;
#[cfg(test)]
mod read_model;
#[cfg(test)]
mod test_room;
// Reactions, threads, typing, pins, search (messages surface).
mod cursor;
mod message_rules;
pub(crate) mod message_view;
mod pins;
mod reactions;
mod search;
pub(crate) mod threads;
// Uploads, the server-side client and webhooks.
pub(crate) mod hooks;
mod server_side;
pub(crate) mod uploads;
// Teams under --multi-tenant (issue 15).
mod teams;
// Seed and snapshot, the dashboard (issue 13).
pub(crate) mod dashboard;
pub(crate) mod snapshot;

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use stream_chat_protocol::{ChannelEvent, time};

use crate::config::Config;
use crate::error::ApiResult;
use caller::{Actor, Caller};
use connections::Connections;
use hooks::HookQueue;
use store::files::{DirFiles, FileStore, MemoryFiles};
use store::{MemoryStore, SqliteStore, Store};

/// The folder of `--data-dir` uploaded files are kept in.
pub(crate) const UPLOADS_DIR: &str = "uploads";

pub(crate) use store::sqlite::seed as seed_store;

/// The chat domain's handle, shared by every request and connection task.
pub(crate) struct Chat {
    world: Mutex<World>,
    /// Bumped after every change of a [`usage::Counters`] figure.
    counters_changed: Signal,
    /// Frames queued for one connection before it counts as too slow.
    max_queued_frames: usize,
    /// Teams on: guest users are refused.
    multi_tenant: bool,
    /// Uploaded files, streamed outside the world's lock.
    files: Box<dyn FileStore>,
    /// The webhook queue's receiving end, until the delivery task takes it.
    hook_rx: Mutex<Option<tokio::sync::mpsc::Receiver<bytes::Bytes>>>,
    /// Background tasks (batch user deletion), by id.
    tasks: Mutex<std::collections::HashMap<String, stream_chat_protocol::TaskStatus>>,
}

/// Everything behind the lock.
pub(crate) struct World {
    store: Box<dyn Store>,
    conns: Connections,
    /// The last timestamp handed out, in nanoseconds.
    last_nanos: i128,
    /// When each user last posted in each channel (`(cid, user id)` to Unix nanoseconds),
    /// for slow mode. Live state: a cooldown lasts seconds, a restart may forget it.
    last_posts: std::collections::HashMap<(String, String), i128>,
    /// Events waiting for webhook delivery.
    hooks: HookQueue,
    /// Largest custom data of a user, channel or message, in bytes (issue 15).
    max_custom_data: usize,
    /// Teams on (issue 15): members must belong to their channel's team.
    multi_tenant: bool,
}

impl Chat {
    /// An empty chat kept in memory.
    pub(crate) fn new(config: &Config) -> Chat {
        Chat::with_store(config, Box::new(MemoryStore::default()))
    }

    /// The chat of `config`: kept in `DATA_DIR/chat.sqlite3` with a data directory (which
    /// is locked for this chat's life), in memory without. An error names the file: the
    /// directory is in use by another server, or the database is corrupt or newer.
    pub(crate) fn open(config: &Config) -> std::io::Result<Chat> {
        let store: Box<dyn Store> = match &config.data_dir {
            Some(dir) => Box::new(SqliteStore::open(dir)?),
            None => Box::new(MemoryStore::default()),
        };
        Ok(Chat::with_store(config, store))
    }

    fn with_store(config: &Config, store: Box<dyn Store>) -> Chat {
        let files: Box<dyn FileStore> = match &config.data_dir {
            Some(dir) => Box::new(DirFiles::new(dir.join(UPLOADS_DIR))),
            None => Box::new(MemoryFiles::default()),
        };
        let (hooks, hook_rx) = match &config.webhook_url {
            Some(_) => {
                let (queue, rx) = HookQueue::bounded(crate::config::WEBHOOK_QUEUE_CAPACITY);
                (queue, Some(rx))
            }
            None => (HookQueue::disabled(), None),
        };
        Chat {
            world: Mutex::new(World {
                store,
                conns: Connections::default(),
                last_nanos: 0,
                last_posts: Default::default(),
                hooks,
                max_custom_data: config.max_custom_data,
                multi_tenant: config.multi_tenant,
            }),
            counters_changed: Signal::default(),
            max_queued_frames: config.max_queued_frames,
            multi_tenant: config.multi_tenant,
            files,
            hook_rx: Mutex::new(hook_rx),
            tasks: Mutex::default(),
        }
    }

    /// The webhook queue's receiving end, once (for the delivery task).
    pub(crate) fn take_hook_receiver(&self) -> Option<tokio::sync::mpsc::Receiver<bytes::Bytes>> {
        self.hook_rx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Locks the world; a panic elsewhere never wedges the server.
    fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the world and resolves `actor` in it.
    fn enter(&self, actor: Actor) -> ApiResult<(MutexGuard<'_, World>, Caller)> {
        let world = self.lock();
        let mut caller = Caller::resolve(world.store.as_ref(), actor)?;
        self.restrict_to_teams(world.store.as_ref(), &mut caller);
        Ok((world, caller))
    }
}

impl World {
    /// A strictly increasing timestamp (nanos, RFC 3339), so stored times never tie.
    fn now(&mut self) -> String {
        let nanos = time::now_nanos().max(self.last_nanos + 1);
        self.last_nanos = nanos;
        time::format_rfc3339(nanos)
    }

    /// An event of type `E` about `cid`, created now: cid, channel_id, channel_type,
    /// created_at set (the protocol's struct gives the type).
    fn channel_event<E: ChannelEvent>(&mut self, cid: &str) -> E {
        E::for_channel(cid, Some(self.now()))
    }
}

/// A generation number bumped whenever a counter changes, with a condition variable that
/// wakes whoever waits for a change. A waiter reads the generation before it reads the
/// counters, and a change bumps it after the counters changed, so no change slips between.
#[derive(Default)]
struct Signal {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Signal {
    /// Something changed: wakes every waiter.
    fn bump(&self) {
        *self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += 1;
        self.changed.notify_all();
    }

    /// The current generation.
    fn generation(&self) -> u64 {
        *self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocks until the generation is no longer `seen` or `deadline` passes; returns whether
    /// it changed.
    fn wait_past(&self, seen: u64, deadline: Instant) -> bool {
        let mut generation = self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *generation == seen {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            generation = self
                .changed
                .wait_timeout(generation, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

/// A random hex id shaped like a UUID.
fn random_id() -> String {
    let a = fastrand::u64(..);
    let b = fastrand::u64(..);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}
