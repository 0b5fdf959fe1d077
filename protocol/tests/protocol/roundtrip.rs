//! Property tests: every wire type round-trips through JSON, and JWTs sign and verify.
//!
//! The values come from `shapes.json` (written by `shapes.py` from the sources): a sample
//! of each type with every field present. Each case mutates a sample — any string, any
//! number in the field's range, arrays of 0–3 elements, optional keys dropped, arbitrary
//! JSON where a field is `Value`, and extra keys where a struct keeps unknown fields — and
//! checks that the mutant decodes, that re-encoding keeps every key and value it had
//! (nothing sent is lost or altered), and that decoding the encoding gives the same value.
//! A guard test fails when a wire type of `protocol/src` has no shape (run `shapes.py`).

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::OnceLock;

use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};
use stream_chat_protocol::events::*;
use stream_chat_protocol::jwt::{self, Claims, JwtError, VerifyOptions};
use stream_chat_protocol::*;

const EXTRA: &str = "__extra__";
const REQUIRED: &str = "__required__";
/// A unit enum's sample: `{ONE_OF: [its wire names]}`.
const ONE_OF: &str = "__one_of__";
/// Keys whose values other fields depend on (an event's `type`, a cid and its parts).
const FIXED: [&str; 4] = ["type", "cid", "channel_type", "channel_id"];

fn shapes() -> &'static Map<String, Value> {
    static SHAPES: OnceLock<Map<String, Value>> = OnceLock::new();
    SHAPES.get_or_init(|| serde_json::from_str(include_str!("shapes.json")).unwrap())
}

fn shape(name: &str) -> &'static Value {
    shapes()
        .get(name)
        .unwrap_or_else(|| panic!("no shape for {name}: run protocol/tests/protocol/shapes.py"))
}

/// Any JSON value, nested up to three levels.
fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Mutants of `sample` (see the module documentation).
fn mutant(sample: &Value) -> BoxedStrategy<Value> {
    match sample {
        Value::Bool(_) => any::<bool>().prop_map(Value::Bool).boxed(),
        Value::Number(n) if n.is_f64() => any::<f64>()
            .prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number))
            .boxed(),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(max), _) => (0..=max).prop_map(Value::from).boxed(),
            (None, Some(min)) => (min..=-(min + 1)).prop_map(Value::from).boxed(),
            _ => Just(sample.clone()).boxed(),
        },
        Value::String(_) => any::<String>().prop_map(Value::String).boxed(),
        Value::Array(items) => match items.first() {
            Some(item) => prop::collection::vec(mutant(item), 0..4)
                .prop_map(Value::Array)
                .boxed(),
            None => Just(Value::Array(Vec::new())).boxed(),
        },
        Value::Object(fields) if is_any_value(fields) => any_json(),
        Value::Object(fields) if fields.len() == 1 && fields.contains_key(ONE_OF) => {
            let names = fields[ONE_OF].as_array().cloned().unwrap_or_default();
            prop::sample::select(names).boxed()
        }
        Value::Object(fields) if is_map(fields) => {
            prop::collection::btree_map(any::<String>(), mutant(&fields["key"]), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
                .boxed()
        }
        Value::Object(fields) => struct_mutant(fields),
        Value::Null => Just(Value::Null).boxed(),
    }
}

fn is_any_value(fields: &Map<String, Value>) -> bool {
    fields.len() == 1 && fields.get("any") == Some(&Value::from("json"))
}

fn is_map(fields: &Map<String, Value>) -> bool {
    fields.len() == 1 && fields.contains_key("key")
}

/// A struct's mutant: each optional key kept or dropped, each value mutated, fixed keys
/// kept as they are, extra keys (prefixed `x-`, so they never collide) when it takes them.
fn struct_mutant(fields: &Map<String, Value>) -> BoxedStrategy<Value> {
    let required: BTreeSet<&str> = fields
        .get(REQUIRED)
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut parts: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for (key, value) in fields {
        if key == EXTRA || key == REQUIRED {
            continue;
        }
        let key = key.clone();
        // Only a fixed key's string is kept as written (`channel_type` may also name a list).
        let fixed = FIXED.contains(&key.as_str()) && value.is_string();
        let values = if fixed {
            Just(value.clone()).boxed()
        } else {
            mutant(value)
        };
        let keep = if required.contains(key.as_str()) || fixed {
            Just(true).boxed()
        } else {
            any::<bool>().boxed()
        };
        parts.push(
            (keep, values)
                .prop_map(move |(keep, v)| keep.then(|| (key.clone(), v)))
                .boxed(),
        );
    }
    let extras = if fields.contains_key(EXTRA) {
        prop::collection::btree_map("x-[a-z]{1,6}", any_json(), 0..3).boxed()
    } else {
        Just(Default::default()).boxed()
    };
    (parts, extras)
        .prop_map(|(parts, extras)| {
            let mut out: Map<String, Value> = parts.into_iter().flatten().collect();
            out.extend(extras);
            Value::Object(out)
        })
        .boxed()
}

