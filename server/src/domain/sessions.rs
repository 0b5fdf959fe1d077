//! The life of a WebSocket session as the domain sees it: connect (the user's details and
//! last activity, the monthly active users, the connected event with `me`), disconnect
//! (watching ends), a slow consumer dropped; and the test hooks on sessions: kick, freeze,
//! refuse. The socket itself is `ws.rs`'s.

use std::sync::Arc;

use stream_chat_protocol::names::role;
use stream_chat_protocol::{ANONYMOUS_USER_ID, HealthCheckEvent, User, time};

use super::connections::{CloseReason, Freeze, Inbox};
use super::usage::month;
use super::users::{apply_user_input, new_user};
use super::{Chat, World, random_id};
use crate::config::FREEZE_ACK_TIMEOUT;
use crate::error::ApiResult;

/// Who a connection belongs to, as its credentials say.
pub(crate) enum Identity {
    /// A user, with the details the client sent (`user_details`).
    User {
        id: String,
        details: Box<User>,
    },
    Anonymous,
}

impl Identity {
    /// The stored user id, or `!anon`.
    pub(crate) fn user_id(&self) -> &str {
        match self {
            Identity::User { id, .. } => id,
            Identity::Anonymous => ANONYMOUS_USER_ID,
        }
    }
}

/// A registered connection: its id, its first frame and what its task receives.
pub(crate) struct Session {
    pub conn_id: String,
    /// The first frame: `health.check` with `me`.
    pub connected: HealthCheckEvent,
    pub inbox: Inbox,
}

impl World {
    /// `me` of a user's connection: the user with the own-user fields (unread counts,
    /// mutes, channel mutes, blocked users, push devices; `online` true even when invisible).
    pub(crate) fn own_user(&self, user_id: &str) -> ApiResult<User> {
        let unread = self.store.unread_counts(user_id)?;
        let (mutes, channel_mutes) = self.mutes_view(user_id)?;
        let mut me = self.user_response(user_id)?;
        me.online = Some(self.conns.is_online(user_id));
        me.mutes = Some(
            mutes
                .iter()
                .filter_map(|m| serde_json::to_value(m).ok())
                .collect(),
        );
        me.channel_mutes = Some(
            channel_mutes
                .iter()
                .filter_map(|m| serde_json::to_value(m).ok())
                .collect(),
        );
        me.devices = Some(self.devices_view(user_id)?);
        me.blocked_user_ids = Some(
            self.store
                .blocks(user_id)?
                .into_iter()
                .map(|b| b.blocked_user_id)
                .collect(),
        );
        let mut me = me.into_own_user();
        me.unread_count = Some(unread.messages);
        me.total_unread_count = Some(unread.messages);
        me.unread_channels = Some(unread.channels);
        if me.roles.is_none() {
            me.roles = Some(Vec::new());
        }
        me.invisible.get_or_insert(false);
        me.language.get_or_insert_with(String::new);
        Ok(me)
    }
}

impl Chat {
    /// Whether a `/connect` of `user_id` is refused now
    /// ([`crate::ServerHandle::refuse_connections`]); counts it if so.
    pub(crate) fn refuse_connect(&self, user_id: &str) -> bool {
        let refused = self.lock().conns.refuse_connect(user_id);
        if refused {
            self.counters_changed.bump();
        }
        refused
    }

    /// Registers a connection: updates the user (details, last activity, created if new),
    /// counts them as active this month, and builds the connected event with `me` (unread
    /// counts included).
    pub(crate) fn connect(&self, identity: Identity) -> ApiResult<Session> {
        let conn_id = random_id();
        let mut world = self.lock();
        let now = world.now();
        let (user_id, anonymous_me) = match identity {
            Identity::Anonymous => (
                ANONYMOUS_USER_ID.to_owned(),
                Some(User::anonymous(now.clone())),
            ),
            Identity::User { id, details } => {
                let mut user = world
                    .store
                    .user(&id)?
                    .unwrap_or_else(|| new_user(&id, role::USER, &now));
                apply_user_input(&mut user, &details, false);
                crate::limits::check_custom_data(
                    "Connect",
                    "user",
                    &user.extra_data,
                    world.max_custom_data,
                )?;
                user.last_active = Some(now.clone());
                world.store.put_user(user)?;
                world
                    .store
                    .record_active_user(&month(time::now_nanos()), &id)?;
                (id, None)
            }
        };
        let anonymous = anonymous_me.is_some();
        let inbox = world
            .conns
            .open(&conn_id, &user_id, anonymous, self.max_queued_frames);
        if !anonymous
            && world.conns.online_count(&user_id) == 1
            && let Err(e) = world.presence_changed(&user_id)
        {
            tracing::error!(error = %e.0.message, "cannot announce a user coming online");
        }
        let me = match anonymous_me {
            Some(me) => Ok(me),
            None => world.own_user(&user_id),
        };
        let me = match me {
            Ok(me) => me,
            Err(e) => {
                world.conns.close(&conn_id);
                drop(world);
                self.counters_changed.bump(); // the monthly active users may have changed
                return Err(e);
            }
        };
        drop(world);
        self.counters_changed.bump();
        let connected = HealthCheckEvent {
            me: Some(me),
            ..HealthCheckEvent::new(conn_id.clone(), now)
        };
        Ok(Session {
            conn_id,
            connected,
            inbox,
        })
    }

    /// Removes a connection (its watching ends); no-op when it is gone already.
    pub(crate) fn disconnect(&self, conn_id: &str) {
        let removed = self.lock().drop_connection(conn_id);
        if removed {
            self.counters_changed.bump();
        }
    }

    /// Removes a connection whose client fell too far behind, and counts it.
    pub(crate) fn drop_slow_consumer(&self, conn_id: &str) {
        {
            let mut world = self.lock();
            world.conns.count_slow_consumer();
            world.drop_connection(conn_id);
        }
        self.counters_changed.bump();
    }

    /// Asks every socket of `user_id` to close with the kick code; returns how many.
    pub(crate) fn kick(&self, user_id: &str) -> usize {
        let world = self.lock();
        let conns: Vec<_> = world.conns.of_user(user_id).collect();
        conns
            .iter()
            .for_each(|c| c.request_close(CloseReason::Kicked));
        conns.len()
    }

    /// Freezes or thaws every socket of `user_id`; a freeze is waited for until each
    /// socket's task has put it in force (see [`crate::ServerHandle::freeze_connections`]).
    /// Returns how many sockets.
    pub(crate) fn freeze(&self, user_id: &str, frozen: bool) -> usize {
        let switches: Vec<Arc<Freeze>> = self
            .lock()
            .conns
            .of_user(user_id)
            .map(|c| c.freeze.clone())
            .collect();
        // Waited for outside the lock: the tasks need it to make progress.
        let generations: Vec<u64> = switches.iter().map(|s| s.set(frozen)).collect();
        if frozen {
            for (switch, generation) in switches.iter().zip(generations) {
                if !switch.wait_applied(generation, FREEZE_ACK_TIMEOUT) {
                    tracing::warn!("a socket did not acknowledge a freeze in time");
                }
            }
        }
        switches.len()
    }

    /// Refuses (or accepts again) the connects of `user_id`.
    pub(crate) fn refuse_connections(&self, user_id: &str, refuse: bool) {
        self.lock().conns.refuse(user_id, refuse);
    }

    /// Connects of `user_id` refused so far.
    pub(crate) fn refused_connections(&self, user_id: &str) -> u64 {
        let world = self.lock();
        world
            .conns
            .refused_connects()
            .get(user_id)
            .copied()
            .unwrap_or(0)
    }
}
