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
//! Any retry that would start after the delivery is [`Policy::max_age`] old gives up instead
//! (`EventAgeExceeded`), and so does a delivery whose turn comes too late (a backlog, or a
//! server that was stopped), without another attempt.
//!
//! All waits go through the clock ([`ponte_types::Clock`]), so `--time-scale` shortens AWS's
//! minute-long backoffs; the maximum age is scaled the same way.
//!
//! # On-disk format
//! One table, `delivery_job`. Key: the delivery's sequence number, a `u64` big-endian, taken
//! from a counter that starts above the largest stored key, so key order is staging order and
//! survives restarts. Value: JSON `{"seq", "next_at", "expires_at", "job": Job}` with epoch-ms
//! deadlines (`expires_at` = `created_at` + the scaled `max_age`; stored absolute, so a restart
//! with another time scale keeps running deadlines). A row exists from the commit that staged
//! it until the commit that ends it (delivered or given up), which also stages its follow-ups;
//! every retry rewrites it with the new counters and `next_at`. A crash during an attempt
//! leaves the row as it was, so the attempt is made again after the restart (at-least-once).
//!
//! # Known divergences from AWS
//! - No jitter: delays are exactly those of the [`Backoff`], so tests and time-scaled runs are
//!   deterministic.
//! - Lambda's record reports a [`FailureKind::Permanent`] failure as `RetriesExhausted` (or
//!   `ZeroReservedConcurrency` when the target says so); AWS documents no other condition.
//! - `approximateInvokeCount` counts every attempt made, throttled ones included.
//! - EventBridge `ERROR_CODE`s are mapped from the target's error code by
//!   [`format::eventbridge_error_code`], a best effort over AWS's documented list.

mod engine;
pub mod format;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ponte_store::{SharedStore, WriteBatch};
use ponte_types::{Millis, SharedClock};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

pub use engine::{MAX_CONCURRENT_ATTEMPTS, TABLE};
pub use format::{
    Condition, eventbridge_dead_letter, follow_up_job, invocation_record, lambda_dead_letter,
};

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
    /// The AWS-time delay before retry `n` (1-based; 0 is read as 1); the caller scales it
    /// through the clock. Never panics, whatever the parameters: non-finite or overflowing
    /// growth is capped at the maximum.
    pub fn delay(&self, n: u32) -> Duration {
        let n = n.max(1);
        let ms = match self {
            Backoff::Fixed(list) => {
                let i = (n as usize - 1).min(list.len().saturating_sub(1));
                list.get(i).copied().unwrap_or(0)
            }
            Backoff::Exponential {
                initial_ms,
                max_ms,
                factor,
            } => grow(*initial_ms as f64, *factor, n - 1, *max_ms),
            Backoff::Phases {
                immediate,
                pre,
                backoff,
                min_ms,
                max_ms,
            } => {
                let max_ms = (*max_ms).max(*min_ms);
                if n <= *immediate {
                    0
                } else if n - immediate <= *pre {
                    *min_ms
                } else if n - immediate - pre <= *backoff {
                    // Retry i of the backoff phase (1-based): from min (i = 1) growing
                    // exponentially to max (i = backoff).
                    let i = n - immediate - pre;
                    if *backoff <= 1 {
                        max_ms
                    } else if *min_ms == 0 {
                        let t = f64::from(i - 1) / f64::from(backoff - 1);
                        cap(max_ms as f64 * t, max_ms)
                    } else {
                        let t = f64::from(i - 1) / f64::from(backoff - 1);
                        let ratio = max_ms as f64 / *min_ms as f64;
                        cap(*min_ms as f64 * ratio.powf(t), max_ms)
                    }
                } else {
                    max_ms
                }
            }
        };
        Duration::from_millis(ms)
    }
}

/// `initial * factor^k`, capped at `max`.
fn grow(initial: f64, factor: f64, k: u32, max: u64) -> u64 {
    let exp = i32::try_from(k).unwrap_or(i32::MAX);
    cap(initial * factor.powi(exp), max)
}

