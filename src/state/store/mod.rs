//! [`Store`]: the state behind one lock, what each event and each call response does to it,
//! and the publication of snapshots to observers.
//!
//! Events are applied on the event bus's dispatcher (the client's strand), in publish order, before any
//! listener gets the event (so a listener reading `client.state()` sees its effect); call
//! responses are applied on the thread that ran the call, before its callback runs.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use stream_chat_callbacks::{Executor, Expire};
use stream_chat_protocol::{
    Channel, ChannelMute, ChannelState as ChannelResponse, Message, Mute, QueryChannelsRequest,
    User,
};

use super::channel::{ChannelState, Ctx, TYPING_TIMEOUT, Writer};
use super::client::{ClientState, QueryChannelsState, sort_cids};
use super::observe::{self, Observation, Observer, Registry, Snapshot, lock};
use crate::events::ChatEvent;

mod answers;
mod events;
pub(crate) use answers::Unmuted;

/// The state and its observers.
pub(crate) struct Store {
    inner: Mutex<Inner>,
    observers: Arc<Registry>,
    executor: Executor,
    /// Expires typing users: the client's timer (set by the builder; a `Reducer` has none,
    /// its entries expire when read) and the sweep it runs (held here: the timer keeps only
    /// a `Weak`).
    scheduler: Mutex<Option<(Arc<Scheduler>, Arc<Runner>)>>,
    sweep: Mutex<Option<Arc<dyn Expire>>>,
    shut_down: std::sync::atomic::AtomicBool,
    /// Gets each published snapshot, in version order (the offline store's writer).
    publish: Mutex<Option<PublishHook>>,
}

/// A cached channel (without messages in the response), with its messages in order: each
/// with its status and order key (ns).
#[cfg(feature = "offline")]
pub(crate) type CachedChannel = (ChannelResponse, Vec<(Message, super::SyncStatus, i128)>);

/// How a reaction event changes the current user's own reactions when it is theirs.
#[derive(Clone, Copy)]
enum Own {
    /// `reaction.new`: this one added (replacing one of its type).
    Add,
    /// `reaction.updated` (`enforce_unique`): this one replaces all of theirs.
    ReplaceAll,
    /// `reaction.deleted`: the one of its type removed.
    Remove,
}

/// See [`Store::set_publish_hook`].
pub(crate) type PublishHook = Box<dyn Fn(&Arc<ClientState>) + Send + Sync>;

/// Resolves a target at a deadline: the shared timer thread.
pub(crate) type Scheduler = dyn Fn(Instant, std::sync::Weak<dyn Expire>) + Send + Sync;

/// Runs store work off the timer's thread (on the client's pool): the sweep publishes
/// snapshots, and observers with the default executor run where they are published.
pub(crate) type Runner = dyn Fn(Box<dyn FnOnce() + Send>) + Send + Sync;

/// Drops the typing entries past their [`TYPING_TIMEOUT`], at each entry's deadline.
struct TypingSweep(std::sync::Weak<Store>);

impl Expire for TypingSweep {
    fn expire(&self) {
        let Some(store) = self.0.upgrade() else {
            return;
        };
        let weak = self.0.clone();
        let sweep = move || {
            if let Some(store) = weak.upgrade() {
                let now = Instant::now();
                store.update(|inner| inner.expire_typing(now));
            }
        };
        // The timer is shared by every client: it must not run observers. Called with the
        // lock released: the runner may drop the client's last handle, whose shutdown
        // takes this lock (holding it deadlocked the timer thread, and with it every
        // client's deadlines).
        let run = lock(&store.scheduler)
            .as_ref()
            .map(|(_, run)| Arc::clone(run));
        if let Some(run) = run {
            run(Box::new(sweep));
        }
    }

    fn is_done(&self) -> bool {
        self.0.strong_count() == 0
    }
}

/// The writer's side: the published state plus what no snapshot needs.
#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) state: Arc<ClientState>,
    /// Per channel: message id → order key of its main list.
    indexes: HashMap<String, HashMap<String, i128>>,
    muted_users: HashSet<String>,
    /// Changed since the last publication: the client state, and these channels.
    dirty: bool,
    changed: HashSet<String>,
}

