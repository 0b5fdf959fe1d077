//! Events: the public `ChatEvent`, `ConnectionState` and `Subscription`, and the private
//! bus that delivers events in order through one dispatcher thread per client.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crossbeam_channel::{Receiver, Sender};
use stream_chat_callbacks::{ChatError, Executor};
use stream_chat_protocol::events::AnyEvent;
use stream_chat_protocol::{Event, User, cid};

use crate::typed_events::{
    ConnectionRecoveredEvent, MessageDeletedEvent, MessageReadEvent, MessageUpdatedEvent,
    NewMessageEvent, NotificationAddedToChannelEvent, NotificationMarkReadEvent,
    NotificationMessageNewEvent, UserStartWatchingEvent, UserStopWatchingEvent,
};

/// The state of the client's WebSocket connection.
///
/// ```
/// use stream_chat_client::ConnectionState;
/// assert_eq!(ConnectionState::Connected.to_string(), "connected");
/// assert!(ConnectionState::Connected.is_connected());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectionState {
    /// `connect_user` (or a guest/anonymous connect) is opening the first connection.
    Connecting,
    /// The socket is up and the server confirmed the user.
    Connected,
    /// No socket: nobody is connected, or the connection was lost. After a lost connection
    /// the client moves on to [`Reconnecting`](Self::Reconnecting) by itself unless the
    /// error was terminal (then the user is disconnected).
    Disconnected,
    /// The connection was lost and the client is opening a new one with back-off.
    Reconnecting,
}

impl ConnectionState {
    /// True for [`ConnectionState::Connected`].
    ///
    /// ```
    /// assert!(!stream_chat_client::ConnectionState::Reconnecting.is_connected());
    /// ```
    pub fn is_connected(self) -> bool {
        self == ConnectionState::Connected
    }

