//! Members: the membership operations of the channel update (add, remove, moderators,
//! roles, invites and their answers), query members and the partial member update.

use std::collections::HashSet;

use serde_json::{Map, Value, json};
use stream_chat_protocol::events::{
    MemberAddedEvent, MemberRemovedEvent, MemberUpdatedEvent, NotificationInviteAcceptedEvent,
    NotificationInviteRejectedEvent, NotificationInvitedEvent, NotificationRemovedFromChannelEvent,
};
use stream_chat_protocol::{
    ChannelRequestData, Member, QueryMembersRequest, SortParam, UpdateChannelRequest,
};

use super::caller::{Actor, Caller};
use super::channels::{ChannelKey, Loaded, distinct_channel_id};
use super::permissions::Action;
use stream_chat_protocol::names::{member_role, role};

use super::store::{ChannelRole, MemberRecord, MemberRole, ReadRecord};
use super::{Chat, World, filter};
use crate::error::{ApiError, ApiResult};

/// The default and largest page of a members query, and the largest offset (Stream's).
const DEFAULT_MEMBER_LIMIT: u32 = 100;
const MAX_MEMBER_LIMIT: u32 = 300;
const MAX_MEMBER_OFFSET: u32 = 1000;

/// Member fields a partial member update may not set.
const FIXED_MEMBER_KEYS: [&str; 12] = [
    "user_id",
    "user",
    "role",
    "status",
    "created_at",
    "updated_at",
    "banned",
    "shadow_banned",
    "is_moderator",
    "invited",
    "invite_accepted_at",
    "invite_rejected_at",
];

/// The member objects of a request: `(user_id, the object's other fields)`.
fn member_entries(values: &[Value]) -> Vec<(String, Map<String, Value>)> {
    values
        .iter()
        .filter_map(|v| {
            let id = ChannelRequestData {
                members: Some(vec![v.clone()]),
                ..Default::default()
            }
            .member_ids()
            .pop()?;
            let mut fields = v.as_object().cloned().unwrap_or_default();
            fields.remove("user_id");
            fields.remove("user");
            Some((id, fields))
        })
        .collect()
}

/// The event envelope of a membership event, for each event type.
macro_rules! member_event {
    ($world:expr, $ty:ident, $cid:expr, $user:expr, $member:expr, $channel:expr) => {
        $ty {
            user: Some($user),
            member: Some($member),
            channel: $channel,
            ..$world.channel_event($cid)
        }
    };
}

impl World {
    /// A member as API responses show it: roles, invite state, channel ban, channel mute,
    /// custom member data.
    pub(crate) fn member_view(&self, cid: &str, m: &MemberRecord) -> ApiResult<Member> {
        let owner = m.role == MemberRole::Owner;
        let moderator = m.channel_role == ChannelRole::Moderator;
        let role = if owner {
            m.role.as_str()
        } else if moderator {
            role::MODERATOR
        } else {
            member_role::MEMBER
        };
        let pending = m.invited && m.invite_accepted_at.is_none();
        let ban = self.ban_in_force(&m.user_id, Some(cid))?;
        let muted = self.channel_muted(&m.user_id, cid)?;
        Ok(Member {
            user_id: Some(m.user_id.clone()),
            user: Some(self.user_response(&m.user_id)?),
            status: Some(
                if pending {
                    member_role::STATUS_PENDING
                } else {
                    member_role::STATUS_MEMBER
                }
                .into(),
            ),
            role: Some(role.into()),
            channel_role: Some(m.channel_role.as_str().into()),
            is_moderator: Some(moderator),
            banned: Some(ban.as_ref().is_some_and(|b| !b.shadow)),
            shadow_banned: Some(ban.as_ref().is_some_and(|b| b.shadow)),
            ban_expires: ban.and_then(|b| b.expires),
            notifications_muted: Some(muted),
            invited: m.invited.then_some(true),
            invite_accepted_at: m.invite_accepted_at.clone(),
            invite_rejected_at: m.invite_rejected_at.clone(),
            pinned_at: m.pinned_at.clone(),
            archived_at: m.archived_at.clone(),
            created_at: Some(m.created_at.clone()),
            updated_at: Some(if m.updated_at.is_empty() {
                m.created_at.clone()
            } else {
                m.updated_at.clone()
            }),
            extra: m.custom.clone(),
        })
    }

