//! One copy of a channel's lists across a process's clients. A load tool, bot or test suite
//! runs hundreds of clients in one process, most of them in the same channels, and each
//! watch answer brings the same watchers, members, reads and pinned messages: kept per
//! client, 30 watchers alone are ~20 KiB a client. A list a `load` builds is compared with
//! the last one loaded for that channel by any client of the process; when equal, the
//! client keeps that `Arc` instead (snapshots already share structure through `Arc`s, and
//! a client that changes the list later gets its own copy by `Arc::make_mut`, as
//! everywhere in the store). Equality, not the channel id, decides: two clients that see
//! different lists keep their own.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use stream_chat_protocol::{Member, Message, Read, User};

/// The last list of one kind loaded for each channel, held weakly: a channel no client
/// holds costs an empty `Weak` until the next sweep.
pub(crate) struct Shared<T> {
    last: Mutex<Last<T>>,
}

struct Last<T> {
    by_cid: HashMap<String, Weak<T>>,
    /// Entries at the last sweep of dead ones, so sweeps stay amortized O(1) a load.
    after_sweep: usize,
}

impl<T: PartialEq + Default> Shared<T> {
    fn new() -> Self {
        Shared {
            last: Mutex::new(Last {
                by_cid: HashMap::new(),
                after_sweep: 0,
            }),
        }
    }

    /// `fresh` as an `Arc`: the one another client holds for `cid` when it is equal.
    /// Empty lists are not tracked (most channels have no pins; an empty map does not
    /// allocate).
    pub(crate) fn share(&self, cid: &str, fresh: T) -> Arc<T> {
        if fresh == T::default() {
            return Arc::new(fresh);
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(held) = last.by_cid.get(cid).and_then(Weak::upgrade)
            && *held == fresh
        {
            return held;
        }
        let fresh = Arc::new(fresh);
        if last.by_cid.len() >= 2 * last.after_sweep + 64 {
            last.by_cid.retain(|_, w| w.strong_count() > 0);
            last.after_sweep = last.by_cid.len();
        }
        last.by_cid.insert(cid.to_owned(), Arc::downgrade(&fresh));
        fresh
    }
}

type Map<T> = std::collections::BTreeMap<String, T>;

/// Watchers by user id.
pub(crate) static WATCHERS: LazyLock<Shared<Map<User>>> = LazyLock::new(Shared::new);
/// Members by user id.
pub(crate) static MEMBERS: LazyLock<Shared<Map<Member>>> = LazyLock::new(Shared::new);
/// Reads by user id.
pub(crate) static READS: LazyLock<Shared<Map<Read>>> = LazyLock::new(Shared::new);
/// Pinned messages.
pub(crate) static PINNED: LazyLock<Shared<Vec<Message>>> = LazyLock::new(Shared::new);

#[cfg(test)]
mod tests {
    use super::*;

    fn users(ids: &[&str]) -> Map<User> {
        ids.iter()
            .map(|id| (id.to_string(), User::new(*id)))
            .collect()
    }

    #[test]
    fn equal_lists_share_one_copy_and_different_ones_do_not() {
        let shared = Shared::new();
        let a = shared.share("livestream:a", users(&["fry", "leela"]));
        let b = shared.share("livestream:a", users(&["fry", "leela"]));
        assert!(Arc::ptr_eq(&a, &b));
        let c = shared.share("livestream:a", users(&["fry"]));
        assert!(!Arc::ptr_eq(&a, &c));
        // The newest list is the one offered next; the older ones stay as they are.
        let d = shared.share("livestream:a", users(&["fry"]));
        assert!(Arc::ptr_eq(&c, &d));
        assert_eq!(a.len(), 2);
        // Another channel with the same users is compared only with its own.
        let e = shared.share("livestream:b", users(&["fry"]));
        assert!(!Arc::ptr_eq(&c, &e));
    }

    #[test]
    fn a_list_no_client_holds_is_not_revived_and_dead_entries_are_swept() {
        let shared = Shared::new();
        let first = shared.share("x:0", users(&["fry"]));
        let weak = Arc::downgrade(&first);
        drop(first);
        assert!(weak.upgrade().is_none());
        let again = shared.share("x:0", users(&["fry"]));
        assert_eq!(again.len(), 1);
        for n in 0..1000 {
            drop(shared.share(&format!("x:{n}"), users(&["fry"])));
        }
        let held = shared.last.lock().unwrap().by_cid.len();
        assert!(held < 200, "{held} entries kept for 1,000 dropped lists");
    }
}
