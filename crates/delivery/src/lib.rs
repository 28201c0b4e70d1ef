//! The one delivery mechanism (brief §4): deliver a [`Message`] to a target ARN under a
//! [`Policy`] (retries, backoff, maximum age, dead-letter queue, success and failure
//! destinations), carrying trace context.
//!
//! A delivery is *staged* into the caller's own [`WriteBatch`] ([`Outbox::stage`]), so it becomes
//! durable in the same commit as the state change that causes it (the outbox pattern); once that
//! commit resolves the caller [`Outbox::release`]s it and the outbox's workers attempt it. After a
//! crash, [`Outbox::open`] loads every delivery that is still pending and carries on, so nothing
//! acknowledged is lost; a delivery may be attempted more than once (at-least-once), as on AWS.
//!
//! Targets are pluggable by ARN service ([`Target`], [`Outbox::register`]): `sqs`, `lambda`,
//! `sns`, `events`, … Each attempt's [`Outcome`] decides what happens next:
//! - [`Outcome::Delivered`]: done; [`Policy::on_success`] follow-ups are staged.
//! - [`Failure`] with [`FailureKind::Error`] (the target ran and failed, such as a function
//!   error): retried after [`Policy::error_backoff`] up to [`Policy::max_retries`] times.
//! - [`FailureKind::Throttled`] / [`FailureKind::Unavailable`]: retried after
//!   [`Policy::throttle_backoff`] until the delivery is [`Policy::max_age`] old; these retries do
//!   not count against `max_retries`.
//! - [`FailureKind::Permanent`] (target gone, access denied, payload refused): no retry.
//!
//! When a delivery gives up, its [`Policy::on_failure`] follow-ups are staged (in the same commit
//! that removes it): each is a new delivery of a message derived from the original in a
//! [`FollowUpFormat`] (Lambda's invocation record, Lambda's DLQ message with `RequestID` /
//! `ErrorCode` / `ErrorMessage`, EventBridge's DLQ message, or a plain copy). Follow-ups are
//! themselves delivered under [`Policy::follow_up_default`].
//!
//! Deliveries with the same [`Job::ordering_key`] are attempted one at a time, in the order
//! they were staged (FIFO targets, SNS FIFO topics); others run concurrently.
//!
//! All waits go through the clock ([`ponte_types::Clock`]), so `--time-scale` shortens AWS's
//! minute-long backoffs.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ponte_store::{SharedStore, WriteBatch};
use ponte_types::{Millis, SharedClock};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

/// Errors of the outbox itself (not of targets).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] ponte_store::Error),
    /// A stored delivery could not be decoded.
    #[error("corrupt delivery {key}: {message}")]
    Corrupt {
        /// Row key.
        key: String,
        /// Why.
        message: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A message attribute (SQS/SNS style).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    /// `String`, `Number`, `Binary`, `String.Array`, with optional custom suffix.
    pub data_type: String,
    /// Text value (String, Number, String.Array).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    /// Base64 of the bytes (Binary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<String>,
}

impl Attribute {
    /// A `String` attribute.
    pub fn string(value: impl Into<String>) -> Self {
        Attribute {
            data_type: "String".into(),
            string_value: Some(value.into()),
            binary_value: None,
        }
    }

    /// A `Number` attribute.
    pub fn number(value: impl ToString) -> Self {
        Attribute {
            data_type: "Number".into(),
            string_value: Some(value.to_string()),
            binary_value: None,
        }
    }
}

/// What is delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The payload text: JSON for Lambda and EventBridge, any text for SQS and SNS.
    pub body: String,
    /// Message attributes (SQS message attributes, SNS message attributes).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, Attribute>,
    /// SNS subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// FIFO message group id (SQS/SNS FIFO targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// FIFO deduplication id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_id: Option<String>,
}

/// How long to wait before retry number `n` (1-based).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Backoff {
    /// Listed delays in milliseconds; the last repeats. Lambda async function errors:
    /// `[60_000, 120_000]`.
    Fixed(Vec<u64>),
    /// `initial * factor^(n-1)`, capped at `max` (milliseconds). Lambda throttles: 1 s → 5 min.
    Exponential {
        /// First delay.
        initial_ms: u64,
        /// Cap.
        max_ms: u64,
        /// Growth per retry.
        factor: f64,
    },
    /// SNS's delivery phases to AWS-managed endpoints: `immediate` retries with no delay, then
    /// `pre` retries at `min_ms`, then `backoff` retries growing from `min_ms` to `max_ms`, then
    /// retries at `max_ms` (SNS default for SQS/Lambda: 3, 2, 10, 100000 at 1 s → 20 s).
    Phases {
        /// Retries without delay.
        immediate: u32,
        /// Retries at `min_ms` before backoff.
        pre: u32,
        /// Retries in the backoff phase.
        backoff: u32,
        /// Smallest delay.
        min_ms: u64,
        /// Largest delay.
        max_ms: u64,
    },
}

