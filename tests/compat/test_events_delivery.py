"""EventBridge deliveries through boto3 against the real binary: rule → SQS (standard and FIFO),
input transformation, bus → bus (same and another account), SNS and Lambda targets, archive and
replay, schedules under ``--time-scale``, retries ending in a target DLQ, and kill -9 with
undelivered events.

Envelope and transformer expectations follow AWS-recorded responses (LocalStack's
aws.validated snapshots ``test_events_inputs`` / ``test_events`` / ``test_events_schedule``).
"""

from __future__ import annotations

import io
import json
import re
import time
import uuid
import zipfile

import pytest
from botocore.exceptions import ClientError

from conftest import make_client
from sqs_helpers import DEFAULT_ACCOUNT, REGION

OTHER = "111111111111"
ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
PATTERN = {"source": ["compat.orders"], "detail-type": ["Order Placed"]}
DETAIL = {"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}}


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def entry(**kw) -> dict:
    e = {"Source": "compat.orders", "DetailType": "Order Placed", "Detail": json.dumps(DETAIL)}
    e.update(kw)
    return e


def receive(sqs, url: str, n: int, timeout: float = 20.0, **kw) -> list[dict]:
    """Receives until ``n`` messages arrived (deleting them) or ``timeout`` passed."""
    out: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < deadline:
        resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, **kw)
        for m in resp.get("Messages", []):
            out.append(m)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return out


def queue_arn(url: str) -> str:
    account, name = url.rstrip("/").split("/")[-2:]
    return f"arn:aws:sqs:{REGION}:{account}:{name}"


class World:
    """Clients and cleanup for one server."""

    def __init__(self, endpoint: str, access_key: str = "test"):
        self.endpoint = endpoint
        self.events = make_client(endpoint, service="events", access_key=access_key)
        self.sqs = make_client(endpoint, service="sqs", access_key=access_key)
        self.cleanup: list = []

    def queue(self, fifo: bool = False) -> tuple[str, str]:
        name = uid("evq") + (".fifo" if fifo else "")
        attrs = {"FifoQueue": "true"} if fifo else {}
        url = self.sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        self.cleanup.append(lambda: self.sqs.delete_queue(QueueUrl=url))
        return url, queue_arn(url)

    def bus(self) -> tuple[str, str]:
        name = uid("evbus")
        arn = self.events.create_event_bus(Name=name)["EventBusArn"]
        self.cleanup.append(lambda: self.events.delete_event_bus(Name=name))
        return name, arn

    def rule(self, bus: str, targets: list[dict], pattern: dict | None = None, **kw) -> str:
        name = uid("evrule")
        args = {"Name": name, "EventBusName": bus, **kw}
        if pattern is not None or "ScheduleExpression" not in kw:
            args["EventPattern"] = json.dumps(pattern or PATTERN)
        arn = self.events.put_rule(**args)["RuleArn"]
        resp = self.events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        assert resp["FailedEntryCount"] == 0

        def drop():
            self.events.remove_targets(Rule=name, EventBusName=bus,
                                       Ids=[t["Id"] for t in targets])
            self.events.delete_rule(Name=name, EventBusName=bus)
        self.cleanup.append(drop)
        return arn

    def close(self) -> None:
        for f in reversed(self.cleanup):
            try:
                f()
            except ClientError:
                pass


@pytest.fixture()
def world(endpoint):
    w = World(endpoint)
    yield w
    w.close()


@pytest.fixture()
def fast_world(fast_server):
    w = World(fast_server.endpoint)
    yield w
    w.close()


