//! Logs operations: decode the awsJson input, validate it with AWS's messages, call the engine,
//! build the awsJson output.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use ponte_types::RequestContext;

use crate::engine::{
    CLASSES, EventOut, FilterQuery, GetQuery, GroupInfo, GroupMeta, Logs, NewGroup, RETENTION_DAYS,
    StreamInfo, StreamQuery, Target,
};
use crate::error::{BAD_TOKEN, Error, GROUP_NOT_FOUND, Result};
use crate::model::batch::MAX_EVENTS;
use crate::model::paging::{Token, hex, unhex};
use crate::model::pattern::FilterPattern;
use crate::model::validate::{self as v, Violations};

/// The operations Ponte implements.
pub const IMPLEMENTED: &[&str] = &[
    "CreateLogGroup",
    "CreateLogStream",
    "DeleteLogGroup",
    "DeleteLogStream",
    "DeleteRetentionPolicy",
    "DescribeLogGroups",
    "DescribeLogStreams",
    "FilterLogEvents",
    "GetLogEvents",
    "ListLogGroups",
    "ListTagsForResource",
    "ListTagsLogGroup",
    "PutLogEvents",
    "PutLogGroupDeletionProtection",
    "PutRetentionPolicy",
    "TagLogGroup",
    "TagResource",
    "TestMetricFilter",
    "UntagLogGroup",
    "UntagResource",
];

/// Every operation of the Logs 2014-03-28 model (botocore), implemented or not.
pub const MODEL_OPERATIONS: &[&str] = &[
    "AssociateKmsKey",
    "AssociateSourceToS3TableIntegration",
    "CancelExportTask",
    "CancelImportTask",
    "CreateDelivery",
    "CreateExportTask",
    "CreateImportTask",
    "CreateLogAnomalyDetector",
    "CreateLogGroup",
    "CreateLogStream",
    "CreateLookupTable",
    "CreateScheduledQuery",
    "DeleteAccountPolicy",
    "DeleteDataProtectionPolicy",
    "DeleteDelivery",
    "DeleteDeliveryDestination",
    "DeleteDeliveryDestinationPolicy",
    "DeleteDeliverySource",
    "DeleteDestination",
    "DeleteIndexPolicy",
    "DeleteIntegration",
    "DeleteLogAnomalyDetector",
    "DeleteLogGroup",
    "DeleteLogStream",
    "DeleteLookupTable",
    "DeleteMetricFilter",
    "DeleteQueryDefinition",
    "DeleteResourcePolicy",
    "DeleteRetentionPolicy",
    "DeleteScheduledQuery",
    "DeleteSubscriptionFilter",
    "DeleteTransformer",
    "DescribeAccountPolicies",
    "DescribeConfigurationTemplates",
    "DescribeDeliveries",
    "DescribeDeliveryDestinations",
    "DescribeDeliverySources",
    "DescribeDestinations",
    "DescribeExportTasks",
    "DescribeFieldIndexes",
    "DescribeImportTaskBatches",
    "DescribeImportTasks",
    "DescribeIndexPolicies",
    "DescribeLogGroups",
    "DescribeLogStreams",
    "DescribeLookupTables",
    "DescribeMetricFilters",
    "DescribeQueries",
    "DescribeQueryDefinitions",
    "DescribeResourcePolicies",
    "DescribeSubscriptionFilters",
    "DisassociateKmsKey",
    "DisassociateSourceFromS3TableIntegration",
    "FilterLogEvents",
    "GetDataProtectionPolicy",
    "GetDelivery",
    "GetDeliveryDestination",
    "GetDeliveryDestinationPolicy",
    "GetDeliverySource",
    "GetIntegration",
    "GetLogAnomalyDetector",
    "GetLogEvents",
    "GetLogFields",
    "GetLogGroupFields",
    "GetLogObject",
    "GetLogRecord",
    "GetLookupTable",
    "GetQueryResults",
    "GetScheduledQuery",
    "GetScheduledQueryHistory",
    "GetTransformer",
    "ListAggregateLogGroupSummaries",
    "ListAnomalies",
    "ListIntegrations",
    "ListLogAnomalyDetectors",
    "ListLogGroups",
    "ListLogGroupsForQuery",
    "ListScheduledQueries",
    "ListSourcesForS3TableIntegration",
    "ListTagsForResource",
    "ListTagsLogGroup",
    "PutAccountPolicy",
    "PutBearerTokenAuthentication",
    "PutDataProtectionPolicy",
    "PutDeliveryDestination",
    "PutDeliveryDestinationPolicy",
    "PutDeliverySource",
    "PutDestination",
    "PutDestinationPolicy",
    "PutIndexPolicy",
    "PutIntegration",
    "PutLogEvents",
    "PutLogGroupDeletionProtection",
    "PutMetricFilter",
    "PutQueryDefinition",
    "PutResourcePolicy",
    "PutRetentionPolicy",
    "PutSubscriptionFilter",
    "PutTransformer",
    "StartLiveTail",
    "StartQuery",
    "StopQuery",
    "TagLogGroup",
    "TagResource",
    "TestMetricFilter",
    "TestTransformer",
    "UntagLogGroup",
    "UntagResource",
    "UpdateAnomaly",
    "UpdateDeliveryConfiguration",
    "UpdateLogAnomalyDetector",
    "UpdateLookupTable",
    "UpdateScheduledQuery",
];

const NAME_TOO_LONG: &str =
    "Invalid LogGroup or LogStream, both must have length less than or equal to 512.";
