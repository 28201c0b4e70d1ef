//! SQS operations: decode the JSON input (awsJson as sent, or query decoded to the same shape),
//! validate it with AWS's messages, call the engine, build the JSON output.

use std::collections::BTreeMap;
use std::collections::HashSet;

use serde_json::{Map, Value, json};

use ponte_protocol::input::{self, Expected, InputErrors};
use ponte_types::RequestContext;

use crate::engine::{ReceiveInput, Received, SendInput, SendOutput, Sqs};
use crate::error::{Error, Result, invalid_parameter};
use crate::model::attributes::{AttributeValue, Attributes};

/// Every operation of the SQS 2012-11-05 API, all implemented.
pub const OPERATIONS: &[&str] = &[
    "AddPermission",
    "CancelMessageMoveTask",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "CreateQueue",
    "DeleteMessage",
    "DeleteMessageBatch",
    "DeleteQueue",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "ListMessageMoveTasks",
    "ListQueueTags",
    "ListQueues",
    "PurgeQueue",
    "ReceiveMessage",
    "RemovePermission",
    "SendMessage",
    "SendMessageBatch",
    "SetQueueAttributes",
    "StartMessageMoveTask",
    "TagQueue",
    "UntagQueue",
];

/// Runs one operation.
pub async fn call(sqs: &Sqs, ctx: &RequestContext, op: &str, input: &Value) -> Result<Value> {
    let i = Input::of(input);
    match op {
        "CreateQueue" => {
            let name = i.req_str("QueueName")?;
            let attrs = i.str_map("Attributes")?;
            let tags = i.str_map("tags")?.into_iter().collect();
            let url = sqs.create_queue(ctx, &name, &attrs, tags).await?;
            Ok(json!({ "QueueUrl": url }))
        }
        "GetQueueUrl" => {
            let name = i.req_str("QueueName")?;
            let owner = i.opt_str("QueueOwnerAWSAccountId")?;
            let url = sqs.get_queue_url(ctx, &name, owner.as_deref())?;
            Ok(json!({ "QueueUrl": url }))
        }
        "ListQueues" => {
            let prefix = i.opt_str("QueueNamePrefix")?.unwrap_or_default();
            let all = sqs.list_queues(ctx, &prefix);
            paginate(&i, all, "QueueUrls", 1000)
        }
        "DeleteQueue" => {
            sqs.delete_queue(ctx, &i.req_str("QueueUrl")?).await?;
            Ok(json!({}))
        }
        "GetQueueAttributes" => {
            let url = i.req_str("QueueUrl")?;
            let names = i.str_list("AttributeNames")?;
            let attrs = sqs.get_queue_attributes(ctx, &url, &names)?;
            Ok(map_output("Attributes", attrs))
        }
        "SetQueueAttributes" => {
            let url = i.req_str("QueueUrl")?;
            let attrs = i.str_map("Attributes")?;
            sqs.set_queue_attributes(ctx, &url, &attrs).await?;
            Ok(json!({}))
        }
        "TagQueue" => {
            let url = i.req_str("QueueUrl")?;
            let tags = i.str_map("Tags")?.into_iter().collect();
            sqs.tag_queue(ctx, &url, tags).await?;
            Ok(json!({}))
        }
        "UntagQueue" => {
            let url = i.req_str("QueueUrl")?;
            let keys = i.str_list("TagKeys")?;
            sqs.untag_queue(ctx, &url, &keys).await?;
            Ok(json!({}))
        }
        "ListQueueTags" => {
            let tags = sqs.list_queue_tags(ctx, &i.req_str("QueueUrl")?)?;
            Ok(map_output("Tags", tags.into_iter().collect()))
        }
        "AddPermission" => {
            let url = i.req_str("QueueUrl")?;
            let label = i.req_str("Label")?;
            let accounts = i.str_list("AWSAccountIds")?;
            let actions = i.str_list("Actions")?;
            sqs.add_permission(ctx, &url, &label, &accounts, &actions)
                .await?;
            Ok(json!({}))
        }
        "RemovePermission" => {
            let url = i.req_str("QueueUrl")?;
            let label = i.req_str("Label")?;
            sqs.remove_permission(ctx, &url, &label).await?;
            Ok(json!({}))
        }
        "PurgeQueue" => {
            sqs.purge_queue(ctx, &i.req_str("QueueUrl")?).await?;
            Ok(json!({}))
        }
        "ListDeadLetterSourceQueues" => {
            let urls = sqs.list_dead_letter_source_queues(ctx, &i.req_str("QueueUrl")?)?;
            paginate(&i, urls, "queueUrls", 1000)
        }
        "SendMessage" => {
            let url = i.req_str("QueueUrl")?;
            let entry = send_input(&i);
            let mut out = sqs.send(ctx, &url, vec![entry], false).await?;
            let r = out
                .pop()
                .unwrap_or(Err(Error::Internal("no result".into())))?;
            Ok(send_output(None, &r))
        }
        "SendMessageBatch" => {
            let url = i.req_str("QueueUrl")?;
            let entries = batch_entries(&i, "SendMessageBatchRequestEntry")?;
            let inputs: Vec<Result<SendInput>> =
                entries.iter().map(|e| send_input(&Input::of(e))).collect();
            let total: usize = inputs
                .iter()
                .zip(&entries)
                .map(|(input, raw)| match input {
                    Ok(m) => m.body.len() + crate::model::attributes::size(&m.attributes),
                    Err(_) => raw
                        .get("MessageBody")
                        .and_then(Value::as_str)
                        .map_or(0, str::len),
                })
                .sum();
            if total > 1_048_576 {
                return Err(Error::BatchRequestTooLong(format!(
                    "Batch requests cannot be longer than 1048576 bytes. You have sent {total} \
                     bytes."
                )));
            }
            let ids: Vec<String> = entries.iter().map(entry_id).collect();
            let results = sqs.send(ctx, &url, inputs, true).await?;
            Ok(batch_output(ids, results, |id, r| send_output(Some(id), r)))
        }
        "ReceiveMessage" => receive(sqs, ctx, &i).await,
        "DeleteMessage" => {
            let url = i.req_str("QueueUrl")?;
            let handle = i.req_str("ReceiptHandle")?;
            let mut out = sqs.delete(ctx, &url, &[handle]).await?;
            out.pop().unwrap_or(Ok(()))?;
            Ok(json!({}))
        }
        "DeleteMessageBatch" => {
            let url = i.req_str("QueueUrl")?;
            let entries = batch_entries(&i, "DeleteMessageBatchRequestEntry")?;
            let ids: Vec<String> = entries.iter().map(entry_id).collect();
            let handles: Vec<String> = entries
                .iter()
                .map(|e| {
                    Input::of(e)
                        .opt_str("ReceiptHandle")
                        .ok()
                        .flatten()
                        .unwrap_or_default()
                })
                .collect();
            let results = sqs.delete(ctx, &url, &handles).await?;
            Ok(batch_output(ids, results, |id, _| json!({ "Id": id })))
        }
        "ChangeMessageVisibility" => {
            let url = i.req_str("QueueUrl")?;
            let handle = i.req_str("ReceiptHandle")?;
            let timeout = visibility(&i)?;
            let mut out = sqs
                .change_visibility(ctx, &url, &[(handle, timeout)])
                .await?;
            out.pop().unwrap_or(Ok(()))?;
            Ok(json!({}))
        }
        "ChangeMessageVisibilityBatch" => {
            let url = i.req_str("QueueUrl")?;
            let entries = batch_entries(&i, "ChangeMessageVisibilityBatchRequestEntry")?;
            let ids: Vec<String> = entries.iter().map(entry_id).collect();
            // Entries whose own parameters are bad fail alone; the rest go to the engine.
            let mut parsed: Vec<Result<(String, u32)>> = Vec::new();
            for e in &entries {
                let e = Input::of(e);
                parsed.push(
                    e.req_str("ReceiptHandle")
                        .and_then(|h| visibility(&e).map(|t| (h, t))),
                );
            }
            let good: Vec<(String, u32)> = parsed.iter().filter_map(|p| p.clone().ok()).collect();
            let mut engine = sqs.change_visibility(ctx, &url, &good).await?.into_iter();
            let results: Vec<Result<()>> = parsed
                .into_iter()
                .map(|p| match p {
                    Ok(_) => engine.next().unwrap_or(Ok(())),
                    Err(e) => Err(e),
                })
                .collect();
            Ok(batch_output(ids, results, |id, _| json!({ "Id": id })))
        }
        "StartMessageMoveTask" => {
            let src = i.req_str("SourceArn")?;
            let dst = i.opt_str("DestinationArn")?;
            let rate = i.opt_int("MaxNumberOfMessagesPerSecond")?;
            let handle = sqs.start_move_task(&src, dst.as_deref(), rate).await?;
            Ok(json!({ "TaskHandle": handle }))
        }
        "CancelMessageMoveTask" => {
            let moved = sqs.cancel_move_task(&i.req_str("TaskHandle")?).await?;
            Ok(json!({ "ApproximateNumberOfMessagesMoved": moved }))
        }
        "ListMessageMoveTasks" => {
            let src = i.req_str("SourceArn")?;
            let max = i.opt_int("MaxResults")?.unwrap_or(1);
            if !(1..=10).contains(&max) {
                return Err(invalid_parameter(
                    "MaxResults",
                    max,
                    "You must enter a number that's between 1 and 10.",
                ));
            }
            let tasks = sqs.list_move_tasks(&src, max as usize)?;
            let results: Vec<Value> = tasks
                .into_iter()
                .map(|t| {
                    let mut o = Map::new();
                    if t.status == "RUNNING" {
                        o.insert("TaskHandle".into(), json!(t.handle));
                    }
                    o.insert("Status".into(), json!(t.status));
                    o.insert("SourceArn".into(), json!(t.source_arn));
                    if let Some(d) = t.destination_arn {
                        o.insert("DestinationArn".into(), json!(d));
                    }
                    if let Some(r) = t.max_per_second {
                        o.insert("MaxNumberOfMessagesPerSecond".into(), json!(r));
                    }
                    o.insert("ApproximateNumberOfMessagesMoved".into(), json!(t.moved));
                    o.insert("ApproximateNumberOfMessagesToMove".into(), json!(t.to_move));
                    if let Some(f) = t.failure_reason {
                        o.insert("FailureReason".into(), json!(f));
                    }
                    o.insert("StartedTimestamp".into(), json!(t.started_at));
                    Value::Object(o)
                })
                .collect();
            Ok(json!({ "Results": results }))
        }
        _ => Err(Error::InvalidAction(format!(
            "The action {op} is not valid for this endpoint."
        ))),
    }
}

