//! Push devices: `POST /devices`, `GET /devices[?user_id=]`, `DELETE /devices?id=[&user_id=]`
//! (Android's `addDevice`/`getDevices`/`deleteDevice`, JS `addDevice`/`getDevices`/
//! `removeDevice`, Python `add_device`/`get_devices`/`delete_device`).

use serde::{Deserialize, Serialize};

/// The service that delivers a device's pushes (`push_provider`).
///
/// ```
/// use stream_chat_protocol::PushProvider;
/// assert_eq!(PushProvider::parse("apn"), Some(PushProvider::Apn));
/// assert_eq!(PushProvider::Firebase.as_str(), "firebase");
/// assert_eq!(PushProvider::parse("carrier-pigeon"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushProvider {
    /// Firebase Cloud Messaging (`firebase`).
    Firebase,
    /// Apple Push Notification service (`apn`).
    Apn,
    /// Huawei Push Kit (`huawei`).
    Huawei,
    /// Xiaomi Mi Push (`xiaomi`).
    Xiaomi,
}

impl PushProvider {
    /// Every provider, in the order Stream documents them.
    pub const ALL: [PushProvider; 4] = [
        PushProvider::Firebase,
        PushProvider::Apn,
        PushProvider::Huawei,
        PushProvider::Xiaomi,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PushProvider::Firebase => "firebase",
            PushProvider::Apn => "apn",
            PushProvider::Huawei => "huawei",
            PushProvider::Xiaomi => "xiaomi",
        }
    }

    /// The provider a wire name stands for (`None` for an unknown name).
    pub fn parse(name: &str) -> Option<PushProvider> {
        PushProvider::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// A push device of a user (Android's `Device(token, pushProvider, providerName)`; JS
/// `Device`). Requests need `id` and `push_provider`; the server fills in the rest.
///
/// ```
/// use stream_chat_protocol::{Device, PushProvider};
/// let d: Device = serde_json::from_str(
///     r#"{"id":"tok","push_provider":"apn","user_id":"a","created_at":"2025-01-01T00:00:00Z"}"#,
/// ).unwrap();
/// assert_eq!(d.push_provider, PushProvider::Apn);
/// assert_eq!(Device::new("tok", PushProvider::Apn).id, d.id);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// The provider's device token.
    pub id: String,
    /// Who delivers its pushes.
    pub push_provider: PushProvider,
    /// The app's name for a push configuration (multi-bundle setups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_provider_name: Option<String>,
    /// Its user (in responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// When it was registered (RFC 3339, in responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The provider refused it (in responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// Why it was disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
}

impl Device {
    /// A device to register: its token and provider.
    pub fn new(id: impl Into<String>, push_provider: PushProvider) -> Self {
        Device {
            id: id.into(),
            push_provider,
            push_provider_name: None,
            user_id: None,
            created_at: None,
            disabled: None,
            disabled_reason: None,
        }
    }

    /// With a push configuration name (`push_provider_name`).
    ///
    /// ```
    /// use stream_chat_protocol::{Device, PushProvider};
    /// let d = Device::new("tok", PushProvider::Firebase).with_provider_name("prod");
    /// assert_eq!(d.push_provider_name.as_deref(), Some("prod"));
    /// ```
    pub fn with_provider_name(mut self, name: impl Into<String>) -> Self {
        self.push_provider_name = Some(name.into());
        self
    }
}

/// Body of `POST /devices`. `push_provider` is a string so that a server can answer an
/// unknown name with a clear error; `user_id` is for server-side calls (`null` is accepted
/// for an absent field, as the Python SDK sends).
///
/// ```
/// let r: stream_chat_protocol::AddDeviceRequest = serde_json::from_str(
///     r#"{"id":"tok","push_provider":"firebase","user_id":"a","push_provider_name":null}"#,
/// ).unwrap();
/// assert_eq!(r.push_provider.as_deref(), Some("firebase"));
/// assert_eq!(r.push_provider_name, None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AddDeviceRequest {
    /// The device token.
    #[serde(default)]
    pub id: String,
    /// `firebase`, `apn`, `huawei` or `xiaomi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_provider: Option<String>,
    /// The push configuration name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_provider_name: Option<String>,
    /// The user to register it for (server-side auth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

impl From<&Device> for AddDeviceRequest {
    fn from(d: &Device) -> Self {
        AddDeviceRequest {
            id: d.id.clone(),
            push_provider: Some(d.push_provider.as_str().to_owned()),
            push_provider_name: d.push_provider_name.clone(),
            user_id: d.user_id.clone(),
        }
    }
}

/// Response of `GET /devices`.
///
/// ```
/// let r: stream_chat_protocol::DevicesResponse = serde_json::from_str(r#"{"devices":[]}"#).unwrap();
/// assert!(r.devices.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DevicesResponse {
    /// The user's devices, oldest first.
    #[serde(default)]
    pub devices: Vec<Device>,
    /// Server-side processing time.
    #[serde(default)]
    pub duration: String,
}
