//! The server-side names of one namespace: streams, subjects, consumers and message headers.

use futurepool_core::BuildError;

/// Header naming the subject a task's result goes to.
pub(crate) const REPLY_TO: &str = "Futurepool-Reply-To";
/// Header carrying the pool's `max_attempts` for this task.
pub(crate) const MAX_ATTEMPTS: &str = "Futurepool-Max-Attempts";
/// Header carrying the pool's `ack_wait` in milliseconds (the worker's progress-ack period).
pub(crate) const ACK_WAIT_MS: &str = "Futurepool-Ack-Wait-Ms";
/// Header naming the subject a worker tells when it starts a task (core NATS, best effort).
pub(crate) const STARTED_TO: &str = "Futurepool-Started-To";
/// Header carrying the task's id, so that a call that does not decode can still be answered.
pub(crate) const TASK_ID: &str = "Futurepool-Task-Id";
/// Header carrying the pool's `task_timeout` in milliseconds, when it has one.
pub(crate) const TIMEOUT_MS: &str = "Futurepool-Timeout-Ms";

/// Whether `token` can be one subject token made by a pool (its id): 1 to 64 ASCII letters,
/// digits, `-` or `_`, so no wildcard, dot or space.
fn is_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 64
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The names the pools and workers of one namespace share on the server.
#[derive(Clone, Debug)]
pub(crate) struct Names {
    /// The namespace itself.
    pub(crate) namespace: String,
}

impl Names {
    /// Checks `namespace`: 1 to 64 ASCII letters, digits, `-` or `_` (it becomes part of stream
    /// names and subjects, where dots and wildcards mean something).
    pub(crate) fn new(namespace: &str) -> Result<Self, BuildError> {
        if !is_token(namespace) {
            return Err(BuildError::new(format!(
                "namespace {namespace:?} is not valid: use 1 to 64 ASCII letters, digits, '-' or '_'"
            )));
        }
        Ok(Self {
            namespace: namespace.to_owned(),
        })
    }

    /// The work-queue stream holding the namespace's tasks.
    pub(crate) fn task_stream(&self) -> String {
        format!("{}_tasks", self.namespace)
    }

    /// The subject tasks are published to.
    pub(crate) fn task_subject(&self) -> String {
        format!("{}.tasks", self.namespace)
    }

    /// The durable pull consumer every worker of the namespace pulls from.
    pub(crate) fn worker_consumer(&self) -> String {
        "workers".to_owned()
    }

    /// The work-queue stream holding results until their pool has read them.
    pub(crate) fn result_stream(&self) -> String {
        format!("{}_results", self.namespace)
    }

    /// The subjects of the result stream: one per pool.
    pub(crate) fn result_subjects(&self) -> String {
        format!("{}.results.*", self.namespace)
    }

    /// The subject the results of pool `pool_id` go to.
    pub(crate) fn result_subject(&self, pool_id: &str) -> String {
        format!("{}.results.{pool_id}", self.namespace)
    }

    /// The pool id in `subject` when it is one of this namespace's result subjects (what a
    /// worker may publish an answer to); `None` for anything else.
    pub(crate) fn result_subject_pool<'s>(&self, subject: &'s str) -> Option<&'s str> {
        let pool = subject
            .strip_prefix(self.namespace.as_str())?
            .strip_prefix(".results.")?;
        is_token(pool).then_some(pool)
    }

    /// The subject a worker sends pool `pool_id` its answers on first, as a request on plain
    /// NATS: the pool confirms each by replying, and an answer nobody confirms goes to the
    /// result stream instead.
    pub(crate) fn answer_subject(&self, pool_id: &str) -> String {
        format!("{}.answers.{pool_id}", self.namespace)
    }

    /// The subject workers tell pool `pool_id` on when they start one of its tasks: plain NATS,
    /// outside the streams (a lost notice only makes `stats().running` low for a while).
    pub(crate) fn started_subject(&self, pool_id: &str) -> String {
        format!("{}.started.{pool_id}", self.namespace)
    }
}

#[cfg(test)]
mod tests {
    use super::Names;

    #[test]
    fn namespaces_with_subject_syntax_are_refused() {
        for bad in ["", "a.b", "a*", ">", "a b", &"x".repeat(65)] {
            let err = Names::new(bad).unwrap_err();
            assert!(err.to_string().contains("is not valid"), "{bad:?}: {err}");
        }
        let names = Names::new("jobs-2_a").unwrap();
        assert_eq!(names.task_subject(), "jobs-2_a.tasks");
        assert_eq!(names.result_subject("p1"), "jobs-2_a.results.p1");
        assert_eq!(names.started_subject("p1"), "jobs-2_a.started.p1");
        assert_eq!(names.answer_subject("p1"), "jobs-2_a.answers.p1");
        assert_eq!(names.result_subject_pool("jobs-2_a.results.p1"), Some("p1"));
        for forged in [
            "jobs-2_a.results.>",
            "jobs-2_a.results.*",
            "jobs-2_a.results.a.b",
            "jobs-2_a.results.",
            "other.results.p1",
            "jobs-2_a.tasks",
            "jobs-2_a.results.p 1",
            "$JS.API.STREAM.DELETE.jobs-2_a_tasks",
        ] {
            assert_eq!(names.result_subject_pool(forged), None, "{forged}");
        }
    }
}
