//! The AWS `query` protocol's request side: form bodies into awsJson-shaped input.
//!
//! Query clients send `Action=<Op>&Version=<apiVersion>&...` with nested members flattened
//! into dotted keys (botocore's `QuerySerializer`):
//! - structure members by wire name (`locationName`, else member name): `A.B=...`;
//! - lists `Name.member.N` (or the list member's `locationName` instead of `member`);
//!   flattened lists `Name.N`, where a list member `locationName` replaces the last segment
//!   (`AttributeNames` → `AttributeName.1`); an empty list is sent as `Name=` (empty value);
//! - maps `Name.entry.N.key` / `.value` (or the key/value `locationName`s); flattened maps
//!   `Name.N.Name` / `Name.N.Value` for SQS's `Attribute` and `MessageAttribute`;
//! - scalars as text: booleans `true`/`false`, blobs base64, timestamps ISO 8601.
//!
//! [`decode_input`] turns such parameters back into the JSON an awsJson client sends for the
//! same call (keys are member names), so one service adapter serves both protocols. Indexes
//! count from 1 and are read in numeric order; gaps are tolerated. Parameters the model does not
//! describe are ignored, as AWS ignores them. Where the wire name and the member name differ,
//! the member name is accepted as well (`MessageSystemAttributeNames.1` for
//! `MessageSystemAttributeName.1`), and a flattened list of scalars also accepts a bare
//! `AttributeName=All` (the form in old SQS documentation).
//!
//! A repeated key keeps its first value. Malformed numbers and booleans are rejected with
//! [`QueryDecodeError`]; blobs and timestamps are passed on as given for the service to check.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use percent_encoding::percent_decode;
use serde_json::{Map, Value};

use crate::error::AwsError;
use crate::model::{ServiceModel, Shape, ShapeKind, ShapeRef};

/// Nesting beyond this many levels is ignored; it bounds recursion on recursive shapes.
const MAX_DEPTH: usize = 32;

/// Parameters that select the operation and are not part of its input.
const PROTOCOL_PARAMS: [&str; 2] = ["Action", "Version"];

/// A query request that cannot be decoded, with what AWS answers for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryDecodeError {
    /// The `Action` names no operation of the service: AWS answers `InvalidAction` (400).
    #[error("The action {0} is not valid for this endpoint.")]
    InvalidAction(String),
    /// A parameter's value does not convert to its modeled type (an integer that is not a
    /// number, a boolean other than `true`/`false`): `InvalidParameterValue` (400).
    #[error("Value {value} for parameter {param} is invalid. Reason: Must be {expected}.")]
    InvalidValue {
        /// The parameter as sent, e.g. `MessageAttribute.1.Value.DataType`.
        param: String,
        /// The value as sent.
        value: String,
        /// What the value must be, e.g. `an integer`.
        expected: &'static str,
    },
}

impl QueryDecodeError {
    /// The AWS error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidAction(_) => "InvalidAction",
            Self::InvalidValue { .. } => "InvalidParameterValue",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        400
    }

    /// The envelope to send.
    pub fn to_aws_error(&self) -> AwsError {
        AwsError::new(self.code(), self.status(), true, self.to_string())
    }
}

impl From<QueryDecodeError> for AwsError {
    fn from(err: QueryDecodeError) -> Self {
        err.to_aws_error()
    }
}

/// Parses an `application/x-www-form-urlencoded` body (or a URL query string) into
/// `(name, value)` pairs in order: `+` is a space, `%XX` is a byte, invalid percent escapes are
/// kept as they are, invalid UTF-8 becomes U+FFFD, a pair without `=` has an empty value and
/// empty pairs (`&&`) are skipped.
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (form_decode(&pair[..eq]), form_decode(&pair[eq + 1..])),
            None => (form_decode(pair), String::new()),
        })
        .collect()
}

fn form_decode(raw: &[u8]) -> String {
    let spaced: Cow<'_, [u8]> = if raw.contains(&b'+') {
        Cow::Owned(
            raw.iter()
                .map(|&b| if b == b'+' { b' ' } else { b })
                .collect(),
        )
    } else {
        Cow::Borrowed(raw)
    };
    let bytes: Cow<'_, [u8]> = percent_decode(&spaced).into();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Decodes the parameters of a query request for `operation` into the JSON object of the
