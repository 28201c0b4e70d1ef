//! CloudWatch Logs (`Logs_20140328`, awsJson 1.1): log groups, streams, events, retention,
//! tags, filter patterns. Functions' output lands here (`/aws/lambda/<name>`) through
//! [`Logs::append`].
//!
//! Layout (the same in every service crate): [`ops`] maps operations onto the engine with AWS's
//! validation; [`engine`] owns the state; [`model`] is pure logic (filter patterns, batch rules,
//! paging, validation messages); [`store`] is the key layout; [`error`] maps every failure onto
//! the wire.
//!
//! # Known divergences from AWS
//! - Events are searchable as soon as PutLogEvents answers (AWS: eventually consistent).
//! - `storedBytes` of a group is the sum of its messages' UTF-8 bytes (AWS: compressed bytes,
//!   updated eventually); streams report 0 as AWS has since 2019.
//! - Retention is an AWS wait: with `--time-scale N` a group keeps events for
//!   `retentionInDays / N`. The 14-day and 2-hour PutLogEvents windows are not scaled.
//! - No metric filters, subscription filters, destinations, Insights queries, export tasks,
//!   KMS encryption (the key id is only recorded), data protection or Live Tail.
//! - FilterLogEvents pages are cut by count and 1 MB only, never by a scan budget, so a page is
//!   never empty while more matches remain; `searchedCompletely` is always true.
//! - Filter pattern regular expressions (`%...%`) support the documented restricted syntax with
//!   a small backtracking matcher.

pub mod engine;
pub mod error;
pub mod model;
pub mod ops;
pub mod store;

pub use engine::Logs;
pub use error::{Error, Result};

use ponte_protocol::error::AwsError;
use ponte_types::RequestContext;
use serde_json::Value;

/// The awsJson target prefix (`X-Amz-Target: Logs_20140328.PutLogEvents`).
pub const TARGET_PREFIX: &str = "Logs_20140328";

impl Logs {
    /// One operation (`PutLogEvents`, …) with its awsJson input; the awsJson output or AWS's
    /// error.
    pub async fn call(
        &self,
        ctx: &RequestContext,
        operation: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        ops::call(self, ctx, operation, &input)
            .await
            .map_err(|e| e.to_aws())
    }
}
