//! Invocation: synchronous (`RequestResponse`), dry runs, asynchronous (`Event`, through the
//! delivery outbox), and the `lambda` delivery [`Target`] that runs queued events.
//!
//! Every run goes through [`Lambda::run`]: concurrency admission (reserved concurrency, then
//! the account's unreserved pool), the package unpacked on demand, [`ponte_runtime::Runtime`]
//! executing it, and one meter record per run. The trace header is the caller's (or a new
//! root) with one more Lambda hop in its lineage; a chain longer than
//! [`ponte_types::trace::RECURSION_LIMIT`] stops unless the function's recursion config is
//! `Allow`.
//!
//! Asynchronous invocations are staged as delivery jobs whose id is the request id the caller
//! got back, under the policy of the invoked qualifier's event invoke config: its retries and
//! maximum age, on-success / on-failure destinations as invocation records, and the function's
//! dead-letter queue. The delivery crate does retries, backoff, records and DLQ messages.

use std::sync::{Arc, Weak};
use std::time::Duration;

use base64::Engine;
use ponte_delivery::{
    Failure, FailureKind, FollowUp, FollowUpFormat, Job, Message, NewJob, Outcome, Policy, Target,
};
use ponte_runtime::{FunctionError, FunctionSpec, InvokeRequest, InvokeResult};
use ponte_store::WriteBatch;
use ponte_types::trace::RECURSION_LIMIT;
use ponte_types::{RequestContext, TraceHeader};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Lambda;
use crate::code;
use crate::engine::{CODE, Counters, FnKey, Inner, METER, not_found};
use crate::error::{Error, Result, ThrottleReason, validation};
use crate::model::{Config, EventInvokeConfig, s};
use crate::names::{self, LATEST};
use crate::ops::{NAMESPACED_MAX, code_hex};

/// Largest synchronous request and response payload.
pub const SYNC_LIMIT: usize = 6_291_456;
/// Largest asynchronous request payload.
pub const ASYNC_LIMIT: usize = 1_048_576;
/// The log tail returned with `LogType: Tail`.
const TAIL_BYTES: usize = 4096;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// What a run targets, resolved under the lock.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub key: FnKey,
    /// Unqualified ARN.
    pub arn: String,
    /// The qualifier the caller used (`$LATEST`, a version, an alias): its event invoke config
    /// applies to async invocations.
    pub invoked: String,
    /// The ARN the caller invoked: unqualified, or qualified with its version or alias (what
    /// the function sees as `invoked_function_arn`).
    pub invoked_arn: String,
    /// The version that runs.
    pub version: String,
    pub config: Config,
    pub reserved: Option<u64>,
    pub reserved_sum: u64,
    pub allow_recursion: bool,
    pub invoke_config: Option<EventInvokeConfig>,
}

/// One invocation's meter record (`lambda_meter`), for the cost model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterRecord {
    /// Epoch ms when it ended.
    pub at: u64,
    /// Unqualified function ARN.
    pub function_arn: String,
    /// Version that ran.
    pub version: String,
    /// Request id.
    pub request_id: String,
    /// Billed duration (1 ms rounding, init included).
    pub billed_ms: u64,
    /// Handler duration.
    pub duration_ms: f64,
    /// Configured memory.
    pub memory_mb: u64,
    /// Init duration of a cold start.
    pub init_ms: Option<f64>,
    /// Cold start.
    pub cold: bool,
    /// `Success`, `Error` or `Timeout`.
    pub outcome: String,
    /// X-Ray trace root.
    pub trace_root: String,
    /// `RequestResponse`, `Event` or `EventSourceMapping`.
    pub kind: String,
}

/// A concurrency slot; released on drop.
pub(crate) struct Permit {
    inner: Arc<Inner>,
    key: FnKey,
    reserved: bool,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut fl = self.inner.in_flight.lock();
        if let Some(n) = fl.per_function.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                fl.per_function.remove(&self.key);
            }
        }
        if !self.reserved {
            let pool = (self.key.0.clone(), self.key.1.clone());
            if let Some(n) = fl.unreserved.get_mut(&pool) {
                *n = n.saturating_sub(1);
            }
        }
    }
}

