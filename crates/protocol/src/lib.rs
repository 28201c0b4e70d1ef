//! Model-driven AWS wire codecs, independent of any HTTP framework.
//!
//! - [`model`]: botocore service models (operations, shapes, traits); the bundled SQS
//!   query-protocol, SNS and Lambda (rest-json) models.
//! - [`query`]: `query`-protocol requests (`Action=...&Attribute.1.Name=...`) decoded into the
//!   JSON an awsJson client sends, so one service adapter serves both protocols.
//! - [`xml`]: awsJson-shaped output encoded as the XML responses query clients parse, and the
//!   query error envelope.
//! - [`rest`]: the restJson1 protocol (Lambda, API Gateway): operation routing by method and
//!   path, requests decoded into the awsJson input shape, outputs and errors encoded into
//!   status, headers and body.
//! - [`error`]: [`AwsError`], the AWS error envelope in its awsJson and query forms, and this
//!   crate's [`Error`].
//!
//! The transport (HTTP server, routing, SigV4) lives elsewhere and calls these functions with
//! bodies and operation names; nothing here does I/O, and no input makes these functions panic.

pub mod error;
pub mod input;
pub mod model;
pub mod query;
pub mod rest;
pub mod xml;

pub use error::{AwsError, Error, Result};
pub use model::{ServiceModel, lambda_model, sns_model, sqs_query_model};
pub use query::{QueryDecodeError, decode_input, parse_form};
pub use rest::{RestDecodeError, RestMatch, RestResponse, match_operation};
pub use xml::{encode_aws_error, encode_error, encode_response};