/// Whether `v` is a default value (`""`, `[]`, `{}`, `null`, `false`, `0`): an encoder may
/// leave those out (`skip_serializing_if`), and they decode to the same value.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Every key and value of `sent` is in `encoded` (which may add defaults, and leave out
/// keys whose value is a default).
#[track_caller]
fn assert_kept(sent: &Value, encoded: &Value, path: &str) {
    match (sent, encoded) {
        (Value::Object(s), Value::Object(e)) => {
            for (k, v) in s {
                let Some(got) = e.get(k) else {
                    assert!(is_empty(v), "{path}.{k} was dropped: sent {v}");
                    continue;
                };
                assert_kept(v, got, &format!("{path}.{k}"));
            }
        }
        (Value::Array(s), Value::Array(e)) => {
            assert_eq!(s.len(), e.len(), "{path}: array length");
            for (i, (a, b)) in s.iter().zip(e).enumerate() {
                assert_kept(a, b, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(sent, encoded, "{path}"),
    }
}

/// The round trip of one mutant of `T`.
fn round_trip<T: DeserializeOwned + Serialize + PartialEq + Debug>(sent: &Value) {
    let value: T = serde_json::from_value(sent.clone())
        .unwrap_or_else(|e| panic!("a mutant does not decode: {e}\n{sent}"));
    let encoded = serde_json::to_value(&value).unwrap();
    assert_kept(sent, &encoded, "$");
    let again: T = serde_json::from_value(encoded.clone()).unwrap();
    assert_eq!(again, value, "decode(encode(x)) != x");
    assert_eq!(serde_json::to_value(&again).unwrap(), encoded);
    // Through text, as on the wire.
    let text = serde_json::to_string(&value).unwrap();
    let parsed: T = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed, value, "decode(text(x)) != x: {text}");
}

/// Declares one property test per wire type.
macro_rules! round_trips {
    ($($test:ident: $ty:ty,)*) => {
        /// The names of the types with a round-trip test.
        const TESTED: &[&str] = &[$(stringify!($ty)),*];
        $(
            proptest! {
                #![proptest_config(ProptestConfig::with_cases(64))]
                #[test]
                fn $test(sent in mutant(shape(stringify!($ty)))) {
                    round_trip::<$ty>(&sent);
                }
            }
        )*
    };
}

round_trips! {
    api_error_body: ApiErrorBody,
    ban_user_request: BanUserRequest,
    banned_user: BannedUser,
    block_user_request: BlockUserRequest,
    blocked_users_response: BlockedUsersResponse,
    channel: Channel,
    channel_config: ChannelConfig,
    channel_deleted_event: ChannelDeletedEvent,
    channel_hidden_event: ChannelHiddenEvent,
    channel_mute: ChannelMute,
    channel_request_data: ChannelRequestData,
    channel_state: ChannelState,
    channel_truncated_event: ChannelTruncatedEvent,
    channel_updated_event: ChannelUpdatedEvent,
    channel_visible_event: ChannelVisibleEvent,
    claims: Claims,
    connect_payload: ConnectPayload,
    connection_error_event: ConnectionErrorEvent,
    event_frame: Event,
    flag: Flag,
    flag_request: FlagRequest,
    flag_response: FlagResponse,
    guest_request: GuestRequest,
    guest_response: GuestResponse,
    health_check_event: HealthCheckEvent,
    hide_channel_request: HideChannelRequest,
    mark_all_read_request: MarkAllReadRequest,
    mark_read_request: MarkReadRequest,
    mark_unread_request: MarkUnreadRequest,
    member: Member,
    message: Message,
    message_deleted_event: MessageDeletedEvent,
    message_pagination: MessagePagination,
    message_read_event: MessageReadEvent,
    message_response: MessageResponse,
    message_updated_event: MessageUpdatedEvent,
    mute: Mute,
    mute_channel_request: MuteChannelRequest,
    mute_channel_response: MuteChannelResponse,
    mute_user_request: MuteUserRequest,
    mute_user_response: MuteUserResponse,
    new_message_event: NewMessageEvent,
    notification_added_to_channel_event: NotificationAddedToChannelEvent,
    notification_channel_deleted_event: NotificationChannelDeletedEvent,
    notification_channel_mutes_updated_event: NotificationChannelMutesUpdatedEvent,
    notification_channel_truncated_event: NotificationChannelTruncatedEvent,
    notification_mark_read_event: NotificationMarkReadEvent,
    notification_mark_unread_event: NotificationMarkUnreadEvent,
    notification_message_new_event: NotificationMessageNewEvent,
    notification_mutes_updated_event: NotificationMutesUpdatedEvent,
    partial_update_channel_request: PartialUpdateChannelRequest,
    partial_update_member_request: PartialUpdateMemberRequest,
    partial_update_member_response: PartialUpdateMemberResponse,
    partial_update_users_request: PartialUpdateUsersRequest,
    partial_user_update: PartialUserUpdate,
    query_banned_users_request: QueryBannedUsersRequest,
    query_banned_users_response: QueryBannedUsersResponse,
    query_channel_request: QueryChannelRequest,
    query_channels_request: QueryChannelsRequest,
    query_channels_response: QueryChannelsResponse,
    query_members_request: QueryMembersRequest,
    query_members_response: QueryMembersResponse,
    query_users_request: QueryUsersRequest,
    query_users_response: QueryUsersResponse,
    read: Read,
    send_event_request: SendEventRequest,
    send_message_request: SendMessageRequest,
    sort_param: SortParam,
    truncate_channel_request: TruncateChannelRequest,
    truncate_channel_response: TruncateChannelResponse,
    unread_channel: UnreadChannel,
    unread_channel_type: UnreadChannelType,
    unread_counts_response: UnreadCountsResponse,
    update_channel_request: UpdateChannelRequest,
    update_channel_response: UpdateChannelResponse,
    upsert_users_request: UpsertUsersRequest,
    user: User,
    user_block: UserBlock,
    user_presence_changed_event: UserPresenceChangedEvent,
    user_start_watching_event: UserStartWatchingEvent,
    user_stop_watching_event: UserStopWatchingEvent,
    user_updated_event: UserUpdatedEvent,
    users_response: UsersResponse,
    // Reactions, threads, typing, pins, search (messages surface).
    get_thread_request: GetThreadRequest,
    messages_response: MessagesResponse,
    notification_thread_message_new_event: NotificationThreadMessageNewEvent,
    partial_update_message_request: PartialUpdateMessageRequest,
    pinned_messages_request: PinnedMessagesRequest,
    query_threads_request: QueryThreadsRequest,
    query_threads_response: QueryThreadsResponse,
    reaction: Reaction,
    reaction_group: ReactionGroup,
    reaction_response: ReactionResponse,
    reactions_request: ReactionsRequest,
    reactions_response: ReactionsResponse,
    replies_request: RepliesRequest,
    search_request: SearchRequest,
    search_response: SearchResponse,
    search_result: SearchResult,
    search_warning: SearchWarning,
    send_reaction_request: SendReactionRequest,
    thread: Thread,
    thread_info: ThreadInfo,
    thread_participant: ThreadParticipant,
    thread_response: ThreadResponse,
    // Uploads, the server-side client and webhooks.
    deactivate_user_request: DeactivateUserRequest,
    delete_users_request: DeleteUsersRequest,
    reactivate_user_request: ReactivateUserRequest,
    task_response: TaskResponse,
    task_status: TaskStatus,
    upload_file_response: UploadFileResponse,
    uploaded_file: UploadedFile,
    user_response: UserResponse,
    // Push devices.
    add_device_request: AddDeviceRequest,
    device: Device,
    devices_response: DevicesResponse,
}

#[test]
fn every_wire_type_has_a_shape_and_a_round_trip() {
    let shaped: BTreeSet<&str> = shapes().keys().map(String::as_str).collect();
    let tested: BTreeSet<&str> = TESTED.iter().copied().collect();
    assert_eq!(
        shaped, tested,
        "add the missing types to round_trips! (or run shapes.py for a new one)"
    );
    // Every Deserialize struct and wire event of protocol/src has a shape.
    let mut missing = Vec::new();
    for file in source_files(concat!(env!("CARGO_MANIFEST_DIR"), "/src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut deserialize = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with("#[derive(") && line.contains("Deserialize") {
                deserialize = true;
            }
            if let Some(rest) = line.strip_prefix("pub struct ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let event = rest.contains(" = \"");
                if (deserialize || event) && !shaped.contains(name.as_str()) {
                    missing.push(name);
                }
                deserialize = false;
            } else if line.starts_with("pub enum ") {
                deserialize = false;
            }
        }
    }
    assert!(
        missing.is_empty(),
        "wire types without a shape: {missing:?}; run python3 protocol/tests/protocol/shapes.py"
    );
}

