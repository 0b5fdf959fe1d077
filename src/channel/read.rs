//! Reads: `mark_read`.

use serde_json::{Map, Value};
use stream_chat_callbacks::Call;

use super::ChannelClient;
use crate::rest::Request;

impl ChannelClient {
    /// Marks the channel read for the user (`message.read` goes to the watchers).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// channel.mark_read().execute().into_result().unwrap();
    /// ```
    pub fn mark_read(&self) -> Call<()> {
        let path = self.path("read");
        self.core.call(move |rest| {
            let _: Value = rest.send(&Request::post(&path, &Map::new())?)?;
            Ok(())
        })
    }
}
