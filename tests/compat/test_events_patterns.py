"""Every EventBridge-dialect conformance vector through TestEventPattern (boto3), and every
invalid pattern rejected with AWS's InvalidEventPatternException message.

The data is ``shared/conformance/event-patterns/``: 314 vectors, of which the 298 in the
EventBridge dialects (``eventbridge``, ``event-ruler``) are EventBridge's business; the 16 SNS
filter-policy vectors (``sns-body``, ``sns-attributes``) use SNS's dialect and are exercised
through SNS subscriptions, not TestEventPattern.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import REPO_ROOT, make_client

DATA = REPO_ROOT.parent / "shared" / "conformance" / "event-patterns"
EVENTBRIDGE_SCOPES = ("eventbridge", "event-ruler")


def lines(name: str) -> list[dict]:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"conformance data not found at {path}")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def pattern_text(v: dict) -> str:
    return v["pattern_raw"] if v.get("pattern_raw") else json.dumps(v["pattern"])


def event_text(v: dict) -> str:
    return v["event_raw"] if v.get("event_raw") else json.dumps(v["event"])


@pytest.fixture(scope="module")
def events(endpoint):
    return make_client(endpoint, service="events")


def test_all_eventbridge_vectors_agree(events):
    vectors = lines("vectors.jsonl")
    assert len(vectors) == 314
    checked, failures = 0, []
    for v in vectors:
        if v.get("scope", "eventbridge") not in EVENTBRIDGE_SCOPES:
            continue
        checked += 1
        try:
            got = events.test_event_pattern(EventPattern=pattern_text(v),
                                            Event=event_text(v))["Result"]
        except ClientError as e:
            failures.append(f"{v['id']}: {e.response['Error']}")
            continue
        if got != v["match"]:
            failures.append(f"{v['id']}: expected {v['match']}, got {got} ({v.get('note')})")
    assert checked == 298
    assert not failures, "\n".join(failures)


def test_invalid_patterns_are_rejected_with_aws_messages(events):
    cases = lines("invalid_patterns.jsonl")
    failures = []
    for v in cases:
        if v.get("scope", "eventbridge") not in EVENTBRIDGE_SCOPES:
            continue
        expected = v.get("aws_error") or (
            f"Event pattern is not valid. Reason: {v['event_ruler_error']}")
        try:
            events.test_event_pattern(EventPattern=pattern_text(v), Event=json.dumps(v["event"]))
            failures.append(f"{v['id']}: accepted")
        except ClientError as e:
            err = e.response["Error"]
            if (err["Code"], err["Message"]) != ("InvalidEventPatternException", expected):
                failures.append(f"{v['id']}: {err} != {expected!r}")
    assert not failures, "\n".join(failures)


def test_event_must_be_a_json_object(events):
    with pytest.raises(ClientError) as e:
        events.test_event_pattern(EventPattern='{"source": ["a"]}', Event="[1]")
    assert e.value.response["Error"]["Code"] == "ValidationException"
    event = {"id": "1", "source": "a", "detail-type": "t", "account": "000000000000",
             "region": "us-east-1", "time": "2024-01-01T00:00:00Z", "resources": [],
             "detail": {"n": 5}}
    assert events.test_event_pattern(
        EventPattern='{"detail": {"n": [{"numeric": [">", 4]}]}}',
        Event=json.dumps(event))["Result"] is True
