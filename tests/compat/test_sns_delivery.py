"""SNS publishing to SQS: fan-out with filter policies in both scopes, raw delivery, per-protocol
messages, FIFO topics into FIFO queues, PublishBatch, and AWS's publish errors.

"LS snapshot": localstack/localstack tests/aws/services/sns/test_sns.snapshot.json, recorded
against AWS.
"""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import make_client
from sqs_helpers import drain, error_of


@pytest.fixture(scope="module")
def sns(endpoint):
    return make_client(endpoint, service="sns")


@pytest.fixture()
def topic(sns):
    created = []

    def make(fifo: bool = False, **attrs) -> str:
        name = f"d-{uuid.uuid4().hex[:16]}" + (".fifo" if fifo else "")
        if fifo:
            attrs["FifoTopic"] = "true"
        arn = sns.create_topic(Name=name, Attributes=attrs)["TopicArn"]
        created.append(arn)
        return arn

    yield make
    for arn in created:
        sns.delete_topic(TopicArn=arn)


def bodies(messages) -> list[dict]:
    return [json.loads(m["Body"]) for m in messages]


def test_fan_out_filter_policies_and_raw_delivery(sns, sqs, queue, topic):
    arn = topic()
    q_all, q_red, q_body, q_num = queue(), queue(), queue(), queue()
    sub_all = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue.arn(q_all),
                            ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue.arn(q_red),
                  Attributes={"FilterPolicy": json.dumps({"color": ["red"]}),
                              "RawMessageDelivery": "true"})
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue.arn(q_body),
                  Attributes={"FilterPolicy": json.dumps({"kind": ["order"]}),
                              "FilterPolicyScope": "MessageBody"})
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue.arn(q_num),
                  Attributes={"FilterPolicy": json.dumps({"price": [{"numeric": [">", 100]}]})})

    order = json.dumps({"kind": "order", "id": 1})
    first = sns.publish(TopicArn=arn, Message=order, Subject="New order", MessageAttributes={
        "color": {"DataType": "String", "StringValue": "blue"},
        "price": {"DataType": "Number", "StringValue": "150"},
    })["MessageId"]
    sns.publish(TopicArn=arn, Message="plain", MessageAttributes={
        "color": {"DataType": "String", "StringValue": "red"},
        "sizes": {"DataType": "String.Array", "StringValue": '["S", "M"]'},
    })

    got_all = bodies(drain(sqs, q_all, expected=2))
    assert sorted(m["Message"] for m in got_all) == sorted([order, "plain"])
    env = [m for m in got_all if m["MessageId"] == first][0]
    assert env["Type"] == "Notification"
    assert env["TopicArn"] == arn
    assert env["Subject"] == "New order"
    assert env["SignatureVersion"] == "1"
    assert env["Signature"]
    assert "/SimpleNotificationService-" in env["SigningCertURL"]
    assert env["UnsubscribeURL"].endswith(f"/?Action=Unsubscribe&SubscriptionArn={sub_all}")
    assert env["MessageAttributes"] == {"color": {"Type": "String", "Value": "blue"},
                                        "price": {"Type": "Number", "Value": "150"}}
    assert env["Timestamp"].endswith("Z")

    red = drain(sqs, q_red, expected=1, MessageAttributeNames=["All"])
    assert red[0]["Body"] == "plain"
    assert red[0]["MessageAttributes"]["color"] == {"StringValue": "red", "DataType": "String"}
    assert red[0]["MessageAttributes"]["sizes"]["DataType"] == "String.Array"

    body = bodies(drain(sqs, q_body, expected=1))
    assert body[0]["Message"] == order
    num = bodies(drain(sqs, q_num, expected=1))
    assert num[0]["MessageId"] == first
    # Nothing else arrives where the filters say no.
    for q in (q_red, q_body, q_num):
        assert drain(sqs, q, expected=None, WaitTimeSeconds=0) == []

    # Unsubscribed queues get nothing more.
    sns.unsubscribe(SubscriptionArn=sub_all)
    sns.publish(TopicArn=arn, Message="after")
    assert drain(sqs, q_all, expected=None, WaitTimeSeconds=1) == []


def test_message_structure_json_picks_the_protocol_message(sns, sqs, queue, topic):
    arn = topic()
    q = queue()
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue.arn(q))
    sns.publish(TopicArn=arn, MessageStructure="json",
                Message=json.dumps({"default": "for everyone", "sqs": "for queues",
                                    "email": "for people"}))
    sns.publish(TopicArn=arn, MessageStructure="json", Message=json.dumps({"default": "d"}))
    got = sorted(m["Message"] for m in bodies(drain(sqs, q, expected=2)))
    assert got == ["d", "for queues"]


def test_fifo_topic_to_fifo_queue_keeps_group_order_and_deduplicates(sns, sqs, queue, topic):
    arn = topic(fifo=True, ContentBasedDeduplication="true")
    q = queue(fifo=True)
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue.arn(q),
                  Attributes={"RawMessageDelivery": "true"})
    sequences = []
    for i in range(10):
        group = "a" if i % 2 == 0 else "b"
        r = sns.publish(TopicArn=arn, Message=f"{group}-{i}", MessageGroupId=group)
        sequences.append(int(r["SequenceNumber"]))
    assert sequences == sorted(sequences)
    dup = sns.publish(TopicArn=arn, Message="a-0", MessageGroupId="a")
    assert int(dup["SequenceNumber"]) == sequences[0]
    explicit = sns.publish(TopicArn=arn, Message="a-0", MessageGroupId="a",
                           MessageDeduplicationId="other")
    assert int(explicit["SequenceNumber"]) > sequences[-1]

    got = drain(sqs, q, expected=11, AttributeNames=["MessageGroupId"])
    per_group: dict[str, list[str]] = {}
    for m in got:
        per_group.setdefault(m["Attributes"]["MessageGroupId"], []).append(m["Body"])
    assert per_group["a"] == ["a-0", "a-2", "a-4", "a-6", "a-8", "a-0"]
    assert per_group["b"] == ["b-1", "b-3", "b-5", "b-7", "b-9"]

    for kwargs, message in [
        ({"Message": "x"},
         "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"),
    ]:
        with pytest.raises(ClientError) as e:
            sns.publish(TopicArn=arn, **kwargs)
        assert error_of(e)["Message"] == message
    arn2 = topic(fifo=True)
    with pytest.raises(ClientError) as e:
        sns.publish(TopicArn=arn2, Message="x", MessageGroupId="g")
    assert error_of(e)["Message"] == (
        "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly")


