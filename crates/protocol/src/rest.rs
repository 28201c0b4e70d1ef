//! The AWS `restJson1` protocol (botocore's `rest-json`: Lambda, API Gateway v1 and v2), both
//! directions, on plain strings and bytes.
//!
//! A request is routed by method and path ([`match_operation`]), then decoded into the JSON
//! object an awsJson client would send for the same call ([`decode_input`]), so a service
//! adapter sees one input shape whatever the protocol. Outputs in that shape are encoded into
//! status, headers and body ([`encode_output`]); errors into the rest-json error envelope
//! ([`encode_error`], [`encode_modeled_error`]).
//!
//! Bindings (botocore's `BaseRestSerializer` and `BaseRestParser`), per structure member of the
//! operation's input or output, by its `location`:
//! - `uri`: a `{Label}` of the request URI template, one path segment; `{Label+}` is greedy
//!   and spans one or more segments. Clients percent-encode labels (a Lambda ARN's `:` as
//!   `%3A`); [`match_operation`] decodes them after splitting the path.
//! - `querystring`: a query parameter; a list repeats the key (`?A=1&A=2`); a map takes every
//!   parameter no other member (nor the template's literal query) claims.
//! - `header`: a header (names compare case-insensitively); a list is comma-separated, strings
//!   with `,` or `"` double-quoted; a `jsonvalue` string is base64 of JSON text.
//! - `headers`: a map of every header whose name starts with the `locationName` prefix.
//! - `statusCode`: the HTTP status of a response (`Invoke`'s `StatusCode`).
//! - none: a member of the JSON body object, under its wire name (`locationName`, camelCase in
//!   API Gateway v2), recursively; or, when the structure names it as its `payload`, the whole
//!   body: a blob's raw bytes (base64 text in the awsJson shape), a string's text, a
//!   structure's JSON.
//!
//! Text from the URI, query and headers converts by the member's shape: integers, booleans
//! (`true`/`false`, any case) and floats are parsed; timestamps (ISO 8601 in the URI and query,
//! RFC 822 in headers, or epoch seconds) become epoch seconds, awsJson's form, unless the model
//! gives the member an explicit non-epoch `timestampFormat` (then the text is passed on). Body
//! values are passed on as they are (blobs are base64 in both protocols, timestamps use the
//! model's format in both); body keys the model does not describe are dropped, as the query
//! decoder ignores unknown parameters. In responses, header timestamps given as epoch seconds
//! are written in RFC 822 (or the member's `timestampFormat`).
//!
//! Error codes for undecodable requests follow the service's model: a body that is not JSON
//! is `InvalidRequestContentException` (Lambda) or `BadRequestException` (API Gateway), else
//! `SerializationException`; a label, query parameter or header of the wrong type is
//! `InvalidParameterValueException` (Lambda), `BadRequestException` or
//! `SerializationException`. All are 400.
//!
//! Nothing here panics: recursion stops at [`MAX_DEPTH`] levels (deeper values pass on
//! unchanged), header values never carry control characters, and malformed base64 or JSON
//! become errors or fallbacks documented on each function.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use crate::error::AwsError;
use crate::model::{Operation, ServiceModel, Shape, ShapeKind, ShapeRef};
use crate::xml::{civil_from_days, format_timestamp};

/// The `Content-Type` of JSON bodies.
pub const CONTENT_TYPE: &str = "application/json";

/// The header that names the error code of a rest-json error response; botocore prefers it
/// to `code` in the body and drops anything after `:` or up to `#`.
pub const ERROR_TYPE_HEADER: &str = "x-amzn-errortype";

/// The `Type` of errors the caller caused, in Lambda's error bodies.
pub const USER_FAULT: &str = "User";

/// The `Type` of errors on the service's side, in Lambda's error bodies.
pub const SERVICE_FAULT: &str = "Service";

/// The code for requests whose operation the service does not know (404).
pub const UNKNOWN_OPERATION: &str = "UnknownOperationException";

/// The generic restJson1 code for undecodable requests, used when the model has no better one.
pub const SERIALIZATION_EXCEPTION: &str = "SerializationException";

/// Nesting beyond this many levels is passed on unchanged; it bounds recursion.
pub const MAX_DEPTH: usize = 32;

const CONTENT_TYPE_HEADER: &str = "Content-Type";
const LOCATION_URI: &str = "uri";
const LOCATION_QUERY: &str = "querystring";
const LOCATION_HEADER: &str = "header";
const LOCATION_HEADERS: &str = "headers";
const LOCATION_STATUS: &str = "statusCode";
/// Error codes for a body that is not JSON, in order of preference, when the model has them.
const MALFORMED_BODY_CODES: [&str; 2] = ["InvalidRequestContentException", "BadRequestException"];
/// Error codes for a label, query parameter or header of the wrong type, likewise.
const INVALID_VALUE_CODES: [&str; 2] = ["InvalidParameterValueException", "BadRequestException"];

/// Base64 as AWS clients write it; padding optional on input.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const BASE64_URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The operation a request addresses, with its URI labels.
#[derive(Debug, Clone, PartialEq)]
pub struct RestMatch<'m> {
    /// The matched operation.
    pub operation: &'m Operation,
    /// `(label, value)` for each `{Label}` / `{Label+}` of the template (the name without `+`),
    /// percent-decoded, in template order.
    pub labels: Vec<(String, String)>,
}

/// An encoded response: status, headers in order, body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RestResponse {
    /// The HTTP status code.
    pub status: u16,
    /// `(name, value)` pairs; values hold no control characters.
    pub headers: Vec<(String, String)>,
    /// The body, empty for none.
    pub body: Vec<u8>,
}

impl RestResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A rest-json request that cannot be decoded, with what AWS answers for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestDecodeError {
    /// The model has no such operation: [`UNKNOWN_OPERATION`] (404).
    #[error("The operation {0} is not valid for this endpoint.")]
    UnknownOperation(String),
    /// The body (or a structure payload) is not a JSON object (400).
    #[error("Could not parse request body into json: {reason}")]
    MalformedBody {
        /// The AWS error code the service's model calls for (see the module docs).
        code: &'static str,
        /// What the JSON parser reported.
        reason: String,
    },
    /// A label, query parameter or header does not convert to its modeled type (400).
    #[error("Value {value} for {place} {name} is invalid. Reason: Must be {expected}.")]
    InvalidValue {
        /// The AWS error code the service's model calls for (see the module docs).
        code: &'static str,
        /// `path label`, `query parameter` or `header`.
        place: &'static str,
        /// The label, parameter or header name as on the wire.
        name: String,
        /// The value as sent.
        value: String,
        /// What the value must be, e.g. `an integer`.
        expected: &'static str,
    },
}

impl RestDecodeError {
    /// The AWS error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownOperation(_) => UNKNOWN_OPERATION,
            Self::MalformedBody { code, .. } | Self::InvalidValue { code, .. } => code,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::UnknownOperation(_) => 404,
            Self::MalformedBody { .. } | Self::InvalidValue { .. } => 400,
        }
    }

    /// The envelope to send.
    pub fn to_aws_error(&self) -> AwsError {
        AwsError::new(self.code(), self.status(), true, self.to_string())
    }
}

impl From<RestDecodeError> for AwsError {
    fn from(err: RestDecodeError) -> Self {
        err.to_aws_error()
    }
}

/// Finds the operation of `model` a request addresses.
///
/// `path` is the request path as sent (percent-encoded; anything from `?` on is ignored) and
/// `query` its decoded parameters (e.g. [`crate::parse_form`] of the query string). An
/// operation matches when its method equals `method` (ignoring case), its template's segments
/// match the path's (literal segments exactly, `{Label}` one non-empty segment, `{Label+}` one
/// or more; one trailing `/` is optional on either side) and every literal query parameter of
/// the template (`?find=LayerVersion`, `?versions`) is present with that value. Of several
/// matches the most specific wins: more literal segments, then more literal query parameters,
/// then no greedy label, then the same trailing `/`; remaining ties go to the first operation
/// by name.
pub fn match_operation<'m>(
    model: &'m ServiceModel,
    method: &str,
    path: &str,
    query: &[(String, String)],
) -> Option<RestMatch<'m>> {
    let path = path.split('?').next().unwrap_or_default();
    let (segments, trailing) = split_path(path);
    let mut best: Option<(Score, RestMatch<'m>)> = None;
    for operation in model.operations() {
        if !operation.http.method.eq_ignore_ascii_case(method) {
            continue;
        }
        let Some(template) = Template::parse(&operation.http.request_uri) else {
            continue;
        };
        if !template.query_matches(query) {
            continue;
        }
        let Some(labels) = template.match_segments(&segments) else {
            continue;
        };
        let score = template.score(trailing);
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, RestMatch { operation, labels }));
        }
    }
    best.map(|(_, found)| found)
}

