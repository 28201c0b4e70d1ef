//! SNS operations: read the awsJson-shaped input (the query codec's output), validate it with
//! AWS's messages, call the engine, build the awsJson-shaped output.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use ponte_protocol::input::{self, Expected, InputErrors};
use ponte_types::RequestContext;

use crate::engine::{MAX_MESSAGE_BYTES, PublishInput, Published, Sns, SubMeta, parse_topic_arn};
use crate::error::{Error, Result, invalid};
use crate::model::attributes;

/// Operations Ponte implements.
pub const OPERATIONS: &[&str] = &[
    "AddPermission",
    "ConfirmSubscription",
    "CreateTopic",
    "DeleteTopic",
    "GetSubscriptionAttributes",
    "GetTopicAttributes",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "ListTagsForResource",
    "ListTopics",
    "Publish",
    "PublishBatch",
    "RemovePermission",
    "SetSubscriptionAttributes",
    "SetTopicAttributes",
    "Subscribe",
    "TagResource",
    "Unsubscribe",
    "UntagResource",
];

/// Page size of ListTopics and ListSubscriptions*.
const PAGE: usize = 100;

/// Runs one operation.
pub async fn call(sns: &Sns, ctx: &RequestContext, op: &str, input: &Value) -> Result<Value> {
    let i = Input::of(input);
    match op {
        "CreateTopic" => {
            let name = i.req_str("Name")?;
            let mut attrs = i.str_map("Attributes")?;
            if let Some(p) = i.opt_str("DataProtectionPolicy")? {
                attrs.push(("DataProtectionPolicy".into(), p));
            }
            let tags = i.tags("Tags")?;
            let arn = sns.create_topic(ctx, &name, &attrs, &tags).await?;
            Ok(json!({ "TopicArn": arn }))
        }
        "DeleteTopic" => {
            sns.delete_topic(ctx, &i.req_str("TopicArn")?).await?;
            Ok(json!({}))
        }
        "ListTopics" => {
            let all = sns.list_topics(ctx);
            let (page, next) = paginate(&all, i.opt_str("NextToken")?, |a| a.as_str())?;
            let topics: Vec<Value> = page.iter().map(|a| json!({ "TopicArn": a })).collect();
            Ok(with_token(json!({ "Topics": topics }), next))
        }
        "GetTopicAttributes" => {
            let attrs = sns.get_topic_attributes(ctx, &i.req_str("TopicArn")?)?;
            Ok(json!({ "Attributes": attrs }))
        }
        "SetTopicAttributes" => {
            let arn = i.req_str("TopicArn")?;
            let name = i.req_str("AttributeName")?;
            let value = i.opt_str("AttributeValue")?.unwrap_or_default();
            sns.set_topic_attribute(ctx, &arn, &name, &value).await?;
            Ok(json!({}))
        }
        "TagResource" => {
            let arn = i.req_str("ResourceArn")?;
            let tags = i.tags("Tags")?;
            sns.tag_resource(&arn, &tags).await?;
            Ok(json!({}))
        }
        "UntagResource" => {
            let arn = i.req_str("ResourceArn")?;
            let keys = i.str_list("TagKeys")?;
            sns.untag_resource(&arn, &keys).await?;
            Ok(json!({}))
        }
        "ListTagsForResource" => {
            let tags = sns.list_tags(&i.req_str("ResourceArn")?)?;
            let tags: Vec<Value> = tags
                .into_iter()
                .map(|(k, v)| json!({ "Key": k, "Value": v }))
                .collect();
            Ok(json!({ "Tags": tags }))
        }
        "AddPermission" => {
            let arn = i.req_str("TopicArn")?;
            let label = i.req_str("Label")?;
            let accounts = i.str_list("AWSAccountId")?;
            let actions = i.str_list("ActionName")?;
            sns.add_permission(ctx, &arn, &label, &accounts, &actions)
                .await?;
            Ok(json!({}))
        }
        "RemovePermission" => {
            let arn = i.req_str("TopicArn")?;
            let label = i.req_str("Label")?;
            sns.remove_permission(ctx, &arn, &label).await?;
            Ok(json!({}))
        }
        "Subscribe" => {
            let topic = i.req_str("TopicArn")?;
            let protocol = i.req_str("Protocol")?;
            let endpoint = i.opt_str("Endpoint")?.unwrap_or_default();
            let attrs = i.str_map("Attributes")?;
            let return_arn = i.opt_bool("ReturnSubscriptionArn")?.unwrap_or(false);
            let arn = sns
                .subscribe(ctx, &topic, &protocol, &endpoint, &attrs, return_arn)
                .await?;
            Ok(json!({ "SubscriptionArn": arn }))
        }
        "ConfirmSubscription" => {
            let topic = i.req_str("TopicArn")?;
            let token = i.req_str("Token")?;
            let arn = sns
                .confirm_subscription(&topic, &token, ctx.access_key.is_some())
                .await?;
            Ok(json!({ "SubscriptionArn": arn }))
        }
        "Unsubscribe" => {
            sns.unsubscribe(&i.req_str("SubscriptionArn")?).await?;
            Ok(json!({}))
        }
        "ListSubscriptions" | "ListSubscriptionsByTopic" => {
            let topic = if op == "ListSubscriptionsByTopic" {
                Some(i.req_str("TopicArn")?)
            } else {
                None
            };
            let all = sns.list_subscriptions(ctx, topic.as_deref())?;
            let (page, next) =
                paginate(&all, i.opt_str("NextToken")?, |s: &SubMeta| s.arn.as_str())?;
            let subs: Vec<Value> = page
                .iter()
                .map(|s| {
                    json!({
                        // AWS lists unconfirmed subscriptions without their ARN.
                        "SubscriptionArn": if s.pending { "PendingConfirmation" } else { s.arn.as_str() },
                        "Owner": s.owner,
                        "Protocol": s.protocol,
                        "Endpoint": s.endpoint,
                        "TopicArn": s.topic_arn,
                    })
                })
                .collect();
            Ok(with_token(json!({ "Subscriptions": subs }), next))
        }
        "GetSubscriptionAttributes" => {
            let attrs = sns.get_subscription_attributes(&i.req_str("SubscriptionArn")?)?;
            Ok(json!({ "Attributes": attrs }))
        }
        "SetSubscriptionAttributes" => {
            let arn = i.req_str("SubscriptionArn")?;
            let name = i.req_str("AttributeName")?;
            let value = i.opt_str("AttributeValue")?.unwrap_or_default();
            sns.set_subscription_attribute(&arn, &name, &value).await?;
            Ok(json!({}))
        }
        "Publish" => publish(sns, ctx, &i).await,
        "PublishBatch" => publish_batch(sns, ctx, &i).await,
        other => Err(Error::NotImplemented(format!(
            "Ponte does not implement sns.{other} yet."
        ))),
    }
}