/// How a channel's membership in the query lists changes.
enum Listing {
    Add,
    Remove,
    Keep,
}

impl Inner {
    fn me(&self) -> Option<String> {
        self.state.me.as_ref().map(|u| u.id.clone())
    }

    fn client(&mut self) -> &mut ClientState {
        self.dirty = true;
        Arc::make_mut(&mut self.state)
    }

    /// Runs `f` on channel `cid` (made from `seed` if the store lacks it and `seed` is
    /// given); `None` when the store does not keep it.
    pub(crate) fn with_channel<R>(
        &mut self,
        cid: &str,
        seed: Option<&Channel>,
        f: impl FnOnce(&mut Writer<'_>) -> R,
    ) -> Option<R> {
        if !self.state.channels.contains_key(cid) {
            let seed = seed?;
            let mut st = ChannelState::empty(cid);
            st.channel = Arc::new(seed.clone());
            st.muted = self
                .state
                .channel_mutes
                .iter()
                .any(|m| mute_cid(m) == Some(cid));
            let channels = Arc::make_mut(&mut self.client().channels);
            channels.insert(cid.to_owned(), Arc::new(st));
        }
        let me = self.me();
        self.dirty = true;
        self.changed.insert(cid.to_owned());
        let state = Arc::make_mut(&mut self.state);
        let channels = Arc::make_mut(&mut state.channels);
        let channel = Arc::make_mut(channels.get_mut(cid)?);
        let index = self.indexes.entry(cid.to_owned()).or_default();
        let mut writer = Writer {
            state: channel,
            index,
            ctx: Ctx {
                me: me.as_deref(),
                muted_users: &self.muted_users,
            },
        };
        let result = f(&mut writer);
        channel.version += 1;
        Some(result)
    }

    fn remove_channel(&mut self, cid: &str) {
        if self.state.channels.contains_key(cid) {
            Arc::make_mut(&mut self.client().channels).remove(cid);
            self.indexes.remove(cid);
            self.changed.insert(cid.to_owned());
        }
        self.list(cid, Listing::Remove);
    }

    /// Adds or removes `cid` in every query list, and re-sorts the lists that hold it.
    fn list(&mut self, cid: &str, listing: Listing) {
        let touches = self.state.queries.iter().any(|q| {
            let has = q.cids.iter().any(|c| c == cid);
            match listing {
                Listing::Add => !has || q.cids.len() > 1,
                Listing::Remove => has,
                Listing::Keep => has && q.cids.len() > 1,
            }
        });
        if !touches {
            return;
        }
        let state = self.client();
        let channels = Arc::clone(&state.channels);
        for q in Arc::make_mut(&mut state.queries) {
            let has = q.cids.iter().any(|c| c == cid);
            match listing {
                Listing::Add if !has && channels.contains_key(cid) => q.cids.push(cid.to_owned()),
                Listing::Remove => q.cids.retain(|c| c != cid),
                _ => {}
            }
            if q.cids.iter().any(|c| c == cid) {
                sort_cids(&mut q.cids, &q.sort, &channels);
            }
        }
    }

    fn set_me(&mut self, me: &User) {
        let mutes: Vec<Mute> = parse_all(me.mutes.as_deref());
        let channel_mutes: Vec<ChannelMute> = parse_all(me.channel_mutes.as_deref());
        let state = self.client();
        state.me = Some(Arc::new(me.clone()));
        if let Some(n) = me.total_unread_count {
            state.total_unread_count = n;
        }
        if let Some(n) = me.unread_channels {
            state.unread_channels = n;
        }
        if me.mutes.is_some() {
            self.set_mutes(mutes);
        }
        if me.channel_mutes.is_some() {
            self.set_channel_mutes(channel_mutes);
        }
    }

    fn set_mutes(&mut self, mutes: Vec<Mute>) {
        self.muted_users = mutes.iter().map(|m| m.target.id.clone()).collect();
        self.client().mutes = Arc::new(mutes);
    }

    fn set_channel_mutes(&mut self, mutes: Vec<ChannelMute>) {
        let muted: HashSet<String> = mutes
            .iter()
            .filter_map(|m| mute_cid(m).map(str::to_owned))
            .collect();
        self.client().channel_mutes = Arc::new(mutes);
        let flips: Vec<String> = self
            .state
            .channels
            .values()
            .filter(|c| c.muted != muted.contains(&c.cid))
            .map(|c| c.cid.clone())
            .collect();
        for cid in flips {
            let on = muted.contains(&cid);
            self.with_channel(&cid, None, |w| w.state.muted = on);
        }
    }

    fn totals(&mut self, total: Option<u64>, channels: Option<u64>) {
        if total.is_none() && channels.is_none() {
            return;
        }
        let state = self.client();
        if let Some(n) = total {
            state.total_unread_count = n;
        }
        if let Some(n) = channels {
            state.unread_channels = n;
        }
    }

    /// A watch/query response for one channel.
    pub(crate) fn load(&mut self, response: &ChannelResponse) {
        let cid = response.channel.cid.clone();
        if cid.is_empty() {
            return;
        }
        self.with_channel(&cid, Some(&response.channel), |w| w.load(response));
        self.list(&cid, Listing::Keep);
    }

    /// A `query_channels` response: its channels, and the query's list.
    pub(crate) fn load_query(
        &mut self,
        request: &QueryChannelsRequest,
        channels: &[ChannelResponse],
    ) {
        for c in channels {
            self.load(c);
        }
        let cids: Vec<String> = channels.iter().map(|c| c.channel.cid.clone()).collect();
        let first_page = request.offset.unwrap_or(0) == 0;
        let state = self.client();
        let queries = Arc::make_mut(&mut state.queries);
        match queries.iter_mut().find(|q| q.matches(request)) {
            Some(q) if !first_page => {
                for cid in cids {
                    if !q.cids.contains(&cid) {
                        q.cids.push(cid);
                    }
                }
            }
            // The server's order for the first page.
            Some(q) => q.cids = cids,
            None => queries.push(QueryChannelsState {
                filter: request.filter_conditions.clone(),
                sort: request.sort.clone(),
                cids,
            }),
        }
    }
}

fn mute_cid(m: &ChannelMute) -> Option<&str> {
    m.channel.as_ref().map(|c| c.cid.as_str())
}

fn parse_all<T: serde::de::DeserializeOwned>(values: Option<&[serde_json::Value]>) -> Vec<T> {
    values
        .unwrap_or_default()
        .iter()
        .filter_map(|v| serde_json::from_value(v.clone()).ok())
        .collect()
}

impl Store {
    pub(crate) fn new(executor: Executor) -> Self {
        Store {
            inner: Mutex::new(Inner::default()),
            observers: Arc::default(),
            executor,
            scheduler: Mutex::new(None),
            sweep: Mutex::new(None),
            shut_down: Default::default(),
            publish: Mutex::new(None),
        }
    }

