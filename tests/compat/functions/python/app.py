"""Test function for the Lambda compatibility suite (python runtimes).

The event says what to do: {"action": "echo" | "error" | "sleep" | "print" | "send", ...}.
Uses only the standard library, so it runs on any host python3.
"""

import json
import os
import time
import urllib.request

INIT_AT = time.time()


def send_to_queue(queue_name, body):
    """SQS SendMessage over the JSON protocol with the standard library; carries the
    invocation's trace header the way the AWS SDKs do inside Lambda."""
    endpoint = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
    account = os.environ.get("TEST_ACCOUNT", "000000000000")
    req = urllib.request.Request(
        endpoint + "/",
        data=json.dumps({"QueueUrl": f"{endpoint}/{account}/{queue_name}",
                         "MessageBody": body}).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AmazonSQS.SendMessage",
            "X-Amzn-Trace-Id": os.environ.get("_X_AMZN_TRACE_ID", ""),
        },
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def handler(event, context):
    action = event.get("action", "echo") if isinstance(event, dict) else "echo"
    if action == "error":
        raise ValueError(event.get("message", "boom"))
    if action == "sleep":
        time.sleep(float(event["seconds"]))
    if action == "print":
        print(event.get("message", ""))
    if action == "big":
        return "x" * int(event["size"])
    return {
        "event": event,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory": context.memory_limit_in_mb,
        "request_id": context.aws_request_id,
        "client_context": getattr(getattr(context, "client_context", None), "custom", None),
        "env": {k: os.environ.get(k) for k in (
            "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            "AWS_LAMBDA_FUNCTION_VERSION", "MY_VAR", "_X_AMZN_TRACE_ID", "AWS_ENDPOINT_URL")},
    }


def fail_marked(event, context):
    """SQS batch handler: reports the messages whose body contains "fail" as failures
    (ReportBatchItemFailures), and copies every record to the queue named by OBSERVER."""
    observer = os.environ.get("OBSERVER")
    failures = []
    for record in event["Records"]:
        if observer:
            send_to_queue(observer, json.dumps(record))
        if "fail" in record["body"]:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def always_fail(event, context):
    raise RuntimeError("always failing: " + json.dumps(event)[:200])


def forward(event, context):
    """Sends each record's body back to the queue named by TARGET (a loop through SQS)."""
    for record in event.get("Records", []):
        send_to_queue(os.environ["TARGET"], record["body"])
    observer = os.environ.get("OBSERVER")
    if observer:
        send_to_queue(observer, os.environ.get("_X_AMZN_TRACE_ID", ""))
    return {"forwarded": len(event.get("Records", []))}