async fn publish(sns: &Sns, ctx: &RequestContext, i: &Input<'_>) -> Result<Value> {
    let message = i.opt_str("Message")?.unwrap_or_default();
    let subject = i.opt_str("Subject")?;
    let structure = i.opt_str("MessageStructure")?;
    let input = publish_input(
        message,
        subject,
        structure,
        i.get("MessageAttributes"),
        None,
        i.opt_str("MessageGroupId")?,
        i.opt_str("MessageDeduplicationId")?,
    )?;
    if let Some(phone) = i.opt_str("PhoneNumber")? {
        let p = sns.publish_sms(&phone, &input).await?;
        return Ok(published(&p));
    }
    let topic = match (i.opt_str("TopicArn")?, i.opt_str("TargetArn")?) {
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => {
            return Err(invalid(
                "TopicArn or TargetArn Reason: no value for required parameter",
            ));
        }
    };
    parse_topic_arn(&topic, "TopicArn")?;
    if topic.contains(":endpoint/") {
        return Err(Error::NotImplemented(
            "Ponte does not implement publishing to platform application endpoints.".into(),
        ));
    }
    let p = sns.publish(ctx, &topic, input).await?;
    Ok(published(&p))
}

fn published(p: &Published) -> Value {
    let mut out = json!({ "MessageId": p.message_id });
    if let Some(seq) = &p.sequence_number {
        out["SequenceNumber"] = json!(seq);
    }
    out
}

