//! [`RemotePoolBuilder`]: where the server is and how tasks are delivered.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use async_nats::ConnectOptions;
use futurepool_core::{AsyncPool, BuildError};
use futurepool_worker::Registry;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::RemotePool;
use super::listener::{ResultListener, listen_answers, listen_started};
use super::shared::{Counters, Shared, Waiting};
use crate::nats::names::Names;
use crate::nats::streams::{self, Limits};
use crate::nats::{connection, setup};

/// Builds a [`RemotePool`]; made by [`RemotePool::builder`].
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use futurepool_remote::RemotePool;
/// use futurepool_worker::Registry;
///
/// # async fn f() -> Result<(), futurepool_core::BuildError> {
/// let pool = RemotePool::builder(Registry::new())
///     .url("nats://127.0.0.1:4222")
///     .namespace("reports")
///     .ack_wait(Duration::from_secs(10))
///     .max_attempts(5)
///     .build()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RemotePoolBuilder {
    registry: Registry,
    url: String,
    namespace: String,
    ack_wait: Duration,
    max_attempts: u32,
    task_timeout: Option<Duration>,
    queue_capacity: Option<usize>,
    limits: Limits,
    options: ConnectOptions,
}

impl std::fmt::Debug for RemotePoolBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the URL (it may hold credentials) nor the options (they do).
        f.debug_struct("RemotePoolBuilder")
            .field("registry", &self.registry)
            .field("namespace", &self.namespace)
            .field("ack_wait", &self.ack_wait)
            .field("max_attempts", &self.max_attempts)
            .field("task_timeout", &self.task_timeout)
            .field("queue_capacity", &self.queue_capacity)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl RemotePoolBuilder {
    pub(crate) fn new(registry: Registry) -> Self {
        Self {
            registry,
            url: "nats://127.0.0.1:4222".to_owned(),
            namespace: "futurepool".to_owned(),
            ack_wait: Duration::from_secs(30),
            max_attempts: 3,
            task_timeout: None,
            queue_capacity: None,
            limits: Limits::default(),
            options: ConnectOptions::new(),
        }
    }

    /// How to connect (default: `ConnectOptions::new()`): credentials (user and password,
    /// token, NKey, a `.creds` file), TLS with a private CA, client certificates, `require_tls`.
    /// The pool sets its client name, a 3 s connection timeout and unlimited reconnects on top.
    /// User info in the [`url`](Self::url) wins over the options' credentials.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_remote::{RemotePool, async_nats::ConnectOptions};
    ///
    /// let options = ConnectOptions::with_user_and_password("pool".into(), "s3cret".into())
    ///     .require_tls(true)
    ///     .add_root_certificates("ca.pem".into());
    /// let b = RemotePool::builder(Default::default())
    ///     .url("tls://nats.internal:4222")
    ///     .connect_options(options);
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn connect_options(mut self, options: ConnectOptions) -> Self {
        self.options = options;
        self
    }

    /// How long a task may run on a worker (default: no limit). Past it the worker answers
    /// `is_timeout()` (with [`isolate(true)`](crate::WorkerBuilder::isolate) it also kills the
    /// child process running it) and goes on serving. Travels with each task.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = futurepool_remote::RemotePool::builder(Default::default())
    ///     .task_timeout(std::time::Duration::from_secs(60));
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn task_timeout(mut self, timeout: Duration) -> Self {
        self.task_timeout = Some(timeout);
        self
    }

    /// Bounds how many of the pool's tasks may be unresolved at once (default: unbounded):
    /// submitted and not yet answered, cancelled or failed, whether waiting in the stream or
    /// running on a worker. With a bound, [`RemotePool::submit_wait`] waits for room,
    /// [`RemotePool::try_submit`] gives the argument back when full, and
    /// [`RemotePool::submit`] resolves the task at once to an error with
    /// [`is_rejected()`](futurepool_core::TaskError::is_rejected) (counted in
    /// `stats().rejected`). A place frees as its task ends. Must be at least 1.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = futurepool_remote::RemotePool::builder(Default::default()).queue_capacity(1_000);
    /// # drop(b);
    /// ```
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let err = futurepool_remote::RemotePool::builder(Default::default())
    ///     .queue_capacity(0)
    ///     .build()
    ///     .await
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("queue_capacity"));
    /// # }
    /// ```
    #[must_use]
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = Some(n);
        self
    }

    /// The most bytes each of the namespace's two streams (tasks, results) may hold (default:
    /// the server's limit). Set when the pool creates the streams; an existing stream with
    /// another limit is a [`BuildError`].
    ///
    /// # Examples
    ///
    /// ```
    /// let b = futurepool_remote::RemotePool::builder(Default::default()).max_bytes(1 << 30);
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.limits.max_bytes = Some(i64::try_from(bytes).unwrap_or(i64::MAX));
        self
    }

    /// How long the namespace's streams keep a message (default: tasks until run, unread
    /// results one day). Set when the pool creates the streams; an existing stream with another
    /// age is a [`BuildError`].
    ///
    /// # Examples
    ///
    /// ```
    /// let b = futurepool_remote::RemotePool::builder(Default::default())
    ///     .max_age(std::time::Duration::from_secs(3600));
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn max_age(mut self, age: Duration) -> Self {
        self.limits.max_age = Some(age);
        self
    }

    /// How many servers of a JetStream cluster keep each of the namespace's streams (default
    /// 1): 3 on a three-node cluster, so that losing any one server (even the stream's leader,
    /// to `kill -9`) loses no task. 1 to 5, and no more than the cluster has servers (the
    /// server refuses the stream otherwise). Set when the pool creates the streams; an existing
    /// stream with another count is a [`BuildError`]. Give the pool (and the workers) every
    /// server's URL in [`url`](Self::url), so they reconnect to another when one goes away.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = futurepool_remote::RemotePool::builder(Default::default())
    ///     .url("nats://10.0.0.5:4222,nats://10.0.0.6:4222,nats://10.0.0.7:4222")
    ///     .replicas(3);
    /// # drop(b);
    /// ```
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let err = futurepool_remote::RemotePool::builder(Default::default())
    ///     .replicas(7)
    ///     .build()
    ///     .await
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("replicas"));
    /// # }
    /// ```
    #[must_use]
    pub fn replicas(mut self, n: usize) -> Self {
        self.limits.replicas = Some(n);
        self
    }

    /// The NATS server's URL (default `nats://127.0.0.1:4222`), or several separated by
    /// commas: the servers of a cluster, tried in turn at connect and on every reconnect.
    /// User info authenticates: `nats://user:password@host:4222`, or `nats://TOKEN@host:4222`
    /// for a token; it is never printed. In a list, the URLs that carry user info must carry
    /// the same (one connection presents one set of credentials to whichever server it
    /// reaches).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = futurepool_remote::RemotePool::builder(Default::default()).url("nats://10.0.0.5:4222");
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// The namespace (default `"futurepool"`): pools and workers see only the tasks of their own
    /// namespace. 1 to 64 ASCII letters, digits, `-` or `_`.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = futurepool_remote::RemotePool::builder(Default::default()).namespace("thumbnails");
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The longest a task of this pool waits, once its worker died, before the server gives it
    /// to another worker (default 30 s). A running task's worker sends a progress ack three
    /// times per `ack_wait`, so this bounds how long a *dead* worker goes unnoticed, not how
    /// long a task may run.
    ///
    /// The namespace's workers share one consumer, whose `ack_wait` is the shortest any pool of
    /// the namespace asked for: it only ever goes down. So a dead worker's task may be handed
    /// on sooner than its own pool's `ack_wait` (a worker that merely stalls that long may
    /// then see its task run twice, which the pool drops as a duplicate), never later. A
    /// running task is never delivered again because of another pool's setting: a pool that
    /// lowers it announces the new value to the workers first and sets it 5 s later (its
    /// `build()` takes that much longer), and workers progress-ack their running tasks as soon
    /// as they read the announcement.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = futurepool_remote::RemotePool::builder(Default::default())
    ///     .ack_wait(std::time::Duration::from_secs(5));
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn ack_wait(mut self, ack_wait: Duration) -> Self {
        self.ack_wait = ack_wait;
        self
    }

    /// How many deliveries a task gets (default 3): after that many without a result (its worker died,
    /// or its isolated process crashed, each time) it resolves to an error with
    /// `is_crashed()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = futurepool_remote::RemotePool::builder(Default::default()).max_attempts(1);
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// Connects, sets up the namespace's streams and consumers, and starts listening for
    /// results. Needs a Tokio runtime.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] within seconds when the server is unreachable, refuses the
    /// credentials (the message names the server and the cause, never a password, token or
    /// key) or has no JetStream, when a stream of the namespace exists with other settings,
    /// the namespace is not valid, `replicas` is not 1 to 5 (or more than the cluster has
    /// servers), `ack_wait` is under 100 ms, `max_attempts` is 0,
    /// `task_timeout` is 0 or `queue_capacity` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let err = futurepool_remote::RemotePool::builder(Default::default())
    ///     .url("nats://127.0.0.1:1")
    ///     .build()
    ///     .await
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("nats://127.0.0.1:1"));
    /// # }
    /// ```
    pub async fn build(self) -> Result<RemotePool, BuildError> {
        let names = Names::new(&self.namespace)?;
        if self.max_attempts == 0 {
            return Err(BuildError::new("max_attempts must be at least 1, got 0"));
        }
        if self.ack_wait < Duration::from_millis(100) {
            return Err(BuildError::new(format!(
                "ack_wait must be at least 100 ms, got {:?}",
                self.ack_wait
            )));
        }
        if self.task_timeout.is_some_and(|t| t.is_zero()) {
            return Err(BuildError::new("task_timeout must be more than 0"));
        }
        if let Some(n) = self.limits.replicas
            && !(1..=streams::MAX_REPLICAS).contains(&n)
        {
            return Err(BuildError::new(format!(
                "replicas must be 1 to {}, got {n}",
                streams::MAX_REPLICAS
            )));
        }
        if self.queue_capacity == Some(0) {
            return Err(BuildError::new(
                "queue_capacity must be at least 1, got 0 (no task could ever be submitted)",
            ));
        }
        let pool_id = pool_id();
        let conn = connection::connect(
            &self.url,
            self.options,
            &format!("futurepool pool {pool_id}"),
        )
        .await?;
        let js = conn.js;
        let task_stream = streams::task_stream(&js, &names, self.limits).await?;
        let result_stream = streams::result_stream(&js, &names, self.limits).await?;
        setup::workers_consumer(&js, &task_stream, &result_stream, &names, self.ack_wait).await?;
        let listener =
            ResultListener::new(result_stream, streams::result_consumer(&names, &pool_id));
        let consumer = listener.ensure_consumer().await.map_err(|e| {
            BuildError::new(format!("cannot set up the pool's result consumer: {e}"))
        })?;
        let started = conn
            .client
            .subscribe(names.started_subject(&pool_id))
            .await
            .map_err(|e| BuildError::new(format!("cannot listen for started tasks: {e}")))?;
        let answers = conn
            .client
            .subscribe(names.answer_subject(&pool_id))
            .await
            .map_err(|e| BuildError::new(format!("cannot listen for answers: {e}")))?;
        let waiting = Arc::new(Waiting::default());
        let stop_listener = CancellationToken::new();
        tokio::spawn(listen_answers(
            answers,
            conn.client.clone(),
            Arc::clone(&waiting),
            stop_listener.clone(),
        ));
        tokio::spawn(listen_started(
            started,
            Arc::clone(&waiting),
            stop_listener.clone(),
        ));
        tokio::spawn(listener.listen(consumer, Arc::clone(&waiting), stop_listener.clone()));
        let (headers, header_bytes) = Shared::task_headers(
            &names,
            &pool_id,
            self.max_attempts,
            self.ack_wait,
            self.task_timeout,
        );
        let runtime = tokio::runtime::Handle::current();
        let tasks = task_pool(self.queue_capacity, &runtime)?;
        let shared = Arc::new(Shared {
            runtime,
            js,
            names,
            task_stream,
            pool_id,
            registry: self.registry,
            headers,
            max_payload: conn.max_payload,
            header_bytes,
            next_id: AtomicU64::new(1),
            waiting,
            counters: Counters::default(),
            stop_listener,
            changed: Notify::new(),
        });
        Ok(RemotePool::from_parts(tasks, shared))
    }
}

/// The core pool that runs the tasks' drivers: each unresolved task is one driver awaiting
/// its answer, so `queue_capacity(n)` is `n` drivers and no queue; unbounded, any number.
fn task_pool(
    queue_capacity: Option<usize>,
    runtime: &tokio::runtime::Handle,
) -> Result<AsyncPool, BuildError> {
    let builder = AsyncPool::builder().name("remote").handle(runtime.clone());
    match queue_capacity {
        Some(n) => builder.max_concurrency(n).queue_capacity(0),
        None => builder.max_concurrency(usize::MAX),
    }
    .build()
}

/// A random id for a pool: 16 hex digits from the standard library's per-process random keys,
/// the time and the process id.
fn pool_id() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}
