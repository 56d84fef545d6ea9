//! [`RemotePoolBuilder`]: where the server is and how tasks are delivered.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

use futurepool_core::BuildError;
use futurepool_worker::Registry;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::listener::{listen, listen_started};
use crate::names::Names;
use crate::pool::RemotePool;
use crate::server;
use crate::shared::{Counters, Shared, Waiting};

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
#[derive(Clone, Debug)]
pub struct RemotePoolBuilder {
    registry: Registry,
    url: String,
    namespace: String,
    ack_wait: Duration,
    max_attempts: u32,
}

impl RemotePoolBuilder {
    pub(crate) fn new(registry: Registry) -> Self {
        Self {
            registry,
            url: "nats://127.0.0.1:4222".to_owned(),
            namespace: "futurepool".to_owned(),
            ack_wait: Duration::from_secs(30),
            max_attempts: 3,
        }
    }

    /// The NATS server's URL (default `nats://127.0.0.1:4222`).
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

    /// How long a worker may stay silent about a task before the server gives it to another
    /// worker (default 30 s). A running task's worker sends a progress ack three times per
    /// `ack_wait`, so this bounds how long a *dead* worker goes unnoticed, not how long a task
    /// may run. It is set on the namespace's shared consumer, so the pool built last sets it for
    /// every pool of the namespace; workers ack three times per the shorter of the two, so a
    /// shorter setting made before a task starts does not redeliver it while it runs.
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
    /// A [`BuildError`] within seconds when the server is unreachable or has no JetStream,
    /// the namespace is not valid, `ack_wait` is under 100 ms or `max_attempts` is 0.
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
        let pool_id = pool_id();
        let (client, js) =
            server::connect(&self.url, &format!("futurepool pool {pool_id}")).await?;
        let task_stream = server::task_stream(&js, &names).await?;
        task_stream
            .create_consumer(server::worker_consumer(&names, self.ack_wait))
            .await
            .map_err(|e| BuildError::new(format!("cannot set up the workers' consumer: {e}")))?;
        let result_stream = server::result_stream(&js, &names).await?;
        let consumer_config = server::result_consumer(&names, &pool_id);
        let consumer_name = consumer_config.durable_name.clone().unwrap_or_default();
        let consumer = result_stream
            .create_consumer(consumer_config)
            .await
            .map_err(|e| {
                BuildError::new(format!("cannot set up the pool's result consumer: {e}"))
            })?;
        let started = client
            .subscribe(names.started_subject(&pool_id))
            .await
            .map_err(|e| BuildError::new(format!("cannot listen for started tasks: {e}")))?;
        let waiting = Arc::new(Waiting::default());
        let stop_listener = CancellationToken::new();
        tokio::spawn(listen_started(
            started,
            Arc::clone(&waiting),
            stop_listener.clone(),
        ));
        tokio::spawn(listen(
            consumer,
            result_stream,
            consumer_name,
            Arc::clone(&waiting),
            stop_listener.clone(),
        ));
        let headers = Shared::task_headers(&names, &pool_id, self.max_attempts, self.ack_wait);
        Ok(RemotePool::from_shared(Arc::new(Shared {
            runtime: tokio::runtime::Handle::current(),
            js,
            names,
            task_stream,
            pool_id,
            registry: self.registry,
            headers,
            next_id: AtomicU64::new(1),
            waiting,
            counters: Counters::default(),
            shut: AtomicBool::new(false),
            abort: CancellationToken::new(),
            stop_listener,
            changed: Notify::new(),
        })))
    }
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
