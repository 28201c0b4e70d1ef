//! How EventBridge state is laid out in the store. Values are JSON.
//!
//! | table | key | value |
//! |---|---|---|
//! | `events_bus` | region `\0` account `\0` bus | [`BusMeta`](crate::engine::BusMeta) |
//! | `events_rule` | region `\0` account `\0` bus `\0` rule | [`RuleMeta`](crate::engine::RuleMeta), targets included |
//! | `events_sched` | region `\0` account `\0` bus `\0` rule | last firing (epoch ms) |
//! | `events_archive` | region `\0` account `\0` archive | [`ArchiveMeta`](crate::engine::ArchiveMeta), counters included |
//! | `events_archived` | archive id (u64 BE) ++ ingestion ms (u64 BE) ++ seq (u64 BE) | [`Archived`](crate::engine::Archived) |
//! | `events_replay` | region `\0` account `\0` replay | [`ReplayMeta`](crate::engine::ReplayMeta) |
//!
//! Invariants: an archived event's row is written in the same batch as the archive's counters
//! and as the deliveries of that event, so a committed PutEvents has all three or none; keys of
//! one archive sort by ingestion time, so retention deletes a prefix of its rows; deleting an
//! archive is one prefix delete. The default bus has a row only once something about it
//! changed (policy, description); until then it is implicit.

use serde::Serialize;

/// Buses.
pub const BUSES: &str = "events_bus";
/// Rules with their targets.
pub const RULES: &str = "events_rule";
/// Last firing of each scheduled rule.
pub const SCHEDULES: &str = "events_sched";
/// Archives.
pub const ARCHIVES: &str = "events_archive";
/// Archived events.
pub const ARCHIVED: &str = "events_archived";
/// Replays.
pub const REPLAYS: &str = "events_replay";

/// Key of a bus, archive or replay: its parts joined by NUL.
pub fn key(parts: &[&str]) -> Vec<u8> {
    parts.join("\0").into_bytes()
}

/// Splits a key back into its parts.
pub fn split(k: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(k)
        .split('\0')
        .map(str::to_owned)
        .collect()
}

/// Key of an archived event.
pub fn archived_key(archive_id: u64, ingested: u64, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(24);
    k.extend_from_slice(&archive_id.to_be_bytes());
    k.extend_from_slice(&ingested.to_be_bytes());
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// (archive id, ingestion ms, seq) of an archived-event key.
pub fn split_archived_key(k: &[u8]) -> Option<(u64, u64, u64)> {
    if k.len() != 24 {
        return None;
    }
    let n = |r: std::ops::Range<usize>| k[r].try_into().ok().map(u64::from_be_bytes);
    Some((n(0..8)?, n(8..16)?, n(16..24)?))
}

/// JSON-encodes a value for the store. Encoding our own types cannot fail.
pub fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        assert_eq!(
            split(&key(&["us-east-1", "0", "b"])),
            vec!["us-east-1", "0", "b"]
        );
        assert_eq!(split_archived_key(&archived_key(1, 2, 3)), Some((1, 2, 3)));
        assert!(archived_key(1, 2, 3) < archived_key(1, 3, 0));
    }
}
