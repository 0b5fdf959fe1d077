//! What both the bench's parent and its Rust worker need: percentiles, this process's RSS
//! and threads from `/proc`, and the workload constants both sides share.

use std::time::{Duration, Instant};

/// Upper bound for one phase inside a worker (connect all, watch all, one message's fan-out…).
pub const PHASE_BUDGET: Duration = Duration::from_secs(180);
/// Clients connecting (or watching) at once in the fleet workloads, on both sides.
pub const WINDOW: usize = 50;
/// Round trips before the measured ones, on both sides.
pub const WARMUP: usize = 20;
/// The text of every message the workloads post (the same on both sides).
pub const TEXT: &str = "Good news, everyone! This message measures how fast the chat goes.";
/// Marker of a worker's result line on its stdout (anything else there is echoed as log).
pub const RESULT_PREFIX: &str = "RESULT ";
/// A worker prints this line when its fleet is connected, watching and settled, so that
/// the parent samples the server's RSS at that moment.
pub const MARK_WATCHED: &str = "MARK watched";

/// Milliseconds as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Milliseconds from `from` to `to` (0 if `to` is earlier).
pub fn ms_between(from: Instant, to: Instant) -> f64 {
    ms(to.saturating_duration_since(from))
}

/// Nearest-rank percentile (`p` in 0..=100) of unsorted samples; `None` when empty.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// `VmRSS` (KiB) and `Threads` of this process from `/proc/self/status`; zeros where
/// there is no `/proc` (the table then says so).
pub fn proc_status() -> (u64, u64) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return (0, 0);
    };
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("Threads:"))
}
