//! Operations: awsJson input → AWS's validation → engine calls → awsJson output.
//!
//! Validation follows the botocore model (lengths, patterns, ranges) with AWS's
//! `N validation error(s) detected: ...` wording ([`Violations`]); state-dependent errors come
//! from the engine. Timestamps are epoch seconds on the wire.

use std::collections::BTreeMap;

use ponte_types::RequestContext;
use serde_json::{Map, Value, json};

use crate::engine::{ArchiveMeta, BusMeta, Events, Key3, ReplayMeta, RuleMeta};
use crate::error::{Error, Result, Violations};
use crate::model::envelope::{self, EntryIn, MAX_REQUEST_BYTES, ms_to_epoch_seconds};
use crate::model::names::{
    self, BUS_NAME_OR_ARN_PATTERN, BUS_NAME_PATTERN, DEFAULT_BUS, NAME_PATTERN,
};
use crate::model::policy;
use crate::model::transform::{self, JsonPath, RESERVED};

/// Every operation of the model that Ponte does not serve (answered `501 NotImplemented`).
pub const NOT_IMPLEMENTED: [&str; 26] = [
    "ActivateEventSource",
    "CreateApiDestination",
    "CreateConnection",
    "CreateEndpoint",
    "CreatePartnerEventSource",
    "DeactivateEventSource",
    "DeauthorizeConnection",
    "DeleteApiDestination",
    "DeleteConnection",
    "DeleteEndpoint",
    "DeletePartnerEventSource",
    "DescribeApiDestination",
    "DescribeConnection",
    "DescribeEndpoint",
    "DescribeEventSource",
    "DescribePartnerEventSource",
    "ListApiDestinations",
    "ListConnections",
    "ListEndpoints",
    "ListEventSources",
    "ListPartnerEventSourceAccounts",
    "ListPartnerEventSources",
    "PutPartnerEvents",
    "UpdateApiDestination",
    "UpdateConnection",
    "UpdateEndpoint",
];

/// Every operation Ponte serves.
pub const IMPLEMENTED: [&str; 31] = [
    "CancelReplay",
    "CreateArchive",
    "CreateEventBus",
    "DeleteArchive",
    "DeleteEventBus",
    "DeleteRule",
    "DescribeArchive",
    "DescribeEventBus",
    "DescribeReplay",
    "DescribeRule",
    "DisableRule",
    "EnableRule",
    "ListArchives",
    "ListEventBuses",
    "ListReplays",
    "ListRuleNamesByTarget",
    "ListRules",
    "ListTagsForResource",
    "ListTargetsByRule",
    "PutEvents",
    "PutPermission",
    "PutRule",
    "PutTargets",
    "RemovePermission",
    "RemoveTargets",
    "StartReplay",
    "TagResource",
    "TestEventPattern",
    "UntagResource",
    "UpdateArchive",
    "UpdateEventBus",
];

// ----- input helpers ---------------------------------------------------------------------

fn camel(member: &str) -> String {
    let mut c = member.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn opt_str<'a>(input: &'a Value, member: &str) -> Result<Option<&'a str>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::Validation(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must \
             be a string",
            camel(member)
        ))),
    }
}

fn req_str<'a>(input: &'a Value, member: &str) -> Result<&'a str> {
    opt_str(input, member)?.ok_or_else(|| {
        Error::Validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: \
             Member must not be null",
            camel(member)
        ))
    })
}

fn opt_int(input: &Value, member: &str) -> Result<Option<i64>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or_else(|| {
            Error::Validation(format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: Member \
                 must be an integer",
                camel(member)
            ))
        }),
    }
}

fn opt_bool(input: &Value, member: &str) -> bool {
    input.get(member).and_then(Value::as_bool).unwrap_or(false)
}

fn name_check(v: &mut Violations, value: &str, field: &str, max: usize) {
    v.string(value, field, 1, max, Some((NAME_PATTERN, names::is_name)));
}

fn bus_or_arn_check(v: &mut Violations, value: Option<&str>, field: &str) {
    if let Some(b) = value {
        v.string(
            b,
            field,
            1,
            1600,
            Some((BUS_NAME_OR_ARN_PATTERN, names::is_bus_name_or_arn)),
        );
    }
}

fn limit_check(v: &mut Violations, input: &Value) -> Result<Option<usize>> {
    let limit = opt_int(input, "Limit")?;
    if let Some(l) = limit {
        if l > 100 {
            v.add(
                &l.to_string(),
                "limit",
                "have value less than or equal to 100",
            );
        } else if l < 1 {
            v.add(
                &l.to_string(),
                "limit",
                "have value greater than or equal to 1",
            );
        }
    }
    Ok(limit.map(|l| l.clamp(1, 100) as usize))
}

fn tags_in(input: &Value) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut v = Violations::default();
    if let Some(list) = input.get("Tags").and_then(Value::as_array) {
        for (i, t) in list.iter().enumerate() {
            let key = t.get("Key").and_then(Value::as_str).unwrap_or_default();
            let value = t.get("Value").and_then(Value::as_str).unwrap_or_default();
            v.string(key, &format!("tags.{}.member.key", i + 1), 1, 128, None);
            v.string(value, &format!("tags.{}.member.value", i + 1), 0, 256, None);
            out.insert(key.to_owned(), value.to_owned());
        }
    }
    v.finish()?;
    Ok(out)
}

fn tags_out(tags: &BTreeMap<String, String>) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

/// One page of `items` after `token` (an offset), at most `limit` long.
fn page<T>(
    items: Vec<T>,
    token: Option<&str>,
    limit: Option<usize>,
) -> Result<(Vec<T>, Option<String>)> {
    let start = match token {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| Error::Validation("The NextToken provided is invalid.".into()))?,
    };
    let limit = limit.unwrap_or(100);
    let total = items.len();
    let out: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let next = (start + out.len() < total).then(|| (start + out.len()).to_string());
    Ok((out, next))
}

fn with_token(mut out: Map<String, Value>, next: Option<String>) -> Value {
    if let Some(t) = next {
        out.insert("NextToken".into(), json!(t));
    }
    Value::Object(out)
}

fn insert_opt(m: &mut Map<String, Value>, k: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(k.into(), v);
    }
}

