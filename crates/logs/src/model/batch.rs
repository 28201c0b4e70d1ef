//! PutLogEvents batch rules (API reference, PutLogEvents):
//! - each event is its UTF-8 message plus 26 bytes, at most 1,048,576, and so is the batch;
//! - timestamps are in chronological order (equal timestamps are fine);
//! - events more than 2 hours in the future, more than 14 days old, or older than the group's
//!   retention are *rejected* (reported in `rejectedLogEventsInfo`) while the rest are stored;
//! - the accepted events span at most 24 hours, else the whole call fails.
//!
//! Being sorted, the too-old and expired events form a prefix and the too-new ones a suffix.

use std::ops::Range;

/// Bytes AWS adds per event when sizing a batch.
pub const EVENT_OVERHEAD: usize = 26;
/// Maximum batch (and single event) size in bytes.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Maximum events per batch.
pub const MAX_EVENTS: usize = 10_000;
/// How far in the future an event may be.
pub const MAX_FUTURE_MS: u64 = 2 * 3_600_000;
/// How old an event may be.
pub const MAX_AGE_MS: u64 = 14 * 86_400_000;
/// The widest span of one batch.
pub const MAX_SPAN_MS: u64 = 86_400_000;

/// Which events of a batch are rejected, in AWS's index terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rejected {
    /// `tooNewLogEventStartIndex` (inclusive).
    pub too_new_start: Option<usize>,
    /// `tooOldLogEventEndIndex` (exclusive).
    pub too_old_end: Option<usize>,
    /// `expiredLogEventEndIndex` (exclusive).
    pub expired_end: Option<usize>,
}

impl Rejected {
    /// The indexes of the events to store.
    pub fn accepted(&self, len: usize) -> Range<usize> {
        let start = self
            .too_old_end
            .unwrap_or(0)
            .max(self.expired_end.unwrap_or(0));
        let end = self.too_new_start.unwrap_or(len).max(start);
        start..end
    }

    /// Whether anything was rejected.
    pub fn any(&self) -> bool {
        self.too_new_start.is_some() || self.too_old_end.is_some() || self.expired_end.is_some()
    }
}

/// Checks a batch of `(timestamp, message bytes)`; `Err` is the `InvalidParameterException`
/// message that fails the whole call. `expired_before` is the retention cutoff, if any.
pub fn check(
    events: &[(u64, usize)],
    now: u64,
    expired_before: Option<u64>,
) -> Result<Rejected, String> {
    let mut total = 0usize;
    for &(_, size) in events {
        let size = size + EVENT_OVERHEAD;
        if size > MAX_BATCH_BYTES {
            return Err(format!(
                "Log event too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}"
            ));
        }
        total += size;
    }
    if total > MAX_BATCH_BYTES {
        return Err(format!(
            "Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}"
        ));
    }
    if events.windows(2).any(|w| w[1].0 < w[0].0) {
        return Err(
            "Log events in a single PutLogEvents request must be in chronological order.".into(),
        );
    }
    let too_old_before = now.saturating_sub(MAX_AGE_MS);
    let too_new_after = now.saturating_add(MAX_FUTURE_MS);
    let count = |pred: &dyn Fn(u64) -> bool| events.iter().take_while(|e| pred(e.0)).count();
    let old = count(&|t| t < too_old_before);
    let expired = expired_before.map_or(0, |cut| count(&|t| t < cut));
    let new_start = events.partition_point(|e| e.0 <= too_new_after);
    let rejected = Rejected {
        too_new_start: (new_start < events.len()).then_some(new_start),
        too_old_end: (old > 0).then_some(old),
        expired_end: (expired > 0).then_some(expired),
    };
    let ok = rejected.accepted(events.len());
    if !ok.is_empty() && events[ok.end - 1].0 - events[ok.start].0 > MAX_SPAN_MS {
        return Err(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
                .into(),
        );
    }
    Ok(rejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;
    const DAY: u64 = 86_400_000;

    #[test]
    fn accepts_a_normal_batch() {
        let r = check(&[(NOW - 10, 5), (NOW - 10, 5), (NOW, 1)], NOW, None).unwrap();
        assert!(!r.any());
        assert_eq!(r.accepted(3), 0..3);
    }

    #[test]
    fn order_and_size_fail_the_call() {
        assert_eq!(
            check(&[(NOW, 1), (NOW - 1, 1)], NOW, None).unwrap_err(),
            "Log events in a single PutLogEvents request must be in chronological order."
        );
        assert_eq!(
            check(&[(NOW, MAX_BATCH_BYTES)], NOW, None).unwrap_err(),
            "Log event too large: 1048602 bytes exceeds limit of 1048576"
        );
        // Exactly at the limit is fine.
        assert!(check(&[(NOW, MAX_BATCH_BYTES - 26)], NOW, None).is_ok());
        let two = [(NOW, 600_000), (NOW, 600_000)];
        assert_eq!(
            check(&two, NOW, None).unwrap_err(),
            "Upload too large: 1200052 bytes exceeds limit of 1048576"
        );
        assert!(
            check(&[(NOW - DAY - 2, 1), (NOW, 1)], NOW, None)
                .unwrap_err()
                .contains("cannot span more than 24 hours")
        );
        assert!(check(&[(NOW - DAY, 1), (NOW, 1)], NOW, None).is_ok());
    }

    #[test]
    fn old_new_and_expired_are_rejected_not_failed() {
        let batch = [
            (NOW - 30 * DAY, 1),
            (NOW - 20 * DAY, 1),
            (NOW - 3_600_000, 1),
            (NOW, 1),
            (NOW + 3 * 3_600_000, 1),
        ];
        // The 30- and 20-day-old events are too old; the span rule ignores rejected events.
        let r = check(&batch, NOW, None).unwrap();
        assert_eq!(r.too_old_end, Some(2));
        assert_eq!(r.too_new_start, Some(4));
        assert_eq!(r.expired_end, None);
        assert_eq!(r.accepted(5), 2..4);
        // Accepted events 2 days apart fail the whole call.
        let wide = [(NOW - 30 * DAY, 1), (NOW - 2 * DAY, 1), (NOW, 1)];
        assert!(check(&wide, NOW, None).is_err());
        let batch2 = [(NOW - 30 * DAY, 1), (NOW - 3_600_000, 1), (NOW, 1)];
        let r = check(&batch2, NOW, Some(NOW - 2 * 3_600_000)).unwrap();
        assert_eq!(r.too_old_end, Some(1));
        assert_eq!(r.expired_end, Some(1));
        assert_eq!(r.accepted(3), 1..3);
        let r = check(&[(NOW + DAY, 1)], NOW, None).unwrap();
        assert_eq!(r.too_new_start, Some(0));
        assert_eq!(r.accepted(1), 0..0);
        let r = check(&[(NOW - DAY, 1)], NOW, Some(NOW - 3_600_000)).unwrap();
        assert_eq!(r.expired_end, Some(1));
        assert_eq!(r.accepted(1), 1..1);
    }
}
