//! Function execution (brief §5): each function version gets a warm pool of real processes that
//! speak the Lambda Runtime API to Ponte. No containers: `provided.*` runtimes run the package's
//! `bootstrap`; `python3.*` and `nodejs*` run Ponte's own stdlib-only bootstraps on the host's
//! `python3` / `node`.
//!
//! The Runtime API (`/2018-06-01/runtime/invocation/next`, `…/{id}/response`, `…/{id}/error`,
//! `/2018-06-01/runtime/init/error`) is served on a loopback listener owned by [`Runtime`]; each
//! instance gets its own path prefix in `AWS_LAMBDA_RUNTIME_API` (`127.0.0.1:<port>/<instance>`)
//! so requests are attributed without trusting the process.
//!
//! An invocation takes an idle instance of the version (warm) or starts one (cold start, timed
//! as Init Duration). The function's own timeout is real time (never scaled): when it passes the
//! instance is killed and the caller gets Lambda's timeout error. Idle instances are reaped after
//! [`Options::idle_timeout`]. Everything the process writes to stdout/stderr goes to the
//! [`LogSink`] with Lambda's `START` / `END` / `REPORT` lines around each invocation.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ponte_types::SharedClock;
use tokio::sync::watch;

/// Errors that prevent an invocation from running at all (not function errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The runtime is not supported (Lambda answers `InvalidParameterValueException` at create).
    #[error("unsupported runtime {0}")]
    UnsupportedRuntime(String),
    /// The host lacks the interpreter (`python3`, `node`) or the package lacks `bootstrap`.
    #[error("cannot start the function: {0}")]
    Spawn(String),
    /// The Runtime API listener failed.
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
    #[allow(dead_code)]
    inner: Arc<()>,
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
    /// Binds the Runtime API listener on 127.0.0.1 and starts the reaper; both stop when
    /// `shutdown` turns true (all instances are killed then).
    pub async fn start(
        clock: SharedClock,
        options: Options,
        logs: Arc<dyn LogSink>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Self> {
        let _ = (clock, options, logs, shutdown);
        unimplemented!("runtime: start")
    }

    /// Runs one invocation of `spec`. Concurrency limits are the caller's business: this
    /// starts as many instances as there are concurrent calls.
    pub async fn invoke(
        &self,
        spec: &FunctionSpec,
        request: InvokeRequest,
    ) -> Result<InvokeResult> {
        let _ = (spec, request);
        unimplemented!("runtime: invoke")
    }

    /// Stops every instance of the function `name`'s versions in `account`/`region` whose
    /// qualified ARN starts with `arn_prefix` (on update or delete).
    pub fn retire(&self, arn_prefix: &str) {
        let _ = arn_prefix;
        unimplemented!("runtime: retire")
    }

    /// Pool counters of the version `arn`.
    pub fn stats(&self, arn: &str) -> PoolStats {
        let _ = arn;
        unimplemented!("runtime: stats")
    }
}
