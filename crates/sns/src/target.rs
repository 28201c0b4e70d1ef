//! The `sns` delivery target: what the outbox calls for deliveries SNS itself carries out.
//!
//! - Target a **subscription ARN**, `context.kind = "http"`: POST the body to the endpoint with
//!   SNS's headers (`x-amz-sns-message-type`, `x-amz-sns-message-id`, `x-amz-sns-topic-arn`,
//!   `x-amz-sns-subscription-arn`, `Content-Type: text/plain; charset=UTF-8`). A 2xx answer is
//!   delivered; anything else (another status, connection refused, a 15 s timeout) is a failed
//!   attempt that counts against the subscription's retry policy, as SNS counts them.
//! - Target a **subscription ARN**, `context.kind = "record"`: email, email-json and SMS are
//!   recorded (durably) instead of sent; [`Sns::sent_messages`](crate::Sns::sent_messages)
//!   lists them.
//! - Target a **topic ARN** (Lambda destinations, EventBridge targets, Step Functions): publish
//!   the message body, subject and attributes to the topic.
//!
//! Only plain `http://` endpoints can be reached: Ponte carries no TLS client, so deliveries to
//! `https://` endpoints fail (and are retried, then dead-lettered) like an unreachable endpoint.

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use ponte_delivery::{BoxFuture, Failure, FailureKind, Job, Outcome, Target};
use ponte_types::Arn;
use serde_json::{Value, json};

use crate::engine::{EngineInner, Record, SubMeta};
use crate::error::Error;

/// How long one HTTP attempt may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);
/// SNS's user agent on HTTP deliveries.
const USER_AGENT: &str = "Amazon Simple Notification Service Agent";

/// The HTTP client deliveries use (plain HTTP/1.1, pooled connections).
#[derive(Clone)]
pub(crate) struct HttpClient(Client<HttpConnector, Full<Bytes>>);

impl HttpClient {
    pub(crate) fn new() -> Self {
        HttpClient(Client::builder(TokioExecutor::new()).build_http())
    }
}

/// The delivery context of an HTTP/S delivery: endpoint and headers.
pub(crate) fn http_context(
    endpoint: &str,
    message_type: &str,
    message_id: &str,
    topic_arn: &str,
    subscription_arn: Option<&str>,
    raw: bool,
) -> Value {
    let mut headers = serde_json::Map::new();
    headers.insert("x-amz-sns-message-type".into(), json!(message_type));
    headers.insert("x-amz-sns-message-id".into(), json!(message_id));
    headers.insert("x-amz-sns-topic-arn".into(), json!(topic_arn));
    if let Some(s) = subscription_arn {
        headers.insert("x-amz-sns-subscription-arn".into(), json!(s));
    }
    if raw {
        headers.insert("x-amz-sns-rawdelivery".into(), json!("true"));
    }
    json!({
        "kind": "http",
        "endpoint": endpoint,
        "messageType": message_type,
        "headers": headers,
    })
}

/// The delivery context of a recorded (email, email-json, SMS) delivery.
pub(crate) fn record_context(
    sub: &SubMeta,
    message_type: &str,
    message_id: &str,
    subject: Option<String>,
) -> Value {
    json!({
        "kind": "record",
        "protocol": sub.protocol,
        "endpoint": sub.endpoint,
        "messageType": message_type,
        "messageId": message_id,
        "topicArn": sub.topic_arn,
        "subject": subject,
    })
}

/// The target registered as `sns` with the outbox.
pub(crate) struct SnsTarget {
    inner: Weak<EngineInner>,
}

impl SnsTarget {
    pub(crate) fn new(inner: Weak<EngineInner>) -> Self {
        SnsTarget { inner }
    }
}

impl Target for SnsTarget {
    fn deliver<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            match self.inner.upgrade() {
                Some(inner) => deliver(inner, job).await,
                None => failed(
                    FailureKind::Unavailable,
                    503,
                    "ServiceUnavailable",
                    "SNS stopped",
                ),
            }
        })
    }
}

fn failed(kind: FailureKind, status: u16, code: &str, message: impl Into<String>) -> Outcome {
    Outcome::Failed(Failure {
        kind,
        status_code: status,
        code: code.into(),
        message: message.into(),
        response: None,
        executed_version: None,
    })
}

fn delivered(status: u16, response: Option<String>) -> Outcome {
    Outcome::Delivered {
        status_code: status,
        response,
        executed_version: None,
    }
}

