//! What subscribers receive: the JSON notification envelope (SQS without raw delivery, HTTP/S,
//! email-json), the confirmation messages, Lambda's SNS event, and the text of an email.
//!
//! Field order follows AWS's own output. The envelope spells `SigningCertURL` /
//! `UnsubscribeURL`; Lambda's event record spells them `SigningCertUrl` / `UnsubscribeUrl`.

use serde_json::{Map, Value, json};

use crate::model::attributes::{self, MessageAttributes};

/// One notification, as signed.
#[derive(Debug, Clone)]
pub struct Notice<'a> {
    /// Message id (the same on every retry and for every subscriber).
    pub message_id: &'a str,
    /// Topic.
    pub topic_arn: &'a str,
    /// Subject, if published with one.
    pub subject: Option<&'a str>,
    /// The message for this subscriber's protocol.
    pub message: &'a str,
    /// ISO 8601 timestamp.
    pub timestamp: &'a str,
    /// `"1"` or `"2"`.
    pub signature_version: &'a str,
    /// Base64 signature.
    pub signature: &'a str,
    /// `SigningCertURL`.
    pub cert_url: &'a str,
    /// FIFO topics: the sequence number.
    pub sequence_number: Option<&'a str>,
    /// Message attributes.
    pub attributes: &'a MessageAttributes,
}

/// `…/?Action=Unsubscribe&SubscriptionArn=…`.
pub fn unsubscribe_url(base_url: &str, subscription_arn: &str) -> String {
    format!("{base_url}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}")
}

/// `…/?Action=ConfirmSubscription&TopicArn=…&Token=…`.
pub fn subscribe_url(base_url: &str, topic_arn: &str, token: &str) -> String {
    format!("{base_url}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}")
}

/// The JSON envelope of a notification for one subscription.
pub fn notification(n: &Notice<'_>, unsubscribe_url: &str) -> String {
    let mut m = Map::new();
    m.insert("Type".into(), json!("Notification"));
    m.insert("MessageId".into(), json!(n.message_id));
    if let Some(seq) = n.sequence_number {
        m.insert("SequenceNumber".into(), json!(seq));
    }
    m.insert("TopicArn".into(), json!(n.topic_arn));
    if let Some(subject) = n.subject {
        m.insert("Subject".into(), json!(subject));
    }
    m.insert("Message".into(), json!(n.message));
    m.insert("Timestamp".into(), json!(n.timestamp));
    m.insert("SignatureVersion".into(), json!(n.signature_version));
    m.insert("Signature".into(), json!(n.signature));
    m.insert("SigningCertURL".into(), json!(n.cert_url));
    m.insert("UnsubscribeURL".into(), json!(unsubscribe_url));
    if !n.attributes.is_empty() {
        m.insert(
            "MessageAttributes".into(),
            attributes::envelope(n.attributes),
        );
    }
    Value::Object(m).to_string()
}

/// Lambda's SNS event: one record.
pub fn lambda_event(n: &Notice<'_>, subscription_arn: &str, unsubscribe_url: &str) -> String {
    json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription_arn,
            "Sns": {
                "Type": "Notification",
                "MessageId": n.message_id,
                "TopicArn": n.topic_arn,
                "Subject": n.subject,
                "Message": n.message,
                "Timestamp": n.timestamp,
                "SignatureVersion": n.signature_version,
                "Signature": n.signature,
                "SigningCertUrl": n.cert_url,
                "UnsubscribeUrl": unsubscribe_url,
                "MessageAttributes": attributes::envelope(n.attributes),
            }
        }]
    })
    .to_string()
}

/// A `SubscriptionConfirmation` (or `UnsubscribeConfirmation`) message.
#[derive(Debug, Clone)]
pub struct Confirmation<'a> {
    /// `SubscriptionConfirmation` or `UnsubscribeConfirmation`.
    pub kind: &'a str,
    /// Message id.
    pub message_id: &'a str,
    /// The confirmation token.
    pub token: &'a str,
    /// Topic.
    pub topic_arn: &'a str,
    /// Text.
    pub message: &'a str,
    /// `SubscribeURL`.
    pub subscribe_url: &'a str,
    /// ISO 8601 timestamp.
    pub timestamp: &'a str,
    /// `"1"` or `"2"`.
    pub signature_version: &'a str,
    /// Base64 signature.
    pub signature: &'a str,
    /// `SigningCertURL`.
    pub cert_url: &'a str,
}

