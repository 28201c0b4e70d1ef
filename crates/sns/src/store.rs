//! How SNS state is laid out in the store. Values are JSON.
//!
//! | table | key | value |
//! |---|---|---|
//! | `sns_topic` | topic ARN | [`TopicMeta`](crate::engine::TopicMeta) |
//! | `sns_sub` | subscription ARN (`<topic ARN>:<uuid>`) | [`SubMeta`](crate::engine::SubMeta) |
//! | `sns_dedup` | topic ARN `\n` group (or empty) `\n` dedup id | [`Dedup`](crate::engine::Dedup) |
//! | `sns_record` | sequence (u64 BE) | [`Record`](crate::engine::Record): emails and SMS sent |
//! | `sns_key` | `signing` | [`KeyMaterial`](crate::model::signing::KeyMaterial) |
//!
//! Invariants: a subscription's key starts with its topic's ARN and `:`, and topic names cannot
//! contain `:`, so a topic's subscriptions are one contiguous key range; deleting a topic
//! deletes that range in the same batch. Deliveries are the outbox's rows, staged in the same
//! batch as the publish that causes them.

use serde::Serialize;

/// Topics.
pub const TOPICS: &str = "sns_topic";
/// Subscriptions.
pub const SUBS: &str = "sns_sub";
/// FIFO deduplication records.
pub const DEDUP: &str = "sns_dedup";
/// Emails and SMS messages "sent".
pub const RECORDS: &str = "sns_record";
/// The signing key and certificate.
pub const KEYS: &str = "sns_key";
/// The one row of [`KEYS`].
pub const SIGNING_KEY: &[u8] = b"signing";

/// JSON-encodes a value for the store. Encoding our own types cannot fail.
pub fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// Key of a dedup record.
pub fn dedup_key(topic_arn: &str, group: &str, id: &str) -> String {
    format!("{topic_arn}\n{group}\n{id}")
}
