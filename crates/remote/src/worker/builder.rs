//! [`Worker`]: serves a namespace's tasks from any machine that can reach the server.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::ConnectOptions;
use async_nats::jetstream::Context;
use async_nats::jetstream::consumer::{PullConsumer, pull};
use futurepool_core::BuildError;
use futurepool_process::ProcessPool;
use futurepool_worker::Registry;
use tokio::sync::{Semaphore, watch};

use super::answer::DirectAnswers;
use super::serve::{Serving, follow_ack_wait, pull_loop};
use crate::nats::connection;
use crate::nats::names::Names;
use crate::nats::streams;

/// A worker of a [`RemotePool`](crate::RemotePool)'s namespace: pulls tasks from the server,
/// runs them with its [`Registry`], publishes each result and then acks the task. Made by
/// [`Worker::builder`]; start any number, on any machine.
///
/// At most `concurrency` tasks are pulled and run at once; while a task runs, the worker
/// sends a progress ack three times per `ack_wait`, so a long task is not given to another
/// worker while this one is alive. A panic is the task's error result (acked, not retried).
/// With [`isolate(true)`](WorkerBuilder::isolate) each task runs in a child process (a
/// [`ProcessPool`] of this same program, so it must call
/// [`main_if_worker`](futurepool_worker::main_if_worker) first thing in `main`): a task that
/// crashes its process is tried again, up to the pool's `max_attempts`, then fails with
/// `is_crashed()`, and the worker goes on serving.
///
/// # Examples
///
/// ```no_run
/// use futurepool_remote::Worker;
/// use futurepool_worker::{Registry, RemoteFn};
///
/// fn square(n: u64) -> u64 { n * n }
/// const SQUARE: RemoteFn<u64, u64> = RemoteFn::new("square", square);
///
/// #[tokio::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let registry = Registry::new().with(SQUARE);
///     futurepool_worker::main_if_worker(&registry); // needed only with isolate(true)
///     Worker::builder(registry)
///         .url("nats://10.0.0.5:4222")
///         .concurrency(8)
///         .run()
///         .await?; // serves until the process is stopped
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub struct Worker {
    _private: (),
}

impl Worker {
    /// A builder for a worker serving `registry`.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = futurepool_remote::Worker::builder(futurepool_worker::Registry::new()).concurrency(4);
    /// # drop(builder);
    /// ```
    pub fn builder(registry: Registry) -> WorkerBuilder {
        WorkerBuilder {
            registry,
            url: "nats://127.0.0.1:4222".to_owned(),
            namespace: "futurepool".to_owned(),
            concurrency: std::thread::available_parallelism().map_or(1, usize::from),
            isolate: false,
            options: ConnectOptions::new(),
        }
    }
}

/// Configures and runs a [`Worker`].
///
/// # Examples
///
/// ```no_run
/// # async fn f() -> Result<(), futurepool_core::BuildError> {
/// futurepool_remote::Worker::builder(futurepool_worker::Registry::new())
///     .url("nats://127.0.0.1:4222")
///     .namespace("reports")
///     .concurrency(2)
///     .isolate(true)
///     .run()
///     .await
/// # }
/// ```
#[derive(Clone)]
pub struct WorkerBuilder {
    registry: Registry,
    url: String,
    namespace: String,
    concurrency: usize,
    isolate: bool,
    options: ConnectOptions,
}

impl std::fmt::Debug for WorkerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the URL (it may hold credentials) nor the options (they do).
        f.debug_struct("WorkerBuilder")
            .field("registry", &self.registry)
            .field("namespace", &self.namespace)
            .field("concurrency", &self.concurrency)
            .field("isolate", &self.isolate)
            .finish_non_exhaustive()
    }
}

impl WorkerBuilder {
    /// The NATS server's URL (default `nats://127.0.0.1:4222`), or several separated by
    /// commas: the servers of a cluster, tried in turn at connect and on every reconnect.
    /// User info authenticates: `nats://user:password@host:4222`, or `nats://TOKEN@host:4222`
    /// for a token; it is never printed. In a list, the URLs that carry user info must carry
    /// the same.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = futurepool_remote::Worker::builder(Default::default()).url("nats://10.0.0.5:4222");
    /// let cluster = futurepool_remote::Worker::builder(Default::default())
    ///     .url("nats://10.0.0.5:4222,nats://10.0.0.6:4222,nats://10.0.0.7:4222");
    /// # drop((b, cluster));
    /// ```
    #[must_use]
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// How to connect (default: `ConnectOptions::new()`): credentials (user and password,
    /// token, NKey, a `.creds` file), TLS with a private CA, client certificates, `require_tls`.
    /// The worker sets its client name, a 3 s connection timeout and unlimited reconnects on
    /// top. User info in the [`url`](Self::url) wins over the options' credentials.
    ///
    /// # Examples
    ///
    /// ```
    /// use futurepool_remote::{Worker, async_nats::ConnectOptions};
    ///
    /// let options = ConnectOptions::new()
    ///     .add_root_certificates("ca.pem".into())
    ///     .add_client_certificate("worker.pem".into(), "worker-key.pem".into())
    ///     .require_tls(true);
    /// let b = Worker::builder(Default::default())
    ///     .url("tls://nats.internal:4222")
    ///     .connect_options(options);
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn connect_options(mut self, options: ConnectOptions) -> Self {
        self.options = options;
        self
    }

