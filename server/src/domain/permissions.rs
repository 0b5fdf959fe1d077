// Over 700 lines: the grant tables of every default role are data, one line per grant.
//! Stream's default permission model, as data (reference §18): built-in channel types and
//! their configuration, the roles (app roles `user`, `guest`, `anonymous`, `moderator`,
//! `admin`; channel roles `channel_member`, `channel_moderator`; the channel owner is the
//! channel's creator), the grants each role has per scope ([`GRANTS`]), the rule each
//! checked action follows ([`RULES`]), and the `own_capabilities` derived from them.
//!
//! A caller's grants in a channel are their app role's plus, if they are a member, their
//! channel role's (guests and anonymous users never get channel-role grants: every
//! messaging call is refused to them). A grant `x-owner` gives `x` on what the caller owns:
//! the channel they created, or a message they wrote in a channel they may read.
//!
//! A new action is a variant of [`Action`] and a row of [`RULES`]; a new grant goes into
//! the rows of [`GRANTS`]. Nothing else changes.

use serde_json::{Map, Value};
use stream_chat_protocol::names::{capability, member_role, role};
use stream_chat_protocol::{ChannelConfig, time};

pub(crate) use super::store::ChannelRole;

/// Channel types this server knows.
pub(crate) const CHANNEL_TYPES: [&str; 2] = ["messaging", "livestream"];

/// The scope of app-level grants (muting, flagging and banning users, searching users,
/// updating users), as Stream names it in its errors.
pub(crate) const APP_SCOPE: &str = ".app";

/// Permission-checked actions; each has a row in [`RULES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    ReadChannel,
    CreateChannel,
    CreateMessage,
    SendCustomEvent,
    UpdateChannelMembers,
    UpdateChannel,
    MarkRead,
    /// Edit a message (only one's own for non-moderators).
    UpdateMessage,
    /// Delete a message (only one's own for non-moderators).
    DeleteMessage,
    // Channel administration, members, read state, moderation, presence, user updates.
    DeleteChannel,
    TruncateChannel,
    UpdateChannelFrozen,
    UpdateChannelCooldown,
    SkipChannelCooldown,
    RemoveOwnChannelMembership,
    MuteChannel,
    FlagMessage,
    BanChannelMember,
    /// App scope: ban users app-wide.
    BanUser,
    /// App scope.
    MuteUser,
    /// App scope.
    FlagUser,
    /// App scope: query the bans and flags.
    ReadMessageFlags,
    // Reactions, threads, typing, pins (messages surface).
    /// Reply in a thread.
    CreateReply,
    /// React to a message.
    CreateReaction,
    /// Remove a reaction (only one's own for non-admins).
    DeleteReaction,
    /// Pin or unpin a message (a channel member any message; a plain user only their own).
    PinMessage,
    /// Send `typing.start` / `typing.stop`.
    SendTypingEvent,
    // Uploads, the server-side client and webhooks.
    /// Upload a file or image to a channel (`upload-attachment`; the creator's
    /// `upload-attachment-owner`).
    UploadAttachment,
    /// Delete an uploaded file (`delete-attachment`; the uploader's `delete-attachment-owner`).
    DeleteAttachment,
}

/// What owning means for an action's `-owner` grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owned {
    /// The caller created the channel.
    Channel,
    /// The caller wrote the message, in a channel they may read.
    Message,
    /// No `-owner` form.
    Never,
}

/// How an action is checked: the grant it needs, its name in Stream's errors, and what
/// owning means.
struct Rule {
    action: Action,
    grant: &'static str,
    name: &'static str,
    owned: Owned,
}