    /// Applies the membership operations of a channel update, checking each one's
    /// permission, and sends their events. `user` is the acting user (none for a
    /// server-side call without one).
    pub(crate) fn apply_member_ops(
        &mut self,
        op: &str,
        caller: &Caller,
        user: Option<&str>,
        channel: &mut Loaded,
        body: &UpdateChannelRequest,
    ) -> ApiResult<()> {
        let cid = channel.record.cid.clone();
        let adder = user.unwrap_or_default().to_owned();
        if let Some(add) = &body.add_members {
            channel.require(op, caller, Action::UpdateChannelMembers)?;
            let entries = member_entries(add);
            let hide = body.hide_history == Some(true);
            self.add_members(op, channel, &entries, &adder, false, hide)?;
        }
        if let Some(invites) = &body.invites {
            channel.require(op, caller, Action::UpdateChannelMembers)?;
            let entries = member_entries(invites);
            self.add_members(op, channel, &entries, &adder, true, false)?;
        }
        if let Some(remove) = &body.remove_members {
            let ids: Vec<String> = member_entries(remove)
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            let only_self = !caller.is_server() && ids.iter().all(|id| *id == caller.id);
            if only_self {
                channel.require(op, caller, Action::RemoveOwnChannelMembership)?;
            } else {
                channel.require(op, caller, Action::UpdateChannelMembers)?;
            }
            for id in &ids {
                if self.store.user(id)?.is_none() {
                    return Err(ApiError::input(op, format!("user '{id}' does not exist")));
                }
            }
            self.remove_members(channel, &ids)?;
        }
        let mut roles: Vec<(String, ChannelRole)> = Vec::new();
        for id in body.add_moderators.iter().flatten() {
            roles.push((id.clone(), ChannelRole::Moderator));
        }
        for id in body.demote_moderators.iter().flatten() {
            roles.push((id.clone(), ChannelRole::Member));
        }
        for v in body.assign_roles.iter().flatten() {
            let id = v.get("user_id").and_then(Value::as_str).unwrap_or_default();
            let name = v
                .get("channel_role")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let role = ChannelRole::parse(name).ok_or_else(|| {
                ApiError::input(op, format!("channel_role '{name}' does not exist"))
            })?;
            roles.push((id.to_owned(), role));
        }
        if !roles.is_empty() {
            channel.require(op, caller, Action::UpdateChannelMembers)?;
            for (id, _) in &roles {
                if !channel.is_member(id) {
                    return Err(ApiError::input(
                        op,
                        format!("user '{id}' is not a member of channel {cid}"),
                    ));
                }
            }
            let now = self.now();
            for (id, role) in roles {
                let Some(member) = channel.members.iter_mut().find(|m| m.user_id == id) else {
                    continue;
                };
                member.channel_role = role;
                member.updated_at = now.clone();
                let member = member.clone();
                self.store.put_member(&cid, member.clone())?;
                let event = member_event!(
                    self,
                    MemberUpdatedEvent,
                    &cid,
                    self.user_response(&id)?,
                    self.member_view(&cid, &member)?,
                    None
                );
                self.broadcast(&cid, &event);
            }
        }
        if body.accept_invite == Some(true) || body.reject_invite == Some(true) {
            let invitee = user.ok_or_else(|| {
                ApiError::input(op, "user_id is required to answer an invite server side")
            })?;
            self.answer_invite(op, channel, invitee, body.accept_invite == Some(true))?;
        }
        Ok(())
    }

