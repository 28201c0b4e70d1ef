//! The event envelope, PutEvents entry rules and AWS's size accounting.
//!
//! Envelope (aws-facts §4): `version "0"`, `id` (UUID), `detail-type`, `source`, `account`,
//! `time` (ISO-8601, whole seconds, `Z`), `region`, `resources` (array), `detail` (object), in
//! that order, which is the order AWS serialises and targets see.
//!
//! Size ("Calculating PutEvents event entry size"): 14 bytes when `Time` is set, plus the UTF-8
//! bytes of `Source`, `DetailType`, `Detail` and each `Resources` entry. EventBridge refuses a
//! request whose entries add up to more than 256 KB.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use ponte_types::Millis;

/// The PutEvents request limit (256 KB, the API reference; the 2026 blog's 1 MB is not used).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// `DetailType` limit.
pub const MAX_DETAIL_TYPE: usize = 128;

/// One PutEvents entry as the caller sent it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryIn {
    /// `Time`, epoch ms.
    pub time: Option<Millis>,
    /// `Source`.
    pub source: Option<String>,
    /// `Resources`.
    pub resources: Vec<String>,
    /// `DetailType`.
    pub detail_type: Option<String>,
    /// `Detail` (JSON text).
    pub detail: Option<String>,
    /// `EventBusName` (name or ARN).
    pub event_bus_name: Option<String>,
    /// `TraceHeader`.
    pub trace_header: Option<String>,
}

/// A per-entry failure: (`ErrorCode`, `ErrorMessage`).
pub type EntryError = (&'static str, String);

/// AWS's size of one entry.
pub fn entry_size(e: &EntryIn) -> usize {
    let mut size = 0;
    if e.time.is_some() {
        size += 14;
    }
    size += e.source.as_deref().map_or(0, str::len);
    size += e.detail_type.as_deref().map_or(0, str::len);
    size += e.detail.as_deref().map_or(0, str::len);
    size += e.resources.iter().map(String::len).sum::<usize>();
    size
}

/// Checks one entry; on success returns the parsed `Detail` object.
pub fn check_entry(e: &EntryIn) -> Result<Value, EntryError> {
    let Some(source) = e.source.as_deref().filter(|s| !s.is_empty()) else {
        return Err((
            "InvalidArgument",
            "Parameter Source is not valid. Reason: Source is a required argument.".into(),
        ));
    };
    let Some(detail_type) = e.detail_type.as_deref().filter(|s| !s.is_empty()) else {
        return Err((
            "InvalidArgument",
            "Parameter DetailType is not valid. Reason: DetailType is a required argument.".into(),
        ));
    };
    let Some(detail) = e.detail.as_deref().filter(|s| !s.is_empty()) else {
        return Err((
            "InvalidArgument",
            "Parameter Detail is not valid. Reason: Detail is a required argument.".into(),
        ));
    };
    if detail_type.chars().count() > MAX_DETAIL_TYPE {
        return Err((
            "InvalidArgument",
            format!(
                "Parameter DetailType is not valid. Reason: DetailType length must be less than \
                 or equal to {MAX_DETAIL_TYPE}."
            ),
        ));
    }
    // Only AWS services may emit `aws.*` sources.
    if source.starts_with("aws.") {
        return Err((
            "NotAuthorizedForSourceException",
            "Not authorized for the source.".into(),
        ));
    }
    match serde_json::from_str::<Value>(detail) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(("MalformedDetail", "Detail is malformed.".into())),
    }
}

/// Fields of a new event.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// `id`.
    pub id: &'a str,
    /// `detail-type`.
    pub detail_type: &'a str,
    /// `source`.
    pub source: &'a str,
    /// `account`.
    pub account: &'a str,
    /// Event time, epoch ms.
    pub time: Millis,
    /// `region`.
    pub region: &'a str,
    /// `resources`.
    pub resources: &'a [String],
    /// `detail`.
    pub detail: Value,
}

