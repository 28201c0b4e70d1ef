"""Lambda invocation through boto3 against real function processes: python, node and a shell
`provided` runtime; results, function errors, timeouts, log tails, dry runs, payload limits,
client context, throttling and weighted aliases."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter

import pytest
from botocore.exceptions import ClientError

from conftest import make_client
from lambda_helpers import (LAMBDA_CONFIG, FunctionFactory, invoke_json, unique)


@pytest.fixture(scope="module")
def lam(endpoint):
    return make_client(endpoint, service="lambda", config=LAMBDA_CONFIG)


@pytest.fixture()
def functions(lam):
    f = FunctionFactory(lam)
    yield f
    f.cleanup()


def error(excinfo) -> tuple[str, str, int]:
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def test_python_result_environment_and_context(lam, functions):
    name = unique()
    functions(name, Environment={"Variables": {"MY_VAR": "hello"}}, MemorySize=256)
    resp, out = invoke_json(lam, name, {"k": [1, 2, 3]},
                            ClientContext=base64.b64encode(
                                json.dumps({"custom": {"who": "test"}}).encode()).decode())
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    assert resp["ExecutedVersion"] == "$LATEST"
    assert out["event"] == {"k": [1, 2, 3]}
    assert out["function_name"] == name
    assert str(out["memory"]) == "256"
    assert out["request_id"] == resp["ResponseMetadata"]["RequestId"]
    env = out["env"]
    assert env["MY_VAR"] == "hello"
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert out["client_context"] == {"who": "test"}
    # A caller's trace header is carried into the function, one hop deeper.
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

    def add_trace(request, **_):
        request.headers["X-Amzn-Trace-Id"] = trace

    lam.meta.events.register_first("before-sign.lambda.Invoke", add_trace)
    try:
        _, traced = invoke_json(lam, name, {})
    finally:
        lam.meta.events.unregister("before-sign.lambda.Invoke", add_trace)
    assert "Root=1-5759e988-bd862e3fe1be46a994272793" in traced["env"]["_X_AMZN_TRACE_ID"]


def test_function_error_timeout_and_log_tail(lam, functions):
    name = unique()
    functions(name, Timeout=1)
    resp, out = invoke_json(lam, name, {"action": "error", "message": "bad input"})
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorMessage"] == "bad input"
    assert out["errorType"] == "ValueError"

    resp, out = invoke_json(lam, name, {"action": "print", "message": "hello-tail"},
                            LogType="Tail")
    log = base64.b64decode(resp["LogResult"]).decode()
    assert "hello-tail" in log
    assert "REPORT RequestId:" in log
    assert len(base64.b64decode(resp["LogResult"])) <= 4096

    resp, out = invoke_json(lam, name, {"action": "sleep", "seconds": 5})
    assert resp["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in out["errorMessage"]
    # The instance was killed; the next call runs on a fresh one.
    resp, out = invoke_json(lam, name, {"n": 1})
    assert "FunctionError" not in resp and out["event"] == {"n": 1}


def test_node_and_provided_runtimes(lam, functions):
    node = unique("node")
    functions(node, runtime="nodejs20.x", handler="index.handler")
    resp, out = invoke_json(lam, node, {"hello": "node"})
    assert "FunctionError" not in resp, out
    assert out["event"] == {"hello": "node"} and out["functionName"] == node
    resp, out = invoke_json(lam, node, {"action": "error", "message": "nope"})
    assert resp["FunctionError"] == "Unhandled" and out["errorMessage"] == "nope"

    shell = unique("sh")
    functions(shell, runtime="provided.al2023", handler="unused")
    resp, out = invoke_json(lam, shell, {"hello": "shell"})
    assert "FunctionError" not in resp, out
    assert out == {"shell": {"hello": "shell"}}
    resp, out = invoke_json(lam, shell, {"please": "fail"})
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "ShellError"


def test_dry_run_payload_limits_and_bad_requests(lam, functions):
    name = unique()
    functions(name)
    resp = lam.invoke(FunctionName=name, InvocationType="DryRun")
    assert resp["StatusCode"] == 204
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Payload=b"x" * (6 * 1024 * 1024 + 1))
    assert error(e) == ("RequestTooLargeException",
                        "Request must be smaller than 6291456 bytes for the InvokeFunction "
                        "operation", 413)
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, InvocationType="Event",
                   Payload=json.dumps({"x": "y" * 1_048_576}).encode())
    assert error(e)[0] == "RequestTooLargeException" and "1048576" in error(e)[1]
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Payload=b"not json")
    assert error(e)[0] == "InvalidRequestContentException"
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Qualifier="missing")
    assert error(e)[0] == "ResourceNotFoundException"
    # A response over 6 MB is the function's error, as on AWS.
    resp, out = invoke_json(lam, name, {"action": "big", "size": 6 * 1024 * 1024 + 10})
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Function.ResponseSizeTooLarge"


def test_throttling_with_reserved_concurrency(lam, functions):
    name = unique()
    functions(name, Timeout=30)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=name, Payload=b"{}")
    code, msg, status = error(e)
    assert (code, msg, status) == ("TooManyRequestsException", "Rate Exceeded.", 429)
    assert e.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"].get("retry-after")

    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    invoke_json(lam, name, {})  # Warm.
    slow_done = threading.Event()
    slow_result = {}

    def slow():
        slow_result["resp"] = invoke_json(lam, name, {"action": "sleep", "seconds": 4})[0]
        slow_done.set()

    t = threading.Thread(target=slow)
    t.start()
    throttled = None
    while not slow_done.is_set() and throttled is None:
        try:
            invoke_json(lam, name, {})
        except ClientError as err:
            throttled = err
        time.sleep(0.05)
    t.join()
    assert throttled is not None, "a second concurrent call should have been throttled"
    assert throttled.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert "FunctionError" not in slow_result["resp"]
    # Capacity is back once the slow call ended.
    assert invoke_json(lam, name, {})[0]["StatusCode"] == 200


def test_weighted_alias_routes_by_weight(lam, functions):
    name = unique()
    functions(name)
    lam.publish_version(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, Description="v2")
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    assert lam.publish_version(FunctionName=name)["Version"] == "2"
    lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    seen = Counter()
    for _ in range(200):
        resp, out = invoke_json(lam, name, {}, Qualifier="canary")
        seen[resp["ExecutedVersion"]] += 1
        assert out["function_version"] == resp["ExecutedVersion"]
    assert set(seen) == {"1", "2"}
    # Binomial(200, 0.5): the share is far inside [0.3, 0.7] unless routing ignores weights.
    assert 60 <= seen["2"] <= 140, seen
    # Weight 0: never the additional version.
    lam.update_alias(FunctionName=name, Name="canary",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.0}})
    versions = {invoke_json(lam, name, {}, Qualifier="canary")[0]["ExecutedVersion"]
                for _ in range(20)}
    assert versions == {"1"}
