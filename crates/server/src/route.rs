//! Which service, protocol and operation a request is for — LocalStack's and moto's order,
//! adapted (see `shared/reference/protocols-and-crates.md`):
//! 1. `X-Amz-Target: <prefix>.<Operation>` → an awsJson service;
//! 2. a form-encoded (or GET) request with `Action` → a query service, chosen by the SigV4
//!    credential scope, else by `Version`, else by the path (queue URLs belong to SQS);
//! 3. a restJson1 request (credential scope `lambda`, or a method and path matching one of the
//!    model's URI templates, such as `/2015-03-31/functions/{FunctionName}/invocations`);
//! 4. Ponte's own paths under `/_ponte/`.
//!
//! Also here: the caller's access key and region from the SigV4 credential scope
//! (`Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sqs/aws4_request, …`, or
//! the `X-Amz-Credential` query parameter of presigned URLs).

use http::HeaderMap;

/// Wire protocol of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// awsJson 1.0 / 1.1.
    Json,
    /// awsQuery with XML responses.
    Query,
    /// restJson1 (URI templates, headers, JSON bodies).
    Rest,
}

/// A service Ponte serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Amazon SQS.
    Sqs,
    /// Amazon SNS.
    Sns,
    /// AWS Lambda.
    Lambda,
    /// Amazon CloudWatch Logs.
    Logs,
    /// Amazon EventBridge.
    Events,
}

impl Service {
    /// Every service, in the order health output lists them.
    pub const ALL: [Service; 5] = [
        Service::Sqs,
        Service::Sns,
        Service::Events,
        Service::Lambda,
        Service::Logs,
    ];

    /// The service's name in health output and logs (its SigV4 signing name).
    pub fn name(self) -> &'static str {
        match self {
            Service::Sqs => "sqs",
            Service::Sns => "sns",
            Service::Lambda => "lambda",
            Service::Logs => "logs",
            Service::Events => "events",
        }
    }
}

/// The outcome of routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// An AWS operation.
    Aws {
        /// Service.
        service: Service,
        /// Protocol.
        protocol: Protocol,
        /// Operation name (`SendMessage`).
        operation: String,
        /// Query protocol: the decoded form parameters (body and URL query), in order.
        /// restJson1: the URI labels of the matched template.
        params: Vec<(String, String)>,
    },
    /// `GET /_ponte/health`.
    Health,
    /// `GET /_ponte/sns/<file>.pem`: the certificate SNS signs with (`SigningCertURL`).
    SnsCertificate(String),
    /// `GET /_ponte/sns/messages`: the email / email-json / SMS messages SNS recorded.
    SnsSentMessages,
    /// `GET /_ponte/lambda/code/<sha256 hex>.zip`: a function package (`Code.Location`).
    LambdaCode(String),
    /// An awsJson target of a service Ponte does not serve (yet).
    UnknownTarget(String),
    /// A query request with an action no known service has.
    UnknownAction {
        /// The action name.
        action: String,
        /// The service the request was addressed to, if known.
        service: Option<Service>,
    },
    /// A request to a queue URL without an action (SQS answers 404 `UnknownOperationException`).
    QueueUrlWithoutAction,
    /// Nothing matched.
    NotFound,
}

/// The SigV4 credential scope of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credential {
    /// Access key id.
    pub access_key: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Signing service name.
    pub service: Option<String>,
}

/// Reads the credential scope from the `Authorization` header or presigned query parameters.
pub fn credential(headers: &HeaderMap, query: &[(String, String)]) -> Credential {
    let scope = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| {
            let i = auth.find("Credential=")?;
            let rest = &auth[i + "Credential=".len()..];
            Some(rest.split([',', ' ']).next().unwrap_or("").to_owned())
        })
        .or_else(|| {
            query
                .iter()
                .find(|(k, _)| k == "X-Amz-Credential")
                .map(|(_, v)| v.clone())
        });
    let Some(scope) = scope else {
        return Credential::default();
    };
    let parts: Vec<&str> = scope.split('/').collect();
    let non_empty = |s: Option<&&str>| s.filter(|s| !s.is_empty()).map(|s| (*s).to_owned());
    Credential {
        access_key: non_empty(parts.first()),
        region: non_empty(parts.get(2)),
        service: non_empty(parts.get(3)),
    }
}

const SQS_TARGET: &str = "AmazonSQS";
const SQS_VERSION: &str = "2012-11-05";
const SNS_VERSION: &str = "2010-03-31";
/// SQS actions that address the account, not a queue.
const SQS_ACCOUNT_ACTIONS: &[&str] = &["CreateQueue", "ListQueues"];

