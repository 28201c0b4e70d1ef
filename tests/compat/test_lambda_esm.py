"""SQS event source mappings through boto3: the mapping API and its validation, the SQS event
shape, partial batch failures ending in the queue's DLQ, filter criteria, and recursive loops
through a queue stopped after 16 invocations. Runs on the ``--time-scale 60`` server so
visibility timeouts pass quickly."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import make_client
from lambda_helpers import LAMBDA_CONFIG, FunctionFactory, count, drain, unique


@pytest.fixture(scope="module")
def fast_lam(fast_server):
    return make_client(fast_server.endpoint, service="lambda", config=LAMBDA_CONFIG)


@pytest.fixture()
def fast_functions(fast_lam):
    f = FunctionFactory(fast_lam)
    yield f
    f.cleanup()


@pytest.fixture()
def mappings(fast_lam):
    uuids: list[str] = []
    yield uuids
    for u in uuids:
        try:
            fast_lam.delete_event_source_mapping(UUID=u)
        except ClientError:
            pass


def error(excinfo) -> tuple[str, str]:
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"]


def test_mapping_api_and_validation(fast_lam, fast_functions, fast_queue, mappings):
    name = unique("esm")
    fast_functions(name, Timeout=60)
    q = fast_queue(attributes={"VisibilityTimeout": "30"})
    q_arn = fast_queue.arn(q)
    with pytest.raises(ClientError) as e:
        fast_lam.create_event_source_mapping(FunctionName=name, EventSourceArn=q_arn)
    assert error(e) == ("InvalidParameterValueException",
                        "Queue visibility timeout: 30 seconds is less than Function timeout: "
                        "60 seconds")
    fast_lam.update_function_configuration(FunctionName=name, Timeout=10)
    with pytest.raises(ClientError) as e:
        fast_lam.create_event_source_mapping(FunctionName=name, EventSourceArn=q_arn,
                                             BatchSize=50)
    assert error(e) == ("InvalidParameterValueException",
                        "Maximum batch window in seconds must be greater than 0 if maximum batch "
                        "size is greater than 10")
    with pytest.raises(ClientError) as e:
        fast_lam.create_event_source_mapping(
            FunctionName=name, EventSourceArn=q_arn,
            FilterCriteria={"Filters": [{"Pattern": "{\"body\": 1}"}]})
    assert error(e)[0] == "InvalidParameterValueException"

    m = fast_lam.create_event_source_mapping(
        FunctionName=name, EventSourceArn=q_arn, BatchSize=5, Enabled=False,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        ScalingConfig={"MaximumConcurrency": 2})
    mappings.append(m["UUID"])
    assert m["State"] == "Creating"
    assert m["EventSourceArn"] == q_arn and m["FunctionArn"].endswith(f":function:{name}")
    assert (m["BatchSize"], m["MaximumBatchingWindowInSeconds"]) == (5, 0)
    assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert m["ScalingConfig"] == {"MaximumConcurrency": 2}
    got = fast_lam.get_event_source_mapping(UUID=m["UUID"])
    assert got["State"] == "Disabled"
    with pytest.raises(ClientError) as e:
        fast_lam.create_event_source_mapping(FunctionName=name, EventSourceArn=q_arn)
    assert error(e)[0] == "ResourceConflictException"
    listed = fast_lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
    assert [x["UUID"] for x in listed] == [m["UUID"]]
    upd = fast_lam.update_event_source_mapping(UUID=m["UUID"], Enabled=True, BatchSize=3)
    assert upd["State"] == "Enabling" and upd["BatchSize"] == 3
    assert fast_lam.get_event_source_mapping(UUID=m["UUID"])["State"] == "Enabled"
    deleted = fast_lam.delete_event_source_mapping(UUID=m["UUID"])
    assert deleted["State"] == "Deleting"
    mappings.remove(m["UUID"])
    with pytest.raises(ClientError) as e:
        fast_lam.get_event_source_mapping(UUID=m["UUID"])
    assert error(e) == ("ResourceNotFoundException", "The resource you requested does not exist.")


def test_partial_batch_failures_end_in_the_dlq(fast_lam, fast_functions, fast_sqs, fast_queue,
                                               mappings):
    dlq = fast_queue()
    observer = fast_queue()
    source = fast_queue(attributes={
        "VisibilityTimeout": "120",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": fast_queue.arn(dlq),
                                     "maxReceiveCount": 2}),
    })
    name = unique("batch")
    fast_functions(name, handler="app.fail_marked",
                   Environment={"Variables": {"OBSERVER": fast_queue.name(observer)}})
    m = fast_lam.create_event_source_mapping(
        FunctionName=name, EventSourceArn=fast_queue.arn(source), BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"])
    mappings.append(m["UUID"])
    bodies = [f"ok-{i}" for i in range(4)] + [f"fail-{i}" for i in range(3)]
    for b in bodies:
        fast_sqs.send_message(QueueUrl=source, MessageBody=b,
                              MessageAttributes={"kind": {"DataType": "String",
                                                          "StringValue": b.split("-")[0]}})
    # The failing messages are received maxReceiveCount times, then redriven to the DLQ.
    dead = drain(fast_sqs, dlq, 3, timeout=60)
    assert sorted(d["Body"] for d in dead) == sorted(b for b in bodies if b.startswith("fail"))
    deadline = time.monotonic() + 30
    while count(fast_sqs, source) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert count(fast_sqs, source) == 0

    seen = [json.loads(x["Body"]) for x in drain(fast_sqs, observer, 10, timeout=30)]
    first = next(r for r in seen if r["body"] == "ok-0")
    assert first["eventSource"] == "aws:sqs"
    assert first["eventSourceARN"] == fast_queue.arn(source)
    assert first["awsRegion"] == "us-east-1"
    assert first["attributes"]["ApproximateReceiveCount"] == "1"
    assert set(first["attributes"]) >= {"SentTimestamp", "SenderId",
                                        "ApproximateFirstReceiveTimestamp"}
    assert first["messageAttributes"]["kind"] == {
        "stringValue": "ok", "stringListValues": [], "binaryListValues": [],
        "dataType": "String"}
    assert first["md5OfBody"] and first["receiptHandle"] and first["messageId"]
    # Each failing message was handed to the function twice (maxReceiveCount 2).
    fails = [r for r in seen if r["body"].startswith("fail")]
    assert {r["attributes"]["ApproximateReceiveCount"] for r in fails} >= {"1"}


def test_filter_criteria_delete_non_matching(fast_lam, fast_functions, fast_sqs, fast_queue,
                                             mappings):
    observer = fast_queue()
    source = fast_queue(attributes={"VisibilityTimeout": "120"})
    name = unique("filter")
    fast_functions(name, handler="app.fail_marked",
                   Environment={"Variables": {"OBSERVER": fast_queue.name(observer)}})
    m = fast_lam.create_event_source_mapping(
        FunctionName=name, EventSourceArn=fast_queue.arn(source),
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["order"]}})}]})
    mappings.append(m["UUID"])
    fast_sqs.send_message(QueueUrl=source, MessageBody=json.dumps({"kind": "refund"}))
    fast_sqs.send_message(QueueUrl=source, MessageBody="plain text")
    fast_sqs.send_message(QueueUrl=source, MessageBody=json.dumps({"kind": "order", "n": 1}))
    seen = [json.loads(x["Body"]) for x in drain(fast_sqs, observer, 1, timeout=30)]
    assert [json.loads(r["body"]) for r in seen] == [{"kind": "order", "n": 1}]
    deadline = time.monotonic() + 30
    while count(fast_sqs, source) and time.monotonic() < deadline:
        time.sleep(0.2)
    # Non-matching messages were deleted, not left for redelivery.
    assert count(fast_sqs, source) == 0
    assert drain(fast_sqs, observer, 1, timeout=2) == []


def test_recursive_loop_through_a_queue_stops(fast_lam, fast_functions, fast_sqs, fast_queue,
                                              mappings):
    observer = fast_queue()
    loop = fast_queue(attributes={"VisibilityTimeout": "120"})
    name = unique("loop")
    fast_functions(name, handler="app.forward",
                   Environment={"Variables": {"TARGET": fast_queue.name(loop),
                                              "OBSERVER": fast_queue.name(observer)}})
    m = fast_lam.create_event_source_mapping(FunctionName=name,
                                             EventSourceArn=fast_queue.arn(loop), BatchSize=1)
    mappings.append(m["UUID"])
    fast_sqs.send_message(QueueUrl=loop, MessageBody="round and round")
    # The function forwards the message to its own queue; Lambda stops the chain at 16.
    traces = [x["Body"] for x in drain(fast_sqs, observer, 16, timeout=60)]
    assert len(traces) == 16, traces
    # No 17th invocation follows.
    assert drain(fast_sqs, observer, 1, timeout=3) == []
    lineages = sorted(int(t.split("Lineage=")[1].split(":")[1].split(";")[0]) for t in traces)
    assert lineages == list(range(1, 17))
    deadline = time.monotonic() + 30
    while count(fast_sqs, loop) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert count(fast_sqs, loop) == 0
