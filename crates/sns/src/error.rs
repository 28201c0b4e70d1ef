//! SNS errors and their one mapping onto AWS's error envelope.
//!
//! SNS speaks only the query protocol: a client sees the legacy code (`InvalidParameter`,
//! `NotFound`, `ParameterValueInvalid`, …), the HTTP status and the fault side that the botocore
//! model gives each exception shape. [`Error::to_aws`] is the one exhaustive mapping.

use ponte_protocol::error::AwsError;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything an SNS operation can fail with. Each variant carries AWS's message text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `InvalidParameter` (400): the usual SNS refusal, `Invalid parameter: …`.
    #[error("{0}")]
    InvalidParameter(String),
    /// `ParameterValueInvalid` (400): message attribute problems.
    #[error("{0}")]
    ParameterValueInvalid(String),
    /// `NotFound` (404): topic, subscription or endpoint does not exist.
    #[error("{0}")]
    NotFound(String),
    /// `ValidationError` (400): a required member is null (Coral's validation text).
    #[error("{0}")]
    Validation(String),
    /// `TooManyEntriesInBatchRequest` (400).
    #[error("{0}")]
    TooManyEntriesInBatchRequest(String),
    /// `BatchEntryIdsNotDistinct` (400).
    #[error("{0}")]
    BatchEntryIdsNotDistinct(String),
    /// `EmptyBatchRequest` (400).
    #[error("{0}")]
    EmptyBatchRequest(String),
    /// `InvalidBatchEntryId` (400).
    #[error("{0}")]
    InvalidBatchEntryId(String),
    /// `BatchRequestTooLong` (400).
    #[error("{0}")]
    BatchRequestTooLong(String),
    /// `TagLimitExceeded` (400).
    #[error("{0}")]
    TagLimitExceeded(String),
    /// `AuthorizationError` (403).
    #[error("{0}")]
    Authorization(String),
    /// `InternalFailure` (500): SNS's answer to a few policies it cannot evaluate.
    #[error("{0}")]
    InternalFailure(String),
    /// `NotImplemented` (501): an SNS operation Ponte does not provide (platform applications,
    /// SMS sandbox, data protection).
    #[error("{0}")]
    NotImplemented(String),
    /// `InternalError` (500): the store failed; nothing was acknowledged.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The AWS error envelope of this error. One exhaustive match: a new variant must be mapped.
    pub fn to_aws(&self) -> AwsError {
        use Error::*;
        let (code, status) = match self {
            InvalidParameter(_) => ("InvalidParameter", 400),
            ParameterValueInvalid(_) => ("ParameterValueInvalid", 400),
            NotFound(_) => ("NotFound", 404),
            Validation(_) => ("ValidationError", 400),
            TooManyEntriesInBatchRequest(_) => ("TooManyEntriesInBatchRequest", 400),
            BatchEntryIdsNotDistinct(_) => ("BatchEntryIdsNotDistinct", 400),
            EmptyBatchRequest(_) => ("EmptyBatchRequest", 400),
            InvalidBatchEntryId(_) => ("InvalidBatchEntryId", 400),
            BatchRequestTooLong(_) => ("BatchRequestTooLong", 400),
            TagLimitExceeded(_) => ("TagLimitExceeded", 400),
            Authorization(_) => ("AuthorizationError", 403),
            InternalFailure(_) => ("InternalFailure", 500),
            NotImplemented(_) => ("NotImplemented", 501),
            Internal(_) => ("InternalError", 500),
        };
        AwsError::new(code, status, status < 500, self.to_string())
    }
}

impl From<ponte_store::Error> for Error {
    fn from(e: ponte_store::Error) -> Self {
        Error::Internal(format!("The request could not be made durable: {e}"))
    }
}

/// `Invalid parameter: {what}`: the shape of most SNS refusals.
pub fn invalid(what: impl std::fmt::Display) -> Error {
    Error::InvalidParameter(format!("Invalid parameter: {what}"))
}

/// `Topic does not exist`.
pub fn topic_not_found() -> Error {
    Error::NotFound("Topic does not exist".into())
}

/// `Subscription does not exist`.
pub fn subscription_not_found() -> Error {
    Error::NotFound("Subscription does not exist".into())
}
