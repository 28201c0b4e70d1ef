//! Topic names and attributes, the default access policy, and delivery policies (topic
//! `DeliveryPolicy` / subscription `DeliveryPolicy`) turned into delivery [`Policy`]s.

use std::collections::BTreeMap;
use std::time::Duration;

use ponte_delivery::{Backoff, Policy};
use serde_json::{Value, json};

use crate::error::{Result, invalid};

/// Largest topic name (without `.fifo`).
const MAX_NAME: usize = 256;

/// Checks a topic name for `CreateTopic`.
pub fn check_name(name: &str, fifo: bool) -> Result<()> {
    let valid_chars = |s: &str| {
        !s.is_empty()
            && s.len() <= MAX_NAME
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if fifo {
        let ok = name
            .strip_suffix(".fifo")
            .is_some_and(|base| valid_chars(base) && name.len() <= MAX_NAME);
        if !ok {
            return Err(crate::error::Error::InvalidParameter(
                "Fifo Topic names must end with .fifo and must be made up of only uppercase and \
                 lowercase ASCII letters, numbers, underscores, and hyphens, and must be between \
                 1 and 256 characters long."
                    .into(),
            ));
        }
        return Ok(());
    }
    if !valid_chars(name) {
        return Err(invalid("Topic Name"));
    }
    Ok(())
}

/// Attributes a caller may set (`CreateTopic` / `SetTopicAttributes`), besides the delivery
/// status logging ones ([`is_feedback_attribute`]).
pub const SETTABLE: &[&str] = &[
    "DisplayName",
    "Policy",
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
    "ContentBasedDeduplication",
    "ArchivePolicy",
    "FifoThroughputScope",
    "DataProtectionPolicy",
];

/// `{HTTP,Lambda,SQS,Application,Firehose}{SuccessFeedbackRoleArn,SuccessFeedbackSampleRate,
/// FailureFeedbackRoleArn}`: stored, delivery status logging is not performed.
pub fn is_feedback_attribute(name: &str) -> bool {
    ["HTTP", "Lambda", "SQS", "Application", "Firehose"]
        .iter()
        .any(|p| {
            name.strip_prefix(p).is_some_and(|rest| {
                matches!(
                    rest,
                    "SuccessFeedbackRoleArn"
                        | "SuccessFeedbackSampleRate"
                        | "FailureFeedbackRoleArn"
                )
            })
        })
}

/// Validates one attribute value. `create` selects the `Attributes Reason:` wording.
pub fn check_attribute(name: &str, value: &str, fifo: bool) -> Result<()> {
    match name {
        "SignatureVersion" if value != "1" && value != "2" => Err(invalid("SignatureVersion")),
        "TracingConfig" if value != "PassThrough" && value != "Active" => {
            Err(invalid("TracingConfig"))
        }
        "DisplayName" if value.chars().count() > 100 => Err(invalid("DisplayName")),
        "Policy" => match serde_json::from_str::<Value>(value) {
            Ok(Value::Object(_)) => Ok(()),
            _ => Err(invalid("Policy Error: null")),
        },
        "DeliveryPolicy" if !value.is_empty() => {
            let v: Value = serde_json::from_str(value)
                .map_err(|_| invalid("DeliveryPolicy: failed to parse JSON."))?;
            check_delivery_policy(&v)
        }
        "ContentBasedDeduplication" => {
            if !fifo {
                return Err(invalid(
                    "ContentBasedDeduplication Reason: Content based deduplication can only be \
                     set for FIFO topics",
                ));
            }
            if value != "true" && value != "false" {
                return Err(invalid("ContentBasedDeduplication"));
            }
            Ok(())
        }
        "FifoThroughputScope" => {
            if !fifo {
                return Err(invalid(
                    "FifoThroughputScope Reason: FifoThroughputScope can only be set for FIFO \
                     topics",
                ));
            }
            if value != "Topic" && value != "MessageGroup" {
                return Err(invalid("FifoThroughputScope"));
            }
            Ok(())
        }
        "ArchivePolicy" => {
            if !fifo {
                return Err(invalid(
                    "ArchivePolicy Reason: The archive policy can only be set for FIFO topics",
                ));
            }
            if value.is_empty() {
                return Ok(());
            }
            let v: Value = serde_json::from_str(value)
                .map_err(|_| invalid("ArchivePolicy: failed to parse JSON."))?;
            let days = v.get("MessageRetentionPeriod").and_then(|d| {
                d.as_u64()
                    .or_else(|| d.as_str().and_then(|s| s.parse::<u64>().ok()))
            });
            match days {
                Some(1..=365) => Ok(()),
                _ => Err(invalid(
                    "ArchivePolicy Reason: MessageRetentionPeriod must be between 1 and 365 days",
                )),
            }
        }
        _ => Ok(()),
    }
}

/// The access policy SNS gives a new topic.
pub fn default_policy(topic_arn: &str, account: &str) -> String {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "SNS:GetTopicAttributes",
                "SNS:SetTopicAttributes",
                "SNS:AddPermission",
                "SNS:RemovePermission",
                "SNS:DeleteTopic",
                "SNS:Subscribe",
                "SNS:ListSubscriptionsByTopic",
                "SNS:Publish"
            ],
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}}
        }]
    })
    .to_string()
}

