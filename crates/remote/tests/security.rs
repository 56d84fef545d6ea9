//! Secured servers: user and password, a token, mutual TLS with a private CA, and a server
//! whose configuration gives each user only what the pool or the worker needs. Errors name
//! the server and the cause, never a secret.

mod common;

use std::path::Path;

use common::{
    SQUARE, Server, WAIT_FOR_FILE, WHOAMI, WorkerProcess, make_certificates, marker, pool_id,
    registry, watchdog,
};
use futurepool_remote::async_nats::ConnectOptions;
use futurepool_remote::{RemotePool, Worker};

/// `nats://127.0.0.1:PORT` with `info@` in front of the host.
fn with_user_info(url: &str, info: &str) -> String {
    url.replacen("nats://", &format!("nats://{info}@"), 1)
}

async fn build_pool(url: &str, namespace: &str) -> Result<RemotePool, futurepool_core::BuildError> {
    RemotePool::builder(registry())
        .url(url)
        .namespace(namespace)
        .build()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_and_password_in_the_url_and_a_wrong_password_is_a_clear_error() {
    watchdog(40, async {
        let server = Server::start_config(
            r#"authorization { users = [ {user: "alice", password: "alice-pw-1"} ] }"#,
        );
        let url = with_user_info(&server.url, "alice:alice-pw-1");
        let _worker = WorkerProcess::start(&url, "userpw", 1, false);
        let pool = build_pool(&url, "userpw").await.unwrap();
        assert_eq!(pool.submit(SQUARE, 3).await.unwrap(), 9);
        pool.shutdown().await;
        // The same credentials through `connect_options`.
        let options = ConnectOptions::with_user_and_password("alice".into(), "alice-pw-1".into());
        let pool = RemotePool::builder(registry())
            .url(&server.url)
            .namespace("userpw")
            .connect_options(options)
            .build()
            .await
            .unwrap();
        assert_eq!(pool.submit(SQUARE, 4).await.unwrap(), 16);
        pool.shutdown().await;
        // A wrong password: the error names the server and the cause, not the password.
        let wrong = with_user_info(&server.url, "alice:WRONG-secret-99");
        let err = pool_err(pool_fail(&wrong).await);
        assert!(err.contains("authorization violation"), "{err}");
        assert!(err.contains(&server.url), "{err}");
        assert!(
            !err.contains("WRONG-secret-99"),
            "the password was printed: {err}"
        );
        let err = Worker::builder(registry())
            .url(&wrong)
            .run()
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("authorization violation"), "{err}");
        assert!(
            !err.contains("WRONG-secret-99"),
            "the password was printed: {err}"
        );
    })
    .await;
}

async fn pool_fail(url: &str) -> futurepool_core::BuildError {
    build_pool(url, "userpw").await.unwrap_err()
}

