//! Tokens: the public `TokenProvider` / `TokenSource`, and the private `TokenManager` that
//! caches the token, loads it lazily off the caller's thread and coalesces reloads.

use std::error::Error as StdError;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use stream_chat_callbacks::{ChatError, ErrorKind};
use stream_chat_protocol::jwt;

/// The error a [`TokenProvider`] returns when it cannot produce a token; any error
/// converts into it with `?` or `.into()`.
///
/// ```
/// use stream_chat_client::TokenError;
/// let e: TokenError = "backend down".into();
/// assert_eq!(e.to_string(), "backend down");
/// ```
pub type TokenError = Box<dyn StdError + Send + Sync + 'static>;

/// Supplies JWTs for a user, usually by asking your backend (Kotlin's `TokenProvider`).
///
/// The SDK calls [`load_token`](TokenProvider::load_token) lazily on a thread of its own,
/// never on the thread that called `connect_user`, so blocking inside is fine. The token
/// is cached: the provider is called again only after Stream reports the token expired
/// (code 40), and concurrent reloads share one call.
///
/// A provider that never returns cannot block the SDK: the connect (or REST call) that
/// waits for it fails with [`ErrorKind::Timeout`] after its time limit, and cancelling
/// that call ends its wait at once. Once nobody waits for that call any more, the next
/// one that needs a token calls the provider again; the stuck call's thread is left to
/// finish on its own and whatever it returns is ignored.
///
/// Closures with the right signature are providers too:
///
/// ```
/// use stream_chat_client::{TokenError, TokenProvider};
///
/// struct YourTokenService;
/// impl YourTokenService {
///     fn get_token(&self, user_id: &str) -> Result<String, std::io::Error> {
///         Ok(format!("a-jwt-for-{user_id}")) // ask your backend here
///     }
/// }
///
/// struct BackendTokens(YourTokenService);
/// impl TokenProvider for BackendTokens {
///     fn load_token(&self) -> Result<String, TokenError> {
///         Ok(self.0.get_token("bender")?)
///     }
/// }
///
/// let closure = || -> Result<String, TokenError> { Ok("a-jwt".to_owned()) };
/// assert_eq!(closure.load_token().unwrap(), "a-jwt");
/// assert!(BackendTokens(YourTokenService).load_token().is_ok());
/// ```
pub trait TokenProvider: Send + Sync {
    /// Returns a fresh JWT for the connected user, or why none could be loaded.
    ///
    /// ```
    /// use stream_chat_client::{TokenError, TokenProvider};
    /// struct Fixed;
    /// impl TokenProvider for Fixed {
    ///     fn load_token(&self) -> Result<String, TokenError> {
    ///         Ok("a-jwt".into())
    ///     }
    /// }
    /// assert_eq!(Fixed.load_token().unwrap(), "a-jwt");
    /// ```
    fn load_token(&self) -> Result<String, TokenError>;
}

impl<F> TokenProvider for F
where
    F: Fn() -> Result<String, TokenError> + Send + Sync,
{
    fn load_token(&self) -> Result<String, TokenError> {
        self()
    }
}

/// The token argument of `connect_user`: a fixed JWT (`&str`, `String`) or any
/// [`TokenProvider`]. Build one with `.into()` or [`TokenSource::provider`].
///
/// ```
/// use stream_chat_client::{TokenError, TokenSource};
///
/// let fixed: TokenSource = "eyJ...".into();
/// assert!(!fixed.is_provider());
/// let provider = TokenSource::provider(|| -> Result<String, TokenError> { Ok("eyJ...".into()) });
/// assert!(provider.is_provider());
/// assert!(format!("{fixed:?}").contains("redacted"), "tokens never show up in Debug output");
/// ```
#[derive(Clone)]
pub struct TokenSource {
    kind: SourceKind,
}

#[derive(Clone)]
enum SourceKind {
    Fixed(String),
    Provider(Arc<dyn TokenProvider>),
}

