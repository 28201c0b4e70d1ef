"""SNS to HTTP endpoints and Lambda functions: the subscription confirmation flow against an
HTTP server the test runs, signed notifications verified against the certificate served at
SigningCertURL (SignatureVersion 1 and 2), raw delivery, retries ending in the subscription's
dead-letter queue (``--time-scale 60``), and the Lambda SNS event.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import urllib.request
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from conftest import make_client
from sqs_helpers import DEFAULT_ACCOUNT, drain, status_of, wait_until

# The keys of the string to sign, in order (AWS "Verifying the signatures of Amazon SNS
# messages"); Subject only when present.
NOTIFICATION_KEYS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
CONFIRMATION_KEYS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn",
                     "Type"]


class Sink:
    """A local HTTP endpoint that records every POST and answers with a status chosen per SNS
    message type."""

    def __init__(self, statuses: dict[str, int] | None = None):
        self.received: list[dict] = []
        self.statuses = statuses or {}
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                sink.received.append({"headers": headers, "body": body, "path": self.path})
                status = sink.statuses.get(headers.get("x-amz-sns-message-type", ""), 200)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sns"

    def of_type(self, kind: str) -> list[dict]:
        return [r for r in self.received if r["headers"].get("x-amz-sns-message-type") == kind]

    def wait(self, kind: str, count: int = 1, timeout: float = 20.0) -> list[dict]:
        return wait_until(lambda: len(self.of_type(kind)) >= count and self.of_type(kind),
                          timeout, what=f"{count} {kind} POST(s)")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def sink():
    s = Sink()
    yield s
    s.close()


def verify_signature(message: dict) -> None:
    """Verifies ``message`` exactly as AWS tells subscribers to."""
    keys = NOTIFICATION_KEYS if message["Type"] == "Notification" else CONFIRMATION_KEYS
    text = "".join(f"{k}\n{message[k]}\n" for k in keys if k in message)
    with urllib.request.urlopen(message["SigningCertURL"], timeout=5) as resp:
        assert resp.status == 200
        pem = resp.read()
    cert = x509.load_pem_x509_certificate(pem)
    digest = hashes.SHA256() if message["SignatureVersion"] == "2" else hashes.SHA1()
    cert.public_key().verify(base64.b64decode(message["Signature"]), text.encode(),
                             padding.PKCS1v15(), digest)


def confirm_http(sns, sink: Sink, topic_arn: str, **subscribe_kwargs) -> str:
    pending = sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=sink.url,
                            **subscribe_kwargs)
    assert pending["SubscriptionArn"] == "pending confirmation"
    confirmation = json.loads(sink.wait("SubscriptionConfirmation")[0]["body"])
    return sns.confirm_subscription(TopicArn=topic_arn,
                                    Token=confirmation["Token"])["SubscriptionArn"]


def test_http_confirmation_flow_and_signed_notifications(endpoint, sink):
    sns = make_client(endpoint, service="sns")
    topic = sns.create_topic(Name=f"h-{uuid.uuid4().hex[:12]}")["TopicArn"]
    try:
        resp = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=sink.url)
        assert resp["SubscriptionArn"] == "pending confirmation"
        post = sink.wait("SubscriptionConfirmation")[0]
        assert post["headers"]["x-amz-sns-topic-arn"] == topic
        assert post["headers"]["content-type"].startswith("text/plain")
        confirmation = json.loads(post["body"])
        assert confirmation["Type"] == "SubscriptionConfirmation"
        assert confirmation["TopicArn"] == topic
        assert confirmation["Message"] == (
            f"You have chosen to subscribe to the topic {topic}.\nTo confirm the subscription, "
            "visit the SubscribeURL included in this message.")
        assert confirmation["SubscribeURL"] == (
            f"{endpoint}/?Action=ConfirmSubscription&TopicArn={topic}"
            f"&Token={confirmation['Token']}")
        assert post["headers"]["x-amz-sns-message-id"] == confirmation["MessageId"]
        verify_signature(confirmation)

        listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert listed[0]["SubscriptionArn"] == "PendingConfirmation"
        # A subscriber confirms by visiting SubscribeURL: an unsigned GET.
        with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=5) as r:
            assert r.status == 200
            assert b"<SubscriptionArn>" in r.read()
        sub = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0]
        sub_arn = sub["SubscriptionArn"]
        assert sub_arn.startswith(topic + ":")
        attrs = sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
        assert attrs["PendingConfirmation"] == "false"
        assert attrs["ConfirmationWasAuthenticated"] == "false"
        assert json.loads(attrs["EffectiveDeliveryPolicy"])["healthyRetryPolicy"]["numRetries"] == 3

        message_id = sns.publish(TopicArn=topic, Message="hello", Subject="greeting",
                                 MessageAttributes={"k": {"DataType": "String",
                                                          "StringValue": "v"}})["MessageId"]
        post = sink.wait("Notification")[0]
        assert post["headers"]["x-amz-sns-message-id"] == message_id
        assert post["headers"]["x-amz-sns-subscription-arn"] == sub_arn
        assert post["headers"]["x-amz-sns-topic-arn"] == topic
        note = json.loads(post["body"])
        assert (note["Type"], note["Message"], note["Subject"]) == ("Notification", "hello",
                                                                    "greeting")
        assert note["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
        assert note["SignatureVersion"] == "1"
        verify_signature(note)

        sns.set_topic_attributes(TopicArn=topic, AttributeName="SignatureVersion",
                                 AttributeValue="2")
        sns.publish(TopicArn=topic, Message="no subject")
        note = json.loads(sink.wait("Notification", 2)[1]["body"])
        assert note["SignatureVersion"] == "2" and "Subject" not in note
        verify_signature(note)
        tampered = dict(note, Message="forged")
        with pytest.raises(Exception):
            verify_signature(tampered)

        sns.set_subscription_attributes(SubscriptionArn=sub_arn,
                                        AttributeName="RawMessageDelivery", AttributeValue="true")
        sns.publish(TopicArn=topic, Message="raw body")
        post = sink.wait("Notification", 3)[2]
        assert post["body"] == "raw body"
        assert post["headers"]["x-amz-sns-rawdelivery"] == "true"

        # The UnsubscribeURL in a notification works unsigned too.
        with urllib.request.urlopen(json.loads(sink.of_type("Notification")[0]["body"])
                                    ["UnsubscribeURL"], timeout=5) as r:
            assert r.status == 200
        assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    finally:
        sns.delete_topic(TopicArn=topic)


def test_failing_http_endpoint_retries_then_dead_letters(fast_server, fast_sqs, fast_queue):
    sns = make_client(fast_server.endpoint, service="sns")
    sink = Sink({"Notification": 500})
    topic = sns.create_topic(Name=f"dlq-{uuid.uuid4().hex[:12]}")["TopicArn"]
    try:
        dlq = fast_queue()
        dlq_arn = fast_queue.arn(dlq)
        sub = confirm_http(sns, sink, topic, Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})
        assert json.loads(sns.get_subscription_attributes(SubscriptionArn=sub)
                          ["Attributes"]["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn}
        message_id = sns.publish(TopicArn=topic, Message="doomed")["MessageId"]
        # First attempt plus the default 3 retries (20 s apart on AWS, 1/3 s at scale 60).
        dead = drain(fast_sqs, dlq, expected=1, timeout=60)
        envelope = json.loads(dead[0]["Body"])
        assert envelope["MessageId"] == message_id
        assert envelope["Message"] == "doomed"
        attempts = sink.of_type("Notification")
        assert len(attempts) == 4
        assert {a["headers"]["x-amz-sns-message-id"] for a in attempts} == {message_id}
    finally:
        sns.delete_topic(TopicArn=topic)
        sink.close()


def _function_zip() -> bytes:
    code = (
        "import json, os, urllib.request\n"
        "def handler(event, context):\n"
        "    req = urllib.request.Request(os.environ['SINK'], data=json.dumps(event).encode(),\n"
        "                                 method='POST', headers={'x-amz-sns-message-type': 'Event'})\n"
        "    urllib.request.urlopen(req, timeout=5).read()\n"
        "    return {'ok': True}\n"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", code)
    return buf.getvalue()


def test_lambda_subscription_receives_the_sns_event(endpoint, sink):
    lam = make_client(endpoint, service="lambda")
    name = f"sns-fn-{uuid.uuid4().hex[:10]}"
    try:
        fn = lam.create_function(
            FunctionName=name, Runtime="python3.12", Handler="index.handler",
            Role=f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/sns-test", Timeout=10,
            Code={"ZipFile": _function_zip()}, Environment={"Variables": {"SINK": sink.url}})
    except ClientError as e:
        if status_of(e) == 501:
            pytest.skip("the Lambda engine answers 501 NotImplemented")
        raise
    sns = make_client(endpoint, service="sns")
    topic = sns.create_topic(Name=f"l-{uuid.uuid4().hex[:12]}")["TopicArn"]
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if lam.get_function(FunctionName=name)["Configuration"].get("State") in (None,
                                                                                      "Active"):
                break
            time.sleep(0.2)
        sub = sns.subscribe(TopicArn=topic, Protocol="lambda",
                            Endpoint=fn["FunctionArn"])["SubscriptionArn"]
        message_id = sns.publish(TopicArn=topic, Message="to the function", Subject="s",
                                 MessageAttributes={"k": {"DataType": "Number",
                                                          "StringValue": "7"}})["MessageId"]
        event = json.loads(sink.wait("Event", timeout=60)[0]["body"])
        record = event["Records"][0]
        assert record["EventSource"] == "aws:sns"
        assert record["EventVersion"] == "1.0"
        assert record["EventSubscriptionArn"] == sub
        body = record["Sns"]
        assert (body["Type"], body["MessageId"], body["TopicArn"]) == ("Notification", message_id,
                                                                       topic)
        assert (body["Message"], body["Subject"]) == ("to the function", "s")
        assert body["MessageAttributes"] == {"k": {"Type": "Number", "Value": "7"}}
        assert "SigningCertUrl" in body and "UnsubscribeUrl" in body
        verify_signature({**body, "SigningCertURL": body["SigningCertUrl"]})
    finally:
        sns.delete_topic(TopicArn=topic)
        lam.delete_function(FunctionName=name)



@pytest.mark.slow
def test_undelivered_notification_survives_kill9_and_key_survives_restart(server_factory,
                                                                           tmp_path):
    """A notification whose endpoint is failing is retried after a kill -9 and restart, and is
    still verifiable: the signing key and certificate are kept in the data directory."""
    data_dir = tmp_path / "sns-restart"
    server = server_factory(data_dir=data_dir, time_scale=60, label="sns-restart")
    sns = make_client(server.endpoint, service="sns")
    sink = Sink({"Notification": 500})
    try:
        topic = sns.create_topic(Name="restart")["TopicArn"]
        # Ten retries 20 s apart on AWS: about 3 s of retrying at scale 60.
        policy = {"healthyRetryPolicy": {"numRetries": 10, "minDelayTarget": 20,
                                         "maxDelayTarget": 20}}
        confirm_http(sns, sink, topic, Attributes={"DeliveryPolicy": json.dumps(policy)})
        message_id = sns.publish(TopicArn=topic, Message="survivor")["MessageId"]
        sink.wait("Notification")
        server.kill9()
        sink.statuses["Notification"] = 200
        server.start()
        ok = wait_until(lambda: [r for r in sink.of_type("Notification")
                                 if json.loads(r["body"])["MessageId"] == message_id
                                 and len(sink.of_type("Notification")) >= 2], 30,
                        what="the notification after the restart")
        note = json.loads(ok[-1]["body"])
        assert note["Message"] == "survivor"
        verify_signature(note)
    finally:
        sink.close()
