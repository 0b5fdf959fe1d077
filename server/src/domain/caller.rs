//! Who is asking: the identity authentication established ([`Actor`]: a server token, a
//! user, or anonymous), resolved against the store into a [`Caller`] with an app role, and
//! the permission check every operation makes with it.

use stream_chat_protocol::names::role;
use stream_chat_protocol::{ANONYMOUS_USER_ID, User};

use super::permissions::{self, Action, Relation};
use super::store::{ChannelRecord, MemberRecord, Store, StoreResult};
use crate::error::{ApiError, ApiResult};

/// Who is calling, as the credentials say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Actor {
    /// A server token: everything is allowed.
    Server,
    /// A user token acting as this user id.
    User(String),
    /// `stream-auth-type: anonymous`.
    Anonymous,
}

/// The resolved caller: actor, app role and the id permissions are checked for.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub actor: Actor,
    pub role: String,
    /// The user id (`!anon` for anonymous callers, empty for server tokens).
    pub id: String,
    /// Teams (issue 15): the teams the caller is restricted to, `None` when unrestricted
    /// (see `domain/teams.rs`).
    pub teams: Option<Vec<String>>,
}

impl Caller {
    /// Resolves `actor` in `store`: a user's role is the stored one (`user` for unknown users).
    pub(crate) fn resolve(store: &dyn Store, actor: Actor) -> StoreResult<Caller> {
        Ok(match &actor {
            Actor::Server => Caller {
                role: role::ADMIN.into(),
                id: String::new(),
                actor,
                teams: None,
            },
            Actor::Anonymous => Caller {
                role: role::ANONYMOUS.into(),
                id: ANONYMOUS_USER_ID.into(),
                actor,
                teams: None,
            },
            Actor::User(id) => Caller {
                role: role_of(store, id)?,
                id: id.clone(),
                actor,
                teams: None,
            },
        })
    }

    /// The caller `user_id` is when it acts for itself (fan-out builds per-user views).
    pub(crate) fn user(store: &dyn Store, user_id: &str) -> StoreResult<Caller> {
        Caller::resolve(store, Actor::User(user_id.to_owned()))
    }

    pub(crate) fn is_server(&self) -> bool {
        self.actor == Actor::Server
    }

    /// The caller's relation to a channel (creator, member, channel role); server tokens
    /// have none.
    pub(crate) fn relation(&self, channel: &ChannelRecord, members: &[MemberRecord]) -> Relation {
        let membership = members
            .iter()
            .find(|m| !self.is_server() && m.user_id == self.id);
        Relation {
            creator: !self.is_server() && channel.created_by == self.id,
            member: membership.is_some(),
            author: false,
            channel_role: membership.map(|m| m.channel_role).unwrap_or_default(),
        }
    }

    /// Code 17 unless the caller may do `action` (server tokens may do everything).
    pub(crate) fn require(
        &self,
        op: &str,
        kind: &str,
        rel: Relation,
        action: Action,
    ) -> ApiResult<()> {
        if self.is_server() || permissions::allowed(&self.role, kind, rel, action) {
            return Ok(());
        }
        Err(ApiError::forbidden(
            op,
            format!(
                "User '{}' with roles ['{}'] is not allowed to perform action {} in scope '{kind}'",
                self.id,
                self.role,
                permissions::action_name(action)
            ),
        ))
    }

    /// The user a call acts as: the token's user, or for server tokens the one the body
    /// names (`{what}.user_id` or `{what}.user.id`, required then). A user naming someone
    /// else is code 17.
    pub(crate) fn acting_user(
        &self,
        op: &str,
        what: &str,
        user_id: Option<&str>,
        user: Option<&User>,
    ) -> ApiResult<String> {
        let named = user_id.or(user.map(|u| u.id.as_str()));
        match &self.actor {
            Actor::Server => named
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| {
                    ApiError::input(op, format!("either {what}.user or {what}.user_id must be provided when using server side auth."))
                }),
            Actor::Anonymous => Ok(self.id.clone()),
            Actor::User(id) => match named {
                Some(other) if !other.is_empty() && other != id => Err(ApiError::forbidden(
                    op,
                    format!("user '{id}' cannot act as user '{other}'"),
                )),
                _ => Ok(id.clone()),
            },
        }
    }
}

/// The stored role of `user_id` (`user` for unknown users).
pub(crate) fn role_of(store: &dyn Store, user_id: &str) -> StoreResult<String> {
    Ok(store
        .user(user_id)?
        .and_then(|u| u.role)
        .unwrap_or_else(|| role::USER.into()))
}
