//! The connection: which user is connected, the state machine around its WebSocket, and
//! the calls waiting on it.

mod state;

pub use state::{ConnectionData, ConnectionState};