    /// Adds members (or invites them): `member.added` to the watchers,
    /// `notification.added_to_channel` (or `notification.invited`) to each new member.
    fn add_members(
        &mut self,
        op: &str,
        channel: &mut Loaded,
        entries: &[(String, Map<String, Value>)],
        adder: &str,
        invite: bool,
        hide_history: bool,
    ) -> ApiResult<()> {
        let cid = channel.record.cid.clone();
        for (id, _) in entries {
            super::users::check_user_id(op, id)?;
            let user = self.store.user(id)?;
            super::teams::check_member_team(
                op,
                self.multi_tenant,
                id,
                user.as_ref(),
                channel.record.team.as_deref(),
            )?;
            self.ensure_user(id)?;
        }
        let now = self.now();
        let has_read: HashSet<String> = self
            .store
            .reads(&cid)?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let mut added = Vec::new();
        for (id, fields) in entries {
            if channel.is_member(id) || added.contains(id) {
                continue;
            }
            let mut custom = fields.clone();
            let channel_role = match custom.remove("channel_role") {
                Some(Value::String(name)) => ChannelRole::parse(&name).ok_or_else(|| {
                    ApiError::input(op, format!("channel_role '{name}' does not exist"))
                })?,
                _ => ChannelRole::Member,
            };
            let member = MemberRecord {
                user_id: id.clone(),
                role: if *id == channel.record.created_by {
                    MemberRole::Owner
                } else {
                    MemberRole::Member
                },
                created_at: now.clone(),
                updated_at: now.clone(),
                channel_role,
                invited: invite,
                history_before: hide_history.then(|| now.clone()),
                custom,
                ..MemberRecord::default()
            };
            if !has_read.contains(id) {
                let read = ReadRecord {
                    last_read: now.clone(),
                    ..ReadRecord::default()
                };
                self.store.put_read(&cid, id, read)?;
            }
            self.store.put_member(&cid, member.clone())?;
            channel.members.push(member);
            added.push(id.clone());
        }
        if added.is_empty() {
            return Ok(());
        }
        // The channel record changes too (member_count).
        channel.record.updated_at = now;
        self.store.put_channel(channel.record.clone())?;
        for id in &added {
            self.recount(channel, id)?;
            let member = channel
                .members
                .iter()
                .find(|m| m.user_id == *id)
                .cloned()
                .unwrap_or_default();
            let event = member_event!(
                self,
                MemberAddedEvent,
                &cid,
                self.user_response(id)?,
                self.member_view(&cid, &member)?,
                None
            );
            self.broadcast(&cid, &event);
        }
        if invite {
            for id in &added {
                let member = channel
                    .members
                    .iter()
                    .find(|m| m.user_id == *id)
                    .cloned()
                    .unwrap_or_default();
                let viewer = Caller::user(self.store.as_ref(), id)?;
                let view = self.channel_view(channel, &viewer)?;
                let event = member_event!(
                    self,
                    NotificationInvitedEvent,
                    &cid,
                    self.user_response(id)?,
                    self.member_view(&cid, &member)?,
                    Some(view)
                );
                self.send_to_user(id, &event);
            }
            Ok(())
        } else {
            self.notify_added(channel, &added, adder)
        }
    }

    /// Removes members: `member.removed` to the watchers (the removed too),
    /// `notification.removed_from_channel` to each removed user. Their read state stays.
    fn remove_members(&mut self, channel: &mut Loaded, ids: &[String]) -> ApiResult<()> {
        let cid = channel.record.cid.clone();
        for id in ids {
            let Some(member) = channel.members.iter().find(|m| m.user_id == *id).cloned() else {
                continue;
            };
            let view = self.member_view(&cid, &member)?;
            let event = member_event!(
                self,
                MemberRemovedEvent,
                &cid,
                self.user_response(id)?,
                view.clone(),
                None
            );
            self.broadcast(&cid, &event);
            self.store.remove_member(&cid, id)?;
            channel.members.retain(|m| m.user_id != *id);
            let channel_view = self.channel_event_view(channel)?;
            let note = member_event!(
                self,
                NotificationRemovedFromChannelEvent,
                &cid,
                self.user_response(id)?,
                view,
                Some(channel_view)
            );
            self.send_to_user(id, &note);
        }
        channel.record.updated_at = self.now();
        self.store.put_channel(channel.record.clone())?;
        Ok(())
    }