    /// Hands every snapshot published from now on to `hook`, in version order, under the
    /// store's lock (keep it short: the offline store sends it to its writer thread).
    #[cfg_attr(not(feature = "offline"), allow(dead_code))]
    pub(crate) fn set_publish_hook(&self, hook: PublishHook) {
        *lock(&self.publish) = Some(hook);
    }

    /// Drops every observer (and what it captured, such as a `ChatClient`) and stops the
    /// typing timer.
    pub(crate) fn shutdown(&self) {
        self.shut_down
            .store(true, std::sync::atomic::Ordering::Release);
        let observers = std::mem::take(&mut *lock(&self.observers));
        drop(observers);
        lock(&self.scheduler).take();
        lock(&self.sweep).take();
        lock(&self.publish).take();
    }

    /// Expires typing users at their deadlines on `scheduler` (the shared timer), with
    /// the sweep itself run by `runner` (the client's pool).
    pub(crate) fn set_scheduler(&self, scheduler: Box<Scheduler>, runner: Box<Runner>) {
        *lock(&self.scheduler) = Some((Arc::from(scheduler), Arc::from(runner)));
    }

    /// Sweeps the typing users at `at`.
    fn expire_typing_at(self: &Arc<Self>, at: Instant) {
        if self.shut_down.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        let sweep =
            Arc::clone(lock(&self.sweep).get_or_insert_with(|| {
                Arc::new(TypingSweep(Arc::downgrade(self))) as Arc<dyn Expire>
            }));
        // With the lock released, as in `TypingSweep::expire`.
        let schedule = lock(&self.scheduler)
            .as_ref()
            .map(|(schedule, _)| Arc::clone(schedule));
        if let Some(schedule) = schedule {
            schedule(at, Arc::downgrade(&sweep));
        }
    }

