//! SQS event source mappings: the control plane (Create/Get/List/Update/Delete) and one poller
//! per enabled mapping.
//!
//! A poller long-polls the queue through the SQS engine, fills a batch up to `BatchSize`
//! within `MaximumBatchingWindowInSeconds` (an AWS wait, so it follows `--time-scale`),
//! deletes messages no filter matches, and invokes the function synchronously with the SQS
//! event (`Records[]`, aws-facts §1), at most `ScalingConfig.MaximumConcurrency` batches at a
//! time. On success the batch is deleted; with `ReportBatchItemFailures` all but the reported
//! ids (a malformed report fails the whole batch; on FIFO queues a failure also keeps the rest
//! of its message group). On a function error nothing is deleted: the messages reappear after
//! their visibility timeout and the queue's redrive policy moves them to its DLQ, as on AWS.
//! The first message's `AWSTraceHeader` becomes the invocation's trace header, so recursive
//! loops through the queue are detected.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use ponte_pattern::Pattern;
use ponte_sqs::engine::{ReceiveInput, Received};
use ponte_types::trace::RECURSION_LIMIT;
use ponte_types::{Millis, RequestContext, TraceHeader};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::sync::{Semaphore, watch};

use crate::Lambda;
use crate::engine::{Counters, ESMS, State};
use crate::error::{Error, Result, validation};
use crate::invoke::Run;
use crate::model::{int_in, s};
use crate::names;
use crate::ops::NAMESPACED_MAX;

/// Concurrent batches of a mapping without `ScalingConfig.MaximumConcurrency`.
pub const DEFAULT_CONCURRENCY: u64 = 5;
const REPORT_FAILURES: &str = "ReportBatchItemFailures";

/// A persisted event source mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Esm {
    /// UUID.
    pub uuid: String,
    /// Account.
    pub account: String,
    /// Region.
    pub region: String,
    /// Function ARN (qualified when the mapping names a version or alias).
    pub function_arn: String,
    /// Queue ARN.
    pub event_source_arn: String,
    /// Records per batch.
    pub batch_size: u64,
    /// Seconds to gather a batch.
    pub window: u64,
    /// Enabled.
    pub enabled: bool,
    /// `FunctionResponseTypes`.
    #[serde(default)]
    pub response_types: Vec<String>,
    /// `ScalingConfig.MaximumConcurrency`.
    #[serde(default)]
    pub max_concurrency: Option<u64>,
    /// Filter patterns (`FilterCriteria.Filters[].Pattern`).
    #[serde(default)]
    pub filters: Vec<String>,
    /// Epoch ms.
    pub last_modified: Millis,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl Esm {
    fn render(&self, state: &str) -> Value {
        let mut o = json!({
            "UUID": self.uuid,
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.window,
            "EventSourceArn": self.event_source_arn,
            "FunctionArn": self.function_arn,
            "LastModified": self.last_modified as f64 / 1000.0,
            "State": state,
            "StateTransitionReason": "USER_INITIATED",
            "FunctionResponseTypes": self.response_types,
            "EventSourceMappingArn": format!(
                "arn:aws:lambda:{}:{}:event-source-mapping:{}", self.region, self.account, self.uuid),
        });
        if !self.filters.is_empty() {
            let filters: Vec<Value> = self
                .filters
                .iter()
                .map(|p| json!({ "Pattern": p }))
                .collect();
            o["FilterCriteria"] = json!({ "Filters": filters });
        }
        if let Some(c) = self.max_concurrency {
            o["ScalingConfig"] = json!({ "MaximumConcurrency": c });
        }
        o
    }

    fn steady_state(&self) -> &'static str {
        if self.enabled { "Enabled" } else { "Disabled" }
    }

    fn compiled_filters(&self) -> Vec<Pattern> {
        self.filters
            .iter()
            .filter_map(|p| Pattern::compile_eventbridge(p).ok())
            .collect()
    }
}

/// The SQS context a poller acts in.
fn sqs_ctx(account: &str, region: &str) -> RequestContext {
    RequestContext {
        account: account.to_owned(),
        region: region.to_owned(),
        request_id: ponte_types::ids::request_id(),
        trace_header: None,
        base_url: "http://ponte.internal".into(),
        access_key: None,
    }
}