const MAX_TAGS: usize = 50;

/// Runs one operation.
pub async fn call(logs: &Logs, ctx: &RequestContext, op: &str, input: &Value) -> Result<Value> {
    let empty = Map::new();
    let i = match input {
        Value::Object(m) => Input(m),
        Value::Null => Input(&empty),
        _ => {
            return Err(Error::Serialization(
                "Start of structure or map found where not expected.".into(),
            ));
        }
    };
    match op {
        "CreateLogGroup" => {
            let mut v = Violations::new();
            let name = group_name(&mut v, &i, "logGroupName", true)?;
            let tags = tags_input(&mut v, &i, "tags")?;
            let class = i.str("logGroupClass")?;
            if let Some(c) = class {
                v.one_of(c, "logGroupClass", CLASSES);
            }
            let kms = i.str("kmsKeyId")?;
            if let Some(k) = kms {
                v.string(k, "kmsKeyId", 0, 256, None);
            }
            let protection = i.bool("deletionProtectionEnabled")?.unwrap_or(false);
            finish(v)?;
            let name = name.unwrap_or_default();
            check_name_length(name)?;
            let t = local(ctx, name);
            logs.create_log_group(
                &t,
                NewGroup {
                    tags: tags.unwrap_or_default(),
                    class: class.map(str::to_owned),
                    kms_key_id: kms.map(str::to_owned),
                    deletion_protection: protection,
                },
            )
            .await?;
            Ok(json!({}))
        }
        "DeleteLogGroup" => {
            let t = named_group(ctx, &i)?;
            logs.delete_log_group(&t).await?;
            Ok(json!({}))
        }
        "DescribeLogGroups" => describe_log_groups(logs, ctx, &i),
        "ListLogGroups" => list_log_groups(logs, ctx, &i),
        "PutRetentionPolicy" => {
            let mut v = Violations::new();
            let name = group_name(&mut v, &i, "logGroupName", true)?;
            let days = i.int("retentionInDays")?;
            match days {
                None => v.missing("retentionInDays"),
                Some(d) if !RETENTION_DAYS.contains(&d) => {
                    let allowed: Vec<String> = RETENTION_DAYS.iter().map(i64::to_string).collect();
                    let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
                    v.one_of(&d.to_string(), "retentionInDays", &allowed);
                }
                Some(_) => {}
            }
            finish(v)?;
            let t = local(ctx, name.unwrap_or_default());
            let days = days.unwrap_or_default() as u32;
            logs.update_group(&t, |g| {
                g.retention_days = Some(days);
                Ok(())
            })
            .await?;
            Ok(json!({}))
        }
        "DeleteRetentionPolicy" => {
            let t = named_group(ctx, &i)?;
            logs.update_group(&t, |g| {
                g.retention_days = None;
                Ok(())
            })
            .await?;
            Ok(json!({}))
        }
        "PutLogGroupDeletionProtection" => {
            let mut v = Violations::new();
            let id = i.str("logGroupIdentifier")?;
            match id {
                None => v.missing("logGroupIdentifier"),
                Some(s) => v.string(
                    s,
                    "logGroupIdentifier",
                    1,
                    2048,
                    Some((v::IDENTIFIER_PATTERN, v::is_identifier)),
                ),
            }
            let on = i.bool("deletionProtectionEnabled")?;
            if on.is_none() {
                v.missing("deletionProtectionEnabled");
            }
            finish(v)?;
            let t = identifier_target(ctx, id.unwrap_or_default())?;
            logs.update_group(&t, |g| {
                g.deletion_protection = on.unwrap_or(false);
                Ok(())
            })
            .await?;
            Ok(json!({}))
        }
        "CreateLogStream" | "DeleteLogStream" => {
            let mut v = Violations::new();
            let group = group_name(&mut v, &i, "logGroupName", true)?;
            let stream = stream_name(&mut v, &i, "logStreamName", true)?;
            finish(v)?;
            let (group, stream) = (group.unwrap_or_default(), stream.unwrap_or_default());
            check_name_length(group)?;
            check_name_length(stream)?;
            let t = local(ctx, group);
            if op == "CreateLogStream" {
                logs.create_log_stream(&t, stream).await?;
            } else {
                logs.delete_log_stream(&t, stream).await?;
            }
            Ok(json!({}))
        }
        "DescribeLogStreams" => describe_log_streams(logs, ctx, &i),
        "PutLogEvents" => put_log_events(logs, ctx, &i).await,
        "GetLogEvents" => get_log_events(logs, ctx, &i),
        "FilterLogEvents" => filter_log_events(logs, ctx, &i),
        "TestMetricFilter" => test_metric_filter(&i),
        "TagLogGroup" => {
            let mut v = Violations::new();
            let name = group_name(&mut v, &i, "logGroupName", true)?;
            let tags = tags_input(&mut v, &i, "tags")?;
            if tags.is_none() {
                v.missing("tags");
            }
            finish(v)?;
            let t = local(ctx, name.unwrap_or_default());
            let tags = tags.unwrap_or_default();
            logs.update_group(&t, |g| {
                let merged = merged_count(&g.tags, &tags);
                if merged > MAX_TAGS {
                    return Err(Error::InvalidParameter(too_many_tags(merged)));
                }
                g.tags.extend(tags);
                Ok(())
            })
            .await?;
            Ok(json!({}))
        }
        "UntagLogGroup" => {
            let mut v = Violations::new();
            let name = group_name(&mut v, &i, "logGroupName", true)?;
            let keys = tag_keys(&mut v, &i, "tags", 1)?;
            finish(v)?;
            let t = local(ctx, name.unwrap_or_default());
            logs.update_group(&t, |g| {
                for k in &keys {
                    g.tags.remove(k);
                }
                Ok(())
            })
            .await?;
            Ok(json!({}))
        }
        "ListTagsLogGroup" => {
            let t = named_group(ctx, &i)?;
            let g = logs.group_info(&t)?;
            Ok(json!({ "tags": g.meta.tags }))
        }
        "TagResource" => {
            let mut v = Violations::new();
            let arn = resource_arn(&mut v, &i)?;
            let tags = tags_input(&mut v, &i, "tags")?;
            if tags.is_none() {
                v.missing("tags");
            }
            finish(v)?;
            let t = arn_target(arn.unwrap_or_default())?;
            let tags = tags.unwrap_or_default();
            logs.update_group(&t, |g| {
                let merged = merged_count(&g.tags, &tags);
                if merged > MAX_TAGS {
                    return Err(Error::TooManyTags {
                        message: too_many_tags(merged),
                        resource: g.arn(),
                    });
                }
                g.tags.extend(tags);
                Ok(())
            })
            .await?;
            Ok(json!({}))
        }
        "UntagResource" => {
            let mut v = Violations::new();
            let arn = resource_arn(&mut v, &i)?;
            let keys = tag_keys(&mut v, &i, "tagKeys", 0)?;
            finish(v)?;
            let t = arn_target(arn.unwrap_or_default())?;
            logs.update_group(&t, |g| {
                for k in &keys {
                    g.tags.remove(k);
                }
                Ok(())
            })
            .await?;
            Ok(json!({}))
        }
        "ListTagsForResource" => {
            let mut v = Violations::new();
            let arn = resource_arn(&mut v, &i)?;
            finish(v)?;
            let t = arn_target(arn.unwrap_or_default())?;
            let g = logs.group_info(&t)?;
            Ok(json!({ "tags": g.meta.tags }))
        }
        op if MODEL_OPERATIONS.contains(&op) => Err(Error::NotImplemented(format!(
            "Ponte does not implement the CloudWatch Logs operation {op}."
        ))),
        op => Err(Error::UnknownOperation(format!(
            "The operation {op} is not recognized by CloudWatch Logs."
        ))),
    }
}

