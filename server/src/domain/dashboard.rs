//! What the dashboard (issue 13, `GET /dashboard`) shows: usage, open connections, users
//! and channels, read at one moment under the world's lock; kicking one connection; and
//! minting user tokens. Never a secret: the API key is public, the secret never leaves.

use serde::Serialize;
use stream_chat_protocol::names::role;

use super::Chat;
use super::connections::CloseReason;
use super::usage::Usage;
use crate::error::ApiResult;

/// The dashboard's view of the server.
#[derive(Debug, Serialize)]
pub(crate) struct DashboardState {
    pub usage: Usage,
    pub connections: Vec<ConnectionView>,
    pub users: Vec<UserView>,
    pub channels: Vec<ChannelView>,
}

/// An open WebSocket connection.
#[derive(Debug, Serialize)]
pub(crate) struct ConnectionView {
    pub connection_id: String,
    /// The user id (`!anon` for anonymous connections).
    pub user_id: String,
    pub anonymous: bool,
    /// The user's app role (`anonymous` for anonymous connections).
    pub role: String,
    /// When it opened (RFC 3339).
    pub since: String,
    /// The channels it watches, by cid.
    pub watching: Vec<String>,
}

/// A user.
#[derive(Debug, Serialize)]
pub(crate) struct UserView {
    pub id: String,
    pub name: Option<String>,
    pub role: String,
    pub online: bool,
    /// An app-wide ban in force.
    pub banned: bool,
}

/// A channel.
#[derive(Debug, Serialize)]
pub(crate) struct ChannelView {
    pub cid: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub created_by: String,
    pub member_count: usize,
    /// Messages stored, thread replies and soft-deleted ones included.
    pub message_count: usize,
}

impl Chat {
    /// Everything the dashboard shows, at one moment.
    pub(crate) fn dashboard_state(&self) -> ApiResult<DashboardState> {
        let world = self.lock();
        let usage = world.usage();
        let mut connections: Vec<ConnectionView> = world
            .conns
            .iter()
            .map(|(id, c)| {
                let role = if c.anonymous {
                    role::ANONYMOUS.to_owned()
                } else {
                    world
                        .store
                        .user(&c.user_id)
                        .ok()
                        .flatten()
                        .and_then(|u| u.role)
                        .unwrap_or_else(|| role::USER.to_owned())
                };
                ConnectionView {
                    connection_id: id.clone(),
                    user_id: c.user_id.clone(),
                    anonymous: c.anonymous,
                    role,
                    since: c.since.clone(),
                    watching: c.watching(),
                }
            })
            .collect();
        connections.sort_by(|a, b| (&a.since, &a.connection_id).cmp(&(&b.since, &b.connection_id)));
        let mut users = Vec::new();
        for user in world.store.users()? {
            let shown = world.user_response(&user.id)?;
            users.push(UserView {
                name: user
                    .extra_data
                    .get("name")
                    .and_then(|n| n.as_str())
                    .map(str::to_owned),
                role: user.role.unwrap_or_else(|| role::USER.to_owned()),
                online: world.conns.is_online(&user.id),
                banned: shown.banned == Some(true),
                id: user.id,
            });
        }
        let mut channels = Vec::new();
        for c in world.store.channels()? {
            channels.push(ChannelView {
                member_count: world.store.members(&c.cid)?.len(),
                message_count: world.store.all_messages(&c.cid)?.len(),
                cid: c.cid,
                kind: c.kind,
                id: c.id,
                created_by: c.created_by,
            });
        }
        Ok(DashboardState {
            usage,
            connections,
            users,
            channels,
        })
    }

    /// Closes one connection with [`crate::KICK_CLOSE_CODE`]; whether it was open.
    pub(crate) fn kick_connection(&self, conn_id: &str) -> bool {
        let world = self.lock();
        let Some(conn) = world.conns.get(conn_id) else {
            return false;
        };
        conn.request_close(CloseReason::Kicked);
        true
    }
}