/// Admission: reserved functions are limited by their reservation only; the others share what
/// the account's limit leaves after all reservations.
pub(crate) fn admit(inner: &Arc<Inner>, t: &Resolved, account_limit: u64) -> Result<Permit> {
    let mut fl = inner.in_flight.lock();
    let running = fl.per_function.get(&t.key).copied().unwrap_or(0);
    match t.reserved {
        Some(r) => {
            if running >= r {
                return Err(Error::TooManyRequests(ThrottleReason::Reserved));
            }
        }
        None => {
            let pool = (t.key.0.clone(), t.key.1.clone());
            let used = fl.unreserved.get(&pool).copied().unwrap_or(0);
            if used >= account_limit.saturating_sub(t.reserved_sum) {
                return Err(Error::TooManyRequests(ThrottleReason::Account));
            }
            *fl.unreserved.entry(pool).or_default() += 1;
        }
    }
    *fl.per_function.entry(t.key.clone()).or_default() += 1;
    Ok(Permit {
        inner: inner.clone(),
        key: t.key.clone(),
        reserved: t.reserved.is_some(),
    })
}

/// The error payload of a function whose response was too large.
fn too_large_response() -> Vec<u8> {
    json!({
        "errorMessage": format!(
            "Response payload size exceeded maximum allowed payload size ({SYNC_LIMIT} bytes)."),
        "errorType": "Function.ResponseSizeTooLarge",
    })
    .to_string()
    .into_bytes()
}

/// What one run is given.
pub(crate) struct Run<'a> {
    pub payload: Vec<u8>,
    pub request_id: &'a str,
    pub trace: &'a TraceHeader,
    pub client_context: Option<String>,
    pub want_tail: bool,
    /// `RequestResponse`, `Event` or `EventSourceMapping` (meter).
    pub kind: &'static str,
}

/// The result of one run.
pub(crate) struct Ran {
    pub result: InvokeResult,
    pub version: String,
}

