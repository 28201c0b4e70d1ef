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
//! `https://` endpoints are reached over TLS (rustls) and their certificates are verified, as
//! SNS verifies them: against the OS root store, or, when `SSL_CERT_FILE` / `SSL_CERT_DIR` are
//! set, against the certificates there instead (the OpenSSL convention; this is how a private
//! CA is trusted). A certificate that does not verify is a failed attempt (`CertificateError`),
//! logged at warn level with the reason, and retried like any other failure.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
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

type HyperClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The HTTP/HTTPS client deliveries use: one shared client (HTTP/1.1, pooled connections) for
/// both schemes, built at the first delivery so that loading the root certificates costs
/// nothing for a server that never delivers over HTTP.
pub(crate) struct HttpClient {
    client: OnceLock<Result<HyperClient, String>>,
}

impl HttpClient {
    /// A client trusting the OS roots (or `SSL_CERT_FILE` / `SSL_CERT_DIR`), loaded at first use.
    pub(crate) fn new() -> Self {
        HttpClient {
            client: OnceLock::new(),
        }
    }

    /// A client trusting exactly `roots`.
    #[cfg(test)]
    fn with_roots(roots: rustls::RootCertStore) -> Self {
        HttpClient {
            client: OnceLock::from(build_client(roots)),
        }
    }

    fn client(&self) -> &Result<HyperClient, String> {
        self.client.get_or_init(|| {
            let client = build_client(native_roots());
            if let Err(e) = &client {
                tracing::error!(error = %e, "SNS http/https deliveries cannot be made");
            }
            client
        })
    }

    /// Sends `req` to `endpoint`; a 2xx answer is delivered, anything else a failed attempt.
    async fn send(&self, endpoint: &str, req: http::Request<Full<Bytes>>) -> Outcome {
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => return failed(FailureKind::Unavailable, 500, "InternalError", e.clone()),
        };
        match tokio::time::timeout(HTTP_TIMEOUT, client.request(req)).await {
            Err(_) => failed(
                FailureKind::Error,
                0,
                "Timeout",
                "the endpoint did not answer in 15 s",
            ),
            Ok(Err(e)) => connection_failure(endpoint, &e),
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
}

/// The root certificates of the OS store, or of `SSL_CERT_FILE` / `SSL_CERT_DIR` when set.
/// Unreadable or unparsable certificates are logged and skipped.
fn native_roots() -> rustls::RootCertStore {
    let loaded = rustls_native_certs::load_native_certs();
    for e in &loaded.errors {
        tracing::warn!(error = %e, "SNS https deliveries: could not load root certificates");
    }
    let mut roots = rustls::RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(loaded.certs);
    if ignored > 0 {
        tracing::warn!(
            ignored,
            "SNS https deliveries: some root certificates could not be parsed"
        );
    }
    if added == 0 {
        tracing::warn!(
            "SNS https deliveries: no root certificates found (OS store, SSL_CERT_FILE, \
             SSL_CERT_DIR); every https endpoint will fail certificate verification"
        );
    } else {
        tracing::debug!(
            roots = added,
            "SNS https deliveries: root certificates loaded"
        );
    }
    roots
}

/// The shared client over `roots`, with the `ring` provider (no process-wide default needed).
fn build_client(roots: rustls::RootCertStore) -> Result<HyperClient, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// The failed attempt of a request that got no answer: a TLS failure (the endpoint's
/// certificate did not verify, or the handshake failed) is named as such and logged, since it
/// is a set-up problem rather than a passing one; other errors carry their whole cause chain.
fn connection_failure(endpoint: &str, e: &hyper_util::client::legacy::Error) -> Outcome {
    let chain = error_chain(e);
    match tls_error(e) {
        Some(tls) => {
            let certificate = matches!(
                tls,
                rustls::Error::InvalidCertificate(_)
                    | rustls::Error::InvalidCertRevocationList(_)
                    | rustls::Error::NoCertificatesPresented
            );
            let (code, what) = if certificate {
                ("CertificateError", "certificate verification failed")
            } else {
                ("TLSError", "TLS handshake failed")
            };
            let message = format!(
                "{what} for {endpoint}: {tls} (trusted roots: the OS store, or SSL_CERT_FILE / \
                 SSL_CERT_DIR when set)"
            );
            tracing::warn!(endpoint, error = %tls, "SNS https delivery: {what}");
            failed(FailureKind::Error, 0, code, message)
        }
        None => failed(FailureKind::Error, 0, "ConnectionError", chain),
    }
}

/// `e` and its sources, joined by `": "`.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cur = s.source();
    }
    text
}

