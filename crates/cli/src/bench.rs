//! `ponte bench sqs`: end-to-end SQS throughput and latency over HTTP.
//!
//! Unless `--endpoint` is given, the bench starts `ponte serve` as a child process on a free port
//! (durable on a temporary data dir, or `--ephemeral`), so the server's CPU time can be read from
//! `/proc` and reported per request. Each connection is one HTTP/1.1 keep-alive connection driven
//! by one task; requests are awsJson, as current SDKs send them.
//!
//! Phases: `send` (SendMessage, one message per request), then `receive+delete`
//! (ReceiveMessage with up to 10 messages, then DeleteMessageBatch of what came back) until every
//! sent message is consumed.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::client;
use tokio::net::TcpStream;

/// Arguments of `ponte bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// What to measure: `sqs` (send, receive+delete) or `lambda` (cold starts and warm
    /// invokes of python, node and provided functions).
    #[arg(value_parser = ["sqs", "lambda"])]
    target: String,
    /// A running server to measure instead of starting one.
    #[arg(long)]
    pub(crate) endpoint: Option<String>,
    /// Start the server with `--ephemeral` (in memory) instead of a durable temp data dir.
    #[arg(long)]
    pub(crate) ephemeral: bool,
    /// Concurrent keep-alive connections.
    #[arg(long, short = 'c', default_value_t = 1)]
    pub(crate) connections: usize,
    /// Messages to send (and then receive and delete).
    #[arg(long, short = 'n', default_value_t = 20_000)]
    pub(crate) messages: u64,
    /// Message body size in bytes.
    #[arg(long, default_value_t = 100)]
    pub(crate) body_size: usize,
    /// lambda: warm invokes per runtime.
    #[arg(long, default_value_t = 500)]
    pub(crate) invokes: usize,
    /// lambda: cold starts measured per runtime.
    #[arg(long, default_value_t = 5)]
    pub(crate) cold_starts: usize,
    /// lambda: runtimes to measure.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "python3.12,nodejs20.x,provided.al2023"
    )]
    pub(crate) runtimes: Vec<String>,
    /// Print the result as one JSON object on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Runs a benchmark.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.target.as_str() {
        "sqs" => {}
        "lambda" => return crate::bench_lambda::run(&args).await,
        other => bail!("unknown bench target {other}"),
    }
    let server = match &args.endpoint {
        Some(e) => Spawned::external(e),
        None => Spawned::start(args.ephemeral).await?,
    };
    let endpoint = server.endpoint.clone();
    let server_pid = server.child.as_ref().and_then(|c| c.id());
    let addr = endpoint
        .strip_prefix("http://")
        .context("endpoint must be http://host:port")?
        .to_owned();

    let queue = format!("bench-{}", std::process::id());
    let mut conn = Conn::open(&addr).await?;
    let created = conn
        .call("CreateQueue", json!({ "QueueName": queue }))
        .await?;
    let url = created["QueueUrl"]
        .as_str()
        .context("CreateQueue returned no QueueUrl")?
        .to_owned();

    let body = "x".repeat(args.body_size);
    let cpu0 = server_pid.and_then(cpu_ms);
    let send = phase(&args, &addr, {
        let url = url.clone();
        move |_| {
            let url = url.clone();
            let body = body.clone();
            (
                "SendMessage",
                json!({ "QueueUrl": url, "MessageBody": body }),
            )
        }
    })
    .await?;
    let cpu1 = server_pid.and_then(cpu_ms);
    let recv = receive_phase(&args, &addr, &url).await?;
    let cpu2 = server_pid.and_then(cpu_ms);
    let _ = conn.call("DeleteQueue", json!({ "QueueUrl": url })).await;

    let mode = match (&args.endpoint, args.ephemeral) {
        (Some(_), _) => "external",
        (None, true) => "ephemeral",
        (None, false) => "durable",
    };
    let cpu_per = |a: Option<f64>, b: Option<f64>, reqs: u64| match (a, b) {
        (Some(a), Some(b)) if reqs > 0 => Some((b - a) / reqs as f64),
        _ => None,
    };
    let report = json!({
        "target": "sqs",
        "mode": mode,
        "connections": args.connections,
        "messages": args.messages,
        "body_size": args.body_size,
        "send": {
            "msgs_per_s": round(send.msgs as f64 / send.elapsed.as_secs_f64()),
            "p50_ms": send.percentile(0.50),
            "p99_ms": send.percentile(0.99),
            "server_cpu_ms_per_request": cpu_per(cpu0, cpu1, send.requests).map(round3),
        },
        "receive_delete": {
            "msgs_per_s": round(recv.msgs as f64 / recv.elapsed.as_secs_f64()),
            "requests": recv.requests,
            "p50_ms": recv.percentile(0.50),
            "p99_ms": recv.percentile(0.99),
            "server_cpu_ms_per_request": cpu_per(cpu1, cpu2, recv.requests).map(round3),
        },
    });
    if args.json {
        println!("{report}");
    } else {
        eprintln!(
            "sqs {mode}, {} connection(s), {} messages of {} bytes",
            args.connections, args.messages, args.body_size
        );
        for (name, key) in [("send", "send"), ("receive+delete", "receive_delete")] {
            let r = &report[key];
            println!(
                "{name:>15}: {:>9} msgs/s   p50 {:>7} ms   p99 {:>7} ms   server CPU/request {} ms",
                r["msgs_per_s"], r["p50_ms"], r["p99_ms"], r["server_cpu_ms_per_request"]
            );
        }
    }
    // Dropping the server kills the child (kill_on_drop) and removes its data dir.
    drop(server);
    Ok(())
}