fn pool_err(err: futurepool_core::BuildError) -> String {
    format!("{err} / {err:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_in_the_url_or_the_options() {
    watchdog(40, async {
        let server = Server::start_config(r#"authorization { token: "t0ken-Secret-7" }"#);
        let url = with_user_info(&server.url, "t0ken-Secret-7");
        let _worker = WorkerProcess::start(&url, "token", 1, false);
        let pool = build_pool(&url, "token").await.unwrap();
        assert_eq!(pool.submit(SQUARE, 5).await.unwrap(), 25);
        pool.shutdown().await;
        let pool = RemotePool::builder(registry())
            .url(&server.url)
            .namespace("token")
            .connect_options(ConnectOptions::with_token("t0ken-Secret-7".into()))
            .build()
            .await
            .unwrap();
        assert_eq!(pool.submit(SQUARE, 6).await.unwrap(), 36);
        pool.shutdown().await;
        let err = pool_err(
            build_pool(&with_user_info(&server.url, "n0t-the-t0ken"), "token")
                .await
                .unwrap_err(),
        );
        assert!(err.contains("authorization violation"), "{err}");
        assert!(
            !err.contains("n0t-the-t0ken"),
            "the token was printed: {err}"
        );
    })
    .await;
}

fn tls_options(dir: &Path, client_cert: bool) -> ConnectOptions {
    let options = ConnectOptions::new()
        .add_root_certificates(dir.join("ca.pem"))
        .require_tls(true);
    if client_cert {
        options.add_client_certificate(dir.join("client.pem"), dir.join("client-key.pem"))
    } else {
        options
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_with_a_private_ca() {
    watchdog(60, async {
        let certs = tempdir("mtls");
        make_certificates(&certs);
        let server = Server::start_config(&format!(
            "tls {{ cert_file: \"{d}/server.pem\", key_file: \"{d}/server-key.pem\", ca_file: \"{d}/ca.pem\", verify: true, timeout: 5 }}",
            d = certs.display()
        ));
        let (ca, cert, key) = (
            certs.join("ca.pem").display().to_string(),
            certs.join("client.pem").display().to_string(),
            certs.join("client-key.pem").display().to_string(),
        );
        let _worker = WorkerProcess::start_args(
            &server.url,
            "mtls",
            1,
            false,
            &["--tls-ca", &ca, "--tls-cert", &cert, "--tls-key", &key],
        );
        let pool = RemotePool::builder(registry())
            .url(&server.url)
            .namespace("mtls")
            .connect_options(tls_options(&certs, true))
            .build()
            .await
            .unwrap();
        assert_eq!(pool.submit(WHOAMI, ()).await.unwrap(), "mtls");
        pool.shutdown().await;
        // Without a client certificate the server refuses: a clear build error.
        let err = RemotePool::builder(registry())
            .url(&server.url)
            .namespace("mtls")
            .connect_options(tls_options(&certs, false))
            .build()
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot connect") && err.contains(&server.url), "{err}");
        let _ = std::fs::remove_dir_all(&certs);
    })
    .await;
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("futurepool-remote-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The permissions block of the "Scaling out" chapter, for namespace `namespace`.
fn documented_permissions(namespace: &str) -> String {
    let chapter = include_str!("../../../docs/src/scaling-out.md");
    let start = chapter
        .find("authorization {")
        .expect("the chapter's permissions block");
    let end = start + chapter[start..].find("```").expect("the end of the block");
    chapter[start..end]
        .replace("thumbnails", namespace)
        .replace("POOL_PASSWORD", "pool-pw-3")
        .replace("WORKER_PASSWORD", "worker-pw-4")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_permissions_are_enough_for_a_pool_and_its_workers() {
    watchdog(60, async {
        let server = Server::start_config(&documented_permissions("perm"));
        let worker_url = with_user_info(&server.url, "worker:worker-pw-4");
        let pool_url = with_user_info(&server.url, "pool:pool-pw-3");
        // The worker first: it may create the task stream and its consumer itself.
        let _worker = WorkerProcess::start(&worker_url, "perm", 2, false);
        let pool = build_pool(&pool_url, "perm").await.unwrap();
        let results = stored_results(&server, "perm").await;
        for i in 0..10u64 {
            assert_eq!(pool.submit(SQUARE, i).await.unwrap(), i * i);
        }
        // The answers came directly: the documented permissions allow it.
        assert_eq!(stored_results(&server, "perm").await, results);
        // Started notices arrive: two gated tasks fill the worker's two slots and show as
        // running. Then a third waits in the stream (the worker holds no more messages than
        // slots), and cancelling it deletes its message (allowed): it never runs.
        let gate = marker("perm-gate");
        let gate_arg = gate.to_string_lossy().into_owned();
        let held: Vec<_> = (0..2)
            .map(|_| pool.submit(WAIT_FOR_FILE, gate_arg.clone()))
            .collect();
        while pool.stats().running < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let waiting = pool.submit(SQUARE, 99);
        pool.flush().await;
        waiting.cancel();
        std::fs::write(&gate, b"open").unwrap();
        for task in held {
            assert_eq!(task.await.unwrap(), 1);
        }
        pool.shutdown().await;
        let stats = pool.stats();
        assert_eq!((stats.completed, stats.cancelled), (12, 1), "{stats:?}");
    })
    .await;
}

/// How many messages the result stream of `namespace` has ever stored (its last sequence),
/// read as the pool's user of the documented permissions.
async fn stored_results(server: &Server, namespace: &str) -> u64 {
    let client = ConnectOptions::with_user_and_password("pool".into(), "pool-pw-3".into())
        .connect(&server.url)
        .await
        .unwrap();
    let js = futurepool_remote::async_nats::jetstream::new(client);
    let mut stream = js.get_stream(format!("{namespace}_results")).await.unwrap();
    stream.info().await.unwrap().state.last_sequence
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_not_allowed_to_answer_directly_answer_through_the_result_stream() {
    watchdog(60, async {
        // The documented block as it was before direct answers: the worker may not publish
        // on `<ns>.answers.*`, and the pool may not reply.
        let old = documented_permissions("oldperm")
            .replace(r#", "oldperm.answers.*""#, "")
            .replace("allow_responses: true", "");
        assert!(!old.contains("answers"), "{old}");
        let server = Server::start_config(&old);
        let worker_url = with_user_info(&server.url, "worker:worker-pw-4");
        let pool_url = with_user_info(&server.url, "pool:pool-pw-3");
        let _worker = WorkerProcess::start(&worker_url, "oldperm", 2, false);
        let pool = build_pool(&pool_url, "oldperm").await.unwrap();
        let before = stored_results(&server, "oldperm").await;
        let tasks: Vec<_> = (0..20u64).map(|i| pool.submit(SQUARE, i)).collect();
        for (i, task) in (0u64..).zip(tasks) {
            assert_eq!(task.await.unwrap(), i * i);
        }
        // Every answer went through the stream: the first after its direct try went
        // unanswered, the others without trying (a worker pauses direct answers then).
        assert_eq!(stored_results(&server, "oldperm").await - before, 20);
        assert_eq!(pool.duplicates(), 0);
        // The pool's consumer of that stream, deleted (by an operator, or by the server after
        // a long disconnect), is made again, and the answers stored meanwhile are read.
        let client = ConnectOptions::with_user_and_password("pool".into(), "pool-pw-3".into())
            .connect(&server.url)
            .await
            .unwrap();
        let stream = futurepool_remote::async_nats::jetstream::new(client)
            .get_stream("oldperm_results")
            .await
            .unwrap();
        let name = format!("pool-{}", pool_id(&pool));
        // nats-server 2.9 can fail to delete a consumer whose acks are still being written
        // ("unlinkat …: directory not empty", an error 500): once its last acks are in, and
        // again until it is gone.
        loop {
            let info = stream.consumer_info(&name).await.unwrap();
            if info.num_ack_pending == 0 && info.num_pending == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        while let Err(e) = stream.delete_consumer(&name).await {
            if stream.consumer_info(&name).await.is_err() {
                break;
            }
            eprintln!("deleting the consumer failed, trying again: {e}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let tasks: Vec<_> = (20..25u64).map(|i| pool.submit(SQUARE, i)).collect();
        for (i, task) in (20u64..).zip(tasks) {
            assert_eq!(task.await.unwrap(), i * i);
        }
        pool.shutdown().await;
    })
    .await;
}
