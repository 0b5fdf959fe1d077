//! [`Subscription`]: a registered listener, and the registry the bus delivers to.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use super::chat_event::ChatEvent;

pub(super) type Listener = dyn Fn(&ChatEvent) + Send + Sync;
pub(super) type Filter = dyn Fn(&ChatEvent) -> bool + Send + Sync;

pub(super) struct Sub {
    pub(super) id: u64,
    /// The number of the first event published after it registered: it gets none before.
    pub(super) from: u64,
    pub(super) active: AtomicBool,
    /// What the filter selects, for `Debug`.
    pub(super) describe: String,
    pub(super) filter: Box<Filter>,
    pub(super) listener: Box<Listener>,
    /// Disposed by its first delivery.
    pub(super) single: bool,
}

impl Sub {
    pub(super) fn wants(&self, seq: u64, event: &ChatEvent) -> bool {
        seq >= self.from && (self.filter)(event)
    }
}

pub(super) type Registry = Mutex<Vec<Arc<Sub>>>;

/// Keeps a listener registered; [`dispose`](Subscription::dispose) it, or drop it, to stop
/// delivery (events already queued for it are dropped too).
///
/// ```
/// use stream_chat_client::ChatClient;
///
/// let client = ChatClient::builder("key").build().unwrap();
/// let subscription = client.subscribe(|event| println!("{}", event.kind()));
/// assert!(!subscription.is_disposed());
/// subscription.dispose();
/// assert!(subscription.is_disposed());
/// ```
#[must_use = "dropping a Subscription stops delivery at once; keep it while you want events"]
pub struct Subscription {
    sub: Arc<Sub>,
    registry: Weak<Registry>,
}

impl Subscription {
    /// Keeps `sub`, registered in `registry`, until disposed.
    pub(super) fn new(sub: Arc<Sub>, registry: &Arc<Registry>) -> Self {
        Subscription {
            sub,
            registry: Arc::downgrade(registry),
        }
    }
}

impl Subscription {
    /// Stops delivery to this listener; calling it again does nothing.
    ///
    /// ```
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// let s = client.subscribe_for(&["health.check"], |_| {});
    /// s.dispose();
    /// s.dispose();
    /// ```
    pub fn dispose(&self) {
        if self.sub.active.swap(false, Ordering::AcqRel)
            && let Some(registry) = self.registry.upgrade()
        {
            lock(&registry).retain(|s| s.id != self.sub.id);
        }
    }

    /// True once disposed.
    ///
    /// ```
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// let s = client.subscribe(|_| {});
    /// assert!(!s.is_disposed());
    /// ```
    pub fn is_disposed(&self) -> bool {
        !self.sub.active.load(Ordering::Acquire)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.dispose();
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("filter", &self.sub.describe)
            .field("disposed", &self.is_disposed())
            .finish()
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
