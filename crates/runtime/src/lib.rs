//! Function execution (brief §5): each function version gets a warm pool of real processes that
//! speak the Lambda Runtime API to Ponte. No containers: `provided.*` runtimes run the package's
//! `bootstrap`; `python3.*` and `nodejs*` run Ponte's own stdlib-only bootstraps on the host's
//! `python3` / `node`.
//!
//! Modules: `api` (the Runtime API one instance talks to), `instance` (process, environment,
//! output capture), `pool` (warm pools, invocation, timeouts, reaping), `bootstrap` (the
//! bundled runtimes), `logfmt` (Lambda's own log lines and error payloads).
//!
//! Each instance gets its own loopback listener (`AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>`), so
//! requests are attributed by port without trusting the process (a path prefix per instance
//! would break AWS's own runtime clients, which take the variable as `host:port`).
//!
//! An invocation takes an idle instance of the version (warm) or starts one (cold start, timed
//! as Init Duration). The function's own timeout is real time (never scaled): when it passes the
//! instance is killed and the caller gets Lambda's timeout error. Idle instances are reaped after
//! [`Options::idle_timeout`]. Everything the process writes to stdout/stderr goes to the
//! [`LogSink`] with Lambda's `START` / `END` / `REPORT` lines around each invocation.
//!
//! Known divergences from Lambda: no isolation (functions run as the server's user on the
//! host, with the host's interpreters; `python3.x` prefers a host `python3.x` and falls back to
//! `python3`); memory size is reported, not enforced; `/tmp` is a per-instance directory
//! (`TMPDIR`) without a size cap; no extensions API, no `INIT_START` line, no SnapStart.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ponte_types::SharedClock;
use tokio::sync::watch;

mod api;
mod bootstrap;
mod instance;
mod logfmt;
mod pool;

/// Errors that prevent an invocation from running at all (not function errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The runtime is not supported (Lambda answers `InvalidParameterValueException` at create).
    #[error("unsupported runtime {0}")]
    UnsupportedRuntime(String),
    /// The host lacks the interpreter (`python3`, `node`) or the package lacks `bootstrap`.
    #[error("cannot start the function: {0}")]
    Spawn(String),
    /// The work directory (bundled bootstraps, scratch dirs) could not be prepared.
    #[error("runtime API: {0}")]
    Io(#[from] std::io::Error),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One published function version (or `$LATEST`) as it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// Qualified ARN of the version (`arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST`).
    pub arn: String,
    /// Function name.
    pub name: String,
    /// `$LATEST` or `1`, `2`, …
    pub version: String,
    /// `python3.12`, `nodejs20.x`, `provided.al2023`, …
    pub runtime: String,
    /// `app.handler` (python), `index.handler` (node); informational for `provided`.
    pub handler: String,
    /// The unpacked code (what `/var/task` is on Lambda). Read-only to the runtime.
    pub code_dir: PathBuf,
    /// Memory size, MB (reported; `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`).
    pub memory_mb: u32,
    /// Timeout (real time, never scaled).
    pub timeout: Duration,
    /// The function's environment variables (applied over the Lambda-set ones).
    pub environment: BTreeMap<String, String>,
    /// Account id.
    pub account: String,
    /// Region.
    pub region: String,
    /// Log group (`/aws/lambda/<name>`).
    pub log_group: String,
    /// An identity that changes whenever the code or configuration changes; instances of an old
    /// revision are never reused.
    pub revision: String,
}

/// One invocation.
#[derive(Debug, Clone, Default)]
pub struct InvokeRequest {
    /// The event (JSON text, but passed as bytes unchanged).
    pub payload: Vec<u8>,
    /// Request id (`Lambda-Runtime-Aws-Request-Id`).
    pub request_id: String,
    /// `Lambda-Runtime-Trace-Id` and `_X_AMZN_TRACE_ID`.
    pub trace_header: String,
    /// `Lambda-Runtime-Client-Context` (JSON text, decoded from the base64 header).
    pub client_context: Option<String>,
    /// `Lambda-Runtime-Cognito-Identity`.
    pub cognito_identity: Option<String>,
    /// Keep the log tail (`X-Amz-Log-Type: Tail`).
    pub want_log_tail: bool,
    /// `Lambda-Runtime-Invoked-Function-Arn`: the ARN the caller used (unqualified, version or
    /// alias); `None` = the version's ARN.
    pub invoked_function_arn: Option<String>,
}

/// How an invocation ended when the function did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionError {
    /// The runtime reported an error (`/error`): `X-Amz-Function-Error: Unhandled`.
    Unhandled,
    /// A handled error (`X-Amz-Function-Error: Handled`; legacy, kept for completeness).
    Handled,
}

