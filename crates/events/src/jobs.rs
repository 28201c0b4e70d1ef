//! From a matched (event, rule, target) to the delivery staged for it.
//!
//! - Body: the event, or what the target's `Input` / `InputPath` / `InputTransformer` makes of
//!   it ([`crate::model::transform`]); an event bus target always receives the event itself,
//!   which the receiving bus then matches against its own rules.
//! - SQS FIFO targets: `MessageGroupId` from `SqsParameters`, the event id as deduplication
//!   id, and one ordering key per queue and group so a group is delivered in order.
//! - Lambda targets: asynchronous invocation (`{"invocationType": "Event"}` in the context).
//! - Policy: the target's `RetryPolicy` (`MaximumRetryAttempts` 0–185, default 185;
//!   `MaximumEventAgeInSeconds` 60–86400, default 86400), exponential backoff from 1 s to
//!   5 min, and its `DeadLetterConfig` as an EventBridge-format dead-letter follow-up.

use std::collections::BTreeMap;
use std::time::Duration;

use ponte_delivery::{Backoff, FollowUp, FollowUpFormat, Message, NewJob, Policy};
use serde_json::{Value, json};

use crate::model::names;
use crate::model::transform::{self, JsonPath, Reserved};

/// Default `MaximumRetryAttempts`.
pub const DEFAULT_RETRIES: u32 = 185;
/// Default `MaximumEventAgeInSeconds`.
pub const DEFAULT_MAX_AGE_SECS: u64 = 86_400;

/// The rule a job is made for.
#[derive(Debug, Clone, Copy)]
pub struct RuleRef<'a> {
    /// Rule ARN.
    pub arn: &'a str,
    /// Rule name.
    pub name: &'a str,
}

/// The body a target receives for `event`.
pub fn body_for(
    target: &Value,
    rule: RuleRef<'_>,
    event: &Value,
    event_text: &str,
    ingestion_iso: &str,
) -> String {
    if let Some(input) = target.get("Input").and_then(Value::as_str) {
        return input.to_owned();
    }
    if let Some(path) = target.get("InputPath").and_then(Value::as_str) {
        return match JsonPath::parse(path).and_then(|p| p.select(event)) {
            Some(v) => v.to_string(),
            None => "null".to_owned(),
        };
    }
    if let Some(t) = target.get("InputTransformer") {
        let template = t
            .get("InputTemplate")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let paths: BTreeMap<String, String> = t
            .get("InputPathsMap")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        return transform::render(
            template,
            &paths,
            event,
            Reserved {
                rule_arn: rule.arn,
                rule_name: rule.name,
                ingestion_time: ingestion_iso,
            },
        );
    }
    event_text.to_owned()
}

/// The delivery policy of a target.
pub fn policy_for(target: &Value, rule_arn: &str) -> Policy {
    let retry = target.get("RetryPolicy");
    let max_retries = retry
        .and_then(|r| r.get("MaximumRetryAttempts"))
        .and_then(Value::as_u64)
        .map_or(DEFAULT_RETRIES, |n| {
            n.min(u64::from(DEFAULT_RETRIES)) as u32
        });
    let max_age = retry
        .and_then(|r| r.get("MaximumEventAgeInSeconds"))
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_MAX_AGE_SECS);
    let backoff = Backoff::Exponential {
        initial_ms: 1_000,
        max_ms: 300_000,
        factor: 2.0,
    };
    let on_failure = target
        .get("DeadLetterConfig")
        .and_then(|d| d.get("Arn"))
        .and_then(Value::as_str)
        .map(|arn| {
            vec![FollowUp {
                target: arn.to_owned(),
                format: FollowUpFormat::EventBridgeDeadLetter {
                    rule_arn: rule_arn.to_owned(),
                },
            }]
        })
        .unwrap_or_default();
    Policy {
        max_retries,
        error_backoff: backoff.clone(),
        throttle_backoff: backoff,
        max_age: Duration::from_secs(max_age),
        on_success: Vec::new(),
        on_failure,
    }
}

