//! Restarts, crashes during attempts, failing commits, and a real SQLite store.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use ponte_delivery::{FailureKind, Outbox, Policy};
use ponte_store::SharedStore;
use ponte_store_sqlite::SqliteStore;
use ponte_types::ManualClock;

use crate::*;

#[tokio::test]
async fn a_restart_resumes_pending_deliveries_with_their_counters() {
    let h = Harness::new();
    let t = h.fake("lambda", fail(FailureKind::Error));
    h.start();
    let id = h.submit(job(FN_ARN, "{}", Policy::lambda_async())).await;
    h.settle().await;
    assert_eq!(t.calls().len(), 1);
    h.stop();
    h.settle().await;

    let h2 = h.reopen();
    let pending = h2.outbox.pending();
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].attempts, pending[0].error_attempts), (1, 1));
    assert_eq!(pending[0].id, id);
    assert_eq!(
        pending[0].last_failure.as_ref().map(|f| f.kind),
        Some(FailureKind::Error)
    );
    assert_eq!(h2.outbox.next_attempt_at(&id), Some(T0 + 60_000));
    let t2 = h2.fake("lambda", ok());
    h2.start();
    h2.advance(59_999).await;
    assert!(t2.calls().is_empty(), "the stored retry time holds");
    h2.advance(1).await;
    let calls = t2.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0].job.attempts, calls[0].job.error_attempts), (1, 1));
    assert_eq!(h2.outbox.stats().pending, 0);
    // The first process's stopped workers attempted nothing more.
    assert_eq!(t.calls().len(), 1);
}

#[tokio::test]
async fn a_crash_during_an_attempt_attempts_again_after_restart() {
    let h = Harness::new();
    let t = h.fake("sqs", ok());
    t.hang_on("stuck");
    h.start();
    let id = h
        .submit(job(QUEUE_ARN, "stuck", Policy::lambda_async()))
        .await;
    t.wait_calls(1).await;
    // The process dies here: the attempt never reports. A new process on the same store
    // finds the delivery as it was before the attempt.
    h.stop();
    let h2 = h.reopen();
    assert_eq!(h2.outbox.pending()[0].attempts, 0);
    let t2 = h2.fake("sqs", ok());
    h2.start();
    h2.settle().await;
    assert_eq!(t2.calls()[0].job.id, id);
    assert!(
        h2.store
            .scan(ponte_delivery::TABLE, b"")
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_failed_commit_keeps_the_delivery_scheduled() {
    let flaky = Arc::new(Flaky::default());
    let store: SharedStore = flaky.clone();
    let h = Harness::on(store, ManualClock::new(T0));
    let t = h.fake("sqs", ok());
    h.start();

    // A failing staging commit: submit reports it and nothing is scheduled.
    flaky.failing.store(true, Ordering::SeqCst);
    let err = h
        .outbox
        .submit(vec![job(QUEUE_ARN, "never", Policy::lambda_async())])
        .await;
    assert!(err.is_err());
    assert_eq!(h.outbox.stats().pending, 0);

    // Staged fine, but the commit that would end it fails: delivered, yet still pending.
    flaky.failing.store(false, Ordering::SeqCst);
    let mut b = ponte_store::WriteBatch::new();
    let s = h
        .outbox
        .stage(&mut b, job(QUEUE_ARN, "again", Policy::lambda_async()));
    h.store.commit(b).await.unwrap();
    flaky.failing.store(true, Ordering::SeqCst);
    h.outbox.release([s]);
    h.settle().await;
    assert_eq!(t.calls().len(), 1);
    assert_eq!(h.outbox.stats().pending, 1);
    assert_eq!(h.store.scan(ponte_delivery::TABLE, b"").unwrap().len(), 1);
    // Once the store works again the delivery is made again (at-least-once) and ends.
    flaky.failing.store(false, Ordering::SeqCst);
    h.advance(5_000).await;
    assert_eq!(t.bodies(), ["again", "again"]);
    assert_eq!(h.outbox.stats().pending, 0);
    assert!(h.store.scan(ponte_delivery::TABLE, b"").unwrap().is_empty());
}

#[tokio::test]
async fn committed_deliveries_survive_reopening_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let (id, staged_id) = {
        let store: SharedStore = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let outbox = Outbox::open(store.clone(), clock.clone()).unwrap();
        let mut j = job(FN_ARN, r#"{"durable":true}"#, Policy::lambda_async());
        j.ordering_key = Some("k".into());
        let id = outbox.submit(vec![j]).await.unwrap().remove(0);
        // Staged in a caller's batch that commits, never released (the caller crashed).
        let mut b = ponte_store::WriteBatch::new();
        let s = outbox.stage(&mut b, job(QUEUE_ARN, "second", Policy::lambda_async()));
        store.commit(b).await.unwrap();
        (id, s.id().to_owned())
    };
    let store: SharedStore = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let h = Harness::on(store, clock);
    let pending = h.outbox.pending();
    let ids: Vec<&str> = pending.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(
        ids,
        [id.as_str(), staged_id.as_str()],
        "staging order is kept"
    );
    assert_eq!(pending[0].message.body, r#"{"durable":true}"#);
    assert_eq!(pending[0].ordering_key.as_deref(), Some("k"));
    assert_eq!(pending[0].trace_header.as_deref(), Some(TRACE));
    assert_eq!(pending[0].created_at, T0);
    let t = h.fake("lambda", ok());
    let q = h.fake("sqs", ok());
    h.start();
    h.settle().await;
    assert_eq!(t.calls().len(), 1);
    assert_eq!(q.calls().len(), 1);
    // New sequence numbers continue after the stored ones.
    let next = h
        .submit(job(QUEUE_ARN, "third", Policy::lambda_async()))
        .await;
    h.settle().await;
    assert_eq!(q.calls()[1].job.id, next);
}

#[tokio::test]
async fn a_corrupt_row_fails_the_open() {
    let store: SharedStore = Arc::new(ponte_store::MemoryStore::new());
    let mut b = ponte_store::WriteBatch::new();
    b.put(
        ponte_delivery::TABLE,
        7u64.to_be_bytes(),
        b"{not json".to_vec(),
    );
    store.commit(b).await.unwrap();
    let err = Outbox::open(store, ManualClock::new(T0)).unwrap_err();
    assert!(
        matches!(&err, ponte_delivery::Error::Corrupt { key, .. } if key == "0000000000000007"),
        "{err}"
    );
}