// ----- input access ---------------------------------------------------------------------------

struct Input<'a>(&'a Map<String, Value>);

fn wrong_type(name: &str) -> Error {
    Error::Serialization(format!("Unexpected value type for member '{name}'."))
}

impl<'a> Input<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn str(&self, name: &str) -> Result<Option<&'a str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(wrong_type(name)),
        }
    }

    fn int(&self, name: &str) -> Result<Option<i64>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| wrong_type(name)),
            Some(_) => Err(wrong_type(name)),
        }
    }

    fn bool(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong_type(name)),
        }
    }

    fn str_list(&self, name: &str) -> Result<Option<Vec<&'a str>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| x.as_str().ok_or_else(|| wrong_type(name)))
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(_) => Err(wrong_type(name)),
        }
    }

    fn str_map(&self, name: &str) -> Result<Option<Vec<(&'a str, &'a str)>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, x)| {
                    x.as_str()
                        .map(|s| (k.as_str(), s))
                        .ok_or_else(|| wrong_type(name))
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(_) => Err(wrong_type(name)),
        }
    }
}

fn finish(v: Violations) -> Result<()> {
    match v.message() {
        Some(m) => Err(Error::InvalidParameter(m)),
        None => Ok(()),
    }
}

/// `[a, b]`, as AWS renders a list value in validation messages.
fn render_list(items: &[&str]) -> String {
    format!("[{}]", items.join(", "))
}

// ----- names and targets ----------------------------------------------------------------------

/// Reads a log group name, checking the model's pattern and minimum length. The 512 maximum
/// is checked afterwards by [`check_name_length`], with AWS's own message.
fn group_name<'a>(
    v: &mut Violations,
    i: &Input<'a>,
    path: &str,
    required: bool,
) -> Result<Option<&'a str>> {
    let s = i.str(path)?;
    match s {
        None if required => v.missing(path),
        None => {}
        Some(s) => v.string(
            s,
            path,
            1,
            usize::MAX,
            Some((v::GROUP_NAME_PATTERN, v::is_group_name)),
        ),
    }
    Ok(s)
}

fn stream_name<'a>(
    v: &mut Violations,
    i: &Input<'a>,
    path: &str,
    required: bool,
) -> Result<Option<&'a str>> {
    let s = i.str(path)?;
    match s {
        None if required => v.missing(path),
        None => {}
        Some(s) => v.string(
            s,
            path,
            1,
            usize::MAX,
            Some((v::STREAM_NAME_PATTERN, v::is_stream_name)),
        ),
    }
    Ok(s)
}

fn check_name_length(name: &str) -> Result<()> {
    if name.chars().count() > 512 {
        return Err(Error::InvalidParameter(NAME_TOO_LONG.into()));
    }
    Ok(())
}

fn local(ctx: &RequestContext, name: &str) -> Target {
    Target {
        region: ctx.region.clone(),
        account: ctx.account.clone(),
        name: name.to_owned(),
    }
}

