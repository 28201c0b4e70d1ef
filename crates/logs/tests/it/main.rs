//! Logs engine tests over the memory store and a manual clock: the operations end to end through
//! `ops::call`, reopening from the store, retention, function output, and properties that no
//! input panics.

use std::sync::Arc;
use std::time::Duration;

use ponte_logs::Logs;
use ponte_logs::ops::call;
use ponte_store::{MemoryStore, SharedStore};
use ponte_types::{Clock, ManualClock, RequestContext};
use proptest::prelude::*;
use serde_json::{Value, json};

const T0: u64 = 1_700_000_000_000;
const DAY: u64 = 86_400_000;

fn ctx() -> RequestContext {
    RequestContext::internal("http://127.0.0.1:4566")
}

fn engine() -> (Logs, Arc<ManualClock>, SharedStore) {
    let clock = ManualClock::new(T0);
    let store: SharedStore = Arc::new(MemoryStore::new());
    let logs = Logs::open(store.clone(), clock.clone()).expect("open");
    (logs, clock, store)
}

async fn op(logs: &Logs, name: &str, input: Value) -> Value {
    call(logs, &ctx(), name, &input)
        .await
        .unwrap_or_else(|e| panic!("{name} failed: {e}"))
}

/// The error code and message of a call that must fail.
async fn fail(logs: &Logs, name: &str, input: Value) -> (String, String) {
    let e = logs
        .call(&ctx(), name, input)
        .await
        .expect_err("call should fail");
    (e.code, e.message)
}

async fn setup(logs: &Logs, group: &str, streams: &[&str]) {
    op(logs, "CreateLogGroup", json!({"logGroupName": group})).await;
    for s in streams {
        op(
            logs,
            "CreateLogStream",
            json!({"logGroupName": group, "logStreamName": s}),
        )
        .await;
    }
}

async fn put(logs: &Logs, group: &str, stream: &str, events: &[(u64, &str)]) -> Value {
    let events: Vec<Value> = events
        .iter()
        .map(|(t, m)| json!({"timestamp": t, "message": m}))
        .collect();
    op(
        logs,
        "PutLogEvents",
        json!({"logGroupName": group, "logStreamName": stream, "logEvents": events}),
    )
    .await
}

