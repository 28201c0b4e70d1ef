//! AWS Lambda (2015-03-31, restJson1): the control plane (functions, versions, aliases,
//! concurrency, event invoke configs, recursion configs, permissions, tags, event source
//! mappings) and invocation, synchronous through [`ponte_runtime`] and asynchronous through the
//! delivery outbox ([`ponte_delivery`]).
//!
//! Layout: [`ops`] maps control-plane operations onto the engine with AWS's validation;
//! [`invoke`] runs functions (sync, async, the `lambda` delivery target); [`esm`] holds SQS event
//! source mappings and their pollers; [`engine`] owns the state and the store layout; [`model`]
//! and [`names`] are pure logic; [`code`] handles deployment packages; [`error`] maps every
//! failure onto the wire.
//!
//! # Known divergences from AWS
//! - Functions run as host processes: every `python3.x` runtime runs on the host's `python3`,
//!   every `nodejs*` on the host's `node`, and architectures are recorded only. Runtimes Ponte
//!   cannot run (java, dotnet, ruby) are refused at create with a clear message.
//! - Code comes from `ZipFile` only (no S3, no container images, no layers).
//! - Functions are `Active` as soon as CreateFunction returns (the response still says
//!   `Pending`, as on AWS); updates complete before the call returns (`InProgress` in the
//!   response, `Successful` on the next read).
//! - Resource policies (AddPermission) are stored and returned, not enforced; a function may be
//!   named by another account's ARN.
//! - Provisioned concurrency, function URLs, code signing, layers and durable executions are not
//!   implemented. Event source mappings accept SQS queues only.
//! - The account concurrency limit (1000) has no burst/scaling rate; throttles are immediate.

pub mod code;
pub mod engine;
pub mod error;
pub mod esm;
pub mod invoke;
pub mod model;
pub mod names;
pub mod ops;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use parking_lot::Mutex;
use ponte_delivery::Outbox;
use ponte_logs::Logs;
use ponte_protocol::error::AwsError;
use ponte_runtime::Runtime;
use ponte_sqs::Sqs;
use ponte_store::SharedStore;
use ponte_types::{RequestContext, SharedClock};
use serde_json::Value;
use tokio::sync::watch;

pub use crate::engine::Stats;
use crate::engine::{Counters, InFlight, Inner};
pub use crate::error::{Error, Result};

/// Everything the Lambda engine is built from.
#[derive(Clone)]
pub struct Deps {
    /// Store.
    pub store: SharedStore,
    /// Clock.
    pub clock: SharedClock,
    /// Delivery mechanism (async invocations, destinations, DLQs).
    pub outbox: Outbox,
    /// Execution.
    pub runtime: Runtime,
    /// Logs (function output).
    pub logs: Logs,
    /// SQS (event source mappings poll it).
    pub sqs: Sqs,
    /// Where unpacked code lives (`<data dir>/lambda/code`, or a temp dir when ephemeral).
    pub code_dir: std::path::PathBuf,
}

/// The Lambda engine. Cheap to clone.
#[derive(Clone)]
pub struct Lambda {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Lambda {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lambda").finish_non_exhaustive()
    }
}

impl Inner {
    /// Stops running instances whose qualified ARN starts with `prefix`.
    pub(crate) fn retire(&self, prefix: &str) {
        self.deps.runtime.retire(prefix);
    }
}

impl Lambda {
    /// Loads functions, versions, aliases and mappings from the store and registers the
    /// `lambda` delivery target. When called inside a tokio runtime, the pollers of enabled
    /// event source mappings start at once.
    pub fn open(deps: Deps) -> Result<Self, String> {
        let state = engine::load(&deps).map_err(|e| e.to_string())?;
        let seed = u64::from_le_bytes(
            uuid::Uuid::new_v4().as_bytes()[..8]
                .try_into()
                .unwrap_or([7; 8]),
        ) | 1;
        let inner = Arc::new(Inner {
            state: Mutex::new(state),
            deps,
            in_flight: Mutex::new(InFlight::default()),
            account_limit: std::sync::atomic::AtomicU64::new(0),
            counters: Counters::default(),
            rng: Mutex::new(seed),
            shutdown: watch::channel(false).0,
            pollers: Mutex::new(Default::default()),
            poller_gen: std::sync::atomic::AtomicU64::new(1),
        });
        let lambda = Lambda { inner };
        lambda.inner.deps.outbox.register(
            "lambda",
            Arc::new(invoke::LambdaTarget {
                inner: Arc::downgrade(&lambda.inner),
            }),
        );
        lambda.start_pollers();
        Ok(lambda)
    }

    fn start_pollers(&self) {
        let enabled: Vec<String> = self
            .inner
            .state
            .lock()
            .esms
            .values()
            .filter(|m| m.enabled)
            .map(|m| m.uuid.clone())
            .collect();
        for uuid in enabled {
            self.start_poller(&uuid);
        }
    }

    /// Ties the pollers to the server's shutdown signal, and starts those [`Lambda::open`]
    /// could not start (it was called outside a tokio runtime).
    pub fn start(&self, mut shutdown: watch::Receiver<bool>) {
        self.start_pollers();
        let inner = self.inner.clone();
        tokio::spawn(async move {
            while !*shutdown.borrow() {
                if shutdown.changed().await.is_err() {
                    break;
                }
            }
            let _ = inner.shutdown.send(true);
        });
    }

