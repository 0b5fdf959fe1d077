//! The Stream Chat wire format shared by the SDK and the local server, and its only writer:
//! serde models, typed events and their names ([`events`]), error codes and what they mean
//! ([`codes`]), the names of message types, roles and capabilities ([`names`]), the
//! channel-id rule ([`cid`]), timestamps ([`time`]) and HS256 JWT handling ([`jwt`]). No I/O
//! lives here.
//!
//! ```
//! use stream_chat_protocol::{AnyEvent, jwt};
//!
//! let frame = r#"{"type":"health.check","connection_id":"c1","cid":"*","created_at":"2025-01-01T00:00:00Z"}"#;
//! let AnyEvent::HealthCheck(event) = AnyEvent::from_json(frame).unwrap() else { panic!() };
//! assert_eq!(event.connection_id, "c1");
//! assert_eq!(jwt::decode_unverified(&jwt::dev_token("a")).unwrap().user_id.as_deref(), Some("a"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod channel;
pub mod cid;
pub mod codes;
mod connect;
mod device;
mod error;
pub mod events;
pub mod jwt;
mod message;
pub mod names;
pub mod server_side;
pub mod time;
pub mod uploads;
mod user;
mod users;
// Channel administration, members, read state, moderation, presence, user updates.
mod channel_admin;
mod moderation;
mod reads;
// Reactions, threads, search (messages surface).
pub mod query;
mod reaction;
mod search;
mod thread;
pub mod webhook;

pub use channel::{
    Channel, ChannelConfig, ChannelRequestData, ChannelState, MarkReadRequest, Member,
    MessagePagination, QueryChannelRequest, QueryChannelsRequest, QueryChannelsResponse, Read,
    SendEventRequest, SortParam,
};
pub use connect::{ConnectPayload, GuestRequest, GuestResponse};
pub use device::{AddDeviceRequest, Device, DevicesResponse, PushProvider};
pub use error::{ApiErrorBody, MORE_INFO_URL};
pub use events::{
    AnyEvent, ChannelEvent, ConnectionErrorEvent, Event, HealthCheckEvent, MessageDeletedEvent,
    MessageReadEvent, MessageUpdatedEvent, NewMessageEvent, NotificationAddedToChannelEvent,
    NotificationMarkReadEvent, NotificationMessageNewEvent, UserStartWatchingEvent,
    UserStopWatchingEvent,
};
pub use message::{Message, MessageResponse, SendMessageRequest};
pub use user::{ANONYMOUS_USER_ID, OwnUser, User};
pub use users::{
    PartialUpdateUsersRequest, PartialUserUpdate, QueryUsersRequest, QueryUsersResponse,
    UpsertUsersRequest, UsersResponse,
};
// Channel administration, members, read state, moderation, presence, user updates.
pub use channel_admin::{
    DeleteChannelResponse, HideChannelRequest, PartialUpdateChannelRequest,
    PartialUpdateMemberRequest, PartialUpdateMemberResponse, QueryMembersRequest,
    QueryMembersResponse, TruncateChannelRequest, TruncateChannelResponse, UpdateChannelRequest,
    UpdateChannelResponse,
};
pub use moderation::{
    BanUserRequest, BannedUser, BlockUserRequest, BlockedUsersResponse, ChannelMute, Flag,
    FlagRequest, FlagResponse, Mute, MuteChannelRequest, MuteChannelResponse, MuteUserRequest,
    MuteUserResponse, QueryBannedUsersRequest, QueryBannedUsersResponse, UserBlock,
};
pub use reads::{
    MarkAllReadRequest, MarkUnreadRequest, UnreadChannel, UnreadChannelType, UnreadCountsResponse,
};
// Uploads, the server-side client and webhooks.
pub use server_side::{
    DeactivateUserRequest, DeleteUsersRequest, ReactivateUserRequest, TaskResponse, TaskStatus,
    UserResponse,
};
pub use uploads::{UploadFileResponse, UploadedFile};
pub use webhook::verify_webhook;

// Reactions, threads, typing, pins, search (messages surface).
pub use events::{
    NotificationThreadMessageNewEvent, ReactionDeletedEvent, ReactionNewEvent, ReactionUpdateEvent,
    TypingStartEvent, TypingStopEvent,
};
pub use message::{PartialUpdateMessageRequest, PinnedMessagesRequest};
pub use reaction::{
    Reaction, ReactionGroup, ReactionResponse, ReactionsRequest, ReactionsResponse,
    SendReactionRequest,
};
pub use search::{SearchRequest, SearchResponse, SearchResult, SearchWarning};
pub use thread::{
    GetThreadRequest, MessagesResponse, QueryThreadsRequest, QueryThreadsResponse, RepliesRequest,
    Thread, ThreadInfo, ThreadParticipant, ThreadResponse,
};

/// The README's example runs against the real API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}