/// Validates one message (Publish or a batch entry) in AWS's order.
fn publish_input(
    message: String,
    subject: Option<String>,
    structure: Option<String>,
    attrs: Option<&Value>,
    batch_position: Option<usize>,
    group_id: Option<String>,
    dedup_id: Option<String>,
) -> Result<PublishInput> {
    if let Some(s) = &subject
        && (s.is_empty()
            || s.chars().count() > 100
            || s.chars().any(|c| c.is_control() || !c.is_ascii()))
    {
        return Err(invalid("Subject"));
    }
    if message.is_empty() {
        return Err(invalid("Empty message"));
    }
    let attributes = attributes::parse(attrs, batch_position)?;
    let mut input = PublishInput {
        message,
        structured: None,
        subject,
        attributes,
        group_id,
        dedup_id,
    };
    if input.size() > MAX_MESSAGE_BYTES {
        return Err(invalid("Message too long"));
    }
    for (name, v) in [
        ("MessageGroupId", &input.group_id),
        ("MessageDeduplicationId", &input.dedup_id),
    ] {
        if let Some(v) = v
            && (v.is_empty() || v.len() > 128 || !v.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(invalid(format!(
                "{name} Reason: {name} must be between 1 and 128 characters long and contain only \
                 alphanumeric characters and punctuation"
            )));
        }
    }
    if structure.as_deref() == Some("json") {
        let parsed: Value = serde_json::from_str(&input.message)
            .map_err(|_| invalid("Message Structure - JSON message body failed to parse"))?;
        let Value::Object(obj) = parsed else {
            return Err(invalid(
                "Message Structure - JSON message body failed to parse",
            ));
        };
        // Keys whose values are not strings are ignored, as SNS does.
        let obj: Map<String, Value> = obj.into_iter().filter(|(_, v)| v.is_string()).collect();
        if !obj.contains_key("default") {
            return Err(invalid(
                "Message Structure - No default entry in JSON message body",
            ));
        }
        input.structured = Some(obj);
    } else if let Some(other) = structure {
        return Err(invalid(format!(
            "MessageStructure Reason: {other} is not supported"
        )));
    }
    Ok(input)
}

async fn publish_batch(sns: &Sns, ctx: &RequestContext, i: &Input<'_>) -> Result<Value> {
    let topic = i.req_str("TopicArn")?;
    let entries = match i.get("PublishBatchRequestEntries") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(invalid("PublishBatchRequestEntries")),
    };
    if entries.is_empty() {
        return Err(Error::EmptyBatchRequest(
            "The batch request doesn't contain any entries.".into(),
        ));
    }
    if entries.len() > 10 {
        return Err(Error::TooManyEntriesInBatchRequest(
            "The batch request contains more entries than permissible.".into(),
        ));
    }
    parse_topic_arn(&topic, "TopicArn")?;
    sns.get_topic_attributes(ctx, &topic)?;
    let ids: Vec<String> = entries
        .iter()
        .map(|e| e.get("Id").and_then(Value::as_str).unwrap_or("").to_owned())
        .collect();
    let distinct: HashSet<&str> = ids.iter().map(String::as_str).collect();
    if distinct.len() != ids.len() {
        return Err(Error::BatchEntryIdsNotDistinct(
            "Two or more batch entries in the request have the same Id.".into(),
        ));
    }
    for id in &ids {
        if id.len() > 80 {
            return Err(Error::InvalidBatchEntryId(format!(
                "The Id of a batch entry in the batch request is too long: {id}"
            )));
        }
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Error::InvalidBatchEntryId(format!(
                "The Id of a batch entry in the batch request contains an impermissible \
                 character: {id}"
            )));
        }
    }
    let mut total = 0usize;
    let mut parsed = Vec::with_capacity(entries.len());
    for (pos, (entry, id)) in entries.iter().zip(ids).enumerate() {
        let e = Input::of(entry);
        let message = e.opt_str("Message")?.unwrap_or_default();
        // Attribute problems fail the whole call, as on AWS; the rest fail only their entry.
        attributes::parse(e.get("MessageAttributes"), Some(pos + 1))?;
        let r = publish_input(
            message,
            e.opt_str("Subject")?,
            e.opt_str("MessageStructure")?,
            e.get("MessageAttributes"),
            Some(pos + 1),
            e.opt_str("MessageGroupId")?,
            e.opt_str("MessageDeduplicationId")?,
        );
        if let Ok(p) = &r {
            total += p.size();
        }
        parsed.push((id, r));
    }
    if total > MAX_MESSAGE_BYTES {
        return Err(Error::BatchRequestTooLong(
            "The length of all the messages put together is more than the limit.".into(),
        ));
    }
    let results = sns.publish_batch(ctx, &topic, parsed).await?;
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for (id, r) in results {
        match r {
            Ok(p) => {
                let mut v = json!({ "Id": id, "MessageId": p.message_id });
                if let Some(seq) = p.sequence_number {
                    v["SequenceNumber"] = json!(seq);
                }
                ok.push(v);
            }
            Err(e) => {
                let aws = e.to_aws();
                failed.push(json!({
                    "Id": id,
                    "Code": aws.code,
                    "Message": aws.message,
                    "SenderFault": aws.sender_fault,
                }));
            }
        }
    }
    Ok(json!({ "Successful": ok, "Failed": failed }))
}