fn source_files(dir: &str) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(source_files(path.to_str().unwrap()));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The event shapes, by name.
fn event_shapes() -> Vec<&'static str> {
    shapes()
        .iter()
        .filter(|(_, s)| s.get("type").is_some_and(Value::is_string))
        .map(|(name, _)| name.as_str())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A typed event decodes through `AnyEvent` into its own variant (never `Unknown`),
    /// and encodes the same either way.
    #[test]
    fn events_decode_into_their_own_variant(
        (name, sent) in prop::sample::select(event_shapes())
            .prop_flat_map(|name| (Just(name), mutant(shape(name))))
    ) {
        let any = AnyEvent::from_value(sent.clone()).unwrap();
        prop_assert_eq!(any.kind(), sent["type"].as_str().unwrap(), "{}", name);
        let encoded = serde_json::to_value(&any).unwrap();
        assert_kept(&sent, &encoded, "$");
        let again = AnyEvent::from_json(&encoded.to_string()).unwrap();
        prop_assert_eq!(again, any);
    }

    /// A token signed with any secret for any claims verifies with that secret (or is
    /// refused for exactly the reason its times give), reads back the same claims, and
    /// fails with any other secret or an altered signature.
    #[test]
    fn jwts_sign_and_verify(
        claims in mutant(shape("Claims")).prop_map(|v| serde_json::from_value::<Claims>(v).unwrap()),
        secret in prop::collection::vec(any::<u8>(), 1..64),
        other in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        let token = jwt::sign(&claims, &secret);
        let opts = VerifyOptions::default();
        if token.len() > jwt::MAX_TOKEN_LEN {
            prop_assert_eq!(jwt::verify(&token, &secret, 0, &opts), Err(JwtError::TooLarge));
            return Ok(());
        }
        let decoded = jwt::decode_unverified(&token);
        prop_assert_eq!(decoded.as_ref(), Ok(&claims));
        // A moment at which iat and nbf have passed.
        let now = claims.iat.unwrap_or(0).max(claims.nbf.unwrap_or(0)).max(0);
        let expired = claims
            .exp
            .is_some_and(|exp| now > exp.saturating_add(opts.exp_leeway_secs));
        let verified = jwt::verify(&token, &secret, now, &opts);
        if expired {
            prop_assert_eq!(verified, Err(JwtError::Expired));
        } else {
            prop_assert_eq!(verified.as_ref(), Ok(&claims));
        }
        if other != secret {
            prop_assert_eq!(jwt::verify(&token, &other, now, &opts), Err(JwtError::Signature));
        }
        // Another signature: the last character changed (all base64url characters are ASCII).
        let mut altered = token.clone();
        let last = altered.pop().unwrap();
        altered.push(if last == 'A' { 'B' } else { 'A' });
        prop_assert!(jwt::verify(&altered, &secret, now, &opts).is_err());
    }
}

/// Found by `jwts_sign_and_verify`: serde_json's default float parser may read a float one
/// ULP off, so custom data changed in transit. The workspace enables `float_roundtrip`.
#[test]
fn a_float_in_custom_data_reads_back_exactly() {
    let text = r#"{"id":"m1","score":5.952027949253968e230,"tiny":2.2250738585072014e-308}"#;
    let message: Message = serde_json::from_str(text).unwrap();
    assert_eq!(message.extra["score"].as_f64(), Some(5.952027949253968e230));
    let again: Message = serde_json::from_str(&serde_json::to_string(&message).unwrap()).unwrap();
    assert_eq!(again, message);
}