    /// The invitee accepts (becomes a full member) or rejects (is no longer a member) their
    /// pending invite: `member.updated` (or `member.removed`) to the watchers and
    /// `notification.invite_accepted` / `_rejected` to the invitee's connections.
    fn answer_invite(
        &mut self,
        op: &str,
        channel: &mut Loaded,
        invitee: &str,
        accept: bool,
    ) -> ApiResult<()> {
        let cid = channel.record.cid.clone();
        let now = self.now();
        let Some(member) = channel
            .members
            .iter_mut()
            .find(|m| m.user_id == invitee && m.invited && m.invite_accepted_at.is_none())
        else {
            return Err(ApiError::input(
                op,
                format!("user '{invitee}' has no pending invite to channel {cid}"),
            ));
        };
        if accept {
            member.invite_accepted_at = Some(now.clone());
        } else {
            member.invite_rejected_at = Some(now.clone());
        }
        member.updated_at = now;
        let member = member.clone();
        let user = self.user_response(invitee)?;
        let view = self.member_view(&cid, &member)?;
        if accept {
            self.store.put_member(&cid, member)?;
            let event = member_event!(
                self,
                MemberUpdatedEvent,
                &cid,
                user.clone(),
                view.clone(),
                None
            );
            self.broadcast(&cid, &event);
        } else {
            let event = member_event!(
                self,
                MemberRemovedEvent,
                &cid,
                user.clone(),
                view.clone(),
                None
            );
            self.broadcast(&cid, &event);
            self.store.remove_member(&cid, invitee)?;
            channel.members.retain(|m| m.user_id != invitee);
        }
        let viewer = Caller::user(self.store.as_ref(), invitee)?;
        let channel_view = Some(self.channel_view(channel, &viewer)?);
        if accept {
            let note = member_event!(
                self,
                NotificationInviteAcceptedEvent,
                &cid,
                user,
                view,
                channel_view
            );
            self.send_to_user(invitee, &note);
        } else {
            let note = member_event!(
                self,
                NotificationInviteRejectedEvent,
                &cid,
                user,
                view,
                channel_view
            );
            self.send_to_user(invitee, &note);
        }
        Ok(())
    }
}

/// The document a members query filters and sorts on.
fn member_doc(member: &Member) -> Value {
    let mut doc = match serde_json::to_value(member.user.clone().unwrap_or_default()) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    doc.extend(member.extra.clone());
    let invite = match (&member.invite_accepted_at, &member.invite_rejected_at) {
        (Some(_), _) => Some("accepted"),
        (None, Some(_)) => Some("rejected"),
        _ if member.invited == Some(true) => Some("pending"),
        _ => None,
    };
    for (k, v) in [
        ("id", json!(member.user_id)),
        ("user_id", json!(member.user_id)),
        ("banned", json!(member.banned)),
        ("shadow_banned", json!(member.shadow_banned)),
        ("invite", json!(invite)),
        ("joined", json!(invite.is_none_or(|i| i == "accepted"))),
        ("created_at", json!(member.created_at)),
        ("updated_at", json!(member.updated_at)),
        ("is_moderator", json!(member.is_moderator)),
        ("channel_role", json!(member.channel_role)),
        ("role", json!(member.role)),
        ("notifications_muted", json!(member.notifications_muted)),
        ("pinned", json!(member.pinned_at.is_some())),
        ("archived", json!(member.archived_at.is_some())),
    ] {
        doc.insert(k.to_owned(), v);
    }
    Value::Object(doc)
}

impl Chat {
    /// `GET /members?payload=`: the members of one channel (by type and id, or by the
    /// members of a distinct channel) matching the filter, oldest first unless told.
    pub(crate) fn query_members(
        &self,
        op: &str,
        actor: Actor,
        query: QueryMembersRequest,
    ) -> ApiResult<Vec<Member>> {
        filter::validate(&query.filter_conditions).map_err(|e| ApiError::input(op, e))?;
        let id = match (&query.id, &query.members) {
            (Some(id), _) if !id.is_empty() => id.clone(),
            (_, Some(members)) => distinct_channel_id(
                op,
                Some(&ChannelRequestData {
                    members: Some(members.clone()),
                    ..Default::default()
                }),
            )?,
            _ => return Err(ApiError::input(op, "id or members is required")),
        };
        let key = ChannelKey::new(op, query.kind.clone(), id)?;
        let offset = query.offset.unwrap_or(0);
        if offset > MAX_MEMBER_OFFSET {
            return Err(ApiError::input(
                op,
                format!("offset must be at most {MAX_MEMBER_OFFSET}"),
            ));
        }
        let (world, caller) = self.enter(actor)?;
        let channel = world.existing_channel(op, &key.cid)?;
        channel.require(op, &caller, Action::ReadChannel)?;
        let mut found = Vec::new();
        for view in world.member_views(&channel)? {
            let doc = member_doc(&view);
            if filter::matches(&doc, &query.filter_conditions)
                .map_err(|e| ApiError::input(op, e))?
            {
                found.push((doc, view));
            }
        }
        let mut sort = query.sort.clone();
        if sort.is_empty() {
            sort.push(SortParam {
                field: "created_at".into(),
                direction: 1,
            });
        }
        filter::sort_docs(&mut found, &sort);
        let limit = query
            .limit
            .unwrap_or(DEFAULT_MEMBER_LIMIT)
            .min(MAX_MEMBER_LIMIT) as usize;
        Ok(found
            .into_iter()
            .skip(offset as usize)
            .take(limit)
            .map(|(_, m)| m)
            .collect())
    }

