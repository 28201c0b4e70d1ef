//! A minimal keep-alive HTTP/1.1 client for the awsJson protocols, shared by the subcommands
//! that talk to a running server (`ponte bench`, `ponte logs`). Requests carry a SigV4-shaped
//! `Authorization` header so the server reads the access key and region from its scope, as it
//! does for real SDKs (Ponte does not check signatures).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

/// An awsJson request: `X-Amz-Target` prefix, content type and signing name of one service.
#[derive(Debug, Clone, Copy)]
pub struct JsonService {
    /// `AmazonSQS`, `Logs_20140328`.
    pub target_prefix: &'static str,
    /// `application/x-amz-json-1.0` or `-1.1`.
    pub content_type: &'static str,
    /// SigV4 signing name (`sqs`, `logs`).
    pub signing_name: &'static str,
}

/// SQS over awsJson 1.0.
pub const SQS: JsonService = JsonService {
    target_prefix: "AmazonSQS",
    content_type: "application/x-amz-json-1.0",
    signing_name: "sqs",
};

/// CloudWatch Logs over awsJson 1.1.
pub const LOGS: JsonService = JsonService {
    target_prefix: "Logs_20140328",
    content_type: "application/x-amz-json-1.1",
    signing_name: "logs",
};

/// An error answer: HTTP status and body.
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed with {status}: {body}")]
pub struct CallError {
    /// Operation.
    pub operation: String,
    /// HTTP status.
    pub status: u16,
    /// Response body.
    pub body: String,
}

/// One keep-alive connection.
pub struct Conn {
    sender: http1::SendRequest<Full<Bytes>>,
    host: String,
    access_key: String,
    region: String,
}

impl Conn {
    /// Connects to `addr` (`host:port`).
    pub async fn open(addr: &str, access_key: &str, region: &str) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self {
            sender,
            host: addr.to_owned(),
            access_key: access_key.to_owned(),
            region: region.to_owned(),
        })
    }

    /// Calls `service`'s operation `op` with `body`; a non-2xx answer is a [`CallError`].
    pub async fn call(
        &mut self,
        service: JsonService,
        op: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let req = http::Request::builder()
            .method("POST")
            .uri("/")
            .header("host", &self.host)
            .header("content-type", service.content_type)
            .header("x-amz-target", format!("{}.{op}", service.target_prefix))
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential={}/20260101/{}/{}/aws4_request, \
                     SignedHeaders=host, Signature=0",
                    self.access_key, self.region, service.signing_name
                ),
            )
            .body(Full::new(Bytes::from(body.to_string())))?;
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            return Err(CallError {
                operation: op.to_owned(),
                status: status.as_u16(),
                body: String::from_utf8_lossy(&bytes).into_owned(),
            }
            .into());
        }
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

/// A restJson1 answer.
#[derive(Debug)]
pub struct RestAnswer {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: http::HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Conn {
    /// A restJson1 request (`signing_name` goes into the credential scope).
    pub async fn rest(
        &mut self,
        signing_name: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> anyhow::Result<RestAnswer> {
        let mut req = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.host)
            .header("content-type", "application/json")
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential={}/20260101/{}/{signing_name}/aws4_request, \
                     SignedHeaders=host, Signature=0",
                    self.access_key, self.region
                ),
            );
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(Bytes::from(body)))?;
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(RestAnswer {
            status,
            headers,
            body,
        })
    }
}

impl Conn {
    /// `GET path` of one of Ponte's own endpoints (`/_ponte/...`); a non-2xx answer is a
    /// [`CallError`].
    pub async fn get_json(&mut self, path: &str) -> anyhow::Result<Value> {
        let a = self.rest("ponte", "GET", path, &[], Vec::new()).await?;
        if !(200..300).contains(&a.status) {
            return Err(CallError {
                operation: format!("GET {path}"),
                status: a.status,
                body: String::from_utf8_lossy(&a.body).into_owned(),
            }
            .into());
        }
        Ok(serde_json::from_slice(&a.body)?)
    }
}

/// `host:port` of an `http://host:port` endpoint.
pub fn addr_of(endpoint: &str) -> &str {
    endpoint.trim_start_matches("http://").trim_end_matches('/')
}