/// The actions `AddPermission` accepts.
pub const POLICY_ACTIONS: &[&str] = &[
    "GetTopicAttributes",
    "SetTopicAttributes",
    "AddPermission",
    "RemovePermission",
    "DeleteTopic",
    "Subscribe",
    "ListSubscriptionsByTopic",
    "Publish",
    "Receive",
];

/// SNS's HTTP retry policy parameters
/// (<https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html>).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Smallest delay, seconds.
    pub min_delay: u64,
    /// Largest delay, seconds.
    pub max_delay: u64,
    /// Retries in all.
    pub num_retries: u64,
    /// Retries without delay (first phase).
    pub num_no_delay: u64,
    /// Retries at `min_delay` (second phase).
    pub num_min_delay: u64,
    /// Retries at `max_delay` (last phase).
    pub num_max_delay: u64,
    /// `linear`, `arithmetic`, `geometric` or `exponential`.
    pub backoff: String,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            min_delay: 20,
            max_delay: 20,
            num_retries: 3,
            num_no_delay: 0,
            num_min_delay: 0,
            num_max_delay: 0,
            backoff: "linear".into(),
        }
    }
}

impl RetryPolicy {
    fn from_json(v: &Value, base: RetryPolicy) -> RetryPolicy {
        let n = |k: &str, d: u64| v.get(k).and_then(Value::as_u64).unwrap_or(d);
        RetryPolicy {
            min_delay: n("minDelayTarget", base.min_delay),
            max_delay: n("maxDelayTarget", base.max_delay),
            num_retries: n("numRetries", base.num_retries),
            num_no_delay: n("numNoDelayRetries", base.num_no_delay),
            num_min_delay: n("numMinDelayRetries", base.num_min_delay),
            num_max_delay: n("numMaxDelayRetries", base.num_max_delay),
            backoff: v
                .get("backoffFunction")
                .and_then(Value::as_str)
                .unwrap_or(&base.backoff)
                .to_owned(),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "minDelayTarget": self.min_delay,
            "maxDelayTarget": self.max_delay,
            "numRetries": self.num_retries,
            "numMaxDelayRetries": self.num_max_delay,
            "numNoDelayRetries": self.num_no_delay,
            "numMinDelayRetries": self.num_min_delay,
            "backoffFunction": self.backoff,
        })
    }

    /// The delay before each retry, in order (milliseconds, AWS time).
    pub fn delays_ms(&self) -> Vec<u64> {
        let total = self.num_retries;
        let no_delay = self.num_no_delay.min(total);
        let min_phase = self.num_min_delay.min(total - no_delay);
        let max_phase = self.num_max_delay.min(total - no_delay - min_phase);
        let backoff = total - no_delay - min_phase - max_phase;
        let (lo, hi) = (
            self.min_delay as f64,
            self.max_delay.max(self.min_delay) as f64,
        );
        let mut out = Vec::with_capacity(total as usize);
        out.extend(std::iter::repeat_n(0, no_delay as usize));
        out.extend(std::iter::repeat_n(
            self.min_delay * 1000,
            min_phase as usize,
        ));
        for i in 0..backoff {
            // Position of this retry within the backoff phase, from 0 (min) to 1 (max).
            let t = if backoff <= 1 {
                1.0
            } else {
                i as f64 / (backoff - 1) as f64
            };
            let secs = match self.backoff.as_str() {
                "geometric" => lo * (hi / lo.max(1.0)).powf(t * t),
                "exponential" => lo * (hi / lo.max(1.0)).powf(t),
                "arithmetic" => lo + (hi - lo) * t * t,
                _ => lo + (hi - lo) * t,
            };
            out.push((secs.clamp(lo, hi) * 1000.0).round() as u64);
        }
        out.extend(std::iter::repeat_n(
            self.max_delay * 1000,
            max_phase as usize,
        ));
        out
    }
}

