//! Android's `Call` combinators. Each one wraps the inner work in a new work closure, so
//! the combined call stays cold, re-runnable by `retry`, and shares the inner call's
//! cancellation, pool and executor.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::call::Work;
use crate::{Call, CancelToken, ChatError, ChatResult, RetryPolicy};

impl<T: Send + 'static> Call<T> {
    /// Rebuilds this call around new work, keeping token, pool, executor and run state.
    fn derive<U: Send + 'static>(self, wrap: impl FnOnce(Work<T>) -> Work<U>) -> Call<U> {
        Call {
            work: wrap(self.work),
            start: None,
            pool: self.pool,
            executor: self.executor,
            token: self.token,
            executed: AtomicBool::new(self.executed.into_inner()),
        }
    }

    /// Transforms the data of a success; failures pass through.
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, ChatResult};
    /// let len = Call::of(ChatResult::Success("four")).map(|s| s.len());
    /// assert_eq!(len.execute(), ChatResult::Success(4));
    /// ```
    pub fn map<U: Send + 'static>(self, f: impl Fn(T) -> U + Send + Sync + 'static) -> Call<U> {
        self.derive(|inner| Arc::new(move |token: &CancelToken| inner(token).map(&f)))
    }

    /// Chains a second call built from the first one's data (Kotlin's `flatMap`). The
    /// second call runs right after, on the same thread, and is cancelled together with
    /// this one; its own pool and executor are not used. A failure short-circuits.
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, ChatResult, WorkerPool};
    /// let pool = WorkerPool::new(2);
    /// let user_id = Call::new(&pool, |_| ChatResult::Success(7));
    /// let p = pool.clone();
    /// let name = user_id.flat_map(move |id| Call::new(&p, move |_| ChatResult::Success(format!("user-{id}"))));
    /// assert_eq!(name.execute(), ChatResult::Success("user-7".to_owned()));
    /// ```
    pub fn flat_map<U: Send + 'static>(
        self,
        f: impl Fn(T) -> Call<U> + Send + Sync + 'static,
    ) -> Call<U> {
        self.derive(|inner| {
            Arc::new(move |token: &CancelToken| match inner(token) {
                ChatResult::Success(_) if token.is_canceled() => {
                    ChatResult::Failure(ChatError::cancelled())
                }
                ChatResult::Success(data) => {
                    let next = f(data);
                    token.link(&next.token);
                    next.execute()
                }
                ChatResult::Failure(err) => ChatResult::Failure(err),
            })
        })
    }

    /// Runs this call, then `other`, and pairs their data (Kotlin's `zipWith`, sequential
    /// as its `enqueue`). If this call fails its error wins and `other` does not run;
    /// otherwise `other`'s error, if any. Cancelling the zipped call cancels both.
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, ChatResult};
    /// let both = Call::of(ChatResult::Success(1)).zip_with(Call::of(ChatResult::Success("a")));
    /// assert_eq!(both.execute(), ChatResult::Success((1, "a")));
    /// ```
    pub fn zip_with<U: Send + 'static>(self, other: Call<U>) -> Call<(T, U)> {
        self.token.link(&other.token);
        let other_token = other.token;
        let other_work = other.work;
        let other_pool = other.pool;
        let other_executed = other.executed.into_inner();
        let mut zipped = self.derive(|inner| {
            Arc::new(move |token: &CancelToken| {
                let first = match inner(token) {
                    ChatResult::Success(data) => data,
                    ChatResult::Failure(err) => return ChatResult::Failure(err),
                };
                if token.is_canceled() || other_token.is_canceled() {
                    return ChatResult::Failure(ChatError::cancelled());
                }
                other_work(&other_token).map(|second| (first, second))
            })
        });
        zipped.pool = zipped.pool.or(other_pool);
        if other_executed {
            *zipped.executed.get_mut() = true;
        }
        zipped
    }

    /// Re-runs the work while `policy` allows, waiting between attempts.
    ///
    /// After the n-th failure, `policy.should_retry(n, &error)` decides (so `attempt` is 1
    /// for the first retry) and `policy.delay(n, &error)` is waited through the call's
    /// [`CancelToken`], so cancelling interrupts the wait. Cancelled errors are never
    /// retried. The last error is returned when the policy gives up.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::time::Duration;
    /// use stream_chat_callbacks::{Call, ChatError, ChatResult, ErrorKind, FixedRetry, WorkerPool};
    ///
    /// let pool = WorkerPool::new(2);
    /// let runs = std::sync::Arc::new(AtomicU32::new(0));
    /// let r = runs.clone();
    /// let call = Call::new(&pool, move |_| {
    ///     if r.fetch_add(1, Ordering::SeqCst) < 2 {
    ///         ChatResult::Failure(ChatError::new(ErrorKind::Network, "reset"))
    ///     } else {
    ///         ChatResult::Success("ok")
    ///     }
    /// })
    /// .retry(FixedRetry { max_attempts: 3, delay: Duration::from_millis(1) });
    /// assert_eq!(call.execute(), ChatResult::Success("ok"));
    /// assert_eq!(runs.load(Ordering::SeqCst), 3);
    /// ```
    pub fn retry(self, policy: impl RetryPolicy + 'static) -> Call<T> {
        self.derive(|inner| {
            Arc::new(move |token: &CancelToken| {
                let mut attempt: u32 = 0;
                loop {
                    let result = inner(token);
                    let ChatResult::Failure(err) = &result else {
                        return result;
                    };
                    if token.is_canceled() || err.is_cancelled() {
                        return result;
                    }
                    attempt = attempt.saturating_add(1);
                    if !policy.should_retry(attempt, err) {
                        return result;
                    }
                    if !token.sleep(policy.delay(attempt, err)) {
                        return ChatResult::Failure(ChatError::cancelled());
                    }
                }
            })
        })
    }

    /// Replaces a failure with what `f` returns (Kotlin's `onErrorReturn`).
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, ChatError, ChatResult, ErrorKind};
    /// let call = Call::<Vec<u8>>::of(ChatResult::Failure(ChatError::new(ErrorKind::Network, "offline")))
    ///     .on_error_return(|_| ChatResult::Success(Vec::new()));
    /// assert_eq!(call.execute(), ChatResult::Success(vec![]));
    /// ```
    pub fn on_error_return(
        self,
        f: impl Fn(&ChatError) -> ChatResult<T> + Send + Sync + 'static,
    ) -> Call<T> {
        self.derive(|inner| {
            Arc::new(move |token: &CancelToken| match inner(token) {
                ChatResult::Failure(err) => f(&err),
                success => success,
            })
        })
    }

    /// Runs `f` on each result before it is returned or delivered, on the thread that ran
    /// the work (Kotlin's `doOnResult`). Skipped when the call was cancelled.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use stream_chat_callbacks::{Call, ChatResult};
    /// let seen = Arc::new(AtomicBool::new(false));
    /// let s = seen.clone();
    /// let call = Call::of(ChatResult::Success(1)).do_on_result(move |r| s.store(r.is_success(), Ordering::SeqCst));
    /// let _ = call.execute();
    /// assert!(seen.load(Ordering::SeqCst));
    /// ```
    pub fn do_on_result(self, f: impl Fn(&ChatResult<T>) + Send + Sync + 'static) -> Call<T> {
        self.derive(|inner| {
            Arc::new(move |token: &CancelToken| {
                let result = inner(token);
                if !token.is_canceled() {
                    f(&result);
                }
                result
            })
        })
    }

    /// Checks `f` first; on failure that error is the result and the work never runs
    /// (Kotlin's `withPrecondition`).
    ///
    /// ```
    /// use stream_chat_callbacks::{Call, ChatError, ChatResult, ErrorKind};
    /// let call = Call::of(ChatResult::Success(1))
    ///     .with_precondition(|| ChatResult::Failure(ChatError::new(ErrorKind::NotConnected, "connect first")));
    /// assert_eq!(call.execute().error().kind(), ErrorKind::NotConnected);
    /// ```
    pub fn with_precondition(
        self,
        f: impl Fn() -> ChatResult<()> + Send + Sync + 'static,
    ) -> Call<T> {
        self.derive(|inner| {
            Arc::new(move |token: &CancelToken| match f() {
                ChatResult::Success(()) => inner(token),
                ChatResult::Failure(err) => ChatResult::Failure(err),
            })
        })
    }
}
