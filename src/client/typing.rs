//! The typing state of a client's channels, for
//! [`ChannelClient::keystroke`](crate::ChannelClient::keystroke): per channel and thread,
//! when `typing.start` was last sent, and the one timer target that sends `typing.stop`
//! after [`TYPING_STOP_AFTER`] of silence. The target waits on the client's one timer
//! thread (no thread per channel); each keystroke replaces it, and a replaced target is
//! dropped, so the timer forgets it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use stream_chat_callbacks::Expire;

/// `keystroke` sends `typing.start` at most once per this interval while the user keeps
/// typing: the official JS client's `keystroke` (`src/channel.ts`, "send a typing.start
/// every 2 seconds", `diff > 2000`) and the Android docs ("at most once every two seconds").
///
/// ```
/// assert_eq!(stream_chat_client::TYPING_START_INTERVAL.as_millis(), 2000);
/// ```
pub const TYPING_START_INTERVAL: Duration = Duration::from_secs(2);

/// After this long without a keystroke, `typing.stop` is sent by itself: the JS client's
/// `Channel.clean()` sends it once the last keystroke is more than 1000 ms old (it checks
/// every 500 ms; here a deadline on the client's timer fires at exactly 1000 ms).
///
/// ```
/// assert_eq!(stream_chat_client::TYPING_STOP_AFTER.as_millis(), 1000);
/// ```
pub const TYPING_STOP_AFTER: Duration = Duration::from_secs(1);

/// Per `(cid, parent_id)`: what `keystroke` needs to decide.
struct Entry {
    /// When `typing.start` was last sent (`None` once stopped).
    last_start: Option<Instant>,
    /// The pending automatic stop; replaced at each keystroke.
    stop: Option<Arc<dyn Expire>>,
}

/// The typing state of every channel (and thread) of one client.
#[derive(Default)]
pub(crate) struct Typing {
    entries: Mutex<HashMap<String, Entry>>,
}

/// What a keystroke asks for.
pub(crate) struct Keystroke {
    /// Send `typing.start` now (not within [`TYPING_START_INTERVAL`] of the last one).
    pub send_start: bool,
}

/// The key of a channel's (or thread's) typing state.
pub(crate) fn key(cid: &str, parent_id: Option<&str>) -> String {
    match parent_id {
        Some(parent) => format!("{cid}\u{0}{parent}"),
        None => cid.to_owned(),
    }
}

impl Typing {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A keystroke at `now` on `key`: whether to send `typing.start`, and `stop` becomes
    /// the pending automatic stop (the previous one is dropped).
    pub(crate) fn keystroke(&self, key: &str, now: Instant, stop: Arc<dyn Expire>) -> Keystroke {
        let mut entries = self.entries();
        let entry = entries.entry(key.to_owned()).or_insert(Entry {
            last_start: None,
            stop: None,
        });
        let send_start = entry
            .last_start
            .is_none_or(|at| now.duration_since(at) > TYPING_START_INTERVAL);
        if send_start {
            entry.last_start = Some(now);
        }
        entry.stop = Some(stop);
        Keystroke { send_start }
    }

    /// Typing on `key` stopped (`stop_typing`): forgets it and its pending stop.
    pub(crate) fn stopped(&self, key: &str) {
        self.entries().remove(key);
    }

    /// The automatic stop `stop` fired: true (and the state is forgotten) when it is still
    /// the pending one of `key`, i.e. no keystroke came since it was armed.
    pub(crate) fn take_stop(&self, key: &str, stop: &dyn Expire) -> bool {
        let mut entries = self.entries();
        let current = entries
            .get(key)
            .and_then(|e| e.stop.as_ref())
            .is_some_and(|s| std::ptr::addr_eq(Arc::as_ptr(s), stop as *const dyn Expire));
        if current {
            entries.remove(key);
        }
        current
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    struct Nothing(AtomicBool);
    impl Expire for Nothing {
        fn expire(&self) {
            self.0.store(true, Ordering::Release);
        }
        fn is_done(&self) -> bool {
            self.0.load(Ordering::Acquire)
        }
    }

    fn target() -> Arc<dyn Expire> {
        Arc::new(Nothing(AtomicBool::new(false)))
    }

    #[test]
    fn start_is_throttled_and_only_the_last_stop_counts() {
        let typing = Typing::default();
        let t0 = Instant::now();
        let k = key("messaging:a", None);
        let first = target();
        assert!(typing.keystroke(&k, t0, first.clone()).send_start);
        let second = target();
        let later = t0 + Duration::from_millis(1999);
        assert!(!typing.keystroke(&k, later, second.clone()).send_start);
        assert!(
            !typing.take_stop(&k, &*first),
            "replaced by the second keystroke"
        );
        assert!(typing.take_stop(&k, &*second));
        assert!(!typing.take_stop(&k, &*second), "taken once");
        // After a stop, the next keystroke starts again at once.
        assert!(typing.keystroke(&k, later, target()).send_start);
        let after = later + TYPING_START_INTERVAL + Duration::from_millis(1);
        assert!(typing.keystroke(&k, after, target()).send_start);
        // Threads are apart.
        assert!(
            typing
                .keystroke(&key("messaging:a", Some("p")), after, target())
                .send_start
        );
        typing.stopped(&k);
        assert!(typing.keystroke(&k, after, target()).send_start);
    }
}