async fn receive(sqs: &Sqs, ctx: &RequestContext, i: &Input<'_>) -> Result<Value> {
    let url = i.req_str("QueueUrl")?;
    let max = i.opt_int("MaxNumberOfMessages")?.unwrap_or(1);
    if !(1..=10).contains(&max) {
        return Err(invalid_parameter(
            "MaxNumberOfMessages",
            max,
            "Must be between 1 and 10, if provided.",
        ));
    }
    let wait = i.opt_int("WaitTimeSeconds")?;
    if let Some(w) = wait
        && !(0..=20).contains(&w)
    {
        return Err(invalid_parameter(
            "WaitTimeSeconds",
            w,
            "Must be >= 0 and <= 20, if provided.",
        ));
    }
    let vt = i.opt_int("VisibilityTimeout")?;
    if let Some(v) = vt
        && !(0..=43_200).contains(&v)
    {
        return Err(invalid_parameter(
            "VisibilityTimeout",
            v,
            "Must be >= 0 and <= 43200, if provided.",
        ));
    }
    let attempt_id = i.opt_str("ReceiveRequestAttemptId")?;
    let mut system_names = i.str_list("AttributeNames")?;
    system_names.extend(i.str_list("MessageSystemAttributeNames")?);
    let attr_names = i.str_list("MessageAttributeNames")?;
    let got = sqs
        .receive(
            ctx,
            &url,
            ReceiveInput {
                max_messages: max as u32,
                visibility_timeout: vt.map(|v| v as u32),
                wait_seconds: wait.map(|w| w as u32),
                attempt_id,
            },
        )
        .await?;
    if got.is_empty() {
        return Ok(json!({}));
    }
    let messages: Vec<Value> = got
        .iter()
        .map(|r| received_json(r, &system_names, &attr_names))
        .collect();
    Ok(json!({ "Messages": messages }))
}

