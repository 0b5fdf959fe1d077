//! The binary's one logger. `log` allows one logger per process, and all tests of this
//! binary share the process, so no test installs its own: each registers a [`Tap`] (a
//! function called with every record at or above its level, on the thread that logs it)
//! or a [`Capture`] (the records it keeps, on a channel), and drops it when done.
//!
//! Records carry no mark of the test they come from (the SDK's threads are named alike in
//! every client), so a tap filters on something only its own test logs: a user id, a
//! connection id, a pool name. A test that needs every record of the process (no token in
//! any of them, a once-per-process warning) runs in a process of its own
//! ([`super::process::in_own_process`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};

use crossbeam_channel::Receiver;
use log::{Level, LevelFilter, Log, Metadata, Record};

type TapFn = dyn Fn(&Record<'_>) + Send + Sync;

struct Registered {
    id: u64,
    level: LevelFilter,
    tap: Arc<TapFn>,
}

static TAPS: Mutex<Vec<Registered>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

struct Router;

static ROUTER: Router = Router;

impl Log for Router {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        lock().iter().any(|r| metadata.level() <= r.level)
    }

    fn log(&self, record: &Record<'_>) {
        // Called outside the lock: a tap may log, block or panic (on purpose).
        for (level, tap) in taps() {
            if record.level() <= level {
                tap(record);
            }
        }
    }

    fn flush(&self) {}
}

fn taps() -> Vec<(LevelFilter, Arc<TapFn>)> {
    lock()
        .iter()
        .map(|r| (r.level, Arc::clone(&r.tap)))
        .collect()
}

fn lock() -> std::sync::MutexGuard<'static, Vec<Registered>> {
    TAPS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The most verbose level any tap wants, so that nothing below it is even formatted.
fn update_max_level(taps: &[Registered]) {
    let max = taps
        .iter()
        .map(|r| r.level)
        .max()
        .unwrap_or(LevelFilter::Off);
    log::set_max_level(max);
}

/// A registered function; dropping it unregisters it.
pub struct Tap {
    id: u64,
}

impl Drop for Tap {
    fn drop(&mut self) {
        let mut taps = lock();
        taps.retain(|r| r.id != self.id);
        update_max_level(&taps);
    }
}

/// Calls `tap` with every record at `level` or above, from any thread, until the returned
/// [`Tap`] is dropped.
pub fn tap(level: LevelFilter, tap: impl Fn(&Record<'_>) + Send + Sync + 'static) -> Tap {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&ROUTER).expect("no other logger: tests use support::logs");
    });
    let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
    let mut taps = lock();
    taps.push(Registered {
        id,
        level,
        tap: Arc::new(tap),
    });
    update_max_level(&taps);
    Tap { id }
}

/// One captured record.
#[derive(Clone, Debug)]
pub struct Line {
    pub level: Level,
    pub target: String,
    pub text: String,
}

/// The records a test keeps, in the order they were logged.
pub struct Capture {
    pub rx: Receiver<Line>,
    _tap: Tap,
}

/// Keeps every record at `level` or above for which `keep` holds.
pub fn capture(
    level: LevelFilter,
    keep: impl Fn(&Line) -> bool + Send + Sync + 'static,
) -> Capture {
    let (tx, rx) = crossbeam_channel::unbounded();
    let tap = tap(level, move |record| {
        let line = Line {
            level: record.level(),
            target: record.target().to_owned(),
            text: record.args().to_string(),
        };
        if keep(&line) {
            let _ = tx.send(line);
        }
    });
    Capture { rx, _tap: tap }
}
