//! The Lambda Runtime API (`/2018-06-01/runtime/...`) served to ONE instance.
//!
//! Every instance gets its own loopback listener (`AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>`),
//! so a request is attributed by the port it arrives on. The brief suggested one listener with a
//! path prefix per instance (`127.0.0.1:<port>/<instance>`), but common runtime clients treat the
//! variable as `host:port` only: AWS's python client passes it to `http.client.HTTPConnection`
//! (the `/<instance>` ends up in the port and fails to parse) and the node client splits it on
//! `:`; a user's `provided` bootstrap built on them would break. A port per instance works with
//! every client and costs one socket.
//!
//! The invoker and these handlers meet in [`ApiShared`]: the invoker hands an [`Assignment`] to
//! the blocked `/next`, and every runtime call becomes an [`ApiEvent`] the invoker waits on.
//! Responses for any request id other than the one in progress are refused as Lambda refuses
//! them (`InvalidRequestID` / `InvalidStateTransition`), so a late or forged call cannot complete
//! another invocation.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::logfmt::MAX_RESPONSE_BYTES;

const PREFIX: &str = "/2018-06-01/runtime";
const ERROR_TYPE_HEADER: &str = "lambda-runtime-function-error-type";

/// One invocation handed to the runtime by `/next`.
#[derive(Debug)]
pub(crate) struct Assignment {
    pub request_id: String,
    pub payload: Bytes,
    pub deadline_ms: u64,
    pub function_arn: String,
    pub trace_header: String,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
}

/// What the runtime told Ponte.
#[derive(Debug)]
pub(crate) enum ApiEvent {
    /// `/next` was called (the first call ends init).
    Next,
    /// `/invocation/{id}/response`.
    Response { request_id: String, body: Bytes },
    /// `/invocation/{id}/error`.
    Error {
        request_id: String,
        error_type: Option<String>,
        body: Bytes,
    },
    /// A response or error body over the 6 MB limit.
    TooLarge { request_id: String },
    /// `/init/error`.
    InitError {
        error_type: Option<String>,
        body: Bytes,
    },
}

#[derive(Debug, Default)]
struct State {
    /// The invocation in progress (assigned, not yet answered).
    active: Option<String>,
    /// The last invocation answered (a second answer is a state error, not an unknown id).
    answered: Option<String>,
    /// `/next` has been called at least once.
    initialized: bool,
}

/// Why the Runtime API refuses an answer.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// Not the invocation in progress, nor the last one.
    UnknownRequest,
    /// The invocation was already answered (or abandoned on timeout).
    AlreadyAnswered,
}

impl Refusal {
    fn response(self) -> Response<Full<Bytes>> {
        match self {
            Refusal::UnknownRequest => json(
                StatusCode::BAD_REQUEST,
                "InvalidRequestID",
                "Invalid request ID",
            ),
            Refusal::AlreadyAnswered => json(
                StatusCode::FORBIDDEN,
                "InvalidStateTransition",
                "State transition from RuntimeResponseSent to InvocationResponse failed for runtime. Error: State transition is not allowed",
            ),
        }
    }
}

/// State shared by one instance's handlers and its invoker.
#[derive(Debug)]
pub(crate) struct ApiShared {
    next_rx: tokio::sync::Mutex<mpsc::Receiver<Assignment>>,
    events: mpsc::UnboundedSender<ApiEvent>,
    state: parking_lot::Mutex<State>,
}

/// The invoker's ends of an instance's API channels.
pub(crate) struct ApiEnds {
    pub shared: Arc<ApiShared>,
    pub next_tx: mpsc::Sender<Assignment>,
    pub events: mpsc::UnboundedReceiver<ApiEvent>,
}

impl ApiShared {
    pub(crate) fn channels() -> ApiEnds {
        let (next_tx, next_rx) = mpsc::channel(1);
        let (events_tx, events) = mpsc::unbounded_channel();
        ApiEnds {
            shared: Arc::new(ApiShared {
                next_rx: tokio::sync::Mutex::new(next_rx),
                events: events_tx,
                state: parking_lot::Mutex::new(State::default()),
            }),
            next_tx,
            events,
        }
    }

    /// Marks `request_id` as the invocation in progress (before it is handed to `/next`).
    pub(crate) fn begin(&self, request_id: &str) {
        let mut st = self.state.lock();
        st.active = Some(request_id.to_string());
    }

    /// Ends the invocation in progress without an answer (timeout, crash).
    pub(crate) fn abandon(&self) {
        let mut st = self.state.lock();
        st.answered = st.active.take();
    }

    /// Claims the right to answer `request_id`: `Ok` once, then the Runtime API's refusal.
    fn claim(&self, request_id: &str) -> Result<(), Refusal> {
        let mut st = self.state.lock();
        if st.active.as_deref() == Some(request_id) {
            st.answered = st.active.take();
            return Ok(());
        }
        if st.answered.as_deref() == Some(request_id) {
            return Err(Refusal::AlreadyAnswered);
        }
        Err(Refusal::UnknownRequest)
    }

    fn send(&self, ev: ApiEvent) {
        // The receiver lives as long as the instance; a send after it is gone is moot.
        let _ = self.events.send(ev);
    }
}