/// One row per [`Action`].
const RULES: &[Rule] = &[
    rule(
        Action::ReadChannel,
        "read-channel",
        "ReadChannel",
        Owned::Channel,
    ),
    rule(
        Action::CreateChannel,
        "create-channel",
        "CreateChannel",
        Owned::Never,
    ),
    rule(
        Action::CreateMessage,
        "create-message",
        "CreateMessage",
        Owned::Channel,
    ),
    rule(
        Action::SendCustomEvent,
        "send-custom-event",
        "SendCustomEvent",
        Owned::Channel,
    ),
    rule(
        Action::UpdateChannelMembers,
        "update-channel-members",
        "UpdateChannelMembers",
        Owned::Channel,
    ),
    rule(
        Action::UpdateChannel,
        "update-channel",
        "UpdateChannel",
        Owned::Channel,
    ),
    rule(Action::MarkRead, "read-channel", "MarkRead", Owned::Channel),
    rule(
        Action::UpdateMessage,
        "update-message",
        "UpdateMessage",
        Owned::Message,
    ),
    rule(
        Action::DeleteMessage,
        "delete-message",
        "DeleteMessage",
        Owned::Message,
    ),
    // Channel administration, members, read state, moderation, presence, user updates.
    rule(
        Action::DeleteChannel,
        "delete-channel",
        "DeleteChannel",
        Owned::Channel,
    ),
    rule(
        Action::TruncateChannel,
        "truncate-channel",
        "TruncateChannel",
        Owned::Channel,
    ),
    rule(
        Action::UpdateChannelFrozen,
        "update-channel-frozen",
        "UpdateChannelFrozen",
        Owned::Never,
    ),
    rule(
        Action::UpdateChannelCooldown,
        "update-channel-cooldown",
        "UpdateChannelCooldown",
        Owned::Never,
    ),
    rule(
        Action::SkipChannelCooldown,
        "skip-channel-cooldown",
        "SkipChannelCooldown",
        Owned::Never,
    ),
    rule(
        Action::RemoveOwnChannelMembership,
        "remove-own-channel-membership",
        "RemoveOwnChannelMembership",
        Owned::Channel,
    ),
    rule(
        Action::MuteChannel,
        "mute-channel",
        "MuteChannel",
        Owned::Channel,
    ),
    rule(
        Action::FlagMessage,
        "flag-message",
        "FlagMessage",
        Owned::Channel,
    ),
    rule(
        Action::BanChannelMember,
        "ban-channel-member",
        "BanChannelMember",
        Owned::Never,
    ),
    rule(Action::BanUser, "ban-user", "BanUser", Owned::Never),
    rule(Action::MuteUser, "mute-user", "MuteUser", Owned::Never),
    rule(Action::FlagUser, "flag-user", "FlagUser", Owned::Never),
    rule(
        Action::ReadMessageFlags,
        "read-message-flags",
        "ReadMessageFlags",
        Owned::Never,
    ),
    // Reactions, threads, typing, pins (messages surface). Typing has no grant of its own:
    // it goes with `send-custom-event` (reference §4, §18).
    rule(
        Action::CreateReply,
        "create-reply",
        "CreateReply",
        Owned::Channel,
    ),
    rule(
        Action::CreateReaction,
        "create-reaction",
        "CreateReaction",
        Owned::Channel,
    ),
    rule(
        Action::DeleteReaction,
        "delete-reaction",
        "DeleteReaction",
        Owned::Message,
    ),
    rule(
        Action::PinMessage,
        "pin-message",
        "PinMessage",
        Owned::Message,
    ),
    rule(
        Action::SendTypingEvent,
        "send-custom-event",
        "SendTypingEvent",
        Owned::Channel,
    ),
    // Uploads, the server-side client and webhooks.
    rule(
        Action::UploadAttachment,
        "upload-attachment",
        "UploadAttachment",
        Owned::Channel,
    ),
    // Owning a file is having uploaded it (`Relation::author`), in a channel one may read.
    rule(
        Action::DeleteAttachment,
        "delete-attachment",
        "DeleteAttachment",
        Owned::Message,
    ),
];

const fn rule(action: Action, grant: &'static str, name: &'static str, owned: Owned) -> Rule {
    Rule {
        action,
        grant,
        name,
        owned,
    }
}

