//! Lambda errors and their one mapping onto AWS's error envelope ([`Error::wire`]).
//!
//! Lambda is restJson1: the error code travels in `x-amzn-errortype`, the body carries `Type`
//! (`User` / `Service`) and the message; some exceptions have further modeled members
//! (`TooManyRequestsException`'s `Reason` and `Retry-After` header), which go into
//! [`AwsError::fields`].

use ponte_protocol::error::AwsError;
use serde_json::json;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a call was throttled (`TooManyRequestsException.Reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleReason {
    /// The function's reserved concurrency is used up (or is 0).
    Reserved,
    /// The account's unreserved concurrency in the region is used up.
    Account,
}

impl ThrottleReason {
    /// AWS's `ThrottleReason` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ThrottleReason::Reserved => "ReservedFunctionConcurrentInvocationLimitExceeded",
            ThrottleReason::Account => "ConcurrentInvocationLimitExceeded",
        }
    }
}

/// Everything a Lambda operation can fail with. Each variant carries AWS's message text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// `ResourceNotFoundException` (404).
    #[error("{0}")]
    ResourceNotFound(String),
    /// `ResourceConflictException` (409).
    #[error("{0}")]
    ResourceConflict(String),
    /// `InvalidParameterValueException` (400).
    #[error("{0}")]
    InvalidParameterValue(String),
    /// `ValidationException` (400): a member outside its modeled constraints.
    #[error("{0}")]
    Validation(String),
    /// `PreconditionFailedException` (412): a stale `RevisionId`.
    #[error("{0}")]
    PreconditionFailed(String),
    /// `TooManyRequestsException` (429) with its reason.
    #[error("Rate Exceeded.")]
    TooManyRequests(ThrottleReason),
    /// `RequestTooLargeException` (413).
    #[error("{0}")]
    RequestTooLarge(String),
    /// `RecursiveInvocationException` (400).
    #[error("{0}")]
    RecursiveInvocation(String),
    /// `InvalidRequestContentException` (400).
    #[error("{0}")]
    InvalidRequestContent(String),
    /// `ResourceNotReadyException` (502): the function cannot run on this host.
    #[error("{0}")]
    ResourceNotReady(String),
    /// `InvalidZipFileException` (502).
    #[error("{0}")]
    InvalidZipFile(String),
    /// `ServiceException` (500): the store or the runtime failed; nothing was acknowledged.
    #[error("{0}")]
    Service(String),
    /// An operation of the Lambda model Ponte does not implement (501).
    #[error("Ponte does not implement lambda.{0} yet.")]
    NotImplemented(String),
}

impl Error {
    /// The AWS error envelope: code, status, fault side, message and modeled fields.
    pub fn wire(&self) -> AwsError {
        let msg = self.to_string();
        match self {
            Error::ResourceNotFound(_) => {
                AwsError::new("ResourceNotFoundException", 404, true, msg)
            }
            Error::ResourceConflict(_) => {
                AwsError::new("ResourceConflictException", 409, true, msg)
            }
            Error::InvalidParameterValue(_) => {
                AwsError::new("InvalidParameterValueException", 400, true, msg)
            }
            Error::Validation(_) => AwsError::new("ValidationException", 400, true, msg),
            Error::PreconditionFailed(_) => {
                AwsError::new("PreconditionFailedException", 412, true, msg)
            }
            Error::TooManyRequests(reason) => {
                AwsError::new("TooManyRequestsException", 429, true, msg)
                    .with_fields(json!({"Reason": reason.as_str(), "retryAfterSeconds": "1"}))
            }
            Error::RequestTooLarge(_) => AwsError::new("RequestTooLargeException", 413, true, msg),
            Error::RecursiveInvocation(_) => {
                AwsError::new("RecursiveInvocationException", 400, true, msg)
            }
            Error::InvalidRequestContent(_) => {
                AwsError::new("InvalidRequestContentException", 400, true, msg)
            }
            Error::ResourceNotReady(_) => {
                AwsError::new("ResourceNotReadyException", 502, false, msg)
            }
            Error::InvalidZipFile(_) => AwsError::new("InvalidZipFileException", 502, false, msg),
            Error::Service(_) => AwsError::new("ServiceException", 500, false, msg),
            Error::NotImplemented(_) => AwsError::new("NotImplemented", 501, false, msg),
        }
    }
}

impl From<ponte_store::Error> for Error {
    fn from(e: ponte_store::Error) -> Self {
        tracing::error!(error = %e, "lambda: store failure");
        Error::Service(format!("The store failed: {e}"))
    }
}

/// `1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: …`.
pub fn validation(value: impl std::fmt::Display, field: &str, constraint: &str) -> Error {
    Error::Validation(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: \
         {constraint}"
    ))
}

/// The message of a stale `RevisionId`.
pub const REVISION_MISMATCH: &str = "The Revision Id provided does not match the latest Revision \
                                     Id. Call the GetFunction/GetAlias API to retrieve the latest \
                                     Revision Id";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_carry_reason_and_retry_after() {
        let e = Error::TooManyRequests(ThrottleReason::Reserved).wire();
        assert_eq!(
            (e.code.as_str(), e.status),
            ("TooManyRequestsException", 429)
        );
        assert_eq!(e.message, "Rate Exceeded.");
        assert_eq!(
            e.fields["Reason"],
            "ReservedFunctionConcurrentInvocationLimitExceeded"
        );
        assert_eq!(e.fields["retryAfterSeconds"], "1");
        let nf = Error::ResourceNotFound("Function not found: x".into()).wire();
        assert_eq!((nf.status, nf.sender_fault), (404, true));
        assert!(!Error::Service("x".into()).wire().sender_fault);
    }
}
