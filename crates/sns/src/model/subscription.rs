//! Subscription protocols, endpoint rules and attribute validation.
//!
//! Messages follow AWS: `Subscribe` words attribute problems as
//! `Invalid parameter: Attributes Reason: …`, `SetSubscriptionAttributes` as
//! `Invalid parameter: …`.

use ponte_pattern::{Pattern, SnsScope};
use serde_json::Value;

use crate::error::{Error, Result, invalid};

/// Every protocol SNS accepts.
pub const PROTOCOLS: &[&str] = &[
    "http",
    "https",
    "email",
    "email-json",
    "sms",
    "sqs",
    "application",
    "lambda",
    "firehose",
];

/// Attributes a subscription may carry.
pub const ATTRIBUTES: &[&str] = &[
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
];

/// Whether a subscription of `protocol` starts pending: the endpoint owner must confirm it.
/// SQS, Lambda, SMS, application and Firehose subscriptions in the topic's account are confirmed
/// at once, as on AWS.
pub fn needs_confirmation(protocol: &str) -> bool {
    matches!(protocol, "http" | "https" | "email" | "email-json")
}

/// Checks the protocol and endpoint of a `Subscribe`.
pub fn check_endpoint(protocol: &str, endpoint: &str, topic_fifo: bool) -> Result<()> {
    if !PROTOCOLS.contains(&protocol) {
        return Err(invalid(format!(
            "Amazon SNS does not support this protocol string: {protocol}"
        )));
    }
    let is_arn = |s: &str| s.starts_with("arn:") && s.split(':').count() >= 6;
    match protocol {
        "http" | "https" if !endpoint.starts_with(&format!("{protocol}://")) => {
            return Err(invalid("Endpoint must match the specified protocol"));
        }
        "sqs" if !is_arn(endpoint) => return Err(invalid("SQS endpoint ARN")),
        "lambda" if !is_arn(endpoint) => return Err(invalid("Lambda endpoint ARN")),
        "application" if !is_arn(endpoint) => return Err(invalid("ApplicationEndpoint ARN")),
        "firehose" if !is_arn(endpoint) => return Err(invalid("Firehose endpoint ARN")),
        "email" | "email-json" => {
            let ok = endpoint
                .split_once('@')
                .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
            if !ok {
                return Err(invalid("Email address"));
            }
        }
        "sms" => {
            let digits = endpoint.strip_prefix('+').unwrap_or(endpoint);
            let ok = (2..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
            if !ok {
                return Err(Error::InvalidParameter(format!(
                    "Invalid SMS endpoint: {endpoint}"
                )));
            }
        }
        _ => {}
    }
    if protocol == "sqs" && endpoint.ends_with(".fifo") && !topic_fifo {
        // AWS repeats the prefix in this one message.
        return Err(invalid(
            "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to \
             standard SNS topics",
        ));
    }
    if topic_fifo && protocol != "sqs" {
        return Err(invalid(format!("Invalid protocol type: {protocol}")));
    }
    Ok(())
}

/// Validates one subscription attribute; `subscribe` selects `Subscribe`'s wording. Returns the
/// value to store (`RawMessageDelivery` lower-cased).
pub fn check_attribute(
    name: &str,
    value: &str,
    protocol: &str,
    topic_fifo: bool,
    endpoint: &str,
    subscribe: bool,
) -> Result<String> {
    let prefix = if subscribe { "Attributes Reason: " } else { "" };
    let bad = |what: &str| Err(invalid(format!("{prefix}{what}")));
    if !ATTRIBUTES.contains(&name) {
        return bad("AttributeName");
    }
    match name {
        "FilterPolicyScope" if value != "MessageAttributes" && value != "MessageBody" => {
            bad(&format!(
                "FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody or \
                 MessageAttributes"
            ))
        }
        "RawMessageDelivery" => {
            let lower = value.to_ascii_lowercase();
            if lower != "true" && lower != "false" {
                return bad(&format!(
                    "RawMessageDelivery: Invalid value [{value}]. Must be true or false."
                ));
            }
            if !matches!(protocol, "sqs" | "http" | "https" | "firehose") {
                return bad(&format!(
                    "Delivery protocol [{protocol}] does not support raw message delivery."
                ));
            }
            Ok(lower)
        }
        "RedrivePolicy" if !value.is_empty() => {
            let Ok(v) = serde_json::from_str::<Value>(value) else {
                return bad("RedrivePolicy: failed to parse JSON.");
            };
            let target = v
                .get("deadLetterTargetArn")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !(target.starts_with("arn:") && target.split(':').count() >= 6) {
                return bad("RedrivePolicy: deadLetterTargetArn is an invalid arn");
            }
            if topic_fifo && endpoint.ends_with(".fifo") && !target.ends_with(".fifo") {
                return bad(
                    "RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO \
                     Topic.",
                );
            }
            Ok(value.to_owned())
        }
        "DeliveryPolicy" if !value.is_empty() => {
            let Ok(v) = serde_json::from_str::<Value>(value) else {
                return bad("DeliveryPolicy: failed to parse JSON.");
            };
            crate::model::topic::check_delivery_policy(&v).map_err(|e| match e {
                Error::InvalidParameter(m) if subscribe => Error::InvalidParameter(m.replacen(
                    "Invalid parameter: ",
                    "Invalid parameter: Attributes Reason: ",
                    1,
                )),
                other => other,
            })?;
            Ok(value.to_owned())
        }
        _ => Ok(value.to_owned()),
    }
}

/// Parses a `FilterPolicyScope` value (absent = `MessageAttributes`).
pub fn scope(value: Option<&str>) -> SnsScope {
    match value {
        Some("MessageBody") => SnsScope::MessageBody,
        _ => SnsScope::MessageAttributes,
    }
}

/// Compiles a filter policy with SNS's messages; `None` for an empty policy (none set).
pub fn compile_filter(policy: &str, scope: SnsScope, subscribe: bool) -> Result<Option<Pattern>> {
    if policy.trim().is_empty() {
        return Ok(None);
    }
    match Pattern::compile_sns(policy, scope) {
        Ok(p) => Ok(Some(p)),
        Err(e) => {
            let Some(r) = e.rejection() else {
                return Err(invalid("FilterPolicy"));
            };
            if r.is_internal_failure() {
                return Err(Error::InternalFailure(String::new()));
            }
            Err(Error::InvalidParameter(if subscribe {
                r.sns_subscribe_message()
            } else {
                r.message()
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_attributes() {
        assert!(check_endpoint("sqs", "arn:aws:sqs:us-east-1:000000000000:q", false).is_ok());
        assert_eq!(
            check_endpoint("smtp", "x", false).unwrap_err().to_string(),
            "Invalid parameter: Amazon SNS does not support this protocol string: smtp"
        );
        assert_eq!(
            check_endpoint("http", "https://x", false)
                .unwrap_err()
                .to_string(),
            "Invalid parameter: Endpoint must match the specified protocol"
        );
        assert_eq!(
            check_endpoint("sqs", "arn:aws:sqs:us-east-1:000000000000:q.fifo", false)
                .unwrap_err()
                .to_string(),
            "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be \
             subscribed to standard SNS topics"
        );
        assert_eq!(
            check_attribute("RawMessageDelivery", "TRUE", "sqs", false, "", true).unwrap(),
            "true"
        );
        assert_eq!(
            check_attribute("Nope", "1", "sqs", false, "", true)
                .unwrap_err()
                .to_string(),
            "Invalid parameter: Attributes Reason: AttributeName"
        );
        assert_eq!(
            check_attribute("FilterPolicyScope", "Body", "sqs", false, "", false)
                .unwrap_err()
                .to_string(),
            "Invalid parameter: FilterPolicyScope: Invalid value [Body]. Please use either \
             MessageBody or MessageAttributes"
        );
        let err = compile_filter(r#"{"a": []}"#, SnsScope::MessageAttributes, true).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Invalid parameter: Attributes Reason: FilterPolicy: "),
            "{err}"
        );
        assert!(
            compile_filter("", SnsScope::MessageBody, false)
                .unwrap()
                .is_none()
        );
    }
}