impl Lambda {
    /// Resolves `name[:qualifier]` of `account`/`region` to what runs now (an alias picks by
    /// its weights).
    pub(crate) fn resolve_target(
        &self,
        account: &str,
        region: &str,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<Resolved> {
        let st = self.inner.state.lock();
        let arn = names::function_arn(region, account, name);
        let f = st
            .get(account, region, name)
            .ok_or_else(|| match qualifier {
                Some(q) => not_found(&format!("{arn}:{q}")),
                None => not_found(&arn),
            })?;
        let invoked = qualifier.unwrap_or(LATEST).to_owned();
        let version = match f.aliases.get(&invoked) {
            Some(a) => a.pick(self.inner.draw()).to_owned(),
            None => invoked.clone(),
        };
        let config = f
            .config(&version)
            .ok_or_else(|| not_found(&format!("{arn}:{invoked}")))?
            .clone();
        Ok(Resolved {
            key: (account.to_owned(), region.to_owned(), name.to_owned()),
            invoked_arn: match qualifier {
                Some(q) => format!("{arn}:{q}"),
                None => arn.clone(),
            },
            arn,
            invoked: invoked.clone(),
            version,
            config,
            reserved: f.reserved_concurrency,
            reserved_sum: st.reserved_sum(account, region),
            allow_recursion: f.recursive_loop == "Allow",
            invoke_config: f.invoke_configs.get(&invoked).cloned(),
        })
    }

    /// Makes sure the package of `t` is unpacked; returns its directory.
    async fn code_dir(&self, t: &Resolved) -> Result<std::path::PathBuf> {
        let hex = code_hex(&t.config.code_sha256);
        let dir = code::dir_for(
            &self.inner.deps.code_dir,
            &t.key.0,
            &t.key.1,
            &t.key.2,
            &hex,
        );
        if code::is_unpacked(&dir) {
            return Ok(dir);
        }
        let bytes = self
            .inner
            .deps
            .store
            .get(CODE, hex.as_bytes())?
            .ok_or_else(|| Error::Service(format!("The code of {} is missing.", t.arn)))?;
        let d = dir.clone();
        tokio::task::spawn_blocking(move || code::unpack(&bytes, &d))
            .await
            .map_err(|e| Error::Service(format!("unpacking failed: {e}")))??;
        Ok(dir)
    }

    /// Runs `t` once: admission, code, runtime, meter.
    pub(crate) async fn run(&self, t: &Resolved, run: Run<'_>) -> Result<Ran> {
        let Run {
            payload,
            request_id,
            trace,
            client_context,
            want_tail,
            kind,
        } = run;
        let permit = match admit(&self.inner, t, self.account_concurrency_limit()) {
            Ok(p) => p,
            Err(e) => {
                Counters::bump(&self.inner.counters.throttles);
                return Err(e);
            }
        };
        let dir = self.code_dir(t).await?;
        let c = &t.config;
        let log_group = c
            .logging
            .get("LogGroup")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| format!("/aws/lambda/{}", t.key.2));
        let spec = FunctionSpec {
            arn: format!("{}:{}", t.arn, t.version),
            name: t.key.2.clone(),
            version: t.version.clone(),
            runtime: c.runtime.clone(),
            handler: c.handler.clone(),
            code_dir: dir,
            memory_mb: c.memory_size as u32,
            timeout: Duration::from_secs(c.timeout),
            environment: c.environment.clone().unwrap_or_default(),
            account: t.key.0.clone(),
            region: t.key.1.clone(),
            log_group,
            revision: c.internal_revision.clone(),
        };
        let req = InvokeRequest {
            payload,
            request_id: request_id.to_owned(),
            trace_header: trace.to_string(),
            client_context,
            cognito_identity: None,
            want_log_tail: want_tail,
            invoked_function_arn: Some(t.invoked_arn.clone()),
        };
        let result = self.inner.deps.runtime.invoke(&spec, req).await;
        drop(permit);
        let mut result = match result {
            Ok(r) => r,
            // The host cannot run it (no `python3` / `node`, shutting down): Ponte's fault, not
            // the function's, so a service error rather than a function error.
            Err(ponte_runtime::Error::Spawn(msg)) => {
                return Err(Error::Service(format!(
                    "The function could not start: {msg}"
                )));
            }
            Err(ponte_runtime::Error::UnsupportedRuntime(msg)) => InvokeResult {
                payload: json!({
                    "errorMessage": format!("Cannot start the function: {msg}"),
                    "errorType": "Runtime.InvalidEntrypoint",
                })
                .to_string()
                .into_bytes(),
                function_error: Some(FunctionError::Unhandled),
                log_tail: None,
                duration_ms: 0.0,
                billed_ms: 0,
                init_ms: None,
                max_memory_mb: 0,
                timed_out: false,
            },
            Err(e) => return Err(Error::Service(format!("The function could not run: {e}"))),
        };
        if result.payload.len() > SYNC_LIMIT {
            result.payload = too_large_response();
            result.function_error = Some(FunctionError::Unhandled);
        }
        let counters = &self.inner.counters;
        Counters::bump(&counters.invocations);
        if result.function_error.is_some() {
            Counters::bump(&counters.function_errors);
        }
        if result.init_ms.is_some() {
            Counters::bump(&counters.cold_starts);
        }
        self.meter(t, request_id, trace, &result, kind);
        Ok(Ran {
            result,
            version: t.version.clone(),
        })
    }

    /// Writes one meter record without waiting for durability (it is not an acknowledged
    /// write).
    fn meter(
        &self,
        t: &Resolved,
        request_id: &str,
        trace: &TraceHeader,
        r: &InvokeResult,
        kind: &str,
    ) {
        let now = self.inner.now();
        let rec = MeterRecord {
            at: now,
            function_arn: t.arn.clone(),
            version: t.version.clone(),
            request_id: request_id.to_owned(),
            billed_ms: r.billed_ms,
            duration_ms: r.duration_ms,
            memory_mb: t.config.memory_size,
            init_ms: r.init_ms,
            cold: r.init_ms.is_some(),
            outcome: match (r.function_error, r.timed_out) {
                (_, true) => "Timeout",
                (Some(_), _) => "Error",
                (None, _) => "Success",
            }
            .into(),
            trace_root: trace.root.clone(),
            kind: kind.into(),
        };
        let mut b = WriteBatch::new();
        b.put(
            METER,
            format!("{now:016x}/{request_id}").into_bytes(),
            serde_json::to_vec(&rec).unwrap_or_default(),
        );
        drop(self.inner.deps.store.commit(b));
    }