fn messages(v: &Value) -> Vec<String> {
    v["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn groups_streams_and_errors() {
    let (logs, _, _) = engine();
    op(
        &logs,
        "CreateLogGroup",
        json!({"logGroupName": "/app/a", "tags": {"env": "test"}}),
    )
    .await;
    assert_eq!(
        fail(&logs, "CreateLogGroup", json!({"logGroupName": "/app/a"})).await,
        (
            "ResourceAlreadyExistsException".into(),
            "The specified log group already exists".into()
        )
    );
    let (code, msg) = fail(&logs, "CreateLogGroup", json!({"logGroupName": "bad name"})).await;
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        msg,
        "1 validation error detected: Value 'bad name' at 'logGroupName' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
    );
    let (_, msg) = fail(
        &logs,
        "CreateLogGroup",
        json!({"logGroupName": "a".repeat(513)}),
    )
    .await;
    assert_eq!(
        msg,
        "Invalid LogGroup or LogStream, both must have length less than or equal to 512."
    );
    let (_, msg) = fail(
        &logs,
        "PutRetentionPolicy",
        json!({"logGroupName": "/app/a", "retentionInDays": 2}),
    )
    .await;
    assert!(msg.contains("Member must satisfy enum value set: [1, 3, 5, 7, 14, 30"));
    op(
        &logs,
        "PutRetentionPolicy",
        json!({"logGroupName": "/app/a", "retentionInDays": 7}),
    )
    .await;
    for name in ["/app/b", "/app/c", "/other"] {
        op(&logs, "CreateLogGroup", json!({"logGroupName": name})).await;
    }
    // Paging by two through the /app/ prefix.
    let p1 = op(
        &logs,
        "DescribeLogGroups",
        json!({"logGroupNamePrefix": "/app/", "limit": 2}),
    )
    .await;
    let g = &p1["logGroups"][0];
    assert_eq!(g["logGroupName"], "/app/a");
    assert_eq!(g["retentionInDays"], 7);
    assert_eq!(g["metricFilterCount"], 0);
    assert_eq!(g["storedBytes"], 0);
    assert_eq!(g["logGroupClass"], "STANDARD");
    assert_eq!(
        g["arn"],
        "arn:aws:logs:us-east-1:000000000000:log-group:/app/a:*"
    );
    assert_eq!(
        g["logGroupArn"],
        "arn:aws:logs:us-east-1:000000000000:log-group:/app/a"
    );
    let token = p1["nextToken"].as_str().expect("more groups").to_owned();
    let p2 = op(
        &logs,
        "DescribeLogGroups",
        json!({"logGroupNamePrefix": "/app/", "limit": 2, "nextToken": token}),
    )
    .await;
    assert_eq!(p2["logGroups"].as_array().unwrap().len(), 1);
    assert_eq!(p2["logGroups"][0]["logGroupName"], "/app/c");
    assert!(p2.get("nextToken").is_none());
    let by_pattern = op(
        &logs,
        "DescribeLogGroups",
        json!({"logGroupNamePattern": "ther"}),
    )
    .await;
    assert_eq!(by_pattern["logGroups"][0]["logGroupName"], "/other");
    assert!(by_pattern["logGroups"][0].get("storedBytes").is_none());
    assert_eq!(
        fail(
            &logs,
            "DescribeLogGroups",
            json!({"logGroupNamePattern": "a", "logGroupNamePrefix": "a"})
        )
        .await
        .1,
        "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
    );
    assert_eq!(
        fail(&logs, "DescribeLogGroups", json!({"nextToken": "garbage"}))
            .await
            .1,
        "The specified nextToken is invalid."
    );
    let listed = op(
        &logs,
        "ListLogGroups",
        json!({"logGroupNamePattern": "^/app|ther"}),
    )
    .await;
    assert_eq!(listed["logGroups"].as_array().unwrap().len(), 4);

    // Streams.
    for s in ["s1", "s2", "x1"] {
        op(
            &logs,
            "CreateLogStream",
            json!({"logGroupName": "/app/a", "logStreamName": s}),
        )
        .await;
    }
    assert_eq!(
        fail(
            &logs,
            "CreateLogStream",
            json!({"logGroupName": "/app/a", "logStreamName": "s1"})
        )
        .await
        .1,
        "The specified log stream already exists"
    );
    assert_eq!(
        fail(
            &logs,
            "CreateLogStream",
            json!({"logGroupName": "/nope", "logStreamName": "s1"})
        )
        .await,
        (
            "ResourceNotFoundException".into(),
            "The specified log group does not exist.".into()
        )
    );
    put(&logs, "/app/a", "x1", &[(T0 - 10, "old")]).await;
    put(&logs, "/app/a", "s1", &[(T0 - 5, "mid")]).await;
    let streams = op(
        &logs,
        "DescribeLogStreams",
        json!({"logGroupName": "/app/a", "logStreamNamePrefix": "s"}),
    )
    .await;
    let names: Vec<&str> = streams["logStreams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["logStreamName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["s1", "s2"]);
    let s1 = &streams["logStreams"][0];
    assert_eq!(s1["firstEventTimestamp"], T0 - 5);
    assert_eq!(s1["lastEventTimestamp"], T0 - 5);
    assert_eq!(s1["lastIngestionTime"], T0);
    assert!(s1["uploadSequenceToken"].is_string());
    assert_eq!(
        s1["arn"],
        "arn:aws:logs:us-east-1:000000000000:log-group:/app/a:log-stream:s1"
    );
    assert!(
        streams["logStreams"][1]
            .get("firstEventTimestamp")
            .is_none()
    );
    // By last event time, newest first, one per page.
    let mut order = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"logGroupIdentifier": "/app/a", "orderBy": "LastEventTime",
            "descending": true, "limit": 1});
        if let Some(t) = &token {
            input["nextToken"] = json!(t);
        }
        let page = op(&logs, "DescribeLogStreams", input).await;
        for s in page["logStreams"].as_array().unwrap() {
            order.push(s["logStreamName"].as_str().unwrap().to_owned());
        }
        match page.get("nextToken") {
            Some(t) => token = Some(t.as_str().unwrap().to_owned()),
            None => break,
        }
    }
    assert_eq!(order, ["s1", "x1", "s2"]);
    assert_eq!(
        fail(
            &logs,
            "DescribeLogStreams",
            json!({"logGroupName": "/app/a", "orderBy": "LastEventTime", "logStreamNamePrefix": "s"})
        )
        .await
        .1,
        "Cannot order by LastEventTime with a logStreamNamePrefix."
    );
    assert_eq!(
        fail(
            &logs,
            "DescribeLogStreams",
            json!({"logGroupName": "/app/a", "logGroupIdentifier": "/app/a"})
        )
        .await,
        (
            "ValidationException".into(),
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.".into()
        )
    );
    op(
        &logs,
        "DeleteLogStream",
        json!({"logGroupName": "/app/a", "logStreamName": "x1"}),
    )
    .await;
    assert_eq!(
        fail(
            &logs,
            "DeleteLogStream",
            json!({"logGroupName": "/app/a", "logStreamName": "x1"})
        )
        .await
        .1,
        "The specified log stream does not exist."
    );
    // Tags through both APIs.
    let arn = "arn:aws:logs:us-east-1:000000000000:log-group:/app/a";
    op(
        &logs,
        "TagResource",
        json!({"resourceArn": arn, "tags": {"t1": "v1"}}),
    )
    .await;
    op(
        &logs,
        "TagLogGroup",
        json!({"logGroupName": "/app/a", "tags": {"t2": "v2"}}),
    )
    .await;
    op(
        &logs,
        "UntagLogGroup",
        json!({"logGroupName": "/app/a", "tags": ["env"]}),
    )
    .await;
    assert_eq!(
        op(&logs, "ListTagsForResource", json!({"resourceArn": arn})).await["tags"],
        json!({"t1": "v1", "t2": "v2"})
    );
    op(
        &logs,
        "UntagResource",
        json!({"resourceArn": arn, "tagKeys": ["t1"]}),
    )
    .await;
    assert_eq!(
        op(&logs, "ListTagsLogGroup", json!({"logGroupName": "/app/a"})).await["tags"],
        json!({"t2": "v2"})
    );
    // Deletion protection blocks deletes until lifted.
    op(
        &logs,
        "PutLogGroupDeletionProtection",
        json!({"logGroupIdentifier": arn, "deletionProtectionEnabled": true}),
    )
    .await;
    assert_eq!(
        fail(&logs, "DeleteLogGroup", json!({"logGroupName": "/app/a"}))
            .await
            .0,
        "ValidationException"
    );
    op(
        &logs,
        "PutLogGroupDeletionProtection",
        json!({"logGroupIdentifier": "/app/a", "deletionProtectionEnabled": false}),
    )
    .await;
    op(&logs, "DeleteLogGroup", json!({"logGroupName": "/app/a"})).await;
    assert_eq!(
        fail(&logs, "DeleteLogGroup", json!({"logGroupName": "/app/a"}))
            .await
            .1,
        "The specified log group does not exist."
    );
    assert_eq!(
        fail(&logs, "PutMetricFilter", json!({})).await.0,
        "NotImplemented"
    );
    assert_eq!(
        fail(&logs, "Bogus", json!({})).await.0,
        "UnknownOperationException"
    );
}

