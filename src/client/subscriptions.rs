//! Listening: `subscribe`, `subscribe_for`, `subscribe_for_single` and
//! `subscribe_for_type`, registered on the client's event bus.

use super::ChatClient;
use crate::events::{ChatEvent, EventKind, Subscription};

impl ChatClient {
    /// Registers `listener` for every event, from now on (also before connecting): the
    /// events published after this call returns, never older ones the dispatcher has not
    /// delivered yet.
    /// Listeners run in event order on the client's callback executor; keep the returned
    /// [`Subscription`] as long as you want events.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ChatEvent, ConnectionState};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let _subscription = client.subscribe(move |event| {
    ///     if let ChatEvent::ConnectionChanged { state, .. } = event {
    ///         let _ = tx.send(*state);
    ///     }
    /// });
    /// client.connect_anonymous_user().execute().into_result().unwrap();
    /// assert_eq!(rx.recv().unwrap(), ConnectionState::Connecting);
    /// assert_eq!(rx.recv().unwrap(), ConnectionState::Connected);
    /// ```
    pub fn subscribe(&self, listener: impl Fn(&ChatEvent) + Send + Sync + 'static) -> Subscription {
        self.core.events().subscribe(None, listener)
    }

    /// Registers `listener` for events whose [`kind`](ChatEvent::kind) is one of
    /// `event_types` (e.g. `"health.check"`, `"connection.changed"`, `"message.new"`).
    ///
    /// ```
    /// # let client = stream_chat_client::ChatClient::builder("key").build().unwrap();
    /// let _s = client.subscribe_for(&["health.check"], |event| println!("{event:?}"));
    /// ```
    pub fn subscribe_for(
        &self,
        event_types: &[&str],
        listener: impl Fn(&ChatEvent) + Send + Sync + 'static,
    ) -> Subscription {
        let types = event_types.iter().map(|t| (*t).to_owned()).collect();
        self.core.events().subscribe(Some(types), listener)
    }

    /// Like [`subscribe_for`](Self::subscribe_for), for the first matching event only
    /// (Kotlin's `subscribeForSingle`): `listener` runs exactly once, also when events
    /// arrive concurrently, and the subscription is then disposed. Keep the returned
    /// [`Subscription`] until then: dropping it stops delivery.
    ///
    /// ```
    /// use stream_chat_client::ChatClient;
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let subscription = client.subscribe_for_single(&["health.check"], move |event| {
    ///     let _ = tx.send(event.kind().to_owned());
    /// });
    /// client.connect_anonymous_user().execute().into_result().unwrap();
    /// assert_eq!(rx.recv().unwrap(), "health.check");
    /// assert!(subscription.is_disposed());
    /// // A later health.check (after a reopened socket) is not delivered to it.
    /// let (seen_tx, seen) = std::sync::mpsc::channel();
    /// let _all = client.subscribe_for(&["health.check"], move |_| { let _ = seen_tx.send(()); });
    /// client.disconnect_socket().execute().into_result().unwrap();
    /// client.reconnect_socket().execute().into_result().unwrap();
    /// seen.recv().unwrap();
    /// assert!(rx.try_recv().is_err());
    /// ```
    pub fn subscribe_for_single(
        &self,
        event_types: &[&str],
        listener: impl Fn(&ChatEvent) + Send + Sync + 'static,
    ) -> Subscription {
        let types: Vec<String> = event_types.iter().map(|t| (*t).to_owned()).collect();
        self.core.events().subscribe_single(
            format!("the first of types {types:?}"),
            move |e| types.iter().any(|t| t == e.kind()),
            listener,
        )
    }

    /// Registers `listener` for events of type `T` only, handed over as `T` (Kotlin's
    /// `subscribeFor<NewMessageEvent>`). Like [`subscribe`](Self::subscribe): registered at
    /// once, also before connecting, delivered in order on the callback executor.
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, Message, NewMessageEvent, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// # let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let _subscription = client.subscribe_for_type::<NewMessageEvent>(move |event| {
    ///     let _ = tx.send(event.message.text.clone());
    /// });
    /// client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// let channel = client.channel("livestream", "demo").unwrap();
    /// channel.watch().execute().into_result().unwrap();
    /// channel.send_message(Message::with_text("hi")).execute().into_result().unwrap();
    /// assert_eq!(rx.recv().unwrap().as_deref(), Some("hi"));
    /// ```
    pub fn subscribe_for_type<T: EventKind>(
        &self,
        listener: impl Fn(&T) + Send + Sync + 'static,
    ) -> Subscription {
        self.core.events().subscribe_where(
            format!("type {}", T::TYPE),
            |e| e.kind() == T::TYPE,
            move |e| {
                T::with_typed(e, &listener);
            },
        )
    }
}
