//! CloudWatch Logs errors and their one mapping onto AWS's error envelope.
//!
//! Logs answers awsJson 1.1 errors as `{"__type": "<code>", "message": "..."}`; every client
//! error is HTTP 400, including `ResourceNotFoundException` (recorded AWS responses).

use ponte_protocol::error::AwsError;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// AWS's message for a missing log group.
pub const GROUP_NOT_FOUND: &str = "The specified log group does not exist.";
/// AWS's message for a missing log stream.
pub const STREAM_NOT_FOUND: &str = "The specified log stream does not exist.";
/// AWS's message for a duplicate log group.
pub const GROUP_EXISTS: &str = "The specified log group already exists";
/// AWS's message for a duplicate log stream.
pub const STREAM_EXISTS: &str = "The specified log stream already exists";
/// AWS's message for a token it did not issue.
pub const BAD_TOKEN: &str = "The specified nextToken is invalid.";

/// Everything a Logs operation can fail with. Each variant carries AWS's message text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `InvalidParameterException`: model validation and semantic checks.
    #[error("{0}")]
    InvalidParameter(String),
    /// `ResourceNotFoundException`.
    #[error("{0}")]
    ResourceNotFound(String),
    /// `ResourceAlreadyExistsException`.
    #[error("{0}")]
    ResourceAlreadyExists(String),
    /// `ValidationException` (both `logGroupName` and `logGroupIdentifier`; deletion
    /// protection).
    #[error("{0}")]
    Validation(String),
    /// `TooManyTagsException`, naming the resource.
    #[error("{message}")]
    TooManyTags {
        /// AWS's message.
        message: String,
        /// The resource's ARN.
        resource: String,
    },
    /// `SerializationException`: a member of the wrong JSON type.
    #[error("{0}")]
    Serialization(String),
    /// `UnknownOperationException`: not an operation of the Logs API.
    #[error("{0}")]
    UnknownOperation(String),
    /// An operation of the Logs API that Ponte does not implement.
    #[error("{0}")]
    NotImplemented(String),
    /// `ServiceUnavailableException`: the store failed; nothing was acknowledged.
    #[error("{0}")]
    Unavailable(String),
}

impl Error {
    /// The AWS error envelope. One exhaustive match: a new variant must be mapped here.
    pub fn to_aws(&self) -> AwsError {
        let msg = self.to_string();
        match self {
            Error::InvalidParameter(_) => AwsError::sender("InvalidParameterException", msg),
            Error::ResourceNotFound(_) => AwsError::sender("ResourceNotFoundException", msg),
            Error::ResourceAlreadyExists(_) => {
                AwsError::sender("ResourceAlreadyExistsException", msg)
            }
            Error::Validation(_) => AwsError::sender("ValidationException", msg),
            Error::TooManyTags { resource, .. } => AwsError::sender("TooManyTagsException", msg)
                .with_fields(serde_json::json!({ "resourceName": resource })),
            Error::Serialization(_) => AwsError::sender("SerializationException", msg),
            Error::UnknownOperation(_) => AwsError::sender("UnknownOperationException", msg),
            Error::NotImplemented(_) => AwsError::new("NotImplemented", 501, false, msg),
            Error::Unavailable(_) => AwsError::new("ServiceUnavailableException", 500, false, msg),
        }
    }
}

impl From<ponte_store::Error> for Error {
    fn from(e: ponte_store::Error) -> Self {
        Error::Unavailable(format!("The request could not be made durable: {e}"))
    }
}

impl From<Error> for AwsError {
    fn from(e: Error) -> Self {
        e.to_aws()
    }
}
