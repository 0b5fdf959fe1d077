//! Listening to one channel: `subscribe` and `subscribe_for_type`, filtered by the
//! event's cid on the client's event bus.

use super::ChannelClient;
use crate::events::{ChatEvent, EventKind, Subscription};

impl ChannelClient {
    /// Registers `listener` for this channel's events only (those whose
    /// [`cid`](ChatEvent::cid) is this channel's), in order, on the client's callback
    /// executor. Registered at once, also before connecting.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ChatEvent};
    /// # let client = ChatClient::builder("key").build().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// let _subscription = channel.subscribe(|event| {
    ///     if let ChatEvent::MessageNew(e) = event {
    ///         println!("{}", e.message.text.as_deref().unwrap_or(""));
    ///     }
    /// });
    /// ```
    pub fn subscribe(&self, listener: impl Fn(&ChatEvent) + Send + Sync + 'static) -> Subscription {
        let cid = self.cid.clone();
        self.core.events().subscribe_where(
            format!("channel {cid}"),
            move |e| e.cid() == Some(cid.as_str()),
            listener,
        )
    }

    /// Registers `listener` for this channel's events of type `T`.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, NewMessageEvent};
    /// # let client = ChatClient::builder("key").build().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// let _s = channel.subscribe_for_type::<NewMessageEvent>(|e| println!("{:?}", e.message.text));
    /// ```
    pub fn subscribe_for_type<T: EventKind>(
        &self,
        listener: impl Fn(&T) + Send + Sync + 'static,
    ) -> Subscription {
        let cid = self.cid.clone();
        self.core.events().subscribe_where(
            format!("channel {cid}, type {}", T::TYPE),
            move |e| e.kind() == T::TYPE && e.cid() == Some(cid.as_str()),
            move |e| {
                T::with_typed(e, &listener);
            },
        )
    }
}