    /// The current client state.
    pub(crate) fn snapshot(&self) -> Arc<ClientState> {
        Arc::clone(&lock(&self.inner).state)
    }

    /// The current state of one channel.
    pub(crate) fn channel(&self, cid: &str) -> Option<Arc<ChannelState>> {
        lock(&self.inner).state.channels.get(cid).cloned()
    }

    /// Changes the state with `f`, then publishes the new snapshot to the observers of
    /// what changed.
    pub(crate) fn update(&self, f: impl FnOnce(&mut Inner)) {
        let mut due: Vec<Arc<Observer>> = Vec::new();
        {
            let mut inner = lock(&self.inner);
            f(&mut inner);
            if !inner.dirty {
                return;
            }
            inner.dirty = false;
            let changed = std::mem::take(&mut inner.changed);
            Arc::make_mut(&mut inner.state).version += 1;
            let state = Arc::clone(&inner.state);
            if let Some(hook) = lock(&self.publish).as_ref() {
                hook(&state);
            }
            // Offered under the store's lock: slots see snapshots in version order.
            for o in lock(&self.observers).iter() {
                let snapshot = match &o.cid {
                    None => Some(Snapshot::Client(Arc::clone(&state))),
                    Some(cid) if changed.contains(cid) => {
                        state.channels.get(cid).cloned().map(Snapshot::Channel)
                    }
                    Some(_) => None,
                };
                if let Some(s) = snapshot
                    && o.offer(s)
                {
                    due.push(Arc::clone(o));
                }
            }
        }
        for o in due {
            o.schedule();
        }
    }

    /// The bus's hook: applies `event` before listeners get it.
    pub(crate) fn apply(self: &Arc<Self>, event: &ChatEvent) {
        let now = Instant::now();
        self.update(|inner| inner.apply(event, now));
        if let ChatEvent::TypingStart(_) = event {
            self.expire_typing_at(now + TYPING_TIMEOUT);
        }
    }

    /// A watch/query/create response.
    pub(crate) fn loaded(&self, response: &ChannelResponse) {
        self.update(|inner| inner.load(response));
    }

    /// A `query_channels` response.
    pub(crate) fn queried(&self, request: &QueryChannelsRequest, channels: &[ChannelResponse]) {
        self.update(|inner| inner.load_query(request, channels));
    }

    /// A message this client is sending to `cid`: shown at once as pending, as the
    /// current user's.
    pub(crate) fn pending(&self, cid: &str, message: &Message) {
        self.update(|inner| {
            let mut message = message.clone();
            if message.user.is_none() {
                message.user = inner.state.me.as_deref().cloned();
            }
            message.cid.get_or_insert_with(|| cid.to_owned());
            inner.with_channel(cid, None, |w| w.pending(&message));
        });
    }

    /// [`pending`](Self::pending), ordered at `at` (ns: when the send was made).
    #[cfg(feature = "offline")]
    pub(crate) fn pending_at(&self, cid: &str, message: &Message, at: i128) {
        self.update(|inner| {
            let mut message = message.clone();
            if message.user.is_none() {
                message.user = inner.state.me.as_deref().cloned();
            }
            message.cid.get_or_insert_with(|| cid.to_owned());
            inner.with_channel(cid, None, |w| w.pending_at(&message, at));
        });
    }

    /// The send of message `id` to `cid` failed.
    pub(crate) fn failed(&self, cid: &str, id: &str) {
        self.update(|inner| {
            inner.with_channel(cid, None, |w| w.failed(id));
        });
    }

