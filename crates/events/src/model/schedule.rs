//! Schedule expressions: `rate(value unit)` and `cron(min hour dom month dow year)`.
//!
//! `rate`: a positive whole number and `minute`/`hour`/`day`, singular exactly when the value is
//! 1 (AWS's rule). The interval is an AWS wait, so the scheduler scales it with `--time-scale`.
//!
//! `cron`: AWS's six fields, always UTC. Exactly one of day-of-month and day-of-week is `?`.
//! Day-of-week counts 1–7 from Sunday, as Quartz does. The first five fields go to `croner`
//! (seconds pinned to 0, Quartz weekdays, `?` read as `*`), which evaluates `L`, `W` and `#`.
//! croner has no year field, so the year is checked here: occurrences in other years are
//! skipped. A cron schedule runs on the clock's wall time and is not scaled.

use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use croner::Cron;

use ponte_types::Millis;

/// AWS's message for any malformed expression.
pub const INVALID: &str = "Parameter ScheduleExpression is not valid.";

/// A parsed schedule expression.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Fires every interval (AWS time).
    Rate(Duration),
    /// Fires at the cron's occurrences (UTC wall time).
    Cron(Box<CronSchedule>),
}

/// A cron schedule with its year field.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    cron: Cron,
    years: YearField,
}

#[derive(Debug, Clone)]
enum YearField {
    Any,
    /// (from, to, step) ranges, any of which may match.
    Ranges(Vec<(i32, i32, i32)>),
}

impl YearField {
    fn parse(s: &str) -> Option<YearField> {
        if s == "*" || s == "?" {
            return Some(YearField::Any);
        }
        let mut ranges = Vec::new();
        for part in s.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, st)) => (r, st.parse::<i32>().ok().filter(|n| *n > 0)?),
                None => (part, 1),
            };
            let (from, to) = if range == "*" {
                (1970, 2199)
            } else if let Some((a, b)) = range.split_once('-') {
                (a.parse().ok()?, b.parse().ok()?)
            } else {
                let y: i32 = range.parse().ok()?;
                (y, if part.contains('/') { 2199 } else { y })
            };
            if !(1970..=2199).contains(&from) || !(1970..=2199).contains(&to) || from > to {
                return None;
            }
            ranges.push((from, to, step));
        }
        Some(YearField::Ranges(ranges))
    }

    fn matches(&self, year: i32) -> bool {
        match self {
            YearField::Any => true,
            YearField::Ranges(r) => r
                .iter()
                .any(|(from, to, step)| (*from..=*to).contains(&year) && (year - from) % step == 0),
        }
    }

    fn last_year(&self) -> i32 {
        match self {
            YearField::Any => 2199,
            YearField::Ranges(r) => r.iter().map(|(_, to, _)| *to).max().unwrap_or(2199),
        }
    }
}

impl Schedule {
    /// Parses a `ScheduleExpression`; `Err` carries AWS's message.
    pub fn parse(expr: &str) -> Result<Schedule, String> {
        let expr = expr.trim();
        if let Some(inner) = expr.strip_prefix("rate(").and_then(|s| s.strip_suffix(')')) {
            return parse_rate(inner)
                .map(Schedule::Rate)
                .ok_or_else(|| INVALID.to_owned());
        }
        if let Some(inner) = expr.strip_prefix("cron(").and_then(|s| s.strip_suffix(')')) {
            return parse_cron(inner)
                .map(|c| Schedule::Cron(Box::new(c)))
                .ok_or_else(|| INVALID.to_owned());
        }
        Err(INVALID.to_owned())
    }

    /// The first firing strictly after `after` (epoch ms). For a rate, `interval` is the
    /// scaled interval; for a cron, the next occurrence in wall time. `None`: never again.
    pub fn next_after(&self, after: Millis, scaled_interval: Duration) -> Option<Millis> {
        match self {
            Schedule::Rate(_) => Some(after + (scaled_interval.as_millis() as Millis).max(1)),
            Schedule::Cron(c) => c.next_after(after),
        }
    }
}

fn parse_rate(inner: &str) -> Option<Duration> {
    let mut it = inner.split_whitespace();
    let value: u64 = it.next()?.parse().ok()?;
    let unit = it.next()?;
    if it.next().is_some() || value == 0 {
        return None;
    }
    let secs = match (unit, value == 1) {
        ("minute", true) | ("minutes", false) => 60,
        ("hour", true) | ("hours", false) => 3600,
        ("day", true) | ("days", false) => 86_400,
        _ => return None,
    };
    value.checked_mul(secs).map(Duration::from_secs)
}

