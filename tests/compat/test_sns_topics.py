"""SNS topics and subscriptions: CRUD, attributes, tags, permissions, paging, and AWS's errors.

"LS snapshot": localstack/localstack tests/aws/services/sns/test_sns.snapshot.json, recorded
against AWS (error codes, messages and default attributes).
"""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import make_client
from sqs_helpers import DEFAULT_ACCOUNT, REGION, error_of, status_of


@pytest.fixture(scope="module")
def sns(endpoint):
    return make_client(endpoint, service="sns")


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def topic_arn(name: str) -> str:
    return f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT}:{name}"


def test_create_topic_defaults_idempotency_and_conflicts(sns):
    name = unique()
    arn = sns.create_topic(Name=name, Attributes={"DisplayName": "Orders"},
                           Tags=[{"Key": "team", "Value": "a"}])["TopicArn"]
    assert arn == topic_arn(name)
    # Same attributes and tags: the same ARN (LS snapshot "response-same-arn-*").
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "Orders"})["TopicArn"] == arn

    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["DisplayName"] == "Orders"
    assert attrs["Owner"] == DEFAULT_ACCOUNT
    assert attrs["TopicArn"] == arn
    assert (attrs["SubscriptionsConfirmed"], attrs["SubscriptionsPending"],
            attrs["SubscriptionsDeleted"]) == ("0", "0", "0")
    policy = json.loads(attrs["Policy"])
    assert policy["Id"] == "__default_policy_ID"
    assert policy["Statement"][0]["Resource"] == arn
    assert policy["Statement"][0]["Condition"] == {
        "StringEquals": {"AWS:SourceOwner": DEFAULT_ACCOUNT}}
    effective = json.loads(attrs["EffectiveDeliveryPolicy"])
    assert effective["http"]["defaultHealthyRetryPolicy"] == {
        "minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3, "numMaxDelayRetries": 0,
        "numNoDelayRetries": 0, "numMinDelayRetries": 0, "backoffFunction": "linear"}
    assert "FifoTopic" not in attrs

    with pytest.raises(ClientError) as e:
        sns.create_topic(Name=name, Attributes={"DisplayName": "Other"})
    assert error_of(e) == {"Type": "Sender", "Code": "InvalidParameter", "Message":
                           "Invalid parameter: Attributes Reason: Topic already exists with "
                           "different attributes"}
    with pytest.raises(ClientError) as e:
        sns.create_topic(Name=name, Tags=[{"Key": "team", "Value": "b"}])
    assert error_of(e)["Message"] == ("Invalid parameter: Tags Reason: Topic already exists "
                                      "with different tags")
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)  # Idempotent.
    with pytest.raises(ClientError) as e:
        sns.get_topic_attributes(TopicArn=arn)
    assert error_of(e)["Code"] == "NotFound"
    assert error_of(e)["Message"] == "Topic does not exist"
    assert status_of(e) == 404


