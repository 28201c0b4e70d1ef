//! The text Lambda itself writes around a function's own output, byte for byte: the
//! `START` / `END` / `REPORT` lines, the timeout line, stream names, the invoke error payloads
//! Lambda (not the function) produces, and the 4 KB log tail. Pure functions, unit-tested.

use std::fmt::Write as _;
use std::time::Duration;

use ponte_types::Millis;

/// The largest response (and error) body the Runtime API accepts, bytes (AWS's figure).
pub(crate) const MAX_RESPONSE_BYTES: usize = 6_291_556;

/// How much of an invocation's log `X-Amz-Log-Result` carries.
pub(crate) const TAIL_BYTES: usize = 4096;

/// A CloudWatch Logs event is at most 256 KB (minus the 26-byte event overhead); longer lines
/// are split, as Lambda's log shipper does.
pub(crate) const MAX_EVENT_BYTES: usize = 256 * 1024 - 26;

/// `2024-05-06T07:08:09.123Z`, the timestamp Lambda puts in front of its own lines.
pub(crate) fn iso8601(ms: Millis) -> String {
    ponte_types::time::iso8601_millis(ms)
}

/// `2024/05/06/[$LATEST]0123456789abcdef0123456789abcdef`: one stream per instance.
pub(crate) fn stream_name(now: Millis, version: &str, hex32: &str) -> String {
    let (y, m, d) = ponte_types::time::civil_from_days((now / 1000 / 86_400) as i64);
    format!("{y:04}/{m:02}/{d:02}/[{version}]{hex32}")
}

/// `START RequestId: <id> Version: <v>`.
pub(crate) fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}")
}

/// `END RequestId: <id>`.
pub(crate) fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}")
}

/// What a `REPORT` line says about one invocation.
#[derive(Debug, Clone)]
pub(crate) struct Report<'a> {
    pub request_id: &'a str,
    pub duration_ms: f64,
    pub billed_ms: u64,
    pub memory_mb: u32,
    pub max_memory_mb: u32,
    pub init_ms: Option<f64>,
    /// `Status: timeout` / `Status: error` with the error type, as current Lambda appends.
    pub status: Option<(&'a str, Option<&'a str>)>,
}

/// `REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t
/// Max Memory Used: 40 MB\t[Init Duration: 100.00 ms\t]`: every field ends with a tab.
pub(crate) fn report_line(r: &Report<'_>) -> String {
    let mut s = format!(
        "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
        r.request_id, r.duration_ms, r.billed_ms, r.memory_mb, r.max_memory_mb
    );
    if let Some(init) = r.init_ms {
        let _ = write!(s, "Init Duration: {init:.2} ms\t");
    }
    if let Some((status, error_type)) = r.status {
        let _ = write!(s, "Status: {status}\t");
        if let Some(t) = error_type {
            let _ = write!(s, "Error Type: {t}\t");
        }
    }
    s
}

/// `INIT_REPORT Init Duration: 12.34 ms\tPhase: init\tStatus: error\tError Type: <type>`.
pub(crate) fn init_report_line(init_ms: f64, status: &str, error_type: Option<&str>) -> String {
    let mut s =
        format!("INIT_REPORT Init Duration: {init_ms:.2} ms\tPhase: init\tStatus: {status}");
    if let Some(t) = error_type {
        let _ = write!(s, "\tError Type: {t}");
    }
    s
}

/// `3.00`: Lambda prints timeouts in seconds with two decimals.
pub(crate) fn seconds(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

/// `<ISO time> <request id> Task timed out after 3.00 seconds`.
pub(crate) fn timeout_line(now: Millis, request_id: &str, timeout: Duration) -> String {
    format!(
        "{} {request_id} Task timed out after {} seconds",
        iso8601(now),
        seconds(timeout)
    )
}

/// The Invoke payload of a timed-out invocation (current Lambda; `errorType` first).
pub(crate) fn timeout_payload(request_id: &str, timeout: Duration) -> Vec<u8> {
    lambda_error(
        "Sandbox.Timedout",
        &format!(
            "RequestId: {request_id} Error: Task timed out after {} seconds",
            seconds(timeout)
        ),
    )
}

/// `{"errorType": ..., "errorMessage": ...}` in that key order, as Lambda's own errors are.
pub(crate) fn lambda_error(error_type: &str, message: &str) -> Vec<u8> {
    let mut map = serde_json::Map::new();
    map.insert("errorType".into(), error_type.into());
    map.insert("errorMessage".into(), message.into());
    serde_json::to_vec(&serde_json::Value::Object(map)).unwrap_or_default()
}

/// The payload of an invocation whose response exceeded [`MAX_RESPONSE_BYTES`].
pub(crate) fn too_large_payload() -> Vec<u8> {
    let mut map = serde_json::Map::new();
    map.insert(
        "errorMessage".into(),
        format!(
            "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
        )
        .into(),
    );
    map.insert("errorType".into(), "Function.ResponseSizeTooLarge".into());
    serde_json::to_vec(&serde_json::Value::Object(map)).unwrap_or_default()
}

/// How Go's `os/exec` (which Lambda's init is written in) words a process exit:
/// `exit status 1`, `signal: killed`.
pub(crate) fn exit_reason(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => {
            let name = match s {
                1 => "hangup",
                2 => "interrupt",
                3 => "quit",
                4 => "illegal instruction",
                6 => "aborted",
                7 => "bus error",
                8 => "floating point exception",
                9 => "killed",
                11 => "segmentation fault",
                13 => "broken pipe",
                15 => "terminated",
                _ => return format!("signal: {s}"),
            };
            format!("signal: {name}")
        }
        (None, None) => "exit status unknown".to_string(),
    }
}

