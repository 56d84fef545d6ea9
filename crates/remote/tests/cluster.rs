//! A real three-node JetStream cluster on loopback with the namespace's streams on three
//! replicas: the stream leader killed (`kill -9`) with a worker mid-run, and a rolling restart
//! of every node, lose no task and resolve none twice.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::cluster::{Cluster, Group};
use common::{SLOW_SQUARE, WorkerProcess, registry, watchdog};
use futurepool_remote::RemotePool;
use futures::StreamExt;
use tokio::sync::{mpsc, watch};

/// Most of the pool's tasks unresolved at once: what a failure can have in flight.
const IN_FLIGHT: usize = 400;

/// How long each task sleeps on its worker (ms): the run lasts long enough to fail in.
const TASK_MS: u64 = 2;

/// A pool on `url` in `namespace` with three replicas, tasks redelivered after 2 s of a
/// worker's silence, at most [`IN_FLIGHT`] unresolved. A failover leaves a stream without a
/// leader for 4 to 9 s on nats-server 2.9 (its election timeout), and each `ack_wait` of that
/// can be one more delivery of a task whose answer could not be stored: ten attempts cover it.
async fn pool_on(url: &str, namespace: &str) -> RemotePool {
    RemotePool::builder(registry())
        .url(url)
        .namespace(namespace)
        .replicas(3)
        .ack_wait(Duration::from_secs(2))
        .max_attempts(10)
        .queue_capacity(IN_FLIGHT)
        .build()
        .await
        .unwrap()
}

/// What a run saw: each task's result count, and the resolve times in order.
struct Run {
    resolved: Vec<u32>,
    times: Vec<Instant>,
}

impl Run {
    /// The longest time between two tasks resolving one after the other.
    fn longest_gap(&self) -> Duration {
        let (from, to) = self.longest_gap_between();
        to - from
    }

    /// When the longest time without a task resolving began and ended.
    fn longest_gap_between(&self) -> (Instant, Instant) {
        self.times
            .windows(2)
            .map(|w| (w[0], w[1]))
            .max_by_key(|&(from, to)| to - from)
            .unwrap_or((self.times[0], self.times[0]))
    }
}

/// Submits tasks `0..` while `more` says so (or `0..total` when `total` is set), checks each
/// answer is `n²`, and reports each resolution on `progress`.
async fn run(
    pool: &RemotePool,
    total: Option<usize>,
    more: Arc<AtomicBool>,
    progress: watch::Sender<usize>,
) -> Run {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut producer = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while total.map_or(more.load(Ordering::SeqCst), |t| n < t) {
                let task = pool.submit_wait(SLOW_SQUARE, (n as u64, TASK_MS)).await;
                let tx = tx.clone();
                tokio::spawn(async move {
                    let result = task.await;
                    let _ = tx.send((n, result, Instant::now()));
                });
                n += 1;
            }
            n
        })
    };
    let mut resolved: Vec<u32> = Vec::new();
    let mut times = Vec::new();
    let mut submitted = None;
    while submitted != Some(times.len()) {
        tokio::select! {
            done = &mut producer, if submitted.is_none() => {
                submitted = Some(done.expect("the producer"));
            }
            Some((n, result, at)) = rx.recv() => {
                let (square, _pid) = result.unwrap_or_else(|e| panic!("task {n} failed: {e:?}"));
                assert_eq!(square, (n as u64) * (n as u64), "task {n}'s answer");
                if resolved.len() <= n {
                    resolved.resize(n + 1, 0);
                }
                resolved[n] += 1;
                times.push(at);
                progress.send_modify(|count| *count += 1);
            }
        }
    }
    resolved.resize(times.len(), 0);
    Run { resolved, times }
}

