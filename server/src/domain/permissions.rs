//! Built-in channel types and their default grants (reference §8.2).

use serde_json::{Map, Value};
use stream_chat_protocol::names::role;
use stream_chat_protocol::{ChannelConfig, time};

/// Channel types this server knows.
pub(crate) const CHANNEL_TYPES: [&str; 2] = ["messaging", "livestream"];

/// Permission-checked actions, named as in Stream's error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    ReadChannel,
    CreateChannel,
    CreateMessage,
    SendCustomEvent,
    UpdateChannelMembers,
    UpdateChannel,
    MarkRead,
    /// Edit a message (only one's own for non-admins).
    UpdateMessage,
    /// Delete a message (only one's own for non-admins).
    DeleteMessage,
    // Uploads, the server-side client and webhooks.
    /// Upload a file or image to a channel (`upload-attachment`).
    UploadAttachment,
    /// Delete an uploaded file (`delete-attachment`; one's own for users).
    DeleteAttachment,
}

impl Action {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Action::ReadChannel => "ReadChannel",
            Action::CreateChannel => "CreateChannel",
            Action::CreateMessage => "CreateMessage",
            Action::SendCustomEvent => "SendCustomEvent",
            Action::UpdateChannelMembers => "UpdateChannelMembers",
            Action::UpdateChannel => "UpdateChannel",
            Action::MarkRead => "MarkRead",
            Action::UpdateMessage => "UpdateMessage",
            Action::DeleteMessage => "DeleteMessage",
            Action::UploadAttachment => "UploadAttachment",
            Action::DeleteAttachment => "DeleteAttachment",
        }
    }
}

/// The caller's relation to a channel (and, for message actions, to the message).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Relation {
    pub creator: bool,
    pub member: bool,
    /// The caller wrote the message acted on.
    pub author: bool,
}

/// Whether an app-level `role` may do `action` in a channel of type `kind`.
pub(crate) fn allowed(role: &str, kind: &str, rel: Relation, action: Action) -> bool {
    use Action::*;
    let owner_or_member = rel.creator || rel.member;
    match (role, kind) {
        (role::ADMIN, _) => true,
        (role::ANONYMOUS, "livestream") => action == ReadChannel,
        (role::GUEST, "livestream") => matches!(action, ReadChannel | MarkRead),
        (role::ANONYMOUS | role::GUEST, _) => false,
        // `update-own-message` / `delete-own-message` go with the right to post.
        (_, "livestream") => match action {
            UpdateChannelMembers | UpdateChannel => rel.creator,
            UpdateMessage | DeleteMessage => rel.author,
            DeleteAttachment => rel.author,
            _ => true,
        },
        _ => match action {
            CreateChannel => true,
            ReadChannel | CreateMessage | SendCustomEvent | MarkRead => owner_or_member,
            UpdateMessage | DeleteMessage => rel.author && owner_or_member,
            UpdateChannelMembers | UpdateChannel => rel.creator,
            // `upload-attachment` (members), `upload-attachment-owner` (the creator).
            UploadAttachment => owner_or_member,
            // `delete-attachment-owner`: the uploader.
            DeleteAttachment => rel.author,
        },
    }
}

/// `channel.own_capabilities` for a caller.
pub(crate) fn capabilities(role: &str, kind: &str, rel: Relation) -> Vec<String> {
    use stream_chat_protocol::names::capability::*;
    let mut caps: Vec<&str> = Vec::new();
    if allowed(role, kind, rel, Action::ReadChannel) {
        caps.extend([CONNECT_EVENTS, SEARCH_MESSAGES]);
        if role != role::ANONYMOUS {
            caps.extend([FLAG_MESSAGE, MUTE_CHANNEL, READ_EVENTS]);
        }
    }
    if allowed(role, kind, rel, Action::CreateMessage) {
        caps.extend([
            CREATE_ATTACHMENT,
            DELETE_OWN_MESSAGE,
            PIN_MESSAGE,
            QUOTE_MESSAGE,
            SEND_CUSTOM_EVENTS,
            SEND_LINKS,
            SEND_MESSAGE,
            SEND_REACTION,
            SEND_REPLY,
            SEND_TYPING_EVENTS,
            TYPING_EVENTS,
            UPDATE_OWN_MESSAGE,
            UPLOAD_FILE,
        ]);
    }
    if allowed(role, kind, rel, Action::UpdateChannelMembers) {
        caps.extend([UPDATE_CHANNEL, UPDATE_CHANNEL_MEMBERS]);
    }
    caps.sort_unstable();
    caps.into_iter().map(str::to_owned).collect()
}

/// The configuration of a built-in channel type.
pub(crate) fn config(kind: &str, created_at: &str) -> ChannelConfig {
    let livestream = kind == "livestream";
    ChannelConfig {
        name: kind.to_owned(),
        typing_events: !livestream,
        read_events: !livestream,
        connect_events: true,
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

    #[test]
    fn default_grants() {
        let none = Relation::default();
        let member = Relation {
            member: true,
            ..Relation::default()
        };
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
}