/// The result of one invocation that ran (successfully or not).
#[derive(Debug, Clone)]
pub struct InvokeResult {
    /// Response body: the function's result, or the error JSON
    /// (`{"errorMessage","errorType","stackTrace"?}`).
    pub payload: Vec<u8>,
    /// Set when the function failed (error reported, crash, timeout).
    pub function_error: Option<FunctionError>,
    /// The last 4 KB of this invocation's log (when asked for).
    pub log_tail: Option<String>,
    /// Run time of the handler, ms.
    pub duration_ms: f64,
    /// Billed duration, ms (duration + init, rounded up to 1 ms).
    pub billed_ms: u64,
    /// Init duration if this was a cold start.
    pub init_ms: Option<f64>,
    /// Peak resident memory of the instance, MB.
    pub max_memory_mb: u32,
    /// True when the instance was killed for exceeding the timeout.
    pub timed_out: bool,
}

/// Where function logs go: one call per batch of lines of one stream.
pub trait LogSink: Send + Sync + 'static {
    /// Appends `events` (epoch ms, message) to `group`/`stream` of `account`/`region`,
    /// creating both as needed. Must not block for long (no fsync wait).
    fn append(
        &self,
        account: &str,
        region: &str,
        group: &str,
        stream: &str,
        events: Vec<(u64, String)>,
    );
}

/// Runtime options.
#[derive(Debug, Clone)]
pub struct Options {
    /// The URL functions' SDKs are pointed at (`AWS_ENDPOINT_URL`), e.g. `http://127.0.0.1:4566`.
    pub endpoint_url: String,
    /// Idle instances are stopped after this (real time).
    pub idle_timeout: Duration,
    /// Where unpacked code and instance scratch directories live.
    pub work_dir: PathBuf,
}

/// Pool counters for one version.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PoolStats {
    /// Instances alive (busy or idle).
    pub instances: u32,
    /// Instances busy now.
    pub busy: u32,
    /// Cold starts since start.
    pub cold_starts: u64,
    /// Total init time of those, ms.
    pub init_ms_total: f64,
}

/// The execution engine. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<pool::Inner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

/// Runtimes Ponte can run.
pub const SUPPORTED_RUNTIMES: &[&str] = &[
    "provided.al2023",
    "provided.al2",
    "provided",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
];

impl Runtime {
    /// Writes the bundled bootstraps under `options.work_dir` and starts watching `shutdown`:
    /// when it turns true every instance is killed and later invokes fail with
    /// [`Error::Spawn`]. Each instance serves the Runtime API on its own 127.0.0.1 listener
    /// (see the `api` module for why not one listener with path prefixes).
    pub async fn start(
        clock: SharedClock,
        options: Options,
        logs: Arc<dyn LogSink>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<Self> {
        let work_dir = options.work_dir.clone();
        let installed = tokio::task::spawn_blocking(move || {
            // Scratch dirs of a previous run that was killed before it could remove them.
            let _ = std::fs::remove_dir_all(work_dir.join("instances"));
            bootstrap::install(&work_dir)
        })
        .await
        .map_err(|e| Error::Spawn(format!("installing bootstraps: {e}")))??;
        let inner = pool::Inner::new(clock, options, logs, installed);
        let weak = Arc::downgrade(&inner);
        tokio::spawn(async move {
            // A dropped sender is not a shutdown: only an explicit `true` stops the runtime.
            if shutdown.wait_for(|stop| *stop).await.is_ok()
                && let Some(inner) = weak.upgrade()
            {
                inner.close();
            }
        });
        Ok(Runtime { inner })
    }

    /// Runs one invocation of `spec`: on an idle instance of the same revision (warm) or a new
    /// one (cold start, timed as Init Duration). Concurrency limits are the caller's business:
    /// this starts as many instances as there are concurrent calls.
    ///
    /// Function failures (an error, a crash, a timeout, an init failure, a missing `bootstrap`)
    /// are `Ok` with [`InvokeResult::function_error`] set and Lambda's error payload, as Invoke
    /// answers 200 for them. `Err` means Ponte could not run the function at all (unsupported
    /// runtime, no interpreter on the host, shutting down). Dropping the returned future before
    /// it completes kills the instance (its state mid-handler is unknown).
    pub async fn invoke(
        &self,
        spec: &FunctionSpec,
        request: InvokeRequest,
    ) -> Result<InvokeResult> {
        self.inner.invoke(spec, request).await
    }

    /// Stops every instance whose qualified ARN starts with `arn_prefix` (on update or
    /// delete): idle ones at once, busy ones when their invocation ends (as Lambda lets
    /// in-flight invocations finish). Pass `<function arn>:` for all versions of a function.
    pub fn retire(&self, arn_prefix: &str) {
        self.inner.retire(arn_prefix);
    }

    /// Pool counters of the version `arn` (zeros for an unknown ARN).
    pub fn stats(&self, arn: &str) -> PoolStats {
        self.inner.stats(arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Lambda engine spawns invocations onto tasks: the future must be `Send`.
    #[test]
    fn invoke_future_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        #[allow(dead_code)]
        async fn check(rt: Runtime, spec: FunctionSpec) {
            let fut = rt.invoke(&spec, InvokeRequest::default());
            assert_send(&fut);
            let _ = fut.await;
        }
    }
}
