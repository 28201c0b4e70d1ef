//! Botocore service models: operations and shapes with the traits the codecs need.
//!
//! The models are botocore's `service-2.json` files with the documentation removed
//! (`scripts/gen-models.py` writes them to `crates/protocol/models/`). Three are bundled:
//! [`sqs_query_model`] (the query-protocol SQS model of botocore 1.31.0, the last one carrying
//! the legacy error codes, merged with members SQS gained since), [`sns_model`] and
//! [`lambda_model`] (rest-json).
//!
//! Invariants after [`ServiceModel::from_json`]: every shape reference (structure members,
//! list members, map keys and values, operation inputs, outputs and errors) names a shape
//! the model defines, structure members keep the model's order, which is the order of
//! XML elements in responses, and a structure's `payload` names one of its members.
//!
//! Trait semantics follow botocore's `ShapeResolver`: a reference's traits override the
//! target shape's, so a member's wire name is the reference's `locationName`, else the target
//! shape's `locationName`, else the member name ([`ShapeRef::serialized_name`]); `flattened`
//! likewise ([`ShapeRef::is_flattened`]).

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::OnceLock;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::error::{Error, Result};

const SQS_QUERY_MODEL_JSON: &str = include_str!("../models/sqs-2012-11-05.query.json");
const SNS_MODEL_JSON: &str = include_str!("../models/sns-2010-03-31.json");
const LAMBDA_MODEL_JSON: &str = include_str!("../models/lambda-2015-03-31.json");

/// The query-protocol SQS model (`2012-11-05`, XML namespace
/// `http://queue.amazonaws.com/doc/2012-11-05/`), with the legacy error codes.
pub fn sqs_query_model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        // The bundled file is checked by this crate's tests; it cannot fail at run time.
        ServiceModel::from_json(SQS_QUERY_MODEL_JSON).expect("bundled SQS model is valid")
    })
}

/// The SNS model (`2010-03-31`, query protocol, XML namespace
/// `http://sns.amazonaws.com/doc/2010-03-31/`).
pub fn sns_model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        // The bundled file is checked by this crate's tests; it cannot fail at run time.
        ServiceModel::from_json(SNS_MODEL_JSON).expect("bundled SNS model is valid")
    })
}

/// The Lambda model (`2015-03-31`, rest-json protocol), for [`crate::rest`].
pub fn lambda_model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        // The bundled file is checked by this crate's tests; it cannot fail at run time.
        ServiceModel::from_json(LAMBDA_MODEL_JSON).expect("bundled Lambda model is valid")
    })
}

/// A loaded service model.
#[derive(Debug, Clone)]
pub struct ServiceModel {
    metadata: Metadata,
    operations: BTreeMap<String, Operation>,
    shapes: BTreeMap<String, Shape>,
}

/// The model's `metadata` block.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Metadata {
    /// The API version, sent as `Version` by query clients, e.g. `2012-11-05`.
    pub api_version: String,
    /// The protocol: `query`, `json`, `rest-json`, `rest-xml`, `ec2`, ...
    pub protocol: String,
    /// The protocols the service speaks, newest models only.
    #[serde(default)]
    pub protocols: Vec<String>,
    /// The XML namespace of query/XML responses.
    #[serde(default)]
    pub xml_namespace: Option<String>,
    /// The service id, e.g. `SQS`.
    #[serde(default)]
    pub service_id: Option<String>,
    /// The endpoint prefix, e.g. `sqs`.
    #[serde(default)]
    pub endpoint_prefix: Option<String>,
    /// The SigV4 signing name when it differs from the endpoint prefix.
    #[serde(default)]
    pub signing_name: Option<String>,
    /// The awsJson `X-Amz-Target` prefix.
    #[serde(default)]
    pub target_prefix: Option<String>,
    /// The awsJson version, `1.0` or `1.1`.
    #[serde(default)]
    pub json_version: Option<String>,
    /// The model uid, e.g. `sqs-2012-11-05`.
    #[serde(default)]
    pub uid: Option<String>,
    /// Present (as `{}`) on JSON models of former query services (SQS).
    #[serde(default)]
    pub aws_query_compatible: Option<serde_json::Value>,
}