fn parse_cron(inner: &str) -> Option<CronSchedule> {
    let fields: Vec<&str> = inner.split_whitespace().collect();
    let [min, hour, dom, month, dow, year] = fields.as_slice() else {
        return None;
    };
    // One of day-of-month and day-of-week must be `?`, not both.
    if (*dom == "?") == (*dow == "?") {
        return None;
    }
    // AWS allows `L`, `W` and `#` only in the day fields; croner would accept more.
    if [min, hour, month]
        .iter()
        .any(|f| f.contains(['L', 'W', '#', '?']))
    {
        return None;
    }
    let years = YearField::parse(year)?;
    let pattern = format!("0 {min} {hour} {dom} {month} {dow}");
    let cron = Cron::new(&pattern)
        .with_seconds_required()
        .with_alternative_weekdays()
        .with_dom_and_dow()
        .parse()
        .ok()?;
    Some(CronSchedule { cron, years })
}

impl CronSchedule {
    /// The next occurrence strictly after `after`, in a year the year field allows.
    pub fn next_after(&self, after: Millis) -> Option<Millis> {
        let mut from: DateTime<Utc> = DateTime::from_timestamp_millis(after as i64)?;
        let last_year = self.years.last_year();
        // Each round either finds a match or jumps to the next allowed year: bounded.
        for _ in 0..300 {
            let next = self.cron.find_next_occurrence(&from, false).ok()?;
            let year = next.year();
            if year > last_year {
                return None;
            }
            if self.years.matches(year) {
                return u64::try_from(next.timestamp_millis()).ok();
            }
            let jan1 = chrono::NaiveDate::from_ymd_opt(year + 1, 1, 1)?.and_hms_opt(0, 0, 0)?;
            from = DateTime::from_naive_utc_and_offset(jan1, Utc) - chrono::Duration::seconds(1);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::envelope::{iso_seconds, parse_iso};

    fn next(expr: &str, after: &str) -> Option<String> {
        let s = Schedule::parse(expr).unwrap();
        s.next_after(parse_iso(after).unwrap(), Duration::ZERO)
            .map(iso_seconds)
    }

    #[test]
    fn rates() {
        assert!(
            matches!(Schedule::parse("rate(1 minute)"), Ok(Schedule::Rate(d)) if d.as_secs() == 60)
        );
        assert!(
            matches!(Schedule::parse("rate(5 minutes)"), Ok(Schedule::Rate(d)) if d.as_secs() == 300)
        );
        assert!(
            matches!(Schedule::parse("rate(2 days)"), Ok(Schedule::Rate(d)) if d.as_secs() == 172_800)
        );
        for bad in [
            "rate(1 minutes)",
            "rate(2 minute)",
            "rate(0 minutes)",
            "rate(-1 hours)",
            "rate(1 second)",
            "rate(1.5 hours)",
            "rate(1)",
            "every 5 minutes",
        ] {
            assert_eq!(Schedule::parse(bad).unwrap_err(), INVALID, "{bad}");
        }
        let s = Schedule::parse("rate(1 minute)").unwrap();
        assert_eq!(s.next_after(1000, Duration::from_secs(1)), Some(2000));
    }

    #[test]
    fn crons() {
        // Every day at 10:15 UTC.
        assert_eq!(
            next("cron(15 10 * * ? *)", "2024-01-01T10:15:00Z").unwrap(),
            "2024-01-02T10:15:00Z"
        );
        // Every 5 minutes.
        assert_eq!(
            next("cron(0/5 * * * ? *)", "2024-01-01T10:16:00Z").unwrap(),
            "2024-01-01T10:20:00Z"
        );
        // Monday to Friday at 18:00 (2024-01-05 is a Friday).
        assert_eq!(
            next("cron(0 18 ? * MON-FRI *)", "2024-01-05T18:00:00Z").unwrap(),
            "2024-01-08T18:00:00Z"
        );
        // Day-of-week numbers count from Sunday = 1: 2 is Monday.
        assert_eq!(
            next("cron(0 8 ? * 2 *)", "2024-01-01T09:00:00Z").unwrap(),
            "2024-01-08T08:00:00Z"
        );
        // Last day of the month.
        assert_eq!(
            next("cron(0 0 L * ? *)", "2024-02-01T00:00:00Z").unwrap(),
            "2024-02-29T00:00:00Z"
        );
        // Nearest weekday to the 15th (2024-06-15 is a Saturday).
        assert_eq!(
            next("cron(0 9 15W * ? *)", "2024-06-01T00:00:00Z").unwrap(),
            "2024-06-14T09:00:00Z"
        );
        // Second Tuesday (Tuesday = 3).
        assert_eq!(
            next("cron(0 12 ? * 3#2 *)", "2024-07-01T00:00:00Z").unwrap(),
            "2024-07-09T12:00:00Z"
        );
        // Year field.
        assert_eq!(
            next("cron(0 0 1 1 ? 2026)", "2024-03-01T00:00:00Z").unwrap(),
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(next("cron(0 0 1 1 ? 2020)", "2024-03-01T00:00:00Z"), None);
        for bad in [
            "cron(0 0 * * * *)",
            "cron(0 0 ? * ? *)",
            "cron(0 0 * *)",
            "cron(61 0 * * ? *)",
            "cron(0 0 * * ? 1800)",
            "cron(0 L * * ? *)",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }
}