#[tokio::test]
async fn put_and_get_log_events_with_tokens() {
    let (logs, clock, _) = engine();
    setup(&logs, "g", &["s"]).await;
    let now = clock.now();
    let events: Vec<(u64, String)> = (0..10).map(|i| (now - 1000 + i, format!("m{i}"))).collect();
    let refs: Vec<(u64, &str)> = events.iter().map(|(t, m)| (*t, m.as_str())).collect();
    let out = put(&logs, "g", "s", &refs).await;
    assert_eq!(out["nextSequenceToken"].as_str().unwrap().len(), 56);
    assert!(out.get("rejectedLogEventsInfo").is_none());

    // Default: the newest `limit` events.
    let tail = op(
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "limit": 3}),
    )
    .await;
    assert_eq!(messages(&tail), ["m7", "m8", "m9"]);
    assert_eq!(tail["events"][0]["ingestionTime"], now);
    let fwd = tail["nextForwardToken"].as_str().unwrap().to_owned();
    assert!(fwd.starts_with("f/"));
    // Polling forward at the end returns nothing and the same token.
    let poll = op(
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "nextToken": fwd, "startFromHead": true}),
    )
    .await;
    assert!(messages(&poll).is_empty());
    assert_eq!(poll["nextForwardToken"], json!(fwd));
    // Walking backwards from the tail.
    let back = op(
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "limit": 3,
            "nextToken": tail["nextBackwardToken"]}),
    )
    .await;
    assert_eq!(messages(&back), ["m4", "m5", "m6"]);
    // From the head, forward, through the whole stream.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut input =
            json!({"logGroupName": "g", "logStreamName": "s", "limit": 4, "startFromHead": true});
        if let Some(t) = &token {
            input["nextToken"] = json!(t);
        }
        let page = op(&logs, "GetLogEvents", input).await;
        let next = page["nextForwardToken"].as_str().unwrap().to_owned();
        let got = messages(&page);
        if got.is_empty() {
            assert_eq!(Some(&next), token.as_ref());
            break;
        }
        seen.extend(got);
        token = Some(next);
    }
    assert_eq!(seen.len(), 10);
    // New events show up on the next forward poll.
    put(&logs, "g", "s", &[(now, "new")]).await;
    let poll = op(
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "nextToken": fwd, "startFromHead": true}),
    )
    .await;
    assert_eq!(messages(&poll), ["new"]);
    // Time window [start, end).
    let window = op(
        &logs,
        "GetLogEvents",
        json!({"logGroupIdentifier": "arn:aws:logs:us-east-1:000000000000:log-group:g",
            "logStreamName": "s", "startTime": now - 998, "endTime": now - 995,
            "startFromHead": true}),
    )
    .await;
    assert_eq!(messages(&window), ["m2", "m3", "m4"]);
    // Out-of-order batches interleave by timestamp.
    put(&logs, "g", "s", &[(now - 2000, "older")]).await;
    let head = op(
        &logs,
        "GetLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "limit": 1, "startFromHead": true}),
    )
    .await;
    assert_eq!(messages(&head), ["older"]);

    // Errors.
    let get = |token: &str| json!({"logGroupName": "g", "logStreamName": "s", "nextToken": token});
    assert_eq!(
        fail(&logs, "GetLogEvents", get("invalid-token")).await.1,
        "The specified nextToken is invalid."
    );
    assert_eq!(
        fail(
            &logs,
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "s", "limit": 10001})
        )
        .await
        .1,
        "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: \
         Member must have value less than or equal to 10000"
    );
    assert_eq!(
        fail(
            &logs,
            "GetLogEvents",
            json!({"logGroupName": "g", "logStreamName": "nope"})
        )
        .await
        .1,
        "The specified log stream does not exist."
    );
    let wrong_order = json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [
        {"timestamp": now, "message": "a"}, {"timestamp": now - 1, "message": "b"}]});
    assert_eq!(
        fail(&logs, "PutLogEvents", wrong_order).await.1,
        "Log events in a single PutLogEvents request must be in chronological order."
    );
    let empty = json!({"logGroupName": "g", "logStreamName": "s", "logEvents": [
        {"timestamp": now, "message": ""}]});
    assert_eq!(
        fail(&logs, "PutLogEvents", empty).await.1,
        "1 validation error detected: Value '' at 'logEvents.1.member.message' failed to \
         satisfy constraint: Member must have length greater than or equal to 1"
    );
    // Too old and too new are rejected, the rest stored.
    let out = put(
        &logs,
        "g",
        "s",
        &[
            (now - 30 * DAY, "ancient"),
            (now, "fine"),
            (now + DAY, "future"),
        ],
    )
    .await;
    assert_eq!(
        out["rejectedLogEventsInfo"],
        json!({"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 2})
    );
    let all = op(
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "g", "filterPattern": "\"fine\""}),
    )
    .await;
    assert_eq!(messages(&all), ["fine"]);
    let none = op(
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "g", "filterPattern": "?ancient ?future"}),
    )
    .await;
    assert!(messages(&none).is_empty());
}