impl TokenSource {
    /// A source that asks `provider` for tokens.
    ///
    /// ```
    /// # use stream_chat_client::{TokenError, TokenSource};
    /// let source = TokenSource::provider(|| -> Result<String, TokenError> { Err("backend down".into()) });
    /// assert!(source.is_provider());
    /// ```
    pub fn provider(provider: impl TokenProvider + 'static) -> Self {
        TokenSource {
            kind: SourceKind::Provider(Arc::new(provider)),
        }
    }

    /// A fixed token.
    ///
    /// ```
    /// # use stream_chat_client::TokenSource;
    /// assert!(!TokenSource::fixed("eyJ...").is_provider());
    /// ```
    pub fn fixed(token: impl Into<String>) -> Self {
        TokenSource {
            kind: SourceKind::Fixed(token.into()),
        }
    }

    /// True when the tokens come from a [`TokenProvider`].
    ///
    /// ```
    /// # use stream_chat_client::TokenSource;
    /// assert!(!TokenSource::from("t").is_provider());
    /// ```
    pub fn is_provider(&self) -> bool {
        matches!(self.kind, SourceKind::Provider(_))
    }

    pub(crate) fn fixed_value(&self) -> Option<&str> {
        match &self.kind {
            SourceKind::Fixed(token) => Some(token),
            SourceKind::Provider(_) => None,
        }
    }
}

impl From<&str> for TokenSource {
    fn from(token: &str) -> Self {
        TokenSource::fixed(token)
    }
}

impl From<String> for TokenSource {
    fn from(token: String) -> Self {
        TokenSource::fixed(token)
    }
}

impl From<&String> for TokenSource {
    fn from(token: &String) -> Self {
        TokenSource::fixed(token.as_str())
    }
}

impl<P: TokenProvider + 'static> From<P> for TokenSource {
    fn from(provider: P) -> Self {
        TokenSource::provider(provider)
    }
}

impl From<Arc<dyn TokenProvider>> for TokenSource {
    fn from(provider: Arc<dyn TokenProvider>) -> Self {
        TokenSource {
            kind: SourceKind::Provider(provider),
        }
    }
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            SourceKind::Fixed(_) => f.write_str("TokenSource::Fixed(<redacted>)"),
            SourceKind::Provider(_) => f.write_str("TokenSource::Provider"),
        }
    }
}

/// Checks a token the way the server will, before any request: non-empty, a decodable JWT
/// with a `user_id`, and that id equals `user_id`.
pub(crate) fn validate(token: &str, user_id: &str) -> Result<(), ChatError> {
    if token.trim().is_empty() {
        return Err(ChatError::new(ErrorKind::EmptyToken, "the token is empty"));
    }
    let claims = jwt::decode_unverified(token).map_err(|e| {
        ChatError::new(ErrorKind::InvalidToken, "the token is not a decodable JWT").with_source(e)
    })?;
    if claims.is_server() {
        // Uploads, the server-side client and webhooks: the secret stays server-side.
        return Err(ChatError::new(
            ErrorKind::InvalidToken,
            "this is a server token (signed with the API secret): a user-side client must never \
             hold it; use ServerClient on your server, and give this user a token made by \
             ServerClient::create_token",
        ));
    }
    match claims.user_id.as_deref() {
        None | Some("") => Err(ChatError::new(
            ErrorKind::InvalidToken,
            "the token has no user_id claim",
        )),
        Some(id) if id != user_id => Err(ChatError::new(
            ErrorKind::TokenUserMismatch,
            format!("the token is for user '{id}' but the user being connected is '{user_id}'"),
        )),
        Some(_) => Ok(()),
    }
}

/// A token with the version it was loaded as; `refresh` takes the version that failed so
/// that callers racing on the same stale token trigger one reload between them.
#[derive(Clone)]
pub(crate) struct Token {
    pub(crate) value: String,
    pub(crate) version: u64,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(<redacted>, v{})", self.version)
    }
}

/// Caches one user's token and (re)loads it from the provider, one load at a time.
///
/// Each load has an id and lasts as long as somebody waits for it: once every caller that
/// wanted it gave up (their deadlines passed), the next caller starts a new load instead
/// of joining it, so a provider call that hangs cannot block the session for good. The
/// abandoned thread is left to finish on its own and its result is ignored.
pub(crate) struct TokenManager {
    user_id: String,
    state: Mutex<State>,
    changed: Condvar,
}