/// Literal segments, literal query parameters, no greedy label, same trailing slash.
type Score = (usize, usize, bool, bool);

/// A parsed `requestUri`.
struct Template<'t> {
    segments: Vec<Segment<'t>>,
    trailing: bool,
    query: Vec<(&'t str, Option<&'t str>)>,
}

enum Segment<'t> {
    Literal(&'t str),
    Label(&'t str),
    Greedy(&'t str),
}

impl<'t> Template<'t> {
    /// `None` for templates with more than one greedy label, which cannot be matched.
    fn parse(uri: &'t str) -> Option<Self> {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let (raw, trailing) = split_path(path);
        let segments: Vec<Segment<'t>> = raw
            .into_iter()
            .map(
                |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => match name.strip_suffix('+') {
                        Some(greedy) => Segment::Greedy(greedy),
                        None => Segment::Label(name),
                    },
                    None => Segment::Literal(seg),
                },
            )
            .collect();
        let greedy = segments
            .iter()
            .filter(|s| matches!(s, Segment::Greedy(_)))
            .count();
        if greedy > 1 {
            return None;
        }
        let query = literal_query(query);
        Some(Self {
            segments,
            trailing,
            query,
        })
    }

    fn query_matches(&self, query: &[(String, String)]) -> bool {
        self.query.iter().all(|(key, value)| {
            query
                .iter()
                .any(|(k, v)| k == key && value.is_none_or(|want| v == want))
        })
    }

    fn match_segments(&self, path: &[&str]) -> Option<Vec<(String, String)>> {
        let mut labels = Vec::new();
        let greedy = self
            .segments
            .iter()
            .position(|s| matches!(s, Segment::Greedy(_)));
        let Some(g) = greedy else {
            if path.len() != self.segments.len() {
                return None;
            }
            for (segment, raw) in self.segments.iter().zip(path) {
                match_segment(segment, raw, &mut labels)?;
            }
            return Some(labels);
        };
        if path.len() < self.segments.len() {
            return None;
        }
        let after = self.segments.len() - g - 1;
        let end = path.len() - after;
        for (segment, raw) in self.segments[..g].iter().zip(&path[..g]) {
            match_segment(segment, raw, &mut labels)?;
        }
        let value = decode_segment(&path[g..end].join("/"));
        if value.is_empty() {
            return None;
        }
        if let Segment::Greedy(name) = self.segments[g] {
            labels.push((name.to_owned(), value));
        }
        for (segment, raw) in self.segments[g + 1..].iter().zip(&path[end..]) {
            match_segment(segment, raw, &mut labels)?;
        }
        Some(labels)
    }

    fn score(&self, trailing: bool) -> Score {
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        let greedy = self
            .segments
            .iter()
            .any(|s| matches!(s, Segment::Greedy(_)));
        (
            literals,
            self.query.len(),
            !greedy,
            self.trailing == trailing,
        )
    }
}

fn match_segment(
    segment: &Segment<'_>,
    raw: &str,
    labels: &mut Vec<(String, String)>,
) -> Option<()> {
    match segment {
        Segment::Literal(literal) => (decode_segment(raw) == *literal).then_some(()),
        Segment::Label(name) | Segment::Greedy(name) => {
            if raw.is_empty() {
                return None;
            }
            labels.push(((*name).to_owned(), decode_segment(raw)));
            Some(())
        }
    }
}

/// The path's segments without its leading `/`, and whether it ended in `/`.
fn split_path(path: &str) -> (Vec<&str>, bool) {
    let path = path.strip_prefix('/').unwrap_or(path);
    let (path, trailing) = match path.strip_suffix('/') {
        Some(stripped) => (stripped, true),
        None => (path, false),
    };
    if path.is_empty() {
        (Vec::new(), trailing)
    } else {
        (path.split('/').collect(), trailing)
    }
}

/// The literal query parameters of a template's query part: `a=b&c` → `[(a, b), (c, -)]`.
fn literal_query(query: &str) -> Vec<(&str, Option<&str>)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (p, None),
        })
        .collect()
}