/// Accepts connections on `listener` until the task is aborted (aborting also ends every
/// connection, which the `JoinSet` owns).
pub(crate) async fn serve(listener: TcpListener, shared: Arc<ApiShared>) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    tokio::task::yield_now().await;
                    continue;
                };
                // Small request/response exchanges on a kept-alive connection: Nagle plus
                // delayed ACKs would add tens of milliseconds to each.
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| handle(shared.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn handle(
    shared: Arc<ApiShared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Ok(not_found());
    };
    let method = req.method().clone();
    Ok(match (method, rest) {
        (Method::GET, "/invocation/next") => next(&shared).await,
        (Method::POST, "/init/error") => init_error(&shared, req).await,
        (Method::POST, r) if r.starts_with("/invocation/") => {
            let r = &r["/invocation/".len()..];
            if let Some(id) = r.strip_suffix("/response") {
                answer(&shared, id, req, None).await
            } else if let Some(id) = r.strip_suffix("/error") {
                let error_type = header(&req, ERROR_TYPE_HEADER);
                answer(&shared, id, req, Some(error_type)).await
            } else {
                not_found()
            }
        }
        _ => not_found(),
    })
}

async fn next(shared: &ApiShared) -> Response<Full<Bytes>> {
    {
        shared.state.lock().initialized = true;
    }
    shared.send(ApiEvent::Next);
    let mut rx = shared.next_rx.lock().await;
    let Some(a) = rx.recv().await else {
        // The instance is going away; the process is about to be killed.
        return json(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "shutting down",
        );
    };
    drop(rx);
    let mut resp = Response::new(Full::new(a.payload));
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let mut set = |name: &'static str, value: &str| {
        // Values come from the caller; one that is not a valid header value is left out
        // rather than failing the invocation.
        if let Ok(v) = HeaderValue::from_bytes(value.as_bytes()) {
            h.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", &a.request_id);
    set("lambda-runtime-deadline-ms", &a.deadline_ms.to_string());
    set("lambda-runtime-invoked-function-arn", &a.function_arn);
    if !a.trace_header.is_empty() {
        set("lambda-runtime-trace-id", &a.trace_header);
    }
    if let Some(c) = &a.client_context {
        set("lambda-runtime-client-context", c);
    }
    if let Some(c) = &a.cognito_identity {
        set("lambda-runtime-cognito-identity", c);
    }
    resp
}

/// Past the limit, a body is still read (and dropped) up to this size, so the runtime gets
/// its 413 on a connection that stays usable, as its keep-alive client expects.
const DISCARD_LIMIT: u64 = 64 * 1024 * 1024;

/// Why a body was not read.
enum BodyError {
    TooLarge,
    Broken,
}

/// Reads a body of at most [`MAX_RESPONSE_BYTES`].
async fn read_capped(req: Request<Incoming>) -> Result<Bytes, BodyError> {
    let mut body = req.into_body();
    let mut buf = bytes::BytesMut::new();
    let mut seen: u64 = 0;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(BodyError::Broken);
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen += data.len() as u64;
        if seen <= MAX_RESPONSE_BYTES as u64 {
            buf.extend_from_slice(&data);
        } else {
            buf = bytes::BytesMut::new();
            if seen > DISCARD_LIMIT {
                break;
            }
        }
    }
    if seen > MAX_RESPONSE_BYTES as u64 {
        return Err(BodyError::TooLarge);
    }
    Ok(buf.freeze())
}

fn broken_body() -> Response<Full<Bytes>> {
    json(
        StatusCode::BAD_REQUEST,
        "InvalidRequest",
        "the request body could not be read",
    )
}

fn too_large() -> Response<Full<Bytes>> {
    json(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
    )
}

async fn answer(
    shared: &ApiShared,
    id: &str,
    req: Request<Incoming>,
    error_type: Option<Option<String>>,
) -> Response<Full<Bytes>> {
    // Check the id before reading the body: an unknown id is refused without claiming anything.
    {
        let st = shared.state.lock();
        if st.active.as_deref() != Some(id) {
            drop(st);
            if let Err(refusal) = shared.claim(id) {
                return refusal.response();
            }
        }
    }
    let body = match read_capped(req).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            if shared.claim(id).is_ok() {
                shared.send(ApiEvent::TooLarge {
                    request_id: id.to_string(),
                });
            }
            return too_large();
        }
        Err(BodyError::Broken) => return broken_body(),
    };
    if let Err(refusal) = shared.claim(id) {
        return refusal.response();
    }
    let request_id = id.to_string();
    shared.send(match error_type {
        None => ApiEvent::Response { request_id, body },
        Some(error_type) => ApiEvent::Error {
            request_id,
            error_type,
            body,
        },
    });
    accepted()
}

async fn init_error(shared: &ApiShared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if shared.state.lock().initialized {
        return json(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "State transition from Ready to InitError failed for runtime. Error: State transition is not allowed",
        );
    }
    let error_type = header(&req, ERROR_TYPE_HEADER);
    let body = match read_capped(req).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => Bytes::new(),
        Err(BodyError::Broken) => return broken_body(),
    };
    shared.send(ApiEvent::InitError { error_type, body });
    accepted()
}

fn header(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn accepted() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(br#"{"status":"OK"}"#)));
    *r.status_mut() = StatusCode::ACCEPTED;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn json(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({"errorMessage": message, "errorType": error_type});
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn not_found() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(b"404 page not found\n")));
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}
