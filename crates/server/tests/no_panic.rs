//! Rule 2 for every service behind the dispatcher: no operation panics, whatever its input.
//! One ephemeral server (real engines, memory store) takes arbitrary JSON inputs for every
//! operation of SNS, Lambda (their botocore models name the members), CloudWatch Logs and
//! EventBridge (a vocabulary of their member names); each call must return an output or an
//! error. SQS has its own property test in `crates/sqs`.

use std::sync::Arc;

use ponte_server::{App, Options, Server};
use ponte_types::RequestContext;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

#[derive(Debug, Clone, Copy)]
enum Svc {
    Sns,
    Lambda,
    Logs,
    Events,
}

const LOGS_EVENTS_KEYS: &[&str] = &[
    "logGroupName",
    "logStreamName",
    "logEvents",
    "filterPattern",
    "startTime",
    "endTime",
    "limit",
    "nextToken",
    "logGroupIdentifier",
    "logStreamNames",
    "logStreamNamePrefix",
    "orderBy",
    "descending",
    "startFromHead",
    "retentionInDays",
    "tags",
    "resourceArn",
    "tagKeys",
    "logGroupNamePrefix",
    "interleaved",
    "timestamp",
    "message",
    "Name",
    "EventBusName",
    "EventPattern",
    "ScheduleExpression",
    "Rule",
    "Targets",
    "Entries",
    "State",
    "ArchiveName",
    "ReplayName",
    "Destination",
    "EventSourceArn",
    "Event",
    "Principal",
    "StatementId",
    "Action",
    "Policy",
    "Tags",
    "TagKeys",
    "ResourceARN",
    "Input",
    "InputPath",
    "InputTransformer",
    "InputPathsMap",
    "InputTemplate",
    "Id",
    "Arn",
    "RetryPolicy",
    "DeadLetterConfig",
    "Ids",
    "Force",
    "NamePrefix",
    "Limit",
    "NextToken",
    "EventStartTime",
    "EventEndTime",
    "RetentionDays",
    "Description",
    "Source",
    "DetailType",
    "Detail",
    "Resources",
    "Time",
    "TraceHeader",
    "SqsParameters",
    "MessageGroupId",
    "FilterArns",
];

fn ops() -> Vec<(Svc, String, Vec<String>)> {
    let mut out = Vec::new();
    for (svc, model) in [
        (Svc::Sns, ponte_protocol::sns_model()),
        (Svc::Lambda, ponte_protocol::lambda_model()),
    ] {
        for op in model.operations() {
            let keys = op
                .input
                .as_ref()
                .and_then(|r| model.shape(&r.shape))
                .map(|s| s.members().iter().map(|m| m.name.clone()).collect())
                .unwrap_or_default();
            out.push((svc, op.name.clone(), keys));
        }
    }
    let vocab: Vec<String> = LOGS_EVENTS_KEYS.iter().map(|k| (*k).to_owned()).collect();
    for op in ponte_logs::ops::IMPLEMENTED {
        out.push((Svc::Logs, (*op).to_owned(), vocab.clone()));
    }
    for op in ponte_events::ops::IMPLEMENTED {
        out.push((Svc::Events, op.to_owned(), vocab.clone()));
    }
    out
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        prop::sample::select(vec![
            "",
            "x",
            "$LATEST",
            "arn:aws:sqs:us-east-1:000000000000:q",
            "arn:aws:lambda:us-east-1:000000000000:function:f:1",
            "arn:aws:sns:us-east-1:000000000000:t",
            "arn:aws:events:us-east-1:000000000000:event-bus/default",
            "{\"source\":[\"a\"]}",
            "{\"a\":[{\"numeric\":[\">\",1]}]}",
            "rate(1 minute)",
            "cron(0 12 * * ? *)",
            "/aws/lambda/f",
            "python3.12",
            "UEsDBA==",
            "{}",
            "[",
            "\u{0}",
        ])
        .prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::from),
    ]
}

fn value(keys: Vec<String>) -> impl Strategy<Value = Value> {
    let keys = if keys.is_empty() {
        vec!["x".to_owned()]
    } else {
        keys
    };
    scalar().prop_recursive(3, 24, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(keys.clone()), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn input(keys: Vec<String>) -> impl Strategy<Value = Value> {
    let ks = if keys.is_empty() {
        vec!["x".to_owned()]
    } else {
        keys
    };
    prop::collection::btree_map(prop::sample::select(ks.clone()), value(ks), 0..6)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// Calls one operation; true when it succeeded.
async fn call(app: &App, svc: Svc, op: &str, input: Value) -> bool {
    let ctx = RequestContext::internal("http://127.0.0.1:1");
    let out = match svc {
        Svc::Sns => app.sns.call(&ctx, op, input).await,
        Svc::Lambda => app.lambda.call(&ctx, op, input).await,
        Svc::Logs => app.logs.call(&ctx, op, input).await,
        Svc::Events => app.events.call(&ctx, op, input).await,
    };
    out.is_ok()
}

#[test]
fn no_operation_panics_on_arbitrary_input() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(Server::start(Options {
            port: 0,
            data_dir: None,
            ..Default::default()
        }))
        .unwrap();
    let app = server.app();
    let ops = Arc::new(ops());
    assert!(ops.len() > 100, "only {} operations", ops.len());
    let cases = std::env::var("PONTE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let succeeded = std::sync::atomic::AtomicUsize::new(0);
    let table = ops.clone();
    let strategy = (0..ops.len()).prop_flat_map(move |i| (Just(i), input(table[i].2.clone())));
    runner
        .run(&strategy, |(i, v)| {
            let (svc, op, _) = &ops[i];
            if rt.block_on(call(&app, *svc, op, v)) {
                succeeded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    // Every operation with an empty input, too (the listings succeed).
    for (svc, op, _) in ops.iter() {
        if rt.block_on(call(&app, *svc, op, Value::Object(Default::default()))) {
            succeeded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    // The inputs reach the engines: some calls get through validation.
    let ok = succeeded.into_inner();
    eprintln!("{ok} of {} calls succeeded", cases as usize + ops.len());
    assert!(ok > 0);
}
