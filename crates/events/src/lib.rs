//! Amazon EventBridge (events 2015-10-07, awsJson 1.1): buses, rules, targets, archives,
//! replays, schedules, delivering through the delivery mechanism.
//!
//! Layout (the same in every service crate): [`ops`] maps operations onto the engine with AWS's
//! validation; [`engine`] owns the state; [`model`] is pure logic (envelope, size accounting,
//! transformers, schedules, policies); [`jobs`] turns a matched target into a delivery;
//! [`tasks`] runs the scheduler, replays and retention and is the `events` delivery target;
//! [`store`] is the key layout; [`error`] maps every failure onto the wire.
//!
//! # Using it
//! `Events::open(store, clock, outbox)` loads the state, registers the `events` delivery target
//! (event bus ARNs) with the outbox and, inside a tokio runtime, starts the scheduler, the
//! retention sweeper and unfinished replays; `start_background(shutdown)` hands them the
//! server's shutdown signal; `call(ctx, "PutEvents", input)` serves one operation.
//!
//! # Known divergences from AWS
//! - Bus policies are stored and returned; they are enforced only for events sent to another
//!   account's bus (PutEvents with a bus ARN, or a bus target), where an `Allow` statement must
//!   name the sending account (conditions are not evaluated, `Deny` is ignored).
//! - TestEventPattern accepts any JSON object as the event (AWS requires the envelope fields).
//! - API destinations, connections, endpoints and partner event sources are not implemented
//!   (501). KMS keys, `LogConfig` and the bus `DeadLetterConfig` are recorded only.
//! - Rule patterns are matched one by one (fine for AWS's 300 rules per bus).
//! - Replays run as fast as the outbox accepts them (AWS replays in one-minute slices); a
//!   replay cut short by a restart runs again from its window's start.
//! - Input transformer: a variable whose path matches nothing is the empty string.
//! - Missed schedule firings while the server was down are not made up (one firing on start).
//! - Bus-to-bus forwarding stops after 16 hops ([`engine::MAX_BUS_HOPS`]), so rules that send
//!   events around in a loop cannot circulate them forever.
//! - Metering is in-memory counters ([`Events::meter`]: events, 64 KB chunks, matches,
//!   deliveries by target service, archive, replay, schedule and forward counts) until a
//!   workspace meter exists.

pub mod engine;
pub mod error;
pub mod jobs;
pub mod model;
pub mod ops;
pub mod store;
pub mod tasks;

pub use engine::{Events, MeterSnapshot};
pub use error::{Error, Result};

/// The awsJson target prefix (`X-Amz-Target: AWSEvents.PutEvents`).
pub const TARGET_PREFIX: &str = "AWSEvents";
