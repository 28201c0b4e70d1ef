//! Timestamps as SNS writes them in notifications: ISO 8601, UTC, milliseconds
//! (`2012-04-25T21:49:25.719Z`).

use ponte_types::Millis;

/// Formats epoch milliseconds as `YYYY-MM-DDThh:mm:ss.mmmZ`.
pub fn iso8601_ms(ms: Millis) -> String {
    ponte_types::time::iso8601_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_sns() {
        assert_eq!(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_ms(1_335_390_565_719), "2012-04-25T21:49:25.719Z");
        assert_eq!(iso8601_ms(1_709_251_199_001), "2024-02-29T23:59:59.001Z");
    }
}