impl Backoff {
    /// The AWS-time delay before retry `n` (1-based); the caller scales it through the clock.
    pub fn delay(&self, n: u32) -> Duration {
        let _ = n;
        unimplemented!("delivery: Backoff::delay")
    }
}

/// A derived message sent when a delivery succeeds or gives up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FollowUpFormat {
    /// Lambda's destination invocation record (`version`, `timestamp`, `requestContext`
    /// {`requestId`, `functionArn`, `condition`, `approximateInvokeCount`}, `requestPayload`,
    /// `responseContext` {`statusCode`, `executedVersion`, `functionError`?},
    /// `responsePayload`).
    LambdaRecord,
    /// Lambda's function DLQ: the original body with attributes `RequestID` (String),
    /// `ErrorCode` (Number, the last status code), `ErrorMessage` (String, first 1 KB).
    LambdaDeadLetter,
    /// EventBridge's target DLQ: the original event with attributes `RULE_ARN`, `TARGET_ARN`,
    /// `ERROR_CODE`, `ERROR_MESSAGE`, `EXHAUSTED_RETRY_CONDITION`, `RETRY_ATTEMPTS`.
    EventBridgeDeadLetter {
        /// The rule.
        rule_arn: String,
    },
    /// The original message unchanged (SNS subscription DLQ).
    Copy,
}

/// A follow-up: target ARN and format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    /// Target ARN (queue, topic, function, bus).
    pub target: String,
    /// What is sent.
    pub format: FollowUpFormat,
}

/// How a delivery is retried and where it goes when it succeeds or gives up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Retries after the first attempt for [`FailureKind::Error`] failures.
    pub max_retries: u32,
    /// Delays between those retries.
    pub error_backoff: Backoff,
    /// Delays for throttled/unavailable targets (these retries do not count).
    pub throttle_backoff: Backoff,
    /// Give up once the delivery is this old (AWS time).
    pub max_age: Duration,
    /// Sent when an attempt succeeds.
    #[serde(default)]
    pub on_success: Vec<FollowUp>,
    /// Sent when the delivery gives up.
    #[serde(default)]
    pub on_failure: Vec<FollowUp>,
}

impl Policy {
    /// Lambda asynchronous invocation defaults: 2 retries after 1 and 2 minutes, throttles
    /// retried from 1 s to 5 min for up to 6 h.
    pub fn lambda_async() -> Self {
        Policy {
            max_retries: 2,
            error_backoff: Backoff::Fixed(vec![60_000, 120_000]),
            throttle_backoff: Backoff::Exponential {
                initial_ms: 1_000,
                max_ms: 300_000,
                factor: 2.0,
            },
            max_age: Duration::from_secs(21_600),
            on_success: Vec::new(),
            on_failure: Vec::new(),
        }
    }

    /// The policy follow-ups (destination records, DLQ messages) are delivered under: a few
    /// quick retries, throttles retried for up to 6 h, no further follow-ups.
    pub fn follow_up_default() -> Self {
        Policy {
            max_retries: 3,
            error_backoff: Backoff::Exponential {
                initial_ms: 1_000,
                max_ms: 60_000,
                factor: 2.0,
            },
            throttle_backoff: Backoff::Exponential {
                initial_ms: 1_000,
                max_ms: 300_000,
                factor: 2.0,
            },
            max_age: Duration::from_secs(21_600),
            on_success: Vec::new(),
            on_failure: Vec::new(),
        }
    }
}

/// A delivery to stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    /// Target ARN. Its service part (`arn:aws:<service>:…`) picks the [`Target`]. A Lambda
    /// target may be qualified (`…:function:f:3`, `…:function:f:alias`).
    pub target: String,
    /// Payload.
    pub message: Message,
    /// Policy.
    pub policy: Policy,
    /// Trace header to carry (`X-Amzn-Trace-Id` format).
    #[serde(default)]
    pub trace_header: Option<String>,
    /// ARN of what caused it (function, rule, topic, subscription), for records and metering.
    #[serde(default)]
    pub source: Option<String>,
    /// Jobs with the same key are attempted one at a time in staging order.
    #[serde(default)]
    pub ordering_key: Option<String>,
    /// An id to use (Lambda returns the async request id before delivery); `None` = new UUID.
    #[serde(default)]
    pub id: Option<String>,
    /// Free-form data for the target (e.g. `{"subscriptionArn": …}`); stored and handed back.
    #[serde(default)]
    pub context: serde_json::Value,
}