def test_rule_to_sqs_delivers_the_envelope(world):
    url, arn = world.queue()
    bus, _ = world.bus()
    rule_arn = world.rule(bus, [{"Id": "q", "Arn": arn}])
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    resp = world.events.put_events(Entries=[
        entry(EventBusName=bus, Resources=["arn:aws:s3:::b"], TraceHeader=trace),
        entry(EventBusName=bus, Source="compat.other"),  # Matches no rule.
    ])
    assert resp["FailedEntryCount"] == 0
    event_id = resp["Entries"][0]["EventId"]
    msgs = receive(world.sqs, url, 1, MessageSystemAttributeNames=["AWSTraceHeader"])
    assert len(msgs) == 1
    body = json.loads(msgs[0]["Body"])
    assert list(body) == ["version", "id", "detail-type", "source", "account", "time", "region",
                          "resources", "detail"]
    assert body["version"] == "0" and body["id"] == event_id
    assert (body["detail-type"], body["source"]) == ("Order Placed", "compat.orders")
    assert (body["account"], body["region"]) == (DEFAULT_ACCOUNT, REGION)
    assert ISO_SECONDS.match(body["time"]), body["time"]
    assert body["resources"] == ["arn:aws:s3:::b"] and body["detail"] == DETAIL
    assert msgs[0].get("Attributes", {}).get("AWSTraceHeader", "").startswith(
        "Root=1-5759e988-bd862e3fe1be46a994272793")
    assert receive(world.sqs, url, 1, timeout=2) == []
    assert rule_arn.endswith(f"rule/{bus}/" + rule_arn.rsplit("/", 1)[1])


def test_explicit_time_and_disabled_rules(world):
    url, arn = world.queue()
    bus, _ = world.bus()
    world.rule(bus, [{"Id": "q", "Arn": arn}])
    world.events.put_events(Entries=[entry(EventBusName=bus, Time=1_700_000_000)])
    body = json.loads(receive(world.sqs, url, 1)[0]["Body"])
    assert body["time"] == "2023-11-14T22:13:20Z"
    rule = world.events.list_rules(EventBusName=bus)["Rules"][0]["Name"]
    world.events.disable_rule(Name=rule, EventBusName=bus)
    world.events.put_events(Entries=[entry(EventBusName=bus)])
    assert receive(world.sqs, url, 1, timeout=2) == []


def test_fifo_queue_target_gets_group_and_dedup(world):
    url, arn = world.queue(fifo=True)
    bus, _ = world.bus()
    world.rule(bus, [{"Id": "f", "Arn": arn, "SqsParameters": {"MessageGroupId": "orders"}}])
    ids = [world.events.put_events(Entries=[entry(EventBusName=bus, Detail=json.dumps({"n": i}))])[
        "Entries"][0]["EventId"] for i in range(3)]
    msgs = receive(world.sqs, url, 3, MessageSystemAttributeNames=["All"])
    assert [json.loads(m["Body"])["detail"]["n"] for m in msgs] == [0, 1, 2]
    assert {m["Attributes"]["MessageGroupId"] for m in msgs} == {"orders"}
    assert [m["Attributes"]["MessageDeduplicationId"] for m in msgs] == ids


def test_input_path_input_and_transformers(world):
    bus, _ = world.bus()
    queues = {k: world.queue() for k in ("path", "leaf", "const", "str", "json", "vars", "whole")}
    transformer_paths = {"detail-type": "$.detail-type", "timestamp": "$.time",
                         "command": "$.detail.command", "missing": "$.detail.nothing"}
    world.rule(bus, [
        {"Id": "path", "Arn": queues["path"][1], "InputPath": "$.detail"},
        {"Id": "leaf", "Arn": queues["leaf"][1], "InputPath": "$.detail.payload.sf_id"},
        {"Id": "const", "Arn": queues["const"][1], "Input": "{\"fixed\": true}"},
        {"Id": "str", "Arn": queues["str"][1], "InputTransformer": {
            "InputPathsMap": transformer_paths,
            "InputTemplate": "\"Event of <detail-type> type, at time <timestamp>, info extracted "
                             "from detail <command><missing>\""}},
        {"Id": "json", "Arn": queues["json"][1], "InputTransformer": {
            "InputPathsMap": transformer_paths,
            "InputTemplate": "{\"detailType\": <detail-type>, \"time\": <timestamp>, "
                             "\"command\": <command>, \"quoted\": \"cmd <command>\", "
                             "\"missing\": <missing>}"}},
    ])
    world.rule(bus, [
        {"Id": "vars", "Arn": queues["vars"][1], "InputTransformer": {
            "InputTemplate": "\"<aws.events.rule-name> <aws.events.rule-arn> "
                             "<aws.events.event.ingestion-time>\""}},
        {"Id": "whole", "Arn": queues["whole"][1], "InputTransformer": {
            "InputTemplate": "{\"originalEvent\": <aws.events.event>, "
                             "\"originalEventJson\": <aws.events.event.json>}"}}])
    rule = next(r for r in world.events.list_rules(EventBusName=bus)["Rules"]
                if world.events.list_targets_by_rule(Rule=r["Name"], EventBusName=bus)[
                    "Targets"][0]["Id"] == "vars")
    world.events.put_events(Entries=[entry(EventBusName=bus)])
    got = {k: receive(world.sqs, url, 1)[0]["Body"] for k, (url, _) in queues.items()}

    assert json.loads(got["path"]) == DETAIL
    assert got["leaf"] == "\"baz\""
    assert json.loads(got["const"]) == {"fixed": True}
    m = re.fullmatch(r'"Event of Order Placed type, at time (\S+), info extracted from detail '
                     r'update-account"', got["str"])
    assert m and ISO_SECONDS.match(m.group(1)), got["str"]
    j = json.loads(got["json"])
    assert (j["detailType"], j["command"], j["quoted"], j["missing"]) == (
        "Order Placed", "update-account", "cmd update-account", "")
    assert ISO_SECONDS.match(j["time"])
    name, arn, ingestion = json.loads(got["vars"]).split(" ")
    assert (name, arn) == (rule["Name"], rule["Arn"]) and ISO_SECONDS.match(ingestion)
    w = json.loads(got["whole"])
    assert w["originalEventJson"]["detail"] == DETAIL
    assert "detail" not in w["originalEvent"]
    assert w["originalEvent"]["detailType"] == "Order Placed"
    assert w["originalEvent"]["id"] == w["originalEventJson"]["id"]


