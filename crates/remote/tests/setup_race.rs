//! Pools built at the same moment against one namespace: exactly one of them creates the
//! workers' consumer (two creations at once once left nats-server 2.9.10's consumer silent),
//! and every pool's tasks then run.

mod common;

use common::{SQUARE, Server, WorkerProcess, pool_in, watchdog};
use futures::{FutureExt, StreamExt};

const POOLS: u64 = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pools_built_at_once_create_the_workers_consumer_once() {
    watchdog(60, async {
        let server = Server::start();
        // Every request to create a consumer on the namespace's task stream, whatever the
        // API form (`CONSUMER.CREATE.<stream>.<name>[.<filter>]` or `CONSUMER.DURABLE.CREATE`).
        let spy = async_nats::connect(&server.url).await.unwrap();
        let mut creates = spy
            .subscribe("$JS.API.CONSUMER.>")
            .await
            .unwrap()
            .filter(|m| {
                let subject = m.subject.as_str();
                std::future::ready(
                    subject.contains("CREATE.setup-race_tasks.workers")
                        || subject.ends_with("CREATE.setup-race_tasks"),
                )
            });
        spy.flush().await.unwrap();
        // A worker waiting for the namespace, as in the hang the claim prevents.
        let _worker = WorkerProcess::start(&server.url, "setup-race", 4, false);
        let pools =
            futures::future::join_all((0..POOLS).map(|_| pool_in(&server, "setup-race"))).await;
        for (n, pool) in pools.iter().enumerate() {
            let n = n as u64;
            assert_eq!(pool.submit(SQUARE, n).await.unwrap(), n * n);
        }
        let tasks: Vec<_> = pools
            .iter()
            .flat_map(|pool| (0..20u64).map(|i| pool.submit(SQUARE, i)))
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            let i = (i % 20) as u64;
            assert_eq!(task.await.unwrap(), i * i);
        }
        for pool in &pools {
            pool.shutdown().await;
        }
        // Every request the server saw before the spy's ping is in the spy's subscription
        // when the pong comes back (one connection, in order).
        spy.flush().await.unwrap();
        let mut seen = Vec::new();
        while let Some(Some(request)) = creates.next().now_or_never() {
            seen.push(request.subject);
        }
        assert_eq!(seen.len(), 1, "create requests: {seen:?}");
    })
    .await;
}