fn queue_url(queue_arn: &str) -> Option<(String, String, String)> {
    let a = ponte_types::Arn::parse(queue_arn)?;
    (a.service == "sqs").then(|| {
        (
            format!("http://ponte.internal/{}/{}", a.account, a.resource),
            a.account,
            a.region,
        )
    })
}

/// Validates `FilterCriteria`: at most 5 filters of at most 4096 characters, each a valid
/// event pattern.
fn check_filters(fc: &Value) -> Result<Vec<String>> {
    let filters = fc
        .get("Filters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if filters.len() > 5 {
        return Err(validation(
            format!("{} filters", filters.len()),
            "filterCriteria.filters",
            "Member must have length less than or equal to 5",
        ));
    }
    let mut out = Vec::new();
    for f in filters {
        let Some(p) = f.get("Pattern").and_then(Value::as_str) else {
            continue;
        };
        if p.chars().count() > 4096 {
            return Err(validation(
                p,
                "filterCriteria.filters.member.pattern",
                "Member must have length less than or equal to 4096",
            ));
        }
        if Pattern::compile_eventbridge(p).is_err() {
            return Err(Error::InvalidParameterValue(
                "Invalid filter pattern definition.".into(),
            ));
        }
        out.push(p.to_owned());
    }
    Ok(out)
}

fn check_response_types(v: &Value) -> Result<Vec<String>> {
    let list: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for t in &list {
        if t != REPORT_FAILURES {
            return Err(validation(
                format!("[{}]", list.join(", ")),
                "functionResponseTypes",
                "Member must satisfy constraint: [Member must satisfy enum value set: \
                 [ReportBatchItemFailures]]",
            ));
        }
    }
    Ok(list)
}

impl Lambda {
    /// The queue's attributes, or AWS's error for a queue Lambda cannot read.
    fn queue_attrs(&self, queue_arn: &str) -> Result<BTreeMap<String, String>> {
        let (url, account, region) = queue_url(queue_arn).ok_or_else(|| {
            Error::InvalidParameterValue(format!(
                "Ponte supports SQS event sources only; {queue_arn} is not an SQS queue ARN."
            ))
        })?;
        self.inner
            .deps
            .sqs
            .get_queue_attributes(&sqs_ctx(&account, &region), &url, &["All".to_owned()])
            .map(|a| a.into_iter().collect())
            .map_err(|_| {
                Error::InvalidParameterValue(
                    "Error occurred while ReceiveMessage. SQS Error Code: \
                     AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified \
                     queue does not exist for this wsdl version."
                        .into(),
                )
            })
    }

    /// Checks batch settings against the queue type and the function timeout against the
    /// queue's visibility timeout.
    fn check_mapping(&self, m: &Esm, queue: &BTreeMap<String, String>, timeout: u64) -> Result<()> {
        let fifo = queue.get("FifoQueue").is_some_and(|v| v == "true");
        if fifo && m.batch_size > 10 {
            return Err(Error::InvalidParameterValue(
                "Batch size for FIFO queues cannot exceed 10.".into(),
            ));
        }
        if fifo && m.window > 0 {
            return Err(Error::InvalidParameterValue(
                "Batching window is not supported for FIFO queues.".into(),
            ));
        }
        if m.batch_size > 10 && m.window == 0 {
            return Err(Error::InvalidParameterValue(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is \
                 greater than 10"
                    .into(),
            ));
        }
        let visibility: u64 = queue
            .get("VisibilityTimeout")
            .and_then(|v| v.parse().ok())
            .unwrap_or(30);
        if visibility < timeout {
            return Err(Error::InvalidParameterValue(format!(
                "Queue visibility timeout: {visibility} seconds is less than Function timeout: \
                 {timeout} seconds"
            )));
        }
        Ok(())
    }

    fn function_timeout(&self, function_arn: &str) -> Result<u64> {
        let names::Parts {
            region,
            account,
            name,
            qualifier: q,
        } = names::split(function_arn)
            .ok_or_else(|| Error::InvalidParameterValue("Function does not exist".into()))?;
        let st = self.inner.state.lock();
        let f = st
            .get(
                account.unwrap_or_default(),
                region.unwrap_or_default(),
                name,
            )
            .ok_or_else(|| Error::InvalidParameterValue("Function does not exist".into()))?;
        let version = match q {
            Some(q) => f
                .aliases
                .get(q)
                .map(|a| a.function_version.clone())
                .unwrap_or_else(|| q.to_owned()),
            None => names::LATEST.to_owned(),
        };
        f.config(&version)
            .map(|c| c.timeout)
            .ok_or_else(|| Error::InvalidParameterValue("Function does not exist".into()))
    }

