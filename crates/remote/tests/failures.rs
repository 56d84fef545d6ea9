//! Failures against a real `nats-server`: no server, no JetStream, a panicking task, a task
//! that crashes its isolated process, and namespaces that must not see each other's tasks.

mod common;

use std::time::{Duration, Instant};

use common::{
    ABORT_NOW, BOOM, SQUARE, Server, WHOAMI, WorkerProcess, marker, pool_in, pool_with_ack_wait,
    registry, runs, watchdog,
};
use futurepool_remote::{RemotePool, Worker};

#[tokio::test]
async fn an_unreachable_server_is_a_clear_build_error_within_seconds() {
    watchdog(20, async {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("nats://127.0.0.1:{port}");
        let start = Instant::now();
        let err = RemotePool::builder(registry())
            .url(&url)
            .build()
            .await
            .unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(6),
            "took {:?}",
            start.elapsed()
        );
        let text = err.to_string();
        assert!(
            text.contains(&url) && text.contains("cannot connect"),
            "{text}"
        );
        let err = Worker::builder(registry())
            .url(&url)
            .run()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("cannot connect"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn a_server_without_jetstream_is_a_clear_build_error() {
    watchdog(20, async {
        let server = Server::start_with(false);
        let err = RemotePool::builder(registry())
            .url(&server.url)
            .build()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("has no JetStream"), "{err}");
        assert!(err.to_string().contains("nats-server -js"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn bad_settings_are_build_errors() {
    watchdog(20, async {
        let err = RemotePool::builder(registry())
            .namespace("a.b")
            .build()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("namespace"), "{err}");
        let err = RemotePool::builder(registry())
            .max_attempts(0)
            .build()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("max_attempts"), "{err}");
        let err = Worker::builder(registry())
            .concurrency(0)
            .run()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("concurrency"), "{err}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_the_tasks_error_and_is_not_retried() {
    watchdog(60, async {
        let server = Server::start();
        let _worker = WorkerProcess::start(&server.url, "panic", 1, false);
        let pool = pool_with_ack_wait(&server, "panic", Duration::from_secs(1)).await;
        let path = marker("panic");
        let err = pool
            .submit(BOOM, path.display().to_string())
            .await
            .unwrap_err();
        assert!(err.is_panic(), "{err:?}");
        assert_eq!(err.panic_message(), Some("boom in the worker"));
        // The worker lives on; the panicking task ran once.
        assert_eq!(pool.submit(SQUARE, 9).await.unwrap(), 81);
        pool.shutdown().await;
        assert_eq!(runs(&path), 1);
        assert_eq!(pool.duplicates(), 0);
        assert_eq!((pool.stats().completed, pool.stats().failed), (1, 1));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_isolated_crash_is_crashed_after_max_attempts_and_the_worker_serves_on() {
    watchdog(60, async {
        let server = Server::start();
        let _worker = WorkerProcess::start(&server.url, "isolated", 1, true);
        let pool = RemotePool::builder(registry())
            .url(&server.url)
            .namespace("isolated")
            .max_attempts(2)
            .build()
            .await
            .unwrap();
        let path = marker("abort");
        let err = pool
            .submit(ABORT_NOW, path.display().to_string())
            .await
            .unwrap_err();
        assert!(err.is_crashed(), "{err:?}");
        assert!(err.to_string().contains("SIGABRT"), "{err}");
        assert_eq!(runs(&path), 2, "one run per attempt");
        assert_eq!(pool.submit(SQUARE, 4).await.unwrap(), 16);
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_namespaces_on_one_server_do_not_see_each_others_tasks() {
    watchdog(60, async {
        let server = Server::start();
        let _workers = [
            WorkerProcess::start(&server.url, "alpha", 2, false),
            WorkerProcess::start(&server.url, "beta", 2, false),
        ];
        let alpha = pool_in(&server, "alpha").await;
        let beta = pool_in(&server, "beta").await;
        let a: Vec<_> = (0..20).map(|_| alpha.submit(WHOAMI, ())).collect();
        let b: Vec<_> = (0..20).map(|_| beta.submit(WHOAMI, ())).collect();
        for task in a {
            assert_eq!(task.await.unwrap(), "alpha");
        }
        for task in b {
            assert_eq!(task.await.unwrap(), "beta");
        }
        alpha.shutdown().await;
        beta.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_with_other_settings_is_a_clear_build_error_and_limits_are_set() {
    watchdog(30, async {
        let server = Server::start();
        let js = async_nats::jetstream::new(async_nats::connect(&server.url).await.unwrap());
        // Someone else's stream under the task stream's name, with limits retention.
        js.create_stream(async_nats::jetstream::stream::Config {
            name: "clash_tasks".into(),
            subjects: vec!["clash.tasks".into()],
            ..Default::default()
        })
        .await
        .unwrap();
        let err = RemotePool::builder(registry())
            .url(&server.url)
            .namespace("clash")
            .build()
            .await
            .unwrap_err()
            .to_string();
        let clear = ["clash_tasks", "other settings", "retention"];
        assert!(clear.iter().all(|part| err.contains(part)), "{err}");
        // Limits set by the pool that creates the streams; another pool asking other limits
        // is refused, one asking none uses them.
        let age = Duration::from_secs(3600);
        let pool = RemotePool::builder(registry())
            .url(&server.url)
            .namespace("limited")
            .max_bytes(1 << 20)
            .max_age(age)
            .build()
            .await
            .unwrap();
        let info = js
            .get_stream("limited_tasks")
            .await
            .unwrap()
            .cached_info()
            .clone();
        assert_eq!((info.config.max_bytes, info.config.max_age), (1 << 20, age));
        let err = RemotePool::builder(registry())
            .url(&server.url)
            .namespace("limited")
            .max_bytes(2 << 20)
            .build()
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_bytes"), "{err}");
        let plain = RemotePool::builder(registry())
            .url(&server.url)
            .namespace("limited")
            .build()
            .await
            .unwrap();
        plain.shutdown().await;
        pool.shutdown().await;
    })
    .await;
}