/// The Invoke payload when the runtime process exited during an invocation.
pub(crate) fn exit_payload(request_id: &str, reason: &str) -> Vec<u8> {
    lambda_error(
        "Runtime.ExitError",
        &format!("RequestId: {request_id} Error: Runtime exited with error: {reason}"),
    )
}

/// The last [`TAIL_BYTES`] of `lines` joined with newlines, cut at a character boundary.
pub(crate) fn tail(lines: &[String]) -> String {
    let mut text = String::new();
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    if text.len() <= TAIL_BYTES {
        return text;
    }
    let mut start = text.len() - TAIL_BYTES;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_string()
}

/// Billed duration: run time plus init, rounded up to the millisecond.
pub(crate) fn billed_ms(duration_ms: f64, init_ms: Option<f64>) -> u64 {
    let total = duration_ms + init_ms.unwrap_or(0.0);
    (total.ceil().max(1.0)) as u64
}

/// One captured output line as a log event message: lossy UTF-8, a trailing `\r` dropped, and
/// interior `\r` turned into `\n` (the bundled runtimes separate the lines of one multi-line
/// record with `\r`, as AWS's do when they cannot use the telemetry pipe, and Lambda shows such
/// a record as one event).
pub(crate) fn line_text(raw: &[u8]) -> String {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let text = String::from_utf8_lossy(raw);
    if text.contains('\r') {
        text.replace('\r', "\n")
    } else {
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_stream_names() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        // 2024-02-29T23:59:59.999Z, a leap day.
        assert_eq!(iso8601(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
        assert_eq!(iso8601(1_767_225_600_000), "2026-01-01T00:00:00.000Z");
        assert_eq!(
            stream_name(
                1_709_251_199_999,
                "$LATEST",
                "0123456789abcdef0123456789abcdef"
            ),
            "2024/02/29/[$LATEST]0123456789abcdef0123456789abcdef"
        );
    }

    #[test]
    fn lambda_lines_match_aws_spacing() {
        assert_eq!(
            start_line("r1", "$LATEST"),
            "START RequestId: r1 Version: $LATEST"
        );
        assert_eq!(end_line("r1"), "END RequestId: r1");
        let mut r = Report {
            request_id: "r1",
            duration_ms: 12.344,
            billed_ms: 13,
            memory_mb: 128,
            max_memory_mb: 41,
            init_ms: Some(101.225),
            status: None,
        };
        assert_eq!(
            report_line(&r),
            "REPORT RequestId: r1\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB\tInit Duration: 101.22 ms\t"
        );
        r.init_ms = None;
        r.status = Some(("timeout", None));
        assert!(report_line(&r).ends_with("Max Memory Used: 41 MB\tStatus: timeout\t"));
        r.status = Some(("error", Some("Runtime.ExitError")));
        assert!(report_line(&r).ends_with("Status: error\tError Type: Runtime.ExitError\t"));
        assert_eq!(
            timeout_line(0, "r1", Duration::from_secs(3)),
            "1970-01-01T00:00:00.000Z r1 Task timed out after 3.00 seconds"
        );
    }

    #[test]
    fn lambda_error_payloads() {
        assert_eq!(
            String::from_utf8(timeout_payload("r1", Duration::from_millis(1500))).unwrap(),
            r#"{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: r1 Error: Task timed out after 1.50 seconds"}"#
        );
        assert_eq!(
            String::from_utf8(exit_payload("r1", &exit_reason(Some(1), None))).unwrap(),
            r#"{"errorType":"Runtime.ExitError","errorMessage":"RequestId: r1 Error: Runtime exited with error: exit status 1"}"#
        );
        assert_eq!(exit_reason(None, Some(9)), "signal: killed");
        assert_eq!(exit_reason(None, Some(64)), "signal: 64");
        assert_eq!(
            String::from_utf8(too_large_payload()).unwrap(),
            r#"{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}"#
        );
    }

    #[test]
    fn tail_billing_and_lines() {
        let lines: Vec<String> = (0..1000).map(|i| format!("line é {i}")).collect();
        let t = tail(&lines);
        assert!(t.len() <= TAIL_BYTES && t.len() > TAIL_BYTES - 4);
        assert!(t.ends_with("line é 999\n"));
        assert_eq!(tail(&["a".into()]), "a\n");
        assert_eq!(billed_ms(12.01, None), 13);
        assert_eq!(billed_ms(12.0, Some(100.5)), 113);
        assert_eq!(billed_ms(0.2, None), 1);
        assert_eq!(line_text(b"a\rb\r"), "a\nb");
        assert_eq!(line_text(b"\xffok"), "\u{fffd}ok");
    }
}
