//! Engine tests over the memory store and a manual clock: the control plane end to end through
//! `Lambda::call`, durability across reopening, and async invocations staged in the outbox.
//! Functions are not run here (the compat suite runs them); these cover state and errors.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use ponte_lambda::{Deps, Lambda};
use ponte_store::{MemoryStore, SharedStore};
use ponte_types::{ManualClock, RequestContext, SharedClock};
use serde_json::{Value, json};
use tokio::sync::watch;

const ROLE: &str = "arn:aws:iam::000000000000:role/r";

fn zip() -> String {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .unix_permissions(0o644);
        w.start_file("app.py", opts).unwrap();
        w.write_all(b"def handler(e, c):\n    return e\n").unwrap();
        w.finish().unwrap();
    }
    base64::engine::general_purpose::STANDARD.encode(buf.into_inner())
}

struct Env {
    store: SharedStore,
    clock: SharedClock,
    code: tempfile::TempDir,
    _shutdown: watch::Sender<bool>,
}

impl Env {
    fn new() -> Self {
        Env {
            store: Arc::new(MemoryStore::new()),
            clock: ManualClock::new(1_700_000_000_000),
            code: tempfile::tempdir().unwrap(),
            _shutdown: watch::channel(false).0,
        }
    }

    async fn open(&self) -> Lambda {
        let outbox = ponte_delivery::Outbox::open(self.store.clone(), self.clock.clone()).unwrap();
        let logs = ponte_logs::Logs::open(self.store.clone(), self.clock.clone()).unwrap();
        let sqs = ponte_sqs::Sqs::open(self.store.clone(), self.clock.clone()).unwrap();
        let runtime = ponte_runtime::Runtime::start(
            self.clock.clone(),
            ponte_runtime::Options {
                endpoint_url: "http://127.0.0.1:1".into(),
                idle_timeout: Duration::from_secs(60),
                work_dir: self.code.path().join("run"),
            },
            ponte_lambda::log_sink(logs.clone()),
            self._shutdown.subscribe(),
        )
        .await
        .unwrap();
        Lambda::open(Deps {
            store: self.store.clone(),
            clock: self.clock.clone(),
            outbox,
            runtime,
            logs,
            sqs,
            code_dir: self.code.path().join("code"),
        })
        .unwrap()
    }
}

fn ctx() -> RequestContext {
    RequestContext::internal("http://localhost:4566")
}

async fn call(l: &Lambda, op: &str, input: Value) -> Value {
    match l.call(&ctx(), op, input).await {
        Ok(v) => v,
        Err(e) => panic!("{op}: {e}"),
    }
}

async fn fail(l: &Lambda, op: &str, input: Value) -> (String, String) {
    let e = l.call(&ctx(), op, input).await.expect_err(op);
    (e.code, e.message)
}

