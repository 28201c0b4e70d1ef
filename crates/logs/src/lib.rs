//! CloudWatch Logs (`Logs_20140328`, awsJson 1.1): log groups, streams, events. Functions'
//! output lands here (`/aws/lambda/<name>`) through [`Logs::append`].

use ponte_protocol::error::AwsError;
use ponte_store::SharedStore;
use ponte_types::{RequestContext, SharedClock};
use serde_json::Value;

/// The CloudWatch Logs engine. Cheap to clone.
#[derive(Clone)]
pub struct Logs {
    #[allow(dead_code)]
    store: SharedStore,
    #[allow(dead_code)]
    clock: SharedClock,
}

impl std::fmt::Debug for Logs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logs").finish_non_exhaustive()
    }
}

/// The awsJson target prefix (`X-Amz-Target: Logs_20140328.PutLogEvents`).
pub const TARGET_PREFIX: &str = "Logs_20140328";

impl Logs {
    /// Loads every log group, stream and event from `store`.
    pub fn open(store: SharedStore, clock: SharedClock) -> Result<Self, String> {
        Ok(Logs { store, clock })
    }

    /// Appends events (epoch ms, message) to `group`/`stream`, creating both when missing.
    /// Returns without waiting for durability (function output is not an acknowledged write).
    pub fn append(
        &self,
        account: &str,
        region: &str,
        group: &str,
        stream: &str,
        events: Vec<(u64, String)>,
    ) {
        let _ = (account, region, group, stream, events);
        unimplemented!("logs: append")
    }

    /// One operation (`PutLogEvents`, …) with its awsJson input; the awsJson output or AWS's
    /// error.
    pub async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let _ = (ctx, operation, input);
        unimplemented!("logs: call")
    }
}