fn check_retry_policy(v: &Value) -> Result<()> {
    let p = RetryPolicy::from_json(v, RetryPolicy::default());
    let bad = |what: &str| Err(invalid(format!("DeliveryPolicy: {what}")));
    if p.num_retries > 100 {
        return bad("numRetries must be between 0 and 100");
    }
    if p.min_delay < 1 || p.min_delay > p.max_delay {
        return bad("minDelayTarget must be between 1 and maxDelayTarget");
    }
    if p.max_delay > 3600 {
        return bad("maxDelayTarget must be between minDelayTarget and 3600");
    }
    if p.num_no_delay + p.num_min_delay + p.num_max_delay > p.num_retries {
        return bad(
            "numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must not exceed numRetries",
        );
    }
    if !matches!(
        p.backoff.as_str(),
        "linear" | "arithmetic" | "geometric" | "exponential"
    ) {
        return bad("backoffFunction must be one of linear, arithmetic, geometric, exponential");
    }
    let total: u64 = p.delays_ms().iter().sum();
    if total > 3_600_000 {
        return bad("the total retry time must not exceed 3600 seconds");
    }
    Ok(())
}

/// Validates a topic (`{"http": {"defaultHealthyRetryPolicy": …}}`) or subscription
/// (`{"healthyRetryPolicy": …}`) delivery policy.
pub fn check_delivery_policy(v: &Value) -> Result<()> {
    if !v.is_object() {
        return Err(invalid("DeliveryPolicy: failed to parse JSON."));
    }
    if let Some(p) = v.pointer("/http/defaultHealthyRetryPolicy") {
        check_retry_policy(p)?;
    }
    if let Some(p) = v.get("healthyRetryPolicy") {
        check_retry_policy(p)?;
    }
    Ok(())
}