struct State {
    token: Option<Token>,
    provider: Option<Arc<dyn TokenProvider>>,
    /// The load in flight, if any.
    load: Option<Load>,
    /// Bumped by every finished (not abandoned) load, successful or not.
    loads_finished: u64,
    next_load: u64,
    last_error: Option<ChatError>,
    next_version: u64,
}

struct Load {
    id: u64,
    /// The latest deadline of the callers waiting for it; `None`: one waits without limit.
    wanted_until: Option<Instant>,
}

impl Load {
    fn abandoned(&self, now: Instant) -> bool {
        self.wanted_until.is_some_and(|until| now >= until)
    }

    fn wanted_until(&mut self, deadline: Option<Instant>) {
        self.wanted_until = match (self.wanted_until, deadline) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
}

/// Why a wait for a token ended early.
pub(crate) enum Interrupt {
    Stopped,
    TimedOut,
}

impl TokenManager {
    pub(crate) fn new(user_id: &str, source: TokenSource) -> Arc<Self> {
        let (token, provider) = match source.kind {
            SourceKind::Fixed(value) => (Some(Token { value, version: 1 }), None),
            SourceKind::Provider(p) => (None, Some(p)),
        };
        Arc::new(TokenManager {
            user_id: user_id.to_owned(),
            state: Mutex::new(State {
                token,
                provider,
                load: None,
                loads_finished: 0,
                next_load: 1,
                last_error: None,
                next_version: 2,
            }),
            changed: Condvar::new(),
        })
    }

    pub(crate) fn has_provider(&self) -> bool {
        self.lock().provider.is_some()
    }

    /// The cached token's value, if one was loaded.
    pub(crate) fn cached(&self) -> Option<String> {
        self.lock().token.as_ref().map(|t| t.value.clone())
    }

    /// Takes `source` for later loads (a same-user `connect_user` with a new source). A
    /// provider replaces the provider and keeps the cached token and any load in flight;
    /// a fixed token replaces the cached token, ends the provider, and wakes the waiters
    /// of a load in flight with it (that load's result is then ignored).
    pub(crate) fn adopt(&self, source: TokenSource) {
        let mut state = self.lock();
        match source.kind {
            SourceKind::Provider(provider) => {
                if !state
                    .provider
                    .as_ref()
                    .is_some_and(|p| Arc::ptr_eq(p, &provider))
                {
                    log::debug!("'{}' takes a new TokenProvider", self.user_id);
                    state.provider = Some(provider);
                }
            }
            SourceKind::Fixed(value) => {
                if state.provider.is_none()
                    && state.token.as_ref().is_some_and(|t| t.value == value)
                {
                    return;
                }
                log::debug!("'{}' takes a new fixed token", self.user_id);
                let version = state.next_version;
                state.next_version += 1;
                state.token = Some(Token { value, version });
                state.provider = None;
                state.load = None;
                self.changed.notify_all();
            }
        }
    }

    /// The cached token, when there is one newer than `stale`, without waiting: a caller
    /// that must not block tries this before [`get`](Self::get) or
    /// [`refresh`](Self::refresh).
    pub(crate) fn ready(&self, stale: Option<u64>) -> Option<Token> {
        self.lock()
            .token
            .as_ref()
            .filter(|t| stale.is_none_or(|v| t.version > v))
            .cloned()
    }

    /// The cached token, loading it first when there is none yet.
    pub(crate) fn get(
        self: &Arc<Self>,
        stop: &dyn Fn() -> bool,
        deadline: Option<Instant>,
    ) -> Result<Token, TokenWaitError> {
        self.obtain(None, stop, deadline)
    }

    /// A token newer than `stale`: reloads from the provider unless another caller already
    /// did (or is doing) so. Without a provider the fixed token cannot change, so this
    /// fails with the error the caller passes in.
    pub(crate) fn refresh(
        self: &Arc<Self>,
        stale: u64,
        stop: &dyn Fn() -> bool,
        deadline: Option<Instant>,
    ) -> Result<Token, TokenWaitError> {
        self.obtain(Some(stale), stop, deadline)
    }