/// operation's input, as an awsJson client would send it (see the module docs). `Action` and
/// `Version` are skipped; an operation without input decodes to `{}`.
pub fn decode_input(
    model: &ServiceModel,
    operation: &str,
    params: &[(String, String)],
) -> Result<Value, QueryDecodeError> {
    let op = model
        .operation(operation)
        .ok_or_else(|| QueryDecodeError::InvalidAction(operation.to_owned()))?;
    let Some(input) = op.input.as_ref().and_then(|r| model.shape(&r.shape)) else {
        return Ok(Value::Object(Map::new()));
    };
    let mut map = BTreeMap::new();
    for (key, value) in params {
        if !PROTOCOL_PARAMS.contains(&key.as_str()) {
            map.entry(key.as_str()).or_insert(value.as_str());
        }
    }
    let decoder = Decoder { model, params: map };
    decoder.structure(input, "", 0).map(Value::Object)
}

struct Decoder<'a> {
    model: &'a ServiceModel,
    params: BTreeMap<&'a str, &'a str>,
}

impl<'a> Decoder<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.params.get(key).copied()
    }

    /// The parameters whose keys start with `prefix`, in key order.
    fn under<'s>(&'s self, prefix: &'s str) -> impl Iterator<Item = (&'a str, &'a str)> + 's {
        self.params
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (*k, *v))
    }

    fn has_children(&self, key: &str) -> bool {
        self.under(&format!("{key}.")).next().is_some()
    }

    /// The distinct indexes `N >= 1` of keys `base.N` and `base.N.*`, ascending.
    fn indexes(&self, base: &str) -> BTreeSet<u64> {
        let prefix = format!("{base}.");
        self.under(&prefix)
            .filter_map(|(k, _)| {
                let rest = &k[prefix.len()..];
                let segment = rest.split('.').next().unwrap_or(rest);
                if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                segment.parse::<u64>().ok().filter(|&n| n >= 1)
            })
            .collect()
    }

    fn structure(
        &self,
        shape: &Shape,
        prefix: &str,
        depth: usize,
    ) -> Result<Map<String, Value>, QueryDecodeError> {
        let mut out = Map::new();
        for member in shape.members() {
            let Some(target) = self.model.shape(&member.target.shape) else {
                continue;
            };
            let wire = member.target.serialized_name(target, &member.name);
            let mut value = self.value(&member.target, target, &join(prefix, wire), depth)?;
            if value.is_none() && wire != member.name && !self.is_wire_name(shape, &member.name) {
                value = self.value(&member.target, target, &join(prefix, &member.name), depth)?;
            }
            if let Some(value) = value {
                out.insert(member.name.clone(), value);
            }
        }
        Ok(out)
    }

    /// Whether `name` is the wire name of some member of `shape` (then it is no alias).
    fn is_wire_name(&self, shape: &Shape, name: &str) -> bool {
        shape.members().iter().any(|m| {
            self.model
                .shape(&m.target.shape)
                .is_some_and(|t| m.target.serialized_name(t, &m.name) == name)
        })
    }

    fn value(
        &self,
        r: &ShapeRef,
        shape: &Shape,
        key: &str,
        depth: usize,
    ) -> Result<Option<Value>, QueryDecodeError> {
        if depth > MAX_DEPTH {
            return Ok(None);
        }
        match &shape.kind {
            ShapeKind::Structure { .. } => {
                if !self.has_children(key) {
                    return Ok(None);
                }
                let prefix = format!("{key}.");
                Ok(Some(Value::Object(self.structure(
                    shape,
                    &prefix,
                    depth + 1,
                )?)))
            }
            ShapeKind::List { member } => self.list(r, shape, member, key, depth),
            ShapeKind::Map { key: k, value: v } => self.map(r, shape, k, v, key, depth),
            kind => match self.get(key) {
                Some(text) => scalar(kind, key, text).map(Some),
                None => Ok(None),
            },
        }
    }

    fn list(
        &self,
        r: &ShapeRef,
        shape: &Shape,
        member: &ShapeRef,
        key: &str,
        depth: usize,
    ) -> Result<Option<Value>, QueryDecodeError> {
        let Some(member_shape) = self.model.shape(&member.shape) else {
            return Ok(None);
        };
        let flattened = r.is_flattened(shape);
        let element_base = if flattened {
            match member.serialized_name(member_shape, "") {
                "" => key.to_owned(),
                name => replace_last_segment(key, name),
            }
        } else {
            join(key, member.serialized_name(member_shape, "member"))
        };
        let mut bases = vec![element_base.as_str()];
        if flattened && element_base != key {
            bases.push(key);
        }
        for base in &bases {
            let indexes = self.indexes(base);
            if indexes.is_empty() {
                continue;
            }
            let mut items = Vec::with_capacity(indexes.len());
            for n in indexes {
                let element_key = format!("{base}.{n}");
                if let Some(item) = self.value(member, member_shape, &element_key, depth + 1)? {
                    items.push(item);
                }
            }
            return Ok(Some(Value::Array(items)));
        }
        if flattened
            && member_shape.kind.is_scalar()
            && let Some(text) = self.get(&element_base).filter(|t| !t.is_empty())
        {
            let item = scalar(&member_shape.kind, &element_base, text)?;
            return Ok(Some(Value::Array(vec![item])));
        }
        // botocore sends an empty list as `Name=`.
        Ok(match self.get(key) {
            Some("") => Some(Value::Array(Vec::new())),
            _ => None,
        })
    }

    fn map(
        &self,
        r: &ShapeRef,
        shape: &Shape,
        key_ref: &ShapeRef,
        value_ref: &ShapeRef,
        key: &str,
        depth: usize,
    ) -> Result<Option<Value>, QueryDecodeError> {
        let (Some(key_shape), Some(value_shape)) = (
            self.model.shape(&key_ref.shape),
            self.model.shape(&value_ref.shape),
        ) else {
            return Ok(None);
        };
        let entry_base = if r.is_flattened(shape) {
            key.to_owned()
        } else {
            join(key, "entry")
        };
        let key_name = key_ref.serialized_name(key_shape, "key");
        let value_name = value_ref.serialized_name(value_shape, "value");
        let indexes = self.indexes(&entry_base);
        if indexes.is_empty() {
            return Ok(match self.get(key) {
                Some("") => Some(Value::Object(Map::new())),
                _ if self.has_children(key) => Some(Value::Object(Map::new())),
                _ => None,
            });
        }
        let mut out = Map::new();
        for n in indexes {
            let entry = format!("{entry_base}.{n}");
            let Some(name) = self.get(&join(&entry, key_name)) else {
                continue;
            };
            let value_key = join(&entry, value_name);
            if let Some(value) = self.value(value_ref, value_shape, &value_key, depth + 1)? {
                out.insert(name.to_owned(), value);
            }
        }
        Ok(Some(Value::Object(out)))
    }
}

