//! Reactions: send (with `enforce_unique`), delete, list. The message keeps a summary of its
//! reactions (`reaction_counts`, `reaction_scores`, `reaction_groups`, the newest
//! [`LATEST_REACTIONS_LIMIT`] in `latest_reactions`), recomputed from the stored reactions at
//! each change; `own_reactions` is the viewer's (see `message_view.rs`). Every change goes to
//! the channel's watchers as `reaction.new`, `reaction.updated` or `reaction.deleted` with
//! the whole updated message.

use std::collections::BTreeMap;

use stream_chat_protocol::names::message_type;
use stream_chat_protocol::{
    ChannelEvent, Message, Reaction, ReactionDeletedEvent, ReactionGroup, ReactionNewEvent,
    ReactionUpdateEvent, SendReactionRequest, codes,
};

use super::caller::Actor;
use super::channels::Loaded;
use super::message_view::Viewer;
use super::permissions::Action;
use super::{Chat, World};
use crate::config::{
    DEFAULT_REACTION_LIMIT, LATEST_REACTIONS_LIMIT, MAX_REACTION_LIMIT, MAX_REACTION_TYPE_BYTES,
};
use crate::error::{ApiError, ApiResult};

/// Code 4 unless `kind` is a usable reaction type.
fn check_type(op: &str, kind: &str) -> ApiResult<()> {
    if kind.trim().is_empty() {
        return Err(ApiError::input(op, "reaction.type is required"));
    }
    if kind.len() > MAX_REACTION_TYPE_BYTES {
        return Err(ApiError::input(
            op,
            format!("reaction.type is longer than {MAX_REACTION_TYPE_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Code 19 unless the channel type has reactions on.
fn check_enabled(op: &str, channel: &Loaded) -> ApiResult<()> {
    let config = super::permissions::config(&channel.record.kind, "");
    if config.reactions {
        Ok(())
    } else {
        Err(ApiError::op(
            op,
            codes::CHANNEL_FEATURE_NOT_SUPPORTED,
            format!(
                "reactions are disabled for channel type '{}'",
                channel.record.kind
            ),
        ))
    }
}

impl World {
    /// Recomputes `message`'s reaction summary from its stored reactions.
    fn summarize_reactions(&self, message: &mut Message) -> ApiResult<()> {
        let all = self.store.reactions(&message.id)?;
        let mut counts = BTreeMap::new();
        let mut scores = BTreeMap::new();
        let mut groups: BTreeMap<String, ReactionGroup> = BTreeMap::new();
        for r in &all {
            *counts.entry(r.kind.clone()).or_insert(0) += 1;
            *scores.entry(r.kind.clone()).or_insert(0) += r.score;
            let group = groups.entry(r.kind.clone()).or_default();
            group.count += 1;
            group.sum_scores += r.score;
            let at = r.created_at.clone();
            if group.first_reaction_at.is_none() || at < group.first_reaction_at {
                group.first_reaction_at.clone_from(&at);
            }
            let last = r.updated_at.clone().or(at);
            if last > group.last_reaction_at {
                group.last_reaction_at = last;
            }
        }
        let mut latest = all;
        // Newest first; timestamps share one format, so they sort as strings.
        latest.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        latest.truncate(LATEST_REACTIONS_LIMIT);
        message.latest_reactions = Some(latest);
        message.reaction_counts = Some(counts);
        message.reaction_scores = Some(scores);
        message.reaction_groups = Some(groups);
        Ok(())
    }

    /// The reaction event `E` for the watchers: the whole message (nobody's view) and the
    /// reaction, by `user`.
    fn reaction_event<E>(
        &mut self,
        cid: &str,
        message: &Message,
        reaction: &Reaction,
    ) -> ApiResult<E>
    where
        E: ChannelEvent + ReactionFields,
    {
        let mut event: E = self.channel_event(cid);
        let user = self.user_response(&reaction.user_id)?;
        let message = self.message_view(message.clone(), Viewer::Nobody)?;
        event.fill(Some(user), message, reaction.clone());
        Ok(event)
    }
}

/// The fields the three reaction events share.
trait ReactionFields {
    fn fill(
        &mut self,
        user: Option<stream_chat_protocol::User>,
        message: Message,
        reaction: Reaction,
    );
}

macro_rules! reaction_fields {
    ($($ty:ident),*) => {$(
        impl ReactionFields for $ty {
            fn fill(&mut self, user: Option<stream_chat_protocol::User>, message: Message, reaction: Reaction) {
                self.user = user;
                self.message = message;
                self.reaction = reaction;
            }
        }
    )*};
}

reaction_fields!(ReactionNewEvent, ReactionUpdateEvent, ReactionDeletedEvent);

impl Chat {
    /// `POST /messages/{id}/reaction`: the caller (server-side: the user `reaction.user_id`
    /// names) reacts. Sending a type again replaces that reaction (`reaction.new`);
    /// `enforce_unique` first removes every other reaction of the user on the message and,
    /// when it replaced any, announces `reaction.updated`. Returns the message as the
    /// reactor sees it and the stored reaction.
    pub(crate) fn send_reaction(
        &self,
        op: &str,
        actor: Actor,
        message_id: &str,
        body: SendReactionRequest,
    ) -> ApiResult<(Message, Reaction)> {
        let input = body.reaction;
        check_type(op, &input.kind)?;
        if input.score < 0 {
            return Err(ApiError::input(op, "reaction.score must not be negative"));
        }
        let (mut world, caller) = self.enter(actor)?;
        let named = (!input.user_id.is_empty()).then_some(input.user_id.as_str());
        let reactor = caller.acting_user(op, "reaction", named, input.user.as_ref())?;
        let (mut message, channel) = world.find_message(op, message_id)?;
        channel.require(op, &caller, Action::CreateReaction)?;
        check_enabled(op, &channel)?;
        if message.kind.as_deref() == Some(message_type::DELETED) {
            return Err(ApiError::input(
                op,
                format!("message '{message_id}' was deleted: it takes no reactions"),
            ));
        }
        world.ensure_user(&reactor)?;
        let enforce_unique = body.enforce_unique == Some(true);
        let mine: Vec<Reaction> = world
            .store
            .reactions(message_id)?
            .into_iter()
            .filter(|r| r.user_id == reactor)
            .collect();
        let same = mine.iter().find(|r| r.kind == input.kind).cloned();
        if enforce_unique {
            for old in &mine {
                world
                    .store
                    .remove_reaction(message_id, &reactor, &old.kind)?;
            }
        }
        let now = world.now();
        let created_at = match (&same, enforce_unique) {
            (Some(old), false) => old.created_at.clone(),
            _ => Some(now.clone()),
        };
        let mut extra = input.extra;
        extra.remove("user");
        let reaction = Reaction {
            kind: input.kind,
            message_id: message_id.to_owned(),
            user_id: reactor.clone(),
            user: Some(world.user_response(&reactor)?),
            score: input.score.max(1),
            created_at,
            updated_at: Some(now),
            extra,
        };
        world.store.put_reaction(reaction.clone())?;
        world.summarize_reactions(&mut message)?;
        world.store.put_message(message.clone())?;

        let cid = channel.record.cid.clone();
        if enforce_unique && !mine.is_empty() {
            let event: ReactionUpdateEvent = world.reaction_event(&cid, &message, &reaction)?;
            world.broadcast(&cid, &event);
        } else {
            let event: ReactionNewEvent = world.reaction_event(&cid, &message, &reaction)?;
            world.broadcast(&cid, &event);
        }
        let view = world.message_view(message, Viewer::User(&reactor))?;
        Ok((view, reaction))
    }

    /// `DELETE /messages/{id}/reaction/{type}`: removes the caller's reaction of that type
    /// (server-side: the user `user_id` names), with `DeleteReaction`. Code 16 when there
    /// is none. `reaction.deleted` to the watchers.
    pub(crate) fn delete_reaction(
        &self,
        op: &str,
        actor: Actor,
        message_id: &str,
        kind: &str,
        user_id: Option<&str>,
    ) -> ApiResult<(Message, Reaction)> {
        check_type(op, kind)?;
        let (mut world, caller) = self.enter(actor)?;
        let owner = match (&caller.actor, user_id) {
            (Actor::Server, Some(id)) => id.to_owned(),
            (Actor::Server, None) => {
                return Err(ApiError::input(
                    op,
                    "user_id is required when deleting a reaction with server side auth",
                ));
            }
            // A user token's `user_id` is its own (authentication checks it).
            _ => caller.id.clone(),
        };
        let (mut message, channel) = world.find_message(op, message_id)?;
        let mut rel = channel.relation(&caller);
        rel.author = !caller.is_server() && owner == caller.id;
        caller.require(op, &channel.record.kind, rel, Action::DeleteReaction)?;
        let Some(removed) = world.store.remove_reaction(message_id, &owner, kind)? else {
            return Err(ApiError::not_found(
                op,
                format!("user '{owner}' has no reaction '{kind}' on message '{message_id}'"),
            ));
        };
        world.summarize_reactions(&mut message)?;
        world.store.put_message(message.clone())?;
        let cid = channel.record.cid.clone();
        let event: ReactionDeletedEvent = world.reaction_event(&cid, &message, &removed)?;
        world.broadcast(&cid, &event);
        let view = world.message_view(message, Viewer::User(&owner))?;
        Ok((view, removed))
    }

    /// `GET /messages/{id}/reactions?limit&offset`: a page of the message's reactions,
    /// newest first, for whoever may read the channel.
    pub(crate) fn get_reactions(
        &self,
        op: &str,
        actor: Actor,
        message_id: &str,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> ApiResult<Vec<Reaction>> {
        let (world, caller) = self.enter(actor)?;
        let (_, channel) = world.find_message(op, message_id)?;
        channel.require(op, &caller, Action::ReadChannel)?;
        let mut all = world.store.reactions(message_id)?;
        all.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        let limit = limit
            .unwrap_or(DEFAULT_REACTION_LIMIT)
            .min(MAX_REACTION_LIMIT) as usize;
        Ok(all
            .into_iter()
            .skip(offset.unwrap_or(0) as usize)
            .take(limit)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaction_types_are_checked() {
        assert_eq!(check_type("Op", "").unwrap_err().0.code, codes::INPUT);
        assert_eq!(check_type("Op", "  ").unwrap_err().0.code, codes::INPUT);
        let long = "x".repeat(MAX_REACTION_TYPE_BYTES + 1);
        assert_eq!(check_type("Op", &long).unwrap_err().0.code, codes::INPUT);
        assert!(check_type("Op", "love").is_ok());
    }
}