    pub(crate) async fn create_esm(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let source = s(input, "EventSourceArn")
            .ok_or_else(|| Error::InvalidParameterValue("Unrecognized event source.".into()))?;
        let fname = s(input, "FunctionName")
            .ok_or_else(|| validation("null", "functionName", "Member must not be null"))?;
        let r = names::resolve(ctx, fname, None, NAMESPACED_MAX)?;
        if s(input, "StartingPosition").is_some() {
            return Err(Error::InvalidParameterValue(
                "StartingPosition is not valid for SQS event sources.".into(),
            ));
        }
        let function_arn = r.arn_with_qualifier();
        let timeout = self.function_timeout(&function_arn)?;
        let queue = self.queue_attrs(source)?;
        let batch_size = int_in(input, "BatchSize", "batchSize", 1, 10_000)?.unwrap_or(10) as u64;
        let window = int_in(
            input,
            "MaximumBatchingWindowInSeconds",
            "maximumBatchingWindowInSeconds",
            0,
            300,
        )?
        .unwrap_or(0) as u64;
        let max_concurrency = match input.get("ScalingConfig") {
            Some(sc) => int_in(
                sc,
                "MaximumConcurrency",
                "scalingConfig.maximumConcurrency",
                2,
                1000,
            )?
            .map(|c| c as u64),
            None => None,
        };
        let m = Esm {
            uuid: uuid::Uuid::new_v4().to_string(),
            account: r.account.clone(),
            region: r.region.clone(),
            function_arn,
            event_source_arn: source.to_owned(),
            batch_size,
            window,
            enabled: input
                .get("Enabled")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            response_types: match input.get("FunctionResponseTypes") {
                Some(v) => check_response_types(v)?,
                None => Vec::new(),
            },
            max_concurrency,
            filters: match input.get("FilterCriteria") {
                Some(fc) => check_filters(fc)?,
                None => Vec::new(),
            },
            last_modified: self.inner.now(),
            tags: match input.get("Tags").and_then(Value::as_object) {
                Some(t) => crate::model::check_tags(t)?,
                None => BTreeMap::new(),
            },
        };
        self.check_mapping(&m, &queue, timeout)?;
        let out = self
            .inner
            .mutate(|st, b| {
                if let Some(dup) = st.esms.values().find(|x| {
                    x.function_arn == m.function_arn && x.event_source_arn == m.event_source_arn
                }) {
                    return Err(Error::ResourceConflict(format!(
                        "An event source mapping with SQS arn (\" {} \") and function (\" {} \") \
                         already exists. Please update or delete the existing mapping with UUID {}",
                        dup.event_source_arn, r.name, dup.uuid
                    )));
                }
                b.put(
                    ESMS,
                    m.uuid.as_bytes().to_vec(),
                    serde_json::to_vec(&m).unwrap_or_default(),
                );
                st.esms.insert(m.uuid.clone(), m.clone());
                Ok(m.render("Creating"))
            })
            .await?;
        if m.enabled {
            self.start_poller(&m.uuid);
        }
        Ok(out)
    }

    fn esm_uuid(input: &Value) -> Result<String> {
        s(input, "UUID").map(str::to_owned).ok_or_else(|| {
            Error::ResourceNotFound("The resource you requested does not exist.".into())
        })
    }

