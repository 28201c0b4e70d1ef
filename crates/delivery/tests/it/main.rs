//! The outbox end to end over the memory store (and SQLite for durability) with a manual clock
//! and scripted fake targets.

mod durability;
mod ordering;
mod retries;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use ponte_delivery::{
    BoxFuture, Failure, FailureKind, Job, Message, NewJob, Outbox, Outcome, Policy, Target,
};
use ponte_store::{Commit, MemoryStore, SharedStore, Store, WriteBatch};
use ponte_types::{ManualClock, Millis, SharedClock};
use tokio::sync::watch;

/// 2019-11-14T18:16:05.568Z, the time of AWS's example record.
pub(crate) const T0: Millis = 1_573_755_365_568;

pub(crate) const FN_ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST";
pub(crate) const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:000000000000:records";
pub(crate) const DLQ_ARN: &str = "arn:aws:sqs:us-east-1:000000000000:dlq";
pub(crate) const TRACE: &str =
    "Root=1-5dcd9b85-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

/// One call a fake target received.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) job: Job,
    pub(crate) at: Millis,
}

/// A target answering from a script, then with a fallback; records every call.
pub(crate) struct Fake {
    clock: SharedClock,
    script: Mutex<VecDeque<Outcome>>,
    fallback: Outcome,
    calls: Mutex<Vec<Call>>,
    /// Calls whose body is in here never finish (a crash mid-attempt).
    hang_on: Mutex<Vec<String>>,
    notify: tokio::sync::Notify,
}

impl Fake {
    pub(crate) fn new(clock: SharedClock, fallback: Outcome) -> Arc<Self> {
        Arc::new(Fake {
            clock,
            script: Mutex::new(VecDeque::new()),
            fallback,
            calls: Mutex::new(Vec::new()),
            hang_on: Mutex::new(Vec::new()),
            notify: tokio::sync::Notify::new(),
        })
    }

    pub(crate) fn then(self: &Arc<Self>, outcome: Outcome) -> Arc<Self> {
        self.script.lock().push_back(outcome);
        self.clone()
    }

    pub(crate) fn hang_on(&self, body: &str) {
        self.hang_on.lock().push(body.to_owned());
    }

    pub(crate) fn calls(&self) -> Vec<Call> {
        self.calls.lock().clone()
    }

    pub(crate) fn bodies(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .map(|c| c.job.message.body)
            .collect()
    }

    /// Waits (real time, bounded) until at least `n` calls arrived.
    pub(crate) async fn wait_calls(&self, n: usize) {
        let wait = async {
            loop {
                let notified = self.notify.notified();
                if self.calls.lock().len() >= n {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .expect("target calls");
    }
}

impl Target for Fake {
    fn deliver<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            self.calls.lock().push(Call {
                job: job.clone(),
                at: self.clock.now(),
            });
            self.notify.notify_waiters();
            if self.hang_on.lock().contains(&job.message.body) {
                std::future::pending::<()>().await;
            }
            let next = self.script.lock().pop_front();
            next.unwrap_or_else(|| self.fallback.clone())
        })
    }
}

pub(crate) fn ok() -> Outcome {
    Outcome::Delivered {
        status_code: 200,
        response: None,
        executed_version: None,
    }
}

pub(crate) fn ok_with(response: &str) -> Outcome {
    Outcome::Delivered {
        status_code: 200,
        response: Some(response.into()),
        executed_version: Some("$LATEST".into()),
    }
}

pub(crate) fn fail(kind: FailureKind) -> Outcome {
    let (status_code, code) = match kind {
        FailureKind::Error => (200, "Unhandled"),
        FailureKind::Throttled => (429, "TooManyRequestsException"),
        FailureKind::Unavailable => (500, "ServiceException"),
        FailureKind::Permanent => (404, "ResourceNotFoundException"),
    };
    Outcome::Failed(Failure {
        kind,
        status_code,
        code: code.into(),
        message: format!("{code} happened"),
        response: (kind == FailureKind::Error)
            .then(|| format!(r#"{{"errorMessage":"{code} happened","errorType":"Error"}}"#)),
        executed_version: (kind == FailureKind::Error).then(|| "$LATEST".into()),
    })
}

pub(crate) fn job(target: &str, body: &str, policy: Policy) -> NewJob {
    NewJob {
        target: target.into(),
        message: Message {
            body: body.into(),
            ..Message::default()
        },
        policy,
        trace_header: Some(TRACE.into()),
        source: None,
        ordering_key: None,
        id: None,
        context: serde_json::Value::Null,
    }
}

/// A store that can be told to fail every commit.
#[derive(Default)]
pub(crate) struct Flaky {
    inner: MemoryStore,
    pub(crate) failing: AtomicBool,
}

impl Store for Flaky {
    fn commit(&self, batch: WriteBatch) -> Commit {
        if self.failing.load(Ordering::SeqCst) {
            return Commit::ready(Err(ponte_store::Error::Backend("disk full".into())));
        }
        self.inner.commit(batch)
    }
    fn get(&self, table: &str, key: &[u8]) -> ponte_store::Result<Option<Vec<u8>>> {
        self.inner.get(table, key)
    }
    fn scan(&self, table: &str, prefix: &[u8]) -> ponte_store::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.scan(table, prefix)
    }
    fn backend(&self) -> &'static str {
        "flaky"
    }
    fn durable(&self) -> bool {
        false
    }
}

/// An outbox over a store and a manual clock, with its shutdown switch.
pub(crate) struct Harness {
    pub store: SharedStore,
    pub clock: Arc<ManualClock>,
    pub outbox: Outbox,
    shutdown: watch::Sender<bool>,
}

impl Harness {
    pub(crate) fn new() -> Self {
        Self::on(Arc::new(MemoryStore::new()), ManualClock::new(T0))
    }

    pub(crate) fn on(store: SharedStore, clock: Arc<ManualClock>) -> Self {
        let outbox = Outbox::open(store.clone(), clock.clone()).expect("open");
        let (shutdown, _) = watch::channel(false);
        Harness {
            store,
            clock,
            outbox,
            shutdown,
        }
    }

    /// A second outbox on the same store and clock, as after a restart.
    pub(crate) fn reopen(&self) -> Self {
        Self::on(self.store.clone(), self.clock.clone())
    }

    pub(crate) fn shared_clock(&self) -> SharedClock {
        self.clock.clone()
    }

    pub(crate) fn fake(&self, service: &'static str, fallback: Outcome) -> Arc<Fake> {
        let f = Fake::new(self.shared_clock(), fallback);
        self.outbox.register(service, f.clone());
        f
    }

    pub(crate) fn start(&self) {
        self.outbox.start(self.shutdown.subscribe());
    }

    pub(crate) fn stop(&self) {
        self.shutdown.send_replace(true);
    }

    pub(crate) async fn settle(&self) {
        tokio::time::timeout(Duration::from_secs(10), self.outbox.settled())
            .await
            .expect("outbox settles");
    }

    /// Moves the clock, then lets every delivery that became due run.
    pub(crate) async fn advance(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
        self.settle().await;
    }

    pub(crate) async fn submit(&self, j: NewJob) -> String {
        self.outbox.submit(vec![j]).await.expect("submit").remove(0)
    }
}
