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
// Uploads, the server-side client and webhooks.
mod server_side;
mod uploads;
mod webhooks;
