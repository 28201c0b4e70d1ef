//! AWS Lambda (2015-03-31, restJson1): the control plane (functions, versions, aliases,
//! concurrency, event invoke configs, permissions, tags, event source mappings) and invocation,
//! synchronous through [`ponte_runtime`] and asynchronous through the delivery mechanism.

use ponte_delivery::Outbox;
use ponte_logs::Logs;
use ponte_protocol::error::AwsError;
use ponte_runtime::Runtime;
use ponte_sqs::Sqs;
use ponte_store::SharedStore;
use ponte_types::{RequestContext, SharedClock};
use serde_json::Value;

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
    #[allow(dead_code)]
    deps: Deps,
}

impl std::fmt::Debug for Lambda {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lambda").finish_non_exhaustive()
    }
}

impl Lambda {
    /// Loads functions, versions, aliases and mappings from the store.
    pub fn open(deps: Deps) -> Result<Self, String> {
        Ok(Lambda { deps })
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
        let _ = (ctx, operation, input);
        unimplemented!("lambda: call")
    }
}