/// What a channel member may do in every built-in type (reference §18.1, `channel_member`).
const CHANNEL_MEMBER: &[&str] = &[
    "add-links",
    "cast-vote",
    "create-attachment",
    "create-call",
    "create-mention",
    "create-message",
    "create-reaction",
    "create-reply",
    "flag-message",
    "join-call",
    "mute-channel",
    "pin-message",
    "query-votes",
    "read-channel",
    "read-channel-members",
    "remove-own-channel-membership",
    "run-message-action",
    "send-custom-event",
    "send-poll",
    "upload-attachment",
];

/// A channel moderator: a member who moderates this channel (the channel-level form of
/// `moderator`; Stream does not publish this list).
const CHANNEL_MODERATOR: &[&str] = &[
    "ban-channel-member",
    "delete-message",
    "delete-reaction",
    "pin-message",
    "skip-channel-cooldown",
    "update-channel",
    "update-channel-cooldown",
    "update-channel-members",
    "update-message",
];

/// `user` in messaging (reference §18.1): mostly the `-owner` forms.
const MESSAGING_USER: &[&str] = &[
    "add-links-owner",
    "create-attachment-owner",
    "create-channel",
    "create-mention-owner",
    "create-message-owner",
    "create-reaction-owner",
    "create-reply-owner",
    "delete-attachment-owner",
    "delete-channel-owner",
    "delete-message-owner",
    "delete-reaction-owner",
    "flag-message-owner",
    "mute-channel-owner",
    "pin-message-owner",
    "query-votes",
    "read-channel-members-owner",
    "read-channel-owner",
    "recreate-channel-owner",
    "remove-own-channel-membership-owner",
    "run-message-action-owner",
    "send-custom-event-owner",
    "send-poll",
    "truncate-channel-owner",
    "update-channel-members-owner",
    "update-channel-owner",
    "update-message-owner",
    "update-thread-owner",
    "upload-attachment-owner",
];

/// `user` in livestream (reference §18.2): reads and posts without being a member.
const LIVESTREAM_USER: &[&str] = &[
    "add-links",
    "create-attachment",
    "create-channel",
    "create-mention",
    "create-message",
    "create-reaction",
    "create-reply",
    "delete-channel-owner",
    "delete-message-owner",
    "delete-reaction-owner",
    "flag-message",
    "join-call",
    "mute-channel",
    "pin-message-owner",
    "read-channel",
    "read-channel-members",
    "remove-own-channel-membership",
    "run-message-action",
    "send-custom-event",
    "truncate-channel-owner",
    "update-channel-members-owner",
    "update-channel-owner",
    "update-message-owner",
    "upload-attachment",
    // Uploads: a user deletes the files they uploaded, as in messaging (reference §14).
    "delete-attachment-owner",
];

/// `guest` in livestream: reads, flags, mutes.
const LIVESTREAM_GUEST: &[&str] = &[
    "flag-message",
    "join-call",
    "mute-channel",
    "read-channel",
    "read-channel-members",
];

/// `anonymous` in livestream: reads only.
const LIVESTREAM_ANONYMOUS: &[&str] = &["join-call", "read-channel", "read-channel-members"];

/// `moderator` (reference §18.1), in every built-in type.
const MODERATOR: &[&str] = &[
    "add-links",
    "ban-channel-member",
    "ban-user",
    "cast-vote",
    "create-attachment",
    "create-call",
    "create-channel",
    "create-mention",
    "create-message",
    "create-reaction",
    "create-reply",
    "create-restricted-visibility-message",
    "create-system-message",
    "delete-attachment",
    "delete-channel-owner",
    "delete-message",
    "delete-reaction",
    "flag-message",
    "join-call",
    "mute-channel",
    "pin-message",
    "query-votes",
    "read-channel",
    "read-channel-members",
    "read-message-flags",
    "recreate-channel-owner",
    "remove-own-channel-membership",
    "run-message-action",
    "send-custom-event",
    "send-poll",
    "skip-channel-cooldown",
    "skip-message-moderation",
    "truncate-channel-owner",
    "unblock-message",
    "update-channel",
    "update-channel-cooldown",
    "update-channel-frozen",
    "update-channel-members",
    "update-message",
    "update-thread",
    "upload-attachment",
];

