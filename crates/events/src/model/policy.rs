//! Event bus resource policies.
//!
//! PutPermission either replaces the whole policy (`Policy`) or adds one statement built from
//! `StatementId`, `Action`, `Principal` (an account id or `*`) and an optional `Condition`,
//! shaped as AWS shows it in DescribeEventBus:
//! `{"Sid", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::<acct>:root"} | "*",
//! "Action", "Resource": <bus arn>[, "Condition"]}`.
//!
//! Policies are enforced in one place only: an event sent to another account's bus (PutEvents
//! with a bus ARN, or a rule target) is accepted when an `Allow` statement names the sending
//! account (or `*`) and allows `events:PutEvents` (or `events:*`). Conditions are not
//! evaluated (a conditional statement counts as allowing), and `Deny` statements are ignored.

use serde_json::{Value, json};

/// AWS's limit on a bus policy's size.
pub const MAX_POLICY_BYTES: usize = 10_240;

/// An empty policy document.
pub fn empty() -> Value {
    json!({"Version": "2012-10-17", "Statement": []})
}

/// The statement PutPermission's parameter form adds.
pub fn statement(
    sid: &str,
    action: &str,
    principal: &str,
    bus_arn: &str,
    condition: Option<&Value>,
) -> Value {
    let principal = if principal == "*" {
        json!("*")
    } else {
        json!({"AWS": format!("arn:aws:iam::{principal}:root")})
    };
    let mut s = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": action,
        "Resource": bus_arn,
    });
    if let Some(c) = condition {
        // AWS renders {"Type","Key","Value"} as an IAM condition block.
        let ty = c
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or("StringEquals");
        let key = c.get("Key").and_then(Value::as_str).unwrap_or_default();
        let value = c.get("Value").cloned().unwrap_or(Value::Null);
        s["Condition"] = json!({ ty: { key: value } });
    }
    s
}

/// The statements of a policy document.
pub fn statements(policy: &Value) -> Vec<Value> {
    match policy.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    }
}

fn mentions(v: Option<&Value>, pred: &dyn Fn(&str) -> bool) -> bool {
    match v {
        Some(Value::String(s)) => pred(s),
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str().is_some_and(pred)),
        _ => false,
    }
}

/// `true` when `policy` lets `account` put events on the bus.
pub fn allows_put_events(policy: Option<&Value>, account: &str) -> bool {
    let Some(policy) = policy else {
        return false;
    };
    let root = format!("arn:aws:iam::{account}:root");
    statements(policy).iter().any(|s| {
        let allow = s.get("Effect").and_then(Value::as_str) == Some("Allow");
        let action = mentions(s.get("Action"), &|a| {
            a == "events:PutEvents" || a == "events:*" || a == "*"
        });
        let principal = match s.get("Principal") {
            Some(Value::String(p)) => p == "*",
            Some(Value::Object(m)) => mentions(m.get("AWS"), &|p| {
                p == "*"
                    || p == account
                    || p == root
                    || p.starts_with(&format!("arn:aws:iam::{account}:"))
            }),
            _ => false,
        };
        allow && action && principal
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_and_checks() {
        let bus = "arn:aws:events:us-east-1:000000000000:event-bus/b";
        let s = statement("s1", "events:PutEvents", "111111111111", bus, None);
        assert_eq!(s["Principal"]["AWS"], "arn:aws:iam::111111111111:root");
        let policy = json!({"Version": "2012-10-17", "Statement": [s]});
        assert!(allows_put_events(Some(&policy), "111111111111"));
        assert!(!allows_put_events(Some(&policy), "222222222222"));
        assert!(!allows_put_events(None, "111111111111"));
        let star = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": ["events:PutEvents"], "Resource": bus}});
        assert!(allows_put_events(Some(&star), "222222222222"));
        let cond = statement(
            "s2",
            "events:PutEvents",
            "*",
            bus,
            Some(&json!({"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1"})),
        );
        assert_eq!(
            cond["Condition"]["StringEquals"]["aws:PrincipalOrgID"],
            "o-1"
        );
    }
}
