//! Presence and user updates: who asked for presence (queries with `presence: true`),
//! `user.presence.changed` when a user's first connection opens or last one closes, and
//! `user.updated` when a user's fields change. Invisible users stay offline to others and
//! cause no presence events. Channels whose type has `connect_events` off (livestream)
//! neither subscribe to presence nor carry it: no one hears of a user through them.

use std::collections::HashSet;

use serde_json::json;

use stream_chat_protocol::events::{UserPresenceChangedEvent, UserUpdatedEvent};

use super::World;
use super::caller::Caller;
use crate::error::ApiResult;

impl World {
    /// Subscribes the caller's connection `conn_id` (if it is theirs) to the presence of
    /// `users` and of the members and watchers of `cid` (nothing when `cid`'s type has no
    /// connect events).
    pub(crate) fn subscribe_presence(
        &mut self,
        caller: &Caller,
        conn_id: Option<&str>,
        users: Vec<String>,
        cid: Option<&str>,
    ) {
        let Some(conn_id) = conn_id else {
            return;
        };
        if cid.is_some_and(|cid| !super::fanout::connect_events(cid)) {
            return;
        }
        let own = self
            .conns
            .get(conn_id)
            .is_some_and(|c| !caller.is_server() && c.user_id == caller.id && !c.anonymous);
        if own {
            self.conns.subscribe_presence(conn_id, users, cid);
        }
    }

    /// Whether `user_id` hides their presence.
    fn invisible(&self, user_id: &str) -> ApiResult<bool> {
        Ok(self
            .store
            .user(user_id)?
            .is_some_and(|u| u.invisible == Some(true)))
    }

    /// The channels `user_id` is a member of.
    fn channels_of(&self, user_id: &str) -> ApiResult<HashSet<String>> {
        let mut cids = HashSet::new();
        for record in self.store.channels()? {
            if self
                .store
                .members(&record.cid)?
                .iter()
                .any(|m| m.user_id == user_id)
            {
                cids.insert(record.cid);
            }
        }
        Ok(cids)
    }

    /// `user.presence.changed` (the complete user, with `online` and `last_active`) to
    /// the connections that asked for the presence of `user_id`, unless they are invisible.
    pub(crate) fn presence_changed(&mut self, user_id: &str) -> ApiResult<()> {
        if self.invisible(user_id)? {
            return Ok(());
        }
        self.announce_presence(user_id)
    }

    /// `user.presence.changed` for `user_id` as others see them now, invisible or not
    /// (a user turning invisible appears to go offline).
    fn announce_presence(&mut self, user_id: &str) -> ApiResult<()> {
        if !self.conns.any_presence_subscriber() {
            return Ok(());
        }
        let mut member_of = self.channels_of(user_id)?;
        let mut watched_by = self.conns.watched_by(user_id);
        member_of.retain(|cid| super::fanout::connect_events(cid));
        watched_by.retain(|cid| super::fanout::connect_events(cid));
        let event = UserPresenceChangedEvent {
            created_at: Some(self.now()),
            user: Some(self.user_response(user_id)?),
            ..Default::default()
        };
        let recipients: Vec<String> = self
            .conns
            .iter()
            .filter(|(_, c)| c.wants_presence_of(user_id, &member_of, &watched_by))
            .map(|(id, _)| id.clone())
            .collect();
        for conn_id in recipients {
            self.send_to_conn(&conn_id, &event);
        }
        Ok(())
    }

    /// A user's last connection closed: their `last_active` is now, and the presence
    /// subscribers hear that they went offline.
    pub(crate) fn went_offline(&mut self, user_id: &str) -> ApiResult<()> {
        if let Some(mut user) = self.store.user(user_id)? {
            user.last_active = Some(self.now());
            self.store.put_user(user)?;
        }
        self.presence_changed(user_id)
    }

    /// `user.updated` (the complete user) to the user's own connections (with `me`) and to
    /// the connections watching a channel the user is a member of; when `invisible`
    /// changed while they are online, a presence change too.
    pub(crate) fn user_updated(&mut self, user_id: &str, was_invisible: bool) -> ApiResult<()> {
        let user = self.user_response(user_id)?;
        let event = UserUpdatedEvent {
            created_at: Some(self.now()),
            user: Some(user),
            ..Default::default()
        };
        if self.conns.is_online(user_id) {
            let me = self.own_user(user_id)?;
            let own = UserUpdatedEvent {
                user: Some(me.clone()),
                extra: [("me".to_owned(), json!(me))].into_iter().collect(),
                ..event.clone()
            };
            self.send_to_user(user_id, &own);
        }
        let mut sent = HashSet::new();
        for cid in self.channels_of(user_id)? {
            let watchers: Vec<String> = self
                .conns
                .iter()
                .filter(|(id, c)| c.user_id != user_id && self.conns.watches(&cid, id))
                .map(|(id, _)| id.clone())
                .collect();
            for conn_id in watchers {
                if sent.insert(conn_id.clone()) {
                    self.send_to_conn(&conn_id, &event);
                }
            }
        }
        let invisible = self.invisible(user_id)?;
        if invisible != was_invisible && self.conns.is_online(user_id) {
            self.announce_presence(user_id)?;
        }
        Ok(())
    }
}