/// A delivery as a target sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Id (unique).
    pub id: String,
    /// Target ARN.
    pub target: String,
    /// Payload.
    pub message: Message,
    /// Policy.
    pub policy: Policy,
    /// Trace header.
    pub trace_header: Option<String>,
    /// Cause.
    pub source: Option<String>,
    /// Ordering key.
    pub ordering_key: Option<String>,
    /// Free-form target data.
    pub context: serde_json::Value,
    /// Staged at (epoch ms).
    pub created_at: Millis,
    /// Attempts made before this one (0 on the first attempt).
    pub attempts: u32,
    /// Of those, attempts that failed with [`FailureKind::Error`].
    pub error_attempts: u32,
    /// The last failure, if any.
    pub last_failure: Option<Failure>,
}

/// Why an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureKind {
    /// The target ran and failed (function error, HTTP 5xx from a subscriber).
    Error,
    /// The target refused for now (throttled, 429).
    Throttled,
    /// The target could not be reached or had a system error.
    Unavailable,
    /// Retrying cannot help (target does not exist, payload refused, access denied).
    Permanent,
}

/// A failed attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Kind.
    pub kind: FailureKind,
    /// Status code to report (Lambda: 200 for function errors, 429, 500…).
    pub status_code: u16,
    /// Error code (`Unhandled`, `TooManyRequestsException`, `ResourceNotFoundException`).
    pub code: String,
    /// Message (Lambda's DLQ keeps the first 1 KB).
    pub message: String,
    /// The target's response body, if any (a function's error JSON).
    pub response: Option<String>,
    /// Lambda: the version that ran.
    pub executed_version: Option<String>,
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered.
    Delivered {
        /// Status code (Lambda: 200).
        status_code: u16,
        /// Response body (a function's result).
        response: Option<String>,
        /// Lambda: the version that ran.
        executed_version: Option<String>,
    },
    /// Failed.
    Failed(Failure),
}

/// A future returned by a target.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something deliveries can be made to, chosen by the ARN's service.
pub trait Target: Send + Sync + 'static {
    /// One attempt. Must not panic; a target that does not exist is
    /// [`FailureKind::Permanent`].
    fn deliver<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome>;
}

/// A staged delivery, to [`Outbox::release`] once the batch it was staged into has committed.
#[derive(Debug)]
#[must_use = "release the staged delivery after its batch commits"]
pub struct Staged {
    job: Job,
}

impl Staged {
    /// The delivery's id.
    pub fn id(&self) -> &str {
        &self.job.id
    }
}

/// Counters for tests, health output and the meter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Deliveries waiting (scheduled or running).
    pub pending: u64,
    /// Attempts made since start.
    pub attempts: u64,
    /// Deliveries that succeeded.
    pub delivered: u64,
    /// Deliveries that gave up.
    pub failed: u64,
}

/// The durable outbox and its workers. Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    #[allow(dead_code)]
    store: SharedStore,
    #[allow(dead_code)]
    clock: SharedClock,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

impl Outbox {
    /// Loads pending deliveries from `store`. Nothing is attempted before [`Outbox::start`].
    pub fn open(store: SharedStore, clock: SharedClock) -> Result<Self> {
        Ok(Outbox { store, clock })
    }

    /// Registers the target for ARN service `service` (`"sqs"`, `"lambda"`, …).
    pub fn register(&self, service: &'static str, target: Arc<dyn Target>) {
        let _ = (service, target);
        unimplemented!("delivery: register")
    }

    /// Writes `job` into `batch`. It is attempted only after [`Outbox::release`] (or, after a
    /// crash, on the next [`Outbox::open`] if the batch committed).
    pub fn stage(&self, batch: &mut WriteBatch, job: NewJob) -> Staged {
        let _ = (batch, job);
        unimplemented!("delivery: stage")
    }

    /// Schedules staged deliveries whose batch committed successfully.
    pub fn release(&self, staged: impl IntoIterator<Item = Staged>) {
        let _ = staged.into_iter().count();
        unimplemented!("delivery: release")
    }

    /// Stages `jobs` in a batch of their own, commits it and releases them; returns their ids.
    pub async fn submit(&self, jobs: Vec<NewJob>) -> Result<Vec<String>> {
        let _ = jobs;
        unimplemented!("delivery: submit")
    }

    /// Starts the workers; they stop when `shutdown` turns true.
    pub fn start(&self, shutdown: watch::Receiver<bool>) {
        let _ = shutdown;
        unimplemented!("delivery: start")
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        unimplemented!("delivery: stats")
    }
}