def test_topic_name_and_arn_errors(sns):
    cases = [
        ({"Name": "bad name"}, "Invalid parameter: Topic Name"),
        ({"Name": "no-suffix", "Attributes": {"FifoTopic": "true"}},
         "Fifo Topic names must end with .fifo and must be made up of only uppercase and "
         "lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and "
         "256 characters long."),
        ({"Name": "std.fifo"}, "Invalid parameter: Topic Name"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ClientError) as e:
            sns.create_topic(**kwargs)
        assert error_of(e)["Code"] == "InvalidParameter", kwargs
        assert error_of(e)["Message"] == message
    with pytest.raises(ClientError) as e:
        sns.get_topic_attributes(TopicArn="not-an-arn")
    assert error_of(e)["Message"] == ("Invalid parameter: TopicArn Reason: An ARN must have at "
                                      "least 6 elements, not 1")


def test_fifo_topic_attributes_and_set_topic_attributes(sns):
    name = unique("f") + ".fifo"
    arn = sns.create_topic(Name=name, Attributes={"FifoTopic": "true",
                                                  "ContentBasedDeduplication": "true",
                                                  "SignatureVersion": "2"})["TopicArn"]
    try:
        attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        assert attrs["FifoTopic"] == "true"
        assert attrs["ContentBasedDeduplication"] == "true"
        assert attrs["SignatureVersion"] == "2"
        sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="F")
        sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication",
                                 AttributeValue="false")
        policy = json.dumps({"http": {"defaultHealthyRetryPolicy": {
            "minDelayTarget": 5, "maxDelayTarget": 10, "numRetries": 4}}})
        sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy",
                                 AttributeValue=policy)
        attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        assert attrs["DisplayName"] == "F"
        assert attrs["ContentBasedDeduplication"] == "false"
        assert attrs["DeliveryPolicy"] == policy
        retry = json.loads(attrs["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]
        assert (retry["minDelayTarget"], retry["numRetries"]) == (5, 4)
        for name_, value in [("FifoTopic", "false"), ("Nope", "1")]:
            with pytest.raises(ClientError) as e:
                sns.set_topic_attributes(TopicArn=arn, AttributeName=name_, AttributeValue=value)
            assert error_of(e)["Message"] == "Invalid parameter: AttributeName"
        with pytest.raises(ClientError) as e:
            sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion",
                                     AttributeValue="3")
        assert error_of(e)["Message"] == "Invalid parameter: SignatureVersion"
        assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SignatureVersion"] == "2"
    finally:
        sns.delete_topic(TopicArn=arn)


def test_tags_and_permissions(sns):
    arn = sns.create_topic(Name=unique())["TopicArn"]
    try:
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k1", "Value": "v1"},
                                                {"Key": "k2", "Value": "v2"}])
        assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
            {"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}]
        sns.untag_resource(ResourceArn=arn, TagKeys=["k1"])
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k2", "Value": "v2b"}])
        assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
            {"Key": "k2", "Value": "v2b"}]
        with pytest.raises(ClientError) as e:
            sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k", "Value": "1"},
                                                    {"Key": "k", "Value": "2"}])
        assert error_of(e)["Message"] == "Invalid parameter: Duplicated keys are not allowed."

        sns.add_permission(TopicArn=arn, Label="pub", AWSAccountId=["111122223333"],
                           ActionName=["Publish"])
        statements = json.loads(
            sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"]
        added = [s for s in statements if s["Sid"] == "pub"][0]
        assert added["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
        assert added["Action"] == "SNS:Publish"
        with pytest.raises(ClientError) as e:
            sns.add_permission(TopicArn=arn, Label="pub", AWSAccountId=["111122223333"],
                               ActionName=["Publish"])
        assert error_of(e)["Message"] == "Invalid parameter: Statement already exists"
        sns.remove_permission(TopicArn=arn, Label="pub")
        statements = json.loads(
            sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])["Statement"]
        assert [s["Sid"] for s in statements] == ["__default_statement_ID"]
    finally:
        sns.delete_topic(TopicArn=arn)


def test_list_topics_pages_by_100(endpoint):
    # Its own account, so other tests' topics do not interfere.
    account = "4" + uuid.uuid4().int.__str__()[:11]
    sns = make_client(endpoint, service="sns", access_key=account)
    arns = {sns.create_topic(Name=f"page-{i:03}")["TopicArn"] for i in range(105)}
    first = sns.list_topics()
    assert len(first["Topics"]) == 100 and "NextToken" in first
    second = sns.list_topics(NextToken=first["NextToken"])
    assert "NextToken" not in second
    assert {t["TopicArn"] for t in first["Topics"] + second["Topics"]} == arns
    paged = [t["TopicArn"] for page in sns.get_paginator("list_topics").paginate()
             for t in page["Topics"]]
    assert len(paged) == 105
    for arn in arns:
        sns.delete_topic(TopicArn=arn)


def test_subscription_crud_attributes_and_errors(sns, sqs, queue):
    arn = sns.create_topic(Name=unique())["TopicArn"]
    q_arn = queue.arn(queue())
    try:
        sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=q_arn)["SubscriptionArn"]
        assert sub.startswith(arn + ":")
        # Subscribing again is idempotent.
        assert sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=q_arn)["SubscriptionArn"] == sub
        attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        assert attrs["PendingConfirmation"] == "false"
        assert attrs["ConfirmationWasAuthenticated"] == "true"
        assert attrs["RawMessageDelivery"] == "false"
        assert (attrs["Protocol"], attrs["Endpoint"], attrs["TopicArn"], attrs["Owner"]) == (
            "sqs", q_arn, arn, DEFAULT_ACCOUNT)
        assert "FilterPolicy" not in attrs

        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                        AttributeValue=json.dumps({"color": ["red"]}))
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery",
                                        AttributeValue="True")
        attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        assert json.loads(attrs["FilterPolicy"]) == {"color": ["red"]}
        assert attrs["FilterPolicyScope"] == "MessageAttributes"
        assert attrs["RawMessageDelivery"] == "true"

        with pytest.raises(ClientError) as e:
            sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                            AttributeValue=json.dumps({"color": []}))
        assert error_of(e)["Code"] == "InvalidParameter"
        assert error_of(e)["Message"].startswith("Invalid parameter: FilterPolicy: ")
        with pytest.raises(ClientError) as e:
            sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicyScope",
                                            AttributeValue="Body")
        assert error_of(e)["Message"] == ("Invalid parameter: FilterPolicyScope: Invalid value "
                                          "[Body]. Please use either MessageBody or "
                                          "MessageAttributes")
        with pytest.raises(ClientError) as e:
            sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=q_arn,
                          Attributes={"RawMessageDelivery": "false"})
        assert error_of(e)["Message"] == ("Invalid parameter: Attributes Reason: Subscription "
                                          "already exists with different attributes")

        listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        assert listed == [{"SubscriptionArn": sub, "Owner": DEFAULT_ACCOUNT, "Protocol": "sqs",
                           "Endpoint": q_arn, "TopicArn": arn}]
        assert sub in [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]
        assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsConfirmed"] == "1"

        sns.unsubscribe(SubscriptionArn=sub)
        sns.unsubscribe(SubscriptionArn=sub)  # Idempotent.
        with pytest.raises(ClientError) as e:
            sns.get_subscription_attributes(SubscriptionArn=sub)
        assert (error_of(e)["Code"], error_of(e)["Message"]) == (
            "NotFound", "Subscription does not exist")
        assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    finally:
        sns.delete_topic(TopicArn=arn)


