//! The messages a delivery sends when it ends ([`FollowUpFormat`]): Lambda's invocation record,
//! Lambda's DLQ message, EventBridge's target DLQ message, or a plain copy.
//!
//! Everything here is pure (no clock, no store), so the formats are unit-tested byte for byte and
//! engines may reuse them (for example Lambda building a record for a synchronous path).
//!
//! Sources for the shapes:
//! - Invocation record: Lambda developer guide, "Capturing records of Lambda asynchronous
//!   invocations" (field order `version`, `timestamp`, `requestContext`, `requestPayload`,
//!   `responseContext`, `responsePayload`). Conditions are `Success`, `RetriesExhausted`,
//!   `EventAgeExceeded` and `ZeroReservedConcurrency`.
//! - Lambda DLQ: attributes `RequestID` (String), `ErrorCode` (Number, a 3-digit HTTP status),
//!   `ErrorMessage` (String, truncated to 1 KB).
//! - EventBridge DLQ ("Using dead-letter queues to process undelivered events"): String
//!   attributes `RULE_ARN`, `TARGET_ARN`, `ERROR_CODE`, `ERROR_MESSAGE`,
//!   `EXHAUSTED_RETRY_CONDITION` (`MaximumRetryAttempts` or `MaximumEventAgeInSeconds`; absent
//!   when the failure was not retried at all) and `RETRY_ATTEMPTS`.

use std::collections::BTreeMap;

use ponte_types::{Arn, Millis};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::{
    Attribute, FailureKind, FollowUp, FollowUpFormat, Job, Message, NewJob, Outcome, Policy,
};

/// Lambda's DLQ keeps the first kilobyte of the error message.
const DLQ_MESSAGE_LIMIT: usize = 1024;
/// The Failure code a Lambda target uses for "reserved concurrency is 0": AWS then sends the
/// event to the failure destination at once, with this condition.
pub const ZERO_RESERVED_CONCURRENCY: &str = "ZeroReservedConcurrency";
/// `detail-type` of an invocation record sent to an EventBridge bus on success.
pub const DETAIL_TYPE_SUCCESS: &str = "Lambda Function Invocation Result - Success";
/// `detail-type` of an invocation record sent to an EventBridge bus on failure.
pub const DETAIL_TYPE_FAILURE: &str = "Lambda Function Invocation Result - Failure";

/// Why a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Condition {
    /// An attempt succeeded.
    Success,
    /// [`Policy::max_retries`] retries after errors all failed.
    RetriesExhausted,
    /// The next retry would start after [`Policy::max_age`], or the delivery was already too old
    /// when its turn came.
    EventAgeExceeded,
    /// A [`FailureKind::Permanent`] failure: retrying cannot help, so none was made.
    NotRetryable,
}

impl Condition {
    /// The `condition` of Lambda's invocation record. A permanent failure is reported as
    /// `RetriesExhausted` (AWS has no separate word for it) unless the target said the function's
    /// reserved concurrency is zero.
    pub fn lambda_name(self, job: &Job) -> &'static str {
        match self {
            Condition::Success => "Success",
            Condition::RetriesExhausted => "RetriesExhausted",
            Condition::EventAgeExceeded => "EventAgeExceeded",
            Condition::NotRetryable => {
                if job
                    .last_failure
                    .as_ref()
                    .is_some_and(|f| f.code == ZERO_RESERVED_CONCURRENCY)
                {
                    ZERO_RESERVED_CONCURRENCY
                } else {
                    "RetriesExhausted"
                }
            }
        }
    }

    /// EventBridge's `EXHAUSTED_RETRY_CONDITION`; `None` when no retry limit ended the delivery.
    pub fn eventbridge_name(self) -> Option<&'static str> {
        match self {
            Condition::RetriesExhausted => Some("MaximumRetryAttempts"),
            Condition::EventAgeExceeded => Some("MaximumEventAgeInSeconds"),
            Condition::Success | Condition::NotRetryable => None,
        }
    }
}

/// Epoch milliseconds as ISO-8601 UTC with milliseconds (`2019-11-14T18:16:05.568Z`).
pub use ponte_types::time::iso8601_millis;

