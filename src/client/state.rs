//! The state store at the client level: `state`, `observe` and `observe_local` (see
//! `src/state/`).

use std::sync::Arc;

use stream_chat_callbacks::CallbackQueue;

use super::ChatClient;
use crate::state::{self, ClientState, Observation, Snapshot};

impl ChatClient {
    /// The store's current [`ClientState`]: an immutable snapshot (one `Arc` clone; it never
    /// waits for the event thread). Call it again for a newer one, or
    /// [`observe`](Self::observe).
    ///
    /// ```
    /// use stream_chat_client::{ChatClient, ConnectionState, User};
    /// # let server = stream_chat_server::Server::builder().start().unwrap();
    /// let client = ChatClient::builder(server.api_key()).base_url(server.base_url()).build().unwrap();
    /// assert!(client.state().me.is_none());
    /// client.connect_user(User::new("bender"), server.create_token("bender", None)).execute().into_result().unwrap();
    /// // The user is in the state once the connect resolves; the connection state arrives
    /// // through the event thread, like the listeners' events.
    /// assert_eq!(client.state().me.as_ref().unwrap().id, "bender");
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let _o = client.observe(move |state| {
    ///     if state.connection_state == ConnectionState::Connected { let _ = tx.send(()); }
    /// });
    /// rx.recv().unwrap();
    /// ```
    pub fn state(&self) -> Arc<ClientState> {
        self.core.store().snapshot()
    }

    /// Calls `listener` with the current [`ClientState`], then with a new snapshot after
    /// changes, on the client's callback executor (see
    /// [`callback_executor`](crate::ChatClientBuilder::callback_executor)). Coalesced: at
    /// most one delivery is pending per observer and it carries the latest snapshot, so a
    /// burst of events that lands before the executor runs it is one call (see
    /// `src/state/observe.rs`). Deliveries to one observer never overlap and go forward
    /// only (`version` grows). Keep the [`Observation`]: dropping it stops deliveries.
    ///
    /// ```
    /// use stream_chat_client::ChatClient;
    /// let client = ChatClient::builder("key").build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let _observation = client.observe(move |state| tx.send(state.version).unwrap());
    /// assert_eq!(rx.recv().unwrap(), 0); // the current state first
    /// ```
    pub fn observe(
        &self,
        listener: impl Fn(&Arc<ClientState>) + Send + Sync + 'static,
    ) -> Observation {
        self.core.store().observe(
            None,
            None,
            Box::new(move |s| {
                if let Snapshot::Client(s) = s {
                    listener(&s)
                }
            }),
            None,
        )
    }

    /// [`observe`](Self::observe) for a GUI thread: `listener` need not be `Send` (it may
    /// hold `Rc`s and widgets); it stays on this thread and runs when this thread drains
    /// `queue` (`run_pending`, `run_until`, `wait_and_run`), like
    /// [`Call::enqueue_local`](crate::Call::enqueue_local). Same coalescing.
    ///
    /// # Panics
    ///
    /// When this thread did not create `queue`.
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// use stream_chat_client::{CallbackQueue, ChatClient};
    /// let queue = CallbackQueue::new();
    /// let client = ChatClient::builder("key").callback_executor(queue.executor()).build().unwrap();
    /// let screen = Rc::new(RefCell::new(Vec::new()));
    /// let shown = Rc::clone(&screen);
    /// let _o = client.observe_local(&queue, move |state| shown.borrow_mut().push(state.version));
    /// queue.run_pending();
    /// assert_eq!(*screen.borrow(), [0]);
    /// ```
    pub fn observe_local(
        &self,
        queue: &CallbackQueue,
        listener: impl Fn(&Arc<ClientState>) + 'static,
    ) -> Observation {
        let (executor, deliver, release) = state::local(queue, move |s| {
            if let Snapshot::Client(s) = s {
                listener(&s)
            }
        });
        self.core
            .store()
            .observe(None, Some(executor), deliver, Some(release))
    }
}
