//! One pull request of the worker, read on a subscription of its own: every message that
//! reaches the inbox is handed out, statuses end the request, and the local deadline ends it
//! only after what already arrived is taken.
//!
//! It replaces the client's `Batch`, which checks its own timeout before the messages its
//! subscription holds (dropping them unread) and has a path that returns `Pending` without
//! asking to be woken (a status-100 message); this reader does neither and asks without
//! `no_wait`. It was written while chasing the map hang (workers' pulls receiving nothing
//! while the server counts their tasks as delivered): the soak ran 600 rounds clean with it
//! where the `Batch` hung within 12 to 231 rounds, but the delivery tests looped under load
//! still hung once in 89 runs, so that hang has another cause too (see `tests/soak.rs`).

use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::consumer::pull::BatchConfig;
use async_nats::jetstream::{Context, Message};
use async_nats::{Client, StatusCode, Subscriber};
use futures_util::{FutureExt, StreamExt};

/// How long a pull request waits on the server; the reader gives up a second later.
pub(crate) const PULL_EXPIRES: Duration = Duration::from_secs(2);

/// An open pull request for up to `asked` tasks.
pub(crate) struct Pull {
    inbox: Subscriber,
    context: Context,
    left: usize,
    deadline: tokio::time::Instant,
    /// Whether anything (a task or a status) came back for this request.
    answered: bool,
}

impl Pull {
    /// Asks `consumer` for up to `asked` tasks.
    pub(crate) async fn ask(
        client: &Client,
        context: &Context,
        consumer: &PullConsumer,
        asked: usize,
    ) -> Result<Self, String> {
        let inbox = client.new_inbox();
        let subscriber = client
            .subscribe(inbox.clone())
            .await
            .map_err(|e| e.to_string())?;
        let config = BatchConfig {
            batch: asked,
            expires: Some(PULL_EXPIRES),
            ..Default::default()
        };
        consumer
            .request_batch(config, inbox.into())
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self {
            inbox: subscriber,
            context: context.clone(),
            left: asked,
            answered: false,
            deadline: tokio::time::Instant::now() + PULL_EXPIRES + Duration::from_secs(1),
        })
    }

    /// The next task message, or `None` once the request is over.
    pub(crate) async fn next(&mut self) -> Option<Message> {
        while self.left > 0 {
            let message = tokio::select! {
                biased;
                message = self.inbox.next() => message?,
                () = tokio::time::sleep_until(self.deadline) => {
                    // Over on our side; anything already here is still taken.
                    match self.inbox.next().now_or_never() {
                        Some(Some(message)) => message,
                        _ => return None,
                    }
                }
            };
            self.answered = true;
            match message.status {
                None | Some(StatusCode::OK) => {
                    self.left -= 1;
                    return Some(Message {
                        message,
                        context: self.context.clone(),
                    });
                }
                // An idle heartbeat or flow control: the request goes on.
                Some(StatusCode::IDLE_HEARTBEAT) => {}
                // Expired, no messages, or ended by the server (409): over.
                Some(_) => return None,
            }
        }
        None
    }

    /// Whether the server answered the request at all: a task or a status. A request with
    /// `expires` always ends with one of them on a healthy server, so an unanswered one means
    /// the server is not serving this worker's pulls.
    pub(crate) fn answered(&self) -> bool {
        self.answered
    }
}
