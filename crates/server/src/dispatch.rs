//! The one HTTP handler: read the (capped) body, route, decode with the request's protocol, call
//! the service, encode the answer or AWS's error envelope for that protocol.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use ponte_protocol::error::{AwsError, SQS_JSON_NAMESPACE};
use ponte_types::RequestContext;
use ponte_types::context::account_for_access_key;
use serde_json::Value;

use crate::App;
use crate::route::{self, Protocol, Route, Service};

/// The router: every path goes to [`handle`].
pub fn router(app: Arc<App>) -> Router {
    Router::new().fallback(handle).with_state(app)
}

const JSON_1_0: &str = "application/x-amz-json-1.0";

/// Handles any request on the port.
pub async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let request_id = ponte_types::ids::request_id();
    let bytes = match axum::body::to_bytes(body, app.options.max_body_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                &request_id,
                "Request body too large",
            );
        }
    };
    let url_query = parts
        .uri
        .query()
        .map(|q| ponte_protocol::query::parse_form(q.as_bytes()))
        .unwrap_or_default();
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    let mut form = if is_form {
        ponte_protocol::query::parse_form(&bytes)
    } else {
        Vec::new()
    };
    form.extend(url_query.iter().cloned());
    let cred = route::credential(&parts.headers, &url_query);
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{}:{}", app.options.host, app.options.port));
    let ctx = RequestContext {
        account: account_for_access_key(cred.access_key.as_deref()),
        region: cred
            .region
            .clone()
            .unwrap_or_else(|| ponte_types::DEFAULT_REGION.to_owned()),
        request_id: request_id.clone(),
        trace_header: parts
            .headers
            .get("x-amzn-trace-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        base_url: format!("http://{host}"),
        access_key: cred.access_key.clone(),
    };
    let path = parts.uri.path().to_owned();
    let routed = route::route(&parts.method, &path, &parts.headers, form, &cred);
    let (label, response) = match routed {
        Route::Health => ("health".to_owned(), health(&app)),
        Route::SnsCertificate(file) => {
            let resp = match app.sns.signing_cert_pem(&file).await {
                Some(pem) => Response::builder()
                    .status(StatusCode::OK)
                    .header(header::CONTENT_TYPE, "application/x-pem-file")
                    .body(Body::from(pem))
                    .unwrap_or_default(),
                None => plain(StatusCode::NOT_FOUND, &request_id, "Not Found"),
            };
            ("sns.certificate".to_owned(), resp)
        }
        Route::LambdaCode(hex) => {
            let resp = match app.lambda.code_zip(&hex) {
                Some(zip) => Response::builder()
                    .status(StatusCode::OK)
                    .header(header::CONTENT_TYPE, "application/zip")
                    .body(Body::from(zip))
                    .unwrap_or_default(),
                None => plain(StatusCode::NOT_FOUND, &request_id, "Not Found"),
            };
            ("lambda.code".to_owned(), resp)
        }
        Route::SnsSentMessages => {
            let endpoint = url_query
                .iter()
                .find(|(k, _)| k == "endpoint")
                .map(|(_, v)| v.as_str());
            let body = serde_json::json!({ "messages": app.sns.sent_messages(endpoint) });
            let resp = Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap_or_default();
            ("sns.sent-messages".to_owned(), resp)
        }
        Route::Aws {
            service: Service::Sqs,
            protocol,
            operation,
            params,
        } => {
            let resp = sqs(&app, &ctx, protocol, &operation, &path, params, &bytes).await;
            (format!("sqs.{operation}"), resp)
        }
        Route::Aws {
            service: Service::Lambda,
            operation,
            params,
            ..
        } => {
            let resp = lambda(&app, &ctx, &operation, &params, &parts, &url_query, &bytes).await;
            (format!("lambda.{operation}"), resp)
        }
        Route::Aws {
            service: Service::Sns,
            operation,
            params,
            ..
        } => {
            let resp = sns(&app, &ctx, &operation, params).await;
            (format!("sns.{operation}"), resp)
        }
        Route::Aws {
            service: service @ (Service::Logs | Service::Events),
            operation,
            ..
        } => {
            let resp = json_1_1(&app, &ctx, service, &operation, &bytes).await;
            (format!("{}.{operation}", service.name()), resp)
        }
        Route::UnknownTarget(target) => (
            target,
            json_error(
                &AwsError::sender("UnknownOperationException", "")
                    .with_namespace("com.amazon.coral.service"),
                &request_id,
            ),
        ),
        Route::UnknownAction { action, .. } => {
            let err = AwsError::sender(
                "InvalidAction",
                format!("The action {action} is not valid for this endpoint."),
            );
            (action, xml_error(&err, &request_id))
        }
        Route::QueueUrlWithoutAction => (
            "unknown-operation".into(),
            xml_response(
                StatusCode::NOT_FOUND,
                "<?xml version=\"1.0\"?><UnknownOperationException/>".into(),
                &request_id,
            ),
        ),
        Route::NotFound => (
            "not-found".into(),
            plain(StatusCode::NOT_FOUND, &request_id, "Not Found"),
        ),
    };
    tracing::debug!(
        op = %label,
        status = response.status().as_u16(),
        ms = format!("{:.3}", started.elapsed().as_secs_f64() * 1000.0),
        request_id = %request_id,
        "request"
    );
    response
}