/// One page of `all`, starting at the item whose key is `token`; the next page's token.
fn paginate<T>(
    all: &[T],
    token: Option<String>,
    key: impl Fn(&T) -> &str,
) -> Result<(&[T], Option<String>)> {
    let start = match token {
        None => 0,
        Some(t) => all
            .iter()
            .position(|x| key(x) == t)
            .ok_or_else(|| invalid("NextToken"))?,
    };
    let end = (start + PAGE).min(all.len());
    let next = all.get(end).map(|x| key(x).to_owned());
    Ok((&all[start..end], next))
}

fn with_token(mut v: Value, next: Option<String>) -> Value {
    if let Some(t) = next {
        v["NextToken"] = json!(t);
    }
    v
}

/// SNS's wording of input errors: `Invalid parameter: <member>`.
struct SnsWords;

impl InputErrors for SnsWords {
    type Error = Error;
    // SNS reads a null attribute value as empty.
    const NULL_IN_MAP_IS_EMPTY: bool = true;

    fn missing(k: &str) -> Error {
        invalid(format!("{k} Reason: no value for required parameter"))
    }

    fn wrong(k: &str, _shown: &str, _expected: Expected) -> Error {
        invalid(k)
    }
}

/// Typed access to an operation's input with SNS's error messages; tags on top of the shared
/// readers.
struct Input<'a>(input::Input<'a, SnsWords>);

impl<'a> std::ops::Deref for Input<'a> {
    type Target = input::Input<'a, SnsWords>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<'a> Input<'a> {
    fn of(value: &'a Value) -> Self {
        Input(input::Input::new(value))
    }

    /// `[{Key, Value}]`.
    fn tags(&self, k: &str) -> Result<Vec<(String, String)>> {
        match self.get(k) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|t| {
                    let key = t.get("Key").and_then(Value::as_str);
                    let value = t.get("Value").and_then(Value::as_str).unwrap_or("");
                    key.map(|key| (key.to_owned(), value.to_owned()))
                        .ok_or_else(|| invalid("Tags"))
                })
                .collect(),
            Some(_) => Err(invalid(k)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_validation_order_and_messages() {
        let e = |m: &str, s: Option<&str>, structure: Option<&str>| {
            publish_input(
                m.into(),
                s.map(Into::into),
                structure.map(Into::into),
                None,
                None,
                None,
                None,
            )
            .unwrap_err()
            .to_string()
        };
        assert_eq!(e("", Some(""), None), "Invalid parameter: Subject");
        assert_eq!(e("", None, None), "Invalid parameter: Empty message");
        assert_eq!(
            e(&"x".repeat(MAX_MESSAGE_BYTES + 1), None, None),
            "Invalid parameter: Message too long"
        );
        assert_eq!(
            e("{", None, Some("json")),
            "Invalid parameter: Message Structure - JSON message body failed to parse"
        );
        assert_eq!(
            e(r#"{"sqs": "x"}"#, None, Some("json")),
            "Invalid parameter: Message Structure - No default entry in JSON message body"
        );
        let ok = publish_input(
            r#"{"default": "d", "sqs": "s", "http": 1}"#.into(),
            None,
            Some("json".into()),
            None,
            None,
            None,
            None,
        )
        .unwrap();
        let s = ok.structured.unwrap();
        assert!(s.contains_key("sqs") && !s.contains_key("http"));
    }

    #[test]
    fn pages_continue_from_the_token() {
        let all: Vec<String> = (0..250).map(|i| format!("arn:{i:03}")).collect();
        let (p1, t1) = paginate(&all, None, |s| s.as_str()).unwrap();
        assert_eq!((p1.len(), t1.as_deref()), (100, Some("arn:100")));
        let (p3, t3) = paginate(&all, Some("arn:200".into()), |s| s.as_str()).unwrap();
        assert_eq!((p3.len(), t3), (50, None));
        assert!(paginate(&all, Some("nope".into()), |s| s.as_str()).is_err());
    }
}