/// Operations whose only input is a required `logGroupName`.
fn named_group(ctx: &RequestContext, i: &Input) -> Result<Target> {
    let mut v = Violations::new();
    let name = group_name(&mut v, i, "logGroupName", true)?;
    finish(v)?;
    let name = name.unwrap_or_default();
    check_name_length(name)?;
    Ok(local(ctx, name))
}

/// `arn:<partition>:logs:<region>:<account>:log-group:<name>[:*]`.
fn parse_group_arn(arn: &str) -> Option<Target> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(6, ':');
    let _partition = parts.next()?;
    if parts.next()? != "logs" {
        return None;
    }
    let region = parts.next()?;
    let account = parts.next()?;
    let resource = parts.next()?;
    let name = parts.next()?;
    if resource != "log-group" || region.is_empty() || account.is_empty() {
        return None;
    }
    let name = name.strip_suffix(":*").unwrap_or(name);
    if name.is_empty() || !v::is_group_name(name) {
        return None;
    }
    Some(Target {
        region: region.to_owned(),
        account: account.to_owned(),
        name: name.to_owned(),
    })
}

/// A `logGroupIdentifier`: a name in the caller's account, or a log group ARN.
fn identifier_target(ctx: &RequestContext, id: &str) -> Result<Target> {
    if id.starts_with("arn:") {
        return parse_group_arn(id)
            .ok_or_else(|| Error::InvalidParameter(format!("Invalid log group ARN: {id}")));
    }
    if !v::is_group_name(id) {
        return Err(Error::ResourceNotFound(GROUP_NOT_FOUND.into()));
    }
    check_name_length(id)?;
    Ok(local(ctx, id))
}

/// The group of an operation that takes `logGroupName` or `logGroupIdentifier` (exactly one).
fn either_group(ctx: &RequestContext, v: &mut Violations, i: &Input) -> Result<Option<Target>> {
    let name = group_name(v, i, "logGroupName", false)?;
    let id = i.str("logGroupIdentifier")?;
    if let Some(s) = id {
        v.string(
            s,
            "logGroupIdentifier",
            1,
            2048,
            Some((v::IDENTIFIER_PATTERN, v::is_identifier)),
        );
    }
    if !v.is_empty() {
        return Ok(None);
    }
    match (name, id) {
        (Some(_), Some(_)) => Err(Error::Validation(
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.".into(),
        )),
        (None, None) => Err(Error::InvalidParameter(
            "Should provide either logGroupName or logGroupIdentifier.".into(),
        )),
        (Some(n), None) => {
            check_name_length(n)?;
            Ok(Some(local(ctx, n)))
        }
        (None, Some(id)) => identifier_target(ctx, id).map(Some),
    }
}

fn resource_arn<'a>(v: &mut Violations, i: &Input<'a>) -> Result<Option<&'a str>> {
    let arn = i.str("resourceArn")?;
    match arn {
        None => v.missing("resourceArn"),
        Some(a) => v.string(
            a,
            "resourceArn",
            1,
            1011,
            Some((v::RESOURCE_ARN_PATTERN, v::is_resource_arn)),
        ),
    }
    Ok(arn)
}

/// The log group a TagResource-family ARN names. Only log groups exist here (no destinations).
fn arn_target(arn: &str) -> Result<Target> {
    match parse_group_arn(arn) {
        Some(t) => Ok(t),
        None if arn.starts_with("arn:") && arn.split(':').nth(2) == Some("logs") => Err(
            Error::ResourceNotFound("The specified resource does not exist.".into()),
        ),
        None => Err(Error::InvalidParameter(format!(
            "Invalid resource ARN: {arn}"
        ))),
    }
}

// ----- tags -----------------------------------------------------------------------------------

fn tags_input(
    v: &mut Violations,
    i: &Input,
    path: &str,
) -> Result<Option<BTreeMap<String, String>>> {
    let Some(pairs) = i.str_map(path)? else {
        return Ok(None);
    };
    if pairs.is_empty() || pairs.len() > MAX_TAGS {
        let shown: Vec<String> = pairs.iter().map(|(k, x)| format!("{k}={x}")).collect();
        let shown = format!("{{{}}}", shown.join(", "));
        if pairs.is_empty() {
            v.push(
                &shown,
                path,
                "Member must have length greater than or equal to 1",
            );
        } else {
            v.push(
                &shown,
                path,
                "Member must have length less than or equal to 50",
            );
        }
    }
    for (k, x) in &pairs {
        v.string(
            k,
            &format!("{path}.{k}.member.key"),
            1,
            128,
            Some((v::TAG_KEY_PATTERN, v::is_tag_key)),
        );
        v.string(
            x,
            &format!("{path}.{k}.member.value"),
            0,
            256,
            Some((v::TAG_VALUE_PATTERN, v::is_tag_value)),
        );
    }
    Ok(Some(
        pairs
            .into_iter()
            .map(|(k, x)| (k.to_owned(), x.to_owned()))
            .collect(),
    ))
}

fn tag_keys(v: &mut Violations, i: &Input, path: &str, min: usize) -> Result<Vec<String>> {
    let Some(keys) = i.str_list(path)? else {
        v.missing(path);
        return Ok(Vec::new());
    };
    if keys.len() < min {
        v.push(
            &render_list(&keys),
            path,
            &format!("Member must have length greater than or equal to {min}"),
        );
    }
    if keys.len() > MAX_TAGS {
        v.push(
            &render_list(&keys),
            path,
            "Member must have length less than or equal to 50",
        );
    }
    for (n, k) in keys.iter().enumerate() {
        v.string(
            k,
            &format!("{path}.{}.member", n + 1),
            1,
            128,
            Some((v::TAG_KEY_PATTERN, v::is_tag_key)),
        );
    }
    Ok(keys.into_iter().map(str::to_owned).collect())
}