#[allow(clippy::too_many_arguments)]
async fn sqs(
    app: &App,
    ctx: &RequestContext,
    protocol: Protocol,
    operation: &str,
    path: &str,
    params: Vec<(String, String)>,
    body: &[u8],
) -> Response {
    let model = ponte_protocol::model::sqs_query_model();
    let input = match protocol {
        Protocol::Json | Protocol::Rest => {
            if body.is_empty() {
                Ok(Value::Object(Default::default()))
            } else {
                serde_json::from_slice::<Value>(body)
                    .ok()
                    .filter(Value::is_object)
                    .ok_or_else(|| {
                        AwsError::sender("SerializationException", "Malformed JSON body")
                            .with_namespace("com.amazon.coral.service")
                    })
            }
        }
        Protocol::Query => {
            let mut params = params;
            // Older clients post to the queue URL and leave QueueUrl out.
            if route::is_queue_path(path) && !params.iter().any(|(k, _)| k == "QueueUrl") {
                params.push(("QueueUrl".into(), format!("{}{}", ctx.base_url, path)));
            }
            ponte_protocol::query::decode_input(model, operation, &params)
                .map_err(|e| e.to_aws_error())
        }
    };
    let result = match input {
        Ok(input) => ponte_sqs::ops::call(&app.sqs, ctx, operation, &input)
            .await
            .map_err(|e| sqs_error(&e, protocol)),
        Err(e) => Err(e),
    };
    match (protocol, result) {
        (Protocol::Json | Protocol::Rest, Ok(out)) => json_ok(&out, &ctx.request_id),
        (Protocol::Json | Protocol::Rest, Err(e)) => json_error(&e, &ctx.request_id),
        (Protocol::Query, Ok(out)) => {
            let xml = ponte_protocol::xml::encode_response(model, operation, &out, &ctx.request_id);
            xml_response(StatusCode::OK, xml, &ctx.request_id)
        }
        (Protocol::Query, Err(e)) => xml_error(&e, &ctx.request_id),
    }
}

