//! Real HTTP and WebSocket traffic against an in-process server (and the binary), covering
//! auth, connections, channels, users, guests and admin hooks.

mod admin;
mod auth;
mod binary;
mod channels;
mod cli;
mod guests;
mod http;
mod messages;
mod notifications;
mod queries;
mod robustness;
mod users;
mod websocket;
// Channel administration, members, read state, moderation, presence, user updates.
mod channel_admin;
mod devices;
// Reactions, threads, typing, pins, search (messages surface).
mod pins;
mod reactions;
mod search;
mod surface;
mod threads;
mod typing;
// Uploads, the server-side client and webhooks.
mod server_side;
mod uploads;
mod webhooks;
// Issue 15 (server): user ids in tokens, quotas and rate limits, timeouts, the connection cap.
mod limits;
mod teams;
// Issue 13: --data-dir.
mod persistence;
// Issue 13: seed and snapshot, the dashboard in a browser.
mod dashboard;
mod snapshot;