/// The delivery for one target of a matched rule.
pub fn job_for(
    target: &Value,
    rule: RuleRef<'_>,
    event: &Value,
    event_text: &str,
    ingestion_iso: &str,
    trace_header: Option<&str>,
) -> NewJob {
    let arn = target
        .get("Arn")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let service = names::arn_service(arn).unwrap_or_default();
    let body = if service == "events" {
        event_text.to_owned()
    } else {
        body_for(target, rule, event, event_text, ingestion_iso)
    };
    let mut message = Message {
        body,
        ..Message::default()
    };
    let mut ordering_key = None;
    let mut context =
        json!({"ruleArn": rule.arn, "targetId": target.get("Id").cloned().unwrap_or(Value::Null)});
    match service {
        "sqs" => {
            let group = target
                .get("SqsParameters")
                .and_then(|p| p.get("MessageGroupId"))
                .and_then(Value::as_str);
            if names::is_fifo_queue_arn(arn) {
                message.group_id = group.map(str::to_owned);
                message.dedup_id = event.get("id").and_then(Value::as_str).map(str::to_owned);
                ordering_key = Some(format!("{arn}#{}", group.unwrap_or_default()));
            }
        }
        "lambda" => {
            context["invocationType"] = json!("Event");
        }
        _ => {}
    }
    NewJob {
        target: arn.to_owned(),
        message,
        policy: policy_for(target, rule.arn),
        trace_header: trace_header.map(str::to_owned),
        source: Some(rule.arn.to_owned()),
        ordering_key,
        id: None,
        context,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: RuleRef<'static> = RuleRef {
        arn: "arn:aws:events:us-east-1:000000000000:rule/r",
        name: "r",
    };

    fn event() -> Value {
        json!({"version": "0", "id": "e1", "detail-type": "t", "source": "s", "account": "000000000000",
               "time": "2024-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
               "detail": {"payload": {"sf_id": "baz"}}})
    }

    #[test]
    fn bodies() {
        let e = event();
        let text = e.to_string();
        let ing = "2024-01-01T00:00:01Z";
        assert_eq!(body_for(&json!({}), RULE, &e, &text, ing), text);
        assert_eq!(
            body_for(&json!({"Input": "{\"a\":1}"}), RULE, &e, &text, ing),
            "{\"a\":1}"
        );
        assert_eq!(
            body_for(
                &json!({"InputPath": "$.detail.payload.sf_id"}),
                RULE,
                &e,
                &text,
                ing
            ),
            "\"baz\""
        );
        assert_eq!(
            body_for(&json!({"InputPath": "$.detail"}), RULE, &e, &text, ing),
            "{\"payload\":{\"sf_id\":\"baz\"}}"
        );
        let t = json!({"InputTransformer": {"InputPathsMap": {"v": "$.detail.payload.sf_id"}, "InputTemplate": "{\"v\": <v>, \"r\": \"<aws.events.rule-name>\"}"}});
        assert_eq!(
            body_for(&t, RULE, &e, &text, ing),
            "{\"v\": \"baz\", \"r\": \"r\"}"
        );
    }

    #[test]
    fn jobs_per_target_kind() {
        let e = event();
        let text = e.to_string();
        let fifo = json!({"Id": "t", "Arn": "arn:aws:sqs:us-east-1:000000000000:q.fifo",
                          "SqsParameters": {"MessageGroupId": "g1"},
                          "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 120},
                          "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:000000000000:dlq"}});
        let j = job_for(&fifo, RULE, &e, &text, "x", Some("Root=1-abc"));
        assert_eq!(j.message.group_id.as_deref(), Some("g1"));
        assert_eq!(j.message.dedup_id.as_deref(), Some("e1"));
        assert_eq!(j.policy.max_retries, 3);
        assert_eq!(j.policy.max_age, Duration::from_secs(120));
        assert_eq!(
            j.policy.on_failure[0].format,
            FollowUpFormat::EventBridgeDeadLetter {
                rule_arn: RULE.arn.into()
            }
        );
        assert_eq!(j.trace_header.as_deref(), Some("Root=1-abc"));
        let lambda = json!({"Id": "l", "Arn": "arn:aws:lambda:us-east-1:000000000000:function:f"});
        let j = job_for(&lambda, RULE, &e, &text, "x", None);
        assert_eq!(j.context["invocationType"], "Event");
        assert_eq!(j.policy.max_retries, DEFAULT_RETRIES);
        let bus = json!({"Id": "b", "Arn": "arn:aws:events:us-east-1:111111111111:event-bus/x", "InputPath": "$.detail"});
        assert_eq!(job_for(&bus, RULE, &e, &text, "x", None).message.body, text);
    }
}
