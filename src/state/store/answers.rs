//! Call answers applied to the state before their callers see them: the connect's user,
//! a message a reaction, pin or partial update returned, a channel an update, member or
//! admin call returned, `mark_read`'s event, mutes. The same changes reach the store
//! again as the socket's events; each is idempotent.

use std::time::Instant;

use stream_chat_protocol::{Channel, ChannelMute, Member, Message, Mute, User};

use super::{Listing, Store, mute_cid};
use crate::events::ChatEvent;

/// What an unmute call unmuted (see [`Store::unmute_answered`]).
pub(crate) enum Unmuted<'a> {
    User(&'a str),
    Channel(&'a str),
}

impl Store {
    /// The user a connect call resolved with, in the state before its caller sees the
    /// result (the same `me` reaches the store again as the connect's event).
    pub(crate) fn connected_user(&self, me: &User) {
        self.update(|inner| inner.set_me(me));
    }

    /// A message as a call returned it (a reaction sent or removed, a pin, a partial
    /// update: the caller's view, own reactions included), before the caller sees it.
    /// Only a message the state holds changes.
    pub(crate) fn message_changed(&self, message: &Message) {
        let Some(cid) = message.cid.as_deref() else {
            return;
        };
        self.update(|inner| {
            inner.with_channel(cid, None, |w| w.message_updated(message));
        });
    }

    /// What a channel-changing call returned (update, members, moderators, invites, slow
    /// mode): the channel's data and its members, with `removed` taken out, before the
    /// caller sees it. Only a channel the state holds changes.
    pub(crate) fn channel_answered(
        &self,
        cid: &str,
        channel: &Channel,
        members: &[Member],
        removed: &[String],
    ) {
        self.update(|inner| {
            let held = inner.with_channel(cid, None, |w| {
                w.channel_updated(channel);
                for member in members {
                    w.member(member);
                }
                for user in removed {
                    w.member_removed(user);
                }
            });
            if held.is_some() {
                inner.list(cid, Listing::Keep);
            }
        });
    }

    /// A truncate's answer: the channel and its system message, if any.
    pub(crate) fn truncate_answered(
        &self,
        cid: &str,
        channel: &Channel,
        message: Option<&Message>,
    ) {
        self.update(|inner| {
            inner.with_channel(cid, None, |w| w.truncated(Some(channel), message));
        });
    }

    /// A delete's answer: the channel leaves the state and its lists.
    pub(crate) fn delete_answered(&self, cid: &str) {
        self.update(|inner| inner.remove_channel(cid));
    }

    /// A hide's (with `clear_history`) or show's answer.
    pub(crate) fn hide_answered(&self, cid: &str, hidden: bool, clear_history: bool) {
        self.update(|inner| {
            let held = inner.with_channel(cid, None, |w| {
                w.set_hidden(hidden);
                if clear_history {
                    w.clear_messages();
                }
            });
            if held.is_some() {
                inner.list(
                    cid,
                    if hidden {
                        Listing::Remove
                    } else {
                        Listing::Add
                    },
                );
            }
        });
    }

    /// A mute call's answer: the user as it is now (`own_user`, with its mutes), if it is
    /// the current user.
    pub(crate) fn own_user_answered(&self, user: &User) {
        self.update(|inner| {
            if inner.me().as_deref() == Some(user.id.as_str()) {
                inner.set_me(user);
            }
        });
    }

    /// An unmute's answer (it carries no user): `target`'s mute taken out of the user's
    /// mutes, a user id or a channel's cid.
    pub(crate) fn unmute_answered(&self, target: Unmuted<'_>) {
        self.update(|inner| match target {
            Unmuted::User(id) => {
                let mutes: Vec<Mute> = inner
                    .state
                    .mutes
                    .iter()
                    .filter(|m| m.target.id != id)
                    .cloned()
                    .collect();
                if mutes.len() != inner.state.mutes.len() {
                    inner.set_mutes(mutes);
                }
            }
            Unmuted::Channel(cid) => {
                let mutes: Vec<ChannelMute> = inner
                    .state
                    .channel_mutes
                    .iter()
                    .filter(|m| mute_cid(m) != Some(cid))
                    .cloned()
                    .collect();
                if mutes.len() != inner.state.channel_mutes.len() {
                    inner.set_channel_mutes(mutes);
                }
            }
        });
    }

    /// The event a call's answer carries (`mark_read`'s `message.read`), applied before
    /// the caller sees the result; the same event reaches the store again from the socket.
    pub(crate) fn answered(&self, event: &ChatEvent) {
        self.update(|inner| inner.apply(event, Instant::now()));
    }
}