/// The envelope, in AWS's field order.
pub fn build(e: NewEvent<'_>) -> Value {
    let mut m = Map::new();
    m.insert("version".into(), json!("0"));
    m.insert("id".into(), json!(e.id));
    m.insert("detail-type".into(), json!(e.detail_type));
    m.insert("source".into(), json!(e.source));
    m.insert("account".into(), json!(e.account));
    m.insert("time".into(), json!(iso_seconds(e.time)));
    m.insert("region".into(), json!(e.region));
    m.insert("resources".into(), json!(e.resources));
    m.insert("detail".into(), e.detail);
    Value::Object(m)
}

/// `true` when `v` looks like a whole event (what bus-to-bus delivery forwards as is).
pub fn is_event(v: &Value) -> bool {
    v.get("detail-type").is_some_and(Value::is_string)
        && v.get("source").is_some_and(Value::is_string)
}

/// Epoch ms as `2024-05-01T12:00:00Z` (whole seconds, as event `time`).
pub fn iso_seconds(ms: Millis) -> String {
    let dt = DateTime::<Utc>::from_timestamp_millis(ms as i64).unwrap_or_default();
    dt.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses an RFC 3339 time (`2024-05-01T12:00:00Z`, offsets and fractions allowed).
pub fn parse_iso(s: &str) -> Option<Millis> {
    let dt = DateTime::parse_from_rfc3339(s).ok()?;
    u64::try_from(dt.timestamp_millis()).ok()
}

/// An awsJson timestamp (epoch seconds, possibly fractional) as epoch ms.
pub fn epoch_seconds_to_ms(v: &Value) -> Option<Millis> {
    let secs = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s
            .parse::<f64>()
            .ok()
            .or_else(|| parse_iso(s).map(|ms| ms as f64 / 1000.0))?,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).round() as Millis)
}

/// Epoch ms as an awsJson timestamp (epoch seconds).
pub fn ms_to_epoch_seconds(ms: Millis) -> Value {
    if ms.is_multiple_of(1000) {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> EntryIn {
        EntryIn {
            source: Some("my.app".into()),
            detail_type: Some("Order Placed".into()),
            detail: Some(r#"{"id": 1}"#.into()),
            ..EntryIn::default()
        }
    }

    #[test]
    fn size_counts_time_source_type_detail_and_resources() {
        let mut e = entry();
        assert_eq!(entry_size(&e), 6 + 12 + 9);
        e.time = Some(1);
        e.resources = vec!["arn:x".into(), "é".into()];
        assert_eq!(entry_size(&e), 14 + 6 + 12 + 9 + 5 + 2);
    }

    #[test]
    fn entry_errors_are_awss() {
        assert!(check_entry(&entry()).is_ok());
        let mut e = entry();
        e.source = None;
        assert_eq!(check_entry(&e).unwrap_err().0, "InvalidArgument");
        let mut e = entry();
        e.detail = Some("[1]".into());
        assert_eq!(
            check_entry(&e).unwrap_err(),
            ("MalformedDetail", "Detail is malformed.".to_string())
        );
        let mut e = entry();
        e.detail = Some("\"{}\"".into());
        assert_eq!(check_entry(&e).unwrap_err().0, "MalformedDetail");
        let mut e = entry();
        e.detail_type = None;
        assert_eq!(
            check_entry(&e).unwrap_err().1,
            "Parameter DetailType is not valid. Reason: DetailType is a required argument."
        );
        let mut e = entry();
        e.source = Some("aws.ec2".into());
        assert_eq!(
            check_entry(&e).unwrap_err().0,
            "NotAuthorizedForSourceException"
        );
    }

    #[test]
    fn envelope_order_and_time() {
        let ev = build(NewEvent {
            id: "i",
            detail_type: "t",
            source: "s",
            account: "000000000000",
            time: 1_700_000_000_123,
            region: "us-east-1",
            resources: &[],
            detail: json!({}),
        });
        assert_eq!(
            ev.to_string(),
            r#"{"version":"0","id":"i","detail-type":"t","source":"s","account":"000000000000","time":"2023-11-14T22:13:20Z","region":"us-east-1","resources":[],"detail":{}}"#
        );
        assert!(is_event(&ev));
        assert_eq!(parse_iso("2023-11-14T22:13:20Z"), Some(1_700_000_000_000));
        assert_eq!(epoch_seconds_to_ms(&json!(1.5)), Some(1500));
        assert_eq!(ms_to_epoch_seconds(2000), json!(2));
    }
}
