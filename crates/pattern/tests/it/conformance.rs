//! Every line of `shared/conformance/event-patterns/{vectors,invalid_patterns}.jsonl` must agree.
//!
//! Scopes: `eventbridge` and `event-ruler` compile with EventBridge rules, `sns-body` and
//! `sns-attributes` with the SNS dialect. `match` is the expected result (AWS where it was
//! observed, event-ruler otherwise); an invalid pattern must be rejected with `aws_error`, or with
//! event-ruler's message where AWS was not observed (`aws_error: null`).

use std::path::PathBuf;

use ponte_pattern::{Pattern, PatternSet, SnsScope};
use serde_json::{Map, Value, json};

fn data_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/event-patterns");
    assert!(
        dir.join("vectors.jsonl").is_file(),
        "conformance data not found at {} (the shared/ directory must sit beside the repository)",
        dir.display()
    );
    dir
}

fn lines(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(data_dir().join(name)).expect("readable conformance file");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

fn pattern_text(v: &Value) -> String {
    match v.get("pattern_raw").and_then(Value::as_str) {
        Some(raw) => raw.to_owned(),
        None => v["pattern"].to_string(),
    }
}

fn event_text(v: &Value) -> String {
    match v.get("event_raw").and_then(Value::as_str) {
        Some(raw) => raw.to_owned(),
        None => v["event"].to_string(),
    }
}

/// Vectors write SNS attributes as plain JSON values; turn them into SNS's `{Type, Value}` form.
fn as_sns_attributes(event: &Value) -> String {
    let mut out = Map::new();
    if let Value::Object(map) = event {
        for (name, v) in map {
            let attr = match v {
                Value::Object(o) if o.contains_key("Type") => v.clone(),
                Value::String(s) => json!({"Type": "String", "Value": s}),
                Value::Number(n) => json!({"Type": "Number", "Value": n.to_string()}),
                Value::Array(_) => json!({"Type": "String.Array", "Value": v.to_string()}),
                other => json!({"Type": "String", "Value": other.to_string()}),
            };
            out.insert(name.clone(), attr);
        }
    }
    Value::Object(out).to_string()
}

fn compile(scope: &str, pattern: &str) -> ponte_pattern::Result<Pattern> {
    match scope {
        "sns-body" => Pattern::compile_sns(pattern, SnsScope::MessageBody),
        "sns-attributes" => Pattern::compile_sns(pattern, SnsScope::MessageAttributes),
        _ => Pattern::compile_eventbridge(pattern),
    }
}

#[test]
fn vectors_agree() {
    let vectors = lines("vectors.jsonl");
    let mut failures = Vec::new();
    for v in &vectors {
        let id = v["id"].as_str().unwrap_or("?");
        let scope = v["scope"].as_str().unwrap_or("eventbridge");
        let expected = v["match"].as_bool().expect("match is a boolean");
        let pattern = match compile(scope, &pattern_text(v)) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{id}: pattern rejected: {e}"));
                continue;
            }
        };
        let event = if scope == "sns-attributes" {
            as_sns_attributes(&v["event"])
        } else {
            event_text(v)
        };
        match pattern.matches_json(&event) {
            Ok(got) if got == expected => {}
            Ok(got) => failures.push(format!(
                "{id}: expected {expected}, got {got} ({})",
                v["note"]
            )),
            Err(e) => failures.push(format!("{id}: event rejected: {e}")),
        }
        // The parsed-value path must agree with the text path (spelling-sensitive events aside).
        if scope != "sns-attributes" && v.get("event_raw").is_none() {
            let got = pattern.matches_value(&v["event"]);
            if got != expected {
                failures.push(format!(
                    "{id}: matches_value expected {expected}, got {got}"
                ));
            }
        }
    }
    println!(
        "conformance vectors: {}/{} agree",
        vectors.len() - failures.len(),
        vectors.len()
    );
    assert!(
        failures.is_empty(),
        "disagreements:\n{}",
        failures.join("\n")
    );
}

