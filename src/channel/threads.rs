//! Thread read state on a channel: `mark_thread_read`.

use stream_chat_callbacks::Call;
use stream_chat_protocol::MarkReadRequest;

use super::ChannelClient;
use crate::rest::Request;

impl ChannelClient {
    /// Marks a thread of this channel read (Kotlin's `markThreadRead(threadId)`; the
    /// thread's id is its parent message's): its unread replies go to zero, the channel's
    /// own read state stays. Watchers get `message.read` with `thread` set, your other
    /// connections `notification.mark_read` with `thread_id`. Code 16 for a message that is
    /// no thread parent of this channel.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "thread-read-doc").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// let parent = channel.send_message(Message::with_text("question")).execute().into_result().unwrap();
    /// let reply = Message { parent_id: Some(parent.id.clone()), ..Message::with_text("answer") };
    /// channel.send_message(reply).execute().into_result().unwrap();
    /// channel.mark_thread_read(&parent.id).execute().into_result().unwrap();
    /// ```
    pub fn mark_thread_read(&self, thread_id: &str) -> Call<()> {
        let body = MarkReadRequest {
            thread_id: Some(thread_id.to_owned()),
            ..MarkReadRequest::default()
        };
        let path = self.path("read");
        self.core.call(move |rest| {
            let _: serde_json::Value = rest.send(&Request::post(&path, &body)?)?;
            Ok(())
        })
    }
}
