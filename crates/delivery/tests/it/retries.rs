//! Retry counts and delays, maximum age, permanent failures, follow-up messages.

use std::sync::Arc;
use std::time::Duration;

use ponte_delivery::{
    Attribute, Backoff, FailureKind, FollowUp, FollowUpFormat, Policy, Stats, Target,
};
use ponte_types::SystemClock;
use serde_json::{Value, json};

use crate::*;

fn follow(target: &str, format: FollowUpFormat) -> FollowUp {
    FollowUp {
        target: target.into(),
        format,
    }
}

#[tokio::test]
async fn lambda_function_errors_retry_after_one_then_two_minutes() {
    let h = Harness::new();
    let function = h.fake("lambda", fail(FailureKind::Error));
    let sqs = h.fake("sqs", ok());
    h.start();
    let mut policy = Policy::lambda_async();
    policy.on_failure = vec![
        follow(QUEUE_ARN, FollowUpFormat::LambdaRecord),
        follow(DLQ_ARN, FollowUpFormat::LambdaDeadLetter),
    ];
    let mut j = job(FN_ARN, r#"{"order":1}"#, policy);
    j.id = Some("req-1".into());
    assert_eq!(h.submit(j).await, "req-1");
    h.settle().await;
    assert_eq!(function.calls().len(), 1);

    h.advance(59_999).await;
    assert_eq!(function.calls().len(), 1, "not before one minute");
    h.advance(1).await;
    assert_eq!(function.calls().len(), 2);
    h.advance(119_999).await;
    assert_eq!(function.calls().len(), 2, "not before two more minutes");
    h.advance(1).await;
    let calls = function.calls();
    assert_eq!(calls.len(), 3, "two retries, then it gives up");
    let at: Vec<u64> = calls.iter().map(|c| c.at - T0).collect();
    assert_eq!(at, [0, 60_000, 180_000]);
    let seen: Vec<(u32, u32)> = calls
        .iter()
        .map(|c| (c.job.attempts, c.job.error_attempts))
        .collect();
    assert_eq!(seen, [(0, 0), (1, 1), (2, 2)]);
    assert!(calls.iter().all(|c| c.job.id == "req-1"));

    // Both follow-ups went out, carrying the trace header and naming the function as source.
    let out = sqs.calls();
    assert_eq!(out.len(), 2);
    let record = out.iter().find(|c| c.job.target == QUEUE_ARN).unwrap();
    assert_eq!(
        record.job.message.body,
        concat!(
            r#"{"version":"1.0","timestamp":"2019-11-14T18:19:05.568Z","#,
            r#""requestContext":{"requestId":"req-1","#,
            r#""functionArn":"arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST","#,
            r#""condition":"RetriesExhausted","approximateInvokeCount":3},"#,
            r#""requestPayload":{"order":1},"#,
            r#""responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"#,
            r#""responsePayload":{"errorMessage":"Unhandled happened","errorType":"Error"}}"#
        )
    );
    assert_eq!(record.job.trace_header.as_deref(), Some(TRACE));
    assert_eq!(record.job.source.as_deref(), Some(FN_ARN));
    assert_eq!(
        record.job.context,
        json!({
            "source": "lambda",
            "detailType": "Lambda Function Invocation Result - Failure",
            "resources": [FN_ARN, QUEUE_ARN],
        })
    );
    assert_eq!(record.job.policy, Policy::follow_up_default());
    let dlq = out.iter().find(|c| c.job.target == DLQ_ARN).unwrap();
    assert_eq!(dlq.job.message.body, r#"{"order":1}"#);
    assert_eq!(
        dlq.job.message.attributes["RequestID"],
        Attribute::string("req-1")
    );
    assert_eq!(
        dlq.job.message.attributes["ErrorCode"],
        Attribute::number(200)
    );
    assert_eq!(
        dlq.job.message.attributes["ErrorMessage"],
        Attribute::string("Unhandled happened")
    );

    assert_eq!(
        h.outbox.stats(),
        Stats {
            pending: 0,
            attempts: 5,
            delivered: 2,
            failed: 1,
        }
    );
    assert!(h.store.scan(ponte_delivery::TABLE, b"").unwrap().is_empty());
}

#[tokio::test]
async fn throttles_retry_with_backoff_until_max_age() {
    let h = Harness::new();
    let target = h.fake("sqs", fail(FailureKind::Throttled));
    h.start();
    let mut policy = Policy::lambda_async();
    policy.max_age = Duration::from_secs(10);
    let rule = "arn:aws:events:us-east-1:000000000000:rule/orders";
    policy.on_failure = vec![follow(
        "arn:aws:sqs:us-east-1:000000000000:ebdlq",
        FollowUpFormat::EventBridgeDeadLetter {
            rule_arn: rule.into(),
        },
    )];
    h.submit(job(QUEUE_ARN, r#"{"detail":{}}"#, policy)).await;
    h.settle().await;
    for _ in 0..20 {
        h.advance(500).await;
    }
    // Retries 1 s, 2 s, 4 s later; the next (8 s later, at 15 s) would be past the 10 s age.
    let calls: Vec<_> = target
        .calls()
        .into_iter()
        .filter(|c| c.job.target == QUEUE_ARN)
        .collect();
    let at: Vec<u64> = calls.iter().map(|c| c.at - T0).collect();
    assert_eq!(at, [0, 1_000, 3_000, 7_000]);
    assert!(calls.iter().all(|c| c.job.error_attempts == 0));
    let dlq: Vec<_> = target
        .calls()
        .into_iter()
        .filter(|c| c.job.target.ends_with(":ebdlq"))
        .collect();
    // The DLQ itself is throttled too (same fake), so it is attempted more than once, but the
    // message is the same each time.
    let m = &dlq[0].job.message;
    assert_eq!(m.body, r#"{"detail":{}}"#);
    let attr = |k: &str| m.attributes[k].string_value.clone().unwrap();
    assert_eq!(attr("RULE_ARN"), rule);
    assert_eq!(attr("TARGET_ARN"), QUEUE_ARN);
    assert_eq!(attr("ERROR_CODE"), "THROTTLING");
    assert_eq!(attr("ERROR_MESSAGE"), "TooManyRequestsException happened");
    assert_eq!(
        attr("EXHAUSTED_RETRY_CONDITION"),
        "MaximumEventAgeInSeconds"
    );
    assert_eq!(attr("RETRY_ATTEMPTS"), "3");
}

#[tokio::test]
async fn permanent_failures_are_not_retried() {
    let h = Harness::new();
    let target = h.fake("sqs", fail(FailureKind::Permanent));
    let dlq = h.fake("sns", ok());
    h.start();
    let mut policy = Policy::lambda_async();
    policy.on_failure = vec![follow(
        "arn:aws:sns:us-east-1:000000000000:dlq-topic",
        FollowUpFormat::EventBridgeDeadLetter {
            rule_arn: "r".into(),
        },
    )];
    h.submit(job(QUEUE_ARN, "{}", policy)).await;
    h.settle().await;
    h.advance(3_600_000).await;
    assert_eq!(target.calls().len(), 1);
    let m = &dlq.calls()[0].job.message;
    assert_eq!(m.attributes["ERROR_CODE"], Attribute::string("NO_RESOURCE"));
    assert_eq!(m.attributes["RETRY_ATTEMPTS"], Attribute::string("0"));
    assert!(!m.attributes.contains_key("EXHAUSTED_RETRY_CONDITION"));
    assert_eq!(h.outbox.stats().failed, 1);
}

#[tokio::test]
async fn targets_are_found_by_arn_service_at_attempt_time() {
    let h = Harness::new();
    let sink = h.fake("sqs", ok());
    // Staged before any lambda target exists, as when the store is loaded at start-up.
    let mut policy = Policy::lambda_async();
    policy.on_failure = vec![follow(DLQ_ARN, FollowUpFormat::Copy)];
    let id = h.submit(job(FN_ARN, "late", policy.clone())).await;
    h.submit(job(
        "arn:aws:nope:us-east-1:000000000000:x",
        "lost",
        policy.clone(),
    ))
    .await;
    h.submit(job("not an arn", "bad", policy)).await;
    let function = h.fake("lambda", ok());
    h.start();
    h.settle().await;
    assert_eq!(function.calls()[0].job.id, id);
    // No target for `nope`, and no ARN at all: given up at once, copies in the DLQ.
    let mut copies = sink.bodies();
    copies.sort();
    assert_eq!(copies, ["bad", "lost"]);
    assert_eq!(h.outbox.stats().failed, 2);
}

#[tokio::test]
async fn success_destinations_get_the_record() {
    let h = Harness::new();
    let function = h.fake("lambda", ok_with(r#"{"result":42}"#));
    function.then(fail(FailureKind::Throttled));
    h.start();
    let mut policy = Policy::lambda_async();
    let next = "arn:aws:lambda:us-east-1:000000000000:function:next";
    policy.on_success = vec![follow(next, FollowUpFormat::LambdaRecord)];
    policy.on_failure = vec![follow(DLQ_ARN, FollowUpFormat::LambdaDeadLetter)];
    let id = h.submit(job(FN_ARN, r#"{"n":1}"#, policy)).await;
    h.settle().await;
    h.advance(1_000).await;
    let calls = function.calls();
    assert_eq!(calls.len(), 3, "throttled, delivered, then the destination");
    let record = &calls[2].job;
    assert_eq!(record.target, next);
    assert_eq!(record.context["invocationType"], json!("Event"));
    assert_eq!(
        record.context["detailType"],
        json!("Lambda Function Invocation Result - Success")
    );
    let v: Value = serde_json::from_str(&record.message.body).unwrap();
    assert_eq!(v["requestContext"]["requestId"], json!(id));
    assert_eq!(v["requestContext"]["condition"], json!("Success"));
    assert_eq!(v["requestContext"]["approximateInvokeCount"], json!(2));
    assert_eq!(v["responsePayload"], json!({"result": 42}));
    assert_eq!(v["timestamp"], json!("2019-11-14T18:16:06.568Z"));
    assert_eq!(h.outbox.stats().delivered, 2);
}

#[tokio::test]
async fn too_old_when_its_turn_comes_is_given_up_unattempted() {
    let h = Harness::new();
    let target = h.fake("sqs", ok());
    let mut policy = Policy::lambda_async();
    policy.max_age = Duration::from_secs(60);
    policy.on_failure = vec![follow(DLQ_ARN, FollowUpFormat::LambdaRecord)];
    h.submit(job(FN_ARN, "{}", policy)).await;
    // The server was down for longer than the maximum age.
    h.clock.advance(Duration::from_secs(62));
    let function = h.fake("lambda", ok());
    h.start();
    h.settle().await;
    assert!(function.calls().is_empty());
    let v: Value = serde_json::from_str(&target.calls()[0].job.message.body).unwrap();
    assert_eq!(v["requestContext"]["condition"], json!("EventAgeExceeded"));
    assert_eq!(v["requestContext"]["approximateInvokeCount"], json!(0));
    assert!(v.get("responseContext").is_none());
}

struct Panics(std::sync::atomic::AtomicU32);

impl Target for Panics {
    fn deliver<'a>(&'a self, _job: &'a Job) -> ponte_delivery::BoxFuture<'a, Outcome> {
        Box::pin(async move {
            if self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                panic!("target bug");
            }
            ok()
        })
    }
}

#[tokio::test]
async fn a_panicking_target_counts_as_unavailable() {
    let h = Harness::new();
    let t = Arc::new(Panics(Default::default()));
    h.outbox.register("sqs", t.clone());
    h.start();
    h.submit(job(QUEUE_ARN, "x", Policy::follow_up_default()))
        .await;
    h.settle().await;
    let pending = h.outbox.pending();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].last_failure.as_ref().unwrap().kind,
        FailureKind::Unavailable
    );
    h.advance(1_000).await;
    assert_eq!(h.outbox.stats().delivered, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_scale_shortens_backoff() {
    // 1000x: a 60 s backoff takes 60 ms. Unscaled, this test would time out.
    let clock = Arc::new(SystemClock::new(1000.0));
    let store: ponte_store::SharedStore = Arc::new(ponte_store::MemoryStore::new());
    let outbox = ponte_delivery::Outbox::open(store, clock.clone()).unwrap();
    let target = Fake::new(clock.clone(), ok());
    target.then(fail(FailureKind::Error));
    outbox.register("lambda", target.clone());
    let (tx, rx) = tokio::sync::watch::channel(false);
    outbox.start(rx);
    let mut policy = Policy::lambda_async();
    policy.error_backoff = Backoff::Fixed(vec![60_000]);
    outbox
        .submit(vec![job(FN_ARN, "{}", policy)])
        .await
        .unwrap();
    target.wait_calls(2).await;
    let calls = target.calls();
    assert!(
        calls[1].at - calls[0].at >= 60,
        "the scaled wait still passes"
    );
    tx.send_replace(true);
}