    /// A short lower-case name.
    ///
    /// ```
    /// assert_eq!(stream_chat_client::ConnectionState::Reconnecting.as_str(), "reconnecting");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Connecting => "connecting",
            ConnectionState::Connected => "connected",
            ConnectionState::Disconnected => "disconnected",
            ConnectionState::Reconnecting => "reconnecting",
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Event type names, for [`subscribe_for`](crate::ChatClient::subscribe_for): the
/// protocol's list (the server's events and the local `connection.changed` /
/// `connection.recovered`).
///
/// ```
/// use stream_chat_client::{ChatClient, event_types};
/// # let client = ChatClient::builder("key").build().unwrap();
/// let _s = client.subscribe_for(&[event_types::CONNECTION_CHANGED], |e| println!("{e:?}"));
/// assert_eq!(event_types::MESSAGE_NEW, "message.new");
/// ```
pub use stream_chat_protocol::events::types as event_types;

/// An event delivered to [`subscribe`](crate::ChatClient::subscribe) listeners.
///
/// Server frames of the types below arrive typed, as the protocol's structs (the
/// keep-alive and the error frame as named fields, for matching); other `notification.*` events arrive as
/// [`ChatEvent::Notification`] and everything else as [`ChatEvent::Other`], both with the
/// full decoded frame. New variants may be added, so match with a wildcard arm. For one
/// type, [`subscribe_for_type`](crate::ChatClient::subscribe_for_type) hands you the struct.
///
/// ```
/// use stream_chat_client::{ChatEvent, ConnectionState};
///
/// let event = ChatEvent::ConnectionChanged { state: ConnectionState::Connected, error: None };
/// assert_eq!(event.kind(), "connection.changed");
/// match event {
///     ChatEvent::ConnectionChanged { state, .. } => assert!(state.is_connected()),
///     _ => {}
/// }
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum ChatEvent {
    /// Local `connection.changed`: the connection moved to `state`. `error` says why a
    /// connection was lost or a connect failed.
    ConnectionChanged {
        /// The new state.
        state: ConnectionState,
        /// The cause, for changes caused by a failure.
        error: Option<ChatError>,
    },
    /// `health.check`: the server's keep-alive. The first one of each connection carries
    /// the connected user as `me`.
    HealthCheck {
        /// The connection it belongs to.
        connection_id: String,
        /// The server's timestamp (RFC 3339).
        created_at: Option<String>,
        /// The connected user, on the first health check of a connection.
        me: Option<Box<User>>,
    },
    /// `connection.error`: the server rejected or dropped the connection with this error
    /// (Stream's code and HTTP status are on the `ChatError`).
    ConnectionError {
        /// The server's error.
        error: ChatError,
    },
    /// `message.new` (live, or recovered after a reconnect).
    MessageNew(Box<NewMessageEvent>),
    /// `message.updated`.
    MessageUpdated(Box<MessageUpdatedEvent>),
    /// `message.deleted`.
    MessageDeleted(Box<MessageDeletedEvent>),
    /// `message.read`.
    MessageRead(Box<MessageReadEvent>),
    /// `user.watching.start`.
    UserWatchingStart(Box<UserStartWatchingEvent>),
    /// `user.watching.stop`.
    UserWatchingStop(Box<UserStopWatchingEvent>),
    /// `notification.message_new`.
    NotificationMessageNew(Box<NotificationMessageNewEvent>),
    /// `notification.mark_read`.
    NotificationMarkRead(Box<NotificationMarkReadEvent>),
    /// `notification.added_to_channel`.
    NotificationAddedToChannel(Box<NotificationAddedToChannelEvent>),
    /// Any other `notification.*` event, decoded but not interpreted.
    Notification(Box<Event>),
    /// Local `connection.recovered`: after a reconnect, the watched channels are watched
    /// again and their missed messages were delivered.
    ConnectionRecovered(Box<ConnectionRecoveredEvent>),
    /// Any other server event, decoded but not interpreted.
    Other(Box<Event>),
}

impl ChatEvent {
    /// The event type: `connection.changed`, `health.check`, `connection.error`, or the
    /// server's `type` for [`ChatEvent::Other`] (`message.new`, ...).
    ///
    /// ```
    /// use stream_chat_client::{ChatEvent, Event};
    /// assert_eq!(ChatEvent::Other(Box::new(Event::new("message.new"))).kind(), "message.new");
    /// ```
    pub fn kind(&self) -> &str {
        match self {
            ChatEvent::ConnectionChanged { .. } => event_types::CONNECTION_CHANGED,
            ChatEvent::HealthCheck { .. } => event_types::HEALTH_CHECK,
            ChatEvent::ConnectionError { .. } => event_types::CONNECTION_ERROR,
            ChatEvent::MessageNew(_) => NewMessageEvent::TYPE,
            ChatEvent::MessageUpdated(_) => MessageUpdatedEvent::TYPE,
            ChatEvent::MessageDeleted(_) => MessageDeletedEvent::TYPE,
            ChatEvent::MessageRead(_) => MessageReadEvent::TYPE,
            ChatEvent::UserWatchingStart(_) => UserStartWatchingEvent::TYPE,
            ChatEvent::UserWatchingStop(_) => UserStopWatchingEvent::TYPE,
            ChatEvent::NotificationMessageNew(_) => NotificationMessageNewEvent::TYPE,
            ChatEvent::NotificationMarkRead(_) => NotificationMarkReadEvent::TYPE,
            ChatEvent::NotificationAddedToChannel(_) => NotificationAddedToChannelEvent::TYPE,
            ChatEvent::ConnectionRecovered(_) => ConnectionRecoveredEvent::TYPE,
            ChatEvent::Notification(e) | ChatEvent::Other(e) => &e.kind,
        }
    }

