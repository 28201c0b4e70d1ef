//! Echo function for Ponte's boto3 compatibility suite, on the official `lambda_runtime`.
//!
//! Returns the event with a few context fields; `{"action": "error", "message": m}` makes the
//! handler return `Err` (errorType `EchoError`, errorMessage `m`). Every invocation prints one
//! line to stdout and one to stderr, so tests can find them in CloudWatch Logs.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::{json, Value};

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let (payload, ctx) = event.into_parts();
    println!("RUST-ECHO-STDOUT {} {payload}", ctx.request_id);
    eprintln!("RUST-ECHO-STDERR {}", ctx.request_id);
    if payload.get("action").and_then(Value::as_str) == Some("error") {
        let message = payload
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("failed");
        return Err(Diagnostic {
            error_type: "EchoError".into(),
            error_message: message.into(),
        });
    }
    Ok(json!({
        "event": payload,
        "requestId": ctx.request_id,
        "functionName": ctx.env_config.function_name,
        "memory": ctx.env_config.memory,
        "version": ctx.env_config.version,
        "invokedFunctionArn": ctx.invoked_function_arn,
        "deadlineMs": ctx.deadline,
    }))
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(handler)).await
}
