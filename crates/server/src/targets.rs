//! Delivery targets owned by the composition root: adapters from the delivery mechanism to
//! engines that do not know about it (SQS). Lambda, SNS and EventBridge register their own.

use ponte_delivery::{BoxFuture, Failure, FailureKind, Job, Outcome, Target};
use ponte_sqs::Sqs;
use ponte_sqs::engine::SendInput;
use ponte_sqs::model::attributes::{AttributeValue, Attributes};
use ponte_types::{Arn, RequestContext};

/// Sends a delivery as one SQS message to the queue named by the job's ARN, in the queue's own
/// account and region. The job's trace header becomes the message's `AWSTraceHeader`.
pub struct SqsTarget {
    sqs: Sqs,
}

impl SqsTarget {
    /// An adapter over `sqs`.
    pub fn new(sqs: Sqs) -> Self {
        SqsTarget { sqs }
    }

    async fn send(&self, job: &Job) -> Outcome {
        let Some(arn) = Arn::parse(&job.target).filter(|a| a.service == "sqs") else {
            return failed(
                FailureKind::Permanent,
                400,
                "InvalidParameterValue",
                format!("{} is not a queue ARN", job.target),
            );
        };
        let ctx = RequestContext {
            account: arn.account.clone(),
            region: arn.region.clone(),
            request_id: ponte_types::ids::request_id(),
            trace_header: job.trace_header.clone(),
            base_url: "http://localhost".into(),
            access_key: None,
        };
        let url = format!("http://localhost/{}/{}", arn.account, arn.resource);
        let m = &job.message;
        let attributes: Attributes = m
            .attributes
            .iter()
            .map(|(name, a)| {
                (
                    name.clone(),
                    AttributeValue {
                        data_type: a.data_type.clone(),
                        string_value: a.string_value.clone(),
                        binary_value: a.binary_value.clone(),
                        ..Default::default()
                    },
                )
            })
            .collect();
        let mut system_attributes = Attributes::new();
        if let Some(trace) = &job.trace_header {
            system_attributes.insert(
                "AWSTraceHeader".into(),
                AttributeValue {
                    data_type: "String".into(),
                    string_value: Some(trace.clone()),
                    ..Default::default()
                },
            );
        }
        let input = SendInput {
            body: m.body.clone(),
            delay_seconds: None,
            attributes,
            system_attributes,
            dedup_id: m.dedup_id.clone(),
            group_id: m.group_id.clone(),
        };
        match self.sqs.send(&ctx, &url, vec![Ok(input)], false).await {
            Ok(mut out) => match out.pop() {
                Some(Ok(_)) => Outcome::Delivered {
                    status_code: 200,
                    response: None,
                    executed_version: None,
                },
                Some(Err(e)) => sqs_failure(&e),
                None => failed(FailureKind::Unavailable, 500, "InternalError", "no result"),
            },
            Err(e) => sqs_failure(&e),
        }
    }
}

impl Target for SqsTarget {
    fn deliver<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        Box::pin(self.send(job))
    }
}

fn sqs_failure(e: &ponte_sqs::Error) -> Outcome {
    let w = e.wire();
    let kind = match e {
        ponte_sqs::Error::Internal(_) => FailureKind::Unavailable,
        // A queue that does not exist (yet) may be created; AWS keeps retrying such targets.
        ponte_sqs::Error::QueueDoesNotExist => FailureKind::Error,
        _ => FailureKind::Permanent,
    };
    failed(kind, w.status, w.query_code, e.to_string())
}

fn failed(
    kind: FailureKind,
    status_code: u16,
    code: impl Into<String>,
    message: impl Into<String>,
) -> Outcome {
    Outcome::Failed(Failure {
        kind,
        status_code,
        code: code.into(),
        message: message.into(),
        response: None,
        executed_version: None,
    })
}