/// Routes a request. `form` holds the parsed form body (for form-encoded POSTs) followed by
/// the URL query parameters.
pub fn route(
    method: &http::Method,
    path: &str,
    headers: &HeaderMap,
    form: Vec<(String, String)>,
    credential: &Credential,
) -> Route {
    if path.starts_with("/_ponte/") {
        return match (method.as_str(), path) {
            ("GET", "/_ponte/health") => Route::Health,
            ("GET", "/_ponte/sns/messages") => Route::SnsSentMessages,
            ("GET", p) if p.starts_with("/_ponte/lambda/code/") && p.ends_with(".zip") => {
                let file = &p["/_ponte/lambda/code/".len()..];
                Route::LambdaCode(file.trim_end_matches(".zip").to_owned())
            }
            ("GET", p) if p.starts_with("/_ponte/sns/") && p.ends_with(".pem") => {
                Route::SnsCertificate(p["/_ponte/sns/".len()..].to_owned())
            }
            _ => Route::NotFound,
        };
    }
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let (prefix, op) = target.split_once('.').unwrap_or((target, ""));
        return match prefix {
            SQS_TARGET => json(Service::Sqs, op),
            ponte_logs::TARGET_PREFIX => json(Service::Logs, op),
            ponte_events::TARGET_PREFIX => json(Service::Events, op),
            _ => Route::UnknownTarget(target.to_owned()),
        };
    }
    let action = form
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.clone());
    if let Some(action) = action {
        let version = form
            .iter()
            .find(|(k, _)| k == "Version")
            .map(|(_, v)| v.as_str());
        let service = match credential.service.as_deref() {
            Some("sqs") => Some(Service::Sqs),
            Some("sns") => Some(Service::Sns),
            Some(_) => None,
            None if version == Some(SQS_VERSION) || is_queue_path(path) => Some(Service::Sqs),
            None if version == Some(SNS_VERSION) => Some(Service::Sns),
            // Unsigned links Ponte hands out (SNS SubscribeURL / UnsubscribeURL) carry neither.
            None if version.is_none() && is_sns_action(&action) => Some(Service::Sns),
            None => None,
        };
        return match service {
            // A queue URL endpoint serves only queue-level actions.
            Some(Service::Sqs)
                if ponte_sqs::ops::OPERATIONS.contains(&action.as_str())
                    && !(is_queue_path(path) && SQS_ACCOUNT_ACTIONS.contains(&action.as_str())) =>
            {
                Route::Aws {
                    service: Service::Sqs,
                    protocol: Protocol::Query,
                    operation: action,
                    params: form,
                }
            }
            Some(Service::Sns) if is_sns_action(&action) => Route::Aws {
                service: Service::Sns,
                protocol: Protocol::Query,
                operation: action,
                params: form,
            },
            service => Route::UnknownAction { action, service },
        };
    }
    let lambda = ponte_protocol::lambda_model();
    if matches!(credential.service.as_deref(), None | Some("lambda"))
        && let Some(m) = ponte_protocol::match_operation(lambda, method.as_str(), path, &form)
    {
        return Route::Aws {
            service: Service::Lambda,
            protocol: Protocol::Rest,
            operation: m.operation.name.clone(),
            params: m.labels,
        };
    }
    if is_queue_path(path) && headers.get("x-amz-target").is_none() {
        return Route::QueueUrlWithoutAction;
    }
    Route::NotFound
}

fn json(service: Service, operation: &str) -> Route {
    Route::Aws {
        service,
        protocol: Protocol::Json,
        operation: operation.to_owned(),
        params: Vec::new(),
    }
}

fn is_sns_action(action: &str) -> bool {
    ponte_protocol::sns_model().operation(action).is_some()
}