#[tokio::test]
async fn filter_log_events_interleaves_and_pages() {
    let (logs, clock, _) = engine();
    setup(&logs, "g", &["a", "b", "c"]).await;
    let now = clock.now();
    put(
        &logs,
        "g",
        "a",
        &[
            (now - 50, r#"{"level":"ERROR","latency":250}"#),
            (now - 30, "ERROR disk full"),
            (now - 10, r#"{"level":"INFO","latency":5}"#),
        ],
    )
    .await;
    put(
        &logs,
        "g",
        "b",
        &[
            (now - 40, "WARN slow"),
            (now - 20, "ERROR timeout"),
            (now - 10, "INFO ok"),
        ],
    )
    .await;
    put(&logs, "g", "c", &[(now - 45, "ERROR other stream")]).await;

    let all = op(&logs, "FilterLogEvents", json!({"logGroupName": "g"})).await;
    let got: Vec<(String, String)> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["logStreamName"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(got.len(), 7);
    assert_eq!(got[0].0, "a");
    assert_eq!(got[1], ("c".into(), "ERROR other stream".into()));
    assert_eq!(got[2], ("b".into(), "WARN slow".into()));
    // Equal timestamps keep arrival order: a's batch came before b's.
    assert_eq!(got[5].0, "a");
    assert_eq!(got[6].0, "b");
    let ids: std::collections::HashSet<&str> = all["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 7);
    assert_eq!(all["searchedLogStreams"].as_array().unwrap().len(), 3);
    assert!(all.get("nextToken").is_none());

    let errors = op(
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "g", "filterPattern": "ERROR -disk"}),
    )
    .await;
    assert_eq!(
        messages(&errors),
        [
            r#"{"level":"ERROR","latency":250}"#,
            "ERROR other stream",
            "ERROR timeout"
        ]
    );
    let json_errors = op(
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "g", "filterPattern": "{ $.level = \"ERROR\" || $.latency > 100 }"}),
    )
    .await;
    assert_eq!(messages(&json_errors).len(), 1);
    let in_b = op(
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "g", "logStreamNames": ["b"], "startTime": now - 20, "endTime": now - 10}),
    )
    .await;
    assert_eq!(messages(&in_b), ["ERROR timeout", "INFO ok"]);
    let prefixed = op(
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "g", "logStreamNamePrefix": "c"}),
    )
    .await;
    assert_eq!(messages(&prefixed), ["ERROR other stream"]);

    // Pages of two cover everything exactly once.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"logGroupName": "g", "limit": 2});
        if let Some(t) = &token {
            input["nextToken"] = json!(t);
        }
        let page = op(&logs, "FilterLogEvents", input).await;
        seen.extend(messages(&page));
        match page.get("nextToken") {
            Some(t) => token = Some(t.as_str().unwrap().to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, messages(&all));

    let (code, msg) = fail(
        &logs,
        "FilterLogEvents",
        json!({"logGroupName": "g", "filterPattern": "{ $.level = "}),
    )
    .await;
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        msg,
        "If a filter pattern starts with '{' it must end with '}'"
    );
    assert_eq!(
        fail(
            &logs,
            "FilterLogEvents",
            json!({"logGroupName": "g", "nextToken": "nope"})
        )
        .await
        .1,
        "The specified nextToken is invalid."
    );
    assert_eq!(
        fail(
            &logs,
            "FilterLogEvents",
            json!({"logGroupName": "g", "logStreamNames": ["a"], "logStreamNamePrefix": "a"})
        )
        .await
        .0,
        "InvalidParameterException"
    );
    let tested = op(
        &logs,
        "TestMetricFilter",
        json!({"filterPattern": "[level, ..., code = 5*]",
            "logEventMessages": ["ERROR x 500", "INFO y 200"]}),
    )
    .await;
    assert_eq!(
        tested["matches"],
        json!([{"eventNumber": 1, "eventMessage": "ERROR x 500",
            "extractedValues": {"$level": "ERROR", "$code": "500"}}])
    );
}

