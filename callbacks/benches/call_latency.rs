//! Enqueue→callback latency (p50/p99) and throughput for each executor, beside a baseline
//! of one `std::thread::spawn` plus a channel per call. Prints a Markdown table.
//!
//! Run: `cargo bench -p stream-chat-callbacks --bench call_latency`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, bounded, unbounded};
use stream_chat_callbacks::{Call, CallbackQueue, ChatResult, Executor, WorkerPool};

const WARMUP: usize = 2_000;
const LATENCY_SAMPLES: usize = 20_000;
const THROUGHPUT_CALLS: usize = 200_000;
const BASELINE_LATENCY_SAMPLES: usize = 3_000;
const BASELINE_THROUGHPUT_CALLS: usize = 20_000;
const IDLE_SAMPLES: usize = 1_000;
const IDLE_GAP: Duration = Duration::from_millis(1);
const WAIT: Duration = Duration::from_secs(60);

struct Row {
    name: &'static str,
    p50: Duration,
    p99: Duration,
    calls_per_sec: f64,
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    (at(0.50), at(0.99))
}

/// One call at a time: time from `enqueue` to the callback starting.
fn call_latency(pool: &WorkerPool, executor: &Executor) -> (Duration, Duration) {
    let (tx, rx) = bounded::<Duration>(1);
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..WARMUP + LATENCY_SAMPLES {
        let call = Call::new(pool, |_| ChatResult::Success(()));
        let tx = tx.clone();
        let start = Instant::now();
        call.enqueue_on(executor, move |_| tx.send(start.elapsed()).unwrap());
        let elapsed = rx.recv_timeout(WAIT).expect("callback did not fire");
        if i >= WARMUP {
            samples.push(elapsed);
        }
    }
    percentiles(samples)
}

/// Like [`call_latency`], but the pool idles between calls, so each enqueue has to wake
/// a parked worker (the usual case for an app making occasional requests).
fn idle_call_latency(pool: &WorkerPool) -> (Duration, Duration) {
    let (tx, rx) = bounded::<Duration>(1);
    let mut samples = Vec::with_capacity(IDLE_SAMPLES);
    for _ in 0..IDLE_SAMPLES {
        thread::sleep(IDLE_GAP); // let the workers park; not synchronisation
        let call = Call::new(pool, |_| ChatResult::Success(()));
        let tx = tx.clone();
        let start = Instant::now();
        call.enqueue(move |_| tx.send(start.elapsed()).unwrap());
        samples.push(rx.recv_timeout(WAIT).expect("callback did not fire"));
    }
    percentiles(samples)
}

/// Completion signal shared by all callbacks of a throughput run.
struct Countdown {
    left: AtomicUsize,
    done: Sender<()>,
}

impl Countdown {
    fn hit(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.done.send(()).unwrap();
        }
    }
}

/// Enqueues `THROUGHPUT_CALLS` calls back to back; calls/s until the last callback ran.
fn call_throughput(pool: &WorkerPool, executor: &Executor) -> f64 {
    let (done, finished) = bounded(1);
    let countdown = Arc::new(Countdown {
        left: AtomicUsize::new(THROUGHPUT_CALLS),
        done,
    });
    let start = Instant::now();
    for _ in 0..THROUGHPUT_CALLS {
        let countdown = countdown.clone();
        Call::new(pool, |_| ChatResult::Success(())).enqueue_on(executor, move |_| countdown.hit());
    }
    finished
        .recv_timeout(WAIT)
        .expect("callbacks did not all fire");
    THROUGHPUT_CALLS as f64 / start.elapsed().as_secs_f64()
}

fn measure(name: &'static str, pool: &WorkerPool, executor: &Executor) -> Row {
    let (p50, p99) = call_latency(pool, executor);
    let calls_per_sec = call_throughput(pool, executor);
    Row {
        name,
        p50,
        p99,
        calls_per_sec,
    }
}

