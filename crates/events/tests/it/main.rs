//! EventBridge engine tests over the memory store, a manual clock and a real outbox whose
//! workers are not started, so every staged delivery can be inspected
//! ([`Outbox::pending`]): what PutEvents stages, schedules driven by the clock and durable
//! across a restart, archive, replay and retention, the bus-to-bus target, and malformed
//! input never panicking.

use std::sync::Arc;
use std::time::Duration;

use ponte_delivery::{FailureKind, Job, Message, Outbox, Outcome, Policy};
use ponte_events::Events;
use ponte_store::{MemoryStore, SharedStore};
use ponte_types::{ManualClock, RequestContext};
use serde_json::{Value, json};
use tokio::sync::watch;

const T0: u64 = 1_700_000_000_000;
const Q: &str = "arn:aws:sqs:us-east-1:000000000000:q";

struct World {
    store: SharedStore,
    clock: Arc<ManualClock>,
    outbox: Outbox,
    events: Events,
    stop: watch::Sender<bool>,
    ctx: RequestContext,
}

impl World {
    fn new() -> World {
        let store: SharedStore = Arc::new(MemoryStore::new());
        World::on(store, ManualClock::new(T0))
    }

    fn on(store: SharedStore, clock: Arc<ManualClock>) -> World {
        let outbox = Outbox::open(store.clone(), clock.clone()).expect("outbox");
        let events = Events::open(store.clone(), clock.clone(), outbox.clone()).expect("events");
        let (stop, rx) = watch::channel(false);
        events.start_background(rx);
        World {
            store,
            clock,
            outbox,
            events,
            stop,
            ctx: RequestContext::internal("http://127.0.0.1:4566"),
        }
    }

    /// Stops this instance's background tasks and opens a new one on the same store.
    async fn restart(self) -> World {
        let _ = self.stop.send(true);
        tokio::task::yield_now().await;
        World::on(self.store.clone(), self.clock.clone())
    }

    /// Lets background tasks run after a clock change, then the pending deliveries.
    async fn settle(&self) -> Vec<Job> {
        for _ in 0..20 {
            tokio::time::timeout(Duration::from_millis(10), std::future::pending::<()>())
                .await
                .ok();
        }
        self.jobs()
    }

    async fn op(&self, name: &str, input: Value) -> Value {
        self.events
            .call(&self.ctx, name, input)
            .await
            .unwrap_or_else(|e| panic!("{name} failed: {e}"))
    }

    fn jobs(&self) -> Vec<Job> {
        self.outbox.pending()
    }

    /// Waits (in real time, up to 10 s) until `n` deliveries are pending. Callers that
    /// expect fewer than `n` pay the whole wait, so they pass a small `n` only where the
    /// background task must first catch up with the clock.
    async fn wait_jobs(&self, n: usize) -> Vec<Job> {
        for _ in 0..1000 {
            let jobs = self.jobs();
            if jobs.len() >= n {
                return jobs;
            }
            tokio::time::timeout(Duration::from_millis(10), std::future::pending::<()>())
                .await
                .ok();
        }
        self.jobs()
    }
}

fn entry(detail: Value) -> Value {
    json!({"Source": "my.app", "DetailType": "Order Placed", "Detail": detail.to_string()})
}

