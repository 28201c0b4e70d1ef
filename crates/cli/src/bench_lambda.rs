//! `ponte bench lambda`: cold starts and warm invoke round trips of real functions, per runtime,
//! over HTTP exactly as SDKs call Invoke.
//!
//! Per runtime: one echo function (python and node handlers, and for `provided.*` a shell
//! `bootstrap` that speaks the Runtime API with curl). Cold starts: the configuration is changed
//! before each measured invoke, so no warm instance can serve it; the REPORT line (`LogType:
//! Tail`) gives the runtime's own Init Duration. Warm: sequential invokes on one keep-alive
//! connection; besides the round trip, a sample of invokes with `Tail` gives the function's
//! Duration as Lambda reports it, and the difference is what the request path around the
//! function costs.

use std::io::Write as _;
use std::time::Instant;

use anyhow::{Context, bail};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::bench::{BenchArgs, Spawned, round3};
use crate::client::{self, Conn};

const PYTHON: &str = "def handler(event, context):\n    return event\n";
const NODE: &str = "exports.handler = async (event) => event;\n";
const SHELL_BOOTSTRAP: &str = r#"#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
  ID="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | tr -d '\r' | cut -d' ' -f2)"
  rm -f "$HEADERS"
  curl -sS -o /dev/null -X POST "$API/invocation/$ID/response" -d "$EVENT"
done
"#;

/// Runs the Lambda benchmark and prints the report.
pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let server = match &args.endpoint {
        Some(e) => Spawned::external(e),
        None => Spawned::start(args.ephemeral).await?,
    };
    let mut conn = Conn::open(client::addr_of(&server.endpoint), "test", "us-east-1").await?;
    let mut results = Vec::new();
    for runtime in &args.runtimes {
        let r = bench_runtime(&mut conn, runtime, args).await?;
        if !args.json {
            eprintln!("{runtime}: {r}");
        }
        results.push(r);
    }
    let report = json!({
        "target": "lambda",
        "mode": if args.endpoint.is_some() { "external" } else if args.ephemeral { "ephemeral" } else { "durable" },
        "invokes": args.invokes,
        "results": results,
    });
    println!(
        "{}",
        if args.json {
            report.to_string()
        } else {
            serde_json::to_string_pretty(&report)?
        }
    );
    Ok(())
}

fn package(runtime: &str) -> anyhow::Result<(Vec<u8>, &'static str)> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let handler = {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let (name, text, mode, handler) = if runtime.starts_with("python") {
            ("index.py", PYTHON, 0o644, "index.handler")
        } else if runtime.starts_with("nodejs") {
            ("index.js", NODE, 0o644, "index.handler")
        } else if runtime.starts_with("provided") {
            ("bootstrap", SHELL_BOOTSTRAP, 0o755, "bootstrap")
        } else {
            bail!("no bench function for runtime {runtime}");
        };
        let opts = zip::write::SimpleFileOptions::default().unix_permissions(mode);
        zip.start_file(name, opts)?;
        zip.write_all(text.as_bytes())?;
        zip.finish()?;
        handler
    };
    Ok((buf.into_inner(), handler))
}