def test_bus_to_bus_same_account_keeps_the_event(world):
    url, arn = world.queue()
    src, _ = world.bus()
    dst, dst_arn = world.bus()
    world.rule(dst, [{"Id": "q", "Arn": arn}])
    world.rule(src, [{"Id": "fwd", "Arn": dst_arn}])
    event_id = world.events.put_events(Entries=[entry(EventBusName=src)])["Entries"][0]["EventId"]
    body = json.loads(receive(world.sqs, url, 1)[0]["Body"])
    assert body["id"] == event_id and body["account"] == DEFAULT_ACCOUNT
    assert body["detail"] == DETAIL


def test_bus_to_another_accounts_bus_needs_its_policy(world, endpoint):
    other = World(endpoint, access_key=OTHER)
    try:
        url, q_arn = other.queue()
        dst, dst_arn = other.bus()
        assert f":{OTHER}:" in dst_arn
        other.rule(dst, [{"Id": "q", "Arn": q_arn}])
        src, _ = world.bus()
        world.rule(src, [{"Id": "x", "Arn": dst_arn}])

        # Without a policy on the receiving bus the event is refused.
        world.events.put_events(Entries=[entry(EventBusName=src, Detail='{"n": 1}')])
        assert receive(other.sqs, url, 1, timeout=3) == []

        other.events.put_permission(EventBusName=dst, Action="events:PutEvents",
                                    Principal=DEFAULT_ACCOUNT, StatementId="from-default")
        event_id = world.events.put_events(Entries=[entry(EventBusName=src, Detail='{"n": 2}')])[
            "Entries"][0]["EventId"]
        body = json.loads(receive(other.sqs, url, 1)[0]["Body"])
        # Forwarded events keep their id and the account they came from.
        assert (body["id"], body["account"], body["detail"]) == (event_id, DEFAULT_ACCOUNT,
                                                                 {"n": 2})

        # PutEvents straight to the other account's bus ARN honours the same policy.
        resp = make_client(endpoint, service="events", access_key="222233334444").put_events(
            Entries=[entry(EventBusName=dst_arn)])
        assert resp["Entries"][0]["ErrorCode"] == "AccessDeniedException"
        resp = world.events.put_events(Entries=[entry(EventBusName=dst_arn, Detail='{"n": 3}')])
        assert resp["FailedEntryCount"] == 0
        assert json.loads(receive(other.sqs, url, 1)[0]["Body"])["detail"] == {"n": 3}
    finally:
        other.close()


def _unavailable(exc: ClientError) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = exc.response.get("Error", {}).get("Code", "")
    return status == 501 or code in ("NotImplemented", "UnknownOperationException",
                                     "InvalidAction")