def test_subscribe_errors(sns):
    arn = sns.create_topic(Name=unique())["TopicArn"]
    try:
        cases = [
            ({"Protocol": "smtp", "Endpoint": "x"},
             "Invalid parameter: Amazon SNS does not support this protocol string: smtp"),
            ({"Protocol": "http", "Endpoint": "https://example.com"},
             "Invalid parameter: Endpoint must match the specified protocol"),
            ({"Protocol": "sqs", "Endpoint": "not-an-arn"}, "Invalid parameter: SQS endpoint ARN"),
            ({"Protocol": "sqs", "Endpoint": f"arn:aws:sqs:{REGION}:{DEFAULT_ACCOUNT}:q.fifo"},
             "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be "
             "subscribed to standard SNS topics"),
            ({"Protocol": "sqs", "Endpoint": f"arn:aws:sqs:{REGION}:{DEFAULT_ACCOUNT}:q",
              "Attributes": {"Nope": "1"}},
             "Invalid parameter: Attributes Reason: AttributeName"),
            ({"Protocol": "lambda",
              "Endpoint": f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT}:function:f",
              "Attributes": {"RawMessageDelivery": "true"}},
             "Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not support "
             "raw message delivery."),
        ]
        for kwargs, message in cases:
            with pytest.raises(ClientError) as e:
                sns.subscribe(TopicArn=arn, **kwargs)
            assert error_of(e)["Code"] == "InvalidParameter", kwargs
            assert error_of(e)["Message"] == message
        with pytest.raises(ClientError) as e:
            sns.subscribe(TopicArn=arn + "-missing", Protocol="sqs",
                          Endpoint=f"arn:aws:sqs:{REGION}:{DEFAULT_ACCOUNT}:q")
        assert error_of(e)["Code"] == "NotFound"
        with pytest.raises(ClientError) as e:
            sns.unsubscribe(SubscriptionArn="nope")
        assert error_of(e)["Message"] == ("Invalid parameter: SubscriptionArn Reason: An ARN "
                                          "must have at least 6 elements, not 1")
        assert sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"] == []
    finally:
        sns.delete_topic(TopicArn=arn)


def test_email_subscription_is_pending_until_confirmed(sns):
    arn = sns.create_topic(Name=unique())["TopicArn"]
    try:
        resp = sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="dev@example.com")
        assert resp["SubscriptionArn"] == "pending confirmation"
        listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        assert listed[0]["SubscriptionArn"] == "PendingConfirmation"
        attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        assert (attrs["SubscriptionsPending"], attrs["SubscriptionsConfirmed"]) == ("1", "0")
        with pytest.raises(ClientError) as e:
            sns.confirm_subscription(TopicArn=arn, Token="0" * 64)
        assert error_of(e)["Message"] == "Invalid parameter: Token"
    finally:
        sns.delete_topic(TopicArn=arn)


def test_not_implemented_operations_answer_501(sns):
    with pytest.raises(ClientError) as e:
        sns.list_platform_applications()
    assert status_of(e) == 501
    assert error_of(e)["Code"] == "NotImplemented"