#[tokio::test]
async fn control_plane_survives_reopen() {
    let env = Env::new();
    let l = env.open().await;
    let created = call(
        &l,
        "CreateFunction",
        json!({"FunctionName": "f", "Runtime": "python3.12", "Handler": "app.handler",
               "Role": ROLE, "Code": {"ZipFile": zip()}, "Publish": true,
               "Tags": {"k": "v"}}),
    )
    .await;
    assert_eq!(created["Version"], "1");
    assert_eq!(created["State"], "Pending");
    call(
        &l,
        "CreateAlias",
        json!({"FunctionName": "f", "Name": "live", "FunctionVersion": "1"}),
    )
    .await;
    call(
        &l,
        "PutFunctionConcurrency",
        json!({"FunctionName": "f", "ReservedConcurrentExecutions": 3}),
    )
    .await;
    call(
        &l,
        "PutFunctionEventInvokeConfig",
        json!({"FunctionName": "f", "Qualifier": "live", "MaximumRetryAttempts": 0}),
    )
    .await;
    call(
        &l,
        "AddPermission",
        json!({"FunctionName": "f", "StatementId": "s1", "Action": "lambda:InvokeFunction",
               "Principal": "events.amazonaws.com"}),
    )
    .await;
    let before = call(&l, "GetFunction", json!({"FunctionName": "f"})).await;
    drop(l);

    // A second engine over the same store sees everything.
    let l = env.open().await;
    let after = call(&l, "GetFunction", json!({"FunctionName": "f"})).await;
    assert_eq!(before["Configuration"], after["Configuration"]);
    assert_eq!(after["Tags"], json!({"k": "v"}));
    assert_eq!(after["Concurrency"]["ReservedConcurrentExecutions"], 3);
    let alias = call(&l, "GetAlias", json!({"FunctionName": "f", "Name": "live"})).await;
    assert_eq!(alias["FunctionVersion"], "1");
    let eic = call(
        &l,
        "GetFunctionEventInvokeConfig",
        json!({"FunctionName": "f", "Qualifier": "live"}),
    )
    .await;
    assert_eq!(eic["MaximumRetryAttempts"], 0);
    let policy = call(&l, "GetPolicy", json!({"FunctionName": "f"})).await;
    assert!(policy["Policy"].as_str().unwrap().contains("\"s1\""));

    // Deleting removes the function and its package rows.
    call(&l, "DeleteFunction", json!({"FunctionName": "f"})).await;
    assert_eq!(env.store.scan("lambda_code", b"").unwrap().len(), 0);
    assert_eq!(env.store.scan("lambda_function", b"").unwrap().len(), 0);
    let (code, msg) = fail(&l, "GetFunction", json!({"FunctionName": "f"})).await;
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        msg,
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:f"
    );
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    let env = Env::new();
    let l = env.open().await;
    let base = json!({"FunctionName": "g", "Runtime": "python3.12", "Handler": "app.handler",
                      "Role": ROLE, "Code": {"ZipFile": zip()}});
    for (patch, code) in [
        (
            json!({"Runtime": "cobol"}),
            "InvalidParameterValueException",
        ),
        (json!({"MemorySize": 99_999}), "ValidationException"),
        (json!({"Role": "x"}), "ValidationException"),
        (
            json!({"Code": {"ZipFile": "AAAA"}}),
            "InvalidParameterValueException",
        ),
        (json!({"FunctionName": "a:b:c:d"}), "ValidationException"),
        (
            json!({"PackageType": "Image"}),
            "InvalidParameterValueException",
        ),
    ] {
        let mut input = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            input[k] = v.clone();
        }
        assert_eq!(fail(&l, "CreateFunction", input).await.0, code);
    }
    assert!(env.store.scan("lambda_function", b"").unwrap().is_empty());
    call(&l, "CreateFunction", base.clone()).await;
    let (code, msg) = fail(&l, "CreateFunction", base).await;
    assert_eq!(
        (code.as_str(), msg.as_str()),
        ("ResourceConflictException", "Function already exist: g")
    );
    let (code, _) = fail(&l, "ListLayers", json!({})).await;
    assert_eq!(code, "NotImplemented");
}

#[tokio::test]
async fn async_invocations_are_staged_durably() {
    let env = Env::new();
    let l = env.open().await;
    call(
        &l,
        "CreateFunction",
        json!({"FunctionName": "h", "Runtime": "python3.12", "Handler": "app.handler",
               "Role": ROLE, "Code": {"ZipFile": zip()}}),
    )
    .await;
    let payload = base64::engine::general_purpose::STANDARD.encode(b"{\"a\":1}");
    let out = call(
        &l,
        "Invoke",
        json!({"FunctionName": "h", "InvocationType": "Event", "Payload": payload}),
    )
    .await;
    assert_eq!(out["StatusCode"], 202);
    assert_eq!(l.stats().async_accepted, 1);
    // The outbox's start was never called: the job is pending in the store.
    let rows = env.store.scan(ponte_delivery::TABLE, b"").unwrap();
    assert_eq!(rows.len(), 1, "the queued event is in the store");
    let dry = call(
        &l,
        "Invoke",
        json!({"FunctionName": "h", "InvocationType": "DryRun"}),
    )
    .await;
    assert_eq!(dry["StatusCode"], 204);
    let (code, _) = fail(
        &l,
        "Invoke",
        json!({"FunctionName": "h", "InvocationType": "Sometimes"}),
    )
    .await;
    assert_eq!(code, "ValidationException");
}
