//! Push devices of the connected user: `add_device`, `delete_device`, `get_devices`
//! (Kotlin's `ChatClient` names). The server keeps them; a push provider delivers to them.

use serde_json::Value;
use stream_chat_callbacks::Call;
use stream_chat_protocol::{AddDeviceRequest, Device, DevicesResponse};

use super::ChatClient;
use crate::rest::Request;

impl ChatClient {
    /// Registers a push device (its provider token) for the connected user; registering it
    /// again updates it. A missing id is Stream's code 4 (HTTP 400).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Device, PushProvider, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let phone = Device::new("fcm-token", PushProvider::Firebase);
    /// client.add_device(phone.clone()).execute().into_result().unwrap();
    /// let devices = client.get_devices().execute().into_result().unwrap();
    /// assert_eq!(devices[0].id, "fcm-token");
    /// client.delete_device(phone).execute().into_result().unwrap();
    /// ```
    pub fn add_device(&self, device: Device) -> Call<()> {
        let body = AddDeviceRequest {
            user_id: None,
            ..AddDeviceRequest::from(&device)
        };
        self.core.call(move |rest| {
            let _: Value = rest.send(&Request::post("devices", &body)?)?;
            Ok(())
        })
    }

    /// Removes a push device of the connected user (by `device.id`). Another user's
    /// device is code 17 (HTTP 403), an unknown one code 16 (HTTP 404).
    ///
    /// ```no_run
    /// use stream_chat_client::{Device, PushProvider};
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// client.delete_device(Device::new("fcm-token", PushProvider::Firebase)).execute();
    /// ```
    pub fn delete_device(&self, device: Device) -> Call<()> {
        self.core.call(move |rest| {
            let _: Value = rest.send(&Request::delete("devices").query("id", device.id.clone()))?;
            Ok(())
        })
    }

    /// The connected user's push devices, oldest first.
    ///
    /// ```no_run
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// let devices = client.get_devices().execute();
    /// ```
    pub fn get_devices(&self) -> Call<Vec<Device>> {
        self.core.call(move |rest| {
            let response: DevicesResponse = rest.send(&Request::get("devices"))?;
            Ok(response.devices)
        })
    }
}