async fn deliver(inner: Arc<EngineInner>, job: &Job) -> Outcome {
    let sns = crate::Sns::from_inner(inner.clone());
    let Some(arn) = Arn::parse(&job.target) else {
        return failed(
            FailureKind::Permanent,
            400,
            "InvalidParameter",
            "not an SNS ARN",
        );
    };
    if !arn.resource.contains(':') {
        return publish_to_topic(&sns, job).await;
    }
    let ctx = &job.context;
    let kind = ctx.get("kind").and_then(Value::as_str).unwrap_or("");
    let message_type = ctx
        .get("messageType")
        .and_then(Value::as_str)
        .unwrap_or("Notification");
    if message_type == "Notification" && !sns.subscription_exists(&job.target) {
        // SNS stops delivering to a subscription once it is deleted.
        return failed(
            FailureKind::Permanent,
            404,
            "NotFound",
            "Subscription does not exist",
        );
    }
    match kind {
        "http" => deliver_http(&inner, job).await,
        "record" => {
            let s = |k: &str| ctx.get(k).and_then(Value::as_str).map(str::to_owned);
            let record = Record {
                seq: 0,
                timestamp: 0,
                protocol: s("protocol").unwrap_or_default(),
                endpoint: s("endpoint").unwrap_or_default(),
                kind: message_type.to_owned(),
                subscription_arn: Some(job.target.clone()),
                topic_arn: s("topicArn"),
                message_id: s("messageId").unwrap_or_default(),
                subject: s("subject"),
                body: job.message.body.clone(),
            };
            match sns.record(record).await {
                Ok(()) => delivered(200, None),
                Err(e) => failed(
                    FailureKind::Unavailable,
                    500,
                    "InternalError",
                    e.to_string(),
                ),
            }
        }
        _ => failed(
            FailureKind::Permanent,
            400,
            "InvalidParameter",
            format!("unknown SNS delivery kind {kind:?}"),
        ),
    }
}

async fn publish_to_topic(sns: &crate::Sns, job: &Job) -> Outcome {
    match sns
        .publish_internal(&job.target, &job.message, job.trace_header.clone())
        .await
    {
        Ok(p) => delivered(200, Some(json!({"MessageId": p.message_id}).to_string())),
        Err(Error::Internal(m)) => failed(FailureKind::Unavailable, 500, "InternalError", m),
        Err(e) => {
            let aws = e.to_aws();
            failed(FailureKind::Permanent, aws.status, &aws.code, aws.message)
        }
    }
}

async fn deliver_http(inner: &EngineInner, job: &Job) -> Outcome {
    let endpoint = job
        .context
        .get("endpoint")
        .and_then(Value::as_str)
        .unwrap_or("");
    let uri: http::Uri = match endpoint.parse() {
        Ok(u) => u,
        Err(e) => return failed(FailureKind::Error, 0, "InvalidEndpoint", e.to_string()),
    };
    let mut req = http::Request::builder()
        .method(http::Method::POST)
        .uri(uri)
        .header(http::header::CONTENT_TYPE, "text/plain; charset=UTF-8")
        .header(http::header::USER_AGENT, USER_AGENT);
    if let Some(headers) = job.context.get("headers").and_then(Value::as_object) {
        for (k, v) in headers {
            if let Some(v) = v.as_str() {
                req = req.header(k.as_str(), v);
            }
        }
    }
    if let Some(trace) = &job.trace_header {
        req = req.header("x-amzn-trace-id", trace.as_str());
    }
    let req = match req.body(Full::new(Bytes::from(job.message.body.clone()))) {
        Ok(r) => r,
        Err(e) => return failed(FailureKind::Error, 0, "InvalidRequest", e.to_string()),
    };
    match tokio::time::timeout(HTTP_TIMEOUT, inner.http.0.request(req)).await {
        Err(_) => failed(
            FailureKind::Error,
            0,
            "Timeout",
            "the endpoint did not answer in 15 s",
        ),
        Ok(Err(e)) => failed(FailureKind::Error, 0, "ConnectionError", e.to_string()),
        Ok(Ok(resp)) => {
            let status = resp.status().as_u16();
            // Read (and bound) the body so the connection can be reused.
            let body = tokio::time::timeout(HTTP_TIMEOUT, resp.into_body().collect())
                .await
                .ok()
                .and_then(Result::ok)
                .map(|b| {
                    let bytes = b.to_bytes();
                    String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).into_owned()
                });
            if (200..300).contains(&status) {
                delivered(status, None)
            } else {
                Outcome::Failed(Failure {
                    kind: FailureKind::Error,
                    status_code: status,
                    code: format!("HTTP{status}"),
                    message: format!("the endpoint answered {status}"),
                    response: body,
                    executed_version: None,
                })
            }
        }
    }
}