async fn lambda(
    conn: &mut Conn,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> anyhow::Result<client::RestAnswer> {
    let a = conn
        .rest(
            "lambda",
            method,
            path,
            headers,
            body.to_string().into_bytes(),
        )
        .await?;
    if a.status >= 300 {
        bail!(
            "{method} {path} failed with {}: {}",
            a.status,
            String::from_utf8_lossy(&a.body)
        );
    }
    Ok(a)
}

/// One invoke: round-trip ms and, with `tail`, the REPORT line's Duration and Init Duration.
async fn invoke(
    conn: &mut Conn,
    name: &str,
    payload: &Value,
    tail: bool,
) -> anyhow::Result<(f64, Option<f64>, Option<f64>)> {
    let path = format!("/2015-03-31/functions/{name}/invocations");
    let headers: &[(&str, &str)] = if tail {
        &[("x-amz-log-type", "Tail")]
    } else {
        &[]
    };
    let t = Instant::now();
    let a = lambda(conn, "POST", &path, headers, payload.clone()).await?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    if let Some(err) = a.headers.get("x-amz-function-error") {
        bail!(
            "function error {err:?}: {}",
            String::from_utf8_lossy(&a.body)
        );
    }
    let log = a
        .headers
        .get("x-amz-log-result")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    Ok((
        ms,
        report_field(&log, "Duration"),
        report_field(&log, "Init Duration"),
    ))
}

/// `12.34` from `…\tDuration: 12.34 ms\t…` on the REPORT line.
fn report_field(log: &str, field: &str) -> Option<f64> {
    let line = log.lines().rev().find(|l| l.starts_with("REPORT"))?;
    line.split('\t').find_map(|part| {
        let (k, v) = part.trim().split_once(": ")?;
        (k == field).then(|| v.trim_end_matches(" ms").parse().ok())?
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    round3(sorted[((sorted.len() as f64 - 1.0) * p).round() as usize])
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

async fn bench_runtime(conn: &mut Conn, runtime: &str, args: &BenchArgs) -> anyhow::Result<Value> {
    let (zip, handler) = package(runtime)?;
    let name = format!("bench-{}-{}", runtime.replace('.', "-"), std::process::id());
    lambda(
        conn,
        "POST",
        "/2015-03-31/functions",
        &[],
        json!({
            "FunctionName": name,
            "Runtime": runtime,
            "Handler": handler,
            "Role": "arn:aws:iam::000000000000:role/bench",
            "Code": {"ZipFile": base64::engine::general_purpose::STANDARD.encode(&zip)},
            "MemorySize": 128,
            "Timeout": 30,
        }),
    )
    .await
    .with_context(|| format!("creating the {runtime} function"))?;
    let payload = json!({"hello": "world", "n": 1});

    let mut cold = Vec::new();
    let mut init = Vec::new();
    for round in 0..args.cold_starts.max(1) {
        // A new configuration retires the warm instances: the next invoke is a cold start.
        lambda(
            conn,
            "PUT",
            &format!("/2015-03-31/functions/{name}/configuration"),
            &[],
            json!({"Environment": {"Variables": {"BENCH_ROUND": round.to_string()}}}),
        )
        .await?;
        let (ms, _, init_ms) = invoke(conn, &name, &payload, true).await?;
        cold.push(ms);
        init.extend(init_ms);
    }

    // Warm-up, then the measured sequential invokes.
    for _ in 0..10 {
        invoke(conn, &name, &payload, false).await?;
    }
    let mut warm = Vec::with_capacity(args.invokes);
    let t = Instant::now();
    for _ in 0..args.invokes {
        warm.push(invoke(conn, &name, &payload, false).await?.0);
    }
    let elapsed = t.elapsed().as_secs_f64();
    let mut around = Vec::new();
    for _ in 0..(args.invokes / 5).max(20) {
        let (ms, duration, _) = invoke(conn, &name, &payload, true).await?;
        if let Some(d) = duration {
            around.push(ms - d);
        }
    }
    let _ = conn
        .rest(
            "lambda",
            "DELETE",
            &format!("/2015-03-31/functions/{name}"),
            &[],
            Vec::new(),
        )
        .await;
    let cold = sorted(cold);
    let warm = sorted(warm);
    let around = sorted(around);
    Ok(json!({
        "runtime": runtime,
        "cold_start_ms": {"p50": percentile(&cold, 0.5), "max": percentile(&cold, 1.0), "n": cold.len()},
        "init_duration_ms": {"p50": percentile(&sorted(init), 0.5)},
        "warm_invoke_ms": {"p50": percentile(&warm, 0.5), "p99": percentile(&warm, 0.99), "n": warm.len()},
        "warm_invokes_per_s": (warm.len() as f64 / elapsed).round(),
        "outside_function_ms": {"p50": percentile(&around, 0.5), "p99": percentile(&around, 0.99)},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_report_fields() {
        let log = "START RequestId: a Version: $LATEST\nEND RequestId: a\nREPORT RequestId: a\t\
                   Duration: 1.50 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t\
                   Max Memory Used: 30 MB\tInit Duration: 80.25 ms\t\n";
        assert_eq!(report_field(log, "Duration"), Some(1.5));
        assert_eq!(report_field(log, "Init Duration"), Some(80.25));
        assert_eq!(report_field("nothing", "Duration"), None);
    }

    #[test]
    fn packages_every_runtime_family() {
        for rt in ["python3.12", "nodejs20.x", "provided.al2023"] {
            let (zip, _) = package(rt).unwrap();
            assert!(zip.starts_with(b"PK"));
        }
        assert!(package("java21").is_err());
    }
}
