//! `ponte logs <function> [--follow]`: a function's CloudWatch Logs output, like
//! `aws logs tail /aws/lambda/<function>`, read through the server's own Logs API.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Context;
use ponte_types::Clock;
use serde_json::{Value, json};

use crate::client::{self, CallError, Conn};

/// Arguments of `ponte logs`.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// Function name (reads `/aws/lambda/<name>`), or a log group name starting with `/`.
    pub function: String,
    /// Keep printing new events as they arrive.
    #[arg(short, long)]
    pub follow: bool,
    /// Show events from this far back: `30s`, `10m`, `2h`, `1d`.
    #[arg(long, default_value = "10m", value_parser = parse_since)]
    pub since: Duration,
    /// Only events matching this CloudWatch Logs filter pattern.
    #[arg(long)]
    pub filter_pattern: Option<String>,
    /// Server endpoint.
    #[arg(long, default_value = "http://127.0.0.1:4566", env = "PONTE_ENDPOINT")]
    pub endpoint: String,
    /// Region.
    #[arg(long, default_value = "us-east-1", env = "AWS_REGION")]
    pub region: String,
    /// Access key (a 12-digit key selects that account).
    #[arg(long, default_value = "test", env = "AWS_ACCESS_KEY_ID")]
    pub access_key: String,
}

fn parse_since(s: &str) -> Result<Duration, String> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n.parse().map_err(|_| format!("not a duration: {s:?}"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("unknown unit in {s:?} (use s, m, h or d)")),
    };
    Ok(Duration::from_secs(secs))
}

/// Prints the events; with `--follow`, polls for new ones once a second until interrupted.
pub async fn run(args: LogsArgs) -> anyhow::Result<()> {
    let group = if args.function.starts_with('/') {
        args.function.clone()
    } else {
        format!("/aws/lambda/{}", args.function)
    };
    let mut conn = Conn::open(
        client::addr_of(&args.endpoint),
        &args.access_key,
        &args.region,
    )
    .await
    .with_context(|| format!("cannot reach Ponte at {}", args.endpoint))?;
    let clock = ponte_types::SystemClock::new(1.0);
    let mut start = clock.now().saturating_sub(args.since.as_millis() as u64);
    // Events at the newest timestamp already printed: the next poll starts there again.
    let mut seen_at_start: HashSet<String> = HashSet::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let mut token: Option<String> = None;
        loop {
            let mut req = json!({"logGroupName": group, "startTime": start, "interleaved": true});
            if let Some(p) = &args.filter_pattern {
                req["filterPattern"] = p.clone().into();
            }
            if let Some(t) = &token {
                req["nextToken"] = t.clone().into();
            }
            let out = match conn.call(client::LOGS, "FilterLogEvents", req).await {
                Ok(out) => out,
                Err(e) if is_missing_group(&e) && args.follow => break,
                Err(e) if is_missing_group(&e) => {
                    anyhow::bail!("log group {group} does not exist (has the function run yet?)")
                }
                Err(e) => return Err(e),
            };
            for event in out["events"].as_array().into_iter().flatten() {
                let ts = event["timestamp"].as_u64().unwrap_or(0);
                let id = event["eventId"].as_str().unwrap_or_default().to_owned();
                if ts < start || (ts == start && seen_at_start.contains(&id)) {
                    continue;
                }
                if ts > start {
                    start = ts;
                    seen_at_start.clear();
                }
                seen_at_start.insert(id);
                print_event(event);
            }
            token = out["nextToken"].as_str().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        if !args.follow {
            return Ok(());
        }
        tick.tick().await;
    }
}

fn is_missing_group(e: &anyhow::Error) -> bool {
    e.downcast_ref::<CallError>()
        .is_some_and(|c| c.body.contains("ResourceNotFoundException"))
}

fn print_event(event: &Value) {
    let ts = event["timestamp"].as_u64().unwrap_or(0);
    let stream = event["logStreamName"].as_str().unwrap_or("");
    let message = event["message"].as_str().unwrap_or("");
    println!(
        "{} {stream} {}",
        ponte_types::time::iso8601_millis(ts),
        message.trim_end_matches('\n')
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_and_timestamps() {
        assert_eq!(parse_since("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_since("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_since("45"), Ok(Duration::from_secs(45)));
        assert!(parse_since("5y").is_err());
    }
}