#[tokio::test]
async fn state_survives_reopen() {
    let (logs, clock, store) = engine();
    op(
        &logs,
        "CreateLogGroup",
        json!({"logGroupName": "g", "tags": {"k": "v"}, "logGroupClass": "INFREQUENT_ACCESS"}),
    )
    .await;
    op(
        &logs,
        "CreateLogStream",
        json!({"logGroupName": "g", "logStreamName": "s"}),
    )
    .await;
    let now = clock.now();
    // Out of order across batches, so the reload has to sort.
    put(&logs, "g", "s", &[(now - 5, "two")]).await;
    put(&logs, "g", "s", &[(now - 9, "one")]).await;
    logs.append(
        "000000000000",
        "us-east-1",
        "/aws/lambda/f",
        "2024/01/01/[$LATEST]x",
        vec![
            (now, "START".into()),
            (now, String::new()),
            (now + 1, "END".into()),
        ],
    );
    let before = op(&logs, "FilterLogEvents", json!({"logGroupName": "g"})).await;
    let streams_before = op(&logs, "DescribeLogStreams", json!({"logGroupName": "g"})).await;

    let reopened = Logs::open(store.clone(), clock.clone()).expect("reopen");
    let after = op(&reopened, "FilterLogEvents", json!({"logGroupName": "g"})).await;
    assert_eq!(after, before);
    assert_eq!(messages(&after), ["one", "two"]);
    assert_eq!(
        op(
            &reopened,
            "DescribeLogStreams",
            json!({"logGroupName": "g"})
        )
        .await,
        streams_before
    );
    let g = op(
        &reopened,
        "DescribeLogGroups",
        json!({"logGroupNamePrefix": "g"}),
    )
    .await;
    assert_eq!(g["logGroups"][0]["logGroupClass"], "INFREQUENT_ACCESS");
    assert_eq!(g["logGroups"][0]["storedBytes"], 6);
    assert_eq!(
        op(&reopened, "ListTagsLogGroup", json!({"logGroupName": "g"})).await["tags"],
        json!({"k": "v"})
    );
    let lambda = op(
        &reopened,
        "GetLogEvents",
        json!({"logGroupName": "/aws/lambda/f", "logStreamName": "2024/01/01/[$LATEST]x",
            "startFromHead": true}),
    )
    .await;
    assert_eq!(messages(&lambda), ["START", "END"]);
    // New ids continue after the loaded ones: new events never collide with old ids.
    op(
        &reopened,
        "CreateLogStream",
        json!({"logGroupName": "g", "logStreamName": "s2"}),
    )
    .await;
    put(&reopened, "g", "s2", &[(now - 7, "three")]).await;
    let all = op(&reopened, "FilterLogEvents", json!({"logGroupName": "g"})).await;
    assert_eq!(messages(&all), ["one", "three", "two"]);
    let again = Logs::open(store, clock).expect("reopen twice");
    assert_eq!(
        op(&again, "FilterLogEvents", json!({"logGroupName": "g"})).await,
        all
    );
}

