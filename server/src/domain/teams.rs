//! Teams under `--multi-tenant` (issue 15): a user sees and touches only channels of their
//! teams (the channel's `team` among the user's `teams`) and users who share a team with
//! them; anything else is code 17 with Stream's wording. Server tokens and admins (Stream's
//! `*-any-team` grants) are not restricted, nor is anyone when multi-tenancy is off.
//!
//! The caller's teams are read once per request ([`Chat::enter`]); every channel check goes
//! through [`Caller::check_team`] (from `Loaded::require`, the message checks, channel
//! creation and adding members), and the queries filter with [`Caller::sees_team`] and
//! [`Caller::shares_team`].

use serde_json::{Map, Value};
use stream_chat_protocol::User;

use super::Chat;
use super::caller::Caller;
use super::store::Store;
use crate::error::{ApiError, ApiResult};

impl Chat {
    /// The teams `caller` is restricted to: `Some` only under multi-tenancy, for users and
    /// anonymous callers that are not admins.
    pub(super) fn restrict_to_teams(&self, store: &dyn Store, caller: &mut Caller) {
        if !self.multi_tenant || caller.is_server() || caller.role == "admin" {
            return;
        }
        let teams = store
            .user(&caller.id)
            .ok()
            .flatten()
            .and_then(|u| u.teams)
            .unwrap_or_default();
        caller.teams = Some(teams);
    }
}

impl Caller {
    /// Whether the caller may see a channel of `team` (`None`: a channel of no team, seen
    /// only by callers of no team).
    pub(crate) fn sees_team(&self, team: Option<&str>) -> bool {
        match (&self.teams, team) {
            (None, _) => true,
            (Some(mine), Some(team)) => mine.iter().any(|t| t == team),
            (Some(mine), None) => mine.is_empty(),
        }
    }

    /// Code 17 unless the caller may touch a channel of `team` in channel type `kind`.
    pub(crate) fn check_team(&self, op: &str, kind: &str, team: Option<&str>) -> ApiResult<()> {
        if self.sees_team(team) {
            return Ok(());
        }
        let mine = self
            .teams
            .iter()
            .flatten()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ");
        let why = match team {
            Some(team) => format!("requested resource belongs to team '{team}'"),
            None => "requested resource does not belong to any team".to_owned(),
        };
        Err(ApiError::forbidden(
            op,
            format!(
                "User '{}' with roles ['{}'] from teams [{mine}] cannot access resource in scope '{kind}' because {why}",
                self.id, self.role
            ),
        ))
    }

    /// Code 17 unless the caller may act on `user` (mute, block, flag, ban): they share a
    /// team, or neither has one.
    pub(crate) fn check_user_team(&self, op: &str, user: &User) -> ApiResult<()> {
        if self.shares_team(user) {
            return Ok(());
        }
        Err(ApiError::forbidden(
            op,
            format!(
                "User '{}' cannot act on user '{}': they share no team",
                self.id, user.id
            ),
        ))
    }

    /// Whether the caller may see `user`: they share a team, or neither has one.
    pub(crate) fn shares_team(&self, user: &User) -> bool {
        let Some(mine) = &self.teams else {
            return true;
        };
        if user.id == self.id {
            return true;
        }
        let theirs = user.teams.as_deref().unwrap_or_default();
        if mine.is_empty() {
            return theirs.is_empty();
        }
        theirs.iter().any(|t| mine.contains(t))
    }
}

/// Code 17 unless user `id` (to be made a member of a channel of `team`) belongs to that
/// team, under multi-tenancy: members hear a channel's events, so none is from another team.
pub(crate) fn check_member_team(
    op: &str,
    multi_tenant: bool,
    id: &str,
    user: Option<&User>,
    team: Option<&str>,
) -> ApiResult<()> {
    let Some(team) = team.filter(|_| multi_tenant) else {
        return Ok(());
    };
    let theirs = user.and_then(|u| u.teams.as_deref()).unwrap_or_default();
    if theirs.iter().any(|t| t == team) {
        return Ok(());
    }
    Err(ApiError::forbidden(
        op,
        format!("user '{id}' is not in team '{team}' and cannot be a member of its channels"),
    ))
}

/// A channel's custom data with its `team`, as the wire and the query filters show it.
pub(crate) fn with_team(custom: &Map<String, Value>, team: Option<&str>) -> Map<String, Value> {
    let mut out = custom.clone();
    if let Some(team) = team {
        out.insert("team".to_owned(), Value::String(team.to_owned()));
    }
    out
}
