//! Read state at the client level: `mark_all_read`, `get_unread_count`.

use serde_json::{Map, Value};
use stream_chat_callbacks::Call;
use stream_chat_protocol::UnreadCountsResponse;

use super::ChatClient;
use crate::rest::Request;

impl ChatClient {
    /// Marks every channel of the user read (`POST /channels/read`). The user's connections
    /// get one `notification.mark_read` with `unread_channels: 0`; the watchers of each
    /// channel that had unread messages `message.read`.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// client.mark_all_read().execute().into_result().unwrap();
    /// ```
    pub fn mark_all_read(&self) -> Call<()> {
        self.core.call(move |rest| {
            let _: Value = rest.send(&Request::post("channels/read", &Map::new())?)?;
            Ok(())
        })
    }

    /// The user's unread counts (`GET /unread`, Kotlin's `getUnreadCounts`): the total, the
    /// channels with unread messages and the totals per channel type. Muted and hidden
    /// channels do not count.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let counts = client.get_unread_count().execute().into_result().unwrap();
    /// assert_eq!(counts.total_unread_count, 0);
    /// ```
    pub fn get_unread_count(&self) -> Call<UnreadCountsResponse> {
        self.core
            .call(move |rest| rest.send(&Request::get("unread")))
    }
}
