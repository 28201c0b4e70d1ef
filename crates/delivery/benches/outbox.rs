//! Outbox throughput: concurrent callers each submit one delivery (one staging commit), the
//! workers deliver it to a no-op target and commit its end (one more commit). Reported as
//! deliveries per second, over the memory store and over SQLite (durable, group commit).
//! Run: `cargo bench -p ponte-delivery --bench outbox`.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ponte_delivery::{BoxFuture, Job, Message, NewJob, Outbox, Outcome, Policy, Target};
use ponte_store::{MemoryStore, SharedStore};
use ponte_store_sqlite::SqliteStore;
use ponte_types::SystemClock;

const JOBS: u64 = 2_000;

struct Noop(AtomicU64);

impl Target for Noop {
    fn deliver<'a>(&'a self, _job: &'a Job) -> BoxFuture<'a, Outcome> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Box::pin(async {
            Outcome::Delivered {
                status_code: 200,
                response: None,
                executed_version: None,
            }
        })
    }
}

async fn run(store: SharedStore) -> Duration {
    let outbox = Outbox::open(store, Arc::new(SystemClock::new(1.0))).expect("open");
    outbox.register("sqs", Arc::new(Noop(AtomicU64::new(0))));
    let (tx, rx) = tokio::sync::watch::channel(false);
    outbox.start(rx);
    let start = Instant::now();
    let callers: Vec<_> = (0..JOBS)
        .map(|i| {
            let outbox = outbox.clone();
            tokio::spawn(async move {
                let job = NewJob {
                    target: "arn:aws:sqs:us-east-1:000000000000:q".into(),
                    message: Message {
                        body: format!("{{\"n\":{i}}}"),
                        ..Message::default()
                    },
                    policy: Policy::lambda_async(),
                    trace_header: None,
                    source: None,
                    ordering_key: None,
                    id: None,
                    context: serde_json::Value::Null,
                };
                outbox.submit(vec![job]).await.expect("submit");
            })
        })
        .collect();
    for c in callers {
        c.await.expect("caller");
    }
    while outbox.stats().delivered < JOBS {
        outbox.settled().await;
        tokio::task::yield_now().await;
    }
    let took = start.elapsed();
    tx.send_replace(true);
    took
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("outbox_submit_deliver");
    g.throughput(Throughput::Elements(JOBS));
    g.sample_size(10);
    g.bench_function("memory", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| rt.block_on(run(Arc::new(MemoryStore::new()))))
                .sum()
        })
    });
    g.bench_function("sqlite", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let store: SharedStore =
                        Arc::new(SqliteStore::open(dir.path()).expect("sqlite"));
                    rt.block_on(run(store))
                })
                .sum()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
