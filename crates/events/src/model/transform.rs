//! What a target receives: the event, a constant `Input`, the part `InputPath` selects, or an
//! `InputTransformer` template filled from `InputPathsMap`.
//!
//! JSONPath: EventBridge's subset (dot notation with dashes, underscores, slashes and
//! alphanumerics, `[n]` indices, `[*]` / `.*` wildcards, `['key']`). A path with a wildcard
//! gathers its matches into an array. A path that matches nothing leaves its variable empty.
//!
//! Templates are filled textually, as AWS does (`<` and `>` cannot be escaped). Where a
//! placeholder stands decides how a value is written:
//! - inside a JSON string literal (`"state <s>"`): the value's text, escaped for JSON (a string
//!   without its quotes, anything else as its JSON text);
//! - outside string literals of a JSON template (one starting with `{` or `[`): the value as
//!   JSON, so strings get their quotes (`{"state": <s>}` → `{"state": "RUNNING"}`);
//! - outside string literals of any other template: the value's text.
//!
//! A variable whose path matched nothing is the empty string. Reserved variables:
//! `aws.events.rule-arn`, `aws.events.rule-name`, `aws.events.event.ingestion-time`,
//! `aws.events.event` (the event without `detail`, `detail-type` spelled `detailType`, `time` the
//! ingestion time, as AWS renders it) and `aws.events.event.json` (the whole event).

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

/// `aws.events.rule-arn`.
pub const RULE_ARN: &str = "aws.events.rule-arn";
/// `aws.events.rule-name`.
pub const RULE_NAME: &str = "aws.events.rule-name";
/// `aws.events.event.ingestion-time`.
pub const INGESTION_TIME: &str = "aws.events.event.ingestion-time";
/// `aws.events.event`.
pub const EVENT: &str = "aws.events.event";
/// `aws.events.event.json`.
pub const EVENT_JSON: &str = "aws.events.event.json";
/// All reserved variable names.
pub const RESERVED: [&str; 5] = [RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON];

/// One step of a JSONPath.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    Wildcard,
}

/// A parsed JSONPath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

impl JsonPath {
    /// Parses `$`, `$.detail.a-b`, `$.items[0].id`, `$.items[*]`, `$['odd key']`.
    pub fn parse(text: &str) -> Option<JsonPath> {
        let rest = text.trim().strip_prefix('$')?;
        let b = rest.as_bytes();
        let mut steps = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'.' => {
                    i += 1;
                    let start = i;
                    while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                        i += 1;
                    }
                    let key = &rest[start..i];
                    if key.is_empty() {
                        return None;
                    }
                    steps.push(if key == "*" {
                        Step::Wildcard
                    } else {
                        Step::Key(key.to_owned())
                    });
                }
                b'[' => {
                    let close = rest[i..].find(']')? + i;
                    let inner = rest[i + 1..close].trim();
                    let step = if inner == "*" {
                        Step::Wildcard
                    } else if let Some(q) = inner
                        .strip_prefix('\'')
                        .and_then(|s| s.strip_suffix('\''))
                        .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
                    {
                        Step::Key(q.to_owned())
                    } else {
                        Step::Index(inner.parse().ok()?)
                    };
                    steps.push(step);
                    i = close + 1;
                }
                _ => return None,
            }
        }
        Some(JsonPath { steps })
    }

    /// What the path selects in `v`: `None` when nothing matches.
    pub fn select(&self, v: &Value) -> Option<Value> {
        let wildcard = self.steps.contains(&Step::Wildcard);
        let mut current: Vec<&Value> = vec![v];
        for step in &self.steps {
            let mut next = Vec::new();
            for c in current {
                match (step, c) {
                    (Step::Key(k), Value::Object(m)) => next.extend(m.get(k)),
                    (Step::Index(n), Value::Array(a)) => next.extend(a.get(*n)),
                    (Step::Wildcard, Value::Array(a)) => next.extend(a.iter()),
                    (Step::Wildcard, Value::Object(m)) => next.extend(m.values()),
                    _ => {}
                }
            }
            current = next;
        }
        if wildcard {
            (!current.is_empty()).then(|| Value::Array(current.into_iter().cloned().collect()))
        } else {
            current.first().map(|v| (*v).clone())
        }
    }
}

