//! The protocol crate's one test binary: wire samples and typed events, a module each.

mod events;
mod samples;
