//! Observability: every task runs inside a `tracing` span naming its pool and task id, and
//! `stats()` counts tasks by state.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use futurepool_core::{AsyncPool, BlockingPool, CpuPool, PoolStats};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

type Spans = Arc<Mutex<HashMap<u64, (String, HashMap<String, String>)>>>;

/// Records every span's name and fields by span id.
struct Recorder(Spans);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
        let mut fields = HashMap::new();
        attrs.record(&mut Fields(&mut fields));
        let name = attrs.metadata().name().to_owned();
        self.0.lock().unwrap().insert(id.into_u64(), (name, fields));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_task_runs_in_a_span_with_pool_and_id() {
    let spans = Spans::default();
    let subscriber = Registry::default().with(Recorder(spans.clone()));
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let io = BlockingPool::builder().name("io").build().unwrap();
    let cpu = CpuPool::builder()
        .name("cpu")
        .max_workers(1)
        .build()
        .unwrap();
    let net = AsyncPool::builder().name("net").build().unwrap();
    let current = || tracing::Span::current().id().map(|id| id.into_u64());
    let tasks = [
        ("io", io.submit(current)),
        ("cpu", cpu.submit(current)),
        ("net", net.submit(async move { current() })),
    ];
    for (pool, task) in tasks {
        let task_id = task.id();
        let span = task.await.unwrap().expect("the task ran inside a span");
        let (name, fields) = spans.lock().unwrap()[&span].clone();
        assert_eq!(name, "task");
        assert_eq!(fields["pool"], pool);
        assert_eq!(fields["task_id"], task_id.to_string());
    }
}

#[test]
fn stats_count_tasks_by_state() {
    let pool = CpuPool::builder().max_workers(1).build().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (started_tx, started) = std::sync::mpsc::channel();
    let held = pool.submit(move || {
        started_tx.send(()).unwrap();
        rx.recv().unwrap();
    });
    started.recv().unwrap();
    let queued: Vec<_> = (0..3).map(|i| pool.submit(move || i)).collect();
    let cancelled = pool.submit(|| 0);
    cancelled.cancel();
    let stats = pool.stats();
    assert_eq!((stats.submitted, stats.running, stats.queued), (5, 1, 3));
    assert_eq!(stats.cancelled, 1);
    tx.send(()).unwrap();
    held.blocking_wait().unwrap();
    let sum: i32 = queued.into_iter().map(|t| t.blocking_wait().unwrap()).sum();
    assert_eq!(sum, 3);
    let _ = pool.submit(|| -> () { panic!("x") }).blocking_wait();
    let stats: PoolStats = pool.stats();
    assert_eq!(
        (
            stats.completed,
            stats.failed,
            stats.cancelled,
            stats.queued,
            stats.running
        ),
        (4, 1, 1, 0, 0)
    );
}
