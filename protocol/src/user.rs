use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A Stream user as it travels on the wire: `id`, the fields Stream knows, and custom
/// fields (`name`, `image`, anything else) kept in [`User::extra_data`] and flattened
/// into the JSON object.
///
/// Where Kotlin's `User` has a plain `String` (`name`, `image`, `role`, `language`), the
/// methods of the same name return `&str`, `""` when absent, so printing a user never shows
/// `Some(..)`; the `Option` fields are still there for code that must tell the difference.
///
/// The same type carries the "own user" (`me`) of a connection, whose extra fields
/// (`devices`, `mutes`, `channel_mutes`, unread counters) are `Some` only there. Fields
/// that are `None` are left out of the JSON, so a user round-trips exactly. Fields are
/// declared in the order of the anonymous user on Stream's User Types page, so `me`
/// prints as documented.
///
/// ```
/// use stream_chat_protocol::User;
///
/// let user = User::new("bender").with_name("Bender").with_image("https://bit.ly/321RmWb");
/// let json = serde_json::to_value(&user).unwrap();
/// assert_eq!(json, serde_json::json!({"id": "bender", "name": "Bender", "image": "https://bit.ly/321RmWb"}));
/// assert_eq!(serde_json::from_value::<User>(json).unwrap(), user);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// The user id.
    pub id: String,
    /// The app-level role: `user`, `admin`, `guest`, `anonymous`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// All roles of the user (the anonymous user has `[]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Creation time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// Last time the user was active, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_active: Option<String>,
    /// Whether the user is banned app-wide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banned: Option<bool>,
    /// Whether the user has an open connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
    /// Whether the user hides their online status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invisible: Option<bool>,
    /// Push devices (own user only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<Vec<Value>>,
    /// Muted users (own user only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutes: Option<Vec<Value>>,
    /// Muted channels (own user only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_mutes: Option<Vec<Value>>,
    /// Unread messages (own user only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread_count: Option<u64>,
    /// Unread messages across channels (own user only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_unread_count: Option<u64>,
    /// Channels with unread messages (own user only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread_channels: Option<u64>,
    /// Users this user blocked (own user only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_user_ids: Option<Vec<String>>,
    /// The user's language, `""` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Teams, for multi-tenant apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<String>>,
    /// Custom fields, including `name` and `image`.
    #[serde(flatten)]
    pub extra_data: Map<String, Value>,
}

impl User {
    /// A user with only an id.
    ///
    /// ```
    /// assert_eq!(stream_chat_protocol::User::new("alice").id, "alice");
    /// ```
    pub fn new(id: impl Into<String>) -> Self {
        User {
            id: id.into(),
            ..User::default()
        }
    }

