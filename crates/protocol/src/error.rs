//! Errors: this crate's own [`Error`], and [`AwsError`], the AWS error envelope every service
//! error is mapped to before it goes on the wire.
//!
//! One [`AwsError`] renders in every protocol a service speaks:
//! - awsJson: [`AwsError::json_error_body`] (`{"__type": "...", "message": "..."}`) plus, for
//!   services with the `awsQueryCompatible` trait (SQS), the `x-amzn-query-error` header from
//!   [`AwsError::query_error_header`], which makes botocore report the legacy query code;
//! - query/XML: [`crate::xml::encode_aws_error`], which writes the legacy code when there is one.

use std::fmt;

use crate::model::ServiceModel;

/// Errors of this crate's own operations (loading service models).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model text is not JSON of the botocore model shape.
    #[error("service model is not valid: {0}")]
    ModelJson(#[from] serde_json::Error),
    /// The model is JSON but inconsistent, e.g. a reference to a shape it does not define.
    #[error("service model is inconsistent: {0}")]
    InvalidModel(String),
}

/// `Result` with this crate's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The awsJson `__type` namespace SQS puts before its error names
/// (`com.amazonaws.sqs#QueueDoesNotExist`); botocore strips everything up to `#`.
pub const SQS_JSON_NAMESPACE: &str = "com.amazonaws.sqs";

/// The header that carries the legacy query error code in awsJson responses of
/// `awsQueryCompatible` services, as `<code>;<Sender|Receiver>`.
pub const QUERY_ERROR_HEADER: &str = "x-amzn-query-error";

/// An AWS error as a client sees it: code, HTTP status, fault side and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// The short error name, the awsJson `__type` without namespace, e.g. `QueueDoesNotExist`.
    pub code: String,
    /// The query-protocol code when it differs from [`Self::code`], e.g.
    /// `AWS.SimpleQueueService.NonExistentQueue`; `None` means the query code is `code`.
    pub query_code: Option<String>,
    /// The HTTP status code.
    pub status: u16,
    /// `true` when the caller is at fault (`Sender`), `false` for `Receiver` faults.
    pub sender_fault: bool,
    /// The human-readable message.
    pub message: String,
    /// The awsJson `__type` namespace, e.g. [`SQS_JSON_NAMESPACE`]; `None` writes the bare code.
    pub namespace: Option<String>,
    /// Further members of the error's modeled shape, awsJson-shaped (restJson1:
    /// `{"Reason": "...", "retryAfterSeconds": "1"}` for Lambda's `TooManyRequestsException`);
    /// `Null` when none.
    pub fields: serde_json::Value,
}