/// An operation: its HTTP binding, input, output and modeled errors.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Operation {
    /// The operation name, e.g. `SendMessage` (the query `Action`).
    pub name: String,
    /// The HTTP binding.
    pub http: Http,
    /// The input shape, `None` for operations without input.
    pub input: Option<ShapeRef>,
    /// The output shape with its `resultWrapper`, `None` for operations without output.
    pub output: Option<ShapeRef>,
    /// The modeled error shapes.
    pub errors: Vec<ShapeRef>,
    /// Whether the operation is deprecated.
    pub deprecated: bool,
}

/// An operation's HTTP binding.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Http {
    /// The method, `POST` for every query operation.
    #[serde(default)]
    pub method: String,
    /// The request URI template, `/` for query operations. REST protocols bind members to
    /// `{Label}` and greedy `{Label+}` path segments, and may end in a literal query
    /// (`/2018-10-31/layers?find=LayerVersion`) a request must carry; see [`crate::rest`].
    #[serde(default)]
    pub request_uri: String,
    /// The success status code when it is not 200.
    #[serde(default)]
    pub response_code: Option<u16>,
}

/// A reference to a shape with the traits the reference adds (a structure member, a list
/// member, a map key or value, an operation input or output).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ShapeRef {
    /// The target shape's name.
    pub shape: String,
    /// The wire name (`locationName`).
    #[serde(default)]
    pub location_name: Option<String>,
    /// Where a REST protocol binds the member: `uri`, `querystring`, `header`, `headers`
    /// (a map of headers sharing the `locationName` prefix) or `statusCode`; `None` for the
    /// body.
    #[serde(default)]
    pub location: Option<String>,
    /// Overrides the target shape's `flattened`.
    #[serde(default)]
    pub flattened: Option<bool>,
    /// The element's XML namespace.
    #[serde(default)]
    pub xml_namespace: Option<XmlNamespace>,
    /// Whether the member is an XML attribute of its parent element.
    #[serde(default)]
    pub xml_attribute: bool,
    /// On operation outputs: the element wrapping the output members in a query response.
    #[serde(default)]
    pub result_wrapper: Option<String>,
    /// Overrides the target shape's `timestampFormat`.
    #[serde(default)]
    pub timestamp_format: Option<String>,
    /// Whether a client fills the member with a fresh token when it is absent.
    #[serde(default)]
    pub idempotency_token: bool,
    /// Whether the member is deprecated.
    #[serde(default)]
    pub deprecated: bool,
    /// Whether a string bound to a header carries JSON (base64 of its text on the wire).
    #[serde(default)]
    pub jsonvalue: bool,
}

impl ShapeRef {
    /// The name this reference has on the wire: its `locationName`, else the target shape's
    /// `locationName`, else `default` (the member name).
    pub fn serialized_name<'a>(&'a self, target: &'a Shape, default: &'a str) -> &'a str {
        self.location_name
            .as_deref()
            .or(target.location_name.as_deref())
            .unwrap_or(default)
    }

    /// Whether the referenced list or map is flattened (the reference's trait, else the
    /// target shape's).
    pub fn is_flattened(&self, target: &Shape) -> bool {
        self.flattened.unwrap_or(target.flattened)
    }

    /// The timestamp format of the reference (its own trait, else the target shape's), when
    /// the model says.
    pub fn timestamp_format<'a>(&'a self, target: &'a Shape) -> Option<&'a str> {
        self.timestamp_format
            .as_deref()
            .or(target.timestamp_format.as_deref())
    }

    /// Whether the referenced string carries JSON text (botocore's `jsonvalue`, on the
    /// reference or the target shape).
    pub fn is_json_value(&self, target: &Shape) -> bool {
        self.jsonvalue || target.jsonvalue
    }
}

/// An XML namespace trait (`{"uri": ..., "prefix": ...}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "RawXmlNamespace")]
#[non_exhaustive]
pub struct XmlNamespace {
    /// The namespace URI.
    pub uri: String,
    /// The prefix, `None` for a default namespace.
    pub prefix: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawXmlNamespace {
    Uri(String),
    Full { uri: String, prefix: Option<String> },
}

impl From<RawXmlNamespace> for XmlNamespace {
    fn from(raw: RawXmlNamespace) -> Self {
        match raw {
            RawXmlNamespace::Uri(uri) => Self { uri, prefix: None },
            RawXmlNamespace::Full { uri, prefix } => Self { uri, prefix },
        }
    }
}

/// The `error` trait of an exception shape.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ErrorTrait {
    /// The query-protocol error code, e.g. `AWS.SimpleQueueService.NonExistentQueue`.
    #[serde(default)]
    pub code: Option<String>,
    /// The HTTP status.
    #[serde(default)]
    pub http_status_code: Option<u16>,
    /// `true` for `Sender` faults.
    #[serde(default)]
    pub sender_fault: bool,
}

