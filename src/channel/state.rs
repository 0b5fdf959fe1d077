//! The state store for one channel: `state`, `observe` and `observe_local` (see
//! `src/state/`).

use std::sync::Arc;

use stream_chat_callbacks::CallbackQueue;

use super::ChannelClient;
use crate::state::{self, ChannelState, Observation, Snapshot};

impl ChannelClient {
    /// The store's current [`ChannelState`] of this channel, once it was watched, queried,
    /// created or listed by `query_channels` (or brought in by an event); `None` before.
    /// An immutable snapshot: one `Arc` clone.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// assert!(channel.state().is_none());
    /// channel.create(["bender", "fry"]).execute().into_result().unwrap();
    /// assert_eq!(channel.state().unwrap().members.len(), 2);
    /// ```
    pub fn state(&self) -> Option<Arc<ChannelState>> {
        self.core.store().channel(&self.cid)
    }

    /// Calls `listener` with this channel's state (now, if the store has it) and after each
    /// change of it, on the client's callback executor; coalesced like
    /// [`ChatClient::observe`](crate::ChatClient::observe).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// # client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let _o = channel.observe(move |state| { let _ = tx.send(state.messages.len()); });
    /// channel.create(["bender"]).execute().into_result().unwrap();
    /// channel.send_message(Message::with_text("hi")).execute().into_result().unwrap();
    /// while rx.recv().unwrap() < 1 {} // each delivery is the latest state
    /// ```
    pub fn observe(
        &self,
        listener: impl Fn(&Arc<ChannelState>) + Send + Sync + 'static,
    ) -> Observation {
        self.core.store().observe(
            Some(self.cid.clone()),
            None,
            Box::new(move |s| {
                if let Snapshot::Channel(s) = s {
                    listener(&s)
                }
            }),
            None,
        )
    }

    /// [`observe`](Self::observe) for a GUI thread: `listener` need not be `Send`; it runs
    /// when this thread drains `queue`, like
    /// [`ChatClient::observe_local`](crate::ChatClient::observe_local).
    ///
    /// # Panics
    ///
    /// When this thread did not create `queue`.
    ///
    /// ```
    /// use stream_chat_client::{CallbackQueue, ChatClient};
    /// let queue = CallbackQueue::new();
    /// let client = ChatClient::builder("key").callback_executor(queue.executor()).build().unwrap();
    /// let channel = client.channel("messaging", "pe").unwrap();
    /// let _o = channel.observe_local(&queue, |state| println!("{}", state.messages.len()));
    /// assert_eq!(queue.run_pending(), 0); // nothing known about the channel yet
    /// ```
    pub fn observe_local(
        &self,
        queue: &CallbackQueue,
        listener: impl Fn(&Arc<ChannelState>) + 'static,
    ) -> Observation {
        let (executor, deliver, release) = state::local(queue, move |s| {
            if let Snapshot::Channel(s) = s {
                listener(&s)
            }
        });
        self.core.store().observe(
            Some(self.cid.clone()),
            Some(executor),
            deliver,
            Some(release),
        )
    }
}