fn ts(ms: u64) -> Value {
    ms_to_epoch_seconds(ms)
}

fn pattern_out(p: &str) -> Value {
    // AWS returns the pattern it stored, as text.
    json!(p)
}

// ----- dispatch --------------------------------------------------------------------------

impl Events {
    /// One operation with its awsJson input; the awsJson output or AWS's error.
    pub async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> std::result::Result<Value, ponte_protocol::error::AwsError> {
        self.dispatch(ctx, operation, &input)
            .await
            .map_err(|e| e.to_aws())
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: &Value) -> Result<Value> {
        let input = if input.is_object() {
            input
        } else {
            &Value::Object(Map::new())
        };
        match op {
            "CreateEventBus" => self.op_create_event_bus(ctx, input).await,
            "DeleteEventBus" => self.op_delete_event_bus(ctx, input).await,
            "DescribeEventBus" => self.op_describe_event_bus(ctx, input),
            "ListEventBuses" => self.op_list_event_buses(ctx, input),
            "UpdateEventBus" => self.op_update_event_bus(ctx, input).await,
            "PutPermission" => self.op_put_permission(ctx, input).await,
            "RemovePermission" => self.op_remove_permission(ctx, input).await,
            "PutRule" => self.op_put_rule(ctx, input).await,
            "DescribeRule" => self.op_describe_rule(ctx, input),
            "DeleteRule" => self.op_delete_rule(ctx, input).await,
            "ListRules" => self.op_list_rules(ctx, input),
            "EnableRule" => self.op_set_rule_state(ctx, input, "ENABLED").await,
            "DisableRule" => self.op_set_rule_state(ctx, input, "DISABLED").await,
            "ListRuleNamesByTarget" => self.op_list_rule_names_by_target(ctx, input),
            "PutTargets" => self.op_put_targets(ctx, input).await,
            "RemoveTargets" => self.op_remove_targets(ctx, input).await,
            "ListTargetsByRule" => self.op_list_targets_by_rule(ctx, input),
            "PutEvents" => self.op_put_events(ctx, input).await,
            "TestEventPattern" => op_test_event_pattern(input),
            "TagResource" => self.op_tag_resource(input).await,
            "UntagResource" => self.op_untag_resource(input).await,
            "ListTagsForResource" => self.op_list_tags(input),
            "CreateArchive" => self.op_create_archive(ctx, input).await,
            "DescribeArchive" => self.op_describe_archive(ctx, input),
            "ListArchives" => self.op_list_archives(ctx, input),
            "UpdateArchive" => self.op_update_archive(ctx, input).await,
            "DeleteArchive" => self.op_delete_archive(ctx, input).await,
            "StartReplay" => self.op_start_replay(ctx, input).await,
            "DescribeReplay" => self.op_describe_replay(ctx, input),
            "ListReplays" => self.op_list_replays(ctx, input),
            "CancelReplay" => self.op_cancel_replay(ctx, input).await,
            other if NOT_IMPLEMENTED.contains(&other) => Err(Error::NotImplemented(format!(
                "Ponte does not implement events.{other} yet."
            ))),
            other => Err(Error::UnknownOperation(format!(
                "Operation {other} is not supported by Amazon EventBridge."
            ))),
        }
    }

    // ----- buses ---------------------------------------------------------------------------

    async fn op_create_event_bus(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let name = req_str(input, "Name")?;
        let source = opt_str(input, "EventSourceName")?;
        let description = opt_str(input, "Description")?;
        let kms = opt_str(input, "KmsKeyIdentifier")?;
        let mut v = Violations::default();
        v.string(
            name,
            "name",
            1,
            256,
            Some((BUS_NAME_PATTERN, names::is_bus_name)),
        );
        if let Some(d) = description {
            v.string(d, "description", 0, 512, None);
        }
        v.finish()?;
        if name.contains('/') && source.is_none() {
            return Err(Error::Validation(format!(
                "Event bus name must not contain '/'. Event bus {name} is not valid."
            )));
        }
        let tags = tags_in(input)?;
        let meta = self
            .create_bus(
                ctx,
                BusMeta {
                    name: name.to_owned(),
                    region: String::new(),
                    account: String::new(),
                    created: 0,
                    modified: 0,
                    description: description.map(str::to_owned),
                    kms_key: kms.map(str::to_owned),
                    dead_letter: input.get("DeadLetterConfig").cloned(),
                    log_config: input.get("LogConfig").cloned(),
                    policy: None,
                    event_source: source.map(str::to_owned),
                    tags,
                },
            )
            .await?;
        let mut out = Map::new();
        out.insert("EventBusArn".into(), json!(meta.arn()));
        insert_opt(&mut out, "Description", meta.description.map(Value::String));
        insert_opt(
            &mut out,
            "KmsKeyIdentifier",
            meta.kms_key.map(Value::String),
        );
        insert_opt(&mut out, "DeadLetterConfig", meta.dead_letter);
        insert_opt(&mut out, "LogConfig", meta.log_config);
        Ok(Value::Object(out))
    }

    async fn op_delete_event_bus(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let name = req_str(input, "Name")?;
        let mut v = Violations::default();
        v.string(
            name,
            "name",
            1,
            256,
            Some((BUS_NAME_PATTERN, names::is_bus_name)),
        );
        v.finish()?;
        self.delete_bus(ctx, name).await?;
        Ok(json!({}))
    }

    fn op_describe_event_bus(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let name = opt_str(input, "Name")?;
        let mut v = Violations::default();
        bus_or_arn_check(&mut v, name, "name");
        v.finish()?;
        let meta = self.describe_bus(&Events::bus_key(ctx, name))?;
        Ok(Value::Object(bus_out(&meta, true)))
    }

    fn op_list_event_buses(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let prefix = opt_str(input, "NamePrefix")?;
        let token = opt_str(input, "NextToken")?;
        let mut v = Violations::default();
        if let Some(p) = prefix {
            v.string(
                p,
                "namePrefix",
                1,
                256,
                Some((BUS_NAME_PATTERN, names::is_bus_name)),
            );
        }
        let limit = limit_check(&mut v, input)?;
        v.finish()?;
        let buses: Vec<BusMeta> = self
            .list_buses(ctx)
            .into_iter()
            .filter(|b| prefix.is_none_or(|p| b.name.starts_with(p)))
            .collect();
        let (items, next) = page(buses, token, limit)?;
        let mut out = Map::new();
        out.insert(
            "EventBuses".into(),
            Value::Array(
                items
                    .iter()
                    .map(|b| Value::Object(bus_out(b, false)))
                    .collect(),
            ),
        );
        Ok(with_token(out, next))
    }