/// A structure member.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Member {
    /// The member name (the awsJson key).
    pub name: String,
    /// The member's target and traits.
    pub target: ShapeRef,
    /// Whether the structure lists the member as required.
    pub required: bool,
}

/// What kind of value a shape describes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ShapeKind {
    /// Named members, in model order.
    Structure {
        /// The members.
        members: Vec<Member>,
    },
    /// A list of one member shape.
    List {
        /// The element reference.
        member: ShapeRef,
    },
    /// A map from key to value shapes.
    Map {
        /// The key reference.
        key: ShapeRef,
        /// The value reference.
        value: ShapeRef,
    },
    /// Text.
    String,
    /// A single character (text).
    Character,
    /// A 8-bit integer.
    Byte,
    /// A 16-bit integer.
    Short,
    /// A 32-bit integer.
    Integer,
    /// A 64-bit integer.
    Long,
    /// An arbitrary-size integer.
    BigInteger,
    /// An arbitrary-precision decimal.
    BigDecimal,
    /// `true` or `false`.
    Boolean,
    /// Bytes, base64 on the wire.
    Blob,
    /// A point in time.
    Timestamp,
    /// A 64-bit float.
    Double,
    /// A 32-bit float.
    Float,
}

impl ShapeKind {
    /// Whether the shape is a scalar (neither structure, list nor map).
    pub fn is_scalar(&self) -> bool {
        !matches!(
            self,
            Self::Structure { .. } | Self::List { .. } | Self::Map { .. }
        )
    }
}

/// A shape with its traits.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Shape {
    /// The shape name.
    pub name: String,
    /// The kind and its nested references.
    pub kind: ShapeKind,
    /// The shape's own wire name (`locationName`), used when a reference has none.
    pub location_name: Option<String>,
    /// Whether a list or map is flattened (no wrapping element).
    pub flattened: bool,
    /// The XML namespace of the shape's element.
    pub xml_namespace: Option<XmlNamespace>,
    /// Allowed values of a string shape.
    pub enum_values: Vec<String>,
    /// Minimum length, size or value.
    pub min: Option<f64>,
    /// Maximum length, size or value.
    pub max: Option<f64>,
    /// The regular expression a string matches.
    pub pattern: Option<String>,
    /// The `error` trait of exception shapes.
    pub error: Option<ErrorTrait>,
    /// Whether the shape is an exception.
    pub exception: bool,
    /// Whether the exception is the service's fault.
    pub fault: bool,
    /// `iso8601`, `unixTimestamp` or `rfc822` for timestamps, when the model says.
    pub timestamp_format: Option<String>,
    /// Whether values are sensitive (not to be logged).
    pub sensitive: bool,
    /// Whether the shape is deprecated.
    pub deprecated: bool,
    /// On REST input and output structures: the member that is the whole HTTP body.
    pub payload: Option<String>,
    /// Whether a blob or string is streamed (a `payload` of unbounded size).
    pub streaming: bool,
    /// Whether the structure is an event stream (`eventstream`).
    pub event_stream: bool,
    /// Whether the structure is a document: any JSON value, passed on as it is.
    pub document: bool,
    /// Whether a string carries JSON text (`jsonvalue`; see [`ShapeRef::is_json_value`]).
    pub jsonvalue: bool,
}

impl Shape {
    /// The members of a structure, empty for other kinds.
    pub fn members(&self) -> &[Member] {
        match &self.kind {
            ShapeKind::Structure { members } => members,
            _ => &[],
        }
    }

    /// The structure member called `name`.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members().iter().find(|m| m.name == name)
    }
}

