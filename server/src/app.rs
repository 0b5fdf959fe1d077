//! The state every request handler and connection task shares: the settings, the chat
//! domain, and the signals of the server's own life (shutdown, running socket tasks).

use tokio::sync::watch;

use crate::config::Config;
use crate::domain::Chat;
use crate::limits::RateLimiter;

/// Shared server state.
pub(crate) struct AppState {
    pub config: Config,
    pub chat: Chat,
    /// Flips to `true` when the server shuts down; connection tasks watch it.
    pub shutdown: watch::Sender<bool>,
    /// Number of running WebSocket tasks (shutdown waits for zero).
    pub connections_open: watch::Sender<usize>,
    /// Rate-limit counters (issue 15).
    pub limiter: RateLimiter,
}

/// Counts a running WebSocket task while alive.
pub(crate) struct TaskGuard<'a>(&'a watch::Sender<usize>);

impl Drop for TaskGuard<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl AppState {
    /// The state of a server whose chat is kept in memory.
    #[cfg_attr(not(fuzzing), allow(dead_code))]
    pub(crate) fn new(config: Config) -> Self {
        let chat = Chat::new(&config);
        AppState::with_chat(config, chat)
    }

    /// The state of a server serving `chat` (opened by [`Chat::open`]).
    pub(crate) fn with_chat(config: Config, chat: Chat) -> Self {
        AppState {
            limiter: RateLimiter::new(config.rate_limits),
            chat,
            config,
            shutdown: watch::Sender::new(false),
            connections_open: watch::Sender::new(0),
        }
    }

    /// Marks a WebSocket task as running until the guard drops.
    pub(crate) fn task_guard(&self) -> TaskGuard<'_> {
        self.connections_open.send_modify(|n| *n += 1);
        TaskGuard(&self.connections_open)
    }
}
