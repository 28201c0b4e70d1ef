//! Amazon EventBridge (events 2015-10-07, awsJson 1.1): buses, rules, targets, archives,
//! replays, schedules, delivering through the delivery mechanism.

use ponte_delivery::Outbox;
use ponte_protocol::error::AwsError;
use ponte_store::SharedStore;
use ponte_types::{RequestContext, SharedClock};
use serde_json::Value;

/// The awsJson target prefix (`X-Amz-Target: AWSEvents.PutEvents`).
pub const TARGET_PREFIX: &str = "AWSEvents";

/// The EventBridge engine. Cheap to clone.
#[derive(Clone)]
pub struct Events {
    #[allow(dead_code)]
    store: SharedStore,
    #[allow(dead_code)]
    clock: SharedClock,
    #[allow(dead_code)]
    outbox: Outbox,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    /// Loads every bus, rule, target, archive and replay from `store`.
    pub fn open(store: SharedStore, clock: SharedClock, outbox: Outbox) -> Result<Self, String> {
        Ok(Events {
            store,
            clock,
            outbox,
        })
    }

    /// One operation with its awsJson input; the awsJson output or AWS's error.
    pub async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let _ = (ctx, operation, input);
        unimplemented!("events: call")
    }
}
