//! The names the wire uses for kinds and roles: the auth type, message types, app roles, a member's roles
//! in a channel, and channel capabilities (`own_capabilities`). Event types are in
//! [`crate::events`], error codes in [`crate::codes`].
//!
//! ```
//! use stream_chat_protocol::names::{capability, message_type, role};
//! assert_eq!(message_type::DELETED, "deleted");
//! assert_eq!(role::ANONYMOUS, "anonymous");
//! assert!(capability::ALL.contains(&capability::SEND_MESSAGE));
//! ```

/// How a request says who is calling: the `stream-auth-type` header (REST) or query
/// parameter (WebSocket), with a token (`jwt`) or without one (`anonymous`).
pub mod auth_type {
    /// The header and query-parameter name.
    pub const HEADER: &str = "stream-auth-type";
    /// A user or server token in `Authorization`.
    pub const JWT: &str = "jwt";
    /// No token: an anonymous user.
    pub const ANONYMOUS: &str = "anonymous";
}

/// `message.type`.
pub mod message_type {
    /// A message posted to a channel.
    pub const REGULAR: &str = "regular";
    /// A thread reply (it has a `parent_id`).
    pub const REPLY: &str = "reply";
    /// A soft-deleted message (it has `deleted_at`).
    pub const DELETED: &str = "deleted";
    /// A message the server posts for a channel change (update, truncate, members).
    pub const SYSTEM: &str = "system";
}

/// App-level roles (`user.role`).
pub mod role {
    /// May do everything.
    pub const ADMIN: &str = "admin";
    /// A regular user (the role of users created without one).
    pub const USER: &str = "user";
    /// A guest user, created through `POST /guest`.
    pub const GUEST: &str = "guest";
    /// An anonymous connection's user.
    pub const ANONYMOUS: &str = "anonymous";
    /// May moderate every channel (ban, delete others' messages, slow mode, freeze).
    pub const MODERATOR: &str = "moderator";
}

/// A member's roles in a channel: `member.role` and `member.channel_role`.
pub mod member_role {
    /// `role` of the member who created the channel.
    pub const OWNER: &str = "owner";
    /// `role` of the other members.
    pub const MEMBER: &str = "member";
    /// `channel_role` of the owner.
    pub const CHANNEL_MODERATOR: &str = "channel_moderator";
    /// `channel_role` of the other members.
    pub const CHANNEL_MEMBER: &str = "channel_member";
    /// `status` of a member who was invited and has not answered yet.
    pub const STATUS_PENDING: &str = "pending";
    /// `status` of a member (an invite accepted, or added directly).
    pub const STATUS_MEMBER: &str = "member";
}

/// What a user may do in a channel (`channel.own_capabilities`).
pub mod capability {
    /// Receive the channel's events over the WebSocket.
    pub const CONNECT_EVENTS: &str = "connect-events";
    /// Search the channel's messages.
    pub const SEARCH_MESSAGES: &str = "search-messages";
    /// Flag messages.
    pub const FLAG_MESSAGE: &str = "flag-message";
    /// Mute the channel.
    pub const MUTE_CHANNEL: &str = "mute-channel";
    /// Receive and send read events.
    pub const READ_EVENTS: &str = "read-events";
    /// Attach files.
    pub const CREATE_ATTACHMENT: &str = "create-attachment";
    /// Delete one's own messages.
    pub const DELETE_OWN_MESSAGE: &str = "delete-own-message";
    /// Pin messages.
    pub const PIN_MESSAGE: &str = "pin-message";
    /// Quote messages.
    pub const QUOTE_MESSAGE: &str = "quote-message";
    /// Send custom events.
    pub const SEND_CUSTOM_EVENTS: &str = "send-custom-events";
    /// Send links.
    pub const SEND_LINKS: &str = "send-links";
    /// Send messages.
    pub const SEND_MESSAGE: &str = "send-message";
    /// React to messages.
    pub const SEND_REACTION: &str = "send-reaction";
    /// Reply in threads.
    pub const SEND_REPLY: &str = "send-reply";
    /// Send typing events.
    pub const SEND_TYPING_EVENTS: &str = "send-typing-events";
    /// Receive typing events.
    pub const TYPING_EVENTS: &str = "typing-events";
    /// Edit one's own messages.
    pub const UPDATE_OWN_MESSAGE: &str = "update-own-message";
    /// Upload files.
    pub const UPLOAD_FILE: &str = "upload-file";
    /// Change the channel's data.
    pub const UPDATE_CHANNEL: &str = "update-channel";
    /// Add and remove members.
    pub const UPDATE_CHANNEL_MEMBERS: &str = "update-channel-members";
    /// Ban members of the channel.
    pub const BAN_CHANNEL_MEMBERS: &str = "ban-channel-members";
    /// Delete the channel.
    pub const DELETE_CHANNEL: &str = "delete-channel";
    /// Set the slow-mode cooldown.
    pub const SET_CHANNEL_COOLDOWN: &str = "set-channel-cooldown";
    /// Post inside the slow-mode cooldown.
    pub const SKIP_SLOW_MODE: &str = "skip-slow-mode";
    /// Freeze and unfreeze the channel.
    pub const FREEZE_CHANNEL: &str = "freeze-channel";
    /// Edit anyone's messages.
    pub const UPDATE_ANY_MESSAGE: &str = "update-any-message";
    /// Delete anyone's messages.
    pub const DELETE_ANY_MESSAGE: &str = "delete-any-message";
    /// Leave the channel.
    pub const LEAVE_CHANNEL: &str = "leave-channel";

