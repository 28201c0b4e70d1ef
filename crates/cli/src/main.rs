//! The `ponte` binary: `ponte serve` runs every service on one port; the other subcommands are
//! clients of a running server. This file only parses the command line and wires crates together.

mod bench;
mod bench_lambda;
mod client;
mod logs;
mod sns;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Ponte: the serverless communication fabric, for real, in one binary.
#[derive(Debug, Parser)]
#[command(name = "ponte", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve every AWS service on one port.
    Serve(ServeArgs),
    /// Measure throughput and latency against a server.
    Bench(bench::BenchArgs),
    /// Print a function's logs (`/aws/lambda/<name>`), optionally following new ones.
    Logs(logs::LogsArgs),
    /// SNS helpers: the email / SMS notifications Ponte recorded instead of sending.
    #[command(subcommand)]
    Sns(sns::SnsCommand),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Interface to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "PONTE_HOST")]
    host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 4566, env = "PONTE_PORT")]
    port: u16,
    /// Directory of the durable store.
    #[arg(
        long,
        default_value = ".ponte",
        env = "PONTE_DATA_DIR",
        conflicts_with = "ephemeral"
    )]
    data_dir: PathBuf,
    /// Keep all state in memory; nothing survives a restart.
    #[arg(long)]
    ephemeral: bool,
    /// Run AWS waits (visibility timeouts, delays, retention, backoff) N times faster.
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    time_scale: f64,
    /// Concurrent function executions allowed per account and region (AWS's default quota).
    #[arg(long, default_value_t = 1000)]
    account_concurrency: u64,
    /// Seconds an idle function instance is kept warm before it is stopped.
    #[arg(long, default_value_t = 300)]
    function_idle_timeout: u64,
    /// Log format on stderr.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

fn parse_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("time scale must be a positive number, got {s:?}")),
    }
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PONTE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received; draining");
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Serve(args) => {
            init_logs(&args.log_format);
            let options = ponte_server::Options {
                host: args.host,
                port: args.port,
                data_dir: (!args.ephemeral).then_some(args.data_dir),
                time_scale: args.time_scale,
                account_concurrency: args.account_concurrency,
                function_idle_timeout: std::time::Duration::from_secs(args.function_idle_timeout),
                ..Default::default()
            };
            rt.block_on(async move {
                let server = ponte_server::Server::start(options).await?;
                server.run(shutdown_signal()).await?;
                anyhow::Ok(())
            })
        }
        Command::Bench(args) => rt.block_on(bench::run(args)),
        Command::Logs(args) => rt.block_on(logs::run(args)),
        Command::Sns(command) => rt.block_on(sns::run(command)),
    }
}
