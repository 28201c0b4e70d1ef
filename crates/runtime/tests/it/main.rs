//! Runs real functions (the host's `python3` and `node`, and shell `bootstrap`s using curl)
//! through `Runtime::invoke`. Both interpreters are required: a missing one fails the tests.

mod node;
mod provided;
mod python;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use ponte_runtime::{FunctionSpec, InvokeRequest, InvokeResult, LogSink, Options, Runtime};
use ponte_types::{Clock, SharedClock, SystemClock};
use tokio::sync::watch;

/// Everything appended, in order: (group, stream, message).
#[derive(Default)]
pub(crate) struct MemSink {
    pub(crate) events: Mutex<Vec<(String, String, String)>>,
}

impl LogSink for MemSink {
    fn append(
        &self,
        _account: &str,
        _region: &str,
        group: &str,
        stream: &str,
        events: Vec<(u64, String)>,
    ) {
        let mut all = self.events.lock();
        for (_, m) in events {
            all.push((group.to_string(), stream.to_string(), m));
        }
    }
}

impl MemSink {
    /// Messages of the stream that logged `START RequestId: <id>`, from START to REPORT.
    pub(crate) fn invocation(&self, request_id: &str) -> Vec<String> {
        let all = self.events.lock();
        let start = format!("START RequestId: {request_id} ");
        let report = format!("REPORT RequestId: {request_id}\t");
        let Some(i) = all.iter().position(|(_, _, m)| m.starts_with(&start)) else {
            return Vec::new();
        };
        let stream = all[i].1.clone();
        let mut out = Vec::new();
        for (_, s, m) in &all[i..] {
            if *s != stream {
                continue;
            }
            out.push(m.clone());
            if m.starts_with(&report) {
                break;
            }
        }
        out
    }

    pub(crate) fn streams(&self) -> Vec<String> {
        let mut s: Vec<String> = self.events.lock().iter().map(|e| e.1.clone()).collect();
        s.sort();
        s.dedup();
        s
    }
}

pub(crate) struct Env {
    pub(crate) rt: Runtime,
    pub(crate) sink: Arc<MemSink>,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) shutdown: watch::Sender<bool>,
}

pub(crate) async fn env_with(clock: SharedClock, idle: Duration) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(MemSink::default());
    let (shutdown, rx) = watch::channel(false);
    let rt = Runtime::start(
        clock,
        Options {
            endpoint_url: "http://127.0.0.1:4566".into(),
            idle_timeout: idle,
            work_dir: dir.path().join("work"),
        },
        sink.clone(),
        rx,
    )
    .await
    .unwrap();
    Env {
        rt,
        sink,
        dir,
        shutdown,
    }
}

pub(crate) async fn env() -> Env {
    env_with(Arc::new(SystemClock::default()), Duration::from_secs(300)).await
}

impl Env {
    /// Writes `files` into a fresh code dir named `name`.
    pub(crate) fn code(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = self.dir.path().join("code").join(name);
        for (path, text) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

pub(crate) fn spec(name: &str, runtime: &str, handler: &str, code_dir: &Path) -> FunctionSpec {
    FunctionSpec {
        arn: format!("arn:aws:lambda:us-east-1:000000000000:function:{name}:$LATEST"),
        name: name.into(),
        version: "$LATEST".into(),
        runtime: runtime.into(),
        handler: handler.into(),
        code_dir: code_dir.to_path_buf(),
        memory_mb: 128,
        timeout: Duration::from_secs(10),
        environment: BTreeMap::new(),
        account: "000000000000".into(),
        region: "us-east-1".into(),
        log_group: format!("/aws/lambda/{name}"),
        revision: "r1".into(),
    }
}

pub(crate) fn request(id: &str, payload: &str) -> InvokeRequest {
    InvokeRequest {
        payload: payload.as_bytes().to_vec(),
        request_id: id.into(),
        trace_header: format!(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage={id}"
        ),
        client_context: None,
        cognito_identity: None,
        want_log_tail: true,
        invoked_function_arn: None,
    }
}

pub(crate) fn json(r: &InvokeResult) -> serde_json::Value {
    serde_json::from_slice(&r.payload)
        .unwrap_or_else(|e| panic!("payload {:?}: {e}", String::from_utf8_lossy(&r.payload)))
}

/// Waits (real time, bounded) until `f` holds.
pub(crate) async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let clock = SystemClock::default();
    for _ in 0..500 {
        if f() {
            return;
        }
        clock.sleep_until(clock.now() + 10).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_runtime_and_shutdown() {
    let e = env().await;
    let code = e.code("x", &[("app.py", "def handler(e, c):\n    return 1\n")]);
    let err =
        e.rt.invoke(
            &spec("x", "java21", "app.handler", &code),
            request("r0", "{}"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ponte_runtime::Error::UnsupportedRuntime(_)));

    let s = spec("x", "python3.12", "app.handler", &code);
    let r = e.rt.invoke(&s, request("r1", "{}")).await.unwrap();
    assert_eq!(json(&r), 1);
    assert_eq!(e.rt.stats(&s.arn).instances, 1);
    e.shutdown.send_replace(true);
    eventually("shutdown kills instances", || {
        e.rt.stats(&s.arn).instances == 0
    })
    .await;
    let err = e.rt.invoke(&s, request("r2", "{}")).await.unwrap_err();
    assert!(matches!(err, ponte_runtime::Error::Spawn(_)), "{err:?}");
}
