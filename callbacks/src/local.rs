//! Callbacks that are not `Send`, bound to the thread that created a [`CallbackQueue`]
//! (see [`Call::enqueue_local`](crate::Call::enqueue_local)).
//!
//! Without `unsafe`, a value that is not `Send` can only be reached from its own thread. So
//! the callback itself stays in a thread-local table of the queue's thread, and what
//! travels through the pool and the queue is a `Send` ticket naming its slot. The queue
//! marks such tasks as local and refuses to run them on another thread; the ticket's drop
//! (a cancelled call, a result never delivered) frees the slot on the queue's thread too,
//! so whatever the callback captured is also dropped there.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Weak;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{self, ThreadId};

use crate::ChatResult;

/// (queue id, slot id) of a registered callback.
type Key = (u64, u64);

thread_local! {
    /// The callbacks registered on this thread, each a `Box<dyn FnOnce(ChatResult<T>)>` boxed
    /// once more as `Any`.
    static SLOTS: RefCell<HashMap<Key, Box<dyn Any>>> = RefCell::new(HashMap::new());
}

static NEXT_SLOT: AtomicU64 = AtomicU64::new(1);

/// The thread a queue belongs to: the one that created it.
#[derive(Clone, Debug)]
pub(crate) struct Owner {
    pub(crate) id: ThreadId,
    pub(crate) name: Option<String>,
}

impl Owner {
    pub(crate) fn current() -> Owner {
        let thread = thread::current();
        Owner {
            id: thread.id(),
            name: thread.name().map(str::to_owned),
        }
    }

    pub(crate) fn is_current(&self) -> bool {
        thread::current().id() == self.id
    }

    /// `ThreadId(1) "main"`, for panic messages.
    pub(crate) fn describe(&self) -> String {
        describe(self.id, self.name.as_deref())
    }
}

/// The current thread, as [`Owner::describe`] writes it.
pub(crate) fn describe_current() -> String {
    let thread = thread::current();
    describe(thread.id(), thread.name())
}

fn describe(id: ThreadId, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{id:?} \"{name}\""),
        None => format!("{id:?}"),
    }
}

/// The queue a ticket belongs to, as the ticket needs it: a ticket dropped on another
/// thread has the queue free its slot on the owner thread.
pub(crate) trait OwnerQueue: Send + Sync {
    /// Runs `task` on the owner thread, at the queue's next drain.
    fn run_on_owner(&self, task: Box<dyn FnOnce() + Send>);
}

/// The `Send` ticket of a callback registered on the queue's thread. [`fire`](Self::fire)
/// runs it (on that thread); dropping the ticket unfired frees the slot on that thread.
pub(crate) struct LocalCallback<T> {
    key: Key,
    queue: Weak<dyn OwnerQueue>,
    owner: ThreadId,
    fired: bool,
    _result: PhantomData<fn(ChatResult<T>)>,
}

/// Stores `callback` in this thread's table, for queue `queue_id` owned by `owner`, and
/// returns its ticket.
///
/// Panics when this thread is not `owner`: the callback could never run.
pub(crate) fn register<T: 'static>(
    queue_id: u64,
    owner: &Owner,
    queue: Weak<dyn OwnerQueue>,
    callback: impl FnOnce(ChatResult<T>) + 'static,
) -> LocalCallback<T> {
    if !owner.is_current() {
        panic!(
            "Call::enqueue_local on thread {}: a callback that is not Send runs on the \
             thread that created the CallbackQueue ({}), so it must be enqueued there too; \
             from other threads use enqueue_on(&queue.executor(), ..) with a Send callback",
            describe_current(),
            owner.describe(),
        );
    }
    let key = (queue_id, NEXT_SLOT.fetch_add(1, Ordering::Relaxed));
    let callback: Box<dyn FnOnce(ChatResult<T>)> = Box::new(callback);
    SLOTS.with(|slots| slots.borrow_mut().insert(key, Box::new(callback)));
    LocalCallback {
        key,
        queue,
        owner: owner.id,
        fired: false,
        _result: PhantomData,
    }
}

impl<T: 'static> LocalCallback<T> {
    /// Runs the callback with `result`. Only ever called from a task the queue marked as
    /// local, which runs on the owner thread.
    pub(crate) fn fire(mut self, result: ChatResult<T>) {
        self.fired = true;
        debug_assert_eq!(thread::current().id(), self.owner);
        let slot = SLOTS.with(|slots| slots.borrow_mut().remove(&self.key));
        match slot.map(|any| any.downcast::<Box<dyn FnOnce(ChatResult<T>)>>()) {
            // The table is not borrowed while the callback runs: it may enqueue more.
            Some(Ok(callback)) => callback(result),
            Some(Err(_)) => log::error!("a local callback's slot held another type"),
            None => log::error!("a local callback's slot was already gone"),
        }
    }
}

impl<T> Drop for LocalCallback<T> {
    fn drop(&mut self) {
        if self.fired {
            return;
        }
        let key = self.key;
        if thread::current().id() == self.owner {
            free(key);
        } else if let Some(queue) = self.queue.upgrade() {
            // Whatever the callback captured is dropped on its own thread, at the next drain.
            queue.run_on_owner(Box::new(move || free(key)));
        }
        // Else the queue is gone: the slot lives until the owner thread exits.
    }
}

/// Drops the callback in slot `key` of this thread, if any.
fn free(key: Key) {
    // `try_with`: this may run while the thread's locals are being destroyed.
    let slot = SLOTS
        .try_with(|slots| slots.try_borrow_mut().ok().and_then(|mut s| s.remove(&key)))
        .ok()
        .flatten();
    drop(slot);
}

/// Drops every callback of queue `queue_id` registered on this thread (the queue is gone).
pub(crate) fn free_queue(queue_id: u64) {
    let removed: Vec<Box<dyn Any>> = SLOTS
        .try_with(|slots| match slots.try_borrow_mut() {
            Ok(mut slots) => {
                let keys: Vec<Key> = slots.keys().filter(|k| k.0 == queue_id).copied().collect();
                keys.iter().filter_map(|k| slots.remove(k)).collect()
            }
            Err(_) => Vec::new(),
        })
        .unwrap_or_default();
    // Dropped outside the borrow: a callback's captures may touch the table.
    drop(removed);
}