    /// Sets the account-wide concurrency limit per region (AWS's default: 1000).
    pub fn set_account_concurrency_limit(&self, limit: u64) {
        self.inner.account_limit.store(limit, Ordering::Relaxed);
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        let l = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            invocations: l(&c.invocations),
            function_errors: l(&c.function_errors),
            throttles: l(&c.throttles),
            recursion_stops: l(&c.recursion_stops),
            cold_starts: l(&c.cold_starts),
            async_accepted: l(&c.async_accepted),
            esm_messages: l(&c.esm_messages),
            esm_filtered: l(&c.esm_filtered),
        }
    }

    /// The zip of a package by the hex SHA-256 in a `GetFunction` `Code.Location` URL
    /// (`/_ponte/lambda/code/<hex>.zip`), for the server to serve.
    pub fn code_zip(&self, hex: &str) -> Option<Vec<u8>> {
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.inner
            .deps
            .store
            .get(engine::CODE, hex.as_bytes())
            .ok()
            .flatten()
    }

    /// One operation with its input decoded by the restJson1 codec (awsJson-shaped, blobs as
    /// base64); the awsJson-shaped output (encoded by the caller) or AWS's error (with modeled
    /// `fields` such as `Reason`).
    pub async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        self.dispatch(ctx, operation, input)
            .await
            .map_err(|e| e.wire())
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> Result<Value> {
        match op {
            "CreateFunction" => self.create_function(ctx, input).await,
            "GetFunction" => self.get_function(ctx, &input),
            "GetFunctionConfiguration" => self.get_function_configuration(ctx, &input),
            "ListFunctions" => self.list_functions(ctx, &input),
            "UpdateFunctionCode" => self.update_function_code(ctx, input).await,
            "UpdateFunctionConfiguration" => self.update_function_configuration(ctx, input).await,
            "DeleteFunction" => self.delete_function(ctx, &input).await,
            "PublishVersion" => self.publish_version(ctx, &input).await,
            "ListVersionsByFunction" => self.list_versions(ctx, &input),
            "CreateAlias" => self.create_alias(ctx, &input).await,
            "GetAlias" => self.get_alias(ctx, &input),
            "UpdateAlias" => self.update_alias(ctx, &input).await,
            "DeleteAlias" => self.delete_alias(ctx, &input).await,
            "ListAliases" => self.list_aliases(ctx, &input),
            "PutFunctionConcurrency" => self.put_concurrency(ctx, &input).await,
            "GetFunctionConcurrency" => self.get_concurrency(ctx, &input),
            "DeleteFunctionConcurrency" => self.delete_concurrency(ctx, &input).await,
            "PutFunctionEventInvokeConfig" => {
                self.put_event_invoke_config(ctx, &input, false).await
            }
            "UpdateFunctionEventInvokeConfig" => {
                self.put_event_invoke_config(ctx, &input, true).await
            }
            "GetFunctionEventInvokeConfig" => self.get_event_invoke_config(ctx, &input),
            "DeleteFunctionEventInvokeConfig" => self.delete_event_invoke_config(ctx, &input).await,
            "ListFunctionEventInvokeConfigs" => self.list_event_invoke_configs(ctx, &input),
            "PutFunctionRecursionConfig" => self.put_recursion(ctx, &input).await,
            "GetFunctionRecursionConfig" => self.get_recursion(ctx, &input),
            "AddPermission" => self.add_permission(ctx, &input).await,
            "RemovePermission" => self.remove_permission(ctx, &input).await,
            "GetPolicy" => self.get_policy(ctx, &input),
            "TagResource" => self.tag_resource(ctx, &input).await,
            "UntagResource" => self.untag_resource(ctx, &input).await,
            "ListTags" => self.list_tags(ctx, &input),
            "GetAccountSettings" => Ok(self.get_account_settings(ctx)),
            "Invoke" => self.invoke(ctx, &input).await,
            "InvokeAsync" => self.invoke_async_legacy(ctx, &input).await,
            "CreateEventSourceMapping" => self.create_esm(ctx, &input).await,
            "GetEventSourceMapping" => self.get_esm(ctx, &input),
            "ListEventSourceMappings" => self.list_esms(ctx, &input),
            "UpdateEventSourceMapping" => self.update_esm(ctx, &input).await,
            "DeleteEventSourceMapping" => self.delete_esm(ctx, &input).await,
            other => Err(Error::NotImplemented(other.to_owned())),
        }
    }
}

/// A [`ponte_runtime::LogSink`] writing function output into CloudWatch Logs, for
/// `Runtime::start`.
pub fn log_sink(logs: Logs) -> Arc<dyn ponte_runtime::LogSink> {
    Arc::new(LogsSink(logs))
}

struct LogsSink(Logs);

impl ponte_runtime::LogSink for LogsSink {
    fn append(
        &self,
        account: &str,
        region: &str,
        group: &str,
        stream: &str,
        events: Vec<(u64, String)>,
    ) {
        self.0.append(account, region, group, stream, events);
    }
}