pub(crate) fn round(v: f64) -> f64 {
    v.round()
}

pub(crate) fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

struct PhaseResult {
    msgs: u64,
    requests: u64,
    elapsed: Duration,
    latencies_us: Vec<u32>,
}

impl PhaseResult {
    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        round3(self.latencies_us[i] as f64 / 1000.0)
    }
}

/// Runs one worker per connection, each on its own keep-alive connection, and gathers the
/// request latencies (µs) every worker recorded.
async fn run_workers<W, F>(
    addr: &str,
    connections: usize,
    worker: W,
) -> anyhow::Result<(Vec<u32>, Duration)>
where
    W: Fn(Conn) -> F,
    F: Future<Output = anyhow::Result<Vec<u32>>> + Send + 'static,
{
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        tasks.push(tokio::spawn(worker(Conn::open(addr).await?)));
    }
    let mut latencies_us = Vec::new();
    for t in tasks {
        latencies_us.extend(t.await??);
    }
    let elapsed = start.elapsed();
    latencies_us.sort_unstable();
    Ok((latencies_us, elapsed))
}

/// Sends `messages` requests made by `make`, shared out over the connections.
async fn phase<F>(args: &BenchArgs, addr: &str, make: F) -> anyhow::Result<PhaseResult>
where
    F: Fn(u64) -> (&'static str, Value) + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(AtomicU64::new(0));
    let total = args.messages;
    let (latencies_us, elapsed) = run_workers(addr, args.connections, |mut conn| {
        let (make, next) = (make.clone(), next.clone());
        async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let (op, body) = make(i);
                conn.timed(op, body, &mut lat).await?;
            }
            Ok(lat)
        }
    })
    .await?;
    Ok(PhaseResult {
        msgs: total,
        requests: latencies_us.len() as u64,
        elapsed,
        latencies_us,
    })
}