def test_publish_batch(sns, sqs, queue, topic):
    arn = topic()
    q = queue()
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue.arn(q),
                  Attributes={"RawMessageDelivery": "true"})
    entries = [{"Id": f"m{i}", "Message": f"body-{i}",
                "MessageAttributes": {"n": {"DataType": "Number", "StringValue": str(i)}}}
               for i in range(10)]
    resp = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=entries)
    assert resp["Failed"] == []
    assert [s["Id"] for s in resp["Successful"]] == [f"m{i}" for i in range(10)]
    assert len({s["MessageId"] for s in resp["Successful"]}) == 10
    got = drain(sqs, q, expected=10)
    assert sorted(m["Body"] for m in got) == sorted(f"body-{i}" for i in range(10))

    cases = [
        ([], "EmptyBatchRequest", "The batch request doesn't contain any entries."),
        ([{"Id": f"m{i}", "Message": "x"} for i in range(11)], "TooManyEntriesInBatchRequest",
         "The batch request contains more entries than permissible."),
        ([{"Id": "same", "Message": "x"}, {"Id": "same", "Message": "y"}],
         "BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id."),
        ([{"Id": "bad id!", "Message": "x"}], "InvalidBatchEntryId",
         "The Id of a batch entry in the batch request contains an impermissible character: "
         "bad id!"),
    ]
    for batch, code, message in cases:
        with pytest.raises(ClientError) as e:
            sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=batch)
        assert (error_of(e)["Code"], error_of(e)["Message"]) == (code, message)

    fifo = topic(fifo=True, ContentBasedDeduplication="true")
    with pytest.raises(ClientError) as e:
        sns.publish_batch(TopicArn=fifo, PublishBatchRequestEntries=[
            {"Id": "a", "Message": "x", "MessageGroupId": "g"}, {"Id": "b", "Message": "y"}])
    assert error_of(e)["Message"] == (
        "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
    ok = sns.publish_batch(TopicArn=fifo, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "x", "MessageGroupId": "g"},
        {"Id": "b", "Message": "y", "MessageGroupId": "g"}])
    seqs = [int(s["SequenceNumber"]) for s in ok["Successful"]]
    assert seqs == sorted(seqs) and len(seqs) == 2


def test_publish_errors(sns, topic):
    arn = topic()
    missing = arn + "-missing"
    cases = [
        ({"TopicArn": missing, "Message": "m"}, "NotFound", "Topic does not exist"),
        ({"TopicArn": "nope", "Message": "m"}, "InvalidParameter",
         "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1"),
        ({"TopicArn": arn, "Message": ""}, "InvalidParameter", "Invalid parameter: Empty message"),
        ({"TopicArn": arn, "Message": "m", "Subject": ""}, "InvalidParameter",
         "Invalid parameter: Subject"),
        ({"TopicArn": arn, "Message": "x" * (256 * 1024 + 1)}, "InvalidParameter",
         "Invalid parameter: Message too long"),
        ({"TopicArn": arn, "Message": "{", "MessageStructure": "json"}, "InvalidParameter",
         "Invalid parameter: Message Structure - JSON message body failed to parse"),
        ({"TopicArn": arn, "Message": '{"sqs": "x"}', "MessageStructure": "json"},
         "InvalidParameter",
         "Invalid parameter: Message Structure - No default entry in JSON message body"),
        ({"TopicArn": arn, "Message": "m", "MessageDeduplicationId": "d"}, "InvalidParameter",
         "Invalid parameter: MessageDeduplicationId Reason: The request includes "
         "MessageDeduplicationId parameter that is not valid for this topic type"),
        ({"TopicArn": arn, "Message": "m",
          "MessageAttributes": {"a": {"DataType": "Binary", "StringValue": "x"}}},
         "ParameterValueInvalid",
         "The message attribute 'a' with type 'Binary' must use field 'Binary'."),
        ({"TopicArn": arn, "Message": "m",
          "MessageAttributes": {".a": {"DataType": "String", "StringValue": "x"}}},
         "ParameterValueInvalid",
         "Invalid message attribute name starting with character '.' was found."),
        ({"TopicArn": arn, "Message": "m",
          "MessageAttributes": {"a": {"DataType": "Text", "StringValue": "x"}}},
         "ParameterValueInvalid",
         "The message attribute 'a' has an invalid message attribute type, the set of supported "
         "type prefixes is Binary, Number, and String."),
    ]
    for kwargs, code, message in cases:
        with pytest.raises(ClientError) as e:
            sns.publish(**kwargs)
        assert (error_of(e)["Code"], error_of(e)["Message"]) == (code, message), kwargs["Message"][:20]
    # TargetArn works like TopicArn.
    assert sns.publish(TargetArn=arn, Message="m")["MessageId"]
