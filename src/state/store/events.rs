//! What each event from the bus does to the state: `Inner::apply`, in publish order on
//! the client's strand, before any listener gets the event.

use std::sync::Arc;
use std::time::Instant;

use stream_chat_protocol::{Member, Message, Reaction, User};

use super::{Inner, Listing, Own};
use crate::events::ChatEvent;
use crate::state::channel::{Writer, at_or_now};

impl Inner {
    /// Applies one event from the bus.
    pub(crate) fn apply(&mut self, event: &ChatEvent, now: Instant) {
        use ChatEvent as E;
        match event {
            E::ConnectionChanged { state, .. } => {
                if self.state.connection_state != *state {
                    self.client().connection_state = *state;
                }
            }
            E::HealthCheck { me: Some(me), .. } => self.set_me(me),
            E::MessageNew(e) => {
                // Stream sends a member the counts as they are after this message.
                self.totals(e.total_unread_count, e.unread_channels);
                self.with_channel(&e.cid, None, |w| {
                    w.message_new(&e.message, e.user.as_ref(), e.created_at.as_deref());
                    watchers(w, e.watcher_count);
                });
                self.list(&e.cid, Listing::Keep);
            }
            E::NotificationMessageNew(e) => {
                self.totals(e.total_unread_count, e.unread_channels);
                self.with_channel(&e.cid, e.channel.as_ref(), |w| {
                    w.message_new(&e.message, e.user.as_ref(), e.created_at.as_deref())
                });
                self.list(&e.cid, Listing::Add);
            }
            E::MessageUpdated(e) => {
                self.with_channel(&e.cid, None, |w| {
                    w.message_updated(&e.message);
                    watchers(w, e.watcher_count);
                });
            }
            E::MessageDeleted(e) => {
                self.with_channel(&e.cid, None, |w| {
                    w.message_deleted(&e.message, e.hard_delete);
                    watchers(w, e.watcher_count);
                });
            }
            E::MessageRead(e) => {
                if let Some(user) = &e.user {
                    let at = at_or_now(e.created_at.as_deref());
                    self.with_channel(&e.cid, None, |w| {
                        w.read(user, Some(&at), e.last_read_message_id.as_deref());
                        watchers(w, e.watcher_count);
                    });
                }
            }
            E::NotificationMarkRead(e) => {
                self.totals(e.total_unread_count, e.unread_channels);
                if let Some(cid) = &e.cid {
                    self.with_channel(cid, None, |w| w.state.unread_count = 0);
                }
                if e.unread_channels == Some(0) {
                    let unread: Vec<String> = self
                        .state
                        .channels
                        .values()
                        .filter(|c| c.unread_count > 0)
                        .map(|c| c.cid.clone())
                        .collect();
                    for cid in unread {
                        self.with_channel(&cid, None, |w| w.state.unread_count = 0);
                    }
                }
            }
            E::NotificationMarkUnread(e) => {
                self.totals(e.total_unread_count, e.unread_channels);
                if let Some(user) = &e.user {
                    self.with_channel(&e.cid, None, |w| {
                        w.mark_unread(
                            user,
                            e.last_read_at.as_deref(),
                            e.last_read_message_id.as_deref(),
                            e.unread_messages,
                        )
                    });
                }
            }
            E::UserWatchingStart(e) => {
                self.with_channel(&e.cid, None, |w| {
                    if let Some(u) = &e.user {
                        w.watcher(u);
                    }
                    watchers(w, e.watcher_count);
                });
            }
            E::UserWatchingStop(e) => {
                self.with_channel(&e.cid, None, |w| {
                    if let Some(u) = &e.user {
                        w.watcher_gone(&u.id);
                    }
                    watchers(w, e.watcher_count);
                });
            }
            E::NotificationAddedToChannel(e) => {
                if let Some(channel) = &e.channel {
                    self.with_channel(&e.cid, Some(channel), |w| {
                        if let Some(m) = &e.member {
                            w.member(m);
                        }
                    });
                    self.list(&e.cid, Listing::Add);
                }
            }
            E::ChannelUpdated(e) => {
                if let Some(channel) = &e.channel {
                    self.with_channel(&e.cid, None, |w| w.channel_updated(channel));
                    self.list(&e.cid, Listing::Keep);
                }
            }
            E::ChannelDeleted(e) => self.remove_channel(&e.cid),
            E::NotificationChannelDeleted(e) => {
                self.totals(e.total_unread_count, e.unread_channels);
                self.remove_channel(&e.cid);
            }
            E::ChannelTruncated(e) => {
                self.with_channel(&e.cid, None, |w| {
                    w.truncated(e.channel.as_ref(), e.message.as_ref())
                });
            }
            E::NotificationChannelTruncated(e) => {
                self.totals(e.total_unread_count, e.unread_channels);
                self.with_channel(&e.cid, None, |w| w.truncated(e.channel.as_ref(), None));
            }
            E::ChannelHidden(e) => {
                self.with_channel(&e.cid, None, |w| {
                    w.set_hidden(true);
                    if e.clear_history {
                        w.clear_messages();
                    }
                });
                self.list(&e.cid, Listing::Remove);
            }
            E::ChannelVisible(e) => {
                self.with_channel(&e.cid, e.channel.as_ref(), |w| w.set_hidden(false));
                self.list(&e.cid, Listing::Add);
            }
            E::MemberAdded(e) => self.member(&e.cid, e.member.as_ref()),
            E::MemberUpdated(e) => self.member(&e.cid, e.member.as_ref()),
            E::MemberRemoved(e) => {
                let user = e.user.as_ref().map(|u| u.id.clone());
                let user = user.or_else(|| e.member.as_ref().and_then(|m| m.user_id.clone()));
                if let Some(user) = user {
                    self.with_channel(&e.cid, None, |w| w.member_removed(&user));
                }
            }
            E::NotificationRemovedFromChannel(e) => {
                if let Some(me) = self.me() {
                    self.with_channel(&e.cid, None, |w| w.member_removed(&me));
                }
                self.list(&e.cid, Listing::Remove);
            }
            E::NotificationInvited(e) => self.member(&e.cid, e.member.as_ref()),
            E::NotificationInviteAccepted(e) => self.member(&e.cid, e.member.as_ref()),
            E::NotificationInviteRejected(e) => self.member(&e.cid, e.member.as_ref()),
            E::NotificationMutesUpdated(e) => {
                if let Some(me) = &e.me {
                    self.set_me(me);
                }
            }
            E::NotificationChannelMutesUpdated(e) => {
                if let Some(me) = &e.me {
                    self.set_me(me);
                }
            }
            E::UserBanned(e) => self.ban(e.cid.as_deref(), e.user.as_ref(), true, e.shadow),
            E::UserUnbanned(e) => self.ban(e.cid.as_deref(), e.user.as_ref(), false, e.shadow),
            E::UserPresenceChanged(e) => {
                if let Some(user) = &e.user {
                    self.user_updated(user);
                }
            }
            E::UserUpdated(e) => {
                if let Some(user) = &e.user {
                    self.user_updated(user);
                }
            }
            // Reactions, threads, typing (issue 9).
            E::ReactionNew(e) => self.reaction(&e.cid, &e.message, &e.reaction, Own::Add),
            E::ReactionUpdated(e) => {
                self.reaction(&e.cid, &e.message, &e.reaction, Own::ReplaceAll)
            }
            E::ReactionDeleted(e) => self.reaction(&e.cid, &e.message, &e.reaction, Own::Remove),
            E::TypingStart(e) => {
                self.typing(&e.cid, e.user.as_ref(), e.parent_id.as_deref(), true, now)
            }
            E::TypingStop(e) => {
                self.typing(&e.cid, e.user.as_ref(), e.parent_id.as_deref(), false, now)
            }
            E::NotificationThreadMessageNew(e) => {
                self.with_channel(&e.cid, None, |w| {
                    w.message_new(&e.message, e.user.as_ref(), e.created_at.as_deref())
                });
            }
            E::ConnectionRecovered(_)
            | E::HealthCheck { .. }
            | E::ConnectionError { .. }
            | E::Notification(_)
            | E::Other(_) => {}
        }
    }