    /// The channel (`<type>:<id>`) the event belongs to, if any (`None` for connection
    /// events and for the `"*"` of health checks).
    ///
    /// ```
    /// use stream_chat_client::{ChatEvent, Event};
    /// let mut frame = Event::new("typing.start");
    /// frame.cid = Some("messaging:general".into());
    /// assert_eq!(ChatEvent::from(frame).cid(), Some("messaging:general"));
    /// ```
    pub fn cid(&self) -> Option<&str> {
        match self {
            ChatEvent::MessageNew(e) => Some(&e.cid),
            ChatEvent::MessageUpdated(e) => Some(&e.cid),
            ChatEvent::MessageDeleted(e) => Some(&e.cid),
            ChatEvent::MessageRead(e) => Some(&e.cid),
            ChatEvent::UserWatchingStart(e) => Some(&e.cid),
            ChatEvent::UserWatchingStop(e) => Some(&e.cid),
            ChatEvent::NotificationMessageNew(e) => Some(&e.cid),
            ChatEvent::NotificationAddedToChannel(e) => Some(&e.cid),
            ChatEvent::NotificationMarkRead(e) => e.cid.as_deref(),
            ChatEvent::Notification(e) | ChatEvent::Other(e) => {
                e.cid.as_deref().filter(|c| cid::split(c).is_some())
            }
            ChatEvent::ConnectionChanged { .. }
            | ChatEvent::HealthCheck { .. }
            | ChatEvent::ConnectionError { .. }
            | ChatEvent::ConnectionRecovered(_) => None,
        }
    }
}

impl From<Event> for ChatEvent {
    /// Types a generic server frame: `health.check`, `connection.error`, the typed
    /// channel and notification events, else [`ChatEvent::Notification`] or
    /// [`ChatEvent::Other`]. (The SDK decodes socket frames straight into their types.)
    fn from(event: Event) -> Self {
        crate::typed_events::from_server(AnyEvent::from_frame(event))
    }
}

type Listener = dyn Fn(&ChatEvent) + Send + Sync;
type Filter = dyn Fn(&ChatEvent) -> bool + Send + Sync;

struct Sub {
    id: u64,
    /// The number of the first event published after it registered: it gets none before.
    from: u64,
    active: AtomicBool,
    /// What the filter selects, for `Debug`.
    describe: String,
    filter: Box<Filter>,
    listener: Box<Listener>,
    /// Disposed by its first delivery.
    single: bool,
}

impl Sub {
    fn wants(&self, seq: u64, event: &ChatEvent) -> bool {
        seq >= self.from && (self.filter)(event)
    }
}

type Registry = Mutex<Vec<Arc<Sub>>>;

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

/// Registered listeners plus the queue of the client's dispatcher thread.
///
/// Each event is numbered when it is published; a listener gets the events numbered from
/// the moment it registered on, however far behind the dispatcher thread runs, so "from
/// now on" means from the `subscribe` call, not from whenever the dispatcher catches up.
pub(crate) struct EventBus {
    registry: Arc<Registry>,
    next_id: AtomicU64,
    /// The number the next published event gets.
    seq: Arc<AtomicU64>,
    tx: Sender<(u64, ChatEvent)>,
    /// Dropped by [`shutdown`](Self::shutdown) to end the dispatcher.
    stop: Mutex<Option<Sender<()>>>,
}

impl EventBus {
    /// Starts the dispatcher thread; it hands each event, in order, to `executor` and
    /// ends once the bus (every sender) is gone.
    pub(crate) fn start(executor: Executor) -> Result<EventBus, std::io::Error> {
        let registry: Arc<Registry> = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = crossbeam_channel::unbounded();
        let (stop, stopped) = crossbeam_channel::bounded(0);
        let weak = Arc::downgrade(&registry);
        std::thread::Builder::new()
            .name("stream-chat-events".into())
            .spawn(move || dispatch(rx, stopped, weak, executor))?;
        Ok(EventBus {
            registry,
            next_id: AtomicU64::new(1),
            seq: Arc::new(AtomicU64::new(0)),
            tx,
            stop: Mutex::new(Some(stop)),
        })
    }

    /// Ends the dispatcher thread and drops every listener (and what they captured, such
    /// as a `ChatClient`). Events not yet dispatched are dropped. Idempotent.
    pub(crate) fn shutdown(&self) {
        drop(lock(&self.stop).take());
        let listeners = std::mem::take(&mut *lock(&self.registry));
        for sub in &listeners {
            sub.active.store(false, Ordering::Release);
        }
        drop(listeners);
    }

    pub(crate) fn subscribe(
        &self,
        filter: Option<Vec<String>>,
        listener: impl Fn(&ChatEvent) + Send + Sync + 'static,
    ) -> Subscription {
        match filter {
            None => self.subscribe_where("all events".into(), |_| true, listener),
            Some(types) => self.subscribe_where(
                format!("types {types:?}"),
                move |e| types.iter().any(|t| t == e.kind()),
                listener,
            ),
        }
    }

    /// Registers `listener` for the events `filter` selects; `describe` names them.
    pub(crate) fn subscribe_where(
        &self,
        describe: String,
        filter: impl Fn(&ChatEvent) -> bool + Send + Sync + 'static,
        listener: impl Fn(&ChatEvent) + Send + Sync + 'static,
    ) -> Subscription {
        self.register(describe, filter, listener, false)
    }

    /// Like [`subscribe_where`](Self::subscribe_where), disposed by its first delivery.
    pub(crate) fn subscribe_single(
        &self,
        describe: String,
        filter: impl Fn(&ChatEvent) -> bool + Send + Sync + 'static,
        listener: impl Fn(&ChatEvent) + Send + Sync + 'static,
    ) -> Subscription {
        self.register(describe, filter, listener, true)
    }

