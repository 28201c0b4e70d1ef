"""The SNS-dialect vectors of ``shared/conformance/event-patterns/vectors.jsonl`` (16 of the
314; the other 298 go through EventBridge's TestEventPattern in test_events_patterns.py),
through real subscriptions: each vector's pattern becomes the filter policy (its scope: message
body or attributes) of a raw SQS subscription on a topic of its own, its event is published,
and the queue must receive it exactly when the vector says it matches."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

import pytest

from conftest import REPO_ROOT, make_client

DATA = REPO_ROOT.parent / "shared" / "conformance" / "event-patterns" / "vectors.jsonl"


def sns_vectors() -> list[dict]:
    if not DATA.exists():
        pytest.skip(f"conformance data not found at {DATA}")
    vectors = [json.loads(l) for l in DATA.read_text().splitlines() if l.strip()]
    return [v for v in vectors if v.get("scope", "").startswith("sns")]


def attributes(event: dict) -> dict:
    """The event's top-level fields as SNS message attributes."""
    out = {}
    for k, v in event.items():
        if isinstance(v, list):
            out[k] = {"DataType": "String.Array", "StringValue": json.dumps(v)}
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = {"DataType": "Number", "StringValue": json.dumps(v)}
        else:
            out[k] = {"DataType": "String", "StringValue": str(v)}
    return out


def deliveries_pending(endpoint: str) -> int:
    with urllib.request.urlopen(f"{endpoint}/_ponte/health", timeout=5) as r:
        return json.load(r)["deliveries"]["pending"]


def test_sns_dialect_vectors_through_real_subscriptions(endpoint, sqs, queue):
    sns = make_client(endpoint, service="sns")
    vectors = sns_vectors()
    assert len(vectors) == 16
    cases = []
    topics = []
    for v in vectors:
        topic = sns.create_topic(Name=f"vec-{v['id']}-{uuid.uuid4().hex[:8]}")["TopicArn"]
        topics.append(topic)
        url = queue()
        body_scope = v["scope"] == "sns-body"
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue.arn(url), Attributes={
            "FilterPolicy": json.dumps(v["pattern"]),
            "FilterPolicyScope": "MessageBody" if body_scope else "MessageAttributes",
            "RawMessageDelivery": "true",
        })
        if body_scope:
            sns.publish(TopicArn=topic, Message=json.dumps(v["event"]))
        else:
            sns.publish(TopicArn=topic, Message="attribute-scoped",
                        MessageAttributes=attributes(v["event"]))
        cases.append((v, url))
    # Filtering happens at publish time; what matched is staged for delivery. Wait until every
    # staged delivery is done, then each queue holds exactly what its filter let through.
    deadline = time.monotonic() + 30
    while deliveries_pending(endpoint) and time.monotonic() < deadline:
        time.sleep(0.05)
    wrong = []
    for v, url in cases:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if bool(got) != v["match"]:
            wrong.append((v["id"], v["note"], v["match"], len(got)))
    for topic in topics:
        sns.delete_topic(TopicArn=topic)
    assert not wrong, wrong