    /// A reaction event: the server's copy of the message (counts, latest reactions). A
    /// broadcast carries nobody's own reactions, so the current user's are kept as known
    /// and changed by `change` only when the reaction is theirs (JS
    /// `_extendEventWithOwnReactions`, `_addOwnReactionToMessage`,
    /// `_removeOwnReactionFromMessage`).
    fn reaction(&mut self, cid: &str, message: &Message, reaction: &Reaction, change: Own) {
        let mine = self.me().as_deref() == Some(reaction.user_id.as_str());
        self.with_channel(cid, None, |w| {
            let mut message = message.clone();
            let mut own = w
                .state
                .message(&message.id)
                .and_then(|known| known.message.own_reactions.clone())
                .unwrap_or_default();
            if mine {
                match change {
                    Own::Add => {
                        own.retain(|r| r.kind != reaction.kind);
                        own.push(reaction.clone());
                    }
                    Own::ReplaceAll => own = vec![reaction.clone()],
                    Own::Remove => own.retain(|r| r.kind != reaction.kind),
                }
            }
            message.own_reactions = Some(own);
            w.message_updated(&message);
        });
    }

    fn typing(
        &mut self,
        cid: &str,
        user: Option<&User>,
        parent: Option<&str>,
        on: bool,
        now: Instant,
    ) {
        if let Some(user) = user {
            self.with_channel(cid, None, |w| w.typing(user, parent, on, now));
        }
    }