/// `admin`: as moderator, plus deleting, recreating and truncating any channel.
const ADMIN_EXTRA: &[&str] = &["delete-channel", "recreate-channel", "truncate-channel"];

/// App-scope grants of users and guests.
const APP_USER: &[&str] = &["flag-user", "mute-user", "search-user", "update-user-owner"];

/// App-scope grants of moderators and admins.
const APP_MODERATOR: &[&str] = &[
    "ban-user",
    "flag-user",
    "mute-user",
    "read-message-flags",
    "search-user",
    "update-user-owner",
];

/// App-scope grants of admins beyond a moderator's.
const APP_ADMIN_EXTRA: &[&str] = &["update-user"];

/// `(scope, role, grants)`: a scope is a channel type or [`APP_SCOPE`]; a role an app
/// role or a channel role. A role missing from a scope has no grants there.
pub(crate) const GRANTS: &[(&str, &str, &[&[&str]])] = &[
    ("messaging", member_role::CHANNEL_MEMBER, &[CHANNEL_MEMBER]),
    (
        "messaging",
        member_role::CHANNEL_MODERATOR,
        &[CHANNEL_MEMBER, CHANNEL_MODERATOR],
    ),
    ("messaging", role::USER, &[MESSAGING_USER]),
    ("messaging", role::MODERATOR, &[MODERATOR]),
    ("messaging", role::ADMIN, &[MODERATOR, ADMIN_EXTRA]),
    ("livestream", member_role::CHANNEL_MEMBER, &[CHANNEL_MEMBER]),
    (
        "livestream",
        member_role::CHANNEL_MODERATOR,
        &[CHANNEL_MEMBER, CHANNEL_MODERATOR],
    ),
    ("livestream", role::USER, &[LIVESTREAM_USER]),
    ("livestream", role::GUEST, &[LIVESTREAM_GUEST]),
    ("livestream", role::ANONYMOUS, &[LIVESTREAM_ANONYMOUS]),
    ("livestream", role::MODERATOR, &[MODERATOR]),
    ("livestream", role::ADMIN, &[MODERATOR, ADMIN_EXTRA]),
    (APP_SCOPE, role::USER, &[APP_USER]),
    (APP_SCOPE, role::GUEST, &[APP_USER]),
    (APP_SCOPE, role::MODERATOR, &[APP_MODERATOR]),
    (APP_SCOPE, role::ADMIN, &[APP_MODERATOR, APP_ADMIN_EXTRA]),
];

/// The caller's relation to a channel (and, for message actions, to the message).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Relation {
    pub creator: bool,
    pub member: bool,
    /// The caller wrote the message acted on.
    pub author: bool,
    /// The caller's channel role, when a member.
    pub channel_role: ChannelRole,
}

/// Whether `role` (with the channel role `rel` gives, for members) has `grant` in `scope`.
fn has(role: &str, scope: &str, rel: Relation, grant: &str) -> bool {
    let channel_grants = rel.member && !matches!(role, role::GUEST | role::ANONYMOUS);
    GRANTS.iter().any(|(s, r, lists)| {
        *s == scope
            && (*r == role || (channel_grants && *r == rel.channel_role.as_str()))
            && lists.iter().any(|list| list.contains(&grant))
    })
}

fn rule_of(action: Action) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.action == action)
        .expect("every action has a rule")
}

/// The name of `action` in Stream's errors (`CreateMessage`, ...).
pub(crate) fn action_name(action: Action) -> &'static str {
    rule_of(action).name
}

