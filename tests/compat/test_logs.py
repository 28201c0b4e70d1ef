"""CloudWatch Logs through boto3 and the AWS CLI: groups, streams, events, paging tokens, filter
patterns, tags, errors (AWS's codes and messages, as recorded in LocalStack's AWS snapshots),
accounts, and durability across kill -9."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import make_client
from sqs_helpers import DEFAULT_ACCOUNT, REGION

DAY_MS = 86_400_000

# The server validates; the client must not stop bad input first.
NO_CLIENT_VALIDATION = Config(retries={"max_attempts": 1, "mode": "standard"},
                              connect_timeout=5, read_timeout=30, parameter_validation=False)


def now_ms() -> int:
    return int(time.time() * 1000)


def unique(prefix: str = "compat") -> str:
    return f"/ponte/{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def logs(endpoint):
    return make_client(endpoint, service="logs")


@pytest.fixture(scope="module")
def raw_logs(endpoint):
    return make_client(endpoint, service="logs", config=NO_CLIENT_VALIDATION)


@pytest.fixture()
def group(logs):
    """A fresh log group, deleted afterwards."""
    name = unique()
    logs.create_log_group(logGroupName=name)
    yield name
    try:
        logs.delete_log_group(logGroupName=name)
    except ClientError:
        pass


def error_of(call, **kwargs) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    err = e.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def put(logs, group, stream, events):
    return logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": t, "message": m} for t, m in events])


def messages(resp) -> list[str]:
    return [e["message"] for e in resp["events"]]


# --- groups ---------------------------------------------------------------------------------


def test_log_group_lifecycle_and_errors(logs, raw_logs):
    name = unique("group")
    logs.create_log_group(logGroupName=name, tags={"env": "test"},
                          logGroupClass="INFREQUENT_ACCESS")
    try:
        assert error_of(logs.create_log_group, logGroupName=name) == (
            "ResourceAlreadyExistsException", "The specified log group already exists", 400)
        [g] = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        assert g["logGroupName"] == name
        assert g["arn"] == f"arn:aws:logs:{REGION}:{DEFAULT_ACCOUNT}:log-group:{name}:*"
        assert g["logGroupArn"] == f"arn:aws:logs:{REGION}:{DEFAULT_ACCOUNT}:log-group:{name}"
        assert g["metricFilterCount"] == 0 and g["storedBytes"] == 0
        assert g["logGroupClass"] == "INFREQUENT_ACCESS"
        assert g["deletionProtectionEnabled"] is False
        assert "retentionInDays" not in g
        assert abs(g["creationTime"] - now_ms()) < 60_000

        logs.put_retention_policy(logGroupName=name, retentionInDays=14)
        [g] = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        assert g["retentionInDays"] == 14
        code, msg, _ = error_of(raw_logs.put_retention_policy, logGroupName=name,
                                retentionInDays=2)
        assert code == "InvalidParameterException"
        assert msg == ("1 validation error detected: Value '2' at 'retentionInDays' failed to "
                       "satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, "
                       "30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, "
                       "2922, 3288, 3653]")
        logs.delete_retention_policy(logGroupName=name)
        [g] = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        assert "retentionInDays" not in g
        assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"env": "test"}
    finally:
        logs.delete_log_group(logGroupName=name)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []
    assert error_of(logs.delete_log_group, logGroupName=name) == (
        "ResourceNotFoundException", "The specified log group does not exist.", 400)

    code, msg, _ = error_of(raw_logs.create_log_group, logGroupName="has space")
    assert code == "InvalidParameterException"
    assert msg == ("1 validation error detected: Value 'has space' at 'logGroupName' failed to "
                   "satisfy constraint: Member must satisfy regular expression pattern: "
                   "[\\.\\-_/#A-Za-z0-9]+")
    assert error_of(raw_logs.create_log_group, logGroupName="a" * 513)[1] == (
        "Invalid LogGroup or LogStream, both must have length less than or equal to 512.")
    code, msg, _ = error_of(raw_logs.create_log_group, logGroupName=unique(),
                            logGroupClass="CHEAP")
    assert code == "InvalidParameterException"
    assert "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]" in msg


def test_describe_log_groups_paging_prefix_and_pattern(logs):
    base = unique("page")
    names = [f"{base}/{i}" for i in range(5)]
    for n in names:
        logs.create_log_group(logGroupName=n)
    try:
        first = logs.describe_log_groups(logGroupNamePrefix=base, limit=2)
        assert [g["logGroupName"] for g in first["logGroups"]] == names[:2]
        assert "nextToken" in first
        pages = logs.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix=base, PaginationConfig={"PageSize": 2})
        assert [g["logGroupName"] for p in pages for g in p["logGroups"]] == names
        suffix = base.rsplit("-", 1)[1]
        by_pattern = logs.describe_log_groups(logGroupNamePattern=suffix)["logGroups"]
        assert [g["logGroupName"] for g in by_pattern] == names
        # With a pattern AWS leaves out storedBytes and the like.
        assert "storedBytes" not in by_pattern[0] and "arn" in by_pattern[0]
        assert error_of(logs.describe_log_groups, logGroupNamePrefix=base,
                        logGroupNamePattern=suffix)[:2] == (
            "InvalidParameterException",
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
        listed = logs.list_log_groups(logGroupNamePattern=f"^{base[:20]}", limit=1000)
        assert set(names) <= {g["logGroupName"] for g in listed["logGroups"]}
        assert error_of(logs.describe_log_groups, nextToken="not-a-token")[:2] == (
            "InvalidParameterException", "The specified nextToken is invalid.")
        code, msg, _ = error_of(make_client(logs.meta.endpoint_url, service="logs",
                                            config=NO_CLIENT_VALIDATION).describe_log_groups,
                                limit=51)
        assert msg == ("1 validation error detected: Value '51' at 'limit' failed to satisfy "
                       "constraint: Member must have value less than or equal to 50")
    finally:
        for n in names:
            logs.delete_log_group(logGroupName=n)


# --- streams --------------------------------------------------------------------------------


def test_log_streams(logs, group):
    for s in ["alpha", "beta", "gamma"]:
        logs.create_log_stream(logGroupName=group, logStreamName=s)
    assert error_of(logs.create_log_stream, logGroupName=group, logStreamName="alpha") == (
        "ResourceAlreadyExistsException", "The specified log stream already exists", 400)
    assert error_of(logs.create_log_stream, logGroupName=group + "-nope",
                    logStreamName="x")[:2] == (
        "ResourceNotFoundException", "The specified log group does not exist.")

    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["alpha", "beta", "gamma"]
    fresh = streams[0]
    assert set(fresh) == {"logStreamName", "creationTime", "arn", "storedBytes"}
    assert fresh["arn"] == (f"arn:aws:logs:{REGION}:{DEFAULT_ACCOUNT}:log-group:{group}"
                            f":log-stream:alpha")

    now = now_ms()
    put(logs, group, "gamma", [(now - 3000, "g")])
    put(logs, group, "alpha", [(now - 2000, "a1"), (now - 1000, "a2")])
    [alpha] = logs.describe_log_streams(logGroupName=group,
                                        logStreamNamePrefix="al")["logStreams"]
    assert alpha["firstEventTimestamp"] == now - 2000
    assert alpha["lastEventTimestamp"] == now - 1000
    assert abs(alpha["lastIngestionTime"] - now_ms()) < 60_000
    assert alpha["uploadSequenceToken"]

    by_time = logs.get_paginator("describe_log_streams").paginate(
        logGroupName=group, orderBy="LastEventTime", descending=True,
        PaginationConfig={"PageSize": 1})
    assert [s["logStreamName"] for p in by_time for s in p["logStreams"]] == [
        "alpha", "gamma", "beta"]
    arn = f"arn:aws:logs:{REGION}:{DEFAULT_ACCOUNT}:log-group:{group}"
    by_arn = logs.describe_log_streams(logGroupIdentifier=arn)["logStreams"]
    assert len(by_arn) == 3
    assert error_of(logs.describe_log_streams, logGroupName=group,
                    logGroupIdentifier=group) == (
        "ValidationException",
        "LogGroup name and LogGroup ARN are mutually exclusive parameters.", 400)
    assert error_of(logs.describe_log_streams, logGroupName=group, orderBy="LastEventTime",
                    logStreamNamePrefix="a")[:2] == (
        "InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix.")

    logs.delete_log_stream(logGroupName=group, logStreamName="alpha")
    assert error_of(logs.delete_log_stream, logGroupName=group, logStreamName="alpha")[:2] == (
        "ResourceNotFoundException", "The specified log stream does not exist.")
    assert [s["logStreamName"] for s in logs.describe_log_streams(
        logGroupName=group)["logStreams"]] == ["beta", "gamma"]


# --- events ---------------------------------------------------------------------------------


def test_put_and_get_log_events(logs, raw_logs, group):
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = now_ms()
    out = put(logs, group, "s", [(now - 100 + i, f"message {i}") for i in range(20)])
    assert len(out["nextSequenceToken"]) > 0
    assert "rejectedLogEventsInfo" not in out
    # Sequence tokens are accepted and ignored, as AWS now does.
    out2 = logs.put_log_events(logGroupName=group, logStreamName="s", sequenceToken="bogus",
                               logEvents=[{"timestamp": now, "message": "🙀 - 参よ - 日本語"}])
    assert out2["nextSequenceToken"] != out["nextSequenceToken"]

    head = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10,
                               startFromHead=True)
    assert messages(head) == [f"message {i}" for i in range(10)]
    assert head["nextForwardToken"].startswith("f/")
    assert head["nextBackwardToken"].startswith("b/")
    assert abs(head["events"][0]["ingestionTime"] - now_ms()) < 60_000
    nxt = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10,
                              startFromHead=True, nextToken=head["nextForwardToken"])
    assert messages(nxt) == [f"message {i}" for i in range(10, 20)]
    last = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True,
                               nextToken=nxt["nextForwardToken"])
    assert messages(last) == ["🙀 - 参よ - 日本語"]
    end = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True,
                              nextToken=last["nextForwardToken"])
    assert messages(end) == []
    assert end["nextForwardToken"] == last["nextForwardToken"]

    tail = logs.get_log_events(logGroupName=group, logStreamName="s", limit=3)
    assert messages(tail) == ["message 18", "message 19", "🙀 - 参よ - 日本語"]
    back = logs.get_log_events(logGroupName=group, logStreamName="s", limit=3,
                               nextToken=tail["nextBackwardToken"])
    assert messages(back) == ["message 15", "message 16", "message 17"]
    window = logs.get_log_events(logGroupName=group, logStreamName="s", startTime=now - 95,
                                 endTime=now - 92, startFromHead=True)
    assert messages(window) == ["message 5", "message 6", "message 7"]
    arn = f"arn:aws:logs:{REGION}:{DEFAULT_ACCOUNT}:log-group:{group}"
    assert messages(logs.get_log_events(logGroupIdentifier=arn, logStreamName="s", limit=1)) == [
        "🙀 - 参よ - 日本語"]

    assert error_of(logs.get_log_events, logGroupName=group, logStreamName="s",
                    nextToken="invalid-token")[:2] == (
        "InvalidParameterException", "The specified nextToken is invalid.")
    assert error_of(raw_logs.get_log_events, logGroupName=group, logStreamName="s",
                    limit=10001)[1] == (
        "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 10000")
    assert error_of(logs.get_log_events, logGroupName=group, logStreamName="nope")[:2] == (
        "ResourceNotFoundException", "The specified log stream does not exist.")
    assert error_of(logs.get_log_events, logGroupName=group + "-nope", logStreamName="s")[:2] == (
        "ResourceNotFoundException", "The specified log group does not exist.")
    assert error_of(logs.put_log_events, logGroupName=group, logStreamName="invalid-stream",
                    logEvents=[{"timestamp": now, "message": "x"}]) == (
        "ResourceNotFoundException", "The specified log stream does not exist.", 400)


def test_put_log_events_batch_rules(logs, raw_logs, group):
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = now_ms()
    assert error_of(logs.put_log_events, logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now, "message": "Message 0"},
        {"timestamp": now - 2 * DAY_MS, "message": "Message 1"}]) == (
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.", 400)
    assert error_of(logs.put_log_events, logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now - 2 * DAY_MS, "message": "a"},
        {"timestamp": now, "message": "b"}])[1] == (
        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
    big = "x" * 600_000
    assert error_of(logs.put_log_events, logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now, "message": big}, {"timestamp": now, "message": big}])[1] == (
        "Upload too large: 1200052 bytes exceeds limit of 1048576")
    code, msg, _ = error_of(raw_logs.put_log_events, logGroupName=group, logStreamName="s",
                            logEvents=[{"timestamp": now, "message": ""}])
    assert code == "InvalidParameterException"
    assert "at 'logEvents.1.member.message'" in msg

    too_old = put(logs, group, "s", [(now - 30 * DAY_MS, "Old message"), (now, "kept")])
    assert too_old["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1}
    too_new = put(logs, group, "s", [(now, "kept too"), (now + DAY_MS, "Future message")])
    assert too_new["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    stored = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True)
    assert messages(stored) == ["kept", "kept too"]
    # Equal timestamps are in order, and keep their arrival order.
    put(logs, group, "s", [(now + 1, "same 1"), (now + 1, "same 2"), (now + 1, "same 3")])
    stored = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True)
    assert messages(stored)[-3:] == ["same 1", "same 2", "same 3"]
    [g] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert g["storedBytes"] == len("kept") + len("kept too") + 3 * len("same 1")


# --- filter ---------------------------------------------------------------------------------


@pytest.fixture()
def filled(logs, group):
    """Three streams of mixed plain, JSON and access-log lines."""
    now = now_ms()
    lines = {
        "api": [(now - 60, '{"level":"ERROR","latency":250,"user":{"id":7}}'),
                (now - 40, "ERROR disk full"),
                (now - 20, '{"level":"INFO","latency":12,"user":{"id":8}}')],
        "web": [(now - 50, '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] '
                           '"GET /a.gif HTTP/1.0" 404 2326'),
                (now - 30, '10.0.0.2 - ann [10/Oct/2000:13:25:16 -0700] '
                           '"GET /b.html HTTP/1.0" 200 512')],
        "worker": [(now - 55, "WARN slow job"), (now - 10, "ERROR Exiting")],
    }
    for stream, events in lines.items():
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        put(logs, group, stream, events)
    return group, now


@pytest.mark.parametrize("pattern,expected", [
    ("ERROR", ['{"level":"ERROR","latency":250,"user":{"id":7}}', "ERROR disk full",
               "ERROR Exiting"]),
    ("ERROR -Exiting", ['{"level":"ERROR","latency":250,"user":{"id":7}}', "ERROR disk full"]),
    ("?WARN ?disk", ["WARN slow job", "ERROR disk full"]),
    ('"disk full"', ["ERROR disk full"]),
    ('{ $.level = "ERROR" }', ['{"level":"ERROR","latency":250,"user":{"id":7}}']),
    ("{ $.latency > 100 || $.user.id = 8 }",
     ['{"level":"ERROR","latency":250,"user":{"id":7}}',
      '{"level":"INFO","latency":12,"user":{"id":8}}']),
    ("{ $.level = INF* && $.missing NOT EXISTS }",
     ['{"level":"INFO","latency":12,"user":{"id":8}}']),
    ("[ip, user, username, timestamp, request, status_code = 4*, bytes > 1000]",
     ['127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /a.gif HTTP/1.0" 404 2326']),
    ("[..., status = 200, bytes]",
     ['10.0.0.2 - ann [10/Oct/2000:13:25:16 -0700] "GET /b.html HTTP/1.0" 200 512']),
    ("%^WARN|Exit%", ["WARN slow job", "ERROR Exiting"]),
])
def test_filter_patterns(logs, filled, pattern, expected):
    group, _ = filled
    got = logs.filter_log_events(logGroupName=group, filterPattern=pattern)
    # Matches across streams, in event time order.
    assert messages(got) == expected


def test_filter_log_events(logs, filled):
    group, now = filled
    everything = logs.filter_log_events(logGroupName=group)
    events = everything["events"]
    assert len(events) == 7
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
    assert [e["logStreamName"] for e in events][:3] == ["api", "worker", "web"]
    assert len({e["eventId"] for e in events}) == 7
    assert set(events[0]) == {"logStreamName", "timestamp", "message", "ingestionTime",
                              "eventId"}
    assert {s["logStreamName"] for s in everything["searchedLogStreams"]} == {
        "api", "web", "worker"}
    assert "nextToken" not in everything

    ranged = logs.filter_log_events(logGroupName=group, startTime=now - 40, endTime=now - 20)
    assert messages(ranged) == ["ERROR disk full", events[4]["message"],
                                '{"level":"INFO","latency":12,"user":{"id":8}}']
    named = logs.filter_log_events(logGroupName=group, logStreamNames=["worker", "nope"])
    assert messages(named) == ["WARN slow job", "ERROR Exiting"]
    prefixed = logs.filter_log_events(logGroupName=group, logStreamNamePrefix="we")
    assert len(prefixed["events"]) == 2
    arn = f"arn:aws:logs:{REGION}:{DEFAULT_ACCOUNT}:log-group:{group}:*"
    by_arn = logs.filter_log_events(logGroupIdentifier=arn.removesuffix(":*"), limit=1)
    assert len(by_arn["events"]) == 1 and "nextToken" in by_arn

    pages = list(logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, PaginationConfig={"PageSize": 2}))
    assert [e["eventId"] for p in pages for e in p["events"]] == [e["eventId"] for e in events]
    assert len(pages) == 4

    code, msg, _ = error_of(logs.filter_log_events, logGroupName=group,
                            filterPattern='{ $.level = "x"')
    assert (code, msg) == ("InvalidParameterException",
                           "If a filter pattern starts with '{' it must end with '}'")
    code, msg, _ = error_of(logs.filter_log_events, logGroupName=group, filterPattern='""')
    assert code == "InvalidParameterException" and msg.startswith("Invalid filter pattern")
    assert error_of(logs.filter_log_events, logGroupName=group, nextToken="unknown")[:2] == (
        "InvalidParameterException", "The specified nextToken is invalid.")
    assert error_of(logs.filter_log_events, logGroupName=group, logStreamNames=["a"],
                    logStreamNamePrefix="a")[0] == "InvalidParameterException"
    assert error_of(logs.filter_log_events, logGroupName=group + "-nope")[:2] == (
        "ResourceNotFoundException", "The specified log group does not exist.")

    tested = logs.test_metric_filter(filterPattern="[level, ...]",
                                     logEventMessages=["WARN a b", "x"])
    assert tested["matches"] == [
        {"eventNumber": 1, "eventMessage": "WARN a b", "extractedValues": {"$level": "WARN"}},
        {"eventNumber": 2, "eventMessage": "x", "extractedValues": {"$level": "x"}}]


# --- tags, accounts -------------------------------------------------------------------------


def test_tags_through_both_apis(logs, group):
    arn = f"arn:aws:logs:{REGION}:{DEFAULT_ACCOUNT}:log-group:{group}"
    logs.tag_resource(resourceArn=arn, tags={"test1": "val1", "test2": "val2"})
    logs.tag_log_group(logGroupName=group, tags={"test3": "val3"})
    expected = {"test1": "val1", "test2": "val2", "test3": "val3"}
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == expected
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == expected
    logs.untag_log_group(logGroupName=group, tags=["test3"])
    logs.untag_resource(resourceArn=arn, tagKeys=["test1"])
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"test2": "val2"}
    many = {f"k{i}": "v" for i in range(50)}
    code, _, _ = error_of(logs.tag_resource, resourceArn=arn, tags=many)
    assert code == "TooManyTagsException"
    assert error_of(logs.list_tags_for_resource, resourceArn=arn + "-nope")[0] == (
        "ResourceNotFoundException")


def test_accounts_are_separate(endpoint, logs, group):
    other = make_client(endpoint, service="logs", access_key="111122223333")
    assert other.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    other.create_log_group(logGroupName=group)
    try:
        [g] = other.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        assert ":111122223333:" in g["arn"]
    finally:
        other.delete_log_group(logGroupName=group)
    west = make_client(endpoint, service="logs", region="eu-west-1")
    assert west.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []


# --- durability -----------------------------------------------------------------------------


@pytest.mark.slow
def test_events_survive_kill_9(server_factory):
    server = server_factory(label="logs-crash")
    client = make_client(server.endpoint, service="logs")
    client.create_log_group(logGroupName="/durable", tags={"k": "v"})
    client.create_log_stream(logGroupName="/durable", logStreamName="s")
    now = now_ms()
    for batch in range(5):
        put(client, "/durable", "s", [(now + batch * 10 + i, f"b{batch} e{i}") for i in range(10)])
    before = client.filter_log_events(logGroupName="/durable")
    server.kill9()
    server.start()
    client = make_client(server.endpoint, service="logs")
    after = client.filter_log_events(logGroupName="/durable")
    assert [(e["eventId"], e["message"]) for e in after["events"]] == [
        (e["eventId"], e["message"]) for e in before["events"]]
    assert len(after["events"]) == 50
    assert client.list_tags_log_group(logGroupName="/durable")["tags"] == {"k": "v"}
    out = put(client, "/durable", "s", [(now + 100, "after restart")])
    assert out["nextSequenceToken"]
    assert len(client.filter_log_events(logGroupName="/durable")["events"]) == 51


# --- AWS CLI --------------------------------------------------------------------------------


def aws_cli() -> str:
    candidate = Path(sys.executable).parent / "aws"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("aws")
    if not found:
        pytest.fail("the AWS CLI is not installed (tests/compat/requirements.txt has awscli)")
    return found


def cli(endpoint: str, tmp_path: Path, *args: str, output: str = "json") -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION, "AWS_PAGER": "",
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    })
    proc = subprocess.run(
        [aws_cli(), "--endpoint-url", endpoint, "--output", output, "logs", *args],
        capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, f"aws logs {' '.join(args)} failed:\n{proc.stderr}"
    return proc.stdout


def test_aws_cli_logs(endpoint, logs, tmp_path):
    group = unique("cli")
    cli(endpoint, tmp_path, "create-log-group", "--log-group-name", group)
    try:
        cli(endpoint, tmp_path, "create-log-stream", "--log-group-name", group,
            "--log-stream-name", "main")
        now = now_ms()
        events = json.dumps([{"timestamp": now - 2000 + i, "message": f"line {i} ERROR" if i % 2
                              else f"line {i} ok"} for i in range(6)])
        put_out = json.loads(cli(endpoint, tmp_path, "put-log-events", "--log-group-name", group,
                                 "--log-stream-name", "main", "--log-events", events))
        assert put_out["nextSequenceToken"]
        got = json.loads(cli(endpoint, tmp_path, "get-log-events", "--log-group-name", group,
                             "--log-stream-name", "main", "--start-from-head"))
        assert [e["message"] for e in got["events"]] == [f"line {i} ERROR" if i % 2
                                                          else f"line {i} ok" for i in range(6)]
        # The CLI follows nextToken for filter-log-events: ask for pages of one.
        filtered = json.loads(cli(endpoint, tmp_path, "filter-log-events", "--log-group-name",
                                  group, "--filter-pattern", "ERROR", "--page-size", "1"))
        assert [e["message"] for e in filtered["events"]] == [
            "line 1 ERROR", "line 3 ERROR", "line 5 ERROR"]
        groups = json.loads(cli(endpoint, tmp_path, "describe-log-groups",
                                "--log-group-name-prefix", group))
        assert [g["logGroupName"] for g in groups["logGroups"]] == [group]
        streams = json.loads(cli(endpoint, tmp_path, "describe-log-streams", "--log-group-name",
                                 group, "--order-by", "LastEventTime", "--descending"))
        assert streams["logStreams"][0]["lastEventTimestamp"] == now - 2000 + 5
        # `aws logs tail` is AWS CLI v2 only; the suite's CLI (awscli v1) has no `tail`. It is a
        # FilterLogEvents loop with startTime and eventId de-duplication, covered above and by
        # test_filter_log_events.
    finally:
        cli(endpoint, tmp_path, "delete-log-group", "--log-group-name", group)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
