//! The event bus: events are numbered when published and handed, in order, to the
//! listeners registered before, through the client's strand: a serial queue of its events
//! that a shared dispatcher pool drains, one job at a time per client.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use stream_chat_callbacks::{Executor, WorkerPool};

use super::chat_event::ChatEvent;
use super::subscription::{Registry, Sub, Subscription, lock};

/// How many events one drain job hands out before it queues itself again behind the other
/// clients' strands, so a busy client cannot starve the rest of the dispatcher.
const BATCH: usize = 32;

/// Registered listeners plus the client's strand on the dispatcher pool.
///
/// Each event is numbered when it is published; a listener gets the events numbered from
/// the moment it registered on, however far behind the strand runs, so "from now on"
/// means from the `subscribe` call, not from whenever the dispatcher catches up.
pub(crate) struct EventBus {
    registry: Arc<Registry>,
    next_id: AtomicU64,
    strand: Arc<Strand>,
}

/// One client's events waiting for the dispatcher, and how they are handed out. At most
/// one drain job of a strand is queued or running at a time: the client's events are
/// handed out in order and never concurrently, whichever pool thread runs the job.
struct Strand {
    queue: Mutex<Queue>,
    /// The number the next published event gets.
    seq: AtomicU64,
    registry: Weak<Registry>,
    executor: Executor,
    before: Option<Arc<BeforeHook>>,
    pool: WorkerPool,
}

#[derive(Default)]
struct Queue {
    events: VecDeque<(u64, ChatEvent)>,
    /// A drain job is queued or running.
    scheduled: bool,
    /// The bus shut down: events are dropped.
    stopped: bool,
}

impl EventBus {
    /// A bus whose strand runs on `pool` (the shared dispatcher); it hands each event, in
    /// order, to `executor`. `before` sees each event first, on the dispatcher, before any
    /// listener (the state store's hook).
    pub(crate) fn new(
        pool: WorkerPool,
        executor: Executor,
        before: Option<Arc<BeforeHook>>,
    ) -> EventBus {
        let registry: Arc<Registry> = Arc::new(Mutex::new(Vec::new()));
        let strand = Arc::new(Strand {
            queue: Mutex::new(Queue::default()),
            seq: AtomicU64::new(0),
            registry: Arc::downgrade(&registry),
            executor,
            before,
            pool,
        });
        EventBus {
            registry,
            next_id: AtomicU64::new(1),
            strand,
        }
    }

    /// Stops the strand (events not yet dispatched are dropped, later ones refused) and
    /// drops every listener (and what they captured, such as a `ChatClient`). The shared
    /// dispatcher goes on serving other clients. Idempotent.
    pub(crate) fn shutdown(&self) {
        {
            let mut queue = lock(&self.strand.queue);
            queue.stopped = true;
            queue.events.clear();
        }
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
            from: self.strand.seq.load(Ordering::SeqCst),
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
            strand: Arc::clone(&self.strand),
        }
    }
}

/// A handle the connections use to publish events.
#[derive(Clone)]
pub(crate) struct EventSender {
    strand: Arc<Strand>,
}

impl EventSender {
    pub(crate) fn send(&self, event: ChatEvent) {
        let strand = &self.strand;
        let start = {
            let mut queue = lock(&strand.queue);
            if queue.stopped {
                return; // the client shut down
            }
            // Numbered under the queue's lock: the queue is in number order.
            let seq = strand.seq.fetch_add(1, Ordering::SeqCst);
            queue.events.push_back((seq, event));
            !std::mem::replace(&mut queue.scheduled, true)
        };
        if start {
            strand.schedule();
        }
    }
}

/// What sees every event before the listeners (see [`EventBus::new`]).
pub(crate) type BeforeHook = dyn Fn(&ChatEvent) + Send + Sync;

impl Strand {
    /// Queues a drain job (the strand is marked scheduled).
    fn schedule(self: &Arc<Self>) {
        let strand = Arc::clone(self);
        if self.pool.spawn(move || strand.drain()).is_err() {
            // Only when the dispatcher pool itself was shut down: nothing can deliver.
            log::error!("the event dispatcher is shut down; events are dropped");
            let mut queue = lock(&self.queue);
            queue.events.clear();
            queue.scheduled = false;
        }
    }

    /// Hands out up to [`BATCH`] events, then queues itself again if more wait.
    fn drain(self: &Arc<Self>) {
        for _ in 0..BATCH {
            let next = {
                let mut queue = lock(&self.queue);
                match queue.events.pop_front() {
                    Some(next) => next,
                    None => {
                        queue.scheduled = false;
                        return;
                    }
                }
            };
            self.dispatch(next);
        }
        let more = {
            let mut queue = lock(&self.queue);
            queue.scheduled = !queue.events.is_empty();
            queue.scheduled
        };
        if more {
            self.schedule();
        }
    }

    fn dispatch(&self, (seq, event): (u64, ChatEvent)) {
        let Some(registry) = self.registry.upgrade() else {
            return;
        };
        if let Some(before) = &self.before
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
            return;
        }
        self.executor.execute(Box::new(move || {
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
        let bus = EventBus::new(WorkerPool::new(2), Executor::pool_thread(), None);
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