/// Whether an app-level `role` may do `action` in a channel of type `kind` (or, for the
/// app-scope actions, with `kind` = [`APP_SCOPE`]).
pub(crate) fn allowed(role: &str, kind: &str, rel: Relation, action: Action) -> bool {
    let rule = rule_of(action);
    if has(role, kind, rel, rule.grant) {
        return true;
    }
    let owns = match rule.owned {
        Owned::Never => false,
        Owned::Channel => rel.creator,
        Owned::Message => {
            rel.author
                && allowed(
                    role,
                    kind,
                    Relation {
                        author: false,
                        ..rel
                    },
                    Action::ReadChannel,
                )
        }
    };
    owns && has(role, kind, rel, &format!("{}-owner", rule.grant))
}

/// `channel.own_capabilities` for a caller: each capability the grants give, plus the
/// event capabilities the channel type's configuration turns on.
pub(crate) fn capabilities(role: &str, kind: &str, rel: Relation, frozen: bool) -> Vec<String> {
    use capability::*;
    let may = |action| allowed(role, kind, rel, action);
    let mut caps: Vec<&str> = Vec::new();
    if may(Action::ReadChannel) {
        caps.push(SEARCH_MESSAGES);
        // Watching and presence events only where the channel type has them on.
        if connect_events(kind) {
            caps.push(CONNECT_EVENTS);
        }
        if role != role::ANONYMOUS {
            caps.push(READ_EVENTS);
        }
    }
    let grants: [(Action, &[&str]); 10] = [
        (Action::FlagMessage, &[FLAG_MESSAGE]),
        (Action::MuteChannel, &[MUTE_CHANNEL]),
        (Action::UpdateChannel, &[UPDATE_CHANNEL]),
        (Action::UpdateChannelMembers, &[UPDATE_CHANNEL_MEMBERS]),
        (Action::BanChannelMember, &[BAN_CHANNEL_MEMBERS]),
        (Action::DeleteChannel, &[DELETE_CHANNEL]),
        (Action::UpdateChannelCooldown, &[SET_CHANNEL_COOLDOWN]),
        (Action::SkipChannelCooldown, &[SKIP_SLOW_MODE]),
        (Action::UpdateChannelFrozen, &[FREEZE_CHANNEL]),
        (Action::RemoveOwnChannelMembership, &[LEAVE_CHANNEL]),
    ];
    for (action, names) in grants {
        if may(action) {
            caps.extend(names);
        }
    }
    if has(role, kind, rel, "update-message") {
        caps.push(UPDATE_ANY_MESSAGE);
    }
    if has(role, kind, rel, "delete-message") {
        caps.push(DELETE_ANY_MESSAGE);
    }
    let posts = may(Action::CreateMessage)
        && (!frozen || allowed(role, kind, rel, Action::UpdateChannelFrozen));
    if posts {
        caps.extend([
            CREATE_ATTACHMENT,
            PIN_MESSAGE,
            QUOTE_MESSAGE,
            SEND_CUSTOM_EVENTS,
            SEND_LINKS,
            SEND_MESSAGE,
            SEND_REACTION,
            SEND_REPLY,
            UPLOAD_FILE,
            UPDATE_OWN_MESSAGE,
            DELETE_OWN_MESSAGE,
        ]);
        // Typing events only where the channel type has them on.
        if config(kind, "").typing_events {
            caps.extend([SEND_TYPING_EVENTS, TYPING_EVENTS]);
        }
    }
    caps.sort_unstable();
    caps.dedup();
    caps.into_iter().map(str::to_owned).collect()
}

/// Whether channels of type `kind` send connect events (`user.watching.*`, and presence
/// changes of the users seen through them). Livestream channels are large and have them off,
/// as Stream's do: `watcher_count` still travels in their other events and watch responses.
pub(crate) fn connect_events(kind: &str) -> bool {
    kind != "livestream"
}