    /// The namespace whose tasks to serve (default `"futurepool"`).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = futurepool_remote::Worker::builder(Default::default()).namespace("thumbnails");
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// The most tasks pulled and running at once (default: the available parallelism).
    ///
    /// A task whose call has returned gives its place to the next one while its answer is on
    /// the way to its pool; at most as many answers again are on the way at once, so a worker
    /// holds at most twice this many unacked task messages.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = futurepool_remote::Worker::builder(Default::default()).concurrency(16);
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n;
        self
    }

    /// Whether each task runs in a child process (default `false`): a crash then costs one attempt of
    /// one task, not the worker.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = futurepool_remote::Worker::builder(Default::default()).isolate(true);
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn isolate(mut self, isolate: bool) -> Self {
        self.isolate = isolate;
        self
    }

    /// Connects and serves until the process is stopped. Needs a Tokio runtime. A worker
    /// started before any pool of its namespace waits for the first pool to set the
    /// namespace up on the server (workers never make its stream or consumer).
    ///
    /// # Errors
    ///
    /// A [`BuildError`] within seconds when the server is unreachable or has no JetStream,
    /// the namespace is not valid, `concurrency` is 0, or the child processes of
    /// `isolate(true)` cannot be set up. Once serving, a lost server is waited for, not an
    /// error.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let err = futurepool_remote::Worker::builder(Default::default())
    ///     .url("nats://127.0.0.1:1")
    ///     .run()
    ///     .await
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("cannot connect"));
    /// # }
    /// ```
    pub async fn run(self) -> Result<(), BuildError> {
        self.run_until(std::future::pending()).await
    }

    /// Like [`run`](Self::run), but stops pulling tasks when `stop` completes and returns once
    /// the tasks it is running are answered.
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), futurepool_core::BuildError> {
    /// let stop = tokio::signal::ctrl_c();
    /// futurepool_remote::Worker::builder(Default::default())
    ///     .run_until(async { stop.await.ok(); })
    ///     .await
    /// # }
    /// ```
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> Result<(), BuildError> {
        let names = Names::new(&self.namespace)?;
        if self.concurrency == 0 {
            return Err(BuildError::new("concurrency must be at least 1, got 0"));
        }
        let conn = connection::connect(
            &self.url,
            self.options,
            &format!("futurepool worker {}", std::process::id()),
        )
        .await?;
        let consumer = wait_for_namespace(&conn.js, &names).await?;
        let isolated = if self.isolate {
            Some(
                ProcessPool::builder(self.registry.clone())
                    .max_workers(self.concurrency)
                    .build()?,
            )
        } else {
            None
        };
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let answering = Arc::new(Semaphore::new(self.concurrency));
        let serving = Arc::new(Serving {
            answering: Arc::clone(&answering),
            consumer_ack_wait_ms: watch::channel(u64::MAX).0,
            client: conn.client,
            js: conn.js,
            names,
            max_payload: conn.max_payload,
            registry: self.registry,
            isolated,
            direct: DirectAnswers::default(),
        });
        serving.set_consumer_ack_wait(&consumer.cached_info().config);
        let follow = follow_ack_wait(consumer.clone(), Arc::clone(&serving));
        tokio::select! {
            () = stop => {}
            () = pull_loop(consumer, Arc::clone(&slots), Arc::clone(&serving)) => {}
            () = follow => {}
        }
        // Wait for the running tasks to end, then for their answers to be sent (a task takes
        // its answer's place before it gives back its slot).
        let _all = slots.acquire_many(self.concurrency as u32).await;
        let _answered = answering.acquire_many(self.concurrency as u32).await;
        if let Some(pool) = &serving.isolated {
            pool.shutdown().await;
        }
        Ok(())
    }
}

/// How soon a worker looks again for the namespace's stream and consumer before a pool made
/// them; the wait doubles up to [`NAMESPACE_POLL_MAX`], so idle workers cost the server little.
const NAMESPACE_POLL: Duration = Duration::from_millis(100);
const NAMESPACE_POLL_MAX: Duration = Duration::from_secs(1);

/// The workers' consumer of the namespace, once a pool has made it (and its stream, checked
/// like a pool checks it). Waits for as long as that takes: a worker may start first.
async fn wait_for_namespace(js: &Context, names: &Names) -> Result<PullConsumer, BuildError> {
    let name = names.worker_consumer();
    let mut pause = NAMESPACE_POLL;
    loop {
        if let Some(stream) = streams::existing_task_stream(js, names).await? {
            match stream.get_consumer::<pull::Config>(&name).await {
                Ok(consumer) => return Ok(consumer),
                Err(e) => tracing::debug!(error = %e, "the workers' consumer is not there yet"),
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(NAMESPACE_POLL_MAX);
    }
}