    /// `PATCH /channels/{type}/{id}/member[/{user_id}]`: sets and unsets a member's fields:
    /// `pinned` and `archived` (the member's own; as `pinned_at` / `archived_at`),
    /// `channel_role` (UpdateChannelMembers) and custom member data. Updating another
    /// member needs UpdateChannelMembers. `member.updated` to the watchers.
    pub(crate) fn partial_update_member(
        &self,
        op: &str,
        actor: Actor,
        key: &ChannelKey,
        user_id: Option<&str>,
        set: Map<String, Value>,
        unset: Vec<String>,
    ) -> ApiResult<Member> {
        let (mut world, caller) = self.enter(actor)?;
        let target = caller.acting_user(op, "", None, None).ok();
        let target = match (user_id.filter(|u| !u.is_empty()), target) {
            (Some(u), _) => u.to_owned(),
            (None, Some(me)) => me,
            (None, None) => return Err(ApiError::input(op, "user_id is required")),
        };
        let mut channel = world.existing_channel(op, &key.cid)?;
        channel.require(op, &caller, Action::ReadChannel)?;
        if caller.is_server() || target != caller.id || set.contains_key("channel_role") {
            channel.require(op, &caller, Action::UpdateChannelMembers)?;
        }
        for k in set.keys().chain(unset.iter()) {
            if FIXED_MEMBER_KEYS.contains(&k.as_str()) {
                return Err(ApiError::input(
                    op,
                    format!("field '{k}' cannot be changed"),
                ));
            }
        }
        let cid = key.cid.clone();
        let now = world.now();
        let Some(member) = channel.members.iter_mut().find(|m| m.user_id == target) else {
            return Err(ApiError::not_found(
                op,
                format!("user '{target}' is not a member of channel {cid}"),
            ));
        };
        for (k, v) in &set {
            let on = || {
                v.as_bool().ok_or_else(|| {
                    ApiError::input(op, format!("{k} must be true or false, not {v}"))
                })
            };
            match k.as_str() {
                "pinned" => member.pinned_at = on()?.then(|| now.clone()),
                "archived" => member.archived_at = on()?.then(|| now.clone()),
                "channel_role" => {
                    let name = v.as_str().unwrap_or_default();
                    member.channel_role = ChannelRole::parse(name).ok_or_else(|| {
                        ApiError::input(op, format!("channel_role '{name}' does not exist"))
                    })?;
                }
                _ => {
                    member.custom.insert(k.clone(), v.clone());
                }
            }
        }
        for k in &unset {
            match k.as_str() {
                "pinned" => member.pinned_at = None,
                "archived" => member.archived_at = None,
                "channel_role" => member.channel_role = ChannelRole::Member,
                _ => {
                    member.custom.remove(k);
                }
            }
        }
        member.updated_at = now;
        let member = member.clone();
        world.store.put_member(&cid, member.clone())?;
        let view = world.member_view(&cid, &member)?;
        let event = member_event!(
            world,
            MemberUpdatedEvent,
            &cid,
            world.user_response(&target)?,
            view.clone(),
            None
        );
        world.broadcast(&cid, &event);
        Ok(view)
    }
}
