//! How CloudWatch Logs state is laid out in the store (values are JSON).
//!
//! | table | key | value |
//! |---|---|---|
//! | `logs_group` | group id (u64 BE) | [`GroupMeta`](crate::engine::GroupMeta) |
//! | `logs_stream` | group id ++ stream id (u64 BE each) | [`StreamMeta`](crate::engine::StreamMeta) |
//! | `logs_event` | group id ++ stream id ++ seq (u64 BE each) | [`StoredEvent`] |
//!
//! Invariants: ids and sequence numbers are never reused (the next ones continue from the
//! largest loaded); every row of a group starts with its id and every event row of a stream with
//! group id ++ stream id, so deleting a group or a stream is one prefix delete per table. An
//! event row is written once and deleted once (retention, stream or group deletion); a stream's
//! row is rewritten by each PutLogEvents to carry its first/last event times and upload count.

use ponte_store::WriteBatch;
use serde::{Deserialize, Serialize};

/// Log group table.
pub const GROUPS: &str = "logs_group";
/// Log stream table.
pub const STREAMS: &str = "logs_stream";
/// Log event table.
pub const EVENTS: &str = "logs_event";

/// One event as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Event timestamp (epoch ms, the caller's).
    #[serde(rename = "t")]
    pub timestamp: u64,
    /// Ingestion time (epoch ms, ours).
    #[serde(rename = "i")]
    pub ingestion: u64,
    /// The message.
    #[serde(rename = "m")]
    pub message: String,
}

/// Key of a group.
pub fn group_key(group: u64) -> Vec<u8> {
    group.to_be_bytes().to_vec()
}

/// Key of a stream (also the prefix of its events).
pub fn stream_key(group: u64, stream: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(16);
    k.extend_from_slice(&group.to_be_bytes());
    k.extend_from_slice(&stream.to_be_bytes());
    k
}

/// Key of an event.
pub fn event_key(group: u64, stream: u64, seq: u64) -> Vec<u8> {
    let mut k = stream_key(group, stream);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// Splits a key of 8·n bytes into its u64 parts; `None` when the length is not `8 * n`.
pub fn split_key<const N: usize>(k: &[u8]) -> Option<[u64; N]> {
    if k.len() != 8 * N {
        return None;
    }
    let mut out = [0u64; N];
    for (i, part) in out.iter_mut().enumerate() {
        *part = u64::from_be_bytes(k[i * 8..i * 8 + 8].try_into().ok()?);
    }
    Some(out)
}

/// JSON-encodes a value for the store. Encoding our own types cannot fail.
pub fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// Deletes a whole group: its row, its streams and its events.
pub fn delete_group(b: &mut WriteBatch, group: u64) {
    let k = group_key(group);
    b.delete(GROUPS, k.clone());
    b.delete_prefix(STREAMS, k.clone());
    b.delete_prefix(EVENTS, k);
}

/// Deletes a stream and its events.
pub fn delete_stream(b: &mut WriteBatch, group: u64, stream: u64) {
    let k = stream_key(group, stream);
    b.delete(STREAMS, k.clone());
    b.delete_prefix(EVENTS, k);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_back() {
        assert_eq!(split_key::<3>(&event_key(1, 2, 3)), Some([1, 2, 3]));
        assert_eq!(split_key::<2>(&stream_key(7, 9)), Some([7, 9]));
        assert_eq!(split_key::<2>(&event_key(1, 2, 3)), None);
        assert!(event_key(1, 2, 3).starts_with(&stream_key(1, 2)));
    }
}