    /// Every capability named here.
    pub const ALL: [&str; 28] = [
        CONNECT_EVENTS,
        SEARCH_MESSAGES,
        FLAG_MESSAGE,
        MUTE_CHANNEL,
        READ_EVENTS,
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
        UPDATE_CHANNEL,
        UPDATE_CHANNEL_MEMBERS,
        BAN_CHANNEL_MEMBERS,
        DELETE_CHANNEL,
        SET_CHANNEL_COOLDOWN,
        SKIP_SLOW_MODE,
        FREEZE_CHANNEL,
        UPDATE_ANY_MESSAGE,
        DELETE_ANY_MESSAGE,
        LEAVE_CHANNEL,
    ];
}

// Rate limits (issue 15).

/// The headers of Stream's rate limits, on every limited answer (lower case, as HTTP/2
/// and most clients spell them; HTTP header names are case-insensitive).
///
/// ```
/// use stream_chat_protocol::names::rate_limit;
/// assert_eq!(rate_limit::RESET, "x-ratelimit-reset");
/// ```
pub mod rate_limit {
    /// Requests allowed in the current window.
    pub const LIMIT: &str = "x-ratelimit-limit";
    /// Requests left in the current window.
    pub const REMAINING: &str = "x-ratelimit-remaining";
    /// When the window ends: Unix time in seconds.
    pub const RESET: &str = "x-ratelimit-reset";
}

// The state store (issue 12).
/// The `sort` fields of `query_channels` that a client can order channels by itself (the
/// SDK's state store keeps each query's list sorted by them).
///
/// ```
/// use stream_chat_protocol::names::channel_sort;
/// assert_eq!(channel_sort::DEFAULT, channel_sort::LAST_UPDATED);
/// ```
pub mod channel_sort {
    /// The time of the last message.
    pub const LAST_MESSAGE_AT: &str = "last_message_at";
    /// The channel's creation time.
    pub const CREATED_AT: &str = "created_at";
    /// The last update of the channel's data.
    pub const UPDATED_AT: &str = "updated_at";
    /// The later of `last_message_at` and `created_at`.
    pub const LAST_UPDATED: &str = "last_updated";
    /// How many members.
    pub const MEMBER_COUNT: &str = "member_count";
    /// The current user's unread messages.
    pub const UNREAD_COUNT: &str = "unread_count";
    /// Whether the current user has unread messages.
    pub const HAS_UNREAD: &str = "has_unread";
    /// When the current user pinned the channel.
    pub const PINNED_AT: &str = "pinned_at";
    /// The cid.
    pub const CID: &str = "cid";
    /// The channel id.
    pub const ID: &str = "id";
    /// The channel type.
    pub const TYPE: &str = "type";
    /// Stream's order when a query has no sort: `last_updated`, newest first.
    pub const DEFAULT: &str = LAST_UPDATED;
}