/// Whether `path` looks like a queue URL path `/{12-digit account}/{name}`.
pub fn is_queue_path(path: &str) -> bool {
    let mut parts = path.trim_matches('/').split('/');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(a), Some(n), None) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn credential_scope() {
        let headers = h(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=111122223333/20240101/eu-west-1/sqs/aws4_request, \
             SignedHeaders=host, Signature=abc",
        )]);
        let c = credential(&headers, &[]);
        assert_eq!(c.access_key.as_deref(), Some("111122223333"));
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.service.as_deref(), Some("sqs"));
        let q = f(&[("X-Amz-Credential", "AK/20240101/us-west-2/sqs/aws4_request")]);
        assert_eq!(
            credential(&HeaderMap::new(), &q).region.as_deref(),
            Some("us-west-2")
        );
        assert_eq!(credential(&HeaderMap::new(), &[]), Credential::default());
    }

    #[test]
    fn json_target() {
        let r = route(
            &http::Method::POST,
            "/",
            &h(&[("x-amz-target", "AmazonSQS.SendMessage")]),
            vec![],
            &Credential::default(),
        );
        assert!(
            matches!(r, Route::Aws { service: Service::Sqs, protocol: Protocol::Json, ref operation, .. } if operation == "SendMessage")
        );
        let r = route(
            &http::Method::POST,
            "/",
            &h(&[("x-amz-target", "Nope_2020.Op")]),
            vec![],
            &Credential::default(),
        );
        assert_eq!(r, Route::UnknownTarget("Nope_2020.Op".into()));
    }

    #[test]
    fn query_by_version_scope_and_path() {
        let form = f(&[("Action", "ListQueues"), ("Version", "2012-11-05")]);
        let r = route(
            &http::Method::POST,
            "/",
            &HeaderMap::new(),
            form,
            &Credential::default(),
        );
        assert!(matches!(
            r,
            Route::Aws {
                protocol: Protocol::Query,
                ..
            }
        ));
        let form = f(&[("Action", "SendMessage")]);
        let r = route(
            &http::Method::POST,
            "/000000000000/q",
            &HeaderMap::new(),
            form,
            &Credential::default(),
        );
        assert!(matches!(
            r,
            Route::Aws {
                protocol: Protocol::Query,
                ..
            }
        ));
        let form = f(&[("Action", "Bogus"), ("Version", "2012-11-05")]);
        let r = route(
            &http::Method::POST,
            "/",
            &HeaderMap::new(),
            form,
            &Credential::default(),
        );
        assert!(matches!(
            r,
            Route::UnknownAction {
                service: Some(Service::Sqs),
                ..
            }
        ));
        assert_eq!(
            route(
                &http::Method::GET,
                "/_ponte/health",
                &HeaderMap::new(),
                vec![],
                &Credential::default()
            ),
            Route::Health
        );
        assert_eq!(
            route(
                &http::Method::GET,
                "/x",
                &HeaderMap::new(),
                vec![],
                &Credential::default()
            ),
            Route::NotFound
        );
    }

    proptest::proptest! {
        /// Routing never panics, whatever the method, path, headers and form.
        #[test]
        fn routing_never_panics(
            method in proptest::sample::select(vec!["GET", "POST", "PUT", "DELETE", "HEAD"]),
            path in "(/[a-z0-9._-]{0,14}){0,4}",
            target in proptest::option::of(".{0,30}"),
            auth in proptest::option::of("AWS4-HMAC-SHA256 Credential=.{0,40}"),
            form in proptest::collection::vec(
                (proptest::sample::select(vec!["Action", "Version", "QueueUrl", "X-Amz-Credential"]),
                 ".{0,20}"),
                0..5,
            ),
        ) {
            let mut headers = HeaderMap::new();
            if let Some(t) = target.and_then(|t| t.parse().ok()) {
                headers.insert("x-amz-target", t);
            }
            if let Some(a) = auth.and_then(|a| a.parse().ok()) {
                headers.insert(http::header::AUTHORIZATION, a);
            }
            let form: Vec<(String, String)> =
                form.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            let cred = credential(&headers, &form);
            let method: http::Method = method.parse().unwrap();
            let _ = route(&method, &path, &headers, form, &cred);
        }
    }

    #[test]
    fn lambda_paths_are_rest_json() {
        let r = route(
            &http::Method::POST,
            "/2015-03-31/functions/my-fn/invocations",
            &HeaderMap::new(),
            vec![],
            &Credential::default(),
        );
        assert!(
            matches!(r, Route::Aws { service: Service::Lambda, protocol: Protocol::Rest, ref operation, ref params }
            if operation == "Invoke" && params == &[("FunctionName".to_owned(), "my-fn".to_owned())])
        );
    }

    #[test]
    fn sns_by_scope_version_and_unsigned_links() {
        let form = f(&[("Action", "Publish"), ("Version", "2010-03-31")]);
        let r = route(
            &http::Method::POST,
            "/",
            &HeaderMap::new(),
            form,
            &Credential::default(),
        );
        assert!(matches!(
            r,
            Route::Aws {
                service: Service::Sns,
                protocol: Protocol::Query,
                ..
            }
        ));
        let form = f(&[("Action", "ConfirmSubscription"), ("Token", "t")]);
        let r = route(
            &http::Method::GET,
            "/",
            &HeaderMap::new(),
            form,
            &Credential::default(),
        );
        assert!(matches!(
            r,
            Route::Aws {
                service: Service::Sns,
                ..
            }
        ));
        // SQS and SNS share action names; the version decides.
        let form = f(&[("Action", "AddPermission"), ("Version", "2012-11-05")]);
        let r = route(
            &http::Method::POST,
            "/",
            &HeaderMap::new(),
            form,
            &Credential::default(),
        );
        assert!(matches!(
            r,
            Route::Aws {
                service: Service::Sqs,
                ..
            }
        ));
        let r = route(
            &http::Method::POST,
            "/",
            &h(&[("x-amz-target", "AWSEvents.PutEvents")]),
            vec![],
            &Credential::default(),
        );
        assert!(matches!(
            r,
            Route::Aws {
                service: Service::Events,
                protocol: Protocol::Json,
                ..
            }
        ));
        let r = route(
            &http::Method::POST,
            "/",
            &h(&[("x-amz-target", "Logs_20140328.PutLogEvents")]),
            vec![],
            &Credential::default(),
        );
        assert!(matches!(
            r,
            Route::Aws {
                service: Service::Logs,
                protocol: Protocol::Json,
                ..
            }
        ));
    }

    #[test]
    fn queue_paths() {
        assert!(is_queue_path("/000000000000/orders"));
        assert!(!is_queue_path("/000000000000"));
        assert!(!is_queue_path("/abc/orders"));
        assert!(!is_queue_path("/000000000000/a/b"));
    }
}
