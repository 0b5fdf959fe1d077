//! Reactions: `send_reaction`, `delete_reaction`, `get_reactions`.

use stream_chat_callbacks::{Call, ChatError, ErrorKind};
use stream_chat_protocol::{
    Message, Reaction, ReactionResponse, ReactionsRequest, ReactionsResponse, SendReactionRequest,
    query,
};

use super::ChannelClient;
use crate::client::core::Core;
use crate::rest::Request;
use crate::rest::message_path;

impl ChannelClient {
    /// Reacts to the message `reaction.message_id` (Kotlin's `sendReaction(reaction,
    /// enforceUnique)`). Sending a type again replaces that reaction; with
    /// `enforce_unique` the reaction replaces every other reaction of the user on the
    /// message (watchers then get `reaction.updated`, else `reaction.new`). Returns the
    /// stored reaction (score 1 unless set). Without a message id or a type:
    /// [`ErrorKind::InvalidArgument`] before any request.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, Reaction, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "reactions-doc").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let sent = channel.send_message(Message::with_text("hi")).execute().into_result().unwrap();
    /// let reaction = Reaction { message_id: sent.id.clone(), ..Reaction::new("love") };
    /// let stored = channel.send_reaction(reaction, false).execute().into_result().unwrap();
    /// assert_eq!((stored.kind.as_str(), stored.user_id.as_str(), stored.score), ("love", "bender", 1));
    /// ```
    pub fn send_reaction(&self, reaction: Reaction, enforce_unique: bool) -> Call<Reaction> {
        let core = self.core.clone();
        self.core.call(move |rest| {
            if reaction.kind.trim().is_empty() {
                return Err(ChatError::new(
                    ErrorKind::InvalidArgument,
                    "a reaction needs a type",
                ));
            }
            let path = format!("{}/reaction", message_path(&reaction.message_id)?);
            let body = SendReactionRequest {
                reaction: reaction.clone(),
                enforce_unique: enforce_unique.then_some(true),
                skip_push: None,
            };
            let response: ReactionResponse = rest.send(&Request::post(&path, &body)?)?;
            core.store().message_changed(&response.message);
            Ok(response.reaction)
        })
    }

    /// Removes your reaction of `reaction_type` from a message (Kotlin's
    /// `deleteReaction(messageId, reactionType)`) and returns the message as it is now.
    /// Code 16, HTTP 404, when you have no such reaction there.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, Reaction, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "unreact-doc").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let sent = channel.send_message(Message::with_text("hi")).execute().into_result().unwrap();
    /// let like = Reaction { message_id: sent.id.clone(), ..Reaction::new("like") };
    /// channel.send_reaction(like, false).execute().into_result().unwrap();
    /// let message = channel.delete_reaction(&sent.id, "like").execute().into_result().unwrap();
    /// assert!(message.reaction_counts.unwrap().is_empty());
    /// ```
    pub fn delete_reaction(&self, message_id: &str, reaction_type: &str) -> Call<Message> {
        let (id, kind) = (message_id.to_owned(), reaction_type.to_owned());
        let core = self.core.clone();
        self.core.call(move |rest| {
            if kind.is_empty() || kind.contains(['/', '?', '#', '%']) {
                return Err(ChatError::new(
                    ErrorKind::InvalidArgument,
                    format!("invalid reaction type '{kind}'"),
                ));
            }
            let path = format!("{}/reaction/{kind}", message_path(&id)?);
            let response: ReactionResponse = rest.send(&Request::delete(&path))?;
            core.store().message_changed(&response.message);
            Ok(response.message)
        })
    }

    /// A page of a message's reactions, newest first (Kotlin's `getReactions(messageId,
    /// offset, limit)`); the server returns at most 300 per page.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, Reaction, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "list-doc").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// let sent = channel.send_message(Message::with_text("hi")).execute().into_result().unwrap();
    /// for kind in ["like", "love"] {
    ///     let r = Reaction { message_id: sent.id.clone(), ..Reaction::new(kind) };
    ///     channel.send_reaction(r, false).execute().into_result().unwrap();
    /// }
    /// let page = channel.get_reactions(&sent.id, 0, 10).execute().into_result().unwrap();
    /// assert_eq!(page.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(), ["love", "like"]);
    /// ```
    pub fn get_reactions(&self, message_id: &str, offset: u32, limit: u32) -> Call<Vec<Reaction>> {
        get_reactions(&self.core, message_id, offset, limit)
    }
}

/// `GET /messages/{id}/reactions`, as a call on `core`.
pub(crate) fn get_reactions(
    core: &Core,
    message_id: &str,
    offset: u32,
    limit: u32,
) -> Call<Vec<Reaction>> {
    let id = message_id.to_owned();
    let page = ReactionsRequest {
        limit: Some(limit),
        offset: Some(offset),
    };
    core.call(move |rest| {
        let path = format!("{}/reactions", message_path(&id)?);
        let pairs = query::to_pairs(&page);
        let response: ReactionsResponse = rest.send(&Request::get(&path).queries(&pairs))?;
        Ok(response.reactions)
    })
}