/// Lambda (restJson1): the request is decoded with the model into the awsJson-shaped input,
/// the output encoded back into status, headers and body; errors carry their modeled members.
async fn lambda(
    app: &App,
    ctx: &RequestContext,
    operation: &str,
    labels: &[(String, String)],
    parts: &http::request::Parts,
    query: &[(String, String)],
    body: &[u8],
) -> Response {
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let model = ponte_protocol::lambda_model();
    let result =
        match ponte_protocol::rest::decode_input(model, operation, labels, query, &headers, body) {
            Err(e) => Err(e.to_aws_error()),
            Ok(input) => app.lambda.call(ctx, operation, input).await,
        };
    let out = match result {
        Ok(output) => ponte_protocol::rest::encode_output(model, operation, &output),
        Err(e) => {
            if e.status >= 500 {
                tracing::error!(code = %e.code, message = %e.message, "lambda internal error");
            }
            ponte_protocol::rest::encode_modeled_error(model, &e, &e.fields)
        }
    };
    let mut resp = Response::builder()
        .status(StatusCode::from_u16(out.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (k, v) in &out.headers {
        resp = resp.header(k.as_str(), v.as_str());
    }
    with_request_id(
        resp.body(Body::from(out.body)).unwrap_or_default(),
        &ctx.request_id,
    )
}

/// SNS (awsQuery with XML responses).
async fn sns(
    app: &App,
    ctx: &RequestContext,
    operation: &str,
    params: Vec<(String, String)>,
) -> Response {
    let model = ponte_protocol::sns_model();
    let result = match ponte_protocol::query::decode_input(model, operation, &params) {
        Err(e) => Err(e.to_aws_error()),
        Ok(input) => app.sns.call(ctx, operation, input).await,
    };
    match result {
        Ok(out) => {
            let xml = ponte_protocol::xml::encode_response(model, operation, &out, &ctx.request_id);
            xml_response(StatusCode::OK, xml, &ctx.request_id)
        }
        Err(e) => {
            let xml = ponte_protocol::xml::encode_aws_error(model, &e, &ctx.request_id);
            xml_response(
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
                xml,
                &ctx.request_id,
            )
        }
    }
}

const JSON_1_1: &str = "application/x-amz-json-1.1";

/// awsJson 1.1 services (CloudWatch Logs, EventBridge): the body is the input object.
async fn json_1_1(
    app: &App,
    ctx: &RequestContext,
    service: Service,
    operation: &str,
    body: &[u8],
) -> Response {
    let input = if body.is_empty() {
        Ok(Value::Object(Default::default()))
    } else {
        serde_json::from_slice::<Value>(body)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| AwsError::sender("SerializationException", "Malformed JSON body"))
    };
    let result = match input {
        Err(e) => Err(e),
        Ok(input) => match service {
            Service::Logs => app.logs.call(ctx, operation, input).await,
            Service::Events => app.events.call(ctx, operation, input).await,
            _ => Err(AwsError::sender("UnknownOperationException", "")),
        },
    };
    let (status, body) = match result {
        Ok(out) => (StatusCode::OK, out.to_string()),
        Err(e) => {
            if e.status >= 500 {
                tracing::error!(service = service.name(), code = %e.code, message = %e.message, "internal error");
            }
            (
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
                e.json_error_body(),
            )
        }
    };
    let resp = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, JSON_1_1)
        .body(Body::from(body))
        .unwrap_or_default();
    with_request_id(resp, &ctx.request_id)
}

/// The one mapping from SQS errors onto the AWS envelope.
fn sqs_error(e: &ponte_sqs::Error, protocol: Protocol) -> AwsError {
    let w = e.wire();
    let message = match protocol {
        Protocol::Query => e.query_message(),
        Protocol::Json | Protocol::Rest => e.to_string(),
    };
    let mut err = AwsError::new(w.json_type, w.status, w.sender_fault, message)
        .with_namespace(SQS_JSON_NAMESPACE);
    err.query_code = Some(w.query_code.to_owned());
    if matches!(e, ponte_sqs::Error::Internal(_)) {
        tracing::error!(error = %e, "sqs internal error");
    }
    err
}

fn with_request_id(mut resp: Response, request_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp
}

fn json_ok(out: &Value, request_id: &str) -> Response {
    let resp = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, JSON_1_0)
        .body(Body::from(out.to_string()))
        .unwrap_or_default();
    with_request_id(resp, request_id)
}

fn json_error(e: &AwsError, request_id: &str) -> Response {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST))
        .header(header::CONTENT_TYPE, JSON_1_0);
    if let Some(h) = e.query_error_header() {
        b = b.header(ponte_protocol::error::QUERY_ERROR_HEADER, h);
    }
    let resp = b.body(Body::from(e.json_error_body())).unwrap_or_default();
    with_request_id(resp, request_id)
}

fn xml_response(status: StatusCode, xml: String, request_id: &str) -> Response {
    let resp = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/xml")
        .body(Body::from(xml))
        .unwrap_or_default();
    with_request_id(resp, request_id)
}

fn xml_error(e: &AwsError, request_id: &str) -> Response {
    // Every query service Ponte serves today is SQS; SNS brings its own model.
    let model = ponte_protocol::model::sqs_query_model();
    let xml = ponte_protocol::xml::encode_aws_error(model, e, request_id);
    xml_response(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        xml,
        request_id,
    )
}

fn plain(status: StatusCode, request_id: &str, message: &str) -> Response {
    let resp = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({ "message": message }).to_string(),
        ))
        .unwrap_or_default();
    with_request_id(resp, request_id)
}

fn health(app: &App) -> Response {
    let body = serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "services": Service::ALL
            .iter()
            .map(|s| (s.name().to_owned(), Value::from("running")))
            .collect::<serde_json::Map<_, _>>(),
        "deliveries": app.outbox.stats(),
        "lambda": app.lambda.stats(),
        "store": { "backend": app.store.backend(), "durable": app.store.durable() },
        "time_scale": app.clock.scale(),
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}