def test_rule_to_sns_topic(world):
    sns = make_client(world.endpoint, service="sns")
    try:
        topic = sns.create_topic(Name=uid("evtopic"))["TopicArn"]
    except ClientError as e:
        if _unavailable(e):
            pytest.skip(f"SNS is not implemented by this server yet: {e.response['Error']}")
        raise
    world.cleanup.append(lambda: sns.delete_topic(TopicArn=topic))
    url, q_arn = world.queue()
    try:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=q_arn,
                      Attributes={"RawMessageDelivery": "true"})
    except ClientError as e:
        if _unavailable(e):
            pytest.skip(f"SNS subscriptions are not implemented yet: {e.response['Error']}")
        raise
    bus, _ = world.bus()
    world.rule(bus, [{"Id": "t", "Arn": topic}])
    event_id = world.events.put_events(Entries=[entry(EventBusName=bus)])["Entries"][0]["EventId"]
    body = json.loads(receive(world.sqs, url, 1)[0]["Body"])
    assert body["id"] == event_id and body["detail"] == DETAIL


HANDLER = """
import json
def handler(event, context):
    print("EVENT " + json.dumps(event))
    return {"ok": True}
"""


def _zip(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", source)
    return buf.getvalue()


def test_rule_to_lambda_function(world):
    lam = make_client(world.endpoint, service="lambda")
    logs = make_client(world.endpoint, service="logs")
    name = uid("evfn")
    try:
        fn = lam.create_function(FunctionName=name, Runtime="python3.12", Handler="app.handler",
                                 Role=f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/r",
                                 Code={"ZipFile": _zip(HANDLER)})
    except ClientError as e:
        if _unavailable(e):
            pytest.skip(f"Lambda is not implemented by this server yet: {e.response['Error']}")
        raise
    world.cleanup.append(lambda: lam.delete_function(FunctionName=name))
    bus, _ = world.bus()
    world.rule(bus, [{"Id": "fn", "Arn": fn["FunctionArn"], "InputPath": "$.detail"}])
    world.events.put_events(Entries=[entry(EventBusName=bus)])
    deadline = time.monotonic() + 60
    seen = None
    while time.monotonic() < deadline and seen is None:
        try:
            found = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}",
                                           filterPattern="EVENT")
            for e in found.get("events", []):
                if "EVENT " in e["message"]:
                    seen = json.loads(e["message"].split("EVENT ", 1)[1])
        except ClientError as e:
            if _unavailable(e):
                pytest.skip(f"CloudWatch Logs is not implemented yet: {e.response['Error']}")
        time.sleep(0.5)
    assert seen == DETAIL


def test_archive_then_replay(world):
    url, q_arn = world.queue()
    bus, bus_arn = world.bus()
    archive = uid("arch")
    world.events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn,
                                EventPattern=json.dumps({"source": ["compat.orders"]}))
    world.cleanup.append(lambda: world.events.delete_archive(ArchiveName=archive))
    start = time.time() - 5
    ids = [world.events.put_events(Entries=[entry(EventBusName=bus, Detail=json.dumps({"n": i}))])[
        "Entries"][0]["EventId"] for i in range(3)]
    world.events.put_events(Entries=[entry(EventBusName=bus, Source="compat.unarchived")])
    d = world.events.describe_archive(ArchiveName=archive)
    assert d["EventCount"] == 3 and d["SizeBytes"] > 0

    # The rule is created after the events: only the replay can reach it.
    rule_arn = world.rule(bus, [{"Id": "q", "Arn": q_arn}])
    world.rule(bus, [{"Id": "other", "Arn": world.queue()[1]}])
    replay = uid("replay")
    out = world.events.start_replay(
        ReplayName=replay, EventSourceArn=d["ArchiveArn"], EventStartTime=start,
        EventEndTime=time.time() + 1, Destination={"Arn": bus_arn, "FilterArns": [rule_arn]})
    assert out["State"] in ("STARTING", "RUNNING", "COMPLETED")
    assert out["ReplayArn"] == f"arn:aws:events:{REGION}:{DEFAULT_ACCOUNT}:replay/{replay}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        r = world.events.describe_replay(ReplayName=replay)
        if r["State"] == "COMPLETED":
            break
        time.sleep(0.2)
    assert r["State"] == "COMPLETED", r
    assert "ReplayEndTime" in r and "EventLastReplayedTime" in r
    assert r["Destination"] == {"Arn": bus_arn, "FilterArns": [rule_arn]}
    bodies = [json.loads(m["Body"]) for m in receive(world.sqs, url, 3)]
    assert sorted(b["id"] for b in bodies) == sorted(ids)
    assert {b["replay-name"] for b in bodies} == {replay}
    assert list(bodies[0]) == ["version", "id", "detail-type", "source", "account", "time",
                               "region", "replay-name", "resources", "detail"]
    # Replayed events are not archived again.
    assert world.events.describe_archive(ArchiveName=archive)["EventCount"] == 3
    assert replay in [x["ReplayName"] for x in world.events.list_replays(NamePrefix=replay)[
        "Replays"]]
    with pytest.raises(ClientError) as e:
        world.events.cancel_replay(ReplayName=replay)
    assert e.value.response["Error"]["Code"] == "IllegalStatusException"


