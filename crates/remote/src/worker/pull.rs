//! One pull request of the worker, read on the worker's one pull inbox ([`PullInbox`]): every
//! task that reaches the inbox is handed out, the pull's own statuses end the request, and the
//! local deadline ends it only after what already arrived is taken.
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

/// How long a pull request waits on the server; the reader gives up [`PULL_GRACE`] later.
pub(crate) const PULL_EXPIRES: Duration = Duration::from_secs(2);

/// How long past a pull's expiry the reader waits for the server's word before giving up.
const PULL_GRACE: Duration = Duration::from_secs(1);

/// The expiry of a probe: the pull sent after one went unanswered, again and again until one
/// is answered. A pull sent to a consumer that has no leader (a cluster electing one after its
/// node died) is dropped without a word, so the worker learns that a leader is back only by
/// asking: every [`PROBE_EXPIRES`] + [`PROBE_GRACE`] while none answers. A probe a leader
/// receives is answered at once (tasks, or "no messages" after this short expiry), and the
/// next pull is a normal one: only a worker whose pulls go unanswered probes.
const PROBE_EXPIRES: Duration = Duration::from_millis(100);

/// How long past a probe's expiry the reader waits for the server's word. Tasks the server
/// sends later than that reach an inbox nobody reads and are delivered again after `ack_wait`;
/// on loopback an answer takes milliseconds.
const PROBE_GRACE: Duration = Duration::from_millis(400);

/// How patient a pull is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Patience {
    /// Waits [`PULL_EXPIRES`] on the server for tasks: what a healthy worker sends.
    Wait,
    /// Asks whether anything answers at all: sent after a pull went unanswered.
    Probe,
}

impl Patience {
    /// The pull's expiry on the server, and how long the reader waits for it.
    fn times(self) -> (Duration, Duration) {
        match self {
            Self::Wait => (PULL_EXPIRES, PULL_EXPIRES + PULL_GRACE),
            Self::Probe => (PROBE_EXPIRES, PROBE_EXPIRES + PROBE_GRACE),
        }
    }
}

/// The worker's one subscription for the tasks its pulls bring: `<inbox>.*`, pull number n
/// answered on `<inbox>.<n>`. Made once: a subscription per pull meant one made and removed
/// on the server for every pull, and three protocol operations instead of one.
///
/// Tasks arrive with their stream subject, not the pull's, so a task that comes after its
/// pull was given up is read by the next one (before, it reached an inbox nobody read and was
/// delivered again after `ack_wait`). A status names its pull: one of an earlier pull is
/// ignored.
pub(crate) struct PullInbox {
    prefix: String,
    subscriber: Subscriber,
    pulls: u64,
}

impl PullInbox {
    /// Subscribes to a fresh inbox of `client`.
    pub(crate) async fn new(client: &Client) -> Result<Self, String> {
        let prefix = client.new_inbox();
        let subscriber = client
            .subscribe(format!("{prefix}.*"))
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self {
            prefix,
            subscriber,
            pulls: 0,
        })
    }

    /// The subject of the next pull's answers.
    fn next_subject(&mut self) -> String {
        self.pulls += 1;
        format!("{}.{}", self.prefix, self.pulls)
    }
}

/// An open pull request for up to `asked` tasks.
pub(crate) struct Pull<'i> {
    inbox: &'i mut PullInbox,
    /// The subject this pull's statuses come on.
    subject: String,
    context: Context,
    left: usize,
    deadline: tokio::time::Instant,
    /// Whether anything (a task or a status) came back for this request.
    answered: bool,
}

impl<'i> Pull<'i> {
    /// Asks `consumer` for up to `asked` tasks, answered in `inbox`, as patiently as
    /// `patience` says.
    pub(crate) async fn ask(
        inbox: &'i mut PullInbox,
        context: &Context,
        consumer: &PullConsumer,
        asked: usize,
        patience: Patience,
    ) -> Result<Self, String> {
        let (expires, wait) = patience.times();
        let subject = inbox.next_subject();
        let config = BatchConfig {
            batch: asked,
            expires: Some(expires),
            ..Default::default()
        };
        consumer
            .request_batch(config, subject.clone().into())
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self {
            inbox,
            subject,
            context: context.clone(),
            left: asked,
            answered: false,
            deadline: tokio::time::Instant::now() + wait,
        })
    }

    /// The next task message, or `None` once the request is over.
    pub(crate) async fn next(&mut self) -> Option<Message> {
        while self.left > 0 {
            let inbox = &mut self.inbox.subscriber;
            let message = tokio::select! {
                biased;
                message = inbox.next() => message?,
                () = tokio::time::sleep_until(self.deadline) => {
                    // Over on our side; anything already here is still taken.
                    match inbox.next().now_or_never() {
                        Some(Some(message)) => message,
                        _ => return None,
                    }
                }
            };
            let task = matches!(message.status, None | Some(StatusCode::OK));
            if !task && message.subject.as_str() != self.subject {
                // A status of an earlier pull, given up before it came.
                continue;
            }
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