/// Rounds `v` to whole milliseconds within `0..=max`; NaN and infinities become `max`.
fn cap(v: f64, max: u64) -> u64 {
    if v.is_finite() && v >= 0.0 {
        if v >= max as f64 {
            max
        } else {
            v.round() as u64
        }
    } else if v.is_finite() {
        0
    } else {
        max
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
/// Dropping it unreleased (its batch failed) is fine: the delivery is never attempted by this
/// process, and a delivery with an [`NewJob::ordering_key`] stops holding up later ones.
#[must_use = "release the staged delivery after its batch commits"]
pub struct Staged {
    inner: engine::StagedInner,
}

impl Staged {
    /// The delivery's id.
    pub fn id(&self) -> &str {
        self.inner.row.as_ref().map_or("", |r| r.job.id.as_str())
    }

    /// The delivery as its target will see it on the first attempt.
    pub fn job(&self) -> Option<&Job> {
        self.inner.row.as_ref().map(|r| &r.job)
    }
}

impl std::fmt::Debug for Staged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staged").field("id", &self.id()).finish()
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
    inner: Arc<engine::Inner>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// Loads pending deliveries from `store`. Nothing is attempted before [`Outbox::start`].
    /// A row that cannot be decoded fails the open ([`Error::Corrupt`]) rather than being
    /// dropped silently.
    pub fn open(store: SharedStore, clock: SharedClock) -> Result<Self> {
        Ok(Outbox {
            inner: engine::Inner::open(store, clock)?,
        })
    }

    /// Registers the target for ARN service `service` (`"sqs"`, `"lambda"`, …). Targets are
    /// looked up at each attempt, so one registered after [`Outbox::open`] still serves
    /// deliveries loaded from the store; register every target before [`Outbox::start`], since
    /// a delivery whose service has none fails permanently.
    pub fn register(&self, service: &'static str, target: Arc<dyn Target>) {
        self.inner.register(service, target);
    }

    /// Writes `job` into `batch`. It is attempted only after [`Outbox::release`] (or, after a
    /// crash, on the next [`Outbox::open`] if the batch committed).
    pub fn stage(&self, batch: &mut WriteBatch, job: NewJob) -> Staged {
        Staged {
            inner: self.inner.stage(batch, job),
        }
    }

    /// Schedules staged deliveries whose batch committed successfully.
    pub fn release(&self, staged: impl IntoIterator<Item = Staged>) {
        let staged: Vec<engine::StagedInner> = staged.into_iter().map(|s| s.inner).collect();
        self.inner.release(staged);
    }

    /// Stages `jobs` in a batch of their own, commits it and releases them; returns their ids.
    pub async fn submit(&self, jobs: Vec<NewJob>) -> Result<Vec<String>> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let mut batch = WriteBatch::new();
        let staged: Vec<Staged> = jobs
            .into_iter()
            .map(|job| self.stage(&mut batch, job))
            .collect();
        let ids = staged.iter().map(|s| s.id().to_owned()).collect();
        self.inner.store.commit(batch).await?;
        self.release(staged);
        Ok(ids)
    }

    /// Starts the workers; they stop when `shutdown` turns true. Attempts already running
    /// finish on their own; a delivery not yet ended stays in the store for the next start.
    /// Must be called from within a tokio runtime; a second call does nothing.
    pub fn start(&self, shutdown: watch::Receiver<bool>) {
        self.inner.start(shutdown);
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.inner.stats()
    }

    /// Every released delivery not yet ended (scheduled or running), in staging order, with
    /// its counters.
    pub fn pending(&self) -> Vec<Job> {
        self.inner.pending()
    }

    /// When delivery `id` is next attempted (epoch ms); `None` when it is not pending.
    pub fn next_attempt_at(&self, id: &str) -> Option<Millis> {
        self.inner.next_attempt_at(id)
    }

    /// Resolves once no attempt is running and none is due at the clock's current time, or at
    /// once when the workers are not running. Tests call it after moving a manual clock.
    pub async fn settled(&self) {
        self.inner.settled().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn fixed_repeats_the_last() {
        let b = Backoff::Fixed(vec![60_000, 120_000]);
        assert_eq!(b.delay(1), secs(60));
        assert_eq!(b.delay(2), secs(120));
        assert_eq!(b.delay(7), secs(120));
        assert_eq!(b.delay(0), secs(60));
        assert_eq!(Backoff::Fixed(vec![]).delay(3), Duration::ZERO);
    }

    #[test]
    fn exponential_is_capped() {
        let b = Policy::lambda_async().throttle_backoff;
        let got: Vec<u64> = (1..=11).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(b.delay(u32::MAX), secs(300));
        for factor in [f64::NAN, f64::INFINITY, -3.0, 0.0] {
            let b = Backoff::Exponential {
                initial_ms: 1_000,
                max_ms: 5_000,
                factor,
            };
            for n in [1, 2, 3, 1_000, u32::MAX] {
                assert!(b.delay(n) <= secs(5), "{factor} {n}");
            }
        }
    }

    #[test]
    fn sns_phases() {
        // SNS to SQS/Lambda: 3 immediate, 2 at 1 s, 10 growing from 1 s to 20 s, then 20 s.
        let b = Backoff::Phases {
            immediate: 3,
            pre: 2,
            backoff: 10,
            min_ms: 1_000,
            max_ms: 20_000,
        };
        let d: Vec<u64> = (1..=17).map(|n| b.delay(n).as_millis() as u64).collect();
        assert_eq!(&d[..5], [0, 0, 0, 1_000, 1_000]);
        assert_eq!(d[5], 1_000, "the backoff phase starts at min");
        assert_eq!(d[14], 20_000, "and ends at max");
        assert!(d[5..15].windows(2).all(|w| w[0] < w[1]), "{d:?}");
        assert_eq!(&d[15..], [20_000, 20_000]);
        assert_eq!(b.delay(100_015), secs(20));
        // Degenerate phases never panic.
        let b = Backoff::Phases {
            immediate: 0,
            pre: 0,
            backoff: 1,
            min_ms: 0,
            max_ms: 0,
        };
        assert_eq!(b.delay(1), Duration::ZERO);
        let b = Backoff::Phases {
            immediate: u32::MAX,
            pre: u32::MAX,
            backoff: u32::MAX,
            min_ms: 5,
            max_ms: 1,
        };
        assert_eq!(b.delay(u32::MAX), Duration::ZERO);
    }

    #[test]
    fn job_rows_round_trip() {
        let p = Policy {
            on_failure: vec![FollowUp {
                target: "arn:aws:sqs:us-east-1:000000000000:dlq".into(),
                format: FollowUpFormat::EventBridgeDeadLetter {
                    rule_arn: "arn:aws:events:us-east-1:000000000000:rule/r".into(),
                },
            }],
            ..Policy::follow_up_default()
        };
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Policy>(&text).unwrap(), p);
    }
}
