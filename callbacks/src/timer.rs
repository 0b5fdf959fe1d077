//! [`DeadlineTimer`]: one thread that resolves waiting things at their deadlines, so that
//! a call waiting for something else (a socket, another thread) holds no thread itself.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, Weak};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::panic_message;

/// Something a [`DeadlineTimer`] resolves at its deadline, unless it was resolved before.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use stream_chat_callbacks::Expire;
///
/// /// A wait that fails with a timeout unless it was answered first.
/// struct Wait(AtomicBool);
/// impl Expire for Wait {
///     fn expire(&self) {
///         if !self.0.swap(true, Ordering::AcqRel) {
///             println!("timed out");
///         }
///     }
///     fn is_done(&self) -> bool {
///         self.0.load(Ordering::Acquire)
///     }
/// }
/// # let wait = Wait(AtomicBool::new(false));
/// # wait.expire();
/// # assert!(wait.is_done());
/// ```
pub trait Expire: Send + Sync {
    /// The deadline passed: resolve it (e.g. fail a call with a timeout). Runs on the
    /// timer's thread, so keep it short; a panic is logged and the timer goes on.
    fn expire(&self);

    /// True once it was resolved some other way: the timer skips it at its deadline and
    /// may forget it before.
    fn is_done(&self) -> bool;
}

/// A target's deadline, in scheduling order among equal deadlines.
type Entry = Reverse<(Instant, u64, Target)>;
type Scheduled = (Instant, Weak<dyn Expire>);

/// Ordered by the tuple's first fields only.
struct Target(Weak<dyn Expire>);

impl PartialEq for Target {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Target {}
impl PartialOrd for Target {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Target {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

/// One thread that calls [`Expire::expire`] on each scheduled target when its deadline
/// passes, in deadline order. It holds targets weakly: a target dropped before its
/// deadline is forgotten, so whoever waits owns the wait, not the timer. The thread ends
/// when the timer is stopped or dropped.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::{Duration, Instant};
/// use stream_chat_callbacks::{DeadlineTimer, Expire};
///
/// struct Alarm(Mutex<Option<std::sync::mpsc::Sender<Instant>>>);
/// impl Expire for Alarm {
///     fn expire(&self) {
///         if let Some(tx) = self.0.lock().unwrap().take() {
///             tx.send(Instant::now()).unwrap();
///         }
///     }
///     fn is_done(&self) -> bool {
///         self.0.lock().unwrap().is_none()
///     }
/// }
///
/// let timer = DeadlineTimer::start("my-timer").unwrap();
/// let (tx, rx) = std::sync::mpsc::channel();
/// let alarm: Arc<dyn Expire> = Arc::new(Alarm(Mutex::new(Some(tx))));
/// let at = Instant::now() + Duration::from_millis(10);
/// timer.schedule(at, Arc::downgrade(&alarm));
/// assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap() >= at);
/// ```
pub struct DeadlineTimer {
    tx: Mutex<Option<Sender<Scheduled>>>,
}

impl DeadlineTimer {
    /// Starts the timer's thread, named `thread_name`.
    ///
    /// ```
    /// let timer = stream_chat_callbacks::DeadlineTimer::start("my-timer").unwrap();
    /// # drop(timer);
    /// ```
    pub fn start(thread_name: impl Into<String>) -> std::io::Result<DeadlineTimer> {
        let (tx, rx) = crossbeam_channel::unbounded();
        std::thread::Builder::new()
            .name(thread_name.into())
            .spawn(move || run(rx))?;
        Ok(DeadlineTimer {
            tx: Mutex::new(Some(tx)),
        })
    }

    /// Resolves `target` at `at` (at once if `at` has passed) unless it is dropped or
    /// done by then. Does nothing once the timer is stopped.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use std::time::Instant;
    /// # use stream_chat_callbacks::{DeadlineTimer, Expire};
    /// # struct Nothing;
    /// # impl Expire for Nothing { fn expire(&self) {} fn is_done(&self) -> bool { false } }
    /// let timer = DeadlineTimer::start("my-timer").unwrap();
    /// let target: Arc<dyn Expire> = Arc::new(Nothing);
    /// timer.schedule(Instant::now(), Arc::downgrade(&target));
    /// ```
    pub fn schedule(&self, at: Instant, target: Weak<dyn Expire>) {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = tx.as_ref() {
            let _ = tx.send((at, target));
        }
    }

    /// Ends the thread; targets not yet due are dropped unresolved. Idempotent.
    ///
    /// ```
    /// let timer = stream_chat_callbacks::DeadlineTimer::start("my-timer").unwrap();
    /// timer.stop();
    /// timer.stop();
    /// ```
    pub fn stop(&self) {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

impl std::fmt::Debug for DeadlineTimer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let running = self.tx.lock().unwrap_or_else(|e| e.into_inner()).is_some();
        f.debug_struct("DeadlineTimer")
            .field("running", &running)
            .finish()
    }
}

/// `limit` after `start`, saturating about a century ahead instead of overflowing, so
/// `Duration::MAX` means "no deadline" in practice.
///
/// ```
/// use std::time::{Duration, Instant};
/// use stream_chat_callbacks::deadline_after;
/// let now = Instant::now();
/// assert_eq!(deadline_after(now, Duration::from_secs(1)), now + Duration::from_secs(1));
/// assert!(deadline_after(now, Duration::MAX) > now + Duration::from_secs(3600 * 24 * 365));
/// ```
pub fn deadline_after(start: Instant, limit: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    start
        .checked_add(limit)
        .or_else(|| start.checked_add(FAR))
        .unwrap_or(start)
}

/// The timer's thread: waits for the next deadline or a new target, whichever is first.
fn run(rx: Receiver<Scheduled>) {
    let mut heap: BinaryHeap<Entry> = BinaryHeap::new();
    let mut seq = 0u64;
    // Resolved targets stay queued until due; prune them when the heap doubles.
    let mut prune_at = 64;
    loop {
        let next = heap.peek().map(|Reverse((at, ..))| *at);
        let received = match next {
            Some(at) => rx.recv_deadline(at),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok((at, target)) => {
                seq += 1;
                heap.push(Reverse((at, seq, Target(target))));
                if heap.len() >= prune_at {
                    heap.retain(|Reverse((_, _, t))| t.0.upgrade().is_some_and(|t| !t.is_done()));
                    prune_at = (heap.len() * 2).max(64);
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                while let Some(Reverse((at, ..))) = heap.peek() {
                    if *at > now {
                        break;
                    }
                    if let Some(Reverse((_, _, target))) = heap.pop()
                        && let Some(target) = target.0.upgrade()
                        && !target.is_done()
                        && let Err(payload) = catch_unwind(AssertUnwindSafe(|| target.expire()))
                    {
                        log::error!("a timer target panicked: {}", panic_message(&*payload));
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