#[tokio::test]
async fn retention_expires_events() {
    let (logs, clock, store) = engine();
    setup(&logs, "g", &["s"]).await;
    setup(&logs, "keep", &["s"]).await;
    op(
        &logs,
        "PutRetentionPolicy",
        json!({"logGroupName": "g", "retentionInDays": 1}),
    )
    .await;
    let now = clock.now();
    put(
        &logs,
        "g",
        "s",
        &[(now - 3_600_000, "older"), (now, "newer")],
    )
    .await;
    put(&logs, "keep", "s", &[(now, "forever")]).await;
    // Events already past the retention are rejected as expired.
    let out = put(&logs, "g", "s", &[(now - 2 * DAY, "expired"), (now, "ok")]).await;
    assert_eq!(
        out["rejectedLogEventsInfo"],
        json!({"expiredLogEventEndIndex": 1})
    );
    clock.advance(Duration::from_millis(DAY - 1_800_000));
    // Reads hide expired events before the sweep deletes them.
    let visible = op(&logs, "FilterLogEvents", json!({"logGroupName": "g"})).await;
    assert_eq!(messages(&visible), ["newer", "ok"]);
    assert_eq!(logs.sweep().await.unwrap(), 1);
    let left = op(&logs, "FilterLogEvents", json!({"logGroupName": "g"})).await;
    assert_eq!(messages(&left), ["newer", "ok"]);
    clock.advance(Duration::from_millis(DAY));
    assert_eq!(logs.sweep().await.unwrap(), 2);
    assert!(messages(&op(&logs, "FilterLogEvents", json!({"logGroupName": "g"})).await).is_empty());
    let g = op(&logs, "DescribeLogGroups", json!({})).await;
    assert_eq!(g["logGroups"][0]["storedBytes"], 0);
    assert_eq!(g["logGroups"][1]["storedBytes"], 7);
    // The deletions are durable too, and the stream keeps its times.
    let reopened = Logs::open(store, clock).expect("reopen");
    assert!(
        messages(&op(&reopened, "FilterLogEvents", json!({"logGroupName": "g"})).await).is_empty()
    );
    let s = op(
        &reopened,
        "DescribeLogStreams",
        json!({"logGroupName": "g"}),
    )
    .await;
    assert_eq!(s["logStreams"][0]["lastEventTimestamp"], now);
}

