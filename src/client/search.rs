//! Message search (Kotlin's `ChatClient.searchMessages`).

use serde_json::{Map, Value};
use stream_chat_callbacks::{Call, ChatError, ErrorKind};
use stream_chat_protocol::{Message, SearchRequest, SearchResponse, SortParam};

use super::ChatClient;
use crate::rest::Request;

/// A page of search results (Kotlin's `SearchMessagesResult`): the messages, each with its
/// `channel`, and the cursors of the pages around.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchMessagesResult {
    /// The matching messages.
    pub messages: Vec<Message>,
    /// Pass as `next` for the following page.
    pub next: Option<String>,
    /// Pass as `next` for the page before.
    pub previous: Option<String>,
}

impl ChatClient {
    /// Searches the messages of the channels `channel_filter` matches (only those you may
    /// read; at most 500 are searched) for `message_filter` (Kotlin's
    /// `searchMessages(channelFilter, messageFilter, offset, limit, next, sort)`):
    /// `{"text": {"$autocomplete": "sup"}}`, `{"text": {"$q": "super"}}` (case-insensitive
    /// substring), `{"user.id": ..}`, `{"attachments.type": {"$in": [..]}}`, custom
    /// fields. Sorted by relevance then id unless `sort` says otherwise; paged by
    /// `offset` + `limit` (100 by default), or by the `next` cursor of a previous result,
    /// which keeps the sort. Like Kotlin, `offset` with `sort` or `next` is refused before
    /// any request ([`ErrorKind::InvalidArgument`], "Cannot specify offset with sort or
    /// next parameters").
    ///
    /// ```
    /// use serde_json::{Map, json};
    /// use stream_chat_client::{ChatClient, Message, SortParam, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "search-doc").unwrap();
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// for i in 0..3 {
    ///     channel.send_message(Message::with_text(format!("Supercalifragilistic {i}"))).execute().into_result().unwrap();
    /// }
    /// let channels = Map::from_iter([("members".to_owned(), json!({"$in": ["bender"]}))]);
    /// let messages = Map::from_iter([("text".to_owned(), json!({"$autocomplete": "supercali"}))]);
    /// let oldest_first = vec![SortParam { field: "created_at".into(), direction: 1 }];
    /// let first = client
    ///     .search_messages(channels.clone(), messages.clone(), None, Some(2), None, oldest_first)
    ///     .execute().into_result().unwrap();
    /// assert_eq!(first.messages[0].text(), "Supercalifragilistic 0");
    /// let rest = client
    ///     .search_messages(channels, messages, None, Some(2), first.next, Vec::new())
    ///     .execute().into_result().unwrap();
    /// assert_eq!(rest.messages.len(), 1);
    /// assert_eq!(rest.messages[0].channel.as_ref().unwrap().cid, "messaging:search-doc");
    /// ```
    pub fn search_messages(
        &self,
        channel_filter: Map<String, Value>,
        message_filter: Map<String, Value>,
        offset: Option<u32>,
        limit: Option<u32>,
        next: Option<String>,
        sort: Vec<SortParam>,
    ) -> Call<SearchMessagesResult> {
        let refused = offset.is_some_and(|o| o > 0) && (next.is_some() || !sort.is_empty());
        let payload = SearchRequest {
            filter_conditions: Some(channel_filter),
            query: None,
            message_filter_conditions: Some(message_filter),
            sort,
            limit,
            offset,
            next,
            extra: Map::new(),
        };
        self.core.call(move |rest| {
            if refused {
                return Err(ChatError::new(
                    ErrorKind::InvalidArgument,
                    "Cannot specify offset with sort or next parameters",
                ));
            }
            let json = serde_json::to_string(&payload).unwrap_or_default();
            let response: SearchResponse = rest.send(&Request::get(SEARCH).query(PAYLOAD, json))?;
            Ok(SearchMessagesResult {
                messages: response.results.into_iter().map(|r| r.message).collect(),
                next: response.next,
                previous: response.previous,
            })
        })
    }
}

/// The search endpoint and its one parameter.
const SEARCH: &str = "search";
const PAYLOAD: &str = "payload";