/// A thread that drains `queue` the way a GUI loop would.
fn queue_loop(queue: CallbackQueue, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    thread::Builder::new()
        .name("loop".into())
        .spawn(move || {
            while !stop.load(Ordering::Acquire) {
                queue.wait_and_run(Instant::now() + Duration::from_millis(10));
            }
            queue.run_pending();
        })
        .unwrap()
}

/// Baseline: a fresh thread per call, its result sent back over a channel.
fn baseline() -> Row {
    let (tx, rx) = unbounded::<(Instant, ChatResult<()>)>();
    let mut samples = Vec::with_capacity(BASELINE_LATENCY_SAMPLES);
    for _ in 0..BASELINE_LATENCY_SAMPLES {
        let tx = tx.clone();
        let start = Instant::now();
        thread::spawn(move || tx.send((start, ChatResult::Success(()))).unwrap());
        let (start, _result) = rx.recv_timeout(WAIT).unwrap();
        samples.push(start.elapsed());
    }
    let (p50, p99) = percentiles(samples);

    let start = Instant::now();
    for _ in 0..BASELINE_THROUGHPUT_CALLS {
        let tx = tx.clone();
        thread::spawn(move || tx.send((Instant::now(), ChatResult::Success(()))).unwrap());
    }
    for _ in 0..BASELINE_THROUGHPUT_CALLS {
        let (_sent, result) = rx.recv_timeout(WAIT).unwrap();
        assert!(result.is_success());
    }
    let calls_per_sec = BASELINE_THROUGHPUT_CALLS as f64 / start.elapsed().as_secs_f64();
    Row {
        name: "baseline: thread::spawn + channel",
        p50,
        p99,
        calls_per_sec,
    }
}

fn micros(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn main() {
    let pool = WorkerPool::new(0);
    let mut rows = Vec::new();

    rows.push(measure(
        "pool thread (default)",
        &pool,
        &Executor::pool_thread(),
    ));
    let (p50, p99) = idle_call_latency(&pool);
    rows.push(Row {
        name: "pool thread, worker idle 1 ms before each call (latency only)",
        p50,
        p99,
        calls_per_sec: f64::NAN,
    });

    let queue = CallbackQueue::new();
    let stop = Arc::new(AtomicBool::new(false));
    let drain = queue_loop(queue.clone(), stop.clone());
    rows.push(measure(
        "CallbackQueue + loop thread",
        &pool,
        &queue.executor(),
    ));
    stop.store(true, Ordering::Release);
    drain.join().unwrap();

    let (task_tx, task_rx) = unbounded::<Box<dyn FnOnce() + Send>>();
    let consumer = thread::spawn(move || task_rx.iter().for_each(|task| task()));
    let executor = Executor::from_fn(move |task| task_tx.send(task).unwrap());
    rows.push(measure("from_fn -> channel consumer", &pool, &executor));
    drop(executor);
    consumer.join().unwrap();

    rows.push(baseline());

    println!(
        "\nworker threads: {}, latency samples: {LATENCY_SAMPLES} (baseline {BASELINE_LATENCY_SAMPLES}), \
         throughput calls: {THROUGHPUT_CALLS} (baseline {BASELINE_THROUGHPUT_CALLS})\n",
        pool.threads()
    );
    println!("| executor | p50 (µs) | p99 (µs) | throughput (calls/s) |");
    println!("|---|---:|---:|---:|");
    for row in &rows {
        let throughput = if row.calls_per_sec.is_nan() {
            "-".to_owned()
        } else {
            format!("{:.0}", row.calls_per_sec)
        };
        println!(
            "| {} | {} | {} | {throughput} |",
            row.name,
            micros(row.p50),
            micros(row.p99),
        );
    }
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "\ntargets (pool thread): p50 <= 20 µs: {} (back to back), {} (idle worker); \
         throughput >= 200k calls/s: {}",
        verdict(rows[0].p50 <= Duration::from_micros(20)),
        verdict(rows[1].p50 <= Duration::from_micros(20)),
        verdict(rows[0].calls_per_sec >= 200_000.0),
    );
}
