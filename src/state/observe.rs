//! Observers of the store and their coalescing.
//!
//! The rule: **at most one delivery is pending per observer, and it carries the latest
//! snapshot.** Each change puts the new snapshot in the observer's slot; only a change that
//! finds the slot empty hands a delivery task to the executor. The task takes whatever the
//! slot holds when it runs, so a burst of 1,000 events that lands before a GUI loop drains
//! its queue is one delivery of the last snapshot. Deliveries of one observer never
//! overlap and never go back in time: a task runs the listener under the observer's
//! delivery lock and, once done, delivers again if a newer snapshot came meanwhile.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use stream_chat_callbacks::{CallbackQueue, Executor};

use super::channel::ChannelState;
use super::client::ClientState;

/// What an observer watches and gets.
#[derive(Clone)]
pub(crate) enum Snapshot {
    Client(Arc<ClientState>),
    Channel(Arc<ChannelState>),
}

type Deliver = dyn Fn(Snapshot) + Send + Sync;

pub(crate) struct Observer {
    id: u64,
    /// `None`: the client state; else this channel.
    pub(crate) cid: Option<String>,
    active: AtomicBool,
    slot: Mutex<Option<Snapshot>>,
    delivering: Mutex<()>,
    deliver: Box<Deliver>,
    executor: Executor,
    /// Run when disposed (frees a local listener on its thread).
    on_dispose: Option<Box<dyn Fn() + Send + Sync>>,
}

impl Observer {
    /// Puts `snapshot` in the slot; true when the caller must [`schedule`](Self::schedule)
    /// a delivery (the slot was empty).
    pub(crate) fn offer(&self, snapshot: Snapshot) -> bool {
        self.active.load(Ordering::Acquire) && lock(&self.slot).replace(snapshot).is_none()
    }

    pub(crate) fn schedule(self: &Arc<Self>) {
        let me = Arc::clone(self);
        self.executor.execute(Box::new(move || me.run()));
    }

    fn run(&self) {
        loop {
            let Ok(_delivering) = self.delivering.try_lock() else {
                // Another run delivers; it looks at the slot again once done.
                return;
            };
            let Some(snapshot) = lock(&self.slot).take() else {
                return;
            };
            if !self.active.load(Ordering::Acquire) {
                return;
            }
            let deliver = std::panic::AssertUnwindSafe(|| (self.deliver)(snapshot));
            if std::panic::catch_unwind(deliver).is_err() {
                log::error!("a state observer panicked");
            }
        }
    }
}

pub(crate) type Registry = Mutex<Vec<Arc<Observer>>>;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn register(
    registry: &Arc<Registry>,
    cid: Option<String>,
    executor: Executor,
    deliver: Box<Deliver>,
    on_dispose: Option<Box<dyn Fn() + Send + Sync>>,
) -> (Observation, Arc<Observer>) {
    let observer = Arc::new(Observer {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        cid,
        active: AtomicBool::new(true),
        slot: Mutex::new(None),
        delivering: Mutex::new(()),
        deliver,
        executor,
        on_dispose,
    });
    lock(registry).push(Arc::clone(&observer));
    let observation = Observation {
        observer: Arc::clone(&observer),
        registry: Arc::downgrade(registry),
    };
    (observation, observer)
}

/// Keeps a state observer registered; [`dispose`](Observation::dispose) it, or drop it, to
/// stop deliveries (a delivery already pending is dropped).
///
/// ```
/// use stream_chat_client::ChatClient;
/// let client = ChatClient::builder("key").build().unwrap();
/// let observation = client.observe(|state| println!("v{}", state.version));
/// observation.dispose();
/// assert!(observation.is_disposed());
/// ```
#[must_use = "dropping an Observation stops deliveries at once; keep it while you render"]
pub struct Observation {
    observer: Arc<Observer>,
    registry: Weak<Registry>,
}

impl Observation {
    /// Stops deliveries. Idempotent.
    pub fn dispose(&self) {
        if !self.observer.active.swap(false, Ordering::AcqRel) {
            return;
        }
        lock(&self.observer.slot).take();
        if let Some(registry) = self.registry.upgrade() {
            lock(&registry).retain(|o| o.id != self.observer.id);
        }
        if let Some(f) = &self.observer.on_dispose {
            f();
        }
    }

    /// Whether it was disposed.
    pub fn is_disposed(&self) -> bool {
        !self.observer.active.load(Ordering::Acquire)
    }
}

impl Drop for Observation {
    fn drop(&mut self) {
        self.dispose();
    }
}

impl std::fmt::Debug for Observation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observation")
            .field("channel", &self.observer.cid)
            .field("disposed", &self.is_disposed())
            .finish()
    }
}

type LocalListener = Rc<dyn Fn(Snapshot)>;

thread_local! {
    /// Listeners that are not `Send`, on the thread of the queue that runs them.
    static LOCAL: RefCell<HashMap<u64, LocalListener>> = RefCell::new(HashMap::new());
}

static NEXT_LOCAL: AtomicU64 = AtomicU64::new(1);

/// A listener kept on this (the queue's) thread, and the `Send` pieces that reach it:
/// the delivery, run by the queue's local executor, and the release on dispose.
pub(crate) fn local(
    queue: &CallbackQueue,
    listener: impl Fn(Snapshot) + 'static,
) -> (Executor, Box<Deliver>, Box<dyn Fn() + Send + Sync>) {
    assert!(
        queue.is_owner_thread(),
        "observe_local must be called on the thread that created the CallbackQueue: the \
         listener is not Send and runs there; from other threads use observe with a Send \
         listener and the client's callback executor"
    );
    let key = NEXT_LOCAL.fetch_add(1, Ordering::Relaxed);
    LOCAL.with(|m| m.borrow_mut().insert(key, Rc::new(listener)));
    let deliver = Box::new(move |snapshot: Snapshot| {
        // Cloned out, so the listener may observe or dispose others while it runs.
        let listener = LOCAL.with(|m| m.borrow().get(&key).cloned());
        if let Some(listener) = listener {
            listener(snapshot);
        }
    });
    let executor = queue.local_executor();
    let release_on = executor.clone();
    let release = Box::new(move || {
        release_on.execute(Box::new(move || {
            LOCAL.with(|m| m.borrow_mut().remove(&key));
        }))
    });
    (executor, deliver, release)
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
