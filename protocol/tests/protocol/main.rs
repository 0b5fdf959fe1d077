//! The protocol crate's one test binary: wire samples and typed events, a module each.

mod events;
mod samples;
// Property tests of every wire type and of JWTs (issue 15).
mod roundtrip;