def test_rate_schedule_fires_under_time_scale(fast_world):
    url, q_arn = fast_world.queue()
    rule_arn = fast_world.rule("default", [{"Id": "q", "Arn": q_arn}],
                               ScheduleExpression="rate(1 minute)")
    # rate(1 minute) at --time-scale 60 fires about every second.
    msgs = receive(fast_world.sqs, url, 2, timeout=30)
    assert len(msgs) == 2
    for m in msgs:
        body = json.loads(m["Body"])
        assert (body["source"], body["detail-type"]) == ("aws.events", "Scheduled Event")
        assert body["resources"] == [rule_arn] and body["detail"] == {}
    assert json.loads(msgs[0]["Body"])["id"] != json.loads(msgs[1]["Body"])["id"]


def test_failing_target_ends_in_its_dead_letter_queue(fast_world):
    gone_url, gone_arn = fast_world.queue()
    dlq_url, dlq_arn = fast_world.queue()
    bus, _ = fast_world.bus()
    rule_arn = fast_world.rule(bus, [{
        "Id": "gone", "Arn": gone_arn, "DeadLetterConfig": {"Arn": dlq_arn},
        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60}}])
    fast_world.sqs.delete_queue(QueueUrl=gone_url)
    event_id = fast_world.events.put_events(Entries=[entry(EventBusName=bus)])["Entries"][0][
        "EventId"]
    msgs = receive(fast_world.sqs, dlq_url, 1, timeout=60, MessageAttributeNames=["All"])
    assert len(msgs) == 1
    body = json.loads(msgs[0]["Body"])
    assert body["id"] == event_id
    attrs = {k: v.get("StringValue") for k, v in msgs[0].get("MessageAttributes", {}).items()}
    assert attrs.get("RULE_ARN") == rule_arn
    assert attrs.get("TARGET_ARN") == gone_arn
    assert attrs.get("ERROR_CODE")


@pytest.mark.slow
def test_kill_9_loses_no_accepted_event(server_factory, tmp_path):
    data = tmp_path / "events-crash"
    server = server_factory(data_dir=data, label="events-crash")
    w = World(server.endpoint)
    url, q_arn = w.queue()
    bus, _ = w.bus()
    w.rule(bus, [{"Id": "q", "Arn": q_arn}])
    acked: list[str] = []
    for i in range(30):
        resp = w.events.put_events(Entries=[
            entry(EventBusName=bus, Detail=json.dumps({"n": i, "k": k})) for k in range(10)])
        assert resp["FailedEntryCount"] == 0
        acked += [e["EventId"] for e in resp["Entries"]]
    server.kill9()
    server.start()
    w = World(server.endpoint)
    seen: set[str] = set()
    deadline = time.monotonic() + 60
    while len(seen) < len(acked) and time.monotonic() < deadline:
        for m in receive(w.sqs, url, len(acked) - len(seen), timeout=2):
            seen.add(json.loads(m["Body"])["id"])
    missing = set(acked) - seen
    assert not missing, f"{len(missing)} of {len(acked)} accepted events never delivered"