    pub(crate) fn expire_typing(&mut self, now: Instant) {
        let due: Vec<String> = self
            .state
            .channels
            .values()
            .filter(|c| c.typing.values().any(|t| t.expires_at <= now))
            .map(|c| c.cid.clone())
            .collect();
        for cid in due {
            self.with_channel(&cid, None, |w| w.expire_typing(now));
        }
    }

    fn member(&mut self, cid: &str, member: Option<&Member>) {
        if let Some(m) = member {
            self.with_channel(cid, None, |w| w.member(m));
        }
    }

    fn ban(&mut self, cid: Option<&str>, user: Option<&User>, banned: bool, shadow: bool) {
        if let (Some(cid), Some(user)) = (cid, user) {
            self.with_channel(cid, None, |w| w.banned(user, banned, shadow));
        }
    }

    fn user_updated(&mut self, user: &User) {
        if self.me().as_deref() == Some(user.id.as_str()) {
            // Keep what only `me` carries (mutes, unread counts, devices).
            let mut me = self.state.me.as_deref().cloned().unwrap_or_default();
            let (mutes, channel_mutes, devices) = (me.mutes, me.channel_mutes, me.devices);
            me = user.clone();
            me.mutes = me.mutes.or(mutes);
            me.channel_mutes = me.channel_mutes.or(channel_mutes);
            me.devices = me.devices.or(devices);
            self.client().me = Some(Arc::new(me));
        }
        let cids: Vec<String> = self
            .state
            .channels
            .values()
            .filter(|c| {
                c.members.contains_key(&user.id)
                    || c.watchers.contains_key(&user.id)
                    || c.reads.contains_key(&user.id)
            })
            .map(|c| c.cid.clone())
            .collect();
        for cid in cids {
            self.with_channel(&cid, None, |w| w.user_updated(user));
        }
    }
}

fn watchers(w: &mut Writer<'_>, count: Option<u64>) {
    if let Some(n) = count {
        w.state.watcher_count = n;
    }
}
