//! `ponte sns messages [--to ADDRESS]`: the email, email-json and SMS notifications SNS recorded
//! instead of sending (Ponte sends no mail), oldest first — so a confirmation link or a
//! notification body can be read from the terminal.

use anyhow::Context;
use serde_json::Value;

use crate::client::{self, Conn};

/// `ponte sns …` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SnsCommand {
    /// Print the recorded email / email-json / SMS messages.
    Messages(MessagesArgs),
}

/// Arguments of `ponte sns messages`.
#[derive(Debug, clap::Args)]
pub struct MessagesArgs {
    /// Only messages to this address or phone number.
    #[arg(long)]
    pub to: Option<String>,
    /// Print the records as one JSON array.
    #[arg(long)]
    pub json: bool,
    /// Server endpoint.
    #[arg(long, default_value = "http://127.0.0.1:4566", env = "PONTE_ENDPOINT")]
    pub endpoint: String,
}

/// Runs a `ponte sns` subcommand.
pub async fn run(command: SnsCommand) -> anyhow::Result<()> {
    let SnsCommand::Messages(args) = command;
    let mut conn = Conn::open(client::addr_of(&args.endpoint), "test", "us-east-1")
        .await
        .with_context(|| format!("cannot reach Ponte at {}", args.endpoint))?;
    let path = match &args.to {
        Some(to) => format!(
            "/_ponte/sns/messages?endpoint={}",
            percent_encoding::utf8_percent_encode(to, percent_encoding::NON_ALPHANUMERIC)
        ),
        None => "/_ponte/sns/messages".to_owned(),
    };
    let out = conn.get_json(&path).await?;
    let messages = out["messages"].as_array().cloned().unwrap_or_default();
    if args.json {
        println!("{}", Value::Array(messages));
        return Ok(());
    }
    for m in &messages {
        let s = |k: &str| m[k].as_str().unwrap_or("").to_owned();
        println!(
            "{} {} to {} ({}){}",
            ponte_types::time::iso8601_millis(m["timestamp"].as_u64().unwrap_or(0)),
            s("kind"),
            s("endpoint"),
            s("protocol"),
            m["subject"]
                .as_str()
                .map(|t| format!(" subject: {t}"))
                .unwrap_or_default()
        );
        println!("  {}", s("body").replace('\n', "\n  "));
    }
    if messages.is_empty() {
        eprintln!("no recorded messages");
    }
    Ok(())
}