#[tokio::test]
async fn accounts_and_regions_are_separate() {
    let (logs, _, _) = engine();
    setup(&logs, "shared-name", &[]).await;
    let mut other = ctx();
    other.account = "111111111111".into();
    assert!(
        logs.call(&other, "DescribeLogGroups", json!({}))
            .await
            .unwrap()["logGroups"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    logs.call(
        &other,
        "CreateLogGroup",
        json!({"logGroupName": "shared-name"}),
    )
    .await
    .expect("same name in another account");
    let mut west = ctx();
    west.region = "eu-west-1".into();
    let e = logs
        .call(
            &west,
            "CreateLogStream",
            json!({"logGroupName": "shared-name", "logStreamName": "s"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "ResourceNotFoundException");
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[ -~]{0,12}".prop_map(Value::String),
        Just(json!("g")),
        Just(json!("s")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("logGroupName".to_owned()),
                    Just("logStreamName".to_owned()),
                    Just("logEvents".to_owned()),
                    Just("timestamp".to_owned()),
                    Just("message".to_owned()),
                    Just("limit".to_owned()),
                    Just("nextToken".to_owned()),
                    Just("filterPattern".to_owned()),
                    Just("tags".to_owned()),
                    "[a-zA-Z]{1,8}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn no_input_panics(op_index in 0usize..20, input in arb_json()) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let (logs, _, _) = engine();
            setup(&logs, "g", &["s"]).await;
            let op = ponte_logs::ops::IMPLEMENTED[op_index % ponte_logs::ops::IMPLEMENTED.len()];
            let _ = logs.call(&ctx(), op, input).await;
        });
    }

    #[test]
    fn patterns_never_panic(pattern in "[ -~]{0,40}", message in "[ -~]{0,40}") {
        if let Ok(p) = ponte_logs::model::pattern::FilterPattern::parse(&pattern) {
            let _ = p.matches(&message);
            let _ = p.extract(&message);
        }
    }
}