/// The placeholders of a template, in order, without duplicates.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for (_, name) in scan(template) {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// `(byte offset of '<', name)` for each `<name>`; a name has no whitespace, quotes or `<`.
fn scan(template: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let b = template.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'<'
            && let Some(len) = template[i + 1..].find('>')
        {
            let name = &template[i + 1..i + 1 + len];
            if !name.is_empty()
                && !name
                    .chars()
                    .any(|c| c.is_whitespace() || c == '<' || c == '"')
            {
                out.push((i, name));
                i += len + 2;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Context for the reserved variables.
#[derive(Debug, Clone, Copy)]
pub struct Reserved<'a> {
    /// The rule's ARN.
    pub rule_arn: &'a str,
    /// The rule's name.
    pub rule_name: &'a str,
    /// Ingestion time, ISO-8601.
    pub ingestion_time: &'a str,
}

/// `aws.events.event`: the event without `detail`, `detail-type` as `detailType`, `time` the
/// ingestion time.
fn event_without_detail(event: &Value, ingestion_time: &str) -> Value {
    let mut m = Map::new();
    if let Value::Object(src) = event {
        for (k, v) in src {
            match k.as_str() {
                "detail" => {}
                "detail-type" => {
                    m.insert("detailType".into(), v.clone());
                }
                "time" => {
                    m.insert("time".into(), Value::String(ingestion_time.to_owned()));
                }
                _ => {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
    }
    Value::Object(m)
}

/// Fills `template` from `paths` (variable → JSONPath) over `event`.
pub fn render(
    template: &str,
    paths: &BTreeMap<String, String>,
    event: &Value,
    reserved: Reserved<'_>,
) -> String {
    let mut vars: HashMap<&str, Option<Value>> = HashMap::new();
    for (name, path) in paths {
        let v = JsonPath::parse(path).and_then(|p| p.select(event));
        vars.insert(name.as_str(), v);
    }
    let lookup = |name: &str| -> Option<Value> {
        match name {
            RULE_ARN => Some(Value::String(reserved.rule_arn.to_owned())),
            RULE_NAME => Some(Value::String(reserved.rule_name.to_owned())),
            INGESTION_TIME => Some(Value::String(reserved.ingestion_time.to_owned())),
            EVENT => Some(event_without_detail(event, reserved.ingestion_time)),
            EVENT_JSON => Some(event.clone()),
            other => vars.get(other).cloned().flatten(),
        }
    };
    let json_template = matches!(template.trim_start().as_bytes().first(), Some(b'{' | b'['));
    let spots = scan(template);
    let mut out = String::with_capacity(template.len() + 64);
    let mut in_string = false;
    let mut escaped = false;
    let mut pos = 0;
    let mut spot = spots.into_iter().peekable();
    let bytes = template.as_bytes();
    while pos < bytes.len() {
        if let Some(&(at, name)) = spot.peek()
            && at == pos
        {
            spot.next();
            let end = at + name.len() + 2;
            if name != EVENT
                && name != EVENT_JSON
                && !vars.contains_key(name)
                && !RESERVED.contains(&name)
            {
                // Not a variable: keep the text as written.
                out.push_str(&template[at..end]);
            } else {
                let value = lookup(name).unwrap_or(Value::String(String::new()));
                write_value(&mut out, &value, in_string, json_template);
            }
            pos = end;
            continue;
        }
        let c = template[pos..].chars().next().unwrap_or_default();
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        }
        out.push(c);
        pos += c.len_utf8();
    }
    out
}

fn write_value(out: &mut String, value: &Value, in_string: bool, json_template: bool) {
    if in_string {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let quoted = Value::String(text).to_string();
        out.push_str(&quoted[1..quoted.len() - 1]);
    } else if json_template {
        out.push_str(&value.to_string());
    } else {
        match value {
            Value::String(s) => out.push_str(s),
            other => out.push_str(&other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({"version": "0", "id": "e1", "detail-type": "EC2 State", "source": "aws.ec2",
               "account": "1", "time": "2015-11-11T21:29:54Z", "region": "us-east-1",
               "resources": ["r1"],
               "detail": {"instance-id": "i-0123", "state": "RUNNING", "n": 9,
                          "items": [{"id": 1}, {"id": 2}], "q": "say \"hi\""}})
    }

    const R: Reserved<'static> = Reserved {
        rule_arn: "arn:aws:events:us-east-1:1:rule/r",
        rule_name: "r",
        ingestion_time: "2015-11-11T21:29:55Z",
    };

    fn paths(p: &[(&str, &str)]) -> BTreeMap<String, String> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn json_path_subset() {
        let e = event();
        let sel = |p: &str| JsonPath::parse(p).unwrap().select(&e);
        assert_eq!(sel("$.detail.instance-id"), Some(json!("i-0123")));
        assert_eq!(sel("$.detail.items[1].id"), Some(json!(2)));
        assert_eq!(sel("$.detail.items[*].id"), Some(json!([1, 2])));
        assert_eq!(sel("$['detail-type']"), Some(json!("EC2 State")));
        assert_eq!(sel("$"), Some(e.clone()));
        assert_eq!(sel("$.detail.missing"), None);
        assert!(JsonPath::parse("detail").is_none());
        assert!(JsonPath::parse("$..x").is_none());
    }

    #[test]
    fn templates_quote_strings_only_outside_string_literals() {
        let p = paths(&[
            ("instance", "$.detail.instance-id"),
            ("state", "$.detail.state"),
            ("n", "$.detail.n"),
        ]);
        let e = event();
        assert_eq!(
            render("\"<instance> is in state <state>\"", &p, &e, R),
            "\"i-0123 is in state RUNNING\""
        );
        assert_eq!(
            render(
                "{\"instance\": <instance>, \"state\": [9, <state>, true], \"n\": <n>}",
                &p,
                &e,
                R
            ),
            "{\"instance\": \"i-0123\", \"state\": [9, \"RUNNING\", true], \"n\": 9}"
        );
        assert_eq!(
            render("{\"msg\": \"<instance> is <state>\"}", &p, &e, R),
            "{\"msg\": \"i-0123 is RUNNING\"}"
        );
        assert_eq!(
            render("<instance> is in state <state>", &p, &e, R),
            "i-0123 is in state RUNNING"
        );
    }

    #[test]
    fn missing_values_are_empty_and_strings_are_escaped() {
        let p = paths(&[("x", "$.detail.nope"), ("q", "$.detail.q")]);
        let e = event();
        assert_eq!(
            render("{\"x\": <x>, \"y\": \"<x>\"}", &p, &e, R),
            "{\"x\": \"\", \"y\": \"\"}"
        );
        let out = render("{\"q\": \"<q>\"}", &p, &e, R);
        assert_eq!(
            serde_json::from_str::<Value>(&out).unwrap(),
            json!({"q": "say \"hi\""})
        );
    }

    #[test]
    fn reserved_variables() {
        let e = event();
        let out = render(
            "{\"arn\": <aws.events.rule-arn>, \"e\": <aws.events.event>, \"j\": <aws.events.event.json>, \"t\": \"<aws.events.event.ingestion-time>\"}",
            &BTreeMap::new(),
            &e,
            R,
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["arn"], json!(R.rule_arn));
        assert_eq!(v["e"]["detailType"], json!("EC2 State"));
        assert!(v["e"].get("detail").is_none());
        assert_eq!(v["e"]["time"], json!(R.ingestion_time));
        assert_eq!(v["j"], e);
        assert_eq!(v["t"], json!(R.ingestion_time));
        assert_eq!(placeholders("<a> <b> <a> a < b"), vec!["a", "b"]);
    }
}
