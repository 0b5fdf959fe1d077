//! Threads at the client level (Kotlin's `ChatClient`): pages of replies, query threads,
//! one thread, and marking a thread read.

use stream_chat_callbacks::Call;
use stream_chat_protocol::{
    GetThreadRequest, Message, MessagePagination, MessagesResponse, QueryThreadsRequest,
    QueryThreadsResponse, RepliesRequest, SortParam, Thread, ThreadResponse, query,
};

use super::ChatClient;
use super::core::Core;
use crate::rest::Request;

/// `GET /messages/{id}/replies` with `request`, as a call on `core`.
fn replies(core: &Core, parent_id: &str, request: RepliesRequest) -> Call<Vec<Message>> {
    let path = crate::rest::message_path(parent_id).map(|p| format!("{p}/replies"));
    core.call(move |rest| {
        let path = path.clone()?;
        let pairs = query::to_pairs(&request);
        let response: MessagesResponse = rest.send(&Request::get(&path).queries(&pairs))?;
        Ok(response.messages)
    })
}

impl ChatClient {
    /// The newest `limit` replies of a thread, oldest first (Kotlin's
    /// `getReplies(messageId, limit)`).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "replies-doc").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// let parent = channel.send_message(Message::with_text("question")).execute().into_result().unwrap();
    /// for text in ["one", "two", "three"] {
    ///     let reply = Message { parent_id: Some(parent.id.clone()), ..Message::with_text(text) };
    ///     channel.send_message(reply).execute().into_result().unwrap();
    /// }
    /// let newest = client.get_replies(&parent.id, 2).execute().into_result().unwrap();
    /// assert_eq!(newest.iter().map(|m| m.text()).collect::<Vec<_>>(), ["two", "three"]);
    /// let older = client.get_replies_more(&parent.id, &newest[0].id, 10).execute().into_result().unwrap();
    /// assert_eq!(older[0].text(), "one");
    /// let newer = client.get_newer_replies(&parent.id, 10, Some(&older[0].id)).execute().into_result().unwrap();
    /// assert_eq!(newer.len(), 2);
    /// ```
    pub fn get_replies(&self, message_id: &str, limit: u32) -> Call<Vec<Message>> {
        let request = RepliesRequest {
            pagination: MessagePagination::latest(limit),
            sort: Vec::new(),
        };
        replies(&self.core, message_id, request)
    }

    /// The `limit` replies before `first_id` (older ones), oldest first (Kotlin's
    /// `getRepliesMore(messageId, firstId, limit)`).
    pub fn get_replies_more(
        &self,
        message_id: &str,
        first_id: &str,
        limit: u32,
    ) -> Call<Vec<Message>> {
        let request = RepliesRequest {
            pagination: MessagePagination::before(first_id, limit),
            sort: Vec::new(),
        };
        replies(&self.core, message_id, request)
    }

    /// The `limit` replies after `last_id` (from the first reply without it), oldest first
    /// (Kotlin's `getNewerReplies(parentId, limit, lastId)`).
    pub fn get_newer_replies(
        &self,
        parent_id: &str,
        limit: u32,
        last_id: Option<&str>,
    ) -> Call<Vec<Message>> {
        let request = RepliesRequest {
            pagination: MessagePagination {
                id_gt: last_id.map(str::to_owned),
                ..MessagePagination::latest(limit)
            },
            sort: vec![SortParam {
                field: CREATED_AT.into(),
                direction: 1,
            }],
        };
        replies(&self.core, parent_id, request)
    }

    /// The threads you take part in (Kotlin's `queryThreadsResult(query)`): each with its
    /// parent, newest replies, participants and read states; `next`/`prev` are cursors for
    /// the pages around. With `watch` (JS and Kotlin default it on) the call waits for the
    /// connection and the threads' channels are watched by it.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, QueryThreadsRequest, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "threads-doc").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// let parent = channel.send_message(Message::with_text("question")).execute().into_result().unwrap();
    /// let reply = Message { parent_id: Some(parent.id.clone()), ..Message::with_text("answer") };
    /// channel.send_message(reply).execute().into_result().unwrap();
    /// let request = QueryThreadsRequest { limit: Some(10), reply_limit: Some(3), ..Default::default() };
    /// let page = client.query_threads(request).execute().into_result().unwrap();
    /// assert_eq!(page.threads[0].parent_message_id, parent.id);
    /// assert_eq!(page.threads[0].reply_count, Some(1));
    /// ```
    pub fn query_threads(&self, request: QueryThreadsRequest) -> Call<QueryThreadsResponse> {
        if request.watch == Some(true) {
            return self
                .core
                .on_connection(move |live| live.send(&Request::post(THREADS, &request)?));
        }
        self.core
            .call(move |rest| rest.send(&Request::post(THREADS, &request)?))
    }

    /// One thread, by its parent message's id (Kotlin's `getThread(messageId, options)`).
    /// Code 16 for a message without replies. With `options.watch` the call waits for the
    /// connection and the thread's channel is watched by it.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, GetThreadRequest, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "thread-doc").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// let parent = channel.send_message(Message::with_text("question")).execute().into_result().unwrap();
    /// let reply = Message { parent_id: Some(parent.id.clone()), ..Message::with_text("answer") };
    /// channel.send_message(reply).execute().into_result().unwrap();
    /// let thread = client.get_thread(&parent.id, GetThreadRequest::default()).execute().into_result().unwrap();
    /// assert_eq!(thread.latest_replies[0].text(), "answer");
    /// ```
    pub fn get_thread(&self, message_id: &str, options: GetThreadRequest) -> Call<Thread> {
        let path = crate::rest::message_path(message_id).map(|_| format!("{THREADS}/{message_id}"));
        let pairs = query::to_pairs(&options);
        if options.watch == Some(true) {
            return self.core.on_connection(move |live| {
                let path = path.clone()?;
                let response: ThreadResponse = live.send(&Request::get(&path).queries(&pairs))?;
                Ok(response.thread)
            });
        }
        self.core.call(move |rest| {
            let path = path.clone()?;
            let response: ThreadResponse = rest.send(&Request::get(&path).queries(&pairs))?;
            Ok(response.thread)
        })
    }

    /// Marks a thread of `channel_type:channel_id` read (Kotlin's
    /// `markThreadRead(channelType, channelId, threadId)`); see
    /// [`ChannelClient::mark_thread_read`](crate::ChannelClient::mark_thread_read).
    pub fn mark_thread_read(
        &self,
        channel_type: &str,
        channel_id: &str,
        thread_id: &str,
    ) -> Call<()> {
        match self.channel(channel_type, channel_id) {
            Ok(channel) => channel.mark_thread_read(thread_id),
            Err(e) => self.failed(e),
        }
    }
}

/// The threads endpoint.
const THREADS: &str = "threads";
/// The field replies are sorted on.
const CREATED_AT: &str = "created_at";