/// A payload as the JSON value AWS embeds: the parsed document when it is JSON, else the text.
fn embed(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// Lambda's invocation record for `job`, which has made `job.attempts` attempts; `last` is the
/// final attempt's outcome (`None` when no attempt ran, such as an event that aged out before
/// its first try).
///
/// `responseContext` and `responsePayload` appear when the function ran: on success, and on a
/// [`FailureKind::Error`] failure (with `functionError`). A delivery that only ever met throttles
/// or permanent refusals has no response to report, so both are left out.
pub fn invocation_record(
    job: &Job,
    last: Option<&Outcome>,
    condition: Condition,
    now: Millis,
) -> String {
    let mut record = Map::new();
    record.insert("version".into(), json!("1.0"));
    record.insert("timestamp".into(), json!(iso8601_millis(now)));
    record.insert(
        "requestContext".into(),
        json!({
            "requestId": job.id,
            "functionArn": job.target,
            "condition": condition.lambda_name(job),
            "approximateInvokeCount": job.attempts,
        }),
    );
    record.insert("requestPayload".into(), embed(&job.message.body));
    match last {
        Some(Outcome::Delivered {
            status_code,
            response,
            executed_version,
        }) => {
            record.insert(
                "responseContext".into(),
                json!({
                    "statusCode": status_code,
                    "executedVersion": executed_version.as_deref().unwrap_or("$LATEST"),
                }),
            );
            record.insert(
                "responsePayload".into(),
                response.as_deref().map_or(Value::Null, embed),
            );
        }
        Some(Outcome::Failed(f)) if f.kind == FailureKind::Error => {
            // Lambda reports `Handled` only for the legacy runtimes that set it; everything
            // else is `Unhandled`.
            let function_error = if f.code == "Handled" {
                "Handled"
            } else {
                "Unhandled"
            };
            record.insert(
                "responseContext".into(),
                json!({
                    "statusCode": f.status_code,
                    "executedVersion": f.executed_version.as_deref().unwrap_or("$LATEST"),
                    "functionError": function_error,
                }),
            );
            record.insert(
                "responsePayload".into(),
                f.response.as_deref().map_or(Value::Null, embed),
            );
        }
        _ => {}
    }
    Value::Object(record).to_string()
}

/// The longest prefix of `s` of at most `limit` bytes that ends on a character boundary.
fn truncate_bytes(s: &str, limit: usize) -> &str {
    if s.len() <= limit {
        return s;
    }
    let mut end = limit;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Lambda's function DLQ message: the original body unchanged, with `RequestID`, `ErrorCode`
/// (the last status code: 200 for a function error, 429 for throttles) and `ErrorMessage`
/// (its first 1 KB). `ErrorCode` and `ErrorMessage` are left out when no attempt failed.
pub fn lambda_dead_letter(job: &Job) -> Message {
    let mut attributes = BTreeMap::new();
    attributes.insert("RequestID".to_owned(), Attribute::string(&job.id));
    if let Some(f) = &job.last_failure {
        attributes.insert("ErrorCode".to_owned(), Attribute::number(f.status_code));
        let message = if f.message.is_empty() {
            // A function error without a message of its own: use the error document's
            // `errorMessage`, as Lambda does.
            f.response
                .as_deref()
                .and_then(|r| serde_json::from_str::<Value>(r).ok())
                .and_then(|v| v.get("errorMessage")?.as_str().map(str::to_owned))
                .unwrap_or_default()
        } else {
            f.message.clone()
        };
        attributes.insert(
            "ErrorMessage".to_owned(),
            Attribute::string(truncate_bytes(&message, DLQ_MESSAGE_LIMIT)),
        );
    }
    Message {
        body: job.message.body.clone(),
        attributes,
        ..Message::default()
    }
}

/// EventBridge's `ERROR_CODE` for a failure. A code that already is one of EventBridge's
/// (upper case with underscores, as the events engine's own targets report) is kept; others are
/// mapped from the failure kind and the target's error code.
pub fn eventbridge_error_code(failure: Option<&crate::Failure>) -> String {
    let Some(f) = failure else {
        return "UNKNOWN".to_owned();
    };
    let code = f.code.as_str();
    if !code.is_empty()
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
    {
        return code.to_owned();
    }
    let has = |needle: &str| code.contains(needle);
    let mapped = match f.kind {
        FailureKind::Throttled => "THROTTLING",
        FailureKind::Unavailable if has("Timeout") || has("TimedOut") => "TIMEOUT",
        FailureKind::Unavailable if f.status_code >= 500 => "INTERNAL_ERROR",
        FailureKind::Unavailable => "CONNECTION_FAILURE",
        FailureKind::Error => "ERROR_FROM_TARGET",
        FailureKind::Permanent if has("NotFound") || has("NonExistent") || has("DoesNotExist") => {
            "NO_RESOURCE"
        }
        FailureKind::Permanent if has("AccessDenied") || has("Authorization") || has("KMS") => {
            "NO_PERMISSIONS"
        }
        FailureKind::Permanent
            if has("Invalid") || has("Validation") || has("TooLarge") || has("TooLong") =>
        {
            "INVALID_PARAMETER"
        }
        FailureKind::Permanent => "SDK_CLIENT_ERROR",
    };
    mapped.to_owned()
}

/// EventBridge's target DLQ message: the event as it was sent to the target, with the String
/// attributes AWS documents. `RETRY_ATTEMPTS` counts retries, i.e. attempts after the first.
pub fn eventbridge_dead_letter(job: &Job, rule_arn: &str, condition: Condition) -> Message {
    let failure = job.last_failure.as_ref();
    let mut attributes = BTreeMap::new();
    attributes.insert("RULE_ARN".to_owned(), Attribute::string(rule_arn));
    attributes.insert("TARGET_ARN".to_owned(), Attribute::string(&job.target));
    attributes.insert(
        "ERROR_CODE".to_owned(),
        Attribute::string(eventbridge_error_code(failure)),
    );
    let message = match failure {
        Some(f) => f.message.clone(),
        None => "The event was older than the target's maximum event age.".to_owned(),
    };
    attributes.insert("ERROR_MESSAGE".to_owned(), Attribute::string(message));
    if let Some(name) = condition.eventbridge_name() {
        attributes.insert(
            "EXHAUSTED_RETRY_CONDITION".to_owned(),
            Attribute::string(name),
        );
    }
    attributes.insert(
        "RETRY_ATTEMPTS".to_owned(),
        Attribute::string(job.attempts.saturating_sub(1).to_string()),
    );
    Message {
        body: job.message.body.clone(),
        attributes,
        ..Message::default()
    }
}

/// The delivery that `follow_up` makes once `job` ended with `condition` (`last` as in
/// [`invocation_record`]). It carries the original trace header, names the original target as
/// its source and runs under [`Policy::follow_up_default`].
pub fn follow_up_job(
    job: &Job,
    last: Option<&Outcome>,
    condition: Condition,
    follow_up: &FollowUp,
    now: Millis,
) -> NewJob {
    let to_lambda = Arn::parse(&follow_up.target).is_some_and(|a| a.service == "lambda");
    let mut context = Map::new();
    let mut ordering_key = None;
    let message = match &follow_up.format {
        FollowUpFormat::LambdaRecord => {
            // An EventBridge bus destination wraps the record in an event whose source and
            // detail-type AWS fixes; the events engine reads them from here.
            let detail_type = if condition == Condition::Success {
                DETAIL_TYPE_SUCCESS
            } else {
                DETAIL_TYPE_FAILURE
            };
            context.insert("source".into(), json!("lambda"));
            context.insert("detailType".into(), json!(detail_type));
            context.insert("resources".into(), json!([job.target, follow_up.target]));
            Message {
                body: invocation_record(job, last, condition, now),
                ..Message::default()
            }
        }
        FollowUpFormat::LambdaDeadLetter => lambda_dead_letter(job),
        FollowUpFormat::EventBridgeDeadLetter { rule_arn } => {
            eventbridge_dead_letter(job, rule_arn, condition)
        }
        FollowUpFormat::Copy => {
            // A FIFO DLQ keeps the group's order, so copies of one group go one at a time.
            if let Some(group) = &job.message.group_id {
                ordering_key = Some(format!("{}#{group}", follow_up.target));
            }
            job.message.clone()
        }
    };
    if to_lambda {
        // AWS invokes a destination function asynchronously.
        context.insert("invocationType".into(), json!("Event"));
    }
    NewJob {
        target: follow_up.target.clone(),
        message,
        policy: Policy::follow_up_default(),
        trace_header: job.trace_header.clone(),
        source: Some(job.target.clone()),
        ordering_key,
        id: None,
        context: if context.is_empty() {
            Value::Null
        } else {
            Value::Object(context)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Failure;

    fn job(body: &str) -> Job {
        Job {
            id: "e4b46cbf-b738-xmpl-8880-a18cdf61200e".into(),
            target: "arn:aws:lambda:us-east-2:123456789012:function:my-function:$LATEST".into(),
            message: Message {
                body: body.into(),
                ..Message::default()
            },
            policy: Policy::lambda_async(),
            trace_header: Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1".into()),
            source: None,
            ordering_key: None,
            context: Value::Null,
            created_at: 0,
            attempts: 3,
            error_attempts: 3,
            last_failure: None,
        }
    }

    fn function_error(message: &str, response: &str) -> Failure {
        Failure {
            kind: FailureKind::Error,
            status_code: 200,
            code: "Unhandled".into(),
            message: message.into(),
            response: Some(response.into()),
            executed_version: Some("$LATEST".into()),
        }
    }

    #[test]
    fn iso_timestamps() {
        assert_eq!(iso8601_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso8601_millis(1_573_755_365_568),
            "2019-11-14T18:16:05.568Z"
        );
        assert_eq!(iso8601_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            iso8601_millis(4_102_444_799_999),
            "2099-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn record_matches_the_documented_example() {
        let mut j = job(r#"{"ORDER_IDS":["9e07af03-ce31-4ff3-xmpl-36dce652cb4f"]}"#);
        let f = function_error(
            "RequestId: e4b46cbf Process exited before completing request",
            r#"{"errorMessage":"RequestId: e4b46cbf Process exited before completing request"}"#,
        );
        j.last_failure = Some(f.clone());
        let got = invocation_record(
            &j,
            Some(&Outcome::Failed(f)),
            Condition::RetriesExhausted,
            1_573_755_365_568,
        );
        assert_eq!(
            got,
            concat!(
                r#"{"version":"1.0","timestamp":"2019-11-14T18:16:05.568Z","#,
                r#""requestContext":{"requestId":"e4b46cbf-b738-xmpl-8880-a18cdf61200e","#,
                r#""functionArn":"arn:aws:lambda:us-east-2:123456789012:function:my-function:$LATEST","#,
                r#""condition":"RetriesExhausted","approximateInvokeCount":3},"#,
                r#""requestPayload":{"ORDER_IDS":["9e07af03-ce31-4ff3-xmpl-36dce652cb4f"]},"#,
                r#""responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"#,
                r#""responsePayload":{"errorMessage":"RequestId: e4b46cbf Process exited before completing request"}}"#
            )
        );
    }

    #[test]
    fn success_record_and_text_payloads() {
        let mut j = job("not json");
        j.attempts = 1;
        j.error_attempts = 0;
        let ok = Outcome::Delivered {
            status_code: 200,
            response: None,
            executed_version: Some("3".into()),
        };
        let got = invocation_record(&j, Some(&ok), Condition::Success, 0);
        assert_eq!(
            got,
            concat!(
                r#"{"version":"1.0","timestamp":"1970-01-01T00:00:00.000Z","#,
                r#""requestContext":{"requestId":"e4b46cbf-b738-xmpl-8880-a18cdf61200e","#,
                r#""functionArn":"arn:aws:lambda:us-east-2:123456789012:function:my-function:$LATEST","#,
                r#""condition":"Success","approximateInvokeCount":1},"#,
                r#""requestPayload":"not json","#,
                r#""responseContext":{"statusCode":200,"executedVersion":"3"},"responsePayload":null}"#
            )
        );
        // A response that is not JSON is embedded as a string.
        let ok = Outcome::Delivered {
            status_code: 200,
            response: Some("plain".into()),
            executed_version: None,
        };
        let v: Value =
            serde_json::from_str(&invocation_record(&j, Some(&ok), Condition::Success, 0)).unwrap();
        assert_eq!(v["responsePayload"], json!("plain"));
        assert_eq!(v["responseContext"]["executedVersion"], json!("$LATEST"));
    }

    #[test]
    fn throttled_out_record_has_no_response() {
        let mut j = job("{}");
        let f = Failure {
            kind: FailureKind::Throttled,
            status_code: 429,
            code: "TooManyRequestsException".into(),
            message: "Rate Exceeded.".into(),
            response: None,
            executed_version: None,
        };
        j.last_failure = Some(f.clone());
        let v: Value = serde_json::from_str(&invocation_record(
            &j,
            Some(&Outcome::Failed(f.clone())),
            Condition::EventAgeExceeded,
            0,
        ))
        .unwrap();
        assert_eq!(v["requestContext"]["condition"], json!("EventAgeExceeded"));
        assert!(v.get("responseContext").is_none());
        assert!(v.get("responsePayload").is_none());
        // Reserved concurrency 0 is reported as its own condition.
        let mut f0 = f;
        f0.kind = FailureKind::Permanent;
        f0.code = ZERO_RESERVED_CONCURRENCY.into();
        j.last_failure = Some(f0.clone());
        let v: Value = serde_json::from_str(&invocation_record(
            &j,
            Some(&Outcome::Failed(f0)),
            Condition::NotRetryable,
            0,
        ))
        .unwrap();
        assert_eq!(
            v["requestContext"]["condition"],
            json!("ZeroReservedConcurrency")
        );
    }

    #[test]
    fn lambda_dlq_message() {
        let mut j = job(r#"{"a":1}"#);
        let long = "é".repeat(700); // 1400 bytes; the cut must not split a character.
        j.last_failure = Some(function_error(&long, "{}"));
        let m = lambda_dead_letter(&j);
        assert_eq!(m.body, r#"{"a":1}"#);
        assert_eq!(m.attributes["RequestID"], Attribute::string(&j.id));
        assert_eq!(m.attributes["ErrorCode"], Attribute::number(200));
        let msg = m.attributes["ErrorMessage"].string_value.clone().unwrap();
        assert_eq!(msg.len(), 1024);
        assert!(long.starts_with(&msg));
        // No message of its own: the function's errorMessage.
        j.last_failure = Some(function_error("", r#"{"errorMessage":"boom"}"#));
        let m = lambda_dead_letter(&j);
        assert_eq!(m.attributes["ErrorMessage"], Attribute::string("boom"));
    }

    #[test]
    fn eventbridge_dlq_message() {
        let mut j = job(r#"{"detail":{}}"#);
        j.target = "arn:aws:sqs:us-east-1:000000000000:orders".into();
        j.attempts = 4;
        j.last_failure = Some(Failure {
            kind: FailureKind::Throttled,
            status_code: 400,
            code: "RequestThrottled".into(),
            message: "slow down".into(),
            response: None,
            executed_version: None,
        });
        let m = eventbridge_dead_letter(
            &j,
            "arn:aws:events:us-east-1:000000000000:rule/r",
            Condition::EventAgeExceeded,
        );
        let s = |k: &str| m.attributes[k].string_value.clone().unwrap();
        assert_eq!(
            s("RULE_ARN"),
            "arn:aws:events:us-east-1:000000000000:rule/r"
        );
        assert_eq!(s("TARGET_ARN"), "arn:aws:sqs:us-east-1:000000000000:orders");
        assert_eq!(s("ERROR_CODE"), "THROTTLING");
        assert_eq!(s("ERROR_MESSAGE"), "slow down");
        assert_eq!(s("EXHAUSTED_RETRY_CONDITION"), "MaximumEventAgeInSeconds");
        assert_eq!(s("RETRY_ATTEMPTS"), "3");
        assert!(m.attributes.values().all(|a| a.data_type == "String"));
        // A target that is gone is not retried: no exhausted condition.
        j.attempts = 1;
        j.last_failure = Some(Failure {
            kind: FailureKind::Permanent,
            status_code: 400,
            code: "AWS.SimpleQueueService.NonExistentQueue".into(),
            message: "The specified queue does not exist.".into(),
            response: None,
            executed_version: None,
        });
        let m = eventbridge_dead_letter(&j, "r", Condition::NotRetryable);
        assert_eq!(m.attributes["ERROR_CODE"], Attribute::string("NO_RESOURCE"));
        assert_eq!(m.attributes["RETRY_ATTEMPTS"], Attribute::string("0"));
        assert!(!m.attributes.contains_key("EXHAUSTED_RETRY_CONDITION"));
    }

    #[test]
    fn follow_up_jobs() {
        let mut j = job(r#"{"k":"v"}"#);
        j.message.group_id = Some("g1".into());
        let ok = Outcome::Delivered {
            status_code: 200,
            response: Some("1".into()),
            executed_version: None,
        };
        let to_fn = FollowUp {
            target: "arn:aws:lambda:us-east-1:000000000000:function:next".into(),
            format: FollowUpFormat::LambdaRecord,
        };
        let n = follow_up_job(&j, Some(&ok), Condition::Success, &to_fn, 0);
        assert_eq!(n.policy, Policy::follow_up_default());
        assert_eq!(n.trace_header, j.trace_header);
        assert_eq!(n.source.as_deref(), Some(j.target.as_str()));
        assert_eq!(n.context["invocationType"], json!("Event"));
        assert_eq!(n.context["source"], json!("lambda"));
        assert_eq!(n.context["detailType"], json!(DETAIL_TYPE_SUCCESS));
        assert_eq!(n.ordering_key, None);
        let copy = FollowUp {
            target: "arn:aws:sqs:us-east-1:000000000000:dlq.fifo".into(),
            format: FollowUpFormat::Copy,
        };
        let n = follow_up_job(&j, None, Condition::RetriesExhausted, &copy, 0);
        assert_eq!(n.message, j.message);
        assert_eq!(n.context, Value::Null);
        assert_eq!(
            n.ordering_key.as_deref(),
            Some("arn:aws:sqs:us-east-1:000000000000:dlq.fifo#g1")
        );
    }
}