fn decode_segment(raw: &str) -> String {
    percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// Decodes a request for `operation` into the JSON object of its input as an awsJson client
/// would send it (member names as keys; see the module docs for the bindings).
///
/// `labels` are [`RestMatch::labels`]; `query` the decoded query parameters; `headers` the
/// request headers (any case; a header given several times counts once for scalars and is
/// joined with `,` for lists); `body` the raw body. An empty body means no body members (and
/// no payload member); an operation without input decodes to `{}`.
pub fn decode_input(
    model: &ServiceModel,
    operation: &str,
    labels: &[(String, String)],
    query: &[(String, String)],
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Value, RestDecodeError> {
    let op = model
        .operation(operation)
        .ok_or_else(|| RestDecodeError::UnknownOperation(operation.to_owned()))?;
    let Some(input) = op.input.as_ref().and_then(|r| model.shape(&r.shape)) else {
        return Ok(Value::Object(Map::new()));
    };
    let decoder = Decoder {
        model,
        invalid_code: modeled_code(model, &INVALID_VALUE_CODES),
        malformed_code: modeled_code(model, &MALFORMED_BODY_CODES),
    };
    let has_body_members = input.members().iter().any(|m| m.target.location.is_none());
    let mut body_object = match &input.payload {
        None if has_body_members => decoder.body_object(body)?,
        _ => Map::new(),
    };
    // Query parameters a query map must not take: the template's literals and other members'.
    let template_query = op.http.request_uri.split_once('?').map_or("", |(_, q)| q);
    let mut claimed: Vec<&str> = literal_query(template_query)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    for member in input.members() {
        if member.target.location.as_deref() == Some(LOCATION_QUERY)
            && let Some(target) = model.shape(&member.target.shape)
            && !matches!(target.kind, ShapeKind::Map { .. })
        {
            claimed.push(member.target.serialized_name(target, &member.name));
        }
    }

    let mut out = Map::new();
    for member in input.members() {
        let Some(target) = model.shape(&member.target.shape) else {
            continue;
        };
        let r = &member.target;
        let wire = r.serialized_name(target, &member.name);
        let value = match r.location.as_deref() {
            Some(LOCATION_URI) => match labels.iter().find(|(k, _)| k == wire) {
                Some((_, text)) => Some(decoder.scalar(r, target, text, Place::Label, wire)?),
                None => None,
            },
            Some(LOCATION_QUERY) => decoder.query_member(r, target, wire, query, &claimed)?,
            Some(LOCATION_HEADER) => decoder.header_member(r, target, wire, headers)?,
            Some(LOCATION_HEADERS) => decoder.header_map(target, wire, headers)?,
            // Response-only (`statusCode`) and unknown locations bind nothing in a request.
            Some(_) => None,
            None if input.payload.as_deref() == Some(member.name.as_str()) => {
                decoder.payload(target, body)?
            }
            None => body_object
                .remove(wire)
                .filter(|v| !v.is_null())
                .map(|v| from_wire(model, target, v, 0)),
        };
        if let Some(value) = value {
            out.insert(member.name.clone(), value);
        }
    }
    Ok(Value::Object(out))
}

/// The first of `codes` that `model` defines as an exception, else [`SERIALIZATION_EXCEPTION`].
fn modeled_code(model: &ServiceModel, codes: &[&'static str]) -> &'static str {
    codes
        .iter()
        .copied()
        .find(|code| model.shape(code).is_some_and(|s| s.exception))
        .unwrap_or(SERIALIZATION_EXCEPTION)
}

#[derive(Clone, Copy)]
enum Place {
    Label,
    Query,
    Header,
}

impl Place {
    fn name(self) -> &'static str {
        match self {
            Self::Label => "path label",
            Self::Query => "query parameter",
            Self::Header => "header",
        }
    }
}

struct Decoder<'a> {
    model: &'a ServiceModel,
    invalid_code: &'static str,
    malformed_code: &'static str,
}

impl Decoder<'_> {
    fn malformed(&self, reason: impl Into<String>) -> RestDecodeError {
        RestDecodeError::MalformedBody {
            code: self.malformed_code,
            reason: reason.into(),
        }
    }

    fn invalid(
        &self,
        place: Place,
        name: &str,
        value: &str,
        expected: &'static str,
    ) -> RestDecodeError {
        RestDecodeError::InvalidValue {
            code: self.invalid_code,
            place: place.name(),
            name: name.to_owned(),
            value: value.to_owned(),
            expected,
        }
    }

    /// The body as a JSON object; empty (or blank) means `{}`.
    fn body_object(&self, body: &[u8]) -> Result<Map<String, Value>, RestDecodeError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Map::new());
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(self.malformed("the body is not a JSON object")),
            Err(e) => Err(self.malformed(e.to_string())),
        }
    }

    fn payload(&self, shape: &Shape, body: &[u8]) -> Result<Option<Value>, RestDecodeError> {
        if body.is_empty() {
            return Ok(None);
        }
        Ok(match &shape.kind {
            ShapeKind::Blob => Some(Value::String(BASE64.encode(body))),
            ShapeKind::String => Some(Value::String(String::from_utf8_lossy(body).into_owned())),
            // Event streams are not request bodies this codec reads.
            ShapeKind::Structure { .. } if shape.event_stream => None,
            _ => {
                let value: Value =
                    serde_json::from_slice(body).map_err(|e| self.malformed(e.to_string()))?;
                if !shape.document
                    && matches!(shape.kind, ShapeKind::Structure { .. })
                    && !value.is_object()
                {
                    return Err(self.malformed("the body is not a JSON object"));
                }
                Some(from_wire(self.model, shape, value, 0))
            }
        })
    }

    fn query_member(
        &self,
        r: &ShapeRef,
        shape: &Shape,
        wire: &str,
        query: &[(String, String)],
        claimed: &[&str],
    ) -> Result<Option<Value>, RestDecodeError> {
        match &shape.kind {
            ShapeKind::Map { value, .. } => {
                let Some(value_shape) = self.model.shape(&value.shape) else {
                    return Ok(None);
                };
                let mut out = Map::new();
                for (k, v) in query {
                    if claimed.contains(&k.as_str()) {
                        continue;
                    }
                    match &value_shape.kind {
                        ShapeKind::List { member } => {
                            let Some(member_shape) = self.model.shape(&member.shape) else {
                                continue;
                            };
                            let item = self.scalar(member, member_shape, v, Place::Query, k)?;
                            let entry = out
                                .entry(k.clone())
                                .or_insert_with(|| Value::Array(Vec::new()));
                            if let Value::Array(items) = entry {
                                items.push(item);
                            }
                        }
                        _ => {
                            if !out.contains_key(k) {
                                let item = self.scalar(value, value_shape, v, Place::Query, k)?;
                                out.insert(k.clone(), item);
                            }
                        }
                    }
                }
                Ok((!out.is_empty()).then_some(Value::Object(out)))
            }
            ShapeKind::List { member } => {
                let Some(member_shape) = self.model.shape(&member.shape) else {
                    return Ok(None);
                };
                let mut items = Vec::new();
                for (_, v) in query.iter().filter(|(k, _)| k == wire) {
                    items.push(self.scalar(member, member_shape, v, Place::Query, wire)?);
                }
                Ok((!items.is_empty()).then_some(Value::Array(items)))
            }
            _ => match query.iter().find(|(k, _)| k == wire) {
                Some((_, v)) => self.scalar(r, shape, v, Place::Query, wire).map(Some),
                None => Ok(None),
            },
        }
    }

    fn header_member(
        &self,
        r: &ShapeRef,
        shape: &Shape,
        wire: &str,
        headers: &[(String, String)],
    ) -> Result<Option<Value>, RestDecodeError> {
        let mut values = headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(wire))
            .map(|(_, v)| v.trim_matches([' ', '\t']));
        let Some(first) = values.next() else {
            return Ok(None);
        };
        match &shape.kind {
            ShapeKind::List { member } => {
                let Some(member_shape) = self.model.shape(&member.shape) else {
                    return Ok(None);
                };
                let joined = std::iter::once(first)
                    .chain(values)
                    .collect::<Vec<_>>()
                    .join(",");
                let mut items = Vec::new();
                for item in split_header_list(&joined) {
                    items.push(self.scalar(member, member_shape, &item, Place::Header, wire)?);
                }
                Ok(Some(Value::Array(items)))
            }
            ShapeKind::String if r.is_json_value(shape) => {
                let decoded = decode_base64(first)
                    .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
                    .ok_or_else(|| {
                        self.invalid(Place::Header, wire, first, "base64-encoded JSON")
                    })?;
                Ok(Some(decoded))
            }
            _ => self.scalar(r, shape, first, Place::Header, wire).map(Some),
        }
    }

    fn header_map(
        &self,
        shape: &Shape,
        prefix: &str,
        headers: &[(String, String)],
    ) -> Result<Option<Value>, RestDecodeError> {
        let ShapeKind::Map { value, .. } = &shape.kind else {
            return Ok(None);
        };
        let Some(value_shape) = self.model.shape(&value.shape) else {
            return Ok(None);
        };
        let mut out = Map::new();
        for (name, text) in headers {
            let Some(head) = name.get(..prefix.len()) else {
                continue;
            };
            if !head.eq_ignore_ascii_case(prefix) || out.contains_key(&name[prefix.len()..]) {
                continue;
            }
            let text = text.trim_matches([' ', '\t']);
            let item = self.scalar(value, value_shape, text, Place::Header, name)?;
            out.insert(name[prefix.len()..].to_owned(), item);
        }
        Ok((!out.is_empty()).then_some(Value::Object(out)))
    }

    /// Text from the URI, query or headers converted to the shape's awsJson form.
    fn scalar(
        &self,
        r: &ShapeRef,
        shape: &Shape,
        text: &str,
        place: Place,
        name: &str,
    ) -> Result<Value, RestDecodeError> {
        let invalid = |expected| self.invalid(place, name, text, expected);
        Ok(match &shape.kind {
            ShapeKind::Timestamp => match r.timestamp_format(shape) {
                Some(format) if !format.eq_ignore_ascii_case("unixTimestamp") => Value::from(text),
                _ => epoch_value(parse_timestamp(text).ok_or_else(|| invalid("a timestamp"))?),
            },
            kind => crate::model::scalar_from_text(kind, text).map_err(invalid)?,
        })
    }
}

/// Splits a header list value at commas outside double quotes, unquoting quoted items
/// (`a, "b,c", "d\"e"` → `a`, `b,c`, `d"e`) and trimming the others.
fn split_header_list(value: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        let mut item = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => item.extend(chars.next()),
                    '"' => break,
                    other => item.push(other),
                }
            }
            // Skip anything between the closing quote and the next comma.
            for c in chars.by_ref() {
                if c == ',' {
                    break;
                }
            }
            items.push(item);
        } else {
            let mut ended = true;
            for c in chars.by_ref() {
                if c == ',' {
                    ended = false;
                    break;
                }
                item.push(c);
            }
            items.push(item.trim_matches([' ', '\t']).to_owned());
            if ended {
                break;
            }
            continue;
        }
        if chars.peek().is_none() {
            break;
        }
    }
    items
}

/// A JSON body value with wire names (`locationName`) renamed to member names, recursively.
fn from_wire(model: &ServiceModel, shape: &Shape, value: Value, depth: usize) -> Value {
    if depth > MAX_DEPTH || shape.document {
        return value;
    }
    match (&shape.kind, value) {
        (ShapeKind::Structure { members }, Value::Object(mut fields)) => {
            let mut out = Map::new();
            for member in members {
                let Some(target) = model.shape(&member.target.shape) else {
                    continue;
                };
                let wire = member.target.serialized_name(target, &member.name);
                if let Some(v) = fields.remove(wire).filter(|v| !v.is_null()) {
                    out.insert(member.name.clone(), from_wire(model, target, v, depth + 1));
                }
            }
            Value::Object(out)
        }
        (ShapeKind::List { member }, Value::Array(items)) => match model.shape(&member.shape) {
            Some(target) => Value::Array(
                items
                    .into_iter()
                    .map(|v| from_wire(model, target, v, depth + 1))
                    .collect(),
            ),
            None => Value::Array(items),
        },
        (ShapeKind::Map { value, .. }, Value::Object(entries)) => match model.shape(&value.shape) {
            Some(target) => Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, from_wire(model, target, v, depth + 1)))
                    .collect(),
            ),
            None => Value::Object(entries),
        },
        (_, value) => value,
    }
}

