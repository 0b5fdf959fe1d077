//! The event bus: events are numbered when published and handed, in order, to the
//! listeners registered before, through one dispatcher thread per client.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crossbeam_channel::{Receiver, Sender};
use stream_chat_callbacks::Executor;

use super::chat_event::ChatEvent;
use super::subscription::{Registry, Sub, Subscription, lock};

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
    /// ends once the bus (every sender) is gone. `before` sees each event first, on the
    /// dispatcher thread, before any listener (the state store's hook).
    pub(crate) fn start(
        executor: Executor,
        before: Option<Arc<BeforeHook>>,
    ) -> Result<EventBus, std::io::Error> {
        let registry: Arc<Registry> = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = crossbeam_channel::unbounded();
        let (stop, stopped) = crossbeam_channel::bounded(0);
        let weak = Arc::downgrade(&registry);
        std::thread::Builder::new()
            .name("stream-chat-events".into())
            .spawn(move || dispatch(rx, stopped, weak, executor, before))?;
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
        Subscription::new(sub, &self.registry)
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

/// What sees every event before the listeners (see [`EventBus::start`]).
pub(crate) type BeforeHook = dyn Fn(&ChatEvent) + Send + Sync;

fn dispatch(
    rx: Receiver<(u64, ChatEvent)>,
    stopped: Receiver<()>,
    registry: Weak<Registry>,
    executor: Executor,
    before: Option<Arc<BeforeHook>>,
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
        if let Some(before) = &before
            && catch_unwind(AssertUnwindSafe(|| before(&event))).is_err()
        {
            log::error!("the state store panicked on {}", event.kind());
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use stream_chat_protocol::Event;

    #[test]
    fn events_arrive_in_order_filtered_and_stop_after_dispose() {
        let bus = EventBus::start(Executor::pool_thread(), None).unwrap();
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