fn received_json(r: &Received, system_names: &[String], attr_names: &[String]) -> Value {
    let c = &r.content;
    let all = system_names.iter().any(|n| n == "All");
    let want = |n: &str| all || system_names.iter().any(|x| x == n);
    let mut sys = Map::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v
            && want(k)
        {
            sys.insert(k.into(), Value::String(v));
        }
    };
    put("SenderId", Some(c.sender_id.clone()));
    put("SentTimestamp", Some(c.sent_at.to_string()));
    put("ApproximateReceiveCount", Some(r.receive_count.to_string()));
    put(
        "ApproximateFirstReceiveTimestamp",
        Some(r.first_receive_at.to_string()),
    );
    put("SequenceNumber", c.sequence_number.clone());
    put("MessageDeduplicationId", c.dedup_id.clone());
    put("MessageGroupId", c.group_id.clone());
    put("AWSTraceHeader", c.trace_header.clone());
    put("DeadLetterQueueSourceArn", c.dlq_source_arn.clone());

    let mut o = Map::new();
    o.insert("MessageId".into(), json!(c.id));
    o.insert("ReceiptHandle".into(), json!(r.receipt_handle));
    o.insert("MD5OfBody".into(), json!(c.md5_body));
    o.insert("Body".into(), json!(c.body));
    if !sys.is_empty() {
        o.insert("Attributes".into(), Value::Object(sys));
    }
    let selected: Attributes = c
        .attributes
        .iter()
        .filter(|(name, _)| attribute_selected(name, attr_names))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !selected.is_empty() {
        if let Some(md5) = crate::model::attributes::md5_of_attributes(&selected) {
            o.insert("MD5OfMessageAttributes".into(), json!(md5));
        }
        let attrs: Map<String, Value> = selected
            .iter()
            .map(|(k, v)| (k.clone(), attribute_json(v)))
            .collect();
        o.insert("MessageAttributes".into(), Value::Object(attrs));
    }
    Value::Object(o)
}