    /// Sets a custom field (Kotlin's `extraData["key"] = value`).
    ///
    /// ```
    /// let u = stream_chat_protocol::User::new("a").with_extra("tier", 3);
    /// assert_eq!(u.extra_data["tier"], 3);
    /// ```
    pub fn with_extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra_data.insert(key.into(), value.into());
        self
    }

    /// Sets the `name` custom field.
    ///
    /// ```
    /// assert_eq!(stream_chat_protocol::User::new("a").with_name("A").name(), "A");
    /// ```
    pub fn with_name(self, name: impl Into<String>) -> Self {
        self.with_extra("name", name.into())
    }

    /// Sets the `image` custom field.
    ///
    /// ```
    /// assert_eq!(stream_chat_protocol::User::new("a").with_image("u").image(), "u");
    /// ```
    pub fn with_image(self, image: impl Into<String>) -> Self {
        self.with_extra("image", image.into())
    }

    /// Sets the role.
    ///
    /// ```
    /// assert_eq!(stream_chat_protocol::User::new("a").with_role("admin").role.as_deref(), Some("admin"));
    /// ```
    pub fn with_role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// The display name (the `name` custom field), `""` when unset or not a string: Kotlin's
    /// `user.name`. The raw value stays in [`extra_data`](Self::extra_data).
    ///
    /// ```
    /// use stream_chat_protocol::User;
    /// assert_eq!(User::new("a").with_name("A").name(), "A");
    /// assert_eq!(User::new("a").name(), "");
    /// ```
    pub fn name(&self) -> &str {
        self.extra_str("name")
    }

    /// The avatar URL (the `image` custom field), `""` when unset or not a string: Kotlin's
    /// `user.image`.
    ///
    /// ```
    /// use stream_chat_protocol::User;
    /// assert_eq!(User::new("a").with_image("https://bit.ly/321RmWb").image(), "https://bit.ly/321RmWb");
    /// assert_eq!(User::new("a").image(), "");
    /// ```
    pub fn image(&self) -> &str {
        self.extra_str("image")
    }

    /// The app-level role (`user`, `admin`, `guest`, `anonymous`, ...), `""` when the server
    /// did not send one: Kotlin's `user.role`. The `role` field keeps the `Option` for code
    /// that must tell "unset" from "empty".
    ///
    /// ```
    /// use stream_chat_protocol::User;
    /// assert_eq!(User::new("a").with_role("guest").role(), "guest");
    /// assert_eq!(User::new("a").role(), "");
    /// ```
    pub fn role(&self) -> &str {
        self.role.as_deref().unwrap_or_default()
    }

    /// The user's language, `""` when unset: Kotlin's `user.language`.
    ///
    /// ```
    /// assert_eq!(stream_chat_protocol::User::anonymous("now").language(), "");
    /// ```
    pub fn language(&self) -> &str {
        self.language.as_deref().unwrap_or_default()
    }

    fn extra_str(&self, key: &str) -> &str {
        self.extra_data
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// The own user of a connection (`me`): the same type as [`User`], with the own-user fields set.
pub type OwnUser = User;

/// The id Stream gives anonymous users in `me`.
pub const ANONYMOUS_USER_ID: &str = "!anon";

/// The timestamp Stream uses for the anonymous user's `created_at`/`updated_at`.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

impl User {
    /// The `me` of an anonymous connection, exactly as Stream documents it, with `last_active`.
    ///
    /// ```
    /// let me = stream_chat_protocol::User::anonymous("2020-11-02T18:36:01.125136Z");
    /// assert_eq!(me.id, "!anon");
    /// assert_eq!(me.roles, Some(vec![]));
    /// assert_eq!(me.language.as_deref(), Some(""));
    /// ```
    pub fn anonymous(last_active: impl Into<String>) -> Self {
        User {
            id: ANONYMOUS_USER_ID.to_owned(),
            role: Some("anonymous".to_owned()),
            roles: Some(Vec::new()),
            created_at: Some(ZERO_TIME.to_owned()),
            updated_at: Some(ZERO_TIME.to_owned()),
            last_active: Some(last_active.into()),
            banned: Some(false),
            online: Some(true),
            invisible: Some(false),
            devices: Some(Vec::new()),
            mutes: Some(Vec::new()),
            channel_mutes: Some(Vec::new()),
            unread_count: Some(0),
            total_unread_count: Some(0),
            unread_channels: Some(0),
            language: Some(String::new()),
            ..User::default()
        }
    }

    /// Fills the own-user fields a `me` must carry (arrays and unread counters) where unset.
    ///
    /// ```
    /// let me = stream_chat_protocol::User::new("a").into_own_user();
    /// assert_eq!(me.channel_mutes, Some(vec![]));
    /// assert_eq!(me.unread_count, Some(0));
    /// ```
    pub fn into_own_user(mut self) -> Self {
        self.devices.get_or_insert_with(Vec::new);
        self.mutes.get_or_insert_with(Vec::new);
        self.channel_mutes.get_or_insert_with(Vec::new);
        self.unread_count.get_or_insert(0);
        self.total_unread_count.get_or_insert(0);
        self.unread_channels.get_or_insert(0);
        self
    }

    /// Whether this is a user with the `anonymous` role.
    ///
    /// ```
    /// assert!(stream_chat_protocol::User::anonymous("now").is_anonymous());
    /// ```
    pub fn is_anonymous(&self) -> bool {
        self.role.as_deref() == Some("anonymous")
    }
}