    fn register(
        &self,
        describe: String,
        filter: impl Fn(&ChatEvent) -> bool + Send + Sync + 'static,
        listener: impl Fn(&ChatEvent) + Send + Sync + 'static,
        single: bool,
    ) -> Subscription {
        let sub = Arc::new(Sub {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            from: self.seq.load(Ordering::SeqCst),
            active: AtomicBool::new(true),
            describe,
            filter: Box::new(filter),
            listener: Box::new(listener),
            single,
        });
        lock(&self.registry).push(Arc::clone(&sub));
        Subscription {
            sub,
            registry: Arc::downgrade(&self.registry),
        }
    }

    pub(crate) fn sender(&self) -> EventSender {
        EventSender {
            seq: Arc::clone(&self.seq),
            tx: self.tx.clone(),
        }
    }
}

/// A handle the connection threads use to publish events.
#[derive(Clone)]
pub(crate) struct EventSender {
    seq: Arc<AtomicU64>,
    tx: Sender<(u64, ChatEvent)>,
}

impl EventSender {
    pub(crate) fn send(&self, event: ChatEvent) {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst);
        // Fails only once the dispatcher is gone, i.e. the client was dropped.
        let _ = self.tx.send((seq, event));
    }
}

fn dispatch(
    rx: Receiver<(u64, ChatEvent)>,
    stopped: Receiver<()>,
    registry: Weak<Registry>,
    executor: Executor,
) {
    loop {
        let (seq, event) = crossbeam_channel::select! {
            recv(rx) -> event => match event {
                Ok(event) => event,
                Err(_) => return,
            },
            recv(stopped) -> _ => return,
        };
        let Some(registry) = registry.upgrade() else {
            return;
        };
        let targets: Vec<Arc<Sub>> = {
            let mut subs = lock(&registry);
            let targets: Vec<Arc<Sub>> = subs
                .iter()
                .filter(|s| s.active.load(Ordering::Acquire) && s.wants(seq, &event))
                .cloned()
                .collect();
            // A single-event listener is taken out by the first event it wants.
            subs.retain(|s| !(s.single && targets.iter().any(|t| t.id == s.id)));
            targets
        };
        drop(registry);
        if targets.is_empty() {
            continue;
        }
        executor.execute(Box::new(move || {
            for sub in targets {
                // The swap makes a single-event delivery happen exactly once.
                let active = if sub.single {
                    sub.active.swap(false, Ordering::AcqRel)
                } else {
                    sub.active.load(Ordering::Acquire)
                };
                if !active {
                    continue;
                }
                if catch_unwind(AssertUnwindSafe(|| (sub.listener)(&event))).is_err() {
                    log::error!("an event listener panicked on {}", event.kind());
                }
            }
        }));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn events_arrive_in_order_filtered_and_stop_after_dispose() {
        let bus = EventBus::start(Executor::pool_thread()).unwrap();
        let (tx, rx) = crossbeam_channel::unbounded();
        let all = {
            let tx = tx.clone();
            bus.subscribe(None, move |e| {
                tx.send(("all", e.kind().to_owned())).unwrap()
            })
        };
        let only = bus.subscribe(Some(vec!["health.check".into()]), move |e| {
            tx.send(("hc", e.kind().to_owned())).unwrap()
        });
        let sender = bus.sender();
        for i in 0..50 {
            sender.send(ChatEvent::Other(Box::new(Event::new(format!("e{i}")))));
        }
        sender.send(ChatEvent::HealthCheck {
            connection_id: "c".into(),
            created_at: None,
            me: None,
        });
        let got: Vec<_> = (0..52)
            .map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap())
            .collect();
        let expected: Vec<_> = (0..50)
            .map(|i| ("all", format!("e{i}")))
            .chain([
                ("all", "health.check".into()),
                ("hc", "health.check".into()),
            ])
            .collect();
        assert_eq!(got, expected);
        drop(all);
        only.dispose();
        sender.send(ChatEvent::Other(Box::new(Event::new("late"))));
        // A marker subscription proves the dispatcher got past "late" without delivering it.
        let (mtx, mrx) = crossbeam_channel::unbounded();
        let _marker = bus.subscribe(Some(vec!["marker".into()]), move |_| mtx.send(()).unwrap());
        sender.send(ChatEvent::Other(Box::new(Event::new("marker"))));
        mrx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(rx.try_recv().is_err());
    }
}
