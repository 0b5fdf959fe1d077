//! Reactions at the client level, as Kotlin's `ChatClient` has them: the channel's calls,
//! named by cid.

use stream_chat_callbacks::{Call, ChatError};
use stream_chat_protocol::{Message, Reaction};

use super::ChatClient;

impl ChatClient {
    /// [`ChannelClient::send_reaction`](crate::ChannelClient::send_reaction) on the channel
    /// `cid` (Kotlin's `sendReaction(reaction, enforceUnique, cid)`). An invalid cid fails
    /// the call with [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, Reaction, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "client-react").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let sent = channel.send_message(Message::with_text("hi")).execute().into_result().unwrap();
    /// let wow = Reaction { message_id: sent.id.clone(), ..Reaction::new("wow") };
    /// let stored = client.send_reaction(wow, true, "livestream:client-react").execute().into_result().unwrap();
    /// assert_eq!(stored.kind, "wow");
    /// let message = client.delete_reaction(&sent.id, "wow", "livestream:client-react").execute().into_result().unwrap();
    /// assert!(message.latest_reactions.unwrap().is_empty());
    /// ```
    pub fn send_reaction(
        &self,
        reaction: Reaction,
        enforce_unique: bool,
        cid: &str,
    ) -> Call<Reaction> {
        match self.channel_cid(cid) {
            Ok(channel) => channel.send_reaction(reaction, enforce_unique),
            Err(e) => self.failed(e),
        }
    }

    /// [`ChannelClient::delete_reaction`](crate::ChannelClient::delete_reaction) on the
    /// channel `cid` (Kotlin's `deleteReaction(messageId, reactionType, cid)`).
    pub fn delete_reaction(
        &self,
        message_id: &str,
        reaction_type: &str,
        cid: &str,
    ) -> Call<Message> {
        match self.channel_cid(cid) {
            Ok(channel) => channel.delete_reaction(message_id, reaction_type),
            Err(e) => self.failed(e),
        }
    }

    /// A page of a message's reactions, newest first (Kotlin's `getReactions(messageId,
    /// offset, limit)`), whatever its channel.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, Reaction, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "client-reactions").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let sent = channel.send_message(Message::with_text("hi")).execute().into_result().unwrap();
    /// let like = Reaction { message_id: sent.id.clone(), ..Reaction::new("like") };
    /// channel.send_reaction(like, false).execute().into_result().unwrap();
    /// let page = client.get_reactions(&sent.id, 0, 10).execute().into_result().unwrap();
    /// assert_eq!(page[0].user_id, "bender");
    /// ```
    pub fn get_reactions(&self, message_id: &str, offset: u32, limit: u32) -> Call<Vec<Reaction>> {
        crate::channel::reactions::get_reactions(&self.core, message_id, offset, limit)
    }
}

impl ChatClient {
    /// A call that fails with `error` when it runs (a bad argument found when building it).
    pub(super) fn failed<T: Send + 'static>(&self, error: ChatError) -> Call<T> {
        self.core.call(move |_| Err(error.clone()))
    }
}