fn merged_count(existing: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> usize {
    existing.len() + new.keys().filter(|k| !existing.contains_key(*k)).count()
}

fn too_many_tags(n: usize) -> String {
    format!("A resource can have no more than {MAX_TAGS} tags; the request would leave {n}.")
}

// ----- groups ---------------------------------------------------------------------------------

fn limit(v: &mut Violations, i: &Input, max: i64, default: usize) -> Result<usize> {
    match i.int("limit")? {
        None => Ok(default),
        Some(n) => {
            v.range(n, "limit", 1, max);
            Ok(n.clamp(1, max) as usize)
        }
    }
}

fn next_token<'a>(v: &mut Violations, i: &Input<'a>) -> Result<Option<&'a str>> {
    let t = i.str("nextToken")?;
    if let Some(s) = t {
        v.string(s, "nextToken", 1, usize::MAX, None);
    }
    Ok(t)
}

/// DescribeLogGroups / ListLogGroups tokens: `g/` and the hex of the last returned name.
fn group_cursor(token: Option<&str>) -> Result<Option<String>> {
    token
        .map(|t| {
            t.strip_prefix("g/")
                .and_then(unhex)
                .ok_or_else(|| Error::InvalidParameter(BAD_TOKEN.into()))
        })
        .transpose()
}

fn group_json(g: &GroupInfo, pattern_view: bool) -> Value {
    let m = &g.meta;
    let mut o = Map::new();
    o.insert("logGroupName".into(), json!(m.name));
    o.insert("creationTime".into(), json!(m.created));
    if !pattern_view && let Some(d) = m.retention_days {
        o.insert("retentionInDays".into(), json!(d));
    }
    o.insert("metricFilterCount".into(), json!(0));
    o.insert("arn".into(), json!(format!("{}:*", m.arn())));
    if !pattern_view {
        o.insert("storedBytes".into(), json!(g.stored_bytes));
        if let Some(k) = &m.kms_key_id {
            o.insert("kmsKeyId".into(), json!(k));
        }
    }
    o.insert("logGroupClass".into(), json!(m.class));
    o.insert("logGroupArn".into(), json!(m.arn()));
    if !pattern_view {
        o.insert(
            "deletionProtectionEnabled".into(),
            json!(m.deletion_protection),
        );
    }
    Value::Object(o)
}

fn describe_log_groups(logs: &Logs, ctx: &RequestContext, i: &Input) -> Result<Value> {
    let mut v = Violations::new();
    let prefix = group_name(&mut v, i, "logGroupNamePrefix", false)?;
    let pattern = i.str("logGroupNamePattern")?;
    if let Some(p) = pattern {
        v.string(
            p,
            "logGroupNamePattern",
            0,
            512,
            Some((v::GROUP_NAME_SUBSTRING_PATTERN, v::is_group_name)),
        );
    }
    let class = i.str("logGroupClass")?;
    if let Some(c) = class {
        v.one_of(c, "logGroupClass", CLASSES);
    }
    let ids = i.str_list("logGroupIdentifiers")?;
    if let Some(ids) = &ids {
        if ids.is_empty() || ids.len() > 50 {
            v.push(
                &render_list(ids),
                "logGroupIdentifiers",
                if ids.is_empty() {
                    "Member must have length greater than or equal to 1"
                } else {
                    "Member must have length less than or equal to 50"
                },
            );
        }
        for (n, id) in ids.iter().enumerate() {
            v.string(
                id,
                &format!("logGroupIdentifiers.{}.member", n + 1),
                1,
                2048,
                Some((v::IDENTIFIER_PATTERN, v::is_identifier)),
            );
        }
    }
    // Accepted for compatibility; there are no linked (monitoring) accounts here.
    let _ = i.bool("includeLinkedAccounts")?;
    let _ = i.str_list("accountIdentifiers")?;
    let limit = limit(&mut v, i, 50, 50)?;
    let token = next_token(&mut v, i)?;
    finish(v)?;
    if prefix.is_some() && pattern.is_some() {
        return Err(Error::InvalidParameter(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
                .into(),
        ));
    }
    let after = group_cursor(token)?;
    let wanted: Option<Vec<String>> = ids.map(|ids| {
        ids.iter()
            .map(|id| match parse_group_arn(id) {
                Some(t) => t.name,
                None => (*id).to_owned(),
            })
            .collect()
    });
    let keep = |m: &GroupMeta| {
        prefix.is_none_or(|p| m.name.starts_with(p))
            && pattern.is_none_or(|p| m.name.contains(p))
            && class.is_none_or(|c| m.class == c)
            && wanted.as_ref().is_none_or(|w| w.contains(&m.name))
    };
    let (groups, more) = logs.list_groups(&ctx.region, &ctx.account, after.as_deref(), limit, keep);
    let pattern_view = pattern.is_some();
    let mut out = json!({
        "logGroups": groups.iter().map(|g| group_json(g, pattern_view)).collect::<Vec<_>>(),
    });
    if more && let Some(last) = groups.last() {
        out["nextToken"] = json!(format!("g/{}", hex(&last.meta.name)));
    }
    Ok(out)
}

