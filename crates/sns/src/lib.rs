//! Amazon SNS (2010-03-31, awsQuery): topics, subscriptions, filter policies, publishing through
//! the delivery mechanism.

use ponte_delivery::Outbox;
use ponte_protocol::error::AwsError;
use ponte_store::SharedStore;
use ponte_types::{RequestContext, SharedClock};
use serde_json::Value;

/// The SNS engine. Cheap to clone.
#[derive(Clone)]
pub struct Sns {
    #[allow(dead_code)]
    store: SharedStore,
    #[allow(dead_code)]
    clock: SharedClock,
    #[allow(dead_code)]
    outbox: Outbox,
}

impl std::fmt::Debug for Sns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sns").finish_non_exhaustive()
    }
}

impl Sns {
    /// Loads every topic and subscription from `store`.
    pub fn open(store: SharedStore, clock: SharedClock, outbox: Outbox) -> Result<Self, String> {
        Ok(Sns {
            store,
            clock,
            outbox,
        })
    }

    /// One operation with its input decoded by the query codec (awsJson-shaped); the
    /// awsJson-shaped output (encoded to XML by the caller) or AWS's error.
    pub async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let _ = (ctx, operation, input);
        unimplemented!("sns: call")
    }
}