/// Receives and deletes until every sent message is gone.
async fn receive_phase(args: &BenchArgs, addr: &str, url: &str) -> anyhow::Result<PhaseResult> {
    let consumed = Arc::new(AtomicU64::new(0));
    let total = args.messages;
    let (latencies_us, elapsed) = run_workers(addr, args.connections, |mut conn| {
        let (consumed, url) = (consumed.clone(), url.to_owned());
        async move {
            let mut lat = Vec::new();
            let mut empty_streak = 0;
            while consumed.load(Ordering::Relaxed) < total && empty_streak < 50 {
                let receive =
                    json!({ "QueueUrl": url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 300 });
                let r = conn.timed("ReceiveMessage", receive, &mut lat).await?;
                let msgs = r["Messages"].as_array().cloned().unwrap_or_default();
                if msgs.is_empty() {
                    empty_streak += 1;
                    continue;
                }
                empty_streak = 0;
                let entries: Vec<Value> = msgs
                    .iter()
                    .enumerate()
                    .map(|(i, m)| json!({ "Id": i.to_string(), "ReceiptHandle": m["ReceiptHandle"] }))
                    .collect();
                let delete = json!({ "QueueUrl": url, "Entries": entries });
                conn.timed("DeleteMessageBatch", delete, &mut lat).await?;
                consumed.fetch_add(msgs.len() as u64, Ordering::Relaxed);
            }
            Ok(lat)
        }
    })
    .await?;
    Ok(PhaseResult {
        msgs: consumed.load(Ordering::Relaxed),
        requests: latencies_us.len() as u64,
        elapsed,
        latencies_us,
    })
}

/// One keep-alive HTTP/1.1 connection speaking awsJson to SQS.
struct Conn(client::Conn);

impl Conn {
    async fn open(addr: &str) -> anyhow::Result<Self> {
        Ok(Self(client::Conn::open(addr, "bench", "us-east-1").await?))
    }

    /// [`Conn::call`], recording its latency in µs.
    async fn timed(&mut self, op: &str, body: Value, lat: &mut Vec<u32>) -> anyhow::Result<Value> {
        let t = Instant::now();
        let out = self.call(op, body).await?;
        lat.push(t.elapsed().as_micros() as u32);
        Ok(out)
    }

    async fn call(&mut self, op: &str, body: Value) -> anyhow::Result<Value> {
        self.0.call(client::SQS, op, body).await
    }
}

/// A server to measure: a `ponte serve` child on a free port (killed on drop, its temp data
/// dir removed), or an external endpoint.
pub struct Spawned {
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The child, when started here.
    pub child: Option<tokio::process::Child>,
    _data_dir: Option<tempfile::TempDir>,
}

impl Spawned {
    /// An already running server.
    pub fn external(endpoint: &str) -> Self {
        Spawned {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            child: None,
            _data_dir: None,
        }
    }

    /// Starts `ponte serve` (this binary) and waits until it accepts connections.
    pub async fn start(ephemeral: bool) -> anyhow::Result<Self> {
        let port = free_port()?;
        let mut cmd = tokio::process::Command::new(std::env::current_exe()?);
        cmd.args(["serve", "--port", &port.to_string()]);
        let mut data_dir = None;
        if ephemeral {
            cmd.arg("--ephemeral");
        } else {
            let dir = tempfile::tempdir()?;
            cmd.arg("--data-dir").arg(dir.path());
            data_dir = Some(dir);
        }
        cmd.env("PONTE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let child = cmd.spawn().context("starting ponte serve")?;
        let endpoint = format!("http://127.0.0.1:{port}");
        wait_ready(&endpoint).await?;
        Ok(Spawned {
            endpoint,
            child: Some(child),
            _data_dir: data_dir,
        })
    }
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

async fn wait_ready(endpoint: &str) -> anyhow::Result<()> {
    let addr = endpoint.trim_start_matches("http://").to_owned();
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    for _ in 0..4_000 {
        if TcpStream::connect(&addr).await.is_ok() {
            return Ok(());
        }
        tick.tick().await;
    }
    bail!("server at {endpoint} did not start within 20 s")
}

/// CPU time (user + system) of a process in ms, from `/proc/<pid>/stat`.
fn cpu_ms(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Clock ticks are 100 Hz on Linux.
    Some((utime + stime) * 10.0)
}
