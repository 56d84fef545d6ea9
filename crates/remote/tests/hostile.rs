//! Hostile input against a real `nats-server`: whatever a client with access to a namespace's
//! subjects publishes there costs the workers nothing. Messages that cannot be answered are
//! terminated; a worker publishes only to its namespace's subjects; real tasks go on.

mod common;

use std::time::Duration;

use async_nats::HeaderMap;
use common::{SQUARE, Server, WorkerProcess, pool_id, pool_in, watchdog};
use futures::StreamExt;

/// A task message's headers as a pool would set them, with `reply_to` and `attempts`.
fn headers(reply_to: &str, attempts: &str, started_to: &str, id: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("Futurepool-Reply-To", reply_to);
    h.insert("Futurepool-Max-Attempts", attempts);
    h.insert("Futurepool-Ack-Wait-Ms", "30000");
    h.insert("Futurepool-Started-To", started_to);
    h.insert("Futurepool-Task-Id", id);
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_task_messages_are_terminated_and_real_tasks_keep_being_served() {
    watchdog(40, async {
        let server = Server::start();
        let ns = "hostile";
        let pool = pool_in(&server, ns).await;
        let client = async_nats::connect(&server.url).await.unwrap();
        let js = async_nats::jetstream::new(client.clone());
        // Anything published outside the namespace's result subjects is seen here.
        let mut outside = client.subscribe("elsewhere.>").await.unwrap();
        let mut forged_results = client.subscribe(format!("{ns}.results.spy")).await.unwrap();
        client.flush().await.unwrap();
        let call = futurepool_worker::codec::encode(&SQUARE.call(1, &5).unwrap()).unwrap();
        let subject = format!("{ns}.tasks");
        let valid = format!("{ns}.results.spy");
        let forged: Vec<(Option<HeaderMap>, Vec<u8>)> = vec![
            // No headers at all, garbage.
            (None, b"garbage".to_vec()),
            // A reply subject outside the namespace (no stream holds it).
            (
                Some(headers(
                    "elsewhere.results.x",
                    "3",
                    "elsewhere.started.x",
                    "1",
                )),
                call.clone(),
            ),
            // A wildcard, a subject with more tokens, another namespace's.
            (
                Some(headers(&format!("{ns}.results.>"), "3", "", "1")),
                call.clone(),
            ),
            (
                Some(headers(&format!("{ns}.results.a.b"), "3", "", "1")),
                call.clone(),
            ),
            (Some(headers("other.results.x", "3", "", "1")), call.clone()),
            // An absurd attempt count, a negative one, a task id that is not a number.
            (Some(headers(&valid, "99999999999", "", "1")), call.clone()),
            (Some(headers(&valid, "-1", "", "1")), call.clone()),
            (Some(headers(&valid, "3", "", "x")), call.clone()),
            // A valid reply subject and a started subject outside the namespace: answered,
            // but the notice does not go there.
            (
                Some(headers(&valid, "3", "elsewhere.started.x", "41")),
                call.clone(),
            ),
            // A valid reply subject and a call that does not decode: answered is_invalid().
            (Some(headers(&valid, "3", "", "42")), b"not a call".to_vec()),
        ];
        for (h, payload) in forged {
            let ack = match h {
                Some(h) => {
                    js.publish_with_headers(subject.clone(), h, payload.into())
                        .await
                }
                None => js.publish(subject.clone(), payload.into()).await,
            };
            ack.unwrap().await.unwrap();
        }
        // One slot, started after the forged messages: each must cost it nothing.
        let _worker = WorkerProcess::start(&server.url, ns, 1, false);
        for i in 0..5u64 {
            assert_eq!(pool.submit(SQUARE, i).await.unwrap(), i * i);
        }
        // Two answers reached the valid subject: the started-elsewhere task's value, and the
        // undecodable call's error.
        let mut answers = Vec::new();
        for _ in 0..2 {
            let m = tokio::time::timeout(Duration::from_secs(10), forged_results.next())
                .await
                .expect("an answer to the valid reply subject")
                .unwrap();
            answers.push(m.payload);
        }
        assert!(
            answers
                .iter()
                .any(|a| a.windows(15).any(|w| w == b"does not decode")),
            "no is_invalid answer for the undecodable call: {answers:?}"
        );
        // Every forged message left the stream (terminated or answered), none is pending.
        let stream = js.get_stream(format!("{ns}_tasks")).await.unwrap();
        loop {
            let info = stream.consumer_info("workers").await.unwrap();
            if info.num_ack_pending == 0 && info.num_pending == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Nothing was published outside the namespace, whatever the headers named.
        client.flush().await.unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(300), outside.next())
                .await
                .is_err(),
            "a worker published outside its namespace"
        );
        pool.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_answer_cannot_make_the_pool_publish_where_its_reply_subject_says() {
    watchdog(40, async {
        let server = Server::start();
        let ns = "reflect";
        let pool = pool_in(&server, ns).await;
        let client = async_nats::connect(&server.url).await.unwrap();
        let js = async_nats::jetstream::new(client.clone());
        let answers = format!("{ns}.answers.{}", pool_id(&pool));
        // A forged answer whose reply subject is the server's API: an empty message there
        // deletes the task stream.
        client
            .publish_with_reply(
                answers.clone(),
                format!("$JS.API.STREAM.DELETE.{ns}_tasks"),
                "garbage".into(),
            )
            .await
            .unwrap();
        // Then one with an inbox for a reply: once it is confirmed, the first was read.
        let reply = client
            .request(answers, "garbage".into())
            .await
            .expect("an answer with an inbox for a reply is confirmed");
        assert!(reply.payload.is_empty());
        assert!(
            js.get_stream(format!("{ns}_tasks")).await.is_ok(),
            "the pool replied to the forged subject: the task stream is gone"
        );
        pool.shutdown().await;
    })
    .await;
}