/// The rustls error somewhere in `e`'s cause chain, directly or wrapped in (nested) `io::Error`s,
/// whose `source()` skips the error they wrap.
fn tls_error<'e>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    if let Some(inner) = e
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
    {
        let inner: &(dyn std::error::Error + 'static) = inner;
        if let Some(tls) = tls_error(inner) {
            return Some(tls);
        }
    }
    e.source().and_then(tls_error)
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
    inner.http.send(endpoint, req).await
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use http_body_util::{BodyExt, Full};
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use rsa::RsaPrivateKey;
    use rsa::pkcs1v15::SigningKey;
    use rsa::pkcs8::EncodePrivateKey;
    use rsa::rand_core::OsRng;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use sha2::Sha256;
    use tokio::net::TcpListener;
    use tokio::sync::mpsc;
    use x509_cert::builder::{Builder, CertificateBuilder, Profile};
    use x509_cert::der::Encode;
    use x509_cert::der::asn1::{OctetString, UtcTime};
    use x509_cert::ext::pkix::SubjectAltName;
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::name::Name;
    use x509_cert::serial_number::SerialNumber;
    use x509_cert::spki::SubjectPublicKeyInfoOwned;
    use x509_cert::time::{Time, Validity};

    use super::*;

    /// A private CA and a server certificate for 127.0.0.1 it issued.
    struct Pki {
        ca: CertificateDer<'static>,
        server_chain: Vec<CertificateDer<'static>>,
        server_key: PrivateKeyDer<'static>,
    }

    fn validity() -> Validity {
        // 2020-01-01 .. 2049-12-31: covers the wall clock the verifier reads.
        let t =
            |secs| Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(secs)).unwrap());
        Validity {
            not_before: t(1_577_836_800),
            not_after: t(2_524_521_600),
        }
    }

    fn pki() -> Pki {
        let ca_key = RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
        let server_key = RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
        let ca_name: Name = "CN=Ponte Test CA".parse().unwrap();
        let ca_signer = SigningKey::<Sha256>::new(ca_key.clone());
        let ca = CertificateBuilder::new(
            Profile::Root,
            SerialNumber::from(1u32),
            validity(),
            ca_name.clone(),
            SubjectPublicKeyInfoOwned::from_key(ca_key.to_public_key()).unwrap(),
            &ca_signer,
        )
        .unwrap()
        .build::<rsa::pkcs1v15::Signature>()
        .unwrap();
        let mut leaf = CertificateBuilder::new(
            Profile::Leaf {
                issuer: ca_name,
                enable_key_agreement: false,
                enable_key_encipherment: true,
            },
            SerialNumber::from(2u32),
            validity(),
            "CN=127.0.0.1".parse().unwrap(),
            SubjectPublicKeyInfoOwned::from_key(server_key.to_public_key()).unwrap(),
            &ca_signer,
        )
        .unwrap();
        leaf.add_extension(&SubjectAltName(vec![GeneralName::IpAddress(
            OctetString::new(vec![127, 0, 0, 1]).unwrap(),
        )]))
        .unwrap();
        let leaf = leaf.build::<rsa::pkcs1v15::Signature>().unwrap();
        let ca = CertificateDer::from(ca.to_der().unwrap());
        Pki {
            server_chain: vec![CertificateDer::from(leaf.to_der().unwrap()), ca.clone()],
            ca,
            server_key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                server_key.to_pkcs8_der().unwrap().as_bytes().to_vec(),
            )),
        }
    }

    /// A request the test server received: its headers and body.
    type Received = (http::HeaderMap, String);

    /// Serves connections on a loopback port (over TLS when `tls` is given), answering 200 and
    /// reporting every request.
    async fn serve(
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> (SocketAddr, mpsc::Receiver<Received>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let tx = tx.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let tx = tx.clone();
                        async move {
                            let headers = req.headers().clone();
                            let body = req.into_body().collect().await?.to_bytes();
                            let body = String::from_utf8_lossy(&body).into_owned();
                            let _ = tx.send((headers, body)).await;
                            Ok::<_, hyper::Error>(http::Response::new(Full::new(Bytes::new())))
                        }
                    });
                    let http = hyper::server::conn::http1::Builder::new();
                    match tls {
                        Some(config) => {
                            // A failed handshake (the client rejected the certificate) ends here.
                            if let Ok(stream) =
                                tokio_rustls::TlsAcceptor::from(config).accept(tcp).await
                            {
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                        None => {
                            let _ = http.serve_connection(TokioIo::new(tcp), service).await;
                        }
                    }
                });
            }
        });
        (addr, rx)
    }

    fn server_config(pki: &Pki) -> Arc<rustls::ServerConfig> {
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(pki.server_chain.clone(), pki.server_key.clone_key())
        .unwrap();
        Arc::new(config)
    }

    fn post(endpoint: &str, body: &str) -> http::Request<Full<Bytes>> {
        http::Request::builder()
            .method(http::Method::POST)
            .uri(endpoint)
            .header("x-amz-sns-message-type", "Notification")
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap()
    }

    #[tokio::test]
    async fn https_endpoints_with_a_trusted_certificate_receive_deliveries() {
        let pki = pki();
        let (addr, mut received) = serve(Some(server_config(&pki))).await;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca.clone()).unwrap();
        let client = HttpClient::with_roots(roots);
        let endpoint = format!("https://{addr}/hook");
        for n in 0..2 {
            let outcome = client
                .send(&endpoint, post(&endpoint, &format!("m{n}")))
                .await;
            assert!(
                matches!(
                    outcome,
                    Outcome::Delivered {
                        status_code: 200,
                        ..
                    }
                ),
                "{outcome:?}"
            );
            let (headers, body) = received.recv().await.unwrap();
            assert_eq!(headers["x-amz-sns-message-type"], "Notification");
            assert_eq!(body, format!("m{n}"));
        }
        // The same client still speaks plain HTTP.
        let (addr, mut received) = serve(None).await;
        let endpoint = format!("http://{addr}/hook");
        let outcome = client.send(&endpoint, post(&endpoint, "plain")).await;
        assert!(matches!(outcome, Outcome::Delivered { .. }), "{outcome:?}");
        assert_eq!(received.recv().await.unwrap().1, "plain");
    }

    #[tokio::test]
    async fn https_endpoints_with_an_untrusted_certificate_fail_verification() {
        let pki = pki();
        let (addr, mut received) = serve(Some(server_config(&pki))).await;
        // Trusts nothing, so the private CA is unknown, as a self-signed endpoint is on AWS.
        let client = HttpClient::with_roots(rustls::RootCertStore::empty());
        let endpoint = format!("https://{addr}/hook");
        let outcome = client.send(&endpoint, post(&endpoint, "secret")).await;
        let Outcome::Failed(failure) = outcome else {
            panic!("delivered to an untrusted endpoint: {outcome:?}");
        };
        assert_eq!(failure.kind, FailureKind::Error);
        assert_eq!(failure.code, "CertificateError", "{}", failure.message);
        assert!(
            failure.message.contains("UnknownIssuer"),
            "{}",
            failure.message
        );
        assert!(failure.message.contains(&endpoint), "{}", failure.message);
        assert!(received.try_recv().is_err());
    }
}
