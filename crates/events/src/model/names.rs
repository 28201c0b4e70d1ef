//! Names and ARNs.
//!
//! - bus: `arn:aws:events:<region>:<account>:event-bus/<name>`
//! - rule: `arn:aws:events:<region>:<account>:rule/<name>` on the default bus,
//!   `rule/<bus>/<name>` on a custom bus
//! - archive: `archive/<name>`, replay: `replay/<name>`

/// The bus every account has in every region.
pub const DEFAULT_BUS: &str = "default";

/// The model's pattern for rule, target, archive, replay and non-partner bus names.
pub const NAME_PATTERN: &str = "[\\.\\-_A-Za-z0-9]+";
/// The model's pattern for `EventBusName` (CreateEventBus allows `/` for partner buses).
pub const BUS_NAME_PATTERN: &str = "[/\\.\\-_A-Za-z0-9]+";
/// The model's pattern for `EventBusNameOrArn`.
pub const BUS_NAME_OR_ARN_PATTERN: &str =
    "(arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[/\\.\\-_A-Za-z0-9]+";

/// `[\.\-_A-Za-z0-9]+`.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// `[/\.\-_A-Za-z0-9]+`.
pub fn is_bus_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/'))
}

/// `EventBusNameOrArn`: a bus name, or a bus ARN with a 12-digit account.
pub fn is_bus_name_or_arn(s: &str) -> bool {
    if let Some(rest) = s.strip_prefix("arn:") {
        return parse_bus_arn_parts(rest).is_some();
    }
    is_bus_name(s)
}

fn parse_bus_arn_parts(rest: &str) -> Option<(String, String, String)> {
    let mut it = rest.splitn(5, ':');
    let partition = it.next()?;
    let service = it.next()?;
    let region = it.next()?;
    let account = it.next()?;
    let resource = it.next()?;
    if !partition.starts_with("aws") || service != "events" || region.is_empty() {
        return None;
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let name = resource.strip_prefix("event-bus/")?;
    is_bus_name(name).then(|| (region.to_owned(), account.to_owned(), name.to_owned()))
}

/// Splits a bus ARN into (region, account, name).
pub fn parse_bus_arn(arn: &str) -> Option<(String, String, String)> {
    parse_bus_arn_parts(arn.strip_prefix("arn:")?)
}

/// A bus ARN.
pub fn bus_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:events:{region}:{account}:event-bus/{name}")
}

/// A rule ARN: the bus appears in it only for custom buses.
pub fn rule_arn(region: &str, account: &str, bus: &str, name: &str) -> String {
    if bus == DEFAULT_BUS {
        format!("arn:aws:events:{region}:{account}:rule/{name}")
    } else {
        format!("arn:aws:events:{region}:{account}:rule/{bus}/{name}")
    }
}

/// Splits a rule ARN into (region, account, bus, name).
pub fn parse_rule_arn(arn: &str) -> Option<(String, String, String, String)> {
    let a = ponte_types::Arn::parse(arn)?;
    if a.service != "events" {
        return None;
    }
    let rest = a.resource.strip_prefix("rule/")?;
    let (bus, name) = match rest.rsplit_once('/') {
        Some((bus, name)) => (bus.to_owned(), name.to_owned()),
        None => (DEFAULT_BUS.to_owned(), rest.to_owned()),
    };
    Some((a.region, a.account, bus, name))
}

/// An archive ARN.
pub fn archive_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:events:{region}:{account}:archive/{name}")
}

/// Splits an archive ARN into (region, account, name).
pub fn parse_archive_arn(arn: &str) -> Option<(String, String, String)> {
    let a = ponte_types::Arn::parse(arn)?;
    let name = a.resource.strip_prefix("archive/")?;
    (a.service == "events" && !name.is_empty()).then(|| (a.region, a.account, name.to_owned()))
}

/// A replay ARN.
pub fn replay_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:events:{region}:{account}:replay/{name}")
}

/// The ARN service of a target (`sqs`, `lambda`, `sns`, `events`, ...).
pub fn arn_service(arn: &str) -> Option<&str> {
    let mut it = arn.split(':');
    (it.next()? == "arn").then_some(())?;
    it.next()?;
    it.next()
}

/// The account of an ARN.
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4)
}

/// `true` for an SQS FIFO queue ARN.
pub fn is_fifo_queue_arn(arn: &str) -> bool {
    arn_service(arn) == Some("sqs") && arn.ends_with(".fifo")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_round_trip() {
        assert_eq!(
            rule_arn("us-east-1", "000000000000", "default", "r"),
            "arn:aws:events:us-east-1:000000000000:rule/r"
        );
        assert_eq!(
            rule_arn("us-east-1", "000000000000", "b", "r"),
            "arn:aws:events:us-east-1:000000000000:rule/b/r"
        );
        assert_eq!(
            parse_rule_arn("arn:aws:events:us-east-1:000000000000:rule/b/r").unwrap(),
            (
                "us-east-1".into(),
                "000000000000".into(),
                "b".into(),
                "r".into()
            )
        );
        assert_eq!(
            parse_bus_arn("arn:aws:events:eu-west-1:111111111111:event-bus/x").unwrap(),
            ("eu-west-1".into(), "111111111111".into(), "x".into())
        );
        assert!(parse_bus_arn("arn:aws:sqs:eu-west-1:111111111111:event-bus/x").is_none());
        assert!(is_bus_name_or_arn("default"));
        assert!(!is_bus_name_or_arn("a b"));
        assert!(is_fifo_queue_arn("arn:aws:sqs:us-east-1:0:q.fifo"));
        assert_eq!(arn_service("arn:aws:lambda:r:a:function:f"), Some("lambda"));
        assert!(is_name("a.b-c_9") && !is_name("a/b") && !is_name(""));
    }
}
