"""EventBridge control plane through boto3: buses, permissions, rules, targets, tags, archives,
replays and PutEvents validation, with AWS's error codes and messages (from AWS-recorded
responses in LocalStack's aws.validated snapshots where one exists)."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import make_client
from sqs_helpers import DEFAULT_ACCOUNT, REGION

OTHER = "111111111111"
PATTERN = {"source": ["compat.app"], "detail-type": ["Order Placed"]}


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def events(endpoint):
    return make_client(endpoint, service="events")


def error(exc_info) -> tuple[str, str]:
    e = exc_info.value.response["Error"]
    return e["Code"], e["Message"]


def test_default_bus_and_custom_bus_lifecycle(events):
    default = events.describe_event_bus()
    assert default["Name"] == "default"
    assert default["Arn"] == f"arn:aws:events:{REGION}:{DEFAULT_ACCOUNT}:event-bus/default"

    name = uid("bus")
    arn = events.create_event_bus(Name=name, Description="orders")["EventBusArn"]
    assert arn == f"arn:aws:events:{REGION}:{DEFAULT_ACCOUNT}:event-bus/{name}"
    with pytest.raises(ClientError) as e:
        events.create_event_bus(Name=name)
    assert error(e) == ("ResourceAlreadyExistsException", f"Event bus {name} already exists.")

    d = events.describe_event_bus(Name=name)
    assert (d["Name"], d["Arn"], d["Description"]) == (name, arn, "orders")
    assert "CreationTime" in d and "LastModifiedTime" in d
    assert events.describe_event_bus(Name=arn)["Name"] == name

    listed = events.list_event_buses(NamePrefix=name)["EventBuses"]
    assert [b["Name"] for b in listed] == [name]
    all_names = [b["Name"] for b in events.list_event_buses()["EventBuses"]]
    assert "default" in all_names and name in all_names

    upd = events.update_event_bus(Name=name, Description="new",
                                  DeadLetterConfig={"Arn": "arn:aws:sqs:us-east-1:000000000000:dlq"})
    assert upd["Description"] == "new" and upd["Arn"] == arn
    assert events.describe_event_bus(Name=name)["DeadLetterConfig"]["Arn"].endswith(":dlq")

    events.delete_event_bus(Name=name)
    with pytest.raises(ClientError) as e:
        events.describe_event_bus(Name=name)
    assert error(e) == ("ResourceNotFoundException", f"Event bus {name} does not exist.")
    events.delete_event_bus(Name=name)  # Deleting a missing bus succeeds, as on AWS.

    with pytest.raises(ClientError) as e:
        events.delete_event_bus(Name="default")
    assert error(e) == ("ValidationException", "Cannot delete event bus default.")
    with pytest.raises(ClientError) as e:
        events.create_event_bus(Name="default")
    assert error(e)[0] == "ResourceAlreadyExistsException"


def test_list_event_buses_pages(events):
    prefix = uid("page")
    for i in range(5):
        events.create_event_bus(Name=f"{prefix}-{i}")
    try:
        first = events.list_event_buses(NamePrefix=prefix, Limit=3)
        assert len(first["EventBuses"]) == 3 and "NextToken" in first
        second = events.list_event_buses(NamePrefix=prefix, Limit=3, NextToken=first["NextToken"])
        assert len(second["EventBuses"]) == 2 and "NextToken" not in second
        names = [b["Name"] for b in first["EventBuses"] + second["EventBuses"]]
        assert names == [f"{prefix}-{i}" for i in range(5)]
    finally:
        for i in range(5):
            events.delete_event_bus(Name=f"{prefix}-{i}")


def test_model_constraints_are_validation_exceptions(events):
    with pytest.raises(ClientError) as e:
        events.create_event_bus(Name="bad name")
    assert error(e) == ("ValidationException",
                        "1 validation error detected: Value 'bad name' at 'name' failed to satisfy "
                        "constraint: Member must satisfy regular expression pattern: "
                        "[/\\.\\-_A-Za-z0-9]+")
    long = "r" * 65
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=long, EventPattern=json.dumps(PATTERN))
    assert error(e) == ("ValidationException",
                        f"1 validation error detected: Value '{long}' at 'name' failed to satisfy "
                        "constraint: Member must have length less than or equal to 64")


def test_permissions(events, endpoint):
    name = uid("perm")
    events.create_event_bus(Name=name)
    arn = f"arn:aws:events:{REGION}:{DEFAULT_ACCOUNT}:event-bus/{name}"
    try:
        events.put_permission(EventBusName=name, Action="events:PutEvents", Principal=OTHER,
                              StatementId="s1")
        events.put_permission(EventBusName=name, Action="events:PutEvents", Principal="*",
                              StatementId="s2")
        policy = json.loads(events.describe_event_bus(Name=name)["Policy"])
        assert policy["Version"] == "2012-10-17"
        assert policy["Statement"] == [
            {"Sid": "s1", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
             "Action": "events:PutEvents", "Resource": arn},
            {"Sid": "s2", "Effect": "Allow", "Principal": "*", "Action": "events:PutEvents",
             "Resource": arn},
        ]
        events.remove_permission(EventBusName=name, StatementId="s2")
        sids = [s["Sid"] for s in json.loads(events.describe_event_bus(Name=name)["Policy"])[
            "Statement"]]
        assert sids == ["s1"]
        with pytest.raises(ClientError) as e:
            events.remove_permission(EventBusName=name, StatementId="nope")
        assert error(e) == ("ResourceNotFoundException",
                            "Statement with the provided id does not exist.")
        whole = {"Version": "2012-10-17", "Statement": [{
            "Sid": "svc", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "events:ListRules", "Resource": "*"}]}
        events.put_permission(EventBusName=name, Policy=json.dumps(whole))
        assert json.loads(events.describe_event_bus(Name=name)["Policy"]) == whole
        events.remove_permission(EventBusName=name, RemoveAllPermissions=True)
        assert "Policy" not in events.describe_event_bus(Name=name)
        with pytest.raises(ClientError) as e:
            events.put_permission(EventBusName=uid("missing"), Action="events:PutEvents",
                                  Principal=OTHER, StatementId="s1")
        assert error(e)[0] == "ResourceNotFoundException"
    finally:
        events.delete_event_bus(Name=name)


@pytest.mark.parametrize("custom_bus", [False, True])
def test_rule_lifecycle(events, custom_bus):
    bus = uid("rbus") if custom_bus else "default"
    if custom_bus:
        events.create_event_bus(Name=bus)
    name = uid("rule")
    kw = {"EventBusName": bus} if custom_bus else {}
    try:
        arn = events.put_rule(Name=name, EventPattern=json.dumps(PATTERN), Description="d",
                              Tags=[{"Key": "team", "Value": "a"}], **kw)["RuleArn"]
        expected = (f"arn:aws:events:{REGION}:{DEFAULT_ACCOUNT}:rule/{bus}/{name}" if custom_bus
                    else f"arn:aws:events:{REGION}:{DEFAULT_ACCOUNT}:rule/{name}")
        assert arn == expected
        d = events.describe_rule(Name=name, **kw)
        assert d["Arn"] == arn and d["State"] == "ENABLED" and d["EventBusName"] == bus
        assert json.loads(d["EventPattern"]) == PATTERN
        assert d["CreatedBy"] == DEFAULT_ACCOUNT and d["Description"] == "d"

        listed = events.list_rules(NamePrefix=name, **kw)["Rules"]
        assert [r["Name"] for r in listed] == [name]

        events.disable_rule(Name=name, **kw)
        assert events.describe_rule(Name=name, **kw)["State"] == "DISABLED"
        events.enable_rule(Name=name, **kw)
        assert events.describe_rule(Name=name, **kw)["State"] == "ENABLED"

        queue_arn = f"arn:aws:sqs:{REGION}:{DEFAULT_ACCOUNT}:{uid('q')}"
        events.put_targets(Rule=name, Targets=[{"Id": "t1", "Arn": queue_arn}], **kw)
        assert events.list_rule_names_by_target(TargetArn=queue_arn, **kw)["RuleNames"] == [name]
        with pytest.raises(ClientError) as e:
            events.delete_rule(Name=name, **kw)
        assert error(e) == ("ValidationException", "Rule can't be deleted since it has targets.")

        # Updating a rule keeps its targets.
        events.put_rule(Name=name, EventPattern=json.dumps({"source": ["x"]}), **kw)
        assert [t["Id"] for t in events.list_targets_by_rule(Rule=name, **kw)["Targets"]] == ["t1"]

        assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
            {"Key": "team", "Value": "a"}]
        events.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "dev"}])
        events.untag_resource(ResourceARN=arn, TagKeys=["team"])
        assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
            {"Key": "env", "Value": "dev"}]

        events.remove_targets(Rule=name, Ids=["t1"], **kw)
        events.delete_rule(Name=name, **kw)
        with pytest.raises(ClientError) as e:
            events.describe_rule(Name=name, **kw)
        assert error(e) == ("ResourceNotFoundException",
                            f"Rule {name} does not exist on EventBus {bus}.")
        events.delete_rule(Name=name, **kw)  # Deleting a missing rule succeeds.
    finally:
        if custom_bus:
            events.delete_event_bus(Name=bus)


def test_put_rule_errors(events):
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=uid("r"))
    assert error(e) == ("ValidationException",
                        "Parameter(s) EventPattern or ScheduleExpression must be specified.")
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=uid("r"), EventPattern=json.dumps({"source": []}))
    assert error(e) == ("InvalidEventPatternException",
                        "Event pattern is not valid. Reason: Empty arrays are not allowed")
    for bad in ("rate(1 minutes)", "rate(5 minute)", "cron(0 0 * * * *)", "every minute"):
        with pytest.raises(ClientError) as e:
            events.put_rule(Name=uid("r"), ScheduleExpression=bad)
        assert error(e) == ("ValidationException", "Parameter ScheduleExpression is not valid."), bad
    bus = uid("sbus")
    events.create_event_bus(Name=bus)
    try:
        with pytest.raises(ClientError) as e:
            events.put_rule(Name=uid("r"), EventBusName=bus, ScheduleExpression="rate(1 minute)")
        assert error(e) == ("ValidationException",
                            "ScheduleExpression is supported only on the default event bus.")
    finally:
        events.delete_event_bus(Name=bus)
    missing = uid("nobus")
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=uid("r"), EventBusName=missing, EventPattern=json.dumps(PATTERN))
    assert error(e) == ("ResourceNotFoundException", f"Event bus {missing} does not exist.")
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=uid("nope"), Targets=[{"Id": "t", "Arn": "arn:aws:sqs:r:a:q"}])
    assert error(e)[0] == "ResourceNotFoundException"
    # A schedule rule with a cron expression is accepted and described as given.
    name = uid("cron")
    events.put_rule(Name=name, ScheduleExpression="cron(0 12 ? * MON-FRI *)", State="DISABLED")
    assert events.describe_rule(Name=name)["ScheduleExpression"] == "cron(0 12 ? * MON-FRI *)"
    events.delete_rule(Name=name)


def test_list_rules_pages(events):
    prefix = uid("lr")
    for i in range(5):
        events.put_rule(Name=f"{prefix}-{i}", EventPattern=json.dumps(PATTERN))
    try:
        first = events.list_rules(NamePrefix=prefix, Limit=2)
        names = [r["Name"] for r in first["Rules"]]
        token = first["NextToken"]
        while token:
            page = events.list_rules(NamePrefix=prefix, Limit=2, NextToken=token)
            names += [r["Name"] for r in page["Rules"]]
            token = page.get("NextToken")
        assert names == [f"{prefix}-{i}" for i in range(5)]
    finally:
        for i in range(5):
            events.delete_rule(Name=f"{prefix}-{i}")


def test_put_targets_rules(events):
    rule = uid("tr")
    events.put_rule(Name=rule, EventPattern=json.dumps(PATTERN))
    q = f"arn:aws:sqs:{REGION}:{DEFAULT_ACCOUNT}:q"
    try:
        with pytest.raises(ClientError) as e:
            events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": q, "Input": "{}",
                                                    "InputPath": "$.detail"}])
        assert error(e) == ("ValidationException",
                            "Only one of Input, InputPath, or InputTransformer must be provided "
                            "for target t.")
        with pytest.raises(ClientError) as e:
            events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": q, "InputTransformer": {
                "InputPathsMap": {"a": "$.detail.a"}, "InputTemplate": "<a> <notdefinedkey>"}}])
        assert error(e) == ("ValidationException",
                            "InputTemplate for target t contains invalid placeholder notdefinedkey.")
        with pytest.raises(ClientError) as e:
            events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": q + ".fifo"}])
        assert error(e) == ("ValidationException",
                            "Parameter(s) SqsParameters must be specified for target: t.")
        with pytest.raises(ClientError) as e:
            events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": q, "RetryPolicy": {
                "MaximumRetryAttempts": 186}}])
        assert error(e) == ("ValidationException",
                            "1 validation error detected: Value '186' at "
                            "'targets.1.member.retryPolicy.maximumRetryAttempts' failed to satisfy "
                            "constraint: Member must have value less than or equal to 185")
        targets = [{"Id": f"t{i}", "Arn": f"{q}{i}"} for i in range(5)]
        resp = events.put_targets(Rule=rule, Targets=targets)
        assert resp["FailedEntryCount"] == 0 and resp["FailedEntries"] == []
        with pytest.raises(ClientError) as e:
            events.put_targets(Rule=rule, Targets=[{"Id": "t6", "Arn": q}])
        assert error(e) == ("LimitExceededException",
                            "The requested resource exceeds the maximum number allowed.")
        # Re-putting an existing id replaces it.
        events.put_targets(Rule=rule, Targets=[{"Id": "t0", "Arn": q, "Input": "{\"x\": 1}"}])
        listed = events.list_targets_by_rule(Rule=rule)["Targets"]
        assert [t["Id"] for t in listed] == [f"t{i}" for i in range(5)]
        assert listed[0] == {"Id": "t0", "Arn": q, "Input": "{\"x\": 1}"}
        page = events.list_targets_by_rule(Rule=rule, Limit=2)
        assert len(page["Targets"]) == 2 and "NextToken" in page
        events.remove_targets(Rule=rule, Ids=[f"t{i}" for i in range(5)])
        assert events.list_targets_by_rule(Rule=rule)["Targets"] == []
    finally:
        events.remove_targets(Rule=rule, Ids=[f"t{i}" for i in range(5)])
        events.delete_rule(Name=rule)


def test_put_events_entry_errors(events):
    good = {"Source": "compat.app", "DetailType": "Order Placed", "Detail": "{\"a\": 1}"}
    resp = events.put_events(Entries=[
        good,
        {"DetailType": "x", "Detail": "{}"},
        {"Source": "s", "Detail": "{}"},
        {"Source": "s", "DetailType": "x"},
        {"Source": "s", "DetailType": "x", "Detail": "[1, 2]"},
        {"Source": "s", "DetailType": "x", "Detail": "not json"},
    ])
    assert resp["FailedEntryCount"] == 5
    e = resp["Entries"]
    assert len(e[0]["EventId"]) == 36
    assert (e[1]["ErrorCode"], e[1]["ErrorMessage"]) == (
        "InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument.")
    assert (e[2]["ErrorCode"], e[2]["ErrorMessage"]) == (
        "InvalidArgument",
        "Parameter DetailType is not valid. Reason: DetailType is a required argument.")
    assert (e[3]["ErrorCode"], e[3]["ErrorMessage"]) == (
        "InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument.")
    assert (e[4]["ErrorCode"], e[4]["ErrorMessage"]) == ("MalformedDetail", "Detail is malformed.")
    assert e[5]["ErrorCode"] == "MalformedDetail"

    with pytest.raises(ClientError) as exc:
        events.put_events(Entries=[good] * 11)
    code, msg = error(exc)
    assert code == "ValidationException"
    assert msg.endswith("at 'entries' failed to satisfy constraint: Member must have length less "
                        "than or equal to 10")

    # Size accounting: Source + DetailType + Detail (+ 14 for Time, + Resources) > 256 KB.
    big = {"Source": "s", "DetailType": "t", "Detail": json.dumps({"x": "a" * (256 * 1024)})}
    with pytest.raises(ClientError) as exc:
        events.put_events(Entries=[big])
    assert error(exc) == ("ValidationException",
                          "Total size of the entries in the request is over the limit.")
    just_fits = 256 * 1024 - len("s") - len("t") - len('{"x": ""}')
    ok = {"Source": "s", "DetailType": "t", "Detail": json.dumps({"x": "a" * just_fits})}
    assert events.put_events(Entries=[ok])["FailedEntryCount"] == 0
    with pytest.raises(ClientError):
        events.put_events(Entries=[dict(ok, Time=time.time())])  # 14 more bytes.

    # Events to a bus that does not exist are accepted (and go nowhere), as on AWS.
    resp = events.put_events(Entries=[dict(good, EventBusName=uid("nobus"))])
    assert resp["FailedEntryCount"] == 0


def test_archives_and_replay_errors(events):
    bus = uid("abus")
    bus_arn = events.create_event_bus(Name=bus)["EventBusArn"]
    name = uid("arch")
    try:
        out = events.create_archive(ArchiveName=name, EventSourceArn=bus_arn,
                                    EventPattern=json.dumps(PATTERN), RetentionDays=3)
        assert out["ArchiveArn"] == f"arn:aws:events:{REGION}:{DEFAULT_ACCOUNT}:archive/{name}"
        assert out["State"] == "ENABLED"
        with pytest.raises(ClientError) as e:
            events.create_archive(ArchiveName=name, EventSourceArn=bus_arn)
        assert error(e) == ("ResourceAlreadyExistsException", f"Archive {name} already exists.")
        d = events.describe_archive(ArchiveName=name)
        assert (d["EventSourceArn"], d["RetentionDays"], d["EventCount"], d["SizeBytes"]) == (
            bus_arn, 3, 0, 0)
        assert json.loads(d["EventPattern"]) == PATTERN
        events.update_archive(ArchiveName=name, RetentionDays=0, Description="forever")
        d = events.describe_archive(ArchiveName=name)
        assert (d["RetentionDays"], d["Description"]) == (0, "forever")
        assert name in [a["ArchiveName"] for a in events.list_archives(NamePrefix=name)["Archives"]]
        assert [a["ArchiveName"] for a in events.list_archives(EventSourceArn=bus_arn)[
            "Archives"]] == [name]
        missing = f"arn:aws:events:{REGION}:{DEFAULT_ACCOUNT}:event-bus/{uid('gone')}"
        with pytest.raises(ClientError) as e:
            events.list_archives(EventSourceArn=missing)
        assert error(e) == ("ResourceNotFoundException",
                            f"Event bus {missing.rsplit('/', 1)[1]} does not exist.")
        with pytest.raises(ClientError) as e:
            events.delete_archive(ArchiveName=uid("gone"))
        assert error(e)[0] == "ResourceNotFoundException"
        with pytest.raises(ClientError) as e:
            events.create_archive(ArchiveName=uid("a"), EventSourceArn=bus_arn,
                                  EventPattern="{\"source\": []}")
        assert error(e)[0] == "InvalidEventPatternException"
        missing_bus = f"arn:aws:events:{REGION}:{DEFAULT_ACCOUNT}:event-bus/{uid('nobus')}"
        with pytest.raises(ClientError) as e:
            events.create_archive(ArchiveName=uid("a"), EventSourceArn=missing_bus)
        assert error(e)[0] == "ResourceNotFoundException"

        archive_arn = out["ArchiveArn"]
        now = time.time()
        with pytest.raises(ClientError) as e:
            events.start_replay(ReplayName=uid("rp"), EventSourceArn=archive_arn,
                                EventStartTime=now, EventEndTime=now - 60,
                                Destination={"Arn": bus_arn})
        assert error(e) == ("ValidationException",
                            "Parameter EventEndTime is not valid. Reason: EventStartTime must be "
                            "before EventEndTime.")
        default_arn = f"arn:aws:events:{REGION}:{DEFAULT_ACCOUNT}:event-bus/default"
        with pytest.raises(ClientError) as e:
            events.start_replay(ReplayName=uid("rp"), EventSourceArn=archive_arn,
                                EventStartTime=now - 60, EventEndTime=now,
                                Destination={"Arn": default_arn})
        assert error(e) == ("ValidationException",
                            "Parameter Destination.Arn is not valid. Reason: Cross event bus "
                            "replay is not permitted.")
        with pytest.raises(ClientError) as e:
            events.start_replay(ReplayName=uid("rp"),
                                EventSourceArn=archive_arn.replace(name, "gone"),
                                EventStartTime=now - 60, EventEndTime=now,
                                Destination={"Arn": bus_arn})
        assert error(e) == ("ValidationException",
                            "Parameter EventSourceArn is not valid. Reason: Archive gone does not "
                            "exist.")
        with pytest.raises(ClientError) as e:
            events.start_replay(ReplayName=uid("rp"), EventSourceArn=archive_arn,
                                EventStartTime=now - 60, EventEndTime=now,
                                Destination={"Arn": missing})
        assert error(e) == ("ResourceNotFoundException",
                            f"Event bus {missing.rsplit('/', 1)[1]} does not exist.")
        with pytest.raises(ClientError) as e:
            events.describe_replay(ReplayName=uid("nope"))
        assert error(e)[0] == "ResourceNotFoundException"
        with pytest.raises(ClientError) as e:
            events.cancel_replay(ReplayName=uid("nope"))
        assert error(e)[0] == "ResourceNotFoundException"

        events.delete_archive(ArchiveName=name)
        with pytest.raises(ClientError) as e:
            events.describe_archive(ArchiveName=name)
        assert error(e) == ("ResourceNotFoundException", f"Archive {name} does not exist.")
    finally:
        events.delete_event_bus(Name=bus)


def test_accounts_are_separate(events, endpoint):
    other = make_client(endpoint, service="events", access_key=OTHER)
    name = uid("acct")
    events.put_rule(Name=name, EventPattern=json.dumps(PATTERN))
    try:
        assert other.list_rules(NamePrefix=name)["Rules"] == []
        arn = other.put_rule(Name=name, EventPattern=json.dumps(PATTERN))["RuleArn"]
        assert arn == f"arn:aws:events:{REGION}:{OTHER}:rule/{name}"
        other.delete_rule(Name=name)
    finally:
        events.delete_rule(Name=name)


def test_not_implemented_operations_answer_501(events):
    with pytest.raises(ClientError) as e:
        events.list_connections()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