/// An awsJson-shaped value with member names renamed to wire names, recursively; members the
/// model does not describe and `null`s are left out.
fn to_wire(model: &ServiceModel, shape: &Shape, value: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH || shape.document {
        return value.clone();
    }
    match (&shape.kind, value) {
        (ShapeKind::Structure { members }, Value::Object(fields)) => {
            let mut out = Map::new();
            for member in members {
                let Some(target) = model.shape(&member.target.shape) else {
                    continue;
                };
                if let Some(v) = fields.get(&member.name).filter(|v| !v.is_null()) {
                    let wire = member.target.serialized_name(target, &member.name);
                    out.insert(wire.to_owned(), to_wire(model, target, v, depth + 1));
                }
            }
            Value::Object(out)
        }
        (ShapeKind::List { member }, Value::Array(items)) => match model.shape(&member.shape) {
            Some(target) => Value::Array(
                items
                    .iter()
                    .map(|v| to_wire(model, target, v, depth + 1))
                    .collect(),
            ),
            None => value.clone(),
        },
        (ShapeKind::Map { value: v_ref, .. }, Value::Object(entries)) => {
            match model.shape(&v_ref.shape) {
                Some(target) => Value::Object(
                    entries
                        .iter()
                        .map(|(k, v)| (k.clone(), to_wire(model, target, v, depth + 1)))
                        .collect(),
                ),
                None => value.clone(),
            }
        }
        _ => value.clone(),
    }
}

/// Encodes the response of `operation` for `output` (its awsJson-shaped output object).
///
/// The status is the output's `statusCode` member when it holds a status (100–599), else the
/// operation's `http.responseCode`, else 200. Header members become headers (in model order;
/// values that do not fit a header are left out, control characters become spaces). With a
/// `payload` member, the body is that member alone: a blob's base64 decoded (text that is not
/// base64 is sent as it is, and a JSON value other than a string as its JSON text), a string's
/// text, a structure's JSON; absent, the body is empty. Otherwise the body is the JSON object
/// of the body members under their wire names. `Content-Type: application/json` accompanies
/// every non-empty body. An operation without output answers with an empty body; one the model
/// does not know with 200 and `{}`.
pub fn encode_output(model: &ServiceModel, operation: &str, output: &Value) -> RestResponse {
    let Some(op) = model.operation(operation) else {
        return finish(200, Vec::new(), Body::Json(Map::new()));
    };
    let status = op.http.response_code.unwrap_or(200);
    let Some(shape) = op.output.as_ref().and_then(|r| model.shape(&r.shape)) else {
        return finish(status, Vec::new(), Body::Raw(Vec::new()));
    };
    let encoded = encode_structure(model, shape, output);
    finish(
        encoded.status.unwrap_or(status),
        encoded.headers,
        encoded.body,
    )
}

/// Encodes `error` as a rest-json error response: its status, [`ERROR_TYPE_HEADER`] with the
/// code, and the body `{"Type": "User"|"Service", "message": "..."}` (Lambda's `Type`;
/// botocore reads the message from `message` or `Message`).
pub fn encode_error(error: &AwsError) -> RestResponse {
    let mut body = Map::new();
    body.insert("Type".into(), fault_type(error).into());
    body.insert("message".into(), error.message.clone().into());
    error_response(error, Vec::new(), Body::Json(body))
}

/// Encodes `error` like [`encode_error`], laid out by its exception shape in `model` (the
/// shape named `error.code`): `fields` (an awsJson-shaped object, e.g.
/// `{"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "retryAfterSeconds": "1"}`)
/// fills the shape's members, header members as headers (`Retry-After`), the rest in the body
/// under their wire names. The message goes into the shape's `message` member whatever its
/// case (`Message` for Lambda's `ResourceNotFoundException`), `Type` into a `Type` member;
/// `fields` take precedence. Without such a shape this is [`encode_error`].
pub fn encode_modeled_error(
    model: &ServiceModel,
    error: &AwsError,
    fields: &Value,
) -> RestResponse {
    let Some(shape) = model.shape(&error.code).filter(|s| s.exception) else {
        return encode_error(error);
    };
    let mut given = fields.as_object().cloned().unwrap_or_default();
    if shape.member("Type").is_some() {
        given
            .entry("Type")
            .or_insert_with(|| fault_type(error).into());
    }
    let message_member = shape
        .members()
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case("message"));
    if let Some(member) = message_member {
        given
            .entry(member.name.clone())
            .or_insert_with(|| error.message.clone().into());
    }
    let encoded = encode_structure(model, shape, &Value::Object(given));
    let body = match encoded.body {
        Body::Json(mut body) => {
            if message_member.is_none() {
                body.insert("message".into(), error.message.clone().into());
            }
            Body::Json(body)
        }
        raw => raw,
    };
    error_response(error, encoded.headers, body)
}

fn fault_type(error: &AwsError) -> &'static str {
    if error.sender_fault {
        USER_FAULT
    } else {
        SERVICE_FAULT
    }
}

fn error_response(error: &AwsError, headers: Vec<(String, String)>, body: Body) -> RestResponse {
    let mut all = vec![(ERROR_TYPE_HEADER.to_owned(), header_value(&error.code))];
    all.extend(headers);
    finish(error.status, all, body)
}

enum Body {
    Json(Map<String, Value>),
    Raw(Vec<u8>),
}

struct Encoded {
    status: Option<u16>,
    headers: Vec<(String, String)>,
    body: Body,
}

fn finish(status: u16, mut headers: Vec<(String, String)>, body: Body) -> RestResponse {
    let body = match body {
        // Serializing a `Value` cannot fail: its keys are strings.
        Body::Json(map) => serde_json::to_vec(&Value::Object(map)).unwrap_or_default(),
        Body::Raw(bytes) => bytes,
    };
    if !body.is_empty() {
        headers.push((CONTENT_TYPE_HEADER.to_owned(), CONTENT_TYPE.to_owned()));
    }
    RestResponse {
        status,
        headers,
        body,
    }
}

fn encode_structure(model: &ServiceModel, shape: &Shape, value: &Value) -> Encoded {
    let fields = value.as_object();
    let mut encoded = Encoded {
        status: None,
        headers: Vec::new(),
        body: match shape.payload {
            Some(_) => Body::Raw(Vec::new()),
            None => Body::Json(Map::new()),
        },
    };
    for member in shape.members() {
        let Some(target) = model.shape(&member.target.shape) else {
            continue;
        };
        let Some(v) = fields
            .and_then(|f| f.get(&member.name))
            .filter(|v| !v.is_null())
        else {
            continue;
        };
        let r = &member.target;
        let wire = r.serialized_name(target, &member.name);
        match r.location.as_deref() {
            Some(LOCATION_HEADER) => {
                if let Some(text) = header_text(model, r, target, v) {
                    encoded.headers.push((wire.to_owned(), header_value(&text)));
                }
            }
            Some(LOCATION_HEADERS) => {
                let (Some(entries), ShapeKind::Map { value: v_ref, .. }) =
                    (v.as_object(), &target.kind)
                else {
                    continue;
                };
                let Some(value_shape) = model.shape(&v_ref.shape) else {
                    continue;
                };
                for (key, item) in entries {
                    let name = format!("{wire}{key}");
                    if is_token(&name)
                        && let Some(text) = header_text(model, v_ref, value_shape, item)
                    {
                        encoded.headers.push((name, header_value(&text)));
                    }
                }
            }
            Some(LOCATION_STATUS) => {
                if let Some(code) = v.as_u64().filter(|c| (100..=599).contains(c)) {
                    encoded.status = u16::try_from(code).ok();
                }
            }
            // Request-only locations (`uri`, `querystring`) bind nothing in a response.
            Some(_) => {}
            None if shape.payload.as_deref() == Some(member.name.as_str()) => {
                encoded.body = Body::Raw(payload_bytes(model, target, v));
            }
            None => {
                if let Body::Json(body) = &mut encoded.body {
                    body.insert(wire.to_owned(), to_wire(model, target, v, 1));
                }
            }
        }
    }
    encoded
}

