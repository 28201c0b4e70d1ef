//! Ponte's shared vocabulary: the [`clock::Clock`] every timer goes through, the request
//! [`context::RequestContext`] (account, region, request id, trace header), ARNs and id helpers.
//!
//! This crate has no knowledge of HTTP, wire formats or storage; every other crate may use it.

pub mod arn;
pub mod clock;
pub mod context;
pub mod ids;
pub mod time;
pub mod trace;

pub use arn::Arn;
pub use clock::{Clock, ManualClock, Millis, SharedClock, SystemClock};
pub use context::RequestContext;
pub use trace::TraceHeader;

/// The account id used when a request's access key does not select another one.
pub const DEFAULT_ACCOUNT: &str = "000000000000";
/// The region used when a request carries no SigV4 credential scope.
pub const DEFAULT_REGION: &str = "us-east-1";