#[test]
fn invalid_patterns_are_rejected_with_aws_messages() {
    let cases = lines("invalid_patterns.jsonl");
    let mut failures = Vec::new();
    for v in &cases {
        let id = v["id"].as_str().unwrap_or("?");
        let expected = match v["aws_error"].as_str() {
            Some(msg) => msg.to_owned(),
            None => format!(
                "Event pattern is not valid. Reason: {}",
                v["event_ruler_error"]
                    .as_str()
                    .expect("an expected message")
            ),
        };
        match compile(
            v["scope"].as_str().unwrap_or("eventbridge"),
            &pattern_text(v),
        ) {
            Ok(_) => failures.push(format!("{id}: accepted, expected {expected:?}")),
            Err(e) if e.to_string() == expected => {}
            Err(e) => failures.push(format!(
                "{id}: got {:?}, expected {expected:?}",
                e.to_string()
            )),
        }
    }
    println!(
        "invalid patterns: {}/{} rejected with the expected message",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "disagreements:\n{}",
        failures.join("\n")
    );
}

/// All EventBridge vectors in one [`PatternSet`]: each vector's own pattern must report the
/// vector's result, which checks the shared-trie engine against the single-pattern one.
#[test]
fn pattern_set_agrees_with_single_patterns() {
    let vectors: Vec<Value> = lines("vectors.jsonl")
        .into_iter()
        .filter(|v| matches!(v["scope"].as_str(), Some("eventbridge" | "event-ruler")))
        .collect();
    let patterns: Vec<Pattern> = vectors
        .iter()
        .map(|v| Pattern::compile_eventbridge(&pattern_text(v)).expect("valid vector pattern"))
        .collect();
    let set = PatternSet::new(patterns.iter().cloned());
    let mut hits = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let event = event_text(v);
        set.matches_json(&event, &mut hits).expect("valid event");
        for (j, p) in patterns.iter().enumerate() {
            let single = p.matches_json(&event).expect("valid event");
            assert_eq!(
                hits.contains(&j),
                single,
                "vector {} event, pattern {}",
                v["id"],
                j
            );
        }
        assert_eq!(
            hits.contains(&i),
            v["match"].as_bool() == Some(true),
            "vector {}",
            v["id"]
        );
    }
}

/// A bulky value no pattern references: strings holding brackets, quotes and backslashes, nested
/// arrays and objects, GeoJSON-like coordinates, padded by `pad` bytes so that every construct
/// meets the skipper's 64-byte block boundaries at some offset.
fn unreferenced_value(pad: usize) -> String {
    let filler = "p".repeat(pad);
    format!(
        r#"{{"s": "{filler}]}}\"{{[\\", "t": "\\\\", "u": "\\\\\"]", "e": "", "a": [[1, -2.5e3, true, null],
        [{{"x": -122.42, "y": 37.72, "z": 0}}, {{"x": "}}", "y": "{{{{", "z": [[]]}}], {{}}, []],
        "o": {{"k": {{"k": {{"k": ["]", "[", "\\u005d"]}}}}}}, "end": "{filler}\\"}}"#
    )
}

/// Unreferenced subtrees are skipped, not parsed: adding one before or after the fields of every
/// vector's event must not change any result.
#[test]
fn unreferenced_subtrees_do_not_change_results() {
    for (n, v) in lines("vectors.jsonl").iter().enumerate() {
        let scope = v["scope"].as_str().unwrap_or("eventbridge");
        if scope == "sns-attributes" || v.get("event_raw").is_some() {
            continue;
        }
        let pattern = compile(scope, &pattern_text(v)).expect("valid vector pattern");
        let event = event_text(v);
        let Some(inner) = event.strip_prefix('{').and_then(|e| e.strip_suffix('}')) else {
            continue;
        };
        let expected = pattern.matches_json(&event).expect("valid event");
        let bulk = unreferenced_value(n % 80);
        serde_json::from_str::<Value>(&bulk).expect("the bulky value is JSON");
        let sep = if inner.is_empty() { "" } else { ", " };
        for variant in [
            format!(r#"{{"zz_unreferenced": {bulk}{sep}{inner}}}"#),
            format!(r#"{{{inner}{sep}"zz_unreferenced": {bulk}}}"#),
        ] {
            assert_eq!(
                pattern.matches_json(&variant).ok(),
                Some(expected),
                "vector {}: {variant}",
                v["id"]
            );
        }
    }
}
