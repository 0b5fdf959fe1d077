//! `DeadlineTimer`: targets fire at (never before) their deadlines, in deadline order,
//! once; dropped, resolved and panicking targets do not disturb the others; a stopped
//! timer fires nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use stream_chat_callbacks::{DeadlineTimer, Expire, deadline_after};

use crate::support::{Receiver, Sender, recv, thread_name, unbounded};

/// Reports `(name, when, thread)` once, when it expires; `panics` makes it panic instead.
struct Alarm {
    name: &'static str,
    done: AtomicBool,
    panics: bool,
    tx: Sender<(&'static str, Instant, String)>,
}

impl Expire for Alarm {
    fn expire(&self) {
        if self.done.swap(true, Ordering::AcqRel) {
            return;
        }
        if self.panics {
            panic!("alarm {} panics", self.name);
        }
        let _ = self.tx.send((self.name, Instant::now(), thread_name()));
    }

    fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }
}

fn alarm(name: &'static str, tx: &Sender<(&'static str, Instant, String)>) -> Arc<Alarm> {
    Arc::new(Alarm {
        name,
        done: AtomicBool::new(false),
        panics: false,
        tx: tx.clone(),
    })
}

fn weak(alarm: &Arc<Alarm>) -> Weak<dyn Expire> {
    Arc::downgrade(alarm) as Weak<dyn Expire>
}

type Fired = Receiver<(&'static str, Instant, String)>;

#[test]
fn targets_fire_in_deadline_order_never_early_on_the_timer_thread() {
    let timer = DeadlineTimer::start("timer-order").unwrap();
    let (tx, rx): (_, Fired) = unbounded();
    let now = Instant::now();
    let (late, early, middle) = (
        alarm("late", &tx),
        alarm("early", &tx),
        alarm("middle", &tx),
    );
    let at = |ms| now + Duration::from_millis(ms);
    timer.schedule(at(60), weak(&late));
    timer.schedule(at(20), weak(&early));
    timer.schedule(at(40), weak(&middle));
    let fired: Vec<_> = (0..3).map(|_| recv(&rx)).collect();
    let order: Vec<_> = fired.iter().map(|(name, ..)| *name).collect();
    assert_eq!(order, ["early", "middle", "late"]);
    for ((name, when, thread), due) in fired.iter().zip([20, 40, 60]) {
        assert!(*when >= at(due), "{name} fired before its deadline");
        assert_eq!(thread, "timer-order");
    }
}

#[test]
fn a_past_deadline_fires_at_once_and_each_target_fires_once() {
    let timer = DeadlineTimer::start("timer-past").unwrap();
    let (tx, rx): (_, Fired) = unbounded();
    let target = alarm("past", &tx);
    let earlier = Instant::now() - Duration::from_secs(1);
    timer.schedule(earlier, weak(&target));
    timer.schedule(earlier, weak(&target));
    assert_eq!(recv(&rx).0, "past");
    // A marker scheduled after both proves the second entry was passed over.
    let marker = alarm("marker", &tx);
    timer.schedule(Instant::now(), weak(&marker));
    assert_eq!(recv(&rx).0, "marker");
    assert!(rx.try_recv().is_err());
}

#[test]
fn dropped_resolved_and_panicking_targets_leave_the_others_alone() {
    let timer = DeadlineTimer::start("timer-robust").unwrap();
    let (tx, rx): (_, Fired) = unbounded();
    let now = Instant::now();
    let dropped = alarm("dropped", &tx);
    let resolved = alarm("resolved", &tx);
    let panicking = Arc::new(Alarm {
        name: "panicking",
        done: AtomicBool::new(false),
        panics: true,
        tx: tx.clone(),
    });
    let survivor = alarm("survivor", &tx);
    timer.schedule(now + Duration::from_millis(10), weak(&dropped));
    timer.schedule(now + Duration::from_millis(10), weak(&resolved));
    timer.schedule(now + Duration::from_millis(10), weak(&panicking));
    timer.schedule(now + Duration::from_millis(30), weak(&survivor));
    drop(dropped);
    resolved.done.store(true, Ordering::Release);
    assert_eq!(recv(&rx).0, "survivor");
    assert!(panicking.is_done(), "the panicking target ran");
    assert!(rx.try_recv().is_err(), "only the survivor reported");
}

#[test]
fn many_resolved_targets_are_pruned_without_losing_a_live_one() {
    let timer = DeadlineTimer::start("timer-prune").unwrap();
    let (tx, rx): (_, Fired) = unbounded();
    let far = Instant::now() + Duration::from_secs(3600);
    let resolved: Vec<_> = (0..200).map(|_| alarm("resolved", &tx)).collect();
    let live = alarm("live", &tx);
    timer.schedule(Instant::now() + Duration::from_millis(50), weak(&live));
    for target in &resolved {
        target.done.store(true, Ordering::Release);
        timer.schedule(far, weak(target));
    }
    assert_eq!(recv(&rx).0, "live");
}

#[test]
fn a_stopped_timer_fires_nothing() {
    let timer = DeadlineTimer::start("timer-stop").unwrap();
    let (tx, rx): (_, Fired) = unbounded();
    let pending = alarm("pending", &tx);
    let due = Instant::now() + Duration::from_millis(20);
    timer.schedule(due, weak(&pending));
    timer.stop();
    let later = alarm("later", &tx);
    timer.schedule(Instant::now(), weak(&later));
    // Ten times the deadline: a timer still running would have fired by then.
    let silent = rx.recv_timeout(Duration::from_millis(200));
    assert!(silent.is_err(), "fired after stop: {silent:?}");
    assert!(!pending.is_done() && !later.is_done());
}

#[test]
fn deadlines_saturate_instead_of_overflowing() {
    let now = Instant::now();
    assert_eq!(
        deadline_after(now, Duration::from_millis(5)),
        now + Duration::from_millis(5)
    );
    assert!(deadline_after(now, Duration::MAX) > now + Duration::from_secs(50 * 365 * 24 * 3600));
}
