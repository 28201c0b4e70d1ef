#!/usr/bin/env python3
"""Quick end-to-end figures through boto3 against a running Ponte (default
http://127.0.0.1:4566): SQS event source mapping drain rate, PutEvents, SNS Publish with and
without a subscription, SQS SendMessage. boto3 costs about 1.3 ms per call, so the figures are
client-bound lower bounds. Usage: bench/quick_e2e.py [ENDPOINT]  (run with the project venv)."""

import io
import json
import sys
import time
import uuid
import zipfile

import boto3

ENDPOINT = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4566"
KW = dict(endpoint_url=ENDPOINT, region_name="us-east-1",
          aws_access_key_id="test", aws_secret_access_key="test")
sqs, sns, ev, lam = (boto3.client(s, **KW) for s in ("sqs", "sns", "events", "lambda"))
tag = uuid.uuid4().hex[:8]


def rate(label, n, fn):
    t0 = time.time()
    for i in range(n):
        fn(i)
    print(f"{label}: {n / (time.time() - t0):.0f}/s")


def queue(name):
    url = sqs.create_queue(QueueName=f"{name}-{tag}")["QueueUrl"]
    return url, f"arn:aws:sqs:us-east-1:000000000000:{name}-{tag}"


# Event source mapping drain.
url, arn = queue("esm")
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("app.py", 'def handler(e, c):\n    return {"n": len(e["Records"])}\n')
fn = f"drain-{tag}"
lam.create_function(FunctionName=fn, Runtime="python3.12", Handler="app.handler",
                    Role="arn:aws:iam::000000000000:role/r", Code={"ZipFile": buf.getvalue()})
N = 2000
for i in range(0, N, 10):
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(j), "MessageBody": f"m{i + j}"} for j in range(10)])
t0 = time.time()
lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn, BatchSize=10)
while True:
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    if a["ApproximateNumberOfMessages"] == "0" and a["ApproximateNumberOfMessagesNotVisible"] == "0":
        break
    time.sleep(0.05)
print(f"event source mapping drain, batch 10: {N / (time.time() - t0):.0f} msgs/s")

# PutEvents → SQS.
url, arn = queue("events")
ev.put_rule(Name=f"r-{tag}", EventPattern=json.dumps({"source": ["bench"]}))
ev.put_targets(Rule=f"r-{tag}", Targets=[{"Id": "1", "Arn": arn}])
rate("PutEvents, 1 entry, 1 matching rule", 300, lambda i: ev.put_events(
    Entries=[{"Source": "bench", "DetailType": "d", "Detail": "{}"}]))

# SNS.
topic = sns.create_topic(Name=f"t-{tag}")["TopicArn"]
rate("SNS Publish, no subscriptions", 300, lambda i: sns.publish(TopicArn=topic, Message=f"x{i}"))
url, arn = queue("sns")
sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
rate("SNS Publish, 1 SQS subscription (signed envelope)", 300,
     lambda i: sns.publish(TopicArn=topic, Message=f"x{i}"))
rate("SQS SendMessage", 300, lambda i: sqs.send_message(QueueUrl=url, MessageBody="x"))