/// `EffectiveDeliveryPolicy` of a topic: AWS's default `http` section with the topic's own
/// `DeliveryPolicy` laid over it.
pub fn effective_topic_policy(delivery_policy: Option<&str>) -> String {
    let retry = topic_retry_policy(delivery_policy);
    let set: Value = delivery_policy
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or(Value::Null);
    let http = set.get("http");
    let disable = http
        .and_then(|h| h.get("disableSubscriptionOverrides"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut section = json!({
        "defaultHealthyRetryPolicy": retry.to_json(),
        "disableSubscriptionOverrides": disable,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
    });
    if let Some(throttle) = http.and_then(|h| h.get("defaultThrottlePolicy")) {
        section["defaultThrottlePolicy"] = throttle.clone();
    }
    if let Some(req) = http.and_then(|h| h.get("defaultRequestPolicy")) {
        section["defaultRequestPolicy"] = req.clone();
    }
    json!({ "http": section }).to_string()
}

fn topic_retry_policy(delivery_policy: Option<&str>) -> RetryPolicy {
    delivery_policy
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .and_then(|v| v.pointer("/http/defaultHealthyRetryPolicy").cloned())
        .map(|v| RetryPolicy::from_json(&v, RetryPolicy::default()))
        .unwrap_or_default()
}

/// The retry policy that applies to an HTTP/S subscription: the subscription's own
/// `healthyRetryPolicy` unless the topic disables overrides, else the topic's.
pub fn http_retry_policy(topic_policy: Option<&str>, sub_policy: Option<&str>) -> RetryPolicy {
    let topic = topic_retry_policy(topic_policy);
    let disabled = topic_policy
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .and_then(|v| v.pointer("/http/disableSubscriptionOverrides").cloned())
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if disabled {
        return topic;
    }
    sub_policy
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .and_then(|v| v.get("healthyRetryPolicy").cloned())
        .map(|v| RetryPolicy::from_json(&v, topic.clone()))
        .unwrap_or(topic)
}

/// `EffectiveDeliveryPolicy` of an HTTP/S subscription.
pub fn effective_subscription_policy(
    topic_policy: Option<&str>,
    sub_policy: Option<&str>,
) -> String {
    let retry = http_retry_policy(topic_policy, sub_policy);
    json!({
        "healthyRetryPolicy": retry.to_json(),
        "sicklyRetryPolicy": null,
        "throttlePolicy": null,
        "requestPolicy": {"headerContentType": "text/plain; charset=UTF-8"},
        "guaranteed": false,
    })
    .to_string()
}

/// The delivery policy of an HTTP/S subscription. Every failed attempt (status outside 2xx,
/// connection refused, timeout) counts against `numRetries`, as SNS counts them.
pub fn http_policy(retry: &RetryPolicy) -> Policy {
    let mut delays = retry.delays_ms();
    if delays.is_empty() {
        delays.push(0);
    }
    Policy {
        max_retries: retry.num_retries as u32,
        error_backoff: Backoff::Fixed(delays.clone()),
        throttle_backoff: Backoff::Fixed(delays),
        max_age: Duration::from_secs(3600),
        on_success: Vec::new(),
        on_failure: Vec::new(),
    }
}

/// SNS's policy for AWS-managed endpoints (SQS, Lambda): 3 immediate retries, 2 at 1 s, 10 with
/// backoff from 1 to 20 s, then 100,000 at 20 s — 100,015 retries over 23 days.
pub fn managed_policy() -> Policy {
    let phases = Backoff::Phases {
        immediate: 3,
        pre: 2,
        backoff: 10,
        min_ms: 1_000,
        max_ms: 20_000,
    };
    Policy {
        max_retries: 100_015,
        error_backoff: phases.clone(),
        throttle_backoff: phases,
        max_age: Duration::from_secs(23 * 86_400),
        on_success: Vec::new(),
        on_failure: Vec::new(),
    }
}

/// Sorted map helper for attribute outputs.
pub type AttrMap = BTreeMap<String, String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("orders_1-a", false).is_ok());
        assert_eq!(
            check_name("a.fifo", false).unwrap_err().to_string(),
            "Invalid parameter: Topic Name"
        );
        assert!(check_name("a.fifo", true).is_ok());
        assert!(
            check_name("a", true)
                .unwrap_err()
                .to_string()
                .starts_with("Fifo Topic names")
        );
        assert!(check_name(&"x".repeat(257), false).is_err());
    }

    #[test]
    fn retry_delays_follow_the_phases() {
        assert_eq!(RetryPolicy::default().delays_ms(), vec![20_000; 3]);
        let p = RetryPolicy {
            min_delay: 1,
            max_delay: 10,
            num_retries: 6,
            num_no_delay: 1,
            num_min_delay: 1,
            num_max_delay: 1,
            backoff: "linear".into(),
        };
        assert_eq!(p.delays_ms(), vec![0, 1_000, 1_000, 5_500, 10_000, 10_000]);
        let eff = effective_topic_policy(None);
        assert!(eff.starts_with(r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20"#));
        let sub = http_retry_policy(None, Some(r#"{"healthyRetryPolicy":{"numRetries":0}}"#));
        assert_eq!(sub.num_retries, 0);
        assert_eq!(http_policy(&sub).max_retries, 0);
        assert!(
            check_delivery_policy(&json!({"healthyRetryPolicy": {"numRetries": 101}})).is_err()
        );
    }
}