    /// Wakes every waiter so it re-checks its `stop` condition.
    pub(crate) fn wake_all(&self) {
        let _guard = self.lock();
        self.changed.notify_all();
    }

    fn obtain(
        self: &Arc<Self>,
        stale: Option<u64>,
        stop: &dyn Fn() -> bool,
        deadline: Option<Instant>,
    ) -> Result<Token, TokenWaitError> {
        let mut state = self.lock();
        let seen_loads = state.loads_finished;
        loop {
            if let Some(token) = state
                .token
                .as_ref()
                .filter(|t| stale.is_none_or(|v| t.version > v))
            {
                return Ok(token.clone());
            }
            if state.loads_finished > seen_loads {
                let err = state.last_error.clone().unwrap_or_else(|| {
                    ChatError::new(ErrorKind::TokenProviderFailed, "no token was loaded")
                });
                return Err(TokenWaitError::Failed(err));
            }
            let Some(provider) = state.provider.clone() else {
                return Err(TokenWaitError::Failed(ChatError::new(
                    ErrorKind::InvalidToken,
                    "the fixed token was rejected and there is no TokenProvider to load a new one",
                )));
            };
            if stop() {
                return Err(TokenWaitError::Interrupted(Interrupt::Stopped));
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Err(TokenWaitError::Interrupted(Interrupt::TimedOut));
            }
            match &mut state.load {
                Some(load) if !load.abandoned(now) => load.wanted_until(deadline),
                previous => {
                    if let Some(old) = previous {
                        log::warn!(
                            "the TokenProvider of '{}' has not returned (load {}) and nobody \
                             waits for it any more; calling it again",
                            self.user_id,
                            old.id
                        );
                    }
                    let id = state.next_load;
                    state.next_load += 1;
                    self.spawn_load(id, provider)
                        .map_err(TokenWaitError::Failed)?;
                    state.load = Some(Load {
                        id,
                        wanted_until: deadline,
                    });
                }
            }
            state = match deadline {
                None => self.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    self.changed
                        .wait_timeout(state, deadline.saturating_duration_since(now))
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Runs the provider on a thread of its own: never the caller's, and never a pool
    /// thread (pool threads may all be blocked waiting for this very token).
    fn spawn_load(
        self: &Arc<Self>,
        id: u64,
        provider: Arc<dyn TokenProvider>,
    ) -> Result<(), ChatError> {
        let this = Arc::clone(self);
        std::thread::Builder::new()
            .name("stream-chat-token".into())
            .spawn(move || {
                let result = catch_unwind(AssertUnwindSafe(|| provider.load_token()));
                let outcome = match result {
                    Ok(Ok(token)) => validate(&token, &this.user_id).map(|()| token),
                    Ok(Err(cause)) => Err(ChatError::new(
                        ErrorKind::TokenProviderFailed,
                        format!("the TokenProvider failed: {cause}"),
                    )
                    .with_boxed_source(cause)),
                    Err(_) => Err(ChatError::new(
                        ErrorKind::TokenProviderFailed,
                        "the TokenProvider panicked",
                    )),
                };
                this.finish_load(id, outcome);
            })
            .map(drop)
            .map_err(|e| {
                ChatError::new(
                    ErrorKind::TokenProviderFailed,
                    "cannot start the token thread",
                )
                .with_source(e)
            })
    }

    fn finish_load(&self, id: u64, outcome: Result<String, ChatError>) {
        let mut state = self.lock();
        if state.load.as_ref().is_none_or(|l| l.id != id) {
            log::info!(
                "a superseded token load of '{}' (load {id}) returned; its result is ignored",
                self.user_id
            );
            return;
        }
        state.load = None;
        state.loads_finished += 1;
        match outcome {
            Ok(value) => {
                let version = state.next_version;
                state.next_version += 1;
                log::debug!("token for '{}' loaded (v{version})", self.user_id);
                state.token = Some(Token { value, version });
                state.last_error = None;
            }
            Err(err) => {
                log::warn!("loading a token for '{}' failed: {err}", self.user_id);
                state.last_error = Some(err);
            }
        }
        self.changed.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("user_id", &self.user_id)
            .field("provider", &self.has_provider())
            .field("token", &"<redacted>")
            .finish()
    }
}

/// A failed token wait: the provider's error, or the caller gave up.
pub(crate) enum TokenWaitError {
    Failed(ChatError),
    Interrupted(Interrupt),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn never() -> bool {
        false
    }

    #[test]
    fn validate_tells_empty_invalid_and_mismatch_apart() {
        let kind = |t: &str| validate(t, "alice").unwrap_err().kind();
        assert_eq!(kind(""), ErrorKind::EmptyToken);
        assert_eq!(kind("   "), ErrorKind::EmptyToken);
        assert_eq!(kind("not-a-jwt"), ErrorKind::InvalidToken);
        assert_eq!(kind(&jwt::dev_token("")), ErrorKind::InvalidToken);
        assert_eq!(kind(&jwt::dev_token("bob")), ErrorKind::TokenUserMismatch);
        assert!(validate(&jwt::dev_token("alice"), "alice").is_ok());
    }

    #[test]
    fn concurrent_refreshes_share_one_provider_call() {
        let calls = Arc::new(AtomicUsize::new(0));
        let (release_tx, release_rx) = crossbeam_channel::bounded::<()>(0);
        let (ready_tx, ready_rx) = crossbeam_channel::unbounded::<()>();
        let counter = Arc::clone(&calls);
        let provider = move || -> Result<String, TokenError> {
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = release_rx.recv_timeout(Duration::from_secs(5));
            Ok(jwt::dev_token("alice"))
        };
        let tm = TokenManager::new("alice", TokenSource::provider(provider));
        let deadline = Some(Instant::now() + Duration::from_secs(10));
        let waiters: Vec<_> = (0..8)
            .map(|_| {
                let (tm, ready) = (Arc::clone(&tm), ready_tx.clone());
                std::thread::spawn(move || {
                    ready.send(()).unwrap();
                    tm.refresh(0, &never, deadline).ok().map(|t| t.version)
                })
            })
            .collect();
        for _ in 0..8 {
            ready_rx.recv_timeout(Duration::from_secs(5)).unwrap();
        }
        // The provider is still blocked: release its single call.
        release_tx.send_timeout((), Duration::from_secs(5)).unwrap();
        let versions: Vec<_> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
        assert!(versions.iter().all(|v| *v == Some(2)), "{versions:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // The cached token is served without calling the provider again...
        assert_eq!(tm.get(&never, deadline).ok().unwrap().version, 2);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn provider_errors_and_bad_tokens_are_typed() {
        let failing = TokenManager::new(
            "alice",
            TokenSource::provider(|| -> Result<String, TokenError> { Err("backend down".into()) }),
        );
        match failing.get(&never, None) {
            Err(TokenWaitError::Failed(e)) => assert_eq!(e.kind(), ErrorKind::TokenProviderFailed),
            _ => panic!("expected a provider failure"),
        }
        let wrong_user = TokenManager::new(
            "alice",
            TokenSource::provider(|| -> Result<String, TokenError> { Ok(jwt::dev_token("eve")) }),
        );
        match wrong_user.get(&never, None) {
            Err(TokenWaitError::Failed(e)) => assert_eq!(e.kind(), ErrorKind::TokenUserMismatch),
            _ => panic!("expected a mismatch"),
        }
        let fixed = TokenManager::new("alice", TokenSource::fixed(jwt::dev_token("alice")));
        assert!(matches!(
            fixed.refresh(1, &never, None),
            Err(TokenWaitError::Failed(_))
        ));
    }

    #[test]
    fn a_hanging_provider_times_out_the_waiter() {
        let (_keep, rx) = crossbeam_channel::bounded::<()>(0);
        let tm = TokenManager::new(
            "alice",
            TokenSource::provider(move || -> Result<String, TokenError> {
                let _ = rx.recv_timeout(Duration::from_secs(3));
                Err("late".into())
            }),
        );
        let start = Instant::now();
        let r = tm.get(&never, Some(start + Duration::from_millis(200)));
        assert!(matches!(
            r,
            Err(TokenWaitError::Interrupted(Interrupt::TimedOut))
        ));
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}