/// The configuration of a built-in channel type.
pub(crate) fn config(kind: &str, created_at: &str) -> ChannelConfig {
    let livestream = kind == "livestream";
    ChannelConfig {
        name: kind.to_owned(),
        typing_events: !livestream,
        read_events: !livestream,
        connect_events: connect_events(kind),
        delivery_events: Some(false),
        search: true,
        reactions: true,
        replies: true,
        quotes: true,
        mutes: true,
        uploads: true,
        url_enrichment: !livestream,
        custom_events: true,
        push_notifications: true,
        message_retention: Some("infinite".into()),
        max_message_length: Some(crate::config::MAX_MESSAGE_LENGTH as u32),
        automod: Some("disabled".into()),
        commands: Some(Vec::new()),
        created_at: Some(created_at.to_owned()),
        updated_at: Some(created_at.to_owned()),
        extra: Default::default(),
    }
}

/// `app.channel_configs`: the configuration of each built-in channel type.
pub(crate) fn channel_configs() -> Map<String, Value> {
    let epoch = time::format_rfc3339(0);
    CHANNEL_TYPES
        .iter()
        .map(|t| {
            let config = serde_json::to_value(config(t, &epoch)).unwrap_or_default();
            (t.to_string(), config)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member() -> Relation {
        Relation {
            member: true,
            ..Relation::default()
        }
    }

    #[test]
    fn default_grants() {
        let none = Relation::default();
        let member = member();
        let author = Relation {
            author: true,
            ..member
        };
        assert!(allowed("user", "livestream", none, Action::CreateMessage));
        assert!(allowed("guest", "livestream", none, Action::ReadChannel));
        assert!(!allowed("guest", "livestream", none, Action::CreateMessage));
        assert!(!allowed(
            "anonymous",
            "livestream",
            none,
            Action::CreateChannel
        ));
        assert!(!allowed("user", "messaging", none, Action::ReadChannel));
        assert!(allowed("user", "messaging", member, Action::CreateMessage));
        assert!(allowed("user", "messaging", none, Action::CreateChannel));
        assert!(!allowed("guest", "messaging", member, Action::ReadChannel));
        assert!(allowed("admin", "messaging", none, Action::UpdateChannel));
        assert!(allowed("user", "messaging", author, Action::UpdateMessage));
        assert!(!allowed("user", "messaging", member, Action::DeleteMessage));
        let gone = Relation {
            author: true,
            ..none
        };
        assert!(!allowed("user", "messaging", gone, Action::DeleteMessage));
        assert!(allowed("user", "livestream", gone, Action::DeleteMessage));
        assert!(!allowed("guest", "livestream", gone, Action::UpdateMessage));
        assert!(allowed("admin", "livestream", none, Action::DeleteMessage));
        // Reactions, threads, typing, pins.
        assert!(allowed("user", "messaging", member, Action::CreateReaction));
        assert!(allowed("user", "messaging", member, Action::PinMessage));
        assert!(!allowed("user", "messaging", none, Action::CreateReply));
        assert!(!allowed(
            "user",
            "messaging",
            member,
            Action::DeleteReaction
        ));
        assert!(allowed("user", "messaging", author, Action::DeleteReaction));
        assert!(allowed("user", "livestream", none, Action::CreateReaction));
        assert!(!allowed("user", "livestream", none, Action::PinMessage));
        assert!(allowed("user", "livestream", gone, Action::PinMessage));
        assert!(!allowed(
            "guest",
            "livestream",
            none,
            Action::CreateReaction
        ));
        assert!(!allowed(
            "anonymous",
            "livestream",
            none,
            Action::CreateReply
        ));
        assert!(!allowed(
            "guest",
            "messaging",
            member,
            Action::SendTypingEvent
        ));
        // Uploads.
        assert!(allowed(
            "user",
            "messaging",
            member,
            Action::UploadAttachment
        ));
        assert!(!allowed(
            "user",
            "messaging",
            none,
            Action::UploadAttachment
        ));
        assert!(allowed(
            "user",
            "livestream",
            none,
            Action::UploadAttachment
        ));
        assert!(!allowed(
            "anonymous",
            "livestream",
            none,
            Action::UploadAttachment
        ));
        assert!(!allowed(
            "guest",
            "livestream",
            none,
            Action::UploadAttachment
        ));
        assert!(allowed(
            "user",
            "messaging",
            author,
            Action::DeleteAttachment
        ));
        assert!(!allowed(
            "user",
            "messaging",
            member,
            Action::DeleteAttachment
        ));
        assert!(allowed(
            "admin",
            "messaging",
            none,
            Action::DeleteAttachment
        ));
    }

    /// The matrix of reference §18.1 for the channel administration and moderation actions,
    /// in messaging: member, owner (creator and member), channel moderator, moderator,
    /// admin, guest, anonymous.
    #[test]
    fn administration_and_moderation_follow_the_default_roles() {
        use Action::*;
        let member = member();
        let owner = Relation {
            creator: true,
            ..member
        };
        let channel_moderator = Relation {
            channel_role: ChannelRole::Moderator,
            ..member
        };
        let who: [(&str, Relation); 7] = [
            ("user", member),
            ("user", owner),
            ("user", channel_moderator),
            ("moderator", Relation::default()),
            ("admin", Relation::default()),
            ("guest", member),
            ("anonymous", member),
        ];
        // member, owner, channel moderator, moderator, admin, guest, anonymous
        let expected: [(Action, [bool; 7]); 11] = [
            (UpdateChannel, [false, true, true, true, true, false, false]),
            (
                UpdateChannelMembers,
                [false, true, true, true, true, false, false],
            ),
            (
                DeleteChannel,
                [false, true, false, false, true, false, false],
            ),
            (
                TruncateChannel,
                [false, true, false, false, true, false, false],
            ),
            (
                UpdateChannelCooldown,
                [false, false, true, true, true, false, false],
            ),
            (
                UpdateChannelFrozen,
                [false, false, false, true, true, false, false],
            ),
            (
                SkipChannelCooldown,
                [false, false, true, true, true, false, false],
            ),
            (
                BanChannelMember,
                [false, false, true, true, true, false, false],
            ),
            (MuteChannel, [true, true, true, true, true, false, false]),
            (FlagMessage, [true, true, true, true, true, false, false]),
            (
                RemoveOwnChannelMembership,
                [true, true, true, true, true, false, false],
            ),
        ];
        for (action, row) in expected {
            for ((role, rel), want) in who.iter().zip(row) {
                assert_eq!(
                    allowed(role, "messaging", *rel, action),
                    want,
                    "{role} {rel:?} {action:?}"
                );
            }
        }
        for (role, want) in [
            ("user", false),
            ("guest", false),
            ("anonymous", false),
            ("moderator", true),
            ("admin", true),
        ] {
            let none = Relation::default();
            assert_eq!(allowed(role, APP_SCOPE, none, BanUser), want, "{role}");
            let mutes = role != "anonymous";
            assert_eq!(allowed(role, APP_SCOPE, none, MuteUser), mutes, "{role}");
        }
    }

    #[test]
    fn every_action_has_a_rule_and_capabilities_follow_the_grants() {
        for rule in RULES {
            assert_eq!(action_name(rule.action), rule.name);
        }
        let member = member();
        let caps = capabilities("user", "messaging", member, false);
        assert!(caps.iter().any(|c| c == "send-message"), "{caps:?}");
        assert!(!caps.iter().any(|c| c == "ban-channel-members"), "{caps:?}");
        let frozen = capabilities("user", "messaging", member, true);
        assert!(!frozen.iter().any(|c| c == "send-message"), "{frozen:?}");
        let moderator = capabilities("moderator", "messaging", member, true);
        for cap in [
            "send-message",
            "skip-slow-mode",
            "ban-channel-members",
            "freeze-channel",
        ] {
            assert!(moderator.iter().any(|c| c == cap), "{cap}: {moderator:?}");
        }
        let anonymous = capabilities("anonymous", "livestream", Relation::default(), false);
        assert!(
            !anonymous.iter().any(|c| c == "read-events"),
            "{anonymous:?}"
        );
    }
}