    async fn op_update_event_bus(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let name = opt_str(input, "Name")?;
        let description = opt_str(input, "Description")?.map(str::to_owned);
        let kms = opt_str(input, "KmsKeyIdentifier")?.map(str::to_owned);
        let mut v = Violations::default();
        if let Some(n) = name {
            v.string(
                n,
                "name",
                1,
                256,
                Some((BUS_NAME_PATTERN, names::is_bus_name)),
            );
        }
        if let Some(d) = &description {
            v.string(d, "description", 0, 512, None);
        }
        v.finish()?;
        let dlc = input.get("DeadLetterConfig").cloned();
        let log = input.get("LogConfig").cloned();
        let meta = self
            .update_bus(&Events::bus_key(ctx, name), |m| {
                if description.is_some() {
                    m.description = description;
                }
                if kms.is_some() {
                    m.kms_key = kms;
                }
                if dlc.is_some() {
                    m.dead_letter = dlc;
                }
                if log.is_some() {
                    m.log_config = log;
                }
                Ok(())
            })
            .await?;
        let mut out = Map::new();
        out.insert("Arn".into(), json!(meta.arn()));
        out.insert("Name".into(), json!(meta.name));
        insert_opt(&mut out, "Description", meta.description.map(Value::String));
        insert_opt(
            &mut out,
            "KmsKeyIdentifier",
            meta.kms_key.map(Value::String),
        );
        insert_opt(&mut out, "DeadLetterConfig", meta.dead_letter);
        insert_opt(&mut out, "LogConfig", meta.log_config);
        Ok(Value::Object(out))
    }