#[tokio::test]
async fn put_events_stages_one_delivery_per_matching_target() {
    let w = World::new();
    w.op(
        "PutRule",
        json!({"Name": "orders", "EventPattern": r#"{"source": ["my.app"], "detail": {"n": [{"numeric": [">", 1]}]}}"#}),
    )
    .await;
    w.op(
        "PutTargets",
        json!({"Rule": "orders", "Targets": [
            {"Id": "q", "Arn": Q},
            {"Id": "f", "Arn": "arn:aws:sqs:us-east-1:000000000000:q.fifo", "SqsParameters": {"MessageGroupId": "g"}},
            {"Id": "l", "Arn": "arn:aws:lambda:us-east-1:000000000000:function:f", "InputPath": "$.detail"},
            {"Id": "t", "Arn": "arn:aws:sns:us-east-1:000000000000:t", "InputTransformer": {
                "InputPathsMap": {"n": "$.detail.n"}, "InputTemplate": "{\"n\": <n>, \"rule\": \"<aws.events.rule-name>\"}"}}
        ]}),
    )
    .await;
    let mut trace_ctx = w.ctx.clone();
    trace_ctx.trace_header = Some("Root=1-65a00000-000000000000000000000001".into());
    let out = w
        .events
        .call(
            &trace_ctx,
            "PutEvents",
            json!({"Entries": [entry(json!({"n": 2})), entry(json!({"n": 1})), {"Source": "x"}]}),
        )
        .await
        .unwrap();
    assert_eq!(out["FailedEntryCount"], 1);
    let id = out["Entries"][0]["EventId"].as_str().unwrap().to_owned();

    // Only the first event matches: four targets, committed before the answer.
    let jobs = w.jobs();
    assert_eq!(jobs.len(), 4, "{jobs:#?}");
    let by = |arn: &str| jobs.iter().find(|j| j.target.ends_with(arn)).unwrap();
    let event: Value = serde_json::from_str(&by(":q").message.body).unwrap();
    assert_eq!(event["id"], id.as_str());
    assert_eq!(event["account"], "000000000000");
    assert_eq!(event["time"], "2023-11-14T22:13:20Z");
    assert_eq!(event["detail"], json!({"n": 2}));
    let fifo = by(":q.fifo");
    assert_eq!(fifo.message.group_id.as_deref(), Some("g"));
    assert_eq!(fifo.message.dedup_id.as_deref(), Some(id.as_str()));
    let lambda = by("function:f");
    assert_eq!(lambda.message.body, r#"{"n":2}"#);
    assert_eq!(lambda.context["invocationType"], "Event");
    assert_eq!(by(":t").message.body, r#"{"n": 2, "rule": "orders"}"#);
    for j in &jobs {
        assert_eq!(
            j.trace_header.as_deref(),
            Some("Root=1-65a00000-000000000000000000000001")
        );
        assert_eq!(
            j.source.as_deref(),
            Some("arn:aws:events:us-east-1:000000000000:rule/orders")
        );
        assert_eq!(j.policy.max_retries, 185);
    }

    let meter = w.events.meter();
    assert_eq!(
        (
            meter.events_published,
            meter.event_chunks,
            meter.rule_matches
        ),
        (2, 2, 1)
    );
    assert_eq!(meter.deliveries.get("sqs"), Some(&2));
    assert_eq!(meter.deliveries.get("lambda"), Some(&1));
    assert_eq!(meter.deliveries.get("sns"), Some(&1));

    // A disabled rule matches nothing.
    w.op("DisableRule", json!({"Name": "orders"})).await;
    w.op("PutEvents", json!({"Entries": [entry(json!({"n": 5}))]}))
        .await;
    assert_eq!(w.jobs().len(), 4);
}

#[tokio::test]
async fn state_survives_a_restart() {
    let w = World::new();
    w.op(
        "CreateEventBus",
        json!({"Name": "b", "Tags": [{"Key": "k", "Value": "v"}]}),
    )
    .await;
    w.op(
        "PutRule",
        json!({"Name": "r", "EventBusName": "b", "EventPattern": r#"{"source": ["my.app"]}"#}),
    )
    .await;
    w.op(
        "PutTargets",
        json!({"Rule": "r", "EventBusName": "b", "Targets": [{"Id": "q", "Arn": Q}]}),
    )
    .await;
    w.op(
        "PutPermission",
        json!({"EventBusName": "b", "Action": "events:PutEvents", "Principal": "111111111111", "StatementId": "s"}),
    )
    .await;
    let bus_arn = "arn:aws:events:us-east-1:000000000000:event-bus/b";
    w.op(
        "CreateArchive",
        json!({"ArchiveName": "a", "EventSourceArn": bus_arn}),
    )
    .await;
    let mut e = entry(json!({"n": 1}));
    e["EventBusName"] = json!("b");
    w.op("PutEvents", json!({"Entries": [e.clone(), e]})).await;
    assert_eq!(w.jobs().len(), 2);

    let w = w.restart().await;
    // The outbox reloaded the two undelivered deliveries; nothing was lost or added.
    assert_eq!(w.jobs().len(), 2);
    let targets = w
        .op(
            "ListTargetsByRule",
            json!({"Rule": "r", "EventBusName": "b"}),
        )
        .await;
    assert_eq!(targets["Targets"], json!([{"Id": "q", "Arn": Q}]));
    let bus = w.op("DescribeEventBus", json!({"Name": "b"})).await;
    assert!(bus["Policy"].as_str().unwrap().contains("111111111111"));
    let tags = w
        .op("ListTagsForResource", json!({"ResourceARN": bus_arn}))
        .await;
    assert_eq!(tags["Tags"], json!([{"Key": "k", "Value": "v"}]));
    let a = w.op("DescribeArchive", json!({"ArchiveName": "a"})).await;
    assert_eq!(a["EventCount"], 2);
    assert!(a["SizeBytes"].as_u64().unwrap() > 100);
}

#[tokio::test]
async fn schedules_follow_the_clock_and_do_not_repeat_after_a_restart() {
    let w = World::new();
    w.op(
        "PutRule",
        json!({"Name": "tick", "ScheduleExpression": "rate(5 minutes)"}),
    )
    .await;
    w.op(
        "PutTargets",
        json!({"Rule": "tick", "Targets": [{"Id": "q", "Arn": Q}]}),
    )
    .await;
    assert!(w.settle().await.is_empty());

    w.clock.advance(Duration::from_secs(300));
    let jobs = w.wait_jobs(1).await;
    assert_eq!(jobs.len(), 1);
    let event: Value = serde_json::from_str(&jobs[0].message.body).unwrap();
    assert_eq!(event["source"], "aws.events");
    assert_eq!(event["detail-type"], "Scheduled Event");
    assert_eq!(
        event["resources"],
        json!(["arn:aws:events:us-east-1:000000000000:rule/tick"])
    );
    assert_eq!(event["detail"], json!({}));

    // A restart within the period does not fire again.
    let w = w.restart().await;
    w.clock.advance(Duration::from_secs(60));
    assert_eq!(w.settle().await.len(), 1);
    w.clock.advance(Duration::from_secs(240));
    assert_eq!(w.wait_jobs(2).await.len(), 2);

    // Disabled rules do not fire.
    w.op("DisableRule", json!({"Name": "tick"})).await;
    w.clock.advance(Duration::from_secs(600));
    assert_eq!(w.settle().await.len(), 2);
}

#[tokio::test]
async fn cron_schedules_fire_on_wall_time() {
    let w = World::new();
    // T0 is 2023-11-14T22:13:20Z; the next 22:15 is 100 s away.
    w.op(
        "PutRule",
        json!({"Name": "c", "ScheduleExpression": "cron(15 22 * * ? *)"}),
    )
    .await;
    w.op(
        "PutTargets",
        json!({"Rule": "c", "Targets": [{"Id": "q", "Arn": Q}]}),
    )
    .await;
    w.clock.advance(Duration::from_secs(90));
    assert_eq!(w.settle().await.len(), 0);
    w.clock.advance(Duration::from_secs(10));
    assert_eq!(w.wait_jobs(1).await.len(), 1);
    w.clock.advance(Duration::from_secs(3600));
    assert_eq!(w.settle().await.len(), 1);
}

#[tokio::test]
async fn archive_replay_and_retention() {
    let w = World::new();
    let bus_arn = "arn:aws:events:us-east-1:000000000000:event-bus/default";
    w.op(
        "CreateArchive",
        json!({"ArchiveName": "a", "EventSourceArn": bus_arn, "RetentionDays": 1,
               "EventPattern": r#"{"detail": {"keep": [true]}}"#}),
    )
    .await;
    let mut e = entry(json!({"keep": true}));
    e["Time"] = json!((T0 - 60_000) / 1000);
    w.op(
        "PutEvents",
        json!({"Entries": [e, entry(json!({"keep": false}))]}),
    )
    .await;
    let a = w.op("DescribeArchive", json!({"ArchiveName": "a"})).await;
    assert_eq!(a["EventCount"], 1);

    w.op(
        "PutRule",
        json!({"Name": "r1", "EventPattern": r#"{"source": ["my.app"]}"#}),
    )
    .await;
    w.op(
        "PutTargets",
        json!({"Rule": "r1", "Targets": [{"Id": "q", "Arn": Q}]}),
    )
    .await;
    w.op(
        "PutRule",
        json!({"Name": "r2", "EventPattern": r#"{"source": ["my.app"]}"#}),
    )
    .await;
    w.op("PutTargets", json!({"Rule": "r2", "Targets": [{"Id": "q2", "Arn": "arn:aws:sqs:us-east-1:000000000000:q2"}]}))
        .await;
    let out = w
        .op(
            "StartReplay",
            json!({"ReplayName": "rp", "EventSourceArn": a["ArchiveArn"],
                   "EventStartTime": (T0 - 120_000) / 1000, "EventEndTime": T0 / 1000,
                   "Destination": {"Arn": bus_arn, "FilterArns": ["arn:aws:events:us-east-1:000000000000:rule/r1"]}}),
        )
        .await;
    assert_eq!(out["State"], "STARTING");
    let mut state = Value::Null;
    for _ in 0..200 {
        state = w.op("DescribeReplay", json!({"ReplayName": "rp"})).await;
        if state["State"] == "COMPLETED" {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(state["State"], "COMPLETED", "{state}");
    assert_eq!(state["EventLastReplayedTime"], json!((T0 - 60_000) / 1000));
    let jobs = w.jobs();
    assert_eq!(jobs.len(), 1, "only r1 gets the replayed event");
    let replayed: Value = serde_json::from_str(&jobs[0].message.body).unwrap();
    assert_eq!(replayed["replay-name"], "rp");
    assert_eq!(jobs[0].trace_header, None);
    let a = w.op("DescribeArchive", json!({"ArchiveName": "a"})).await;
    assert_eq!(a["EventCount"], 1, "replayed events are not archived again");

    // Retention: a day (AWS time) later the sweeper removes the event.
    w.clock.advance(Duration::from_secs(86_400 + 3_600));
    let mut count = json!(1);
    for _ in 0..200 {
        count = w.op("DescribeArchive", json!({"ArchiveName": "a"})).await["EventCount"].clone();
        if count == 0 {
            break;
        }
        w.clock.advance(Duration::from_secs(3_600));
        tokio::task::yield_now().await;
    }
    assert_eq!(count, 0);
}

fn job(target: &str, body: Value, context: Value, source: Option<&str>) -> Job {
    Job {
        id: "j".into(),
        target: target.into(),
        message: Message {
            body: body.to_string(),
            ..Message::default()
        },
        policy: Policy::follow_up_default(),
        trace_header: None,
        source: source.map(str::to_owned),
        ordering_key: None,
        context,
        created_at: T0,
        attempts: 0,
        error_attempts: 0,
        last_failure: None,
    }
}

#[tokio::test]
async fn the_bus_target_forwards_events_and_wraps_payloads() {
    let w = World::new();
    w.op("CreateEventBus", json!({"Name": "dst"})).await;
    w.op("PutRule", json!({"Name": "all", "EventBusName": "dst", "EventPattern": r#"{"account": ["000000000000", "222222222222"]}"#}))
        .await;
    w.op(
        "PutTargets",
        json!({"Rule": "all", "EventBusName": "dst", "Targets": [{"Id": "q", "Arn": Q}]}),
    )
    .await;
    let dst = "arn:aws:events:us-east-1:000000000000:event-bus/dst";
    let event = json!({"version": "0", "id": "keep-me", "detail-type": "t", "source": "s",
                       "account": "000000000000", "time": "2023-11-14T22:00:00Z",
                       "region": "us-east-1", "resources": [], "detail": {"a": 1}});
    let out = w
        .events
        .deliver_to_bus(&job(dst, event, json!({}), None))
        .await;
    assert!(matches!(out, Outcome::Delivered { .. }), "{out:?}");
    let fwd: Value = serde_json::from_str(&w.jobs()[0].message.body).unwrap();
    assert_eq!(fwd["id"], "keep-me");

    // A Lambda destination's record becomes the detail of a new event.
    let out = w
        .events
        .deliver_to_bus(&job(
            dst,
            json!({"version": "1.0", "requestContext": {"condition": "Success"}}),
            json!({"source": "lambda", "detailType": "Lambda Function Invocation Result - Success"}),
            Some("arn:aws:lambda:us-east-1:000000000000:function:f"),
        ))
        .await;
    assert!(matches!(out, Outcome::Delivered { .. }));
    let wrapped: Value = serde_json::from_str(&w.jobs()[1].message.body).unwrap();
    assert_eq!(wrapped["source"], "lambda");
    assert_eq!(
        wrapped["detail-type"],
        "Lambda Function Invocation Result - Success"
    );
    assert_eq!(wrapped["detail"]["version"], "1.0");

    // Unknown buses and other accounts without a policy fail for good.
    let missing = w
        .events
        .deliver_to_bus(&job(
            "arn:aws:events:us-east-1:000000000000:event-bus/nope",
            json!({}),
            json!({}),
            None,
        ))
        .await;
    assert!(
        matches!(missing, Outcome::Failed(ref f) if f.kind == FailureKind::Permanent && f.code == "ResourceNotFoundException"),
        "{missing:?}"
    );
    let mut foreign = json!({"version": "0", "id": "x", "detail-type": "t", "source": "s",
                             "account": "222222222222", "time": "2023-11-14T22:00:00Z",
                             "region": "us-east-1", "resources": [], "detail": {}});
    let denied = w
        .events
        .deliver_to_bus(&job(dst, foreign.clone(), json!({}), None))
        .await;
    assert!(
        matches!(denied, Outcome::Failed(ref f) if f.kind == FailureKind::Permanent),
        "{denied:?}"
    );
    w.op(
        "PutPermission",
        json!({"EventBusName": "dst", "Action": "events:PutEvents", "Principal": "222222222222", "StatementId": "s"}),
    )
    .await;
    foreign["id"] = json!("y");
    let ok = w
        .events
        .deliver_to_bus(&job(dst, foreign, json!({}), None))
        .await;
    assert!(matches!(ok, Outcome::Delivered { .. }), "{ok:?}");
    assert_eq!(w.jobs().len(), 3);

    // A rule that sends the bus's events back to the bus: each forward counts a hop, and the
    // loop stops at the limit instead of circulating forever.
    w.op(
        "PutRule",
        json!({"Name": "loop", "EventBusName": "dst", "EventPattern": r#"{"source": ["loop"]}"#}),
    )
    .await;
    w.op(
        "PutTargets",
        json!({"Rule": "loop", "EventBusName": "dst", "Targets": [{"Id": "self", "Arn": dst}]}),
    )
    .await;
    let looped = json!({"version": "0", "id": "l", "detail-type": "t", "source": "loop",
                        "account": "000000000000", "time": "2023-11-14T22:00:00Z",
                        "region": "us-east-1", "resources": [], "detail": {}});
    let out = w
        .events
        .deliver_to_bus(&job(dst, looped.clone(), json!({"hops": 3}), None))
        .await;
    assert!(matches!(out, Outcome::Delivered { .. }));
    let again = w
        .jobs()
        .into_iter()
        .find(|j| j.target == dst)
        .expect("forwarded once more");
    assert_eq!(again.context["hops"], 4);
    let to_bus = |w: &World| w.jobs().iter().filter(|j| j.target == dst).count();
    let before = to_bus(&w);
    let out = w
        .events
        .deliver_to_bus(&job(dst, looped, json!({"hops": 16}), None))
        .await;
    assert!(matches!(out, Outcome::Delivered { .. }));
    assert_eq!(to_bus(&w), before, "not forwarded past the hop limit");
}

#[tokio::test]
async fn malformed_input_never_panics() {
    let w = World::new();
    let inputs = [
        json!(null),
        json!([]),
        json!(1),
        json!({}),
        json!({"Name": 5, "EventBusName": [], "Rule": {}, "Targets": "x", "Entries": {}}),
        json!({"Name": "", "Rule": "r", "Targets": [null, 1, {"Id": 1}], "Entries": [null, {"Time": "x"}]}),
        json!({"Name": "n", "EventPattern": "{", "ScheduleExpression": "cron(", "Limit": -1, "NextToken": "zz"}),
        json!({"ArchiveName": "a", "EventSourceArn": "arn:aws:events:x", "RetentionDays": "1",
               "ReplayName": "r", "EventStartTime": -5, "EventEndTime": "soon", "Destination": 3}),
        json!({"ResourceARN": "arn:aws:events:us-east-1:000000000000:rule/", "Tags": [1], "TagKeys": 2}),
        json!({"EventPattern": "{}", "Event": "{\"a\": 1e999}", "Policy": "[]", "StatementId": "s"}),
    ];
    for op in ponte_events::ops::IMPLEMENTED
        .iter()
        .chain(ponte_events::ops::NOT_IMPLEMENTED.iter())
        .chain(["Nope"].iter())
    {
        for input in &inputs {
            let _ = w.events.call(&w.ctx, op, input.clone()).await;
        }
    }
    // Still serving.
    let buses = w.op("ListEventBuses", json!({})).await;
    assert!(!buses["EventBuses"].as_array().unwrap().is_empty());
}
