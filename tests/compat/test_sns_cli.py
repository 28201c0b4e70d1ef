"""Email subscriptions end to end through `ponte sns messages`: Ponte sends no mail, it records
the confirmation and the notifications; the confirmation's SubscribeURL (a plain GET, as in the
mail AWS sends) confirms the subscription."""

from __future__ import annotations

import json
import subprocess
import urllib.request
import uuid

from conftest import make_client, ponte_binary


def messages(endpoint: str, to: str) -> list[dict]:
    out = subprocess.run([str(ponte_binary()), "sns", "messages", "--to", to, "--json",
                          "--endpoint", endpoint], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_email_confirmation_and_notification_are_visible_through_the_cli(endpoint):
    sns = make_client(endpoint, service="sns")
    address = f"dev-{uuid.uuid4().hex[:8]}@example.com"
    topic = sns.create_topic(Name=f"mail-{uuid.uuid4().hex[:8]}")["TopicArn"]
    try:
        assert sns.subscribe(TopicArn=topic, Protocol="email",
                             Endpoint=address)["SubscriptionArn"] == "pending confirmation"
        [confirmation] = messages(endpoint, address)
        assert confirmation["kind"] == "SubscriptionConfirmation"
        subscribe_url = json.loads(confirmation["body"])["SubscribeURL"] \
            if confirmation["body"].lstrip().startswith("{") else \
            next(w for w in confirmation["body"].split() if "Action=ConfirmSubscription" in w)
        with urllib.request.urlopen(subscribe_url, timeout=10) as r:
            assert r.status == 200
        [sub] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert sub["SubscriptionArn"].startswith(topic + ":")
        sns.publish(TopicArn=topic, Subject="Order shipped", Message="Your order is on its way")
        for _ in range(100):
            got = messages(endpoint, address)
            if len(got) == 2:
                break
        notification = got[-1]
        assert notification["kind"] == "Notification"
        assert notification["subject"] == "Order shipped"
        assert "Your order is on its way" in notification["body"]
        # The human-readable listing prints the same.
        text = subprocess.run([str(ponte_binary()), "sns", "messages", "--to", address,
                               "--endpoint", endpoint], capture_output=True, text=True,
                              timeout=30).stdout
        assert "Notification to " + address in text and "Your order is on its way" in text
    finally:
        sns.delete_topic(TopicArn=topic)