impl ServiceModel {
    /// Loads a botocore `service-2.json` (with or without documentation) and checks that
    /// every shape reference resolves.
    pub fn from_json(text: &str) -> Result<Self> {
        let raw: RawModel = serde_json::from_str(text)?;
        let mut shapes = BTreeMap::new();
        for (name, raw_shape) in raw.shapes {
            let shape = raw_shape.into_shape(&name)?;
            shapes.insert(name, shape);
        }
        let mut operations = BTreeMap::new();
        for (key, op) in raw.operations {
            let name = op.name.unwrap_or_else(|| key.clone());
            operations.insert(
                key,
                Operation {
                    name,
                    http: op.http,
                    input: op.input,
                    output: op.output,
                    errors: op.errors,
                    deprecated: op.deprecated,
                },
            );
        }
        let model = Self {
            metadata: raw.metadata,
            operations,
            shapes,
        };
        model.check_references()?;
        Ok(model)
    }

    fn check_references(&self) -> Result<()> {
        let missing = |owner: &str, target: &str| {
            Error::InvalidModel(format!("{owner} refers to undefined shape {target}"))
        };
        for shape in self.shapes.values() {
            let refs: Vec<&ShapeRef> = match &shape.kind {
                ShapeKind::Structure { members } => members.iter().map(|m| &m.target).collect(),
                ShapeKind::List { member } => vec![member],
                ShapeKind::Map { key, value } => vec![key, value],
                _ => Vec::new(),
            };
            for r in refs {
                if !self.shapes.contains_key(&r.shape) {
                    return Err(missing(&shape.name, &r.shape));
                }
            }
            if let Some(payload) = &shape.payload
                && shape.member(payload).is_none()
            {
                return Err(Error::InvalidModel(format!(
                    "payload {payload} of {} is not one of its members",
                    shape.name
                )));
            }
        }
        for op in self.operations.values() {
            let refs = op.input.iter().chain(&op.output).chain(&op.errors);
            for r in refs {
                if !self.shapes.contains_key(&r.shape) {
                    return Err(missing(&op.name, &r.shape));
                }
            }
            for r in op.input.iter().chain(&op.output) {
                if !matches!(self.shapes[&r.shape].kind, ShapeKind::Structure { .. }) {
                    return Err(Error::InvalidModel(format!(
                        "{}: input and output must be structures, {} is not",
                        op.name, r.shape
                    )));
                }
            }
        }
        Ok(())
    }

    /// The `metadata` block.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The operation called `name` (case-sensitive, like AWS's `Action`).
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    /// All operations, by name.
    pub fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.operations.values()
    }

    /// The shape called `name`.
    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    /// All shapes, by name.
    pub fn shapes(&self) -> impl Iterator<Item = &Shape> {
        self.shapes.values()
    }

    /// The exception shape whose query code (`error.code`) or name is `code`, e.g.
    /// `AWS.SimpleQueueService.NonExistentQueue` → `QueueDoesNotExist`.
    pub fn error_shape(&self, code: &str) -> Option<&Shape> {
        let by_code = self.shapes.values().find(|s| {
            s.exception && s.error.as_ref().and_then(|e| e.code.as_deref()) == Some(code)
        });
        by_code.or_else(|| self.shapes.get(code).filter(|s| s.exception))
    }

    /// The XML namespace of query responses, empty when the model has none.
    pub fn xml_namespace(&self) -> &str {
        self.metadata.xml_namespace.as_deref().unwrap_or("")
    }
}

#[derive(Deserialize)]
struct RawModel {
    metadata: Metadata,
    #[serde(default)]
    operations: BTreeMap<String, RawOperation>,
    #[serde(default)]
    shapes: BTreeMap<String, RawShape>,
}

#[derive(Deserialize)]
struct RawOperation {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    http: Http,
    #[serde(default)]
    input: Option<ShapeRef>,
    #[serde(default)]
    output: Option<ShapeRef>,
    #[serde(default)]
    errors: Vec<ShapeRef>,
    #[serde(default)]
    deprecated: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawShape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    members: Ordered<ShapeRef>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    member: Option<ShapeRef>,
    #[serde(default)]
    key: Option<ShapeRef>,
    #[serde(default)]
    value: Option<ShapeRef>,
    #[serde(default)]
    location_name: Option<String>,
    #[serde(default)]
    flattened: bool,
    #[serde(default)]
    xml_namespace: Option<XmlNamespace>,
    #[serde(default, rename = "enum")]
    enum_values: Vec<String>,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default)]
    error: Option<ErrorTrait>,
    #[serde(default)]
    exception: bool,
    #[serde(default)]
    fault: bool,
    #[serde(default)]
    timestamp_format: Option<String>,
    #[serde(default)]
    sensitive: bool,
    #[serde(default)]
    deprecated: bool,
    #[serde(default)]
    payload: Option<String>,
    #[serde(default)]
    streaming: bool,
    #[serde(default)]
    eventstream: bool,
    #[serde(default)]
    document: bool,
    #[serde(default)]
    jsonvalue: bool,
}