impl AwsError {
    /// An error with the given code, status and fault side.
    pub fn new(
        code: impl Into<String>,
        status: u16,
        sender_fault: bool,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code: code.into(),
            query_code: None,
            status,
            sender_fault,
            message: message.into(),
            namespace: None,
            fields: serde_json::Value::Null,
        }
    }

    /// Sets [`Self::fields`].
    pub fn with_fields(mut self, fields: serde_json::Value) -> Self {
        self.fields = fields;
        self
    }

    /// A caller's error: HTTP 400, `Sender`.
    pub fn sender(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(code, 400, true, message)
    }

    /// A service-side failure: HTTP 500, `Receiver`, code `InternalFailure`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("InternalFailure", 500, false, message)
    }

    /// The error an exception shape of `model` describes: `code` is the shape name; status,
    /// fault side and legacy query code come from the shape's `error` trait (defaults: 400,
    /// `Sender` unless the shape has `fault`). `None` when `shape` is not an exception shape.
    pub fn from_model(
        model: &ServiceModel,
        shape: &str,
        message: impl Into<String>,
    ) -> Option<Self> {
        let found = model.shape(shape).filter(|s| s.exception)?;
        let trait_ = found.error.as_ref();
        let status = trait_
            .and_then(|e| e.http_status_code)
            .unwrap_or(if found.fault { 500 } else { 400 });
        let sender_fault = trait_.map_or(!found.fault, |e| e.sender_fault);
        let mut err = Self::new(shape, status, sender_fault, message);
        err.query_code = trait_
            .and_then(|e| e.code.clone())
            .filter(|code| code != shape);
        Some(err)
    }

    /// Sets the legacy query-protocol code.
    #[must_use]
    pub fn with_query_code(mut self, code: impl Into<String>) -> Self {
        self.query_code = Some(code.into());
        self
    }

    /// Sets the awsJson `__type` namespace.
    #[must_use]
    pub fn with_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The code query-protocol clients see: the legacy code when there is one, else `code`.
    pub fn query_error_code(&self) -> &str {
        self.query_code.as_deref().unwrap_or(&self.code)
    }

    /// `Sender` or `Receiver`.
    pub fn fault_type(&self) -> &'static str {
        if self.sender_fault {
            "Sender"
        } else {
            "Receiver"
        }
    }

    /// The awsJson `__type`: `namespace#code`, or `code` without a namespace.
    pub fn json_type(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}#{}", self.code),
            None => self.code.clone(),
        }
    }

    /// The awsJson error body, `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"..."}`
    /// (SQS sends lower-case `message`; botocore reads `message` or `Message`).
    pub fn json_error_body(&self) -> String {
        let mut body = serde_json::Map::new();
        body.insert("__type".into(), self.json_type().into());
        body.insert("message".into(), self.message.clone().into());
        serde_json::Value::Object(body).to_string()
    }

    /// The [`QUERY_ERROR_HEADER`] value, `AWS.SimpleQueueService.NonExistentQueue;Sender`, when
    /// the error has a legacy query code; botocore then reports that code as `Error.Code` and
    /// the short name as `Error.QueryErrorCode`.
    pub fn query_error_header(&self) -> Option<String> {
        self.query_code
            .as_ref()
            .map(|code| format!("{code};{}", self.fault_type()))
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for AwsError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{sns_model, sqs_query_model};

    #[test]
    fn sqs_errors_carry_legacy_codes_in_both_protocols() {
        let err = AwsError::from_model(
            sqs_query_model(),
            "QueueDoesNotExist",
            "The specified queue does not exist.",
        )
        .unwrap()
        .with_namespace(SQS_JSON_NAMESPACE);
        assert_eq!(err.code, "QueueDoesNotExist");
        assert_eq!(
            err.query_code.as_deref(),
            Some("AWS.SimpleQueueService.NonExistentQueue")
        );
        assert_eq!((err.status, err.sender_fault), (400, true));
        assert_eq!(
            err.json_error_body(),
            r#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}"#
        );
        assert_eq!(
            err.query_error_header().as_deref(),
            Some("AWS.SimpleQueueService.NonExistentQueue;Sender")
        );
        assert_eq!(
            err.query_error_code(),
            "AWS.SimpleQueueService.NonExistentQueue"
        );

        // The legacy code of QueueNameExists is QueueAlreadyExists; OverLimit's is its name.
        let exists = AwsError::from_model(sqs_query_model(), "QueueNameExists", "m").unwrap();
        assert_eq!(exists.query_error_code(), "QueueAlreadyExists");
        let over = AwsError::from_model(sqs_query_model(), "OverLimit", "m").unwrap();
        assert_eq!((over.query_code.as_deref(), over.status), (None, 403));
        assert_eq!(over.query_error_header(), None);
        assert_eq!(
            over.json_error_body(),
            r#"{"__type":"OverLimit","message":"m"}"#
        );

        // Shapes merged from the JSON model have no error trait: defaults apply.
        let kms = AwsError::from_model(sqs_query_model(), "KmsThrottled", "m").unwrap();
        assert_eq!(
            (kms.code.as_str(), kms.status, kms.sender_fault),
            ("KmsThrottled", 400, true)
        );
        assert!(AwsError::from_model(sqs_query_model(), "SendMessageRequest", "m").is_none());
        assert!(AwsError::from_model(sqs_query_model(), "NoSuchShape", "m").is_none());
    }

    #[test]
    fn sns_errors_use_the_modeled_codes_and_statuses() {
        let err =
            AwsError::from_model(sns_model(), "NotFoundException", "Topic does not exist").unwrap();
        assert_eq!(err.query_error_code(), "NotFound");
        assert_eq!((err.status, err.sender_fault), (404, true));
        let internal = AwsError::from_model(sns_model(), "InternalErrorException", "x").unwrap();
        assert_eq!(internal.query_error_code(), "InternalError");
        assert_eq!(
            (
                internal.status,
                internal.sender_fault,
                internal.fault_type()
            ),
            (500, false, "Receiver")
        );
        assert_eq!(
            AwsError::internal("boom").to_string(),
            "InternalFailure (500): boom"
        );
    }

    #[test]
    fn json_body_escapes_the_message() {
        let err = AwsError::sender("InvalidParameterValue", "bad \"quote\"\n\u{1}");
        let parsed: serde_json::Value = serde_json::from_str(&err.json_error_body()).unwrap();
        assert_eq!(parsed["message"], "bad \"quote\"\n\u{1}");
        assert_eq!(parsed["__type"], "InvalidParameterValue");
    }
}