/// ListLogGroups' `logGroupNamePattern`: up to five `|`-separated alternatives of 3–24
/// characters, each a substring match or, with a leading `^`, a prefix match.
fn list_pattern(p: &str) -> Option<Vec<(bool, &str)>> {
    let alts: Vec<(bool, &str)> = p
        .split('|')
        .map(|a| match a.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, a),
        })
        .collect();
    let ok = alts.len() <= 5
        && alts
            .iter()
            .all(|(_, a)| (3..=24).contains(&a.len()) && v::is_group_name(a));
    ok.then_some(alts)
}

fn list_log_groups(logs: &Logs, ctx: &RequestContext, i: &Input) -> Result<Value> {
    let mut v = Violations::new();
    let pattern = i.str("logGroupNamePattern")?;
    let alts = match pattern {
        None => None,
        Some(p) => {
            let alts = list_pattern(p);
            if alts.is_none() {
                v.string(p, "logGroupNamePattern", 3, 129, None);
                if v.is_empty() {
                    v.push(
                        p,
                        "logGroupNamePattern",
                        "Member must satisfy regular expression pattern: \
                         (\\^?[\\.\\-_\\/#A-Za-z0-9]{3,24})(\\|\\^?[\\.\\-_\\/#A-Za-z0-9]{3,24}){0,4}",
                    );
                }
            }
            alts
        }
    };
    let class = i.str("logGroupClass")?;
    if let Some(c) = class {
        v.one_of(c, "logGroupClass", CLASSES);
    }
    let _ = i.bool("includeLinkedAccounts")?;
    let _ = i.str_list("accountIdentifiers")?;
    let limit = limit(&mut v, i, 1000, 50)?;
    let token = next_token(&mut v, i)?;
    finish(v)?;
    let after = group_cursor(token)?;
    let keep = |m: &GroupMeta| {
        class.is_none_or(|c| m.class == c)
            && alts.as_ref().is_none_or(|alts| {
                alts.iter().any(|(prefix, a)| {
                    if *prefix {
                        m.name.starts_with(a)
                    } else {
                        m.name.contains(a)
                    }
                })
            })
    };
    let (groups, more) = logs.list_groups(&ctx.region, &ctx.account, after.as_deref(), limit, keep);
    let mut out = json!({
        "logGroups": groups.iter().map(|g| json!({
            "logGroupName": g.meta.name,
            "logGroupArn": g.meta.arn(),
            "logGroupClass": g.meta.class,
        })).collect::<Vec<_>>(),
    });
    if more && let Some(last) = groups.last() {
        out["nextToken"] = json!(format!("g/{}", hex(&last.meta.name)));
    }
    Ok(out)
}

// ----- streams --------------------------------------------------------------------------------

fn stream_json(s: &StreamInfo) -> Value {
    let m = &s.meta;
    let mut o = Map::new();
    o.insert("logStreamName".into(), json!(m.name));
    o.insert("creationTime".into(), json!(m.created));
    if let Some(t) = m.first_event {
        o.insert("firstEventTimestamp".into(), json!(t));
    }
    if let Some(t) = m.last_event {
        o.insert("lastEventTimestamp".into(), json!(t));
    }
    if let Some(t) = m.last_ingestion {
        o.insert("lastIngestionTime".into(), json!(t));
    }
    if m.uploads > 0 {
        o.insert("uploadSequenceToken".into(), json!(m.sequence_token()));
    }
    o.insert("arn".into(), json!(s.arn));
    // AWS has reported 0 for streams since June 2019 (model documentation).
    o.insert("storedBytes".into(), json!(0));
    Value::Object(o)
}

fn describe_log_streams(logs: &Logs, ctx: &RequestContext, i: &Input) -> Result<Value> {
    let mut v = Violations::new();
    let target = either_group(ctx, &mut v, i)?;
    let prefix = stream_name(&mut v, i, "logStreamNamePrefix", false)?;
    let order = i.str("orderBy")?;
    if let Some(o) = order {
        v.one_of(o, "orderBy", &["LogStreamName", "LastEventTime"]);
    }
    let descending = i.bool("descending")?.unwrap_or(false);
    let limit = limit(&mut v, i, 50, 50)?;
    let token = next_token(&mut v, i)?;
    finish(v)?;
    let by_last_event = order == Some("LastEventTime");
    if by_last_event && prefix.is_some() {
        return Err(Error::InvalidParameter(
            "Cannot order by LastEventTime with a logStreamNamePrefix.".into(),
        ));
    }
    let Some(t) = target else {
        return Err(Error::InvalidParameter(
            "Should provide either logGroupName or logGroupIdentifier.".into(),
        ));
    };
    let after = token
        .map(|tok| {
            let bad = || Error::InvalidParameter(BAD_TOKEN.into());
            let (kind, rest) = tok.split_once('/').ok_or_else(bad)?;
            match (kind, by_last_event) {
                ("n", false) => Ok((0, unhex(rest).ok_or_else(bad)?)),
                ("t", true) => {
                    let (time, name) = rest.split_once('/').ok_or_else(bad)?;
                    Ok((
                        time.parse().map_err(|_| bad())?,
                        unhex(name).ok_or_else(bad)?,
                    ))
                }
                _ => Err(bad()),
            }
        })
        .transpose()?;
    let q = StreamQuery {
        prefix: prefix.map(str::to_owned),
        by_last_event,
        descending,
        limit,
        after,
    };
    let (streams, next) = logs.describe_streams(&t, &q)?;
    let mut out = json!({ "logStreams": streams.iter().map(stream_json).collect::<Vec<_>>() });
    if let Some((time, name)) = next {
        out["nextToken"] = json!(if by_last_event {
            format!("t/{time}/{}", hex(&name))
        } else {
            format!("n/{}", hex(&name))
        });
    }
    Ok(out)
}