impl RawShape {
    fn into_shape(self, name: &str) -> Result<Shape> {
        let need = |r: Option<ShapeRef>, what: &str| {
            r.ok_or_else(|| {
                Error::InvalidModel(format!("{} shape {name} has no {what}", self.kind))
            })
        };
        let kind = match self.kind.as_str() {
            "structure" => {
                let required = &self.required;
                let members = self
                    .members
                    .0
                    .into_iter()
                    .map(|(member_name, target)| Member {
                        required: required.contains(&member_name),
                        name: member_name,
                        target,
                    })
                    .collect();
                ShapeKind::Structure { members }
            }
            "list" => ShapeKind::List {
                member: need(self.member, "member")?,
            },
            "map" => ShapeKind::Map {
                key: need(self.key, "key")?,
                value: need(self.value, "value")?,
            },
            "string" => ShapeKind::String,
            "character" => ShapeKind::Character,
            "byte" => ShapeKind::Byte,
            "short" => ShapeKind::Short,
            "integer" => ShapeKind::Integer,
            "long" => ShapeKind::Long,
            "bigInteger" | "biginteger" => ShapeKind::BigInteger,
            "bigDecimal" | "bigdecimal" => ShapeKind::BigDecimal,
            "boolean" => ShapeKind::Boolean,
            "blob" => ShapeKind::Blob,
            "timestamp" => ShapeKind::Timestamp,
            "double" => ShapeKind::Double,
            "float" => ShapeKind::Float,
            other => {
                return Err(Error::InvalidModel(format!(
                    "shape {name} has unsupported type {other}"
                )));
            }
        };
        Ok(Shape {
            name: name.to_owned(),
            kind,
            location_name: self.location_name,
            flattened: self.flattened,
            xml_namespace: self.xml_namespace,
            enum_values: self.enum_values,
            min: self.min,
            max: self.max,
            pattern: self.pattern,
            error: self.error,
            exception: self.exception,
            fault: self.fault,
            timestamp_format: self.timestamp_format,
            sensitive: self.sensitive,
            deprecated: self.deprecated,
            payload: self.payload,
            streaming: self.streaming,
            event_stream: self.eventstream,
            document: self.document,
            jsonvalue: self.jsonvalue,
        })
    }
}

/// A JSON object read as `(key, value)` pairs in document order.
struct Ordered<T>(Vec<(String, T)>);

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for OrderedVisitor<T> {
            type Value = Ordered<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, T>()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }

        deserializer.deserialize_map(OrderedVisitor(PhantomData))
    }
}