    async fn op_put_permission(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let bus = opt_str(input, "EventBusName")?;
        let action = opt_str(input, "Action")?;
        let principal = opt_str(input, "Principal")?;
        let sid = opt_str(input, "StatementId")?;
        let policy_text = opt_str(input, "Policy")?;
        let mut v = Violations::default();
        if let Some(b) = bus {
            v.string(
                b,
                "eventBusName",
                1,
                256,
                Some((NAME_PATTERN, names::is_name)),
            );
        }
        if let Some(a) = action {
            v.string(
                a,
                "action",
                1,
                64,
                Some(("events:[a-zA-Z]+", |s| {
                    s.strip_prefix("events:").is_some_and(|r| {
                        !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphabetic())
                    })
                })),
            );
        }
        if let Some(p) = principal {
            v.string(
                p,
                "principal",
                1,
                12,
                Some(("(\\d{12}|\\*)", |s| {
                    s == "*" || (s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()))
                })),
            );
        }
        if let Some(s) = sid {
            v.string(
                s,
                "statementId",
                1,
                64,
                Some(("[a-zA-Z0-9-_]+", |s| {
                    !s.is_empty()
                        && s.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })),
            );
        }
        v.finish()?;
        let key = Events::bus_key(ctx, bus);
        let new_policy = match policy_text {
            Some(text) => {
                if text.len() > policy::MAX_POLICY_BYTES {
                    return Err(Error::PolicyLengthExceeded(
                        "The policy length exceeds the allowed maximum.".into(),
                    ));
                }
                let doc: Value = serde_json::from_str(text)
                    .ok()
                    .filter(Value::is_object)
                    .ok_or_else(|| {
                        Error::Validation("Policy is not a valid JSON document.".into())
                    })?;
                Some(doc)
            }
            None => None,
        };
        if new_policy.is_none() && (action.is_none() || principal.is_none() || sid.is_none()) {
            return Err(Error::Validation(
                "Parameter(s) Action, Principal and StatementId must be specified when Policy is \
                 not provided."
                    .into(),
            ));
        }
        let condition = input.get("Condition").cloned();
        self.update_bus(&key, |m| {
            if let Some(doc) = new_policy {
                m.policy = Some(doc);
                return Ok(());
            }
            let (Some(action), Some(principal), Some(sid)) = (action, principal, sid) else {
                return Ok(());
            };
            let arn = m.arn();
            let mut doc = m.policy.take().unwrap_or_else(policy::empty);
            let mut stmts = policy::statements(&doc);
            stmts.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(sid));
            stmts.push(policy::statement(
                sid,
                action,
                principal,
                &arn,
                condition.as_ref(),
            ));
            doc["Statement"] = Value::Array(stmts);
            if doc.to_string().len() > policy::MAX_POLICY_BYTES {
                return Err(Error::PolicyLengthExceeded(
                    "The policy length exceeds the allowed maximum.".into(),
                ));
            }
            m.policy = Some(doc);
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    async fn op_remove_permission(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let bus = opt_str(input, "EventBusName")?;
        let sid = opt_str(input, "StatementId")?;
        let all = opt_bool(input, "RemoveAllPermissions");
        let mut v = Violations::default();
        if let Some(b) = bus {
            v.string(
                b,
                "eventBusName",
                1,
                256,
                Some((NAME_PATTERN, names::is_name)),
            );
        }
        v.finish()?;
        let key = Events::bus_key(ctx, bus);
        self.update_bus(&key, |m| {
            if all {
                m.policy = None;
                return Ok(());
            }
            let not_found =
                || Error::NotFound("Statement with the provided id does not exist.".into());
            let sid = sid.ok_or_else(not_found)?;
            let doc = m.policy.as_mut().ok_or_else(not_found)?;
            let mut stmts = policy::statements(doc);
            let before = stmts.len();
            stmts.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(sid));
            if stmts.len() == before {
                return Err(not_found());
            }
            if stmts.is_empty() {
                m.policy = None;
            } else {
                doc["Statement"] = Value::Array(stmts);
            }
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    // ----- rules ---------------------------------------------------------------------------

    fn rule_input<'a>(
        &self,
        ctx: &RequestContext,
        input: &'a Value,
        member: &str,
    ) -> Result<(Key3, &'a str)> {
        let name = req_str(input, member)?;
        let bus = opt_str(input, "EventBusName")?;
        let mut v = Violations::default();
        name_check(&mut v, name, &camel(member), 64);
        bus_or_arn_check(&mut v, bus, "eventBusName");
        v.finish()?;
        Ok((Events::bus_key(ctx, bus), name))
    }

    async fn op_put_rule(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let (key, name) = self.rule_input(ctx, input, "Name")?;
        let schedule = opt_str(input, "ScheduleExpression")?;
        let pattern = opt_str(input, "EventPattern")?;
        let state = opt_str(input, "State")?;
        let description = opt_str(input, "Description")?;
        let role = opt_str(input, "RoleArn")?;
        let mut v = Violations::default();
        if let Some(s) = schedule {
            v.string(s, "scheduleExpression", 0, 256, None);
        }
        if let Some(p) = pattern {
            v.string(p, "eventPattern", 0, 4096, None);
        }
        if let Some(s) = state
            && !matches!(
                s,
                "ENABLED" | "DISABLED" | "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
            )
        {
            v.add(
                s,
                "state",
                "satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]",
            );
        }
        if let Some(d) = description {
            v.string(d, "description", 0, 512, None);
        }
        if let Some(r) = role {
            v.string(r, "roleArn", 1, 1600, None);
        }
        v.finish()?;
        if schedule.is_none_or(str::is_empty) && pattern.is_none_or(str::is_empty) {
            return Err(Error::Validation(
                "Parameter(s) EventPattern or ScheduleExpression must be specified.".into(),
            ));
        }
        let tags = tags_in(input)?;
        let arn = self
            .put_rule(
                &key,
                RuleMeta {
                    name: name.to_owned(),
                    bus: String::new(),
                    region: String::new(),
                    account: String::new(),
                    event_pattern: pattern.filter(|p| !p.is_empty()).map(str::to_owned),
                    schedule: schedule.filter(|s| !s.is_empty()).map(str::to_owned),
                    state: state.unwrap_or("ENABLED").to_owned(),
                    description: description.map(str::to_owned),
                    role_arn: role.map(str::to_owned),
                    created_by: ctx.account.clone(),
                    tags,
                    targets: Vec::new(),
                    schedule_since: 0,
                },
            )
            .await?;
        Ok(json!({"RuleArn": arn}))
    }

    fn op_describe_rule(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let (key, name) = self.rule_input(ctx, input, "Name")?;
        let r = self.rule(&key, name)?;
        let mut out = rule_out(&r);
        out.insert("CreatedBy".into(), json!(r.created_by));
        Ok(Value::Object(out))
    }

    async fn op_delete_rule(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let (key, name) = self.rule_input(ctx, input, "Name")?;
        self.delete_rule(&key, name).await?;
        Ok(json!({}))
    }

    fn op_list_rules(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let prefix = opt_str(input, "NamePrefix")?;
        let bus = opt_str(input, "EventBusName")?;
        let token = opt_str(input, "NextToken")?;
        let mut v = Violations::default();
        if let Some(p) = prefix {
            name_check(&mut v, p, "namePrefix", 64);
        }
        bus_or_arn_check(&mut v, bus, "eventBusName");
        let limit = limit_check(&mut v, input)?;
        v.finish()?;
        let rules: Vec<RuleMeta> = self
            .rules(&Events::bus_key(ctx, bus))?
            .into_iter()
            .filter(|r| prefix.is_none_or(|p| r.name.starts_with(p)))
            .collect();
        let (items, next) = page(rules, token, limit)?;
        let mut out = Map::new();
        out.insert(
            "Rules".into(),
            Value::Array(items.iter().map(|r| Value::Object(rule_out(r))).collect()),
        );
        Ok(with_token(out, next))
    }

    async fn op_set_rule_state(
        &self,
        ctx: &RequestContext,
        input: &Value,
        state: &str,
    ) -> Result<Value> {
        let (key, name) = self.rule_input(ctx, input, "Name")?;
        self.update_rule(&key, name, |m| {
            m.state = state.to_owned();
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    fn op_list_rule_names_by_target(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let arn = req_str(input, "TargetArn")?;
        let bus = opt_str(input, "EventBusName")?;
        let token = opt_str(input, "NextToken")?;
        let mut v = Violations::default();
        v.string(arn, "targetArn", 1, 1600, None);
        bus_or_arn_check(&mut v, bus, "eventBusName");
        let limit = limit_check(&mut v, input)?;
        v.finish()?;
        let names = self.rule_names_by_target(&Events::bus_key(ctx, bus), arn)?;
        let (items, next) = page(names, token, limit)?;
        let mut out = Map::new();
        out.insert("RuleNames".into(), json!(items));
        Ok(with_token(out, next))
    }

    // ----- targets -------------------------------------------------------------------------

    async fn op_put_targets(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let (key, rule) = self.rule_input(ctx, input, "Rule")?;
        let targets = input
            .get("Targets")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| {
                Error::Validation(
                    "1 validation error detected: Value null at 'targets' failed to satisfy \
                     constraint: Member must not be null"
                        .into(),
                )
            })?;
        let mut v = Violations::default();
        if targets.is_empty() || targets.len() > 100 {
            v.add(
                &format!("{targets:?}"),
                "targets",
                if targets.is_empty() {
                    "have length greater than or equal to 1"
                } else {
                    "have length less than or equal to 100"
                },
            );
        }
        for (i, t) in targets.iter().enumerate() {
            check_target(&mut v, t, i + 1);
        }
        v.finish()?;
        for t in &targets {
            check_target_semantics(t, &ctx.account)?;
        }
        self.update_rule(&key, rule, |m| {
            let mut merged = m.targets.clone();
            for t in &targets {
                let id = t.get("Id");
                match merged.iter_mut().find(|x| x.get("Id") == id) {
                    Some(slot) => *slot = t.clone(),
                    None => merged.push(t.clone()),
                }
            }
            if merged.len() > crate::engine::MAX_TARGETS_PER_RULE {
                return Err(Error::LimitExceeded(crate::engine::LIMIT_MESSAGE.into()));
            }
            m.targets = merged;
            Ok(())
        })
        .await?;
        Ok(json!({"FailedEntryCount": 0, "FailedEntries": []}))
    }

    async fn op_remove_targets(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let (key, rule) = self.rule_input(ctx, input, "Rule")?;
        let ids: Vec<String> = input
            .get("Ids")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let mut v = Violations::default();
        if ids.is_empty() || ids.len() > 100 {
            v.add(
                &format!("{ids:?}"),
                "ids",
                "have length greater than or equal to 1",
            );
        }
        for (i, id) in ids.iter().enumerate() {
            name_check(&mut v, id, &format!("ids.{}.member", i + 1), 64);
        }
        v.finish()?;
        self.update_rule(&key, rule, |m| {
            m.targets.retain(|t| {
                !t.get("Id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| ids.iter().any(|x| x == id))
            });
            Ok(())
        })
        .await?;
        Ok(json!({"FailedEntryCount": 0, "FailedEntries": []}))
    }

    fn op_list_targets_by_rule(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let (key, rule) = self.rule_input(ctx, input, "Rule")?;
        let token = opt_str(input, "NextToken")?;
        let mut v = Violations::default();
        let limit = limit_check(&mut v, input)?;
        v.finish()?;
        let targets = self.rule(&key, rule)?.targets;
        let (items, next) = page(targets, token, limit)?;
        let mut out = Map::new();
        out.insert("Targets".into(), Value::Array(items));
        Ok(with_token(out, next))
    }

    // ----- events ----------------------------------------------------------------------------

    async fn op_put_events(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let raw = input
            .get("Entries")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                Error::Validation(
                    "1 validation error detected: Value null at 'entries' failed to satisfy \
                 constraint: Member must not be null"
                        .into(),
                )
            })?;
        let mut v = Violations::default();
        if raw.is_empty() {
            v.add("[]", "entries", "have length greater than or equal to 1");
        } else if raw.len() > 10 {
            v.add(
                &format!("[{} entries]", raw.len()),
                "entries",
                "have length less than or equal to 10",
            );
        }
        let mut entries = Vec::with_capacity(raw.len());
        for (i, e) in raw.iter().enumerate() {
            let s = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_owned);
            let entry = EntryIn {
                time: e.get("Time").and_then(envelope::epoch_seconds_to_ms),
                source: s("Source"),
                resources: e
                    .get("Resources")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|r| r.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                detail_type: s("DetailType"),
                detail: s("Detail"),
                event_bus_name: s("EventBusName"),
                trace_header: s("TraceHeader"),
            };
            if let Some(b) = &entry.event_bus_name {
                v.string(
                    b,
                    &format!("entries.{}.member.eventBusName", i + 1),
                    1,
                    1600,
                    Some((BUS_NAME_OR_ARN_PATTERN, names::is_bus_name_or_arn)),
                );
            }
            if let Some(t) = &entry.trace_header {
                v.string(
                    t,
                    &format!("entries.{}.member.traceHeader", i + 1),
                    1,
                    500,
                    None,
                );
            }
            entries.push(entry);
        }
        v.finish()?;
        let total: usize = entries.iter().map(envelope::entry_size).sum();
        if total > MAX_REQUEST_BYTES {
            return Err(Error::Validation(
                "Total size of the entries in the request is over the limit.".into(),
            ));
        }
        let results = self.put_events(ctx, &entries).await?;
        let failed = results.iter().filter(|r| r.is_err()).count();
        let out: Vec<Value> = results
            .into_iter()
            .map(|r| match r {
                Ok(id) => json!({"EventId": id}),
                Err((code, msg)) => json!({"ErrorCode": code, "ErrorMessage": msg}),
            })
            .collect();
        Ok(json!({"FailedEntryCount": failed, "Entries": out}))
    }

    // ----- tags ------------------------------------------------------------------------------

    async fn op_tag_resource(&self, input: &Value) -> Result<Value> {
        let arn = req_str(input, "ResourceARN")?;
        let tags = tags_in(input)?;
        self.retag(arn, |t| {
            t.extend(tags);
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    async fn op_untag_resource(&self, input: &Value) -> Result<Value> {
        let arn = req_str(input, "ResourceARN")?;
        let keys: Vec<String> = input
            .get("TagKeys")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        self.retag(arn, |t| {
            for k in &keys {
                t.remove(k);
            }
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    fn op_list_tags(&self, input: &Value) -> Result<Value> {
        let arn = req_str(input, "ResourceARN")?;
        Ok(json!({"Tags": tags_out(&self.tags(arn)?)}))
    }

    // ----- archives --------------------------------------------------------------------------

    fn archive_key(ctx: &RequestContext, input: &Value) -> Result<Key3> {
        let name = req_str(input, "ArchiveName")?;
        let mut v = Violations::default();
        name_check(&mut v, name, "archiveName", 48);
        v.finish()?;
        Ok((ctx.region.clone(), ctx.account.clone(), name.to_owned()))
    }

    async fn op_create_archive(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let key = Self::archive_key(ctx, input)?;
        let source = req_str(input, "EventSourceArn")?;
        let description = opt_str(input, "Description")?;
        let pattern = opt_str(input, "EventPattern")?;
        let retention = opt_int(input, "RetentionDays")?;
        let mut v = Violations::default();
        v.string(source, "eventSourceArn", 1, 1600, None);
        if let Some(d) = description {
            v.string(d, "description", 0, 512, None);
        }
        if let Some(p) = pattern {
            v.string(p, "eventPattern", 0, 4096, None);
        }
        if let Some(r) = retention.filter(|r| *r < 0) {
            v.add(
                &r.to_string(),
                "retentionDays",
                "have value greater than or equal to 0",
            );
        }
        v.finish()?;
        if names::parse_bus_arn(source).is_none() {
            return Err(Error::Validation(format!(
                "Parameter {source} is not valid. Reason: Provided Arn is not in correct format."
            )));
        }
        let meta = self
            .create_archive(ArchiveMeta {
                id: 0,
                name: key.2,
                region: key.0,
                account: key.1,
                source_arn: source.to_owned(),
                description: description.map(str::to_owned),
                event_pattern: pattern.filter(|p| !p.is_empty()).map(str::to_owned),
                retention_days: retention.unwrap_or(0).max(0) as u64,
                kms_key: opt_str(input, "KmsKeyIdentifier")?.map(str::to_owned),
                created: 0,
                size_bytes: 0,
                event_count: 0,
            })
            .await?;
        Ok(json!({"ArchiveArn": meta.arn(), "State": "ENABLED", "CreationTime": ts(meta.created)}))
    }

    fn op_describe_archive(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let a = self.archive(&Self::archive_key(ctx, input)?)?;
        let mut out = archive_out(&a);
        out.insert("ArchiveArn".into(), json!(a.arn()));
        insert_opt(
            &mut out,
            "Description",
            a.description.clone().map(Value::String),
        );
        insert_opt(
            &mut out,
            "EventPattern",
            a.event_pattern.as_deref().map(pattern_out),
        );
        insert_opt(
            &mut out,
            "KmsKeyIdentifier",
            a.kms_key.clone().map(Value::String),
        );
        Ok(Value::Object(out))
    }

    fn op_list_archives(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let prefix = opt_str(input, "NamePrefix")?;
        let source = opt_str(input, "EventSourceArn")?;
        let state = opt_str(input, "State")?;
        let token = opt_str(input, "NextToken")?;
        let mut v = Violations::default();
        if let Some(p) = prefix {
            name_check(&mut v, p, "namePrefix", 48);
        }
        let limit = limit_check(&mut v, input)?;
        v.finish()?;
        if [prefix, source, state]
            .iter()
            .filter(|x| x.is_some())
            .count()
            > 1
        {
            return Err(Error::Validation(
                "At most one filter is allowed for ListArchives. Use either : State, \
                 EventSourceArn, or NamePrefix."
                    .into(),
            ));
        }
        if let Some(arn) = source {
            let key = names::parse_bus_arn(arn).ok_or_else(|| {
                Error::Validation(format!(
                    "Parameter {arn} is not valid. Reason: Provided Arn is not in correct format."
                ))
            })?;
            self.describe_bus(&key)?;
        }
        let items: Vec<ArchiveMeta> = self
            .archives(ctx)
            .into_iter()
            .filter(|a| prefix.is_none_or(|p| a.name.starts_with(p)))
            .filter(|a| source.is_none_or(|s| a.source_arn == s))
            .filter(|_| state.is_none_or(|s| s == "ENABLED"))
            .collect();
        let (items, next) = page(items, token, limit)?;
        let mut out = Map::new();
        out.insert(
            "Archives".into(),
            Value::Array(
                items
                    .iter()
                    .map(|a| Value::Object(archive_out(a)))
                    .collect(),
            ),
        );
        Ok(with_token(out, next))
    }

    async fn op_update_archive(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let key = Self::archive_key(ctx, input)?;
        let retention = opt_int(input, "RetentionDays")?;
        if let Some(r) = retention.filter(|r| *r < 0) {
            let mut v = Violations::default();
            v.add(
                &r.to_string(),
                "retentionDays",
                "have value greater than or equal to 0",
            );
            v.finish()?;
        }
        let a = self
            .update_archive(
                &key,
                opt_str(input, "Description")?.map(str::to_owned),
                opt_str(input, "EventPattern")?.map(str::to_owned),
                retention.map(|r| r.max(0) as u64),
                opt_str(input, "KmsKeyIdentifier")?.map(str::to_owned),
            )
            .await?;
        Ok(json!({"ArchiveArn": a.arn(), "State": "ENABLED", "CreationTime": ts(a.created)}))
    }

    async fn op_delete_archive(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        self.delete_archive(&Self::archive_key(ctx, input)?).await?;
        Ok(json!({}))
    }

    // ----- replays ---------------------------------------------------------------------------

    fn replay_key(ctx: &RequestContext, input: &Value) -> Result<Key3> {
        let name = req_str(input, "ReplayName")?;
        let mut v = Violations::default();
        name_check(&mut v, name, "replayName", 64);
        v.finish()?;
        Ok((ctx.region.clone(), ctx.account.clone(), name.to_owned()))
    }

    async fn op_start_replay(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let key = Self::replay_key(ctx, input)?;
        let source = req_str(input, "EventSourceArn")?;
        let description = opt_str(input, "Description")?;
        let start = input
            .get("EventStartTime")
            .and_then(envelope::epoch_seconds_to_ms)
            .ok_or_else(|| null_error("eventStartTime"))?;
        let end = input
            .get("EventEndTime")
            .and_then(envelope::epoch_seconds_to_ms)
            .ok_or_else(|| null_error("eventEndTime"))?;
        let destination = input
            .get("Destination")
            .filter(|d| d.get("Arn").is_some_and(Value::is_string))
            .cloned()
            .ok_or_else(|| null_error("destination.arn"))?;
        if start >= end {
            return Err(Error::Validation(
                "Parameter EventEndTime is not valid. Reason: EventStartTime must be before \
                 EventEndTime."
                    .into(),
            ));
        }
        let meta = self
            .start_replay(ReplayMeta {
                name: key.2,
                region: key.0,
                account: key.1,
                description: description.map(str::to_owned),
                source_arn: source.to_owned(),
                destination,
                event_start: start,
                event_end: end,
                state: String::new(),
                state_reason: None,
                replay_start: 0,
                replay_end: None,
                last_replayed: None,
            })
            .await?;
        Ok(
            json!({"ReplayArn": meta.arn(), "State": meta.state, "ReplayStartTime": ts(meta.replay_start)}),
        )
    }

    fn op_describe_replay(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let r = self.replay(&Self::replay_key(ctx, input)?)?;
        let mut out = replay_out(&r);
        out.insert("ReplayArn".into(), json!(r.arn()));
        out.insert("Destination".into(), r.destination.clone());
        insert_opt(
            &mut out,
            "Description",
            r.description.clone().map(Value::String),
        );
        Ok(Value::Object(out))
    }

    fn op_list_replays(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let prefix = opt_str(input, "NamePrefix")?;
        let source = opt_str(input, "EventSourceArn")?;
        let state = opt_str(input, "State")?;
        let token = opt_str(input, "NextToken")?;
        let mut v = Violations::default();
        if let Some(p) = prefix {
            name_check(&mut v, p, "namePrefix", 64);
        }
        let limit = limit_check(&mut v, input)?;
        v.finish()?;
        let items: Vec<ReplayMeta> = self
            .replays(ctx)
            .into_iter()
            .filter(|r| prefix.is_none_or(|p| r.name.starts_with(p)))
            .filter(|r| source.is_none_or(|s| r.source_arn == s))
            .filter(|r| state.is_none_or(|s| r.state == s))
            .collect();
        let (items, next) = page(items, token, limit)?;
        let mut out = Map::new();
        out.insert(
            "Replays".into(),
            Value::Array(items.iter().map(|r| Value::Object(replay_out(r))).collect()),
        );
        Ok(with_token(out, next))
    }

    async fn op_cancel_replay(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let r = self.cancel_replay(&Self::replay_key(ctx, input)?).await?;
        Ok(json!({"ReplayArn": r.arn(), "State": r.state}))
    }
}

fn null_error(field: &str) -> Error {
    Error::Validation(format!(
        "1 validation error detected: Value null at '{field}' failed to satisfy constraint: \
         Member must not be null"
    ))
}

fn op_test_event_pattern(input: &Value) -> Result<Value> {
    let pattern = req_str(input, "EventPattern")?;
    let event = req_str(input, "Event")?;
    let mut v = Violations::default();
    v.string(pattern, "eventPattern", 0, 4096, None);
    v.finish()?;
    let compiled = ponte_pattern::Pattern::compile_eventbridge(pattern)?;
    match serde_json::from_str::<Value>(event) {
        Ok(Value::Object(_)) => {}
        _ => return Err(Error::Validation("Parameter Event is not valid.".into())),
    }
    let result = compiled
        .matches_json(event)
        .map_err(|_| Error::Validation("Parameter Event is not valid.".into()))?;
    Ok(json!({"Result": result}))
}

/// Model checks of one target (whole-request `ValidationException`s).
fn check_target(v: &mut Violations, t: &Value, n: usize) {
    let s = |k: &str| t.get(k).and_then(Value::as_str);
    let at = |f: &str| format!("targets.{n}.member.{f}");
    match s("Id") {
        Some(id) => name_check(v, id, &at("id"), 64),
        None => v.add("null", &at("id"), "not be null"),
    }
    match s("Arn") {
        Some(arn) => v.string(arn, &at("arn"), 1, 1600, None),
        None => v.add("null", &at("arn"), "not be null"),
    }
    if let Some(i) = s("Input") {
        v.string(i, &at("input"), 0, 8192, None);
    }
    if let Some(p) = s("InputPath") {
        v.string(p, &at("inputPath"), 0, 256, None);
    }
    if let Some(r) = s("RoleArn") {
        v.string(r, &at("roleArn"), 1, 1600, None);
    }
    if let Some(retry) = t.get("RetryPolicy") {
        if let Some(n) = retry.get("MaximumRetryAttempts").and_then(Value::as_i64) {
            if n > 185 {
                v.add(
                    &n.to_string(),
                    &at("retryPolicy.maximumRetryAttempts"),
                    "have value less than or equal to 185",
                );
            } else if n < 0 {
                v.add(
                    &n.to_string(),
                    &at("retryPolicy.maximumRetryAttempts"),
                    "have value greater than or equal to 0",
                );
            }
        }
        if let Some(n) = retry
            .get("MaximumEventAgeInSeconds")
            .and_then(Value::as_i64)
        {
            if n > 86_400 {
                v.add(
                    &n.to_string(),
                    &at("retryPolicy.maximumEventAgeInSeconds"),
                    "have value less than or equal to 86400",
                );
            } else if n < 60 {
                v.add(
                    &n.to_string(),
                    &at("retryPolicy.maximumEventAgeInSeconds"),
                    "have value greater than or equal to 60",
                );
            }
        }
    }
    if let Some(g) = t
        .get("SqsParameters")
        .and_then(|p| p.get("MessageGroupId"))
        .and_then(Value::as_str)
    {
        v.string(g, &at("sqsParameters.messageGroupId"), 0, 100, None);
    }
    if let Some(tr) = t.get("InputTransformer") {
        match tr.get("InputTemplate").and_then(Value::as_str) {
            Some(tpl) => v.string(tpl, &at("inputTransformer.inputTemplate"), 1, 8192, None),
            None => v.add("null", &at("inputTransformer.inputTemplate"), "not be null"),
        }
        if let Some(m) = tr.get("InputPathsMap").and_then(Value::as_object)
            && m.len() > 100
        {
            v.add(
                &format!("{} paths", m.len()),
                &at("inputTransformer.inputPathsMap"),
                "have length less than or equal to 100",
            );
        }
    }
}

/// Target rules beyond the model: one input option, defined placeholders, valid paths, FIFO
/// group ids, no input changes for another account's bus.
fn check_target_semantics(t: &Value, account: &str) -> Result<()> {
    let id = t.get("Id").and_then(Value::as_str).unwrap_or_default();
    let arn = t.get("Arn").and_then(Value::as_str).unwrap_or_default();
    let inputs = ["Input", "InputPath", "InputTransformer"]
        .iter()
        .filter(|k| t.get(**k).is_some_and(|v| !v.is_null()))
        .count();
    if inputs > 1 {
        return Err(Error::Validation(format!(
            "Only one of Input, InputPath, or InputTransformer must be provided for target {id}."
        )));
    }
    if let Some(input) = t.get("Input").and_then(Value::as_str)
        && serde_json::from_str::<Value>(input).is_err()
    {
        return Err(Error::Validation(format!(
            "Input for target {id} is not a valid JSON text."
        )));
    }
    if let Some(path) = t.get("InputPath").and_then(Value::as_str)
        && JsonPath::parse(path).is_none()
    {
        return Err(Error::Validation(format!(
            "Input path {path} for target {id} is not a valid JSON path."
        )));
    }
    if let Some(tr) = t.get("InputTransformer") {
        let paths = tr.get("InputPathsMap").and_then(Value::as_object);
        if let Some(m) = paths {
            for (k, p) in m {
                if RESERVED.contains(&k.as_str()) {
                    return Err(Error::Validation(format!(
                        "InputTransformer for target {id} contains invalid key {k}: it is a reserved variable."
                    )));
                }
                if p.as_str().and_then(JsonPath::parse).is_none() {
                    return Err(Error::Validation(format!(
                        "Input path {} for target {id} is not a valid JSON path.",
                        p.as_str().unwrap_or_default()
                    )));
                }
            }
        }
        let template = tr
            .get("InputTemplate")
            .and_then(Value::as_str)
            .unwrap_or_default();
        for name in transform::placeholders(template) {
            if !RESERVED.contains(&name) && !paths.is_some_and(|m| m.contains_key(name)) {
                return Err(Error::Validation(format!(
                    "InputTemplate for target {id} contains invalid placeholder {name}."
                )));
            }
        }
    }
    if names::is_fifo_queue_arn(arn)
        && t.get("SqsParameters")
            .and_then(|p| p.get("MessageGroupId"))
            .and_then(Value::as_str)
            .is_none()
    {
        return Err(Error::Validation(format!(
            "Parameter(s) SqsParameters must be specified for target: {id}."
        )));
    }
    if names::arn_service(arn) == Some("events")
        && names::arn_account(arn).is_some_and(|a| a != account)
        && inputs > 0
    {
        return Err(Error::Validation(format!(
            "Target {id} is an event bus in another account: Input, InputPath and \
             InputTransformer are not supported."
        )));
    }
    Ok(())
}

// ----- output shapes -----------------------------------------------------------------------

fn bus_out(b: &BusMeta, describe: bool) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("Name".into(), json!(b.name));
    out.insert("Arn".into(), json!(b.arn()));
    insert_opt(
        &mut out,
        "Description",
        b.description.clone().map(Value::String),
    );
    if describe {
        insert_opt(
            &mut out,
            "KmsKeyIdentifier",
            b.kms_key.clone().map(Value::String),
        );
        insert_opt(&mut out, "DeadLetterConfig", b.dead_letter.clone());
        insert_opt(&mut out, "LogConfig", b.log_config.clone());
    }
    insert_opt(
        &mut out,
        "Policy",
        b.policy.as_ref().map(|p| json!(p.to_string())),
    );
    out.insert("CreationTime".into(), ts(b.created));
    out.insert("LastModifiedTime".into(), ts(b.modified));
    out
}

fn rule_out(r: &RuleMeta) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("Name".into(), json!(r.name));
    out.insert("Arn".into(), json!(r.arn()));
    insert_opt(
        &mut out,
        "EventPattern",
        r.event_pattern.as_deref().map(pattern_out),
    );
    insert_opt(
        &mut out,
        "ScheduleExpression",
        r.schedule.clone().map(Value::String),
    );
    out.insert("State".into(), json!(r.state));
    insert_opt(
        &mut out,
        "Description",
        r.description.clone().map(Value::String),
    );
    insert_opt(&mut out, "RoleArn", r.role_arn.clone().map(Value::String));
    out.insert("EventBusName".into(), json!(r.bus));
    let _ = DEFAULT_BUS;
    out
}

fn archive_out(a: &ArchiveMeta) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("ArchiveName".into(), json!(a.name));
    out.insert("EventSourceArn".into(), json!(a.source_arn));
    out.insert("State".into(), json!("ENABLED"));
    out.insert("RetentionDays".into(), json!(a.retention_days));
    out.insert("SizeBytes".into(), json!(a.size_bytes));
    out.insert("EventCount".into(), json!(a.event_count));
    out.insert("CreationTime".into(), ts(a.created));
    out
}

fn replay_out(r: &ReplayMeta) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("ReplayName".into(), json!(r.name));
    out.insert("EventSourceArn".into(), json!(r.source_arn));
    out.insert("State".into(), json!(r.state));
    insert_opt(
        &mut out,
        "StateReason",
        r.state_reason.clone().map(Value::String),
    );
    out.insert("EventStartTime".into(), ts(r.event_start));
    out.insert("EventEndTime".into(), ts(r.event_end));
    insert_opt(&mut out, "EventLastReplayedTime", r.last_replayed.map(ts));
    out.insert("ReplayStartTime".into(), ts(r.replay_start));
    insert_opt(&mut out, "ReplayEndTime", r.replay_end.map(ts));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_operation_is_listed_once() {
        let mut all: Vec<&str> = IMPLEMENTED
            .iter()
            .chain(NOT_IMPLEMENTED.iter())
            .copied()
            .collect();
        all.sort_unstable();
        let n = all.len();
        all.dedup();
        assert_eq!(all.len(), n);
        assert_eq!(n, 57);
    }

    #[test]
    fn target_semantics() {
        let ok = json!({"Id": "t", "Arn": "arn:aws:sqs:us-east-1:000000000000:q"});
        assert!(check_target_semantics(&ok, "000000000000").is_ok());
        let both = json!({"Id": "t", "Arn": "arn:aws:sqs:us-east-1:000000000000:q", "Input": "{}", "InputPath": "$.detail"});
        assert_eq!(
            check_target_semantics(&both, "000000000000")
                .unwrap_err()
                .to_string(),
            "Only one of Input, InputPath, or InputTransformer must be provided for target t."
        );
        let bad = json!({"Id": "t", "Arn": "arn:aws:sqs:us-east-1:000000000000:q",
                         "InputTransformer": {"InputPathsMap": {"a": "$.detail"}, "InputTemplate": "<a> <notdefinedkey>"}});
        assert_eq!(
            check_target_semantics(&bad, "000000000000")
                .unwrap_err()
                .to_string(),
            "InputTemplate for target t contains invalid placeholder notdefinedkey."
        );
        let fifo = json!({"Id": "t", "Arn": "arn:aws:sqs:us-east-1:000000000000:q.fifo"});
        assert!(check_target_semantics(&fifo, "000000000000").is_err());
    }

    #[test]
    fn pages() {
        let (a, n) = page(vec![1, 2, 3], None, Some(2)).unwrap();
        assert_eq!((a, n.as_deref()), (vec![1, 2], Some("2")));
        let (a, n) = page(vec![1, 2, 3], Some("2"), Some(2)).unwrap();
        assert_eq!((a, n), (vec![3], None));
        assert!(page(vec![1], Some("x"), None).is_err());
    }
}
