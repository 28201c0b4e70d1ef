//! Amazon SNS (2010-03-31, awsQuery) for Ponte: standard and FIFO topics, subscriptions for
//! SQS, Lambda, HTTP/S and email (recorded), filter policies in both scopes, raw delivery,
//! signed notifications, per-protocol retry policies, subscription dead-letter queues,
//! Publish / PublishBatch with message attributes, FIFO ordering and deduplication.
//!
//! Layout (the same in every service crate): [`ops`] maps operations onto the engine with AWS's
//! validation; [`engine`] owns the state; [`model`] is pure logic (attributes, envelopes,
//! signatures, topic and subscription rules); [`store`] is the key layout; [`error`] maps every
//! failure onto the wire; [`target`] is the `sns` delivery target (HTTP POSTs, recorded emails,
//! publishes handed over by other services).
//!
//! # How a publish travels
//! `Publish` validates the message, then under the engine lock picks every confirmed
//! subscription whose filter policy matches and stages one delivery per subscription into the
//! outbox ([`ponte_delivery::Outbox`]) in the same store batch; the answer waits for that
//! commit. SQS and Lambda deliveries target the queue / function ARN under SNS's managed retry
//! policy (100,015 attempts over 23 days); HTTP/S and email deliveries target the subscription
//! ARN and are carried out by this crate's target under the topic's or subscription's
//! `DeliveryPolicy`. A subscription `RedrivePolicy` becomes the delivery's failure follow-up: the
//! undeliverable message, as the subscriber would have received it, goes to the DLQ queue.
//!
//! # Signatures
//! A 2048-bit RSA key and a self-signed certificate are generated at first start and kept in
//! the store; notifications and confirmations are signed as AWS documents (SignatureVersion 1 =
//! SHA1withRSA, 2 = SHA256withRSA). `SigningCertURL` is
//! `<base URL>/_ponte/sns/SimpleNotificationService-<id>.pem`; the server answers it with
//! [`Sns::signing_cert_pem`].
//!
//! HTTPS endpoints are reached over TLS (rustls, `ring`) and their certificates verified, as on
//! AWS, against the OS root store or, when set, `SSL_CERT_FILE` / `SSL_CERT_DIR` instead.
//!
//! # Known divergences from AWS
//! - Policies (topic `Policy`, AddPermission) are stored and returned, not enforced; KMS
//!   attributes are recorded, nothing is encrypted; `TracingConfig`, delivery-status logging
//!   attributes and `ArchivePolicy` are stored only (no archive or replay).
//! - Email, email-json and SMS are recorded ([`Sns::sent_messages`]), never sent. Application
//!   (mobile push) and Firehose subscriptions are accepted and confirmed but receive nothing;
//!   platform applications, SMS sandbox and data-protection operations answer `NotImplemented`.
//! - Subscriptions across accounts are confirmed at once like same-account ones.
//! - The HTTP backoff functions (`linear`, `arithmetic`, `geometric`, `exponential`) follow
//!   their documented shape; AWS's exact delays are not published.
//! - A deleted topic's subscriptions disappear at once (AWS keeps them for a while).
//! - Listings are in ARN order; `NextToken` is the ARN the next page starts at.

pub mod engine;
pub mod error;
pub mod model;
pub mod ops;
pub mod store;
mod target;

pub use engine::{MeterSnapshot, Published, Record, Sns};
pub use error::{Error, Result};