/// A scalar sent as text (a query parameter, a URI label, a header) in the awsJson form of its
/// shape: integers, booleans (`true`/`false`, any case) and floats parsed (non-finite floats as
/// awsJson's `"NaN"` / `"Infinity"` / `"-Infinity"`); strings, blobs (base64 text), timestamps,
/// big numbers and characters as sent. `Err` names what the text should have been ("an
/// integer"), for the protocol's own error.
pub(crate) fn scalar_from_text(kind: &ShapeKind, text: &str) -> Result<Value, &'static str> {
    Ok(match kind {
        ShapeKind::Byte => Value::from(text.parse::<i8>().map_err(|_| "a byte")?),
        ShapeKind::Short => Value::from(text.parse::<i16>().map_err(|_| "a short")?),
        ShapeKind::Integer => Value::from(text.parse::<i32>().map_err(|_| "an integer")?),
        ShapeKind::Long => Value::from(text.parse::<i64>().map_err(|_| "a long")?),
        ShapeKind::Boolean => {
            if text.eq_ignore_ascii_case("true") {
                Value::Bool(true)
            } else if text.eq_ignore_ascii_case("false") {
                Value::Bool(false)
            } else {
                return Err("a boolean");
            }
        }
        ShapeKind::Double | ShapeKind::Float => {
            let number = text.parse::<f64>().map_err(|_| "a number")?;
            match serde_json::Number::from_f64(number) {
                Some(n) => Value::Number(n),
                // awsJson sends the non-finite values as these strings.
                None if number.is_nan() => Value::from("NaN"),
                None if number > 0.0 => Value::from("Infinity"),
                None => Value::from("-Infinity"),
            }
        }
        _ => Value::from(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_sqs_model_has_query_traits_and_legacy_codes() {
        let model = sqs_query_model();
        let meta = model.metadata();
        assert_eq!(meta.protocol, "query");
        assert_eq!(meta.api_version, "2012-11-05");
        assert_eq!(
            model.xml_namespace(),
            "http://queue.amazonaws.com/doc/2012-11-05/"
        );

        let send = model.operation("SendMessage").unwrap();
        assert_eq!(
            send.output.as_ref().unwrap().result_wrapper.as_deref(),
            Some("SendMessageResult")
        );
        assert!(model.operation("DeleteQueue").unwrap().output.is_none());
        assert!(model.operation("sendmessage").is_none());

        // Member order is the model's, and member traits override shape traits.
        let input = model.shape("SendMessageRequest").unwrap();
        let names: Vec<_> = input.members().iter().map(|m| m.name.as_str()).collect();
        assert_eq!(&names[..3], ["QueueUrl", "MessageBody", "DelaySeconds"]);
        assert!(input.member("QueueUrl").unwrap().required);
        assert!(!input.member("DelaySeconds").unwrap().required);
        let attrs = input.member("MessageAttributes").unwrap();
        let map = model.shape(&attrs.target.shape).unwrap();
        assert_eq!(
            attrs.target.serialized_name(map, &attrs.name),
            "MessageAttribute"
        );
        assert!(attrs.target.is_flattened(map));
        let ShapeKind::Map { key, value } = &map.kind else {
            panic!("not a map")
        };
        assert_eq!(
            (key.location_name.as_deref(), value.location_name.as_deref()),
            (Some("Name"), Some("Value"))
        );

        // A shape's own locationName applies when the member has none.
        let queue_attrs = model.shape("QueueAttributeMap").unwrap();
        assert_eq!(queue_attrs.location_name.as_deref(), Some("Attribute"));
        let get_attrs = model.shape("GetQueueAttributesResult").unwrap();
        let m = get_attrs.member("Attributes").unwrap();
        assert_eq!(m.target.serialized_name(queue_attrs, &m.name), "Attribute");

        let missing = model.shape("QueueDoesNotExist").unwrap();
        let err = missing.error.as_ref().unwrap();
        assert_eq!(
            err.code.as_deref(),
            Some("AWS.SimpleQueueService.NonExistentQueue")
        );
        assert_eq!((err.http_status_code, err.sender_fault), (Some(400), true));
        assert_eq!(
            model
                .error_shape("AWS.SimpleQueueService.NonExistentQueue")
                .map(|s| s.name.as_str()),
            Some("QueueDoesNotExist")
        );
        assert_eq!(
            model.error_shape("KmsThrottled").map(|s| s.name.as_str()),
            Some("KmsThrottled")
        );
        assert!(model.error_shape("SendMessageRequest").is_none());

        // Merged from the current JSON model.
        let receive = model.shape("ReceiveMessageRequest").unwrap();
        assert!(receive.member("MessageSystemAttributeNames").is_some());
        assert!(
            model
                .shape("QueueAttributeName")
                .unwrap()
                .enum_values
                .contains(&"All".to_owned())
        );
    }

    #[test]
    fn bundled_sns_model_loads() {
        let model = sns_model();
        assert_eq!(model.metadata().protocol, "query");
        assert_eq!(
            model.xml_namespace(),
            "http://sns.amazonaws.com/doc/2010-03-31/"
        );
        let publish = model.operation("Publish").unwrap();
        assert_eq!(publish.input.as_ref().unwrap().shape, "PublishInput");
        assert!(
            publish
                .errors
                .iter()
                .any(|e| e.shape == "NotFoundException")
        );
        let topic = model.shape("topicName").unwrap();
        assert_eq!(topic.kind, ShapeKind::String);
        assert!(model.operations().count() >= 42);
        assert!(model.shapes().any(|s| s.kind == ShapeKind::Timestamp));
    }

    #[test]
    fn bundled_lambda_model_has_rest_bindings() {
        let model = lambda_model();
        let meta = model.metadata();
        assert_eq!(
            (meta.protocol.as_str(), meta.api_version.as_str()),
            ("rest-json", "2015-03-31")
        );
        let invoke = model.operation("Invoke").unwrap();
        assert_eq!(
            (
                invoke.http.method.as_str(),
                invoke.http.request_uri.as_str(),
                invoke.http.response_code
            ),
            (
                "POST",
                "/2015-03-31/functions/{FunctionName}/invocations",
                Some(200)
            )
        );
        let input = model.shape("InvocationRequest").unwrap();
        assert_eq!(input.payload.as_deref(), Some("Payload"));
        let header = input.member("InvocationType").unwrap();
        assert_eq!(
            (
                header.target.location.as_deref(),
                header.target.location_name.as_deref()
            ),
            (Some("header"), Some("X-Amz-Invocation-Type"))
        );
        let output = model.shape("InvocationResponse").unwrap();
        assert_eq!(
            output
                .member("StatusCode")
                .unwrap()
                .target
                .location
                .as_deref(),
            Some("statusCode")
        );
        assert!(model.shape("BlobStream").unwrap().streaming);
        assert!(
            model
                .shape("InvokeWithResponseStreamResponseEvent")
                .unwrap()
                .event_stream
        );
        assert_eq!(
            model
                .operation("CreateFunction")
                .unwrap()
                .http
                .response_code,
            Some(201)
        );
        let missing = model.shape("ResourceNotFoundException").unwrap();
        assert_eq!(missing.error.as_ref().unwrap().http_status_code, Some(404));
        assert!(model.operations().count() >= 85);
    }

    #[test]
    fn from_json_rejects_inconsistent_models() {
        let meta = r#""metadata":{"apiVersion":"1","protocol":"query"}"#;
        let dangling = format!(
            r#"{{{meta},"shapes":{{"S":{{"type":"structure","members":{{"A":{{"shape":"Nope"}}}}}}}}}}"#
        );
        assert!(matches!(
            ServiceModel::from_json(&dangling),
            Err(Error::InvalidModel(_))
        ));
        let bad_payload = format!(
            r#"{{{meta},"shapes":{{"S":{{"type":"structure","payload":"B","members":{{}}}}}}}}"#
        );
        assert!(matches!(
            ServiceModel::from_json(&bad_payload),
            Err(Error::InvalidModel(_))
        ));
        let bad_type = format!(r#"{{{meta},"shapes":{{"S":{{"type":"union"}}}}}}"#);
        assert!(matches!(
            ServiceModel::from_json(&bad_type),
            Err(Error::InvalidModel(_))
        ));
        let list = format!(r#"{{{meta},"shapes":{{"L":{{"type":"list"}}}}}}"#);
        assert!(matches!(
            ServiceModel::from_json(&list),
            Err(Error::InvalidModel(_))
        ));
        let op = format!(
            r#"{{{meta},"operations":{{"Op":{{"name":"Op","input":{{"shape":"S"}}}}}},"shapes":{{"S":{{"type":"string"}}}}}}"#
        );
        assert!(matches!(
            ServiceModel::from_json(&op),
            Err(Error::InvalidModel(_))
        ));
        assert!(matches!(
            ServiceModel::from_json("{"),
            Err(Error::ModelJson(_))
        ));

        let ok = format!(
            r#"{{{meta},"operations":{{"Op":{{"input":{{"shape":"S"}}}}}},
              "shapes":{{"S":{{"type":"structure","members":{{"B":{{"shape":"T"}},"A":{{"shape":"T","xmlNamespace":{{"uri":"u","prefix":"p"}}}}}}}},"T":{{"type":"string"}}}}}}"#
        );
        let model = ServiceModel::from_json(&ok).unwrap();
        assert_eq!(model.operation("Op").unwrap().name, "Op");
        let s = model.shape("S").unwrap();
        assert_eq!(s.members()[0].name, "B");
        let ns = s.members()[1].target.xml_namespace.as_ref().unwrap();
        assert_eq!((ns.uri.as_str(), ns.prefix.as_deref()), ("u", Some("p")));
        assert_eq!(model.xml_namespace(), "");
    }
}