    fn mine<'a>(st: &'a State, ctx: &RequestContext, uuid: &str) -> Result<&'a Esm> {
        st.esms
            .get(uuid)
            .filter(|m| m.account == ctx.account && m.region == ctx.region)
            .ok_or_else(|| {
                Error::ResourceNotFound("The resource you requested does not exist.".into())
            })
    }

    pub(crate) fn get_esm(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let uuid = Self::esm_uuid(input)?;
        let st = self.inner.state.lock();
        let m = Self::mine(&st, ctx, &uuid)?;
        Ok(m.render(m.steady_state()))
    }

    pub(crate) fn list_esms(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let source = s(input, "EventSourceArn");
        let function = match s(input, "FunctionName") {
            Some(f) => Some(names::resolve(ctx, f, None, NAMESPACED_MAX)?),
            None => None,
        };
        let st = self.inner.state.lock();
        let items: Vec<Value> = st
            .esms
            .values()
            .filter(|m| m.account == ctx.account && m.region == ctx.region)
            .filter(|m| source.is_none_or(|s| m.event_source_arn == s))
            .filter(|m| {
                function.as_ref().is_none_or(|f| match &f.qualifier {
                    Some(_) => m.function_arn == f.arn_with_qualifier(),
                    None => {
                        m.function_arn == f.arn()
                            || m.function_arn.starts_with(&format!("{}:", f.arn()))
                    }
                })
            })
            .map(|m| m.render(m.steady_state()))
            .collect();
        let max = int_in(input, "MaxItems", "maxItems", 1, 10_000)?.unwrap_or(100) as usize;
        let start = match s(input, "Marker") {
            Some(mk) if !mk.is_empty() => items
                .iter()
                .position(|v| v["UUID"] == mk)
                .unwrap_or(items.len()),
            _ => 0,
        };
        let rest: Vec<Value> = items.into_iter().skip(start).collect();
        let mut out =
            json!({ "EventSourceMappings": rest.iter().take(max).cloned().collect::<Vec<_>>() });
        if rest.len() > max {
            out["NextMarker"] = rest[max]["UUID"].clone();
        }
        Ok(out)
    }

    pub(crate) async fn update_esm(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let uuid = Self::esm_uuid(input)?;
        let mut m = {
            let st = self.inner.state.lock();
            Self::mine(&st, ctx, &uuid)?.clone()
        };
        let was_enabled = m.enabled;
        if let Some(f) = s(input, "FunctionName") {
            m.function_arn = names::resolve(ctx, f, None, NAMESPACED_MAX)?.arn_with_qualifier();
        }
        if let Some(e) = input.get("Enabled").and_then(Value::as_bool) {
            m.enabled = e;
        }
        if let Some(b) = int_in(input, "BatchSize", "batchSize", 1, 10_000)? {
            m.batch_size = b as u64;
        }
        if let Some(w) = int_in(
            input,
            "MaximumBatchingWindowInSeconds",
            "maximumBatchingWindowInSeconds",
            0,
            300,
        )? {
            m.window = w as u64;
        }
        if let Some(v) = input.get("FunctionResponseTypes") {
            m.response_types = check_response_types(v)?;
        }
        if let Some(fc) = input.get("FilterCriteria") {
            m.filters = check_filters(fc)?;
        }
        if let Some(sc) = input.get("ScalingConfig") {
            m.max_concurrency = int_in(
                sc,
                "MaximumConcurrency",
                "scalingConfig.maximumConcurrency",
                2,
                1000,
            )?
            .map(|c| c as u64);
        }
        let timeout = self.function_timeout(&m.function_arn)?;
        let queue = self.queue_attrs(&m.event_source_arn)?;
        self.check_mapping(&m, &queue, timeout)?;
        m.last_modified = self.inner.now();
        let state = match (was_enabled, m.enabled) {
            (false, true) => "Enabling",
            (true, false) => "Disabling",
            _ => "Updating",
        };
        let out = self
            .inner
            .mutate(|st, b| {
                Self::mine(st, ctx, &uuid)?;
                b.put(
                    ESMS,
                    uuid.as_bytes().to_vec(),
                    serde_json::to_vec(&m).unwrap_or_default(),
                );
                st.esms.insert(uuid.clone(), m.clone());
                Ok(m.render(state))
            })
            .await?;
        // A running poller re-reads its mapping on every batch; restart it so new settings
        // (concurrency) apply at once.
        self.stop_poller(&uuid);
        if m.enabled {
            self.start_poller(&uuid);
        }
        Ok(out)
    }

    pub(crate) async fn delete_esm(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let uuid = Self::esm_uuid(input)?;
        let out = self
            .inner
            .mutate(|st, b| {
                Self::mine(st, ctx, &uuid)?;
                let m = st.esms.remove(&uuid).expect("checked above");
                b.delete(ESMS, uuid.as_bytes().to_vec());
                Ok(m.render("Deleting"))
            })
            .await?;
        self.stop_poller(&uuid);
        Ok(out)
    }

    // ----- pollers ----------------------------------------------------------------------------

    /// Starts the poller of mapping `uuid` unless one runs (needs a tokio runtime).
    pub(crate) fn start_poller(&self, uuid: &str) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let mut pollers = self.inner.pollers.lock();
        if pollers.contains_key(uuid) {
            return;
        }
        let (tx, rx) = watch::channel(false);
        let generation = self
            .inner
            .poller_gen
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        pollers.insert(uuid.to_owned(), (generation, tx));
        let me = self.clone();
        let id = uuid.to_owned();
        tokio::spawn(async move {
            me.poll_loop(&id, rx).await;
            let mut pollers = me.inner.pollers.lock();
            if pollers.get(&id).is_some_and(|(g, _)| *g == generation) {
                pollers.remove(&id);
            }
        });
    }

    pub(crate) fn stop_poller(&self, uuid: &str) {
        if let Some((_, tx)) = self.inner.pollers.lock().remove(uuid) {
            let _ = tx.send(true);
        }
    }

    fn mapping(&self, uuid: &str) -> Option<Esm> {
        self.inner
            .state
            .lock()
            .esms
            .get(uuid)
            .filter(|m| m.enabled)
            .cloned()
    }

    async fn poll_loop(&self, uuid: &str, mut stop: watch::Receiver<bool>) {
        let mut global = self.inner.shutdown.subscribe();
        let Some(first) = self.mapping(uuid) else {
            return;
        };
        let sem = Arc::new(Semaphore::new(
            first.max_concurrency.unwrap_or(DEFAULT_CONCURRENCY) as usize,
        ));
        loop {
            if *stop.borrow() || *global.borrow() {
                return;
            }
            let Some(m) = self.mapping(uuid) else {
                return;
            };
            let permit = tokio::select! {
                p = sem.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
                _ = stop.changed() => return,
                _ = global.changed() => return,
            };
            let batch = tokio::select! {
                b = self.gather(&m) => b,
                _ = stop.changed() => return,
                _ = global.changed() => return,
            };
            match batch {
                Ok(msgs) if !msgs.is_empty() => {
                    let me = self.clone();
                    tokio::spawn(async move {
                        me.process(&m, msgs).await;
                        drop(permit);
                    });
                }
                Ok(_) => drop(permit),
                Err(e) => {
                    drop(permit);
                    tracing::debug!(uuid, error = %e, "event source mapping: queue not readable");
                    let pause = self.inner.now() + 1000;
                    tokio::select! {
                        _ = self.inner.deps.clock.sleep_until(pause) => {}
                        _ = stop.changed() => return,
                        _ = global.changed() => return,
                    }
                }
            }
        }
    }

    /// Receives one batch: a long poll for the first messages, then more until the batch is
    /// full or the batching window closes.
    async fn gather(&self, m: &Esm) -> std::result::Result<Vec<Received>, ponte_sqs::Error> {
        let Some((url, account, region)) = queue_url(&m.event_source_arn) else {
            return Err(ponte_sqs::Error::QueueDoesNotExist);
        };
        let ctx = sqs_ctx(&account, &region);
        let sqs = &self.inner.deps.sqs;
        let want = m.batch_size as usize;
        let mut got = sqs
            .receive(
                &ctx,
                &url,
                ReceiveInput {
                    max_messages: want.min(10) as u32,
                    visibility_timeout: None,
                    wait_seconds: Some(20),
                    attempt_id: None,
                },
            )
            .await?;
        if got.is_empty() || m.window == 0 {
            return Ok(got);
        }
        let clock = &self.inner.deps.clock;
        let deadline = clock.deadline_after(Duration::from_secs(m.window));
        while got.len() < want && clock.now() < deadline {
            let more = sqs
                .receive(
                    &ctx,
                    &url,
                    ReceiveInput {
                        max_messages: (want - got.len()).min(10) as u32,
                        visibility_timeout: None,
                        wait_seconds: Some(0),
                        attempt_id: None,
                    },
                )
                .await?;
            if more.is_empty() {
                let next = (clock.now() + 50).min(deadline);
                clock.sleep_until(next).await;
            }
            got.extend(more);
        }
        Ok(got)
    }

    /// Filters, invokes and settles one batch.
    async fn process(&self, m: &Esm, msgs: Vec<Received>) {
        let Some((url, account, region)) = queue_url(&m.event_source_arn) else {
            return;
        };
        let ctx = sqs_ctx(&account, &region);
        let sqs = &self.inner.deps.sqs;
        let filters = m.compiled_filters();
        let mut records = Vec::new();
        let mut kept = Vec::new();
        let mut dropped = Vec::new();
        for msg in msgs {
            let record = sqs_record(&msg, &m.event_source_arn, &region);
            if !filters.is_empty()
                && !filters
                    .iter()
                    .any(|p| p.matches_value(&filter_view(&record)))
            {
                dropped.push(msg.receipt_handle.clone());
                continue;
            }
            records.push(record);
            kept.push(msg);
        }
        if !dropped.is_empty() {
            for _ in &dropped {
                Counters::bump(&self.inner.counters.esm_filtered);
            }
            let _ = sqs.delete(&ctx, &url, &dropped).await;
        }
        if kept.is_empty() {
            return;
        }
        let Some(parts) = names::split(&m.function_arn) else {
            return;
        };
        let fn_account = parts.account.unwrap_or(&m.account);
        let t = match self.resolve_target(fn_account, &m.region, parts.name, parts.qualifier) {
            Ok(t) => t,
            Err(_) => return, // The function is gone: leave the messages to the queue.
        };
        let trace = kept
            .iter()
            .find_map(|x| x.content.trace_header.as_deref())
            .and_then(TraceHeader::parse)
            .unwrap_or_else(|| TraceHeader::new_root(self.inner.now()))
            .invoked(&t.arn);
        if !t.allow_recursion && trace.lineage_count() > RECURSION_LIMIT {
            Counters::bump(&self.inner.counters.recursion_stops);
            self.stop_recursive(&ctx, &url, &kept).await;
            return;
        }
        let payload = json!({ "Records": records }).to_string().into_bytes();
        for _ in &kept {
            Counters::bump(&self.inner.counters.esm_messages);
        }
        let request_id = uuid::Uuid::new_v4().to_string();
        let ran = self
            .run(
                &t,
                Run {
                    payload,
                    request_id: &request_id,
                    trace: &trace,
                    client_context: None,
                    want_tail: false,
                    kind: "EventSourceMapping",
                },
            )
            .await;
        let ran = match ran {
            Ok(r) => r,
            Err(e) => {
                // Throttled or unavailable: the messages return after their visibility timeout.
                tracing::debug!(mapping = %m.uuid, error = %e, "event source mapping: invoke failed");
                return;
            }
        };
        if ran.result.function_error.is_some() {
            return;
        }
        let report = m.response_types.iter().any(|t| t == REPORT_FAILURES);
        let failed: HashSet<String> = if report {
            match batch_failures(&ran.result.payload, &kept) {
                Some(ids) => ids,
                None => return, // Malformed report: the whole batch failed.
            }
        } else {
            HashSet::new()
        };
        let fifo = m.event_source_arn.ends_with(".fifo");
        let mut blocked_groups = HashSet::new();
        let mut delete = Vec::new();
        for msg in &kept {
            let group = msg.content.group_id.clone();
            if failed.contains(&msg.content.id) {
                if fifo && let Some(g) = group {
                    blocked_groups.insert(g);
                }
                continue;
            }
            if fifo && group.as_ref().is_some_and(|g| blocked_groups.contains(g)) {
                continue;
            }
            delete.push(msg.receipt_handle.clone());
        }
        if !delete.is_empty() {
            let _ = sqs.delete(&ctx, &url, &delete).await;
        }
    }

    /// A recursive loop through the queue: the messages go to the queue's DLQ if it has one,
    /// else they are dropped, and the function is not invoked.
    async fn stop_recursive(&self, ctx: &RequestContext, url: &str, msgs: &[Received]) {
        let sqs = &self.inner.deps.sqs;
        let dlq = sqs
            .get_queue_attributes(ctx, url, &["RedrivePolicy".to_owned()])
            .ok()
            .and_then(|a| {
                a.into_iter()
                    .find(|(k, _)| k == "RedrivePolicy")
                    .map(|(_, v)| v)
            })
            .and_then(|v| serde_json::from_str::<Value>(&v).ok())
            .and_then(|v| {
                v.get("deadLetterTargetArn")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .and_then(|arn| queue_url(&arn));
        if let Some((dlq_url, account, region)) = dlq {
            let dctx = sqs_ctx(&account, &region);
            let entries = msgs
                .iter()
                .map(|m| {
                    Ok(ponte_sqs::engine::SendInput {
                        body: m.content.body.clone(),
                        attributes: m.content.attributes.clone(),
                        group_id: m.content.group_id.clone(),
                        dedup_id: m.content.dedup_id.clone(),
                        ..Default::default()
                    })
                })
                .collect();
            let _ = sqs.send(&dctx, &dlq_url, entries, true).await;
        }
        let handles: Vec<String> = msgs.iter().map(|m| m.receipt_handle.clone()).collect();
        let _ = sqs.delete(ctx, url, &handles).await;
    }
}

/// The failed message ids of a `ReportBatchItemFailures` response; `None` when the report is
/// malformed (the whole batch then counts as failed).
pub fn batch_failures(payload: &[u8], batch: &[Received]) -> Option<HashSet<String>> {
    let ids: HashSet<&str> = batch.iter().map(|m| m.content.id.as_str()).collect();
    failures_in(payload, &ids)
}

/// [`batch_failures`] over plain ids.
pub fn failures_in(payload: &[u8], ids: &HashSet<&str>) -> Option<HashSet<String>> {
    let v: Value = match serde_json::from_slice(payload) {
        Ok(v) => v,
        Err(_) => return Some(HashSet::new()),
    };
    let list = match v.get("batchItemFailures") {
        None | Some(Value::Null) => return Some(HashSet::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return None,
    };
    let mut out = HashSet::new();
    for item in list {
        let id = item.get("itemIdentifier").and_then(Value::as_str)?;
        if id.is_empty() || !ids.contains(id) {
            return None;
        }
        out.insert(id.to_owned());
    }
    Some(out)
}

/// The SQS event record of one message (aws-facts §1 "Event shapes").
pub fn sqs_record(m: &Received, queue_arn: &str, region: &str) -> Value {
    let c = &m.content;
    let mut attrs = Map::new();
    attrs.insert(
        "ApproximateReceiveCount".into(),
        m.receive_count.to_string().into(),
    );
    attrs.insert("SentTimestamp".into(), c.sent_at.to_string().into());
    attrs.insert("SenderId".into(), c.sender_id.clone().into());
    attrs.insert(
        "ApproximateFirstReceiveTimestamp".into(),
        m.first_receive_at.to_string().into(),
    );
    if let Some(t) = &c.trace_header {
        attrs.insert("AWSTraceHeader".into(), t.clone().into());
    }
    if let Some(s) = &c.sequence_number {
        attrs.insert("SequenceNumber".into(), s.clone().into());
    }
    if let Some(g) = &c.group_id {
        attrs.insert("MessageGroupId".into(), g.clone().into());
    }
    if let Some(d) = &c.dedup_id {
        attrs.insert("MessageDeduplicationId".into(), d.clone().into());
    }
    if let Some(src) = &c.dlq_source_arn {
        attrs.insert("DeadLetterQueueSourceArn".into(), src.clone().into());
    }
    let mut mattrs = Map::new();
    for (name, a) in &c.attributes {
        let mut o = Map::new();
        if let Some(sv) = &a.string_value {
            o.insert("stringValue".into(), sv.clone().into());
        }
        if let Some(bv) = &a.binary_value {
            o.insert("binaryValue".into(), bv.clone().into());
        }
        o.insert("stringListValues".into(), json!(a.string_list_values));
        o.insert("binaryListValues".into(), json!(a.binary_list_values));
        o.insert("dataType".into(), a.data_type.clone().into());
        mattrs.insert(name.clone(), Value::Object(o));
    }
    let mut r = json!({
        "messageId": c.id,
        "receiptHandle": m.receipt_handle,
        "body": c.body,
        "attributes": attrs,
        "messageAttributes": mattrs,
        "md5OfBody": c.md5_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    });
    if let Some(md5) = &c.md5_attributes {
        r["md5OfMessageAttributes"] = md5.clone().into();
    }
    r
}

/// What filter criteria see of a record: the body parsed as JSON when it is JSON.
pub fn filter_view(record: &Value) -> Value {
    let mut v = record.clone();
    if let Some(body) = record.get("body").and_then(Value::as_str)
        && let Ok(parsed) = serde_json::from_str::<Value>(body)
    {
        v["body"] = parsed;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_failure_reports() {
        let ids: HashSet<&str> = ["a", "b"].into_iter().collect();
        assert_eq!(failures_in(b"null", &ids), Some(HashSet::new()));
        assert_eq!(
            failures_in(b"{\"batchItemFailures\": []}", &ids),
            Some(HashSet::new())
        );
        assert_eq!(
            failures_in(
                b"{\"batchItemFailures\": [{\"itemIdentifier\": \"b\"}]}",
                &ids
            ),
            Some(["b".to_owned()].into_iter().collect())
        );
        assert_eq!(
            failures_in(
                b"{\"batchItemFailures\": [{\"itemIdentifier\": \"\"}]}",
                &ids
            ),
            None
        );
        assert_eq!(
            failures_in(b"{\"batchItemFailures\": [{\"id\": \"a\"}]}", &ids),
            None
        );
        assert_eq!(
            failures_in(
                b"{\"batchItemFailures\": [{\"itemIdentifier\": \"zzz\"}]}",
                &ids
            ),
            None
        );
        assert_eq!(failures_in(b"{\"batchItemFailures\": \"a\"}", &ids), None);
        assert_eq!(failures_in(b"not json", &ids), Some(HashSet::new()));
    }

    #[test]
    fn records_have_awss_shape_and_filters_see_parsed_bodies() {
        use ponte_sqs::model::attributes::AttributeValue;
        use ponte_sqs::model::message::Content;
        let content = Content {
            id: "m1".into(),
            body: "{\"kind\":\"order\",\"n\":3}".into(),
            md5_body: "abc".into(),
            attributes: [(
                "color".to_owned(),
                AttributeValue {
                    data_type: "String".into(),
                    string_value: Some("red".into()),
                    ..Default::default()
                },
            )]
            .into_iter()
            .collect(),
            md5_attributes: Some("def".into()),
            trace_header: Some("Root=1-5759e988-bd862e3fe1be46a994272793".into()),
            sent_at: 1_700_000_000_000,
            sender_id: "AIDA".into(),
            group_id: None,
            dedup_id: None,
            sequence_number: None,
            dlq_source_arn: None,
        };
        let m = Received {
            content: Arc::new(content),
            receipt_handle: "h1".into(),
            receive_count: 1,
            first_receive_at: 1_700_000_000_500,
        };
        let r = sqs_record(&m, "arn:aws:sqs:us-east-1:000000000000:q", "us-east-1");
        assert_eq!(r["eventSource"], "aws:sqs");
        assert_eq!(r["attributes"]["ApproximateReceiveCount"], "1");
        assert_eq!(
            r["attributes"]["AWSTraceHeader"],
            "Root=1-5759e988-bd862e3fe1be46a994272793"
        );
        assert_eq!(r["messageAttributes"]["color"]["stringValue"], "red");
        assert_eq!(r["messageAttributes"]["color"]["dataType"], "String");
        assert_eq!(
            r["messageAttributes"]["color"]["stringListValues"],
            json!([])
        );
        assert_eq!(r["md5OfMessageAttributes"], "def");
        let p = Pattern::compile_eventbridge(r#"{"body": {"kind": ["order"]}}"#).unwrap();
        assert!(p.matches_value(&filter_view(&r)));
        let p = Pattern::compile_eventbridge(r#"{"body": {"kind": ["refund"]}}"#).unwrap();
        assert!(!p.matches_value(&filter_view(&r)));
        let p = Pattern::compile_eventbridge(
            r#"{"messageAttributes": {"color": {"stringValue": [{"prefix": "r"}]}}}"#,
        )
        .unwrap();
        assert!(p.matches_value(&filter_view(&r)));
        assert!(check_filters(&json!({"Filters": [{"Pattern": "{\"body\": 1}"}]})).is_err());
        assert_eq!(
            check_filters(&json!({"Filters": [{"Pattern": "{\"body\": {\"a\": [1]}}"}]}))
                .unwrap()
                .len(),
            1
        );
    }
}