/// The text SNS sends with a subscription confirmation.
pub fn confirmation_text(topic_arn: &str) -> String {
    format!(
        "You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the subscription, \
         visit the SubscribeURL included in this message."
    )
}

/// The JSON of a confirmation message.
pub fn confirmation(c: &Confirmation<'_>) -> String {
    json!({
        "Type": c.kind,
        "MessageId": c.message_id,
        "Token": c.token,
        "TopicArn": c.topic_arn,
        "Message": c.message,
        "SubscribeURL": c.subscribe_url,
        "Timestamp": c.timestamp,
        "SignatureVersion": c.signature_version,
        "Signature": c.signature,
        "SigningCertURL": c.cert_url,
    })
    .to_string()
}

/// The body of a plain-text (`email` protocol) notification email.
pub fn email_text(message: &str, unsubscribe_url: &str) -> String {
    format!(
        "{message}\n\n--\nIf you wish to stop receiving notifications from this topic, please \
         click or visit the link below to unsubscribe:\n{unsubscribe_url}\n\nPlease do not reply \
         directly to this email. If you have any questions or comments regarding this email, \
         please contact us at https://aws.amazon.com/support"
    )
}

/// The subject of a notification email: the message's subject, else the topic's display name
/// ("AWS Notification Message" when it has none).
pub fn email_subject(subject: Option<&str>, display_name: Option<&str>) -> String {
    subject
        .map(str::to_owned)
        .or_else(|| display_name.filter(|d| !d.is_empty()).map(str::to_owned))
        .unwrap_or_else(|| "AWS Notification Message".into())
}

/// Picks the message for `protocol` from a `MessageStructure=json` body (`default` otherwise).
pub fn message_for_protocol<'a>(structured: &'a Map<String, Value>, protocol: &str) -> &'a str {
    structured
        .get(protocol)
        .and_then(Value::as_str)
        .or_else(|| structured.get("default").and_then(Value::as_str))
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_and_lambda_event_shapes() {
        let mut attrs = MessageAttributes::new();
        attrs.insert(
            "color".into(),
            attributes::MessageAttribute {
                data_type: "String".into(),
                string_value: Some("red".into()),
                binary_value: None,
            },
        );
        let n = Notice {
            message_id: "m",
            topic_arn: "arn:aws:sns:us-east-1:000000000000:t",
            subject: None,
            message: "hello",
            timestamp: "2024-01-01T00:00:00.000Z",
            signature_version: "1",
            signature: "c2ln",
            cert_url: "http://h/_ponte/sns/SimpleNotificationService-x.pem",
            sequence_number: None,
            attributes: &attrs,
        };
        let env: Value = serde_json::from_str(&notification(&n, "http://h/unsub")).unwrap();
        assert_eq!(env["Type"], "Notification");
        assert!(env.get("Subject").is_none());
        assert_eq!(env["UnsubscribeURL"], "http://h/unsub");
        assert_eq!(env["MessageAttributes"]["color"]["Value"], "red");
        let keys: Vec<&str> = env
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys[..3], ["Type", "MessageId", "TopicArn"]);
        let ev: Value =
            serde_json::from_str(&lambda_event(&n, "arn:sub", "http://h/unsub")).unwrap();
        let rec = &ev["Records"][0];
        assert_eq!(rec["EventSource"], "aws:sns");
        assert_eq!(rec["EventSubscriptionArn"], "arn:sub");
        assert_eq!(rec["Sns"]["SigningCertUrl"], n.cert_url);
        assert_eq!(rec["Sns"]["UnsubscribeUrl"], "http://h/unsub");
        assert_eq!(rec["Sns"]["Subject"], Value::Null);
        assert_eq!(rec["Sns"]["MessageAttributes"]["color"]["Type"], "String");
        let structured = json!({"default": "d", "sqs": "s"});
        let m = structured.as_object().unwrap();
        assert_eq!(message_for_protocol(m, "sqs"), "s");
        assert_eq!(message_for_protocol(m, "lambda"), "d");
    }
}