fn payload_bytes(model: &ServiceModel, shape: &Shape, value: &Value) -> Vec<u8> {
    match (&shape.kind, value) {
        (ShapeKind::Blob, Value::String(text)) => {
            decode_base64(text).unwrap_or_else(|| text.as_bytes().to_vec())
        }
        (ShapeKind::String, Value::String(text)) => text.as_bytes().to_vec(),
        _ => serde_json::to_vec(&to_wire(model, shape, value, 1)).unwrap_or_default(),
    }
}

/// A member's header text, `None` when the value does not fit a header.
fn header_text(model: &ServiceModel, r: &ShapeRef, shape: &Shape, value: &Value) -> Option<String> {
    match (&shape.kind, value) {
        (ShapeKind::List { member }, Value::Array(items)) => {
            let member_shape = model.shape(&member.shape)?;
            let texts: Vec<String> = items
                .iter()
                .filter_map(|item| {
                    let text = header_text(model, member, member_shape, item)?;
                    Some(match member_shape.kind {
                        ShapeKind::String if text.contains([',', '"']) => {
                            format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
                        }
                        _ => text,
                    })
                })
                .collect();
            (!texts.is_empty()).then(|| texts.join(","))
        }
        (ShapeKind::String, v) if r.is_json_value(shape) => {
            Some(BASE64.encode(serde_json::to_string(v).ok()?))
        }
        (ShapeKind::Timestamp, Value::Number(n)) => {
            let seconds = n.as_f64()?;
            match r.timestamp_format(shape) {
                Some(f) if f.eq_ignore_ascii_case("iso8601") => format_timestamp(seconds),
                Some(f) if f.eq_ignore_ascii_case("unixTimestamp") => Some(n.to_string()),
                _ => format_rfc822(seconds).or_else(|| Some(n.to_string())),
            }
        }
        (_, Value::String(s)) => Some(s.clone()),
        (_, Value::Bool(b)) => Some(b.to_string()),
        (_, Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// Header text with control characters (CR and LF above all) replaced by spaces.
fn header_value(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\t' { ' ' } else { c })
        .collect()
}

/// Whether `name` is an HTTP token (a valid header name).
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    BASE64
        .decode(text)
        .or_else(|_| BASE64_URL.decode(text))
        .ok()
}

/// Epoch seconds as awsJson writes them: an integer when whole.
fn epoch_value(seconds: f64) -> Value {
    if seconds.fract() == 0.0 && seconds.abs() < 9.0e15 {
        // Whole and well inside i64 by the check above.
        Value::from(seconds as i64)
    } else {
        serde_json::Number::from_f64(seconds).map_or(Value::Null, Value::Number)
    }
}

/// Parses epoch seconds, ISO 8601 (`2024-01-02T03:04:05.678Z`, `+01:00` offsets) or RFC 822 /
/// IMF-fixdate (`Tue, 02 Jan 2024 03:04:05 GMT`) into epoch seconds.
fn parse_timestamp(text: &str) -> Option<f64> {
    let text = text.trim();
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return text.parse::<f64>().ok().filter(|n| n.is_finite());
    }
    parse_iso8601(text).or_else(|| parse_rfc822(text))
}

fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_iso8601(text: &str) -> Option<f64> {
    let year = digits(text.get(0..4)?)?;
    let month = digits(text.get(5..7)?)?;
    let day = digits(text.get(8..10)?)?;
    let (sep1, sep2, sep3) = (text.get(4..5)?, text.get(7..8)?, text.get(10..11)?);
    if sep1 != "-" || sep2 != "-" || !matches!(sep3, "T" | "t" | " ") {
        return None;
    }
    let hour = digits(text.get(11..13)?)?;
    let minute = digits(text.get(14..16)?)?;
    let second = digits(text.get(17..19)?)?;
    if text.get(13..14)? != ":" || text.get(16..17)? != ":" {
        return None;
    }
    let mut rest = text.get(19..)?;
    let mut fraction = 0.0;
    if let Some(frac) = rest.strip_prefix('.') {
        let len = frac.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        fraction = format!("0.{}", &frac[..len]).parse().ok()?;
        rest = &frac[len..];
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        zone => {
            let sign = match zone.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let zone = &zone[1..];
            let (h, m) = match zone.len() {
                5 if zone.get(2..3)? == ":" => (digits(zone.get(0..2)?)?, digits(zone.get(3..5)?)?),
                4 => (digits(zone.get(0..2)?)?, digits(zone.get(2..4)?)?),
                2 => (digits(zone)?, 0),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let seconds = civil_seconds(year, month, day, hour, minute, second)? - offset;
    // Exact for any realistic instant: |seconds| < 2^53.
    Some(seconds as f64 + fraction)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

fn parse_rfc822(text: &str) -> Option<f64> {
    let mut parts = text.split_whitespace().peekable();
    if parts.peek()?.ends_with(',') {
        parts.next();
    }
    let day = digits(parts.next()?)?;
    let month_name = parts.next()?;
    let month = MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(month_name))?;
    let year = digits(parts.next()?)?;
    let mut clock = parts.next()?.split(':');
    let hour = digits(clock.next()?)?;
    let minute = digits(clock.next()?)?;
    let second = clock.next().map_or(Some(0), digits)?;
    if clock.next().is_some() {
        return None;
    }
    match parts.next() {
        None | Some("GMT" | "UTC" | "Z" | "+0000" | "-0000" | "UT") => {}
        Some(_) => return None,
    }
    if parts.next().is_some() {
        return None;
    }
    // `month` is at most 11: it indexes MONTHS.
    let month = i64::try_from(month).ok()? + 1;
    civil_seconds(year, month, day, hour, minute, second).map(|s| s as f64)
}

/// Seconds since the epoch of a UTC civil time, `None` when a field is out of range.
fn civil_seconds(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
) -> Option<i64> {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=month_days).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// (year, month, day) to days since 1970-01-01, proleptic Gregorian (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Epoch seconds (floored) as an IMF-fixdate, `Tue, 02 Jan 2024 03:04:05 GMT`; `None` for
/// years outside 0..=9999.
fn format_rfc822(seconds: f64) -> Option<String> {
    // 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    if !(-62_167_219_200.0..253_402_300_800.0).contains(&seconds) {
        return None;
    }
    // In range of i64 by the check above.
    let whole = seconds.floor() as i64;
    let (days, in_day) = (whole.div_euclid(86_400), whole.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let weekday = WEEKDAYS.get(usize::try_from((days + 4).rem_euclid(7)).ok()?)?;
    let month_name = MONTHS.get(usize::try_from(month - 1).ok()?)?;
    Some(format!(
        "{weekday}, {day:02} {month_name} {year:04} {:02}:{:02}:{:02} GMT",
        in_day / 3600,
        in_day / 60 % 60,
        in_day % 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lambda_model;
    use serde_json::json;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// A small rest-json model with every binding Lambda does not use: greedy labels, literal
    /// queries, query lists and maps, header lists, prefix maps, `jsonvalue`, timestamps,
    /// camelCase `locationName`s and a structure payload.
    fn synthetic() -> ServiceModel {
        ServiceModel::from_json(
            r#"{"metadata":{"apiVersion":"1","protocol":"rest-json"},
            "operations":{
              "GetObject":{"http":{"method":"GET","requestUri":"/{Bucket}/{Key+}"},
                "input":{"shape":"ObjectInput"},"output":{"shape":"ObjectOutput"}},
              "GetObjectTagging":{"http":{"method":"GET","requestUri":"/{Bucket}/{Key+}?tagging"},
                "input":{"shape":"ObjectInput"}},
              "ListVersions":{"http":{"method":"GET","requestUri":"/{Bucket}?versions"},
                "input":{"shape":"BucketInput"}},
              "ListObjects":{"http":{"method":"GET","requestUri":"/{Bucket}"},
                "input":{"shape":"BucketInput"}},
              "GetInfo":{"http":{"method":"GET","requestUri":"/meta/{Key+}/info"},
                "input":{"shape":"ObjectInput"}},
              "Put":{"http":{"method":"PUT","requestUri":"/things/{Id}","responseCode":201},
                "input":{"shape":"PutInput"},"output":{"shape":"PutOutput"}},
              "Bad":{"http":{"method":"GET","requestUri":"/{A+}/{B+}"}}
            },
            "shapes":{
              "ObjectInput":{"type":"structure","members":{
                "Bucket":{"shape":"S","location":"uri","locationName":"Bucket"},
                "Key":{"shape":"S","location":"uri","locationName":"Key"}}},
              "BucketInput":{"type":"structure","members":{
                "Bucket":{"shape":"S","location":"uri","locationName":"Bucket"}}},
              "PutInput":{"type":"structure","payload":"Body","members":{
                "Id":{"shape":"L","location":"uri","locationName":"Id"},
                "Flag":{"shape":"B","location":"querystring","locationName":"flag"},
                "Names":{"shape":"Names","location":"querystring","locationName":"name"},
                "Extra":{"shape":"QueryMap","location":"querystring"},
                "Since":{"shape":"T","location":"querystring","locationName":"since"},
                "Day":{"shape":"IsoT","location":"querystring","locationName":"day"},
                "Modified":{"shape":"T","location":"header","locationName":"If-Modified-Since"},
                "Tags":{"shape":"Names","location":"header","locationName":"X-Tags"},
                "Meta":{"shape":"StrMap","location":"headers","locationName":"x-meta-"},
                "Context":{"shape":"JsonStr","location":"header","locationName":"X-Context"},
                "Body":{"shape":"Inner"}}},
              "Inner":{"type":"structure","members":{
                "ApiName":{"shape":"S","locationName":"apiName"},
                "Nested":{"shape":"InnerList","locationName":"nested"}}},
              "InnerList":{"type":"list","member":{"shape":"Inner"}},
              "PutOutput":{"type":"structure","members":{
                "Created":{"shape":"T","location":"header","locationName":"X-Created"},
                "Tags":{"shape":"Names","location":"header","locationName":"X-Tags"},
                "Meta":{"shape":"StrMap","location":"headers","locationName":"x-meta-"},
                "Context":{"shape":"JsonStr","location":"header","locationName":"X-Context"},
                "ApiName":{"shape":"S","locationName":"apiName"},
                "Items":{"shape":"InnerList","locationName":"items"},
                "Missing":{"shape":"S","locationName":"missing"}}},
              "ObjectOutput":{"type":"structure","payload":"Body","members":{
                "Body":{"shape":"Blob"},
                "Length":{"shape":"L","location":"header","locationName":"X-Length"}}},
              "QueryMap":{"type":"map","key":{"shape":"S"},"value":{"shape":"Names"}},
              "StrMap":{"type":"map","key":{"shape":"S"},"value":{"shape":"S"}},
              "Names":{"type":"list","member":{"shape":"S"}},
              "JsonStr":{"type":"string","jsonvalue":true},
              "IsoT":{"type":"timestamp","timestampFormat":"iso8601"},
              "S":{"type":"string"},"L":{"type":"long"},"B":{"type":"boolean"},
              "T":{"type":"timestamp"},"Blob":{"type":"blob"},
              "Gone":{"type":"structure","exception":true,"error":{"httpStatusCode":410},
                "members":{"Reason":{"shape":"S","locationName":"reason"}}}
            }}"#,
        )
        .unwrap()
    }

    fn route(
        model: &ServiceModel,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
    ) -> Option<(String, Vec<(String, String)>)> {
        match_operation(model, method, path, &pairs(query))
            .map(|m| (m.operation.name.clone(), m.labels))
    }

    #[test]
    fn lambda_routes_by_method_path_and_literal_query() {
        let m = lambda_model();
        let arn = "arn:aws:lambda:us-east-1:000000000000:function:f";
        assert_eq!(
            route(
                m,
                "GET",
                "/2015-03-31/functions/my-fn",
                &[("Qualifier", "1")]
            ),
            Some(("GetFunction".into(), pairs(&[("FunctionName", "my-fn")])))
        );
        assert_eq!(
            route(m, "get", "/2015-03-31/functions/my-fn/configuration", &[]).map(|r| r.0),
            Some("GetFunctionConfiguration".into())
        );
        // Labels are percent-decoded after the path is split; `+` stays a plus.
        assert_eq!(
            route(
                m,
                "POST",
                "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations?Qualifier=x",
                &[]
            ),
            Some(("Invoke".into(), pairs(&[("FunctionName", arn)])))
        );
        assert_eq!(
            route(m, "GET", "/2017-03-31/tags/a+b%2Fc", &[]),
            Some(("ListTags".into(), pairs(&[("Resource", "a+b/c")])))
        );
        // A literal query wins over the same path without it, and is required.
        assert_eq!(
            route(
                m,
                "GET",
                "/2018-10-31/layers",
                &[("find", "LayerVersion"), ("Arn", "a")]
            )
            .map(|r| r.0),
            Some("GetLayerVersionByArn".into())
        );
        assert_eq!(
            route(m, "GET", "/2018-10-31/layers", &[("find", "Other")]).map(|r| r.0),
            Some("ListLayers".into())
        );
        assert_eq!(
            route(
                m,
                "GET",
                "/2019-09-30/functions/f/provisioned-concurrency",
                &[("List", "ALL")]
            )
            .map(|r| r.0),
            Some("ListProvisionedConcurrencyConfigs".into())
        );
        assert_eq!(
            route(
                m,
                "GET",
                "/2019-09-30/functions/f/provisioned-concurrency",
                &[("Qualifier", "1")]
            )
            .map(|r| r.0),
            Some("GetProvisionedConcurrencyConfig".into())
        );
        // One trailing slash is optional on either side (old SDKs send `invoke-async/`).
        assert_eq!(
            route(m, "POST", "/2014-11-13/functions/f/invoke-async/", &[]).map(|r| r.0),
            Some("InvokeAsync".into())
        );
        assert_eq!(
            route(m, "GET", "/2015-03-31/functions/", &[]).map(|r| r.0),
            Some("ListFunctions".into())
        );
        assert_eq!(
            route(m, "POST", "/2015-03-31/functions", &[]).map(|r| r.0),
            Some("CreateFunction".into())
        );
        // Method, empty labels and unknown paths do not match.
        assert_eq!(route(m, "PATCH", "/2015-03-31/functions/f", &[]), None);
        assert_eq!(
            route(m, "GET", "/2015-03-31/functions//configuration", &[]),
            None
        );
        assert_eq!(route(m, "GET", "/nope", &[]), None);
        assert_eq!(route(m, "GET", "", &[]), None);
    }

    #[test]
    fn greedy_labels_and_specificity() {
        let m = synthetic();
        assert_eq!(
            route(&m, "GET", "/b/a/b%20c/d", &[]),
            Some((
                "GetObject".into(),
                pairs(&[("Bucket", "b"), ("Key", "a/b c/d")])
            ))
        );
        assert_eq!(
            route(&m, "GET", "/b/k", &[("tagging", "")]).map(|r| r.0),
            Some("GetObjectTagging".into())
        );
        assert_eq!(
            route(&m, "GET", "/b", &[("versions", "")]).map(|r| r.0),
            Some("ListVersions".into())
        );
        assert_eq!(
            route(&m, "GET", "/b", &[]).map(|r| r.0),
            Some("ListObjects".into())
        );
        // A greedy label in the middle, and a literal segment beating labels.
        assert_eq!(
            route(&m, "GET", "/meta/x/y/info", &[]),
            Some(("GetInfo".into(), pairs(&[("Key", "x/y")])))
        );
        assert_eq!(
            route(&m, "GET", "/meta/info", &[]).map(|r| r.0),
            Some("GetObject".into())
        );
        // Templates with two greedy labels never match.
        assert!(Template::parse("/{A+}/{B+}").is_none());
        assert_eq!(
            route(&m, "GET", "/x", &[("versions", "1")]).map(|r| r.0),
            Some("ListVersions".into())
        );
    }

    #[test]
    fn lambda_invoke_decodes_headers_query_and_blob_payload() {
        let m = lambda_model();
        let input = decode_input(
            m,
            "Invoke",
            &pairs(&[("FunctionName", "f")]),
            &pairs(&[("Qualifier", "$LATEST"), ("Unknown", "x")]),
            &pairs(&[
                ("x-amz-invocation-type", "Event"),
                ("X-Amz-Log-Type", " Tail "),
                ("X-Amz-Client-Context", "eyJhIjoxfQ=="),
                ("Content-Type", "application/json"),
            ]),
            br#"{"k": [1, 2]}"#,
        )
        .unwrap();
        assert_eq!(
            input,
            json!({
                "FunctionName": "f",
                "InvocationType": "Event",
                "LogType": "Tail",
                "ClientContext": "eyJhIjoxfQ==",
                "Payload": BASE64.encode(br#"{"k": [1, 2]}"#),
                "Qualifier": "$LATEST",
            })
        );
        // No body, no payload member; binary payloads are fine.
        let empty =
            decode_input(m, "Invoke", &pairs(&[("FunctionName", "f")]), &[], &[], b"").unwrap();
        assert_eq!(empty, json!({"FunctionName": "f"}));
        let binary = decode_input(
            m,
            "Invoke",
            &pairs(&[("FunctionName", "f")]),
            &[],
            &[],
            &[0, 255],
        )
        .unwrap();
        assert_eq!(binary["Payload"], "AP8=");
    }

    #[test]
    fn lambda_body_members_and_errors() {
        let m = lambda_model();
        let body = br#"{"FunctionName":"f","Runtime":"python3.12","Role":"r","Handler":"h",
            "Code":{"ZipFile":"UEsDBA=="},"Environment":{"Variables":{"A":"1"}},
            "Tags":{"t":"v"},"MemorySize":256,"Publish":true,"Unknown":{"x":1},"Description":null}"#;
        let input = decode_input(m, "CreateFunction", &[], &[], &[], body).unwrap();
        assert_eq!(
            input,
            json!({"FunctionName":"f","Runtime":"python3.12","Role":"r","Handler":"h",
                   "Code":{"ZipFile":"UEsDBA=="},"Environment":{"Variables":{"A":"1"}},
                   "Tags":{"t":"v"},"MemorySize":256,"Publish":true})
        );
        // An empty body is an empty object.
        assert_eq!(
            decode_input(m, "CreateFunction", &[], &[], &[], b" \n").unwrap(),
            json!({})
        );

        let malformed =
            decode_input(m, "CreateFunction", &[], &[], &[], b"{\"FunctionName\":").unwrap_err();
        assert_eq!(
            (malformed.code(), malformed.status()),
            ("InvalidRequestContentException", 400)
        );
        assert!(
            malformed
                .to_string()
                .starts_with("Could not parse request body into json: "),
            "{malformed}"
        );
        let not_object = decode_input(m, "CreateFunction", &[], &[], &[], b"[1]").unwrap_err();
        assert_eq!(not_object.code(), "InvalidRequestContentException");

        let list = decode_input(
            m,
            "ListFunctions",
            &[],
            &pairs(&[("MaxItems", "50"), ("Marker", "m"), ("MaxItems", "1")]),
            &[],
            b"",
        )
        .unwrap();
        assert_eq!(list, json!({"Marker": "m", "MaxItems": 50}));
        let bad = decode_input(
            m,
            "ListFunctions",
            &[],
            &pairs(&[("MaxItems", "ten")]),
            &[],
            b"",
        )
        .unwrap_err();
        assert_eq!(
            bad,
            RestDecodeError::InvalidValue {
                code: "InvalidParameterValueException",
                place: "query parameter",
                name: "MaxItems".into(),
                value: "ten".into(),
                expected: "an integer",
            }
        );
        let aws = AwsError::from(bad);
        assert_eq!(
            (aws.code.as_str(), aws.status, aws.sender_fault),
            ("InvalidParameterValueException", 400, true)
        );
        assert_eq!(
            aws.message,
            "Value ten for query parameter MaxItems is invalid. Reason: Must be an integer."
        );
        // A `long` label (layer version numbers).
        let layer = decode_input(
            m,
            "GetLayerVersion",
            &pairs(&[("LayerName", "l"), ("VersionNumber", "3")]),
            &[],
            &[],
            b"",
        )
        .unwrap();
        assert_eq!(layer, json!({"LayerName": "l", "VersionNumber": 3}));
        assert!(
            decode_input(
                m,
                "GetLayerVersion",
                &pairs(&[("VersionNumber", "x")]),
                &[],
                &[],
                b""
            )
            .is_err()
        );

        let unknown = decode_input(m, "Nope", &[], &[], &[], b"").unwrap_err();
        assert_eq!((unknown.code(), unknown.status()), (UNKNOWN_OPERATION, 404));
    }

    #[test]
    fn every_binding_decodes() {
        let m = synthetic();
        let context = BASE64.encode(br#"{"a":[1,true]}"#);
        let input = decode_input(
            &m,
            "Put",
            &pairs(&[("Id", "-7")]),
            &pairs(&[
                ("flag", "TRUE"),
                ("name", "a"),
                ("name", "b"),
                ("x", "1"),
                ("y", "2"),
                ("x", "3"),
                ("since", "2024-01-02T03:04:05.5Z"),
                ("day", "2024-01-02T00:00:00Z"),
            ]),
            &pairs(&[
                ("if-modified-since", "Tue, 02 Jan 2024 03:04:05 GMT"),
                ("X-Tags", "a, \"b,c\""),
                ("x-tags", "\"d\\\"e\""),
                ("X-Meta-Color", "blue"),
                ("x-meta-size", " 1 "),
                ("X-Context", &context),
            ]),
            br#"{"apiName":"n","nested":[{"apiName":"m","junk":1}],"ApiName":"ignored"}"#,
        )
        .unwrap();
        assert_eq!(
            input,
            json!({
                "Id": -7,
                "Flag": true,
                "Names": ["a", "b"],
                "Extra": {"x": ["1", "3"], "y": ["2"]},
                "Since": 1_704_164_645.5,
                "Day": "2024-01-02T00:00:00Z",
                "Modified": 1_704_164_645,
                "Tags": ["a", "b,c", "d\"e"],
                "Meta": {"Color": "blue", "size": "1"},
                "Context": {"a": [1, true]},
                "Body": {"ApiName": "n", "Nested": [{"ApiName": "m"}]},
            })
        );
        let err = |query: &[(&str, &str)], headers: &[(&str, &str)]| {
            decode_input(
                &m,
                "Put",
                &pairs(&[("Id", "1")]),
                &pairs(query),
                &pairs(headers),
                b"",
            )
            .unwrap_err()
        };
        // No service-specific codes in this model: the generic one.
        let bad_bool = err(&[("flag", "yes")], &[]);
        assert_eq!(bad_bool.code(), SERIALIZATION_EXCEPTION);
        assert!(matches!(
            err(&[("since", "yesterday")], &[]),
            RestDecodeError::InvalidValue {
                expected: "a timestamp",
                ..
            }
        ));
        assert!(matches!(
            err(&[], &[("X-Context", "not base64!")]),
            RestDecodeError::InvalidValue {
                place: "header",
                ..
            }
        ));
        let malformed =
            decode_input(&m, "Put", &pairs(&[("Id", "1")]), &[], &[], b"nope").unwrap_err();
        assert_eq!(malformed.code(), SERIALIZATION_EXCEPTION);
        // An operation without input.
        assert_eq!(
            decode_input(&m, "Bad", &[], &[], &[], b"junk").unwrap(),
            json!({})
        );
    }

    #[test]
    fn lambda_outputs_encode_status_headers_and_payload() {
        let m = lambda_model();
        let invoke = encode_output(
            m,
            "Invoke",
            &json!({"StatusCode": 200, "FunctionError": "Unhandled", "LogResult": "bG9n",
                    "ExecutedVersion": "$LATEST", "Payload": BASE64.encode(b"{\"ok\":true}")}),
        );
        assert_eq!(invoke.status, 200);
        assert_eq!(
            invoke.headers,
            pairs(&[
                ("X-Amz-Function-Error", "Unhandled"),
                ("X-Amz-Log-Result", "bG9n"),
                ("X-Amz-Executed-Version", "$LATEST"),
                ("Content-Type", CONTENT_TYPE),
            ])
        );
        assert_eq!(invoke.body, b"{\"ok\":true}");
        // An asynchronous invocation answers 202 with no body; non-base64 text goes as it is,
        // and JSON values as their text.
        let event = encode_output(m, "Invoke", &json!({"StatusCode": 202}));
        assert_eq!(
            (event.status, event.body.len(), event.header("content-type")),
            (202, 0, None)
        );
        assert_eq!(
            encode_output(m, "Invoke", &json!({"Payload": "not base64!"})).body,
            b"not base64!"
        );
        assert_eq!(
            encode_output(m, "Invoke", &json!({"Payload": {"a": 1}})).body,
            b"{\"a\":1}"
        );

        let created = encode_output(
            m,
            "CreateFunction",
            &json!({"FunctionName": "f", "MemorySize": 128, "Bogus": 1, "Role": null}),
        );
        assert_eq!(created.status, 201);
        assert_eq!(created.header("Content-Type"), Some(CONTENT_TYPE));
        let body: Value = serde_json::from_slice(&created.body).unwrap();
        assert_eq!(body, json!({"FunctionName": "f", "MemorySize": 128}));
        let tagged = encode_output(m, "TagResource", &json!({}));
        assert_eq!((tagged.status, tagged.body.as_slice()), (204, &b""[..]));
        let unknown = encode_output(m, "Nope", &json!({}));
        assert_eq!((unknown.status, unknown.body.as_slice()), (200, &b"{}"[..]));
    }

    #[test]
    fn every_binding_encodes() {
        let m = synthetic();
        let put = encode_output(
            &m,
            "Put",
            &json!({
                "Created": 1_704_164_645.9,
                "Tags": ["a", "b,c", "d\"e", 5, null],
                "Meta": {"Color": "bl\r\nue", "bad name": "x"},
                "Context": {"a": [1]},
                "ApiName": "n",
                "Items": [{"ApiName": "m", "Junk": 1}],
            }),
        );
        assert_eq!(put.status, 201);
        assert_eq!(
            put.headers,
            pairs(&[
                ("X-Created", "Tue, 02 Jan 2024 03:04:05 GMT"),
                ("X-Tags", "a,\"b,c\",\"d\\\"e\",5"),
                ("x-meta-Color", "bl  ue"),
                ("X-Context", &BASE64.encode(br#"{"a":[1]}"#)),
                ("Content-Type", CONTENT_TYPE),
            ])
        );
        let body: Value = serde_json::from_slice(&put.body).unwrap();
        assert_eq!(body, json!({"apiName": "n", "items": [{"apiName": "m"}]}));
        // The encoded headers decode back (the header list round-trips its quoting).
        assert_eq!(
            split_header_list(put.header("X-Tags").unwrap()),
            ["a", "b,c", "d\"e", "5"]
        );

        let object = encode_output(&m, "GetObject", &json!({"Body": "AAEC", "Length": 3}));
        assert_eq!(
            (object.body.as_slice(), object.header("x-length")),
            (&[0_u8, 1, 2][..], Some("3"))
        );
        let absent = encode_output(&m, "GetObject", &json!({}));
        assert!(absent.body.is_empty() && absent.headers.is_empty());
    }

    #[test]
    fn errors_carry_the_code_header_and_lambda_body() {
        let err = AwsError::from_model(
            lambda_model(),
            "ResourceNotFoundException",
            "Function not found: f",
        )
        .unwrap();
        let plain = encode_error(&err);
        assert_eq!(plain.status, 404);
        assert_eq!(
            plain.header(ERROR_TYPE_HEADER),
            Some("ResourceNotFoundException")
        );
        assert_eq!(plain.header("content-type"), Some(CONTENT_TYPE));
        let body: Value = serde_json::from_slice(&plain.body).unwrap();
        assert_eq!(
            body,
            json!({"Type": "User", "message": "Function not found: f"})
        );

        // Modeled: Lambda's ResourceNotFoundException spells its member `Message`.
        let modeled = encode_modeled_error(lambda_model(), &err, &json!(null));
        let body: Value = serde_json::from_slice(&modeled.body).unwrap();
        assert_eq!(
            body,
            json!({"Type": "User", "Message": "Function not found: f"})
        );

        let throttled =
            AwsError::from_model(lambda_model(), "TooManyRequestsException", "Rate exceeded")
                .unwrap();
        let response = encode_modeled_error(
            lambda_model(),
            &throttled,
            &json!({"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "retryAfterSeconds": "1"}),
        );
        assert_eq!(response.status, 429);
        assert_eq!(response.header("Retry-After"), Some("1"));
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(
            body,
            json!({"Type": "User", "message": "Rate exceeded", "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"})
        );

        let service = AwsError::from_model(lambda_model(), "ServiceException", "boom").unwrap();
        let body: Value = serde_json::from_slice(&encode_error(&service).body).unwrap();
        assert_eq!(
            (encode_error(&service).status, &body["Type"]),
            (500, &json!("Service"))
        );
        // Not an exception shape of the model: the plain envelope; control characters in the
        // code never reach a header.
        let odd = AwsError::sender("Bad\r\nCode", "m");
        let response = encode_modeled_error(lambda_model(), &odd, &json!({}));
        assert_eq!(response.header(ERROR_TYPE_HEADER), Some("Bad  Code"));
        assert_eq!(response, encode_error(&odd));
        // A shape without `message` or `Type` members still carries the message.
        let m = synthetic();
        let gone = AwsError::from_model(&m, "Gone", "gone").unwrap();
        let response = encode_modeled_error(&m, &gone, &json!({"Reason": "r", "Other": 1}));
        assert_eq!(response.status, 410);
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body, json!({"reason": "r", "message": "gone"}));
    }

    #[test]
    fn timestamps_parse_and_format() {
        assert_eq!(parse_timestamp("1704164645"), Some(1_704_164_645.0));
        assert_eq!(parse_timestamp("1704164645.25"), Some(1_704_164_645.25));
        assert_eq!(
            parse_timestamp("2024-01-02T03:04:05Z"),
            Some(1_704_164_645.0)
        );
        assert_eq!(
            parse_timestamp("2024-01-02t03:04:05.123z"),
            Some(1_704_164_645.123)
        );
        assert_eq!(
            parse_timestamp("2024-01-02T04:04:05+01:00"),
            Some(1_704_164_645.0)
        );
        assert_eq!(
            parse_timestamp("2024-01-02T02:04:05-0100"),
            Some(1_704_164_645.0)
        );
        assert_eq!(
            parse_timestamp("Tue, 02 Jan 2024 03:04:05 GMT"),
            Some(1_704_164_645.0)
        );
        assert_eq!(
            parse_timestamp("2 Jan 2024 03:04 UTC"),
            Some(1_704_164_640.0)
        );
        assert_eq!(parse_timestamp("1969-12-31T23:59:59Z"), Some(-1.0));
        for bad in [
            "",
            "2024-02-30T00:00:00Z",
            "2024-01-02T24:00:00Z",
            "2024-01-02",
            "Tue, 02 Foo 2024 03:04:05 GMT",
            "2024-01-02T03:04:05.Z",
            "1e5",
            "NaN",
            "2024-01-02T03:04:05+99:00",
            "é",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
        assert_eq!(
            format_rfc822(0.0).as_deref(),
            Some("Thu, 01 Jan 1970 00:00:00 GMT")
        );
        assert_eq!(
            format_rfc822(1_704_164_645.9).as_deref(),
            Some("Tue, 02 Jan 2024 03:04:05 GMT")
        );
        assert_eq!(
            format_rfc822(-1.0).as_deref(),
            Some("Wed, 31 Dec 1969 23:59:59 GMT")
        );
        assert_eq!(format_rfc822(1e300), None);
        assert_eq!(epoch_value(5.0), json!(5));
        assert_eq!(epoch_value(5.5), json!(5.5));
        for days in [-800_000, -1, 0, 59, 19_724, 2_932_896] {
            let (y, mo, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, mo, d), days);
        }
    }

    #[test]
    fn header_lists_split_like_smithy() {
        assert_eq!(split_header_list("a"), ["a"]);
        assert_eq!(split_header_list(" a , b ,c"), ["a", "b", "c"]);
        assert_eq!(
            split_header_list("\"a,b\" , \"c\\\"d\",e"),
            ["a,b", "c\"d", "e"]
        );
        assert_eq!(split_header_list(""), [""]);
        assert_eq!(split_header_list("a,"), ["a", ""]);
        assert_eq!(split_header_list("\"unterminated"), ["unterminated"]);
    }
}