// ----- events ---------------------------------------------------------------------------------

async fn put_log_events(logs: &Logs, ctx: &RequestContext, i: &Input<'_>) -> Result<Value> {
    let mut v = Violations::new();
    let group = group_name(&mut v, i, "logGroupName", true)?;
    let stream = stream_name(&mut v, i, "logStreamName", true)?;
    if let Some(tok) = i.str("sequenceToken")? {
        // Accepted and ignored, as AWS does since 2023.
        v.string(tok, "sequenceToken", 1, usize::MAX, None);
    }
    let mut events = Vec::new();
    match i.get("logEvents") {
        None => v.missing("logEvents"),
        Some(Value::Array(list)) => {
            if list.is_empty() || list.len() > MAX_EVENTS {
                let constraint = if list.is_empty() {
                    "Member must have length greater than or equal to 1".to_owned()
                } else {
                    format!("Member must have length less than or equal to {MAX_EVENTS}")
                };
                v.push(
                    &format!("[{} events]", list.len()),
                    "logEvents",
                    &constraint,
                );
            }
            for (n, e) in list.iter().enumerate() {
                let path = format!("logEvents.{}.member", n + 1);
                let Value::Object(e) = e else {
                    return Err(wrong_type("logEvents"));
                };
                let e = Input(e);
                let ts = e.int("timestamp")?;
                let msg = e.str("message")?;
                match ts {
                    None => v.missing(&format!("{path}.timestamp")),
                    Some(t) if t < 0 => v.range(t, &format!("{path}.timestamp"), 0, i64::MAX),
                    Some(_) => {}
                }
                match msg {
                    None => v.missing(&format!("{path}.message")),
                    Some(m) => v.string(m, &format!("{path}.message"), 1, usize::MAX, None),
                }
                if let (Some(t), Some(m)) = (ts, msg) {
                    events.push((t.max(0) as u64, m.to_owned()));
                }
            }
        }
        Some(_) => return Err(wrong_type("logEvents")),
    }
    finish(v)?;
    let (group, stream) = (group.unwrap_or_default(), stream.unwrap_or_default());
    check_name_length(group)?;
    check_name_length(stream)?;
    let out = logs
        .put_log_events(&local(ctx, group), stream, events)
        .await?;
    let mut o = json!({ "nextSequenceToken": out.next_sequence_token });
    if out.rejected.any() {
        let mut r = Map::new();
        if let Some(n) = out.rejected.too_new_start {
            r.insert("tooNewLogEventStartIndex".into(), json!(n));
        }
        if let Some(n) = out.rejected.too_old_end {
            r.insert("tooOldLogEventEndIndex".into(), json!(n));
        }
        if let Some(n) = out.rejected.expired_end {
            r.insert("expiredLogEventEndIndex".into(), json!(n));
        }
        o["rejectedLogEventsInfo"] = Value::Object(r);
    }
    Ok(o)
}

fn time(v: &mut Violations, i: &Input, name: &str) -> Result<Option<u64>> {
    let t = i.int(name)?;
    if let Some(t) = t {
        v.range(t, name, 0, i64::MAX);
    }
    Ok(t.map(|t| t.max(0) as u64))
}

fn event_json(e: &EventOut, with_stream: bool) -> Value {
    if with_stream {
        json!({
            "logStreamName": e.stream,
            "timestamp": e.timestamp,
            "message": &*e.message,
            "ingestionTime": e.ingestion,
            "eventId": e.event_id,
        })
    } else {
        json!({
            "timestamp": e.timestamp,
            "message": &*e.message,
            "ingestionTime": e.ingestion,
        })
    }
}

fn get_log_events(logs: &Logs, ctx: &RequestContext, i: &Input) -> Result<Value> {
    let mut v = Violations::new();
    let target = either_group(ctx, &mut v, i)?;
    let stream = stream_name(&mut v, i, "logStreamName", true)?;
    let start = time(&mut v, i, "startTime")?;
    let end = time(&mut v, i, "endTime")?;
    let limit = limit(&mut v, i, 10_000, 10_000)?;
    let from_head = i.bool("startFromHead")?.unwrap_or(false);
    let _ = i.bool("unmask")?;
    let token = next_token(&mut v, i)?;
    finish(v)?;
    let Some(t) = target else {
        return Err(Error::InvalidParameter(
            "Should provide either logGroupName or logGroupIdentifier.".into(),
        ));
    };
    let stream = stream.unwrap_or_default();
    check_name_length(stream)?;
    let token = token
        .map(|s| Token::decode(s).ok_or_else(|| Error::InvalidParameter(BAD_TOKEN.into())))
        .transpose()?;
    let q = GetQuery {
        start,
        end,
        token,
        limit,
        from_head,
    };
    let out = logs.get_log_events(&t, stream, &q)?;
    Ok(json!({
        "events": out.events.iter().map(|e| event_json(e, false)).collect::<Vec<_>>(),
        "nextForwardToken": out.forward,
        "nextBackwardToken": out.backward,
    }))
}

/// FilterLogEvents tokens: `e/` and the position of the last returned event, 32 hex digits.
fn filter_cursor(token: Option<&str>) -> Result<Option<u128>> {
    token
        .map(|t| {
            t.strip_prefix("e/")
                .filter(|h| h.len() == 32)
                .and_then(|h| u128::from_str_radix(h, 16).ok())
                .ok_or_else(|| Error::InvalidParameter(BAD_TOKEN.into()))
        })
        .transpose()
}