/// Every task `0..n` resolved exactly once.
fn assert_each_once(run: &Run) {
    let wrong: Vec<(usize, u32)> = run
        .resolved
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c != 1)
        .map(|(n, &c)| (n, c))
        .take(10)
        .collect();
    assert!(
        wrong.is_empty(),
        "tasks not resolved exactly once: {wrong:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_stream_leader_and_a_worker_mid_run_loses_nothing() {
    const TASKS: usize = 5_000;
    let mut cluster = Cluster::start(3).await;
    let url = cluster.url.clone();
    let namespace = "leaderkill";
    watchdog(90, async {
        let pool = pool_on(&url, namespace).await;
        let mut victim = WorkerProcess::start(&url, namespace, 8, false);
        let _survivor = WorkerProcess::start(&url, namespace, 8, false);
        let (progress, mut seen) = watch::channel(0);
        let killed = Arc::new(AtomicUsize::new(usize::MAX));
        // When the node died, and when each group it led had a new leader: the failover's
        // timeline, for the message.
        let failover = Arc::new(Mutex::new((None, Vec::new())));
        let chaos = {
            let killed = Arc::clone(&killed);
            let failover = Arc::clone(&failover);
            let cluster = &mut cluster;
            async move {
                seen.wait_for(|&n| n >= TASKS / 3).await.unwrap();
                let (tasks, results) = (format!("{namespace}_tasks"), format!("{namespace}_results"));
                let mut groups = vec![
                    Group::stream(&tasks),
                    Group::consumer(&tasks, "workers"),
                    Group::stream(&results),
                ];
                for name in cluster.consumer_names(&results).await {
                    groups.push(Group::consumer(&results, &name));
                }
                let before = cluster.leaders(&groups).await;
                let leader = cluster.stream_leader(&tasks).await;
                victim.kill();
                cluster.kill(leader);
                let killed_at = Instant::now();
                killed.store(leader, Ordering::SeqCst);
                failover.lock().unwrap().0 = Some(killed_at);
                let elections = cluster
                    .elections(&groups, &before, leader, killed_at, Duration::from_secs(30))
                    .await;
                failover.lock().unwrap().1 = elections;
                std::future::pending::<()>().await;
            }
        };
        let more = Arc::new(AtomicBool::new(true));
        let run = tokio::select! {
            run = run(&pool, Some(TASKS), more, progress) => run,
            () = chaos => unreachable!(),
        };
        assert!(killed.load(Ordering::SeqCst) < 3, "the leader was killed mid-run");
        assert_eq!(run.resolved.len(), TASKS);
        assert_each_once(&run);
        let gap = run.longest_gap();
        let duplicates = pool.duplicates();
        let timeline = {
            let failover = failover.lock().unwrap();
            let (from, to) = run.longest_gap_between();
            let since = |at: Instant| {
                failover.0.map_or(String::from("?"), |killed: Instant| {
                    let secs = |d: Duration| d.as_secs_f64();
                    if at >= killed {
                        format!("+{:.1}", secs(at - killed))
                    } else {
                        format!("-{:.1}", secs(killed - at))
                    }
                })
            };
            let elections: Vec<String> = failover.1.iter().map(ToString::to_string).collect();
            format!(
                "from {} s to {} s after the kill; {}",
                since(from),
                since(to),
                elections.join(", ")
            )
        };
        eprintln!(
            "leader kill: {TASKS} tasks in {:?}, longest gap without a result {gap:?} ({timeline}), {duplicates} duplicates",
            run.times[TASKS - 1] - run.times[0]
        );
        assert!(duplicates <= IN_FLIGHT as u64, "{duplicates} duplicates");
        // The goal: no gap of 10 s. nats-server 2.9 elects a new leader for each group the
        // dead node led 4–9 s after the kill, now and then later (+11.5 s was seen once); what
        // is ours is the time from the last of those elections to the next result. So a gap of
        // 10 s or more passes only if it ended within 2 s of an election that came after 8 s.
        let (last_election, killed_at) = {
            let failover = failover.lock().unwrap();
            (failover.1.iter().filter_map(|e| e.at).max(), failover.0)
        };
        let ended_after_kill = killed_at.map(|k| run.longest_gap_between().1.saturating_duration_since(k));
        let the_server_was_slow = match (last_election, ended_after_kill) {
            (Some(elected), Some(ended)) => {
                elected > Duration::from_secs(8) && ended <= elected + Duration::from_secs(2)
            }
            _ => false,
        };
        if gap >= Duration::from_secs(10) && the_server_was_slow {
            eprintln!("a gap of {gap:?}, set by the server's late election: {timeline}");
        }
        assert!(
            gap < Duration::from_secs(10) || the_server_was_slow,
            "a gap of {gap:?}: {timeline}"
        );
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_of_every_node_mid_run_loses_nothing() {
    let mut cluster = Cluster::start(3).await;
    let url = cluster.url.clone();
    let namespace = "rolling";
    let streams = [format!("{namespace}_tasks"), format!("{namespace}_results")];
    watchdog(90, async {
        let pool = pool_on(&url, namespace).await;
        let _workers = [
            WorkerProcess::start(&url, namespace, 8, false),
            WorkerProcess::start(&url, namespace, 8, false),
        ];
        let (progress, mut seen) = watch::channel(0);
        let more = Arc::new(AtomicBool::new(true));
        // Each node in turn: stopped while tasks flow, started again, and the cluster whole
        // (both streams current on every node) before the next; then the run ends.
        let restarts = {
            let more = Arc::clone(&more);
            let cluster = &mut cluster;
            async move {
                for node in 0..cluster.size() {
                    let at = *seen.borrow();
                    seen.wait_for(|&n| n >= at + 300).await.unwrap();
                    cluster.stop(node);
                    let at = *seen.borrow();
                    seen.wait_for(|&n| n >= at + 300).await.unwrap();
                    cluster.start_node(node);
                    cluster.wait_whole(&streams).await;
                }
                let at = *seen.borrow();
                seen.wait_for(|&n| n >= at + 300).await.unwrap();
                more.store(false, Ordering::SeqCst);
                std::future::pending::<()>().await;
            }
        };
        let run = tokio::select! {
            run = run(&pool, None, Arc::clone(&more), progress) => run,
            () = restarts => unreachable!(),
        };
        assert!(!more.load(Ordering::SeqCst), "the run ended before the restarts");
        assert_each_once(&run);
        let tasks = run.times.len();
        let duplicates = pool.duplicates();
        eprintln!(
            "rolling: {tasks} tasks in {:?}, longest gap without a result {:?}, {duplicates} duplicates",
            run.times[tasks - 1] - run.times[0],
            run.longest_gap()
        );
        assert!(duplicates <= IN_FLIGHT as u64, "{duplicates} duplicates");
        pool.shutdown().await;
    })
    .await;
}

/// The expiry (ns) a pull request asks for, from its JSON.
fn pull_expires(request: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(request).ok()?;
    let rest = &text[text.find("\"expires\":")? + "\"expires\":".len()..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// The expiry of the next pull request on `pulls` (within 10 s).
async fn next_expiry(pulls: &mut async_nats::Subscriber) -> u64 {
    let pull = tokio::time::timeout(Duration::from_secs(10), pulls.next())
        .await
        .expect("a pull within 10 s")
        .expect("the subscription");
    pull_expires(&pull.payload).expect("a pull request with an expiry")
}

/// The worker's side of a failover, on one server: a pull sent to a consumer that cannot
/// serve it (here deleted, as one that has no leader while a cluster elects one) is dropped
/// without a word. The worker then probes with short pulls, so it finds the consumer back
/// within half a second instead of a whole pull (3 s) later; and it goes back to its normal
/// pulls at the first answer: a worker whose pulls are answered never probes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_pull_goes_unanswered_probes_until_one_is_answered() {
    const NORMAL: u64 = 2_000_000_000;
    let server = common::Server::start();
    let namespace = "probe";
    watchdog(60, async {
        let pool = common::pool_in(&server, namespace).await;
        let client = async_nats::connect(&server.url).await.unwrap();
        // Every pull request of the worker, as the server receives it.
        let mut pulls = client
            .subscribe(format!(
                "$JS.API.CONSUMER.MSG.NEXT.{namespace}_tasks.workers"
            ))
            .await
            .unwrap();
        let _worker = WorkerProcess::start(&server.url, namespace, 2, false);
        // A healthy, idle worker: its pulls wait the normal time on the server.
        assert_eq!(next_expiry(&mut pulls).await, NORMAL);
        assert_eq!(pool.submit(SLOW_SQUARE, (3, 0)).await.unwrap().0, 9);
        assert_eq!(next_expiry(&mut pulls).await, NORMAL);

        let js = async_nats::jetstream::new(client.clone());
        let stream = js.get_stream(format!("{namespace}_tasks")).await.unwrap();
        let config = stream
            .consumer_info("workers")
            .await
            .unwrap()
            .config
            .clone();
        stream.delete_consumer("workers").await.unwrap();
        // The pulls that follow go unanswered: after the first, the worker probes.
        let mut seen = Vec::new();
        while seen.iter().filter(|&&e| e < NORMAL).count() < 3 {
            seen.push(next_expiry(&mut pulls).await);
            assert!(
                seen.len() <= 8,
                "no probes after unanswered pulls: {seen:?}"
            );
        }
        // The consumer is back (a new leader): the next probe is answered, with the task.
        stream.create_consumer(config).await.unwrap();
        let task = pool.submit(SLOW_SQUARE, (4, 0));
        assert_eq!(task.await.unwrap().0, 16);
        // And the worker pulls normally again: a probe or two in flight, then normal pulls only.
        let mut seen = Vec::new();
        while seen.len() < 3 || seen[seen.len() - 3..].iter().any(|&e| e != NORMAL) {
            seen.push(next_expiry(&mut pulls).await);
            assert!(seen.len() < 10, "still probing: {seen:?}");
        }
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test]
async fn replicas_outside_one_to_five_are_build_errors() {
    watchdog(20, async {
        for n in [0, 6] {
            let err = RemotePool::builder(registry())
                .replicas(n)
                .build()
                .await
                .unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("replicas must be 1 to 5, got {n}")),
                "{err}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn no_url_of_a_list_shows_its_secret_when_none_answers() {
    watchdog(20, async {
        let ports: Vec<u16> = (0..2)
            .map(|_| {
                std::net::TcpListener::bind("127.0.0.1:0")
                    .unwrap()
                    .local_addr()
                    .unwrap()
                    .port()
            })
            .collect();
        let url = format!(
            "nats://pool:Secret1@127.0.0.1:{},nats://pool:Secret1@127.0.0.1:{}",
            ports[0], ports[1]
        );
        let err = RemotePool::builder(registry())
            .url(&url)
            .build()
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("127.0.0.1:{}", ports[1])), "{err}");
        assert!(!err.contains("Secret1"), "{err}");
        let err = futurepool_remote::Worker::builder(registry())
            .url(format!(
                "nats://pool:Secret1@127.0.0.1:{},nats://other:Secret2@127.0.0.1:{}",
                ports[0], ports[1]
            ))
            .run()
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("different credentials"), "{err}");
        assert!(
            !err.contains("Secret1") && !err.contains("Secret2"),
            "{err}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_reaches_the_cluster_past_a_dead_node_and_replicas_must_match() {
    let cluster = Cluster::start(3).await;
    watchdog(60, async {
        // The list's first URL is a port nothing listens on: the pool and the worker connect
        // through the others.
        let dead = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("nats://127.0.0.1:{dead},{}", cluster.url);
        let pool = RemotePool::builder(registry())
            .url(&url)
            .namespace("r3")
            .replicas(3)
            .build()
            .await
            .unwrap();
        let _worker = WorkerProcess::start(&url, "r3", 2, false);
        assert_eq!(pool.submit(SLOW_SQUARE, (7, 0)).await.unwrap().0, 49);
        // The namespace's streams have three replicas: a pool asking for one is refused.
        let err = RemotePool::builder(registry())
            .url(&url)
            .namespace("r3")
            .replicas(1)
            .build()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("replicas 3, not 1"), "{err}");
        // A pool that does not say is fine with the existing streams.
        let other = RemotePool::builder(registry())
            .url(&url)
            .namespace("r3")
            .build()
            .await
            .unwrap();
        assert_eq!(other.submit(SLOW_SQUARE, (8, 0)).await.unwrap().0, 64);
        other.shutdown().await;
        pool.shutdown().await;
    })
    .await;
}
