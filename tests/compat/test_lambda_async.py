"""Asynchronous invocation through boto3: the durable event queue, retries on function errors
(1 and 2 minutes, run 60 times faster on the ``--time-scale 60`` server), on-failure and
on-success destinations with AWS's invocation record, the function DLQ with its attributes,
and kill -9 while events are pending."""

from __future__ import annotations

import json

import pytest

from conftest import QueueFactory, make_client
from lambda_helpers import LAMBDA_CONFIG, FunctionFactory, drain, invoke_json, unique


@pytest.fixture(scope="module")
def fast_lam(fast_server):
    return make_client(fast_server.endpoint, service="lambda", config=LAMBDA_CONFIG)


@pytest.fixture()
def fast_functions(fast_lam):
    f = FunctionFactory(fast_lam)
    yield f
    f.cleanup()


def test_retries_then_dlq_and_on_failure_destination(fast_lam, fast_functions, fast_sqs,
                                                     fast_queue):
    dlq = fast_queue()
    failures = fast_queue()
    name = unique("async-fail")
    fast_functions(name, handler="app.always_fail",
                   DeadLetterConfig={"TargetArn": fast_queue.arn(dlq)})
    fast_lam.put_function_event_invoke_config(
        FunctionName=name,
        DestinationConfig={"OnFailure": {"Destination": fast_queue.arn(failures)}})
    resp = fast_lam.invoke(FunctionName=name, InvocationType="Event",
                           Payload=json.dumps({"order": 42}).encode())
    assert resp["StatusCode"] == 202
    request_id = resp["ResponseMetadata"]["RequestId"]

    # Default policy: 2 retries (after 1 and 2 minutes, here 1 and 2 seconds).
    records = drain(fast_sqs, failures, 1, timeout=60)
    assert len(records) == 1
    record = json.loads(records[0]["Body"])
    assert record["version"] == "1.0"
    ctx = record["requestContext"]
    assert ctx["requestId"] == request_id
    assert ctx["functionArn"].endswith(f":function:{name}:$LATEST")
    assert ctx["condition"] == "RetriesExhausted"
    assert ctx["approximateInvokeCount"] == 3
    assert record["requestPayload"] == {"order": 42}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responseContext"]["statusCode"] == 200
    assert record["responsePayload"]["errorType"] == "RuntimeError"

    dead = drain(fast_sqs, dlq, 1, timeout=30)
    assert len(dead) == 1
    assert json.loads(dead[0]["Body"]) == {"order": 42}
    attrs = dead[0]["MessageAttributes"]
    assert attrs["RequestID"]["StringValue"] == request_id
    assert attrs["ErrorCode"]["DataType"] == "Number"
    assert "always failing" in attrs["ErrorMessage"]["StringValue"]


def test_on_success_destination_and_no_retries(fast_lam, fast_functions, fast_sqs, fast_queue):
    ok = fast_queue()
    name = unique("async-ok")
    fast_functions(name)
    fast_lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": fast_queue.arn(ok)}})
    ids = []
    for i in range(3):
        resp = fast_lam.invoke(FunctionName=name, InvocationType="Event",
                               Payload=json.dumps({"i": i}).encode())
        ids.append(resp["ResponseMetadata"]["RequestId"])
    records = [json.loads(m["Body"]) for m in drain(fast_sqs, ok, 3, timeout=60)]
    assert sorted(r["requestContext"]["requestId"] for r in records) == sorted(ids)
    for r in records:
        assert r["requestContext"]["condition"] == "Success"
        assert r["requestContext"]["approximateInvokeCount"] == 1
        assert r["responseContext"]["statusCode"] == 200
        assert r["responseContext"]["executedVersion"] == "$LATEST"
        assert r["responsePayload"]["event"] == r["requestPayload"]


def test_kill9_with_pending_async_invocations_loses_none(server_factory, tmp_path):
    server = server_factory(data_dir=tmp_path / "data", time_scale=60, label="lambda-crash")
    lam = make_client(server.endpoint, service="lambda", config=LAMBDA_CONFIG)
    sqs = make_client(server.endpoint)
    queues = QueueFactory(sqs, prefix="crash")
    done = queues()
    name = unique("crash")
    functions = FunctionFactory(lam)
    functions(name)
    lam.put_function_event_invoke_config(
        FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": queues.arn(done)}})
    # Reserved concurrency 0: every attempt is throttled, so accepted events stay queued.
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    ids = set()
    for i in range(20):
        resp = lam.invoke(FunctionName=name, InvocationType="Event",
                          Payload=json.dumps({"n": i}).encode())
        assert resp["StatusCode"] == 202
        ids.add(resp["ResponseMetadata"]["RequestId"])
    server.kill9()
    server.start()
    lam = make_client(server.endpoint, service="lambda", config=LAMBDA_CONFIG)
    sqs = make_client(server.endpoint)
    # The function, its config and its package survived too.
    assert lam.get_function(FunctionName=name)["Concurrency"] == {
        "ReservedConcurrentExecutions": 0}
    lam.delete_function_concurrency(FunctionName=name)
    records = [json.loads(m["Body"]) for m in drain(sqs, done, 20, timeout=120)]
    assert {r["requestContext"]["requestId"] for r in records} == ids
    assert sorted(r["requestPayload"]["n"] for r in records) == list(range(20))
    # And the function still runs synchronously after the restart.
    assert invoke_json(lam, name, {"after": "restart"})[1]["event"] == {"after": "restart"}