fn filter_log_events(logs: &Logs, ctx: &RequestContext, i: &Input) -> Result<Value> {
    let mut v = Violations::new();
    let target = either_group(ctx, &mut v, i)?;
    let names = i.str_list("logStreamNames")?;
    if let Some(names) = &names {
        if names.is_empty() || names.len() > 100 {
            v.push(
                &render_list(names),
                "logStreamNames",
                if names.is_empty() {
                    "Member must have length greater than or equal to 1"
                } else {
                    "Member must have length less than or equal to 100"
                },
            );
        }
        for (n, s) in names.iter().enumerate() {
            v.string(
                s,
                &format!("logStreamNames.{}.member", n + 1),
                1,
                512,
                Some((v::STREAM_NAME_PATTERN, v::is_stream_name)),
            );
        }
    }
    let prefix = stream_name(&mut v, i, "logStreamNamePrefix", false)?;
    let start = time(&mut v, i, "startTime")?;
    let end = time(&mut v, i, "endTime")?;
    let pattern = i.str("filterPattern")?;
    if let Some(p) = pattern {
        v.string(p, "filterPattern", 0, 1024, None);
    }
    let limit = limit(&mut v, i, 10_000, 10_000)?;
    let _ = i.bool("interleaved")?;
    let _ = i.bool("unmask")?;
    let token = next_token(&mut v, i)?;
    finish(v)?;
    if names.is_some() && prefix.is_some() {
        return Err(Error::InvalidParameter(
            "logStreamNames and logStreamNamePrefix are mutually exclusive.".into(),
        ));
    }
    let Some(t) = target else {
        return Err(Error::InvalidParameter(
            "Should provide either logGroupName or logGroupIdentifier.".into(),
        ));
    };
    let pattern =
        FilterPattern::parse(pattern.unwrap_or("")).map_err(|e| Error::InvalidParameter(e.0))?;
    let q = FilterQuery {
        names: names.map(|n| n.into_iter().map(str::to_owned).collect()),
        prefix: prefix.map(str::to_owned),
        start,
        end,
        pattern,
        limit,
        after: filter_cursor(token)?,
    };
    let out = logs.filter_log_events(&t, &q)?;
    let mut o = json!({
        "events": out.events.iter().map(|e| event_json(e, true)).collect::<Vec<_>>(),
        "searchedLogStreams": out.searched.iter().map(|n| json!({
            "logStreamName": n,
            "searchedCompletely": true,
        })).collect::<Vec<_>>(),
    });
    if let Some(p) = out.next {
        o["nextToken"] = json!(format!("e/{p:032x}"));
    }
    Ok(o)
}

fn test_metric_filter(i: &Input) -> Result<Value> {
    let mut v = Violations::new();
    let pattern = i.str("filterPattern")?;
    match pattern {
        None => v.missing("filterPattern"),
        Some(p) => v.string(p, "filterPattern", 0, 1024, None),
    }
    let messages = i.str_list("logEventMessages")?;
    match &messages {
        None => v.missing("logEventMessages"),
        Some(m) => {
            if m.is_empty() || m.len() > 50 {
                v.push(
                    &render_list(m),
                    "logEventMessages",
                    if m.is_empty() {
                        "Member must have length greater than or equal to 1"
                    } else {
                        "Member must have length less than or equal to 50"
                    },
                );
            }
            for (n, msg) in m.iter().enumerate() {
                v.string(
                    msg,
                    &format!("logEventMessages.{}.member", n + 1),
                    1,
                    usize::MAX,
                    None,
                );
            }
        }
    }
    finish(v)?;
    let pattern =
        FilterPattern::parse(pattern.unwrap_or("")).map_err(|e| Error::InvalidParameter(e.0))?;
    let matches: Vec<Value> = messages
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter(|(_, m)| pattern.matches(m))
        .map(|(n, m)| {
            json!({
                "eventNumber": n + 1,
                "eventMessage": m,
                "extractedValues": pattern.extract(m),
            })
        })
        .collect();
    Ok(json!({ "matches": matches }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_arns_parse() {
        let t = parse_group_arn("arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f:*")
            .unwrap();
        assert_eq!(t.region, "eu-west-1");
        assert_eq!(t.account, "123456789012");
        assert_eq!(t.name, "/aws/lambda/f");
        assert!(parse_group_arn("arn:aws:logs:eu-west-1:1:destination:x").is_none());
        assert!(parse_group_arn("arn:aws:sqs:eu-west-1:1:log-group:x").is_none());
        assert!(parse_group_arn("not-an-arn").is_none());
    }

    #[test]
    fn list_patterns() {
        assert_eq!(
            list_pattern("^/aws/lambda|discovery"),
            Some(vec![(true, "/aws/lambda"), (false, "discovery")])
        );
        assert_eq!(list_pattern("ab"), None);
        assert_eq!(list_pattern("a|b|c|d|e|f"), None);
    }

    #[test]
    fn tokens_are_checked() {
        assert_eq!(
            group_cursor(Some("g/616263")).unwrap().as_deref(),
            Some("abc")
        );
        assert!(group_cursor(Some("abc")).is_err());
        assert_eq!(
            filter_cursor(Some(&format!("e/{:032x}", 77u128))).unwrap(),
            Some(77)
        );
        assert!(filter_cursor(Some("e/zz")).is_err());
    }
}