fn attribute_selected(name: &str, wanted: &[String]) -> bool {
    wanted.iter().any(|w| {
        w == "All"
            || w == ".*"
            || w == "*"
            || w == name
            || w.strip_suffix(".*").is_some_and(|p| name.starts_with(p))
    })
}

fn attribute_json(v: &AttributeValue) -> Value {
    let mut o = Map::new();
    if let Some(s) = &v.string_value {
        o.insert("StringValue".into(), json!(s));
    }
    if let Some(b) = &v.binary_value {
        o.insert("BinaryValue".into(), json!(b));
    }
    if !v.string_list_values.is_empty() {
        o.insert("StringListValues".into(), json!(v.string_list_values));
    }
    if !v.binary_list_values.is_empty() {
        o.insert("BinaryListValues".into(), json!(v.binary_list_values));
    }
    o.insert("DataType".into(), json!(v.data_type));
    Value::Object(o)
}

fn send_input(i: &Input<'_>) -> Result<SendInput> {
    let body = i.opt_str("MessageBody")?.ok_or_else(|| {
        Error::MissingParameter("The request must contain the parameter MessageBody.".into())
    })?;
    Ok(SendInput {
        body,
        delay_seconds: i.opt_int("DelaySeconds")?,
        attributes: i.attributes("MessageAttributes")?,
        system_attributes: i.attributes("MessageSystemAttributes")?,
        dedup_id: i.opt_str("MessageDeduplicationId")?,
        group_id: i.opt_str("MessageGroupId")?,
    })
}

fn send_output(id: Option<&str>, r: &SendOutput) -> Value {
    let mut o = Map::new();
    if let Some(id) = id {
        o.insert("Id".into(), json!(id));
    }
    o.insert("MessageId".into(), json!(r.message_id));
    o.insert("MD5OfMessageBody".into(), json!(r.md5_body));
    if let Some(m) = &r.md5_attributes {
        o.insert("MD5OfMessageAttributes".into(), json!(m));
    }
    if let Some(m) = &r.md5_system_attributes {
        o.insert("MD5OfMessageSystemAttributes".into(), json!(m));
    }
    if let Some(s) = &r.sequence_number {
        o.insert("SequenceNumber".into(), json!(s));
    }
    Value::Object(o)
}

fn visibility(i: &Input<'_>) -> Result<u32> {
    let v = i.opt_int("VisibilityTimeout")?.ok_or_else(|| {
        Error::MissingParameter("The request must contain the parameter VisibilityTimeout.".into())
    })?;
    if !(0..=43_200).contains(&v) {
        return Err(invalid_parameter(
            "VisibilityTimeout",
            v,
            "Must be between 0 and 43200, if provided.",
        ));
    }
    Ok(v as u32)
}

fn entry_id(e: &Value) -> String {
    e.get("Id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The rules every batch operation shares: 1–10 entries, distinct valid ids.
fn batch_entries(i: &Input<'_>, entry_name: &str) -> Result<Vec<Value>> {
    let entries: Vec<Value> = match i.0.get("Entries") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(invalid_parameter("Entries", "", "Must be a list.")),
    };
    if entries.is_empty() {
        return Err(Error::EmptyBatchRequest(format!(
            "There should be at least one {entry_name} in the request."
        )));
    }
    if entries.len() > 10 {
        return Err(Error::TooManyEntriesInBatchRequest(format!(
            "Maximum number of entries per request are 10. You have sent {}.",
            entries.len()
        )));
    }
    let mut seen = HashSet::new();
    for e in &entries {
        let id = entry_id(e);
        let valid = !id.is_empty()
            && id.len() <= 80
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(Error::InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and \
                 underscores. It can be at most 80 letters long."
                    .into(),
            ));
        }
        if !seen.insert(id.clone()) {
            return Err(Error::BatchEntryIdsNotDistinct(format!(
                "Id {id} repeated."
            )));
        }
    }
    Ok(entries)
}

