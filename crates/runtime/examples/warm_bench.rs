//! Warm-invoke round trip and cold start through `Runtime::invoke`, per runtime.
//!
//! `cargo run --release -p ponte-runtime --example warm_bench [-- <warm invokes> <cold starts>]`
//!
//! Prints, per runtime: cold start (spawn → first `/next`, and the whole first invoke), warm
//! round trip p50/p99, Lambda `Duration` p50 (assignment → response, which includes the
//! runtime's own HTTP exchange) and the rest of the round trip (Ponte's pool, log drain and
//! memory reading) p50/p99.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ponte_runtime::{FunctionSpec, InvokeRequest, LogSink, Options, Runtime};
use ponte_types::SystemClock;

struct NullSink;

impl LogSink for NullSink {
    fn append(&self, _: &str, _: &str, _: &str, _: &str, _: Vec<(u64, String)>) {}
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let warm_n = args.first().copied().unwrap_or(500);
    let cold_n = args.get(1).copied().unwrap_or(10);
    let dir = tempfile::tempdir().expect("temp dir");
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let rt = Runtime::start(
        Arc::new(SystemClock::default()),
        Options {
            endpoint_url: "http://127.0.0.1:4566".into(),
            idle_timeout: Duration::from_secs(600),
            work_dir: dir.path().join("work"),
        },
        Arc::new(NullSink),
        rx,
    )
    .await
    .expect("runtime");

    let code = dir.path().join("code");
    std::fs::create_dir_all(&code).expect("code dir");
    std::fs::write(
        code.join("app.py"),
        "def handler(event, context):\n    return event\n",
    )
    .expect("write");
    std::fs::write(
        code.join("index.js"),
        "exports.handler = async (event) => event;\n",
    )
    .expect("write");
    std::fs::write(
        code.join("bootstrap"),
        "#!/bin/sh\nA=\"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime\"\nwhile true; do\n  H=$(mktemp); E=$(curl -sS -D \"$H\" \"$A/invocation/next\"); I=$(grep -Fi Lambda-Runtime-Aws-Request-Id \"$H\" | tr -d '[:space:]' | cut -d: -f2); rm -f \"$H\"\n  curl -sS -X POST \"$A/invocation/$I/response\" -d \"$E\" >/dev/null\ndone\n",
    )
    .expect("write");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            code.join("bootstrap"),
            std::fs::Permissions::from_mode(0o755),
        )
        .expect("chmod");
    }

    println!("warm invokes: {warm_n}, cold starts: {cold_n}");
    for (runtime, handler, warm) in [
        ("python3.12", "app.handler", warm_n),
        ("nodejs20.x", "index.handler", warm_n),
        ("provided.al2023", "x", warm_n.min(100)),
    ] {
        let mut spec = FunctionSpec {
            arn: format!(
                "arn:aws:lambda:us-east-1:000000000000:function:{}:$LATEST",
                runtime.replace('.', "-")
            ),
            name: runtime.replace('.', "-"),
            version: "$LATEST".into(),
            runtime: runtime.into(),
            handler: handler.into(),
            code_dir: code.clone(),
            memory_mb: 128,
            timeout: Duration::from_secs(10),
            environment: BTreeMap::new(),
            account: "000000000000".into(),
            region: "us-east-1".into(),
            log_group: "/aws/lambda/bench".into(),
            revision: "r0".into(),
        };
        let req = |i: usize| InvokeRequest {
            payload: format!("{{\"i\":{i}}}").into_bytes(),
            request_id: format!("req-{i}"),
            trace_header: "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1".into(),
            ..Default::default()
        };
        let mut init = Vec::new();
        let mut first = Vec::new();
        for c in 0..cold_n {
            spec.revision = format!("cold-{c}");
            let t = Instant::now();
            let r = rt.invoke(&spec, req(c)).await.expect("cold invoke");
            first.push(t.elapsed().as_secs_f64() * 1000.0);
            init.push(r.init_ms.expect("cold start"));
        }
        let mut rtt = Vec::with_capacity(warm);
        let mut dur = Vec::with_capacity(warm);
        let mut rest = Vec::with_capacity(warm);
        for i in 0..warm + 20 {
            let t = Instant::now();
            let r = rt.invoke(&spec, req(i)).await.expect("warm invoke");
            let e = t.elapsed().as_secs_f64() * 1000.0;
            assert!(r.function_error.is_none() && r.init_ms.is_none());
            if i >= 20 {
                rtt.push(e);
                dur.push(r.duration_ms);
                rest.push(e - r.duration_ms);
            }
        }
        println!(
            "{runtime:16} cold: init p50 {:.1} ms, first invoke p50 {:.1} ms | warm round trip p50 {:.3} ms p99 {:.3} ms | Duration p50 {:.3} ms | outside Duration p50 {:.3} ms p99 {:.3} ms",
            pct(&mut init, 0.5),
            pct(&mut first, 0.5),
            pct(&mut rtt, 0.5),
            pct(&mut rtt, 0.99),
            pct(&mut dur, 0.5),
            pct(&mut rest, 0.5),
            pct(&mut rest, 0.99),
        );
    }
}
