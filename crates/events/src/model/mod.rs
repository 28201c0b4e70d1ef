//! Pure EventBridge logic: no store, no clock, no locks. Each module is unit-tested on its own.
//!
//! - [`names`]: names, ARNs and the model's name patterns.
//! - [`envelope`]: building the event envelope, PutEvents entry checks and size accounting,
//!   ISO-8601 times.
//! - [`transform`]: what a target receives (`Input`, `InputPath`, `InputTransformer`).
//! - [`schedule`]: `rate(...)` and `cron(...)` expressions.
//! - [`policy`]: event bus resource policies (PutPermission, cross-account checks).

pub mod envelope;
pub mod names;
pub mod policy;
pub mod schedule;
pub mod transform;