fn batch_output<T>(
    ids: Vec<String>,
    results: Vec<Result<T>>,
    ok: impl Fn(&str, &T) -> Value,
) -> Value {
    let mut successful = Vec::new();
    let mut failed = Vec::new();
    for (id, r) in ids.iter().zip(results) {
        match r {
            Ok(v) => successful.push(ok(id, &v)),
            Err(e) => {
                let w = e.wire();
                failed.push(json!({
                    "Id": id,
                    "SenderFault": w.sender_fault,
                    "Code": w.query_code,
                    "Message": e.to_string(),
                }));
            }
        }
    }
    json!({ "Successful": successful, "Failed": failed })
}

fn map_output(key: &str, pairs: Vec<(String, String)>) -> Value {
    if pairs.is_empty() {
        return json!({});
    }
    let m: Map<String, Value> = pairs.into_iter().map(|(k, v)| (k, json!(v))).collect();
    json!({ key: m })
}

fn paginate(i: &Input<'_>, all: Vec<String>, key: &str, cap: usize) -> Result<Value> {
    let max = i.opt_int("MaxResults")?;
    if let Some(m) = max
        && !(1..=1000).contains(&m)
    {
        return Err(invalid_parameter(
            "MaxResults",
            m,
            "MaxResults must be an integer between 1 and 1000.",
        ));
    }
    let start = match i.opt_str("NextToken")? {
        Some(t) => decode_token(&t)?,
        None => 0,
    };
    let page = max.map(|m| m as usize).unwrap_or(cap);
    let items: Vec<&String> = all.iter().skip(start).take(page).collect();
    let mut o = Map::new();
    if !items.is_empty() {
        o.insert(key.into(), json!(items));
    }
    if max.is_some() && start + page < all.len() {
        o.insert("NextToken".into(), json!(encode_token(start + page)));
    }
    Ok(Value::Object(o))
}

fn encode_token(offset: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{{\"offset\":{offset}}}"))
}

fn decode_token(t: &str) -> Result<usize> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(t)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v.get("offset").and_then(Value::as_u64))
        .map(|v| v as usize)
        .ok_or_else(|| Error::InvalidParameterValue("Invalid NextToken value.".into()))
}

/// SQS's wording of input errors.
struct SqsWords;

impl InputErrors for SqsWords {
    type Error = Error;

    fn missing(k: &str) -> Error {
        Error::MissingParameter(format!("The request must contain the parameter {k}."))
    }

    fn wrong(k: &str, shown: &str, expected: Expected) -> Error {
        let reason = match expected {
            Expected::String => "Must be a string.",
            Expected::Integer => "Must be an integer.",
            Expected::Boolean => "Must be a boolean.",
            Expected::StringList => "Must be a list of strings.",
            Expected::StringMap => "Must be a map of strings.",
        };
        invalid_parameter(k, shown, reason)
    }
}

/// Typed access to an operation's JSON input with SQS's error messages; SQS's message
/// attributes on top of the shared readers.
struct Input<'a>(input::Input<'a, SqsWords>);

impl<'a> std::ops::Deref for Input<'a> {
    type Target = input::Input<'a, SqsWords>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<'a> Input<'a> {
    fn of(value: &'a Value) -> Self {
        Input(input::Input::new(value))
    }

    fn attributes(&self, k: &str) -> Result<Attributes> {
        match self.get(k) {
            None => Ok(BTreeMap::new()),
            Some(v @ Value::Object(_)) => {
                serde_json::from_value::<Attributes>(v.clone()).map_err(|e| {
                    Error::InvalidParameterValue(format!("Invalid message attributes: {e}"))
                })
            }
            Some(v) => Err(invalid_parameter(k, v, "Must be a map.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_name_selection() {
        let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(attribute_selected("a", &w(&["All"])));
        assert!(attribute_selected("a", &w(&[".*"])));
        assert!(attribute_selected("foo.bar", &w(&["foo.*"])));
        assert!(attribute_selected("foobar", &w(&["foo.*"])));
        assert!(!attribute_selected("fobar", &w(&["foo.*"])));
        assert!(!attribute_selected("b", &w(&["a"])));
        assert!(!attribute_selected("b", &[]));
    }

    #[test]
    fn tokens_round_trip() {
        assert_eq!(decode_token(&encode_token(42)).unwrap(), 42);
        assert!(decode_token("garbage!").is_err());
    }
}
