//! EventBridge errors and their one mapping onto AWS's error envelope.
//!
//! EventBridge speaks awsJson 1.1: the wire error is `{"__type": "<code>", "message": "..."}`
//! with the status below. Every variant carries AWS's message text (taken from AWS-recorded
//! responses where one is known), so [`Error::to_aws`] only adds code and status.

use ponte_protocol::error::AwsError;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything an EventBridge operation can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `ValidationException` (400): bad input, including the model's length/pattern rules.
    #[error("{0}")]
    Validation(String),
    /// `ResourceNotFoundException` (400), e.g. `Rule r does not exist on EventBus default.`
    #[error("{0}")]
    NotFound(String),
    /// `ResourceAlreadyExistsException` (400).
    #[error("{0}")]
    AlreadyExists(String),
    /// `InvalidEventPatternException` (400), `Event pattern is not valid. Reason: ...`.
    #[error("{0}")]
    InvalidPattern(String),
    /// `LimitExceededException` (400).
    #[error("{0}")]
    LimitExceeded(String),
    /// `IllegalStatusException` (400): a replay not in a state that allows the operation.
    #[error("{0}")]
    IllegalStatus(String),
    /// `ManagedRuleException` (400): a rule managed by another service.
    #[error("{0}")]
    ManagedRule(String),
    /// `PolicyLengthExceededException` (400).
    #[error("{0}")]
    PolicyLengthExceeded(String),
    /// `UnknownOperationException` (400): no such operation in the model.
    #[error("{0}")]
    UnknownOperation(String),
    /// `NotImplemented` (501): a modeled operation Ponte does not serve.
    #[error("{0}")]
    NotImplemented(String),
    /// `InternalException` (500): the store failed; nothing was acknowledged.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The awsJson code and HTTP status. One exhaustive match: a new variant must be mapped here.
    pub fn code_and_status(&self) -> (&'static str, u16) {
        match self {
            Error::Validation(_) => ("ValidationException", 400),
            Error::NotFound(_) => ("ResourceNotFoundException", 400),
            Error::AlreadyExists(_) => ("ResourceAlreadyExistsException", 400),
            Error::InvalidPattern(_) => ("InvalidEventPatternException", 400),
            Error::LimitExceeded(_) => ("LimitExceededException", 400),
            Error::IllegalStatus(_) => ("IllegalStatusException", 400),
            Error::ManagedRule(_) => ("ManagedRuleException", 400),
            Error::PolicyLengthExceeded(_) => ("PolicyLengthExceededException", 400),
            Error::UnknownOperation(_) => ("UnknownOperationException", 400),
            Error::NotImplemented(_) => ("NotImplemented", 501),
            Error::Internal(_) => ("InternalException", 500),
        }
    }

    /// The AWS envelope for this error.
    pub fn to_aws(&self) -> AwsError {
        let (code, status) = self.code_and_status();
        AwsError::new(code, status, status < 500, self.to_string())
    }

    /// `Event bus {name} does not exist.`
    pub fn bus_not_found(name: &str) -> Error {
        Error::NotFound(format!("Event bus {name} does not exist."))
    }

    /// `Rule {rule} does not exist on EventBus {bus}.`
    pub fn rule_not_found(rule: &str, bus: &str) -> Error {
        Error::NotFound(format!("Rule {rule} does not exist on EventBus {bus}."))
    }
}

impl From<ponte_store::Error> for Error {
    fn from(e: ponte_store::Error) -> Self {
        Error::Internal(format!("The request could not be made durable: {e}"))
    }
}

impl From<ponte_pattern::Error> for Error {
    fn from(e: ponte_pattern::Error) -> Self {
        Error::InvalidPattern(e.to_string())
    }
}

/// A model pattern: its text (quoted in messages) and the check that implements it.
pub type NamePattern<'a> = (&'a str, fn(&str) -> bool);

/// Collects the model's constraint violations into AWS's single message:
/// `2 validation errors detected: Value 'x' at 'name' failed to satisfy constraint: Member must
/// ...; Value ...`.
#[derive(Debug, Default)]
pub struct Violations(Vec<String>);

impl Violations {
    /// Records one violation of `constraint` by `value` at `field` (AWS's camelCase path).
    pub fn add(&mut self, value: &str, field: &str, constraint: &str) {
        self.0.push(format!(
            "Value '{value}' at '{field}' failed to satisfy constraint: Member must {constraint}"
        ));
    }

    /// Length and pattern checks of one string member.
    pub fn string(
        &mut self,
        value: &str,
        field: &str,
        min: usize,
        max: usize,
        pattern: Option<NamePattern<'_>>,
    ) {
        let len = value.chars().count();
        if len > max {
            self.add(
                value,
                field,
                &format!("have length less than or equal to {max}"),
            );
        }
        if len < min {
            self.add(
                value,
                field,
                &format!("have length greater than or equal to {min}"),
            );
        }
        if let Some((text, ok)) = pattern
            && !ok(value)
        {
            self.add(
                value,
                field,
                &format!("satisfy regular expression pattern: {text}"),
            );
        }
    }

    /// `Err(Validation)` when anything was recorded.
    pub fn finish(self) -> Result<()> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(Error::Validation(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Err(Error::Validation(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_use_aws_wording() {
        let mut v = Violations::default();
        v.string(
            "a b",
            "name",
            1,
            2,
            Some(("[\\.\\-_A-Za-z0-9]+", |s| !s.contains(' '))),
        );
        let msg = v.finish().unwrap_err().to_string();
        assert_eq!(
            msg,
            "2 validation errors detected: Value 'a b' at 'name' failed to satisfy constraint: \
             Member must have length less than or equal to 2; Value 'a b' at 'name' failed to \
             satisfy constraint: Member must satisfy regular expression pattern: \
             [\\.\\-_A-Za-z0-9]+"
        );
        assert_eq!(
            Error::rule_not_found("r", "default").to_aws().code,
            "ResourceNotFoundException"
        );
    }
}
