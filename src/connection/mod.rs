//! The connection: which user is connected, the state machine around its WebSocket, the
//! calls waiting on it, and the recovery of watched channels after a reconnect.
//!
//! Inside, data flows one way: `hub.rs` (the state machine) starts sessions
//! (`session.rs`) whose connection, a task on the process's reactor, runs `socket.rs`
//! (which opens connections with `dial.rs` and follows `policy.rs` when they fail); the
//! socket reports back through the
//! [`Reports`](socket::Reports) trait the hub implements, never by naming it. Server
//! events pass through `recovery.rs` on their way to the event bus. `waits.rs` holds the
//! calls waiting on the hub; `state.rs` the plain values every part reads.

mod dial;
mod hub;
mod policy;
mod recovery;
mod session;
mod socket;
mod state;
mod waits;

pub(crate) use hub::{Hub, already_connected, shut_down_error};
pub(crate) use policy::MIN_RECONNECT_DELAY;
pub(crate) use recovery::Tracker;
pub(crate) use session::{AuthMode, Session};
pub(crate) use socket::SocketConfig;
pub use state::{ConnectionData, ConnectionState};
pub(crate) use waits::{Connection, Pending};