    /// Every meter record (oldest first), for the cost model and tests.
    pub fn meter_records(&self) -> Result<Vec<MeterRecord>> {
        Ok(self
            .inner
            .deps
            .store
            .scan(METER, b"")?
            .into_iter()
            .filter_map(|(_, v)| serde_json::from_slice(&v).ok())
            .collect())
    }

    /// `Invoke`.
    pub(crate) async fn invoke(&self, ctx: &RequestContext, input: &Value) -> Result<Value> {
        let name = s(input, "FunctionName")
            .ok_or_else(|| validation("null", "functionName", "Member must not be null"))?;
        let r = names::resolve(ctx, name, s(input, "Qualifier"), NAMESPACED_MAX)?;
        let kind = s(input, "InvocationType").unwrap_or("RequestResponse");
        if !matches!(kind, "RequestResponse" | "Event" | "DryRun") {
            return Err(validation(
                kind,
                "invocationType",
                "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            ));
        }
        let log_type = s(input, "LogType").unwrap_or("None");
        if !matches!(log_type, "None" | "Tail") {
            return Err(validation(
                log_type,
                "logType",
                "Member must satisfy enum value set: [None, Tail]",
            ));
        }
        let payload = match s(input, "Payload") {
            Some(p) if !p.is_empty() => B64.decode(p).map_err(|_| {
                Error::InvalidRequestContent(
                    "Could not parse request body into json: the payload is not valid base64."
                        .into(),
                )
            })?,
            _ => b"{}".to_vec(),
        };
        let limit = if kind == "Event" {
            ASYNC_LIMIT
        } else {
            SYNC_LIMIT
        };
        if payload.len() > limit {
            return Err(Error::RequestTooLarge(format!(
                "Request must be smaller than {limit} bytes for the InvokeFunction operation"
            )));
        }
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
            return Err(Error::InvalidRequestContent(format!(
                "Could not parse request body into json: Could not parse payload into json: {e}"
            )));
        }
        let client_context = match s(input, "ClientContext") {
            Some(cc) if !cc.is_empty() => {
                let text = B64
                    .decode(cc)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .filter(|t| serde_json::from_str::<Value>(t).is_ok_and(|v| v.is_object()))
                    .ok_or_else(|| {
                        Error::InvalidRequestContent(
                            "Client context must be a valid Base64-encoded JSON object.".into(),
                        )
                    })?;
                Some(text)
            }
            _ => None,
        };
        let t = self.resolve_target(&r.account, &r.region, &r.name, r.qualifier.as_deref())?;
        match kind {
            "DryRun" => Ok(json!({ "StatusCode": 204 })),
            "Event" => {
                let trace =
                    TraceHeader::parse_or_new(ctx.trace_header.as_deref(), self.inner.now());
                let target = format!("{}:{}", t.arn, t.invoked);
                self.enqueue(
                    &t,
                    target,
                    payload,
                    trace.to_string(),
                    ctx.request_id.clone(),
                )
                .await?;
                Ok(json!({ "StatusCode": 202 }))
            }
            _ => {
                let trace =
                    TraceHeader::parse_or_new(ctx.trace_header.as_deref(), self.inner.now())
                        .invoked(&t.arn);
                if !t.allow_recursion && trace.lineage_count() > RECURSION_LIMIT {
                    Counters::bump(&self.inner.counters.recursion_stops);
                    return Err(Error::RecursiveInvocation(recursion_message()));
                }
                let ran = self
                    .run(
                        &t,
                        Run {
                            payload,
                            request_id: &ctx.request_id,
                            trace: &trace,
                            client_context,
                            want_tail: log_type == "Tail",
                            kind: "RequestResponse",
                        },
                    )
                    .await?;
                let mut out = json!({
                    "StatusCode": 200,
                    "Payload": B64.encode(&ran.result.payload),
                    "ExecutedVersion": ran.version,
                });
                if let Some(fe) = ran.result.function_error {
                    out["FunctionError"] = match fe {
                        FunctionError::Unhandled => "Unhandled",
                        FunctionError::Handled => "Handled",
                    }
                    .into();
                }
                if log_type == "Tail" {
                    let tail = ran.result.log_tail.unwrap_or_default();
                    let bytes = tail.as_bytes();
                    let cut = bytes.len().saturating_sub(TAIL_BYTES);
                    out["LogResult"] = B64.encode(&bytes[cut..]).into();
                }
                Ok(out)
            }
        }
    }

    /// `InvokeAsync` (deprecated): an `Event` invocation answering `Status: 202`.
    pub(crate) async fn invoke_async_legacy(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> Result<Value> {
        let mut inv = json!({
            "FunctionName": input.get("FunctionName").cloned().unwrap_or(Value::Null),
            "InvocationType": "Event",
        });
        if let Some(p) = input.get("InvokeArgs") {
            inv["Payload"] = p.clone();
        }
        self.invoke(ctx, &inv).await?;
        Ok(json!({ "Status": 202 }))
    }

    /// The delivery policy of an async invocation of `t`.
    fn async_policy(&self, t: &Resolved) -> Policy {
        let mut p = Policy::lambda_async();
        if let Some(c) = &t.invoke_config {
            if let Some(r) = c.max_retries {
                p.max_retries = r as u32;
            }
            if let Some(a) = c.max_age {
                p.max_age = Duration::from_secs(a);
            }
            if let Some(d) = &c.on_success {
                p.on_success.push(FollowUp {
                    target: d.clone(),
                    format: FollowUpFormat::LambdaRecord,
                });
            }
            if let Some(d) = &c.on_failure {
                p.on_failure.push(FollowUp {
                    target: d.clone(),
                    format: FollowUpFormat::LambdaRecord,
                });
            }
        }
        if let Some(dlq) = &t.config.dead_letter_arn {
            p.on_failure.push(FollowUp {
                target: dlq.clone(),
                format: FollowUpFormat::LambdaDeadLetter,
            });
        }
        p
    }

    /// Accepts an async invocation into the durable queue; returns once it is committed.
    pub(crate) async fn enqueue(
        &self,
        t: &Resolved,
        target: String,
        payload: Vec<u8>,
        trace: String,
        id: String,
    ) -> Result<()> {
        let job = NewJob {
            target,
            message: Message {
                body: String::from_utf8_lossy(&payload).into_owned(),
                ..Default::default()
            },
            policy: self.async_policy(t),
            trace_header: Some(trace),
            source: None,
            ordering_key: None,
            id: Some(id),
            context: json!({ "lambdaQueue": true }),
        };
        self.inner
            .deps
            .outbox
            .submit(vec![job])
            .await
            .map_err(|e| Error::Service(format!("The event could not be queued: {e}")))?;
        Counters::bump(&self.inner.counters.async_accepted);
        Ok(())
    }

    /// One attempt of a queued async event.
    async fn deliver_queued(&self, job: &Job) -> Outcome {
        let permanent = |status: u16, code: &str, message: String| {
            Outcome::Failed(Failure {
                kind: FailureKind::Permanent,
                status_code: status,
                code: code.into(),
                message,
                response: None,
                executed_version: None,
            })
        };
        let Some(names::Parts {
            account,
            name,
            qualifier,
            ..
        }) = names::split(&job.target)
        else {
            return permanent(
                404,
                "ResourceNotFoundException",
                format!("Function not found: {}", job.target),
            );
        };
        let region = ponte_types::Arn::parse(&job.target)
            .map(|a| a.region)
            .unwrap_or_default();
        let account = account.unwrap_or_default().to_owned();
        let t = match self.resolve_target(&account, &region, name, qualifier) {
            Ok(t) => t,
            Err(e) => return permanent(404, "ResourceNotFoundException", e.to_string()),
        };
        let trace = TraceHeader::parse_or_new(job.trace_header.as_deref(), self.inner.now())
            .invoked(&t.arn);
        if !t.allow_recursion && trace.lineage_count() > RECURSION_LIMIT {
            Counters::bump(&self.inner.counters.recursion_stops);
            return permanent(400, "RecursiveInvocationException", recursion_message());
        }
        let payload = job.message.body.clone().into_bytes();
        match self
            .run(
                &t,
                Run {
                    payload,
                    request_id: &job.id,
                    trace: &trace,
                    client_context: None,
                    want_tail: false,
                    kind: "Event",
                },
            )
            .await
        {
            Ok(ran) => {
                let response = String::from_utf8_lossy(&ran.result.payload).into_owned();
                match ran.result.function_error {
                    None => Outcome::Delivered {
                        status_code: 200,
                        response: Some(response),
                        executed_version: Some(ran.version),
                    },
                    Some(_) => {
                        let message = serde_json::from_str::<Value>(&response)
                            .ok()
                            .and_then(|v| {
                                v.get("errorMessage")
                                    .and_then(Value::as_str)
                                    .map(str::to_owned)
                            })
                            .unwrap_or_else(|| response.clone());
                        Outcome::Failed(Failure {
                            kind: FailureKind::Error,
                            status_code: 200,
                            code: "Unhandled".into(),
                            message,
                            response: Some(response),
                            executed_version: Some(ran.version),
                        })
                    }
                }
            }
            Err(e @ Error::TooManyRequests(_)) => Outcome::Failed(Failure {
                kind: FailureKind::Throttled,
                status_code: 429,
                code: "TooManyRequestsException".into(),
                message: e.to_string(),
                response: None,
                executed_version: None,
            }),
            Err(e @ Error::ResourceNotFound(_)) => {
                permanent(404, "ResourceNotFoundException", e.to_string())
            }
            Err(e) => Outcome::Failed(Failure {
                kind: FailureKind::Unavailable,
                status_code: 500,
                code: "ServiceException".into(),
                message: e.to_string(),
                response: None,
                executed_version: None,
            }),
        }
    }

    /// A job from another service (SNS, EventBridge, a destination) asking for an AWS async
    /// invocation: accepted into this function's own queue, under its own policy.
    async fn accept_event(&self, job: &Job) -> Outcome {
        let split = names::split(&job.target);
        let region = ponte_types::Arn::parse(&job.target)
            .map(|a| a.region)
            .unwrap_or_default();
        let resolved = split.ok_or_else(|| not_found(&job.target)).and_then(|p| {
            self.resolve_target(p.account.unwrap_or_default(), &region, p.name, p.qualifier)
        });
        let t = match resolved {
            Ok(t) => t,
            Err(e) => {
                return Outcome::Failed(Failure {
                    kind: FailureKind::Permanent,
                    status_code: 404,
                    code: "ResourceNotFoundException".into(),
                    message: e.to_string(),
                    response: None,
                    executed_version: None,
                });
            }
        };
        let trace = job
            .trace_header
            .clone()
            .unwrap_or_else(|| TraceHeader::new_root(self.inner.now()).to_string());
        let target = format!("{}:{}", t.arn, t.invoked);
        // A stable id: if this attempt is repeated after a crash, the queued event is the same.
        let id = format!("{}-queued", job.id);
        match self
            .enqueue(&t, target, job.message.body.clone().into_bytes(), trace, id)
            .await
        {
            Ok(()) => Outcome::Delivered {
                status_code: 202,
                response: None,
                executed_version: None,
            },
            Err(e) => Outcome::Failed(Failure {
                kind: FailureKind::Unavailable,
                status_code: 500,
                code: "ServiceException".into(),
                message: e.to_string(),
                response: None,
                executed_version: None,
            }),
        }
    }
}

fn recursion_message() -> String {
    "Lambda detected that the function is being invoked in a recursive loop with other AWS \
     resources and stopped the invocation of your function."
        .into()
}

/// The `lambda` delivery target.
pub(crate) struct LambdaTarget {
    pub inner: Weak<Inner>,
}

impl Target for LambdaTarget {
    fn deliver<'a>(&'a self, job: &'a Job) -> ponte_delivery::BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let Some(inner) = self.inner.upgrade() else {
                return Outcome::Failed(Failure {
                    kind: FailureKind::Unavailable,
                    status_code: 503,
                    code: "ServiceException".into(),
                    message: "Lambda is shutting down.".into(),
                    response: None,
                    executed_version: None,
                });
            };
            let lambda = Lambda { inner };
            if job.context.get("invocationType").and_then(Value::as_str) == Some("Event") {
                lambda.accept_event(job).await
            } else {
                lambda.deliver_queued(job).await
            }
        })
    }
}