fn join(prefix: &str, segment: &str) -> String {
    if prefix.is_empty() {
        segment.to_owned()
    } else if prefix.ends_with('.') {
        format!("{prefix}{segment}")
    } else {
        format!("{prefix}.{segment}")
    }
}

/// `A.B.Original` → `A.B.name`, as botocore names flattened list elements.
fn replace_last_segment(key: &str, name: &str) -> String {
    match key.rfind('.') {
        Some(dot) => format!("{}.{name}", &key[..dot]),
        None => name.to_owned(),
    }
}

fn scalar(kind: &ShapeKind, param: &str, text: &str) -> Result<Value, QueryDecodeError> {
    crate::model::scalar_from_text(kind, text).map_err(|expected| QueryDecodeError::InvalidValue {
        param: param.to_owned(),
        value: text.to_owned(),
        expected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{sns_model, sqs_query_model};
    use serde_json::json;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn parse_form_decodes_like_a_browser() {
        let parsed =
            parse_form(b"Action=SendMessage&MessageBody=a+b%2Bc%20d&&flag&=v&k=%zz%4&u=%C3%A9%FF");
        assert_eq!(
            parsed,
            params(&[
                ("Action", "SendMessage"),
                ("MessageBody", "a b+c d"),
                ("flag", ""),
                ("", "v"),
                ("k", "%zz%4"),
                ("u", "é\u{FFFD}"),
            ])
        );
        assert!(parse_form(b"").is_empty());
        assert_eq!(parse_form(b"a=b=c"), params(&[("a", "b=c")]));
    }

    #[test]
    fn send_message_with_flattened_maps_and_lists() {
        let input = decode_input(
            sqs_query_model(),
            "SendMessage",
            &params(&[
                ("Action", "SendMessage"),
                ("Version", "2012-11-05"),
                ("QueueUrl", "http://localhost/000000000000/q"),
                ("MessageBody", "hello"),
                ("DelaySeconds", "5"),
                ("MessageAttribute.2.Name", "bin"),
                ("MessageAttribute.2.Value.DataType", "Binary"),
                ("MessageAttribute.2.Value.BinaryValue", "AAEC"),
                ("MessageAttribute.1.Name", "list"),
                ("MessageAttribute.1.Value.DataType", "String"),
                ("MessageAttribute.1.Value.StringListValue.2", "b"),
                ("MessageAttribute.1.Value.StringListValue.1", "a"),
                ("MessageSystemAttribute.1.Name", "AWSTraceHeader"),
                ("MessageSystemAttribute.1.Value.DataType", "String"),
                ("MessageSystemAttribute.1.Value.StringValue", "Root=1"),
                ("Unknown.Param", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(
            input,
            json!({
                "QueueUrl": "http://localhost/000000000000/q",
                "MessageBody": "hello",
                "DelaySeconds": 5,
                "MessageAttributes": {
                    "list": {"StringListValues": ["a", "b"], "DataType": "String"},
                    "bin": {"BinaryValue": "AAEC", "DataType": "Binary"},
                },
                "MessageSystemAttributes": {
                    "AWSTraceHeader": {"StringValue": "Root=1", "DataType": "String"}
                },
            })
        );
    }

    #[test]
    fn lists_sort_by_index_tolerate_gaps_and_accept_aliases() {
        let decode = |pairs: &[(&str, &str)]| {
            decode_input(sqs_query_model(), "ReceiveMessage", &params(pairs)).unwrap()
        };
        assert_eq!(
            decode(&[
                ("QueueUrl", "q"),
                ("AttributeName.10", "C"),
                ("AttributeName.2", "B"),
                ("AttributeName.0", "zero is not an index"),
                ("AttributeName.x", "nor is x"),
                ("AttributeName.1", "A"),
                ("MessageSystemAttributeName.1", "All"),
                ("MessageAttributeName.1", "m"),
                ("MaxNumberOfMessages", "10"),
            ]),
            json!({
                "QueueUrl": "q",
                "AttributeNames": ["A", "B", "C"],
                "MessageSystemAttributeNames": ["All"],
                "MessageAttributeNames": ["m"],
                "MaxNumberOfMessages": 10,
            })
        );
        // Bare `AttributeName=All`, the member-name spelling, and botocore's empty list.
        assert_eq!(
            decode(&[
                ("QueueUrl", "q"),
                ("AttributeName", "All"),
                ("MessageSystemAttributeNames.1", "SenderId"),
                ("MessageAttributeNames", ""),
            ]),
            json!({
                "QueueUrl": "q",
                "AttributeNames": ["All"],
                "MessageSystemAttributeNames": ["SenderId"],
                "MessageAttributeNames": [],
            })
        );
        // First value of a repeated key wins.
        assert_eq!(
            decode(&[("QueueUrl", "a"), ("QueueUrl", "b")]),
            json!({"QueueUrl": "a"})
        );
    }

    #[test]
    fn batch_entries_and_tags() {
        let input = decode_input(
            sqs_query_model(),
            "SendMessageBatch",
            &params(&[
                ("QueueUrl", "q"),
                ("SendMessageBatchRequestEntry.1.Id", "a"),
                ("SendMessageBatchRequestEntry.1.MessageBody", "x"),
                ("SendMessageBatchRequestEntry.3.Id", "b"),
                ("SendMessageBatchRequestEntry.3.MessageBody", "y"),
                (
                    "SendMessageBatchRequestEntry.3.MessageAttribute.1.Name",
                    "n",
                ),
                (
                    "SendMessageBatchRequestEntry.3.MessageAttribute.1.Value.DataType",
                    "Number",
                ),
                (
                    "SendMessageBatchRequestEntry.3.MessageAttribute.1.Value.StringValue",
                    "1",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(
            input,
            json!({"QueueUrl": "q", "Entries": [
                {"Id": "a", "MessageBody": "x"},
                {"Id": "b", "MessageBody": "y",
                 "MessageAttributes": {"n": {"StringValue": "1", "DataType": "Number"}}},
            ]})
        );
        let create = decode_input(
            sqs_query_model(),
            "CreateQueue",
            &params(&[
                ("QueueName", "q"),
                ("Attribute.1.Name", "DelaySeconds"),
                ("Attribute.1.Value", "0"),
                ("Attribute.2.Name", "NoValue"),
                ("Attribute.3.Value", "no name"),
                ("Tag.1.Key", "team"),
                ("Tag.1.Value", "a"),
            ]),
        )
        .unwrap();
        assert_eq!(
            create,
            json!({"QueueName": "q", "Attributes": {"DelaySeconds": "0"}, "tags": {"team": "a"}})
        );
    }

    #[test]
    fn sns_wrapped_lists_and_entry_maps() {
        let input = decode_input(
            sns_model(),
            "CreateTopic",
            &params(&[
                ("Name", "t"),
                ("Attributes.entry.1.key", "FifoTopic"),
                ("Attributes.entry.1.value", "true"),
                ("Tags.member.1.Key", "k"),
                ("Tags.member.1.Value", "v"),
            ]),
        )
        .unwrap();
        assert_eq!(
            input,
            json!({"Name": "t", "Attributes": {"FifoTopic": "true"},
                   "Tags": [{"Key": "k", "Value": "v"}]})
        );
        let publish = decode_input(
            sns_model(),
            "Publish",
            &params(&[
                ("Message", "m"),
                ("MessageAttributes.entry.1.Name", "a"),
                ("MessageAttributes.entry.1.Value.DataType", "String"),
                ("MessageAttributes.entry.1.Value.StringValue", "v"),
            ]),
        )
        .unwrap();
        assert_eq!(
            publish,
            json!({"Message": "m", "MessageAttributes": {"a": {"DataType": "String", "StringValue": "v"}}})
        );
        let opt_in = decode_input(sns_model(), "ListTopics", &params(&[])).unwrap();
        assert_eq!(opt_in, json!({}));
    }

    #[test]
    fn malformed_scalars_are_invalid_parameter_values() {
        let err = decode_input(
            sqs_query_model(),
            "ReceiveMessage",
            &params(&[("QueueUrl", "q"), ("MaxNumberOfMessages", "ten")]),
        )
        .unwrap_err();
        assert_eq!(
            err,
            QueryDecodeError::InvalidValue {
                param: "MaxNumberOfMessages".into(),
                value: "ten".into(),
                expected: "an integer",
            }
        );
        let aws = AwsError::from(err);
        assert_eq!(
            (aws.code.as_str(), aws.status, aws.sender_fault),
            ("InvalidParameterValue", 400, true)
        );
        assert_eq!(
            aws.message,
            "Value ten for parameter MaxNumberOfMessages is invalid. Reason: Must be an integer."
        );
        let too_big = decode_input(
            sqs_query_model(),
            "SendMessage",
            &params(&[("DelaySeconds", "2147483648")]),
        );
        assert!(too_big.is_err());
        let boolean = decode_input(
            sns_model(),
            "Subscribe",
            &params(&[("ReturnSubscriptionArn", "yes")]),
        );
        assert_eq!(boolean.unwrap_err().code(), "InvalidParameterValue");
        let ok = decode_input(
            sns_model(),
            "Subscribe",
            &params(&[("ReturnSubscriptionArn", "TRUE")]),
        );
        assert_eq!(ok.unwrap(), json!({"ReturnSubscriptionArn": true}));

        let unknown = decode_input(sns_model(), "Nope", &[]).unwrap_err();
        assert_eq!(unknown.code(), "InvalidAction");
        assert_eq!(
            unknown.to_string(),
            "The action Nope is not valid for this endpoint."
        );
    }

    #[test]
    fn member_names_are_aliases_only_when_no_member_uses_them_on_the_wire() {
        let model = ServiceModel::from_json(
            r#"{"metadata":{"apiVersion":"1","protocol":"query"},
                "operations":{"Op":{"name":"Op","input":{"shape":"S"}}},
                "shapes":{"S":{"type":"structure","members":{
                    "A":{"shape":"T","locationName":"B"},
                    "B":{"shape":"T","locationName":"C"}}},
                  "T":{"type":"string"}}}"#,
        )
        .unwrap();
        let decode = |pairs: &[(&str, &str)]| decode_input(&model, "Op", &params(pairs)).unwrap();
        assert_eq!(decode(&[("B", "x")]), json!({"A": "x"}));
        assert_eq!(
            decode(&[("A", "x"), ("C", "y")]),
            json!({"A": "x", "B": "y"})
        );
    }

    #[test]
    fn floats_and_other_scalars() {
        let double = ShapeKind::Double;
        assert_eq!(scalar(&double, "p", "1.5").unwrap(), json!(1.5));
        assert_eq!(scalar(&double, "p", "NaN").unwrap(), json!("NaN"));
        assert_eq!(scalar(&double, "p", "-inf").unwrap(), json!("-Infinity"));
        assert_eq!(scalar(&double, "p", "Infinity").unwrap(), json!("Infinity"));
        assert!(scalar(&double, "p", "1,5").is_err());
        assert_eq!(
            scalar(&ShapeKind::Long, "p", "-9000000000").unwrap(),
            json!(-9_000_000_000_i64)
        );
        assert_eq!(
            scalar(&ShapeKind::Timestamp, "p", "2024-01-01T00:00:00Z").unwrap(),
            json!("2024-01-01T00:00:00Z")
        );
        assert_eq!(replace_last_segment("A.B.C", "D"), "A.B.D");
        assert_eq!(replace_last_segment("C", "D"), "D");
    }
}