    /// The server's copy of a message of `cid` (sent, edited or soft-deleted).
    pub(crate) fn synced(&self, cid: &str, message: &Message) {
        self.update(|inner| {
            inner.with_channel(cid, None, |w| w.synced(message));
        });
    }

    /// A hard delete of a message of `cid` succeeded.
    pub(crate) fn removed(&self, cid: &str, message: &Message) {
        self.update(|inner| {
            inner.with_channel(cid, None, |w| w.message_deleted(message, true));
        });
    }

    /// Loads what the offline store cached: the user, each channel with its messages (and
    /// their status) and the query lists.
    #[cfg(feature = "offline")]
    pub(crate) fn restore(
        &self,
        me: Option<User>,
        channels: Vec<CachedChannel>,
        queries: Vec<QueryChannelsState>,
    ) {
        use super::SyncStatus;
        self.update(|inner| {
            if let Some(me) = &me {
                inner.set_me(me);
            }
            for (mut response, messages) in channels {
                let cid = response.channel.cid.clone();
                response.messages = messages
                    .iter()
                    .filter(|(_, s, _)| *s == SyncStatus::Synced)
                    .map(|(m, _, _)| m.clone())
                    .collect();
                inner.with_channel(&cid, Some(&response.channel), |w| {
                    w.load(&response);
                    for (m, status, at) in &messages {
                        if *status != SyncStatus::Synced {
                            w.pending_at(m, *at);
                        }
                        if *status == SyncStatus::Failed {
                            w.failed(&m.id);
                        }
                    }
                });
            }
            let known = Arc::clone(&inner.state.channels);
            let state = inner.client();
            state.queries = Arc::new(
                queries
                    .into_iter()
                    .map(|mut q| {
                        q.cids.retain(|c| known.contains_key(c));
                        q
                    })
                    .collect(),
            );
        });
    }

    /// Forgets everything but the connection state (a disconnect or a user switch).
    pub(crate) fn reset(&self) {
        self.update(|inner| {
            let connection_state = inner.state.connection_state;
            let cids: Vec<String> = inner.state.channels.keys().cloned().collect();
            let version = inner.state.version;
            *inner = Inner::default();
            inner.state = Arc::new(ClientState {
                connection_state,
                version,
                ..ClientState::default()
            });
            inner.changed.extend(cids);
            inner.dirty = true;
        });
    }

    pub(crate) fn observe(
        &self,
        cid: Option<String>,
        executor: Option<Executor>,
        deliver: Box<dyn Fn(Snapshot) + Send + Sync>,
        on_dispose: Option<Box<dyn Fn() + Send + Sync>>,
    ) -> Observation {
        let executor = executor.unwrap_or_else(|| self.executor.clone());
        let (observation, observer) =
            observe::register(&self.observers, cid.clone(), executor, deliver, on_dispose);
        // The current state first, so a new observer renders at once.
        let current = {
            let inner = lock(&self.inner);
            match &cid {
                None => Some(Snapshot::Client(Arc::clone(&inner.state))),
                Some(cid) => inner
                    .state
                    .channels
                    .get(cid)
                    .cloned()
                    .map(Snapshot::Channel),
            }
            .filter(|s| observer.offer(s.clone()))
        };
        if current.is_some() {
            observer.schedule();
        }
        observation
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// The sweep calls its runner with the store's lock released: a runner that drops a
    /// client's last handle shuts the store down, which takes that lock (the shared timer
    /// thread deadlocked there, and every client's deadlines with it).
    #[test]
    fn a_sweep_whose_runner_shuts_the_store_down_does_not_deadlock() {
        let store = Arc::new(Store::new(stream_chat_callbacks::Executor::pool_thread()));
        let target = Arc::downgrade(&store);
        store.set_scheduler(
            Box::new(|_, _| {}),
            Box::new(move |_sweep| {
                if let Some(store) = target.upgrade() {
                    store.shutdown();
                }
            }),
        );
        let sweep = TypingSweep(Arc::downgrade(&store));
        let (tx, rx) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            sweep.expire();
            let _ = tx.send(());
        });
        assert!(
            rx.recv_timeout(Duration::from_secs(10)).is_ok(),
            "the sweep deadlocked"
        );
    }
}
