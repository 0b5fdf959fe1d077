use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::panic_message;

type Hook = Box<dyn FnOnce() + Send>;

/// The cancellation signal of one [`Call`](crate::Call), handed to its work.
///
/// Work that blocks should poll [`is_canceled`](Self::is_canceled), wait with
/// [`sleep`](Self::sleep) (which wakes early on cancel), or register an
/// [`on_cancel`](Self::on_cancel) hook that aborts its I/O (closing a socket, for example).
/// Cancellation is one-way: once cancelled, a token stays cancelled.
///
/// ```
/// use std::time::Duration;
/// use stream_chat_callbacks::CancelToken;
///
/// let token = CancelToken::new();
/// assert!(token.sleep(Duration::from_millis(1)), "not cancelled: slept the full time");
/// token.cancel();
/// assert!(token.is_canceled());
/// assert!(!token.sleep(Duration::from_secs(60)), "cancelled: returns at once");
/// ```
#[derive(Clone)]
pub struct CancelToken {
    inner: Arc<TokenInner>,
}

struct TokenInner {
    cancelled: AtomicBool,
    hooks: Mutex<Vec<Hook>>,
    wake: Condvar,
}

impl CancelToken {
    /// A fresh, not cancelled token (useful to run a work closure directly in tests).
    ///
    /// ```
    /// assert!(!stream_chat_callbacks::CancelToken::new().is_canceled());
    /// ```
    pub fn new() -> Self {
        CancelToken {
            inner: Arc::new(TokenInner {
                cancelled: AtomicBool::new(false),
                hooks: Mutex::new(Vec::new()),
                wake: Condvar::new(),
            }),
        }
    }

    /// True once the token (or the call owning it) was cancelled.
    ///
    /// ```
    /// let token = stream_chat_callbacks::CancelToken::new();
    /// token.cancel();
    /// assert!(token.is_canceled());
    /// ```
    pub fn is_canceled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Acquire)
    }

    /// Cancels: wakes every [`sleep`](Self::sleep) and runs the registered hooks once, on
    /// this thread, newest first: what the work registered unwinds before the hook that
    /// releases a caller blocked in [`Call::execute`](crate::Call::execute) (registered
    /// before the work started), so that caller sees the work's cleanup done. Later calls
    /// do nothing. A panicking hook is caught and logged.
    ///
    /// ```
    /// let token = stream_chat_callbacks::CancelToken::new();
    /// token.cancel();
    /// token.cancel(); // idempotent
    /// assert!(token.is_canceled());
    /// ```
    pub fn cancel(&self) {
        let hooks = {
            let mut hooks = self.lock();
            if self.inner.cancelled.swap(true, Ordering::AcqRel) {
                return;
            }
            std::mem::take(&mut *hooks)
        };
        self.inner.wake.notify_all();
        for hook in hooks.into_iter().rev() {
            run_hook(hook);
        }
    }

    /// Registers `hook` to run when the token is cancelled; runs it right away (on this
    /// thread) when it already is.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// let token = stream_chat_callbacks::CancelToken::new();
    /// let aborted = Arc::new(AtomicBool::new(false));
    /// let flag = aborted.clone();
    /// token.on_cancel(move || flag.store(true, Ordering::SeqCst));
    /// token.cancel();
    /// assert!(aborted.load(Ordering::SeqCst));
    /// ```
    pub fn on_cancel(&self, hook: impl FnOnce() + Send + 'static) {
        {
            let mut hooks = self.lock();
            if !self.is_canceled() {
                hooks.push(Box::new(hook));
                return;
            }
        }
        run_hook(Box::new(hook));
    }

    /// Waits for `duration` unless cancelled first. Returns `true` when the full time
    /// passed, `false` when the token was (or got) cancelled.
    ///
    /// ```
    /// use std::time::Duration;
    /// let token = stream_chat_callbacks::CancelToken::new();
    /// assert!(token.sleep(Duration::ZERO));
    /// ```
    pub fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now().checked_add(duration);
        let mut guard = self.lock();
        loop {
            if self.is_canceled() {
                return false;
            }
            match deadline {
                None => {
                    guard = self
                        .inner
                        .wake
                        .wait(guard)
                        .unwrap_or_else(|e| e.into_inner())
                }
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return true;
                    }
                    guard = self
                        .inner
                        .wake
                        .wait_timeout(guard, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }

    /// A cloneable handle that can cancel this token from anywhere.
    ///
    /// ```
    /// let token = stream_chat_callbacks::CancelToken::new();
    /// token.handle().cancel();
    /// assert!(token.is_canceled());
    /// ```
    pub fn handle(&self) -> CancelHandle {
        CancelHandle {
            token: self.clone(),
        }
    }

    /// Cancels `child` whenever `self` is cancelled, without keeping `child` alive.
    pub(crate) fn link(&self, child: &CancelToken) {
        let child: Weak<TokenInner> = Arc::downgrade(&child.inner);
        self.on_cancel(move || {
            if let Some(inner) = child.upgrade() {
                CancelToken { inner }.cancel();
            }
        });
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Hook>> {
        self.inner.hooks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn run_hook(hook: Hook) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(hook)) {
        log::error!("a cancel hook panicked: {}", panic_message(&*payload));
    }
}

impl Default for CancelToken {
    fn default() -> Self {
        CancelToken::new()
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("canceled", &self.is_canceled())
            .finish()
    }
}

/// Cancels a [`Call`](crate::Call) from any thread; get one with
/// [`Call::cancel_handle`](crate::Call::cancel_handle). Cheap to clone.
///
/// ```
/// use stream_chat_callbacks::{Call, ChatResult};
///
/// let call = Call::of(ChatResult::Success(1));
/// let handle = call.cancel_handle();
/// std::thread::spawn(move || handle.cancel()).join().unwrap();
/// assert!(call.is_canceled());
/// assert!(call.execute().error().is_cancelled());
/// ```
#[derive(Clone, Debug)]
pub struct CancelHandle {
    token: CancelToken,
}

impl CancelHandle {
    /// Cancels the call: its callback will not be invoked and `execute` returns a
    /// cancelled error.
    ///
    /// ```
    /// # use stream_chat_callbacks::{Call, ChatResult};
    /// let call = Call::of(ChatResult::Success(()));
    /// call.cancel_handle().cancel();
    /// assert!(call.is_canceled());
    /// ```
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// True once the call was cancelled.
    ///
    /// ```
    /// # use stream_chat_callbacks::{Call, ChatResult};
    /// let call = Call::of(ChatResult::Success(()));
    /// assert!(!call.cancel_handle().is_canceled());
    /// ```
    pub fn is_canceled(&self) -> bool {
        self.token.is_canceled()
    }
}
