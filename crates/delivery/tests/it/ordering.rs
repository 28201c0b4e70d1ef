//! Ordering keys, release order, concurrency.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ponte_delivery::{FailureKind, Policy, Target};
use ponte_store::WriteBatch;

use crate::*;

fn keyed(body: &str, key: &str) -> NewJob {
    let mut j = job(QUEUE_ARN, body, Policy::lambda_async());
    j.ordering_key = Some(key.into());
    j
}

#[tokio::test]
async fn same_key_runs_one_at_a_time_in_staging_order() {
    let h = Harness::new();
    let t = h.fake("sqs", ok());
    // The first delivery fails once with an error (retried a minute later).
    t.then(fail(FailureKind::Error));
    h.start();
    let ids = h
        .outbox
        .submit(vec![
            keyed("a1", "g"),
            keyed("a2", "g"),
            keyed("b1", "other"),
            keyed("a3", "g"),
        ])
        .await
        .unwrap();
    assert_eq!(ids.len(), 4);
    h.settle().await;
    // b1 is not held up by g's failure; a2 and a3 are.
    let mut first = t.bodies();
    first.sort();
    assert_eq!(first, ["a1", "b1"]);
    h.advance(59_999).await;
    assert_eq!(t.calls().len(), 2);
    h.advance(1).await;
    let bodies = t.bodies();
    assert_eq!(&bodies[2..], ["a1", "a2", "a3"]);
    assert_eq!(h.outbox.stats().delivered, 4);
}

#[tokio::test]
async fn release_order_does_not_reorder_a_lane() {
    let h = Harness::new();
    let t = h.fake("sqs", ok());
    h.start();
    // Two callers stage under their own locks, then release in the other order.
    let mut b1 = WriteBatch::new();
    let first = h.outbox.stage(&mut b1, keyed("first", "g"));
    let mut b2 = WriteBatch::new();
    let second = h.outbox.stage(&mut b2, keyed("second", "g"));
    h.store.commit(b1).await.unwrap();
    h.store.commit(b2).await.unwrap();
    h.outbox.release([second]);
    h.settle().await;
    assert!(t.calls().is_empty(), "second waits for first");
    h.outbox.release([first]);
    h.settle().await;
    assert_eq!(t.bodies(), ["first", "second"]);
}

#[tokio::test]
async fn a_staged_delivery_dropped_unreleased_frees_its_lane() {
    let h = Harness::new();
    let t = h.fake("sqs", ok());
    h.start();
    let mut failed_batch = WriteBatch::new();
    let lost = h.outbox.stage(&mut failed_batch, keyed("lost", "g"));
    let mut b = WriteBatch::new();
    let kept = h.outbox.stage(&mut b, keyed("kept", "g"));
    h.store.commit(b).await.unwrap();
    h.outbox.release([kept]);
    h.settle().await;
    assert!(t.calls().is_empty());
    // The first batch failed: its caller drops what it staged.
    drop(lost);
    h.settle().await;
    assert_eq!(t.bodies(), ["kept"]);
}

#[tokio::test]
async fn staged_but_unreleased_is_not_attempted() {
    let h = Harness::new();
    let t = h.fake("sqs", ok());
    h.start();
    let mut b = WriteBatch::new();
    let staged = h
        .outbox
        .stage(&mut b, job(QUEUE_ARN, "held", Policy::lambda_async()));
    h.store.commit(b).await.unwrap();
    h.advance(60_000).await;
    assert!(t.calls().is_empty());
    assert_eq!(h.outbox.stats().pending, 0);
    // It is durable all the same: a restart (the caller crashed before releasing) runs it.
    let id = staged.id().to_owned();
    let h2 = h.reopen();
    let t2 = h2.fake("sqs", ok());
    h2.start();
    h2.settle().await;
    assert_eq!(t2.calls()[0].job.id, id);
    h.stop();
}

/// Counts the attempts running at once.
struct Gate {
    now: AtomicUsize,
    max: AtomicUsize,
    done: AtomicUsize,
}

impl Target for Gate {
    fn deliver<'a>(&'a self, _job: &'a Job) -> ponte_delivery::BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.max.fetch_max(n, Ordering::SeqCst);
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            self.done.fetch_add(1, Ordering::SeqCst);
            ok()
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_deliveries_run_concurrently_within_the_bound() {
    let h = Harness::new();
    let gate = Arc::new(Gate {
        now: AtomicUsize::new(0),
        max: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
    });
    h.outbox.register("sqs", gate.clone());
    h.start();
    let jobs = (0..2_000)
        .map(|i| job(QUEUE_ARN, &i.to_string(), Policy::lambda_async()))
        .collect();
    let ids = h.outbox.submit(jobs).await.unwrap();
    assert_eq!(ids.len(), 2_000);
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 2_000);
    h.settle().await;
    assert_eq!(gate.done.load(Ordering::SeqCst), 2_000);
    assert!(gate.max.load(Ordering::SeqCst) <= ponte_delivery::MAX_CONCURRENT_ATTEMPTS);
    assert_eq!(h.outbox.stats().delivered, 2_000);
    assert_eq!(h.outbox.stats().pending, 0);
}
