"""Helpers shared by the Lambda compatibility tests: packaging the test functions under
``tests/compat/functions/`` as zips, creating functions that are deleted after the test, and
polling queues for what functions and destinations send.

Nothing here talks to a particular server; fixtures pass clients in.
"""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from pathlib import Path

from botocore.config import Config

FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
REGION = "us-east-1"
ACCOUNT = "000000000000"

# Lambda clients: no retries (a 429 must reach the test), long reads (sync invokes wait for
# the function).
LAMBDA_CONFIG = Config(
    retries={"max_attempts": 1, "mode": "standard"},
    connect_timeout=5,
    read_timeout=120,
    parameter_validation=True,
)


def zip_dir(sub: str) -> bytes:
    """Zips ``functions/<sub>/`` with Unix modes (``bootstrap`` executable)."""
    root = FUNCTIONS_DIR / sub
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob("*")):
            if path.is_dir() or "__pycache__" in path.parts:
                continue
            info = zipfile.ZipInfo(str(path.relative_to(root)))
            mode = 0o755 if path.name == "bootstrap" else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def zip_files(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | 0o644) << 16
            zf.writestr(info, data)
    return buf.getvalue()


PYTHON_ZIP = zip_dir("python")
NODE_ZIP = zip_dir("node")
PROVIDED_ZIP = zip_dir("provided")


def unique(prefix: str = "fn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class FunctionFactory:
    """Creates functions (python by default) and deletes them when the test ends."""

    def __init__(self, client):
        self.client = client
        self.names: list[str] = []

    def __call__(self, name: str | None = None, *, runtime: str = "python3.12",
                 handler: str = "app.handler", zip_bytes: bytes | None = None,
                 **kwargs) -> dict:
        name = name or unique()
        if zip_bytes is None:
            zip_bytes = {"python": PYTHON_ZIP, "nodejs": NODE_ZIP}.get(
                "python" if runtime.startswith("python") else
                "nodejs" if runtime.startswith("nodejs") else "provided", PROVIDED_ZIP)
        out = self.client.create_function(
            FunctionName=name, Runtime=runtime, Handler=handler, Role=ROLE,
            Code={"ZipFile": zip_bytes}, **kwargs)
        self.names.append(name)
        self.client.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        return out

    def cleanup(self) -> None:
        for name in reversed(self.names):
            try:
                self.client.delete_function(FunctionName=name)
            except Exception:  # noqa: BLE001 - server may be gone (crash tests)
                pass
        self.names.clear()


def invoke_json(client, name: str, event, **kwargs) -> tuple[dict, object]:
    """Invokes synchronously; returns (response, decoded payload)."""
    resp = client.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **kwargs)
    body = resp["Payload"].read()
    return resp, (json.loads(body) if body else None)


def drain(sqs, url: str, want: int, timeout: float = 60.0, delete: bool = True) -> list[dict]:
    """Receives until ``want`` messages arrived (or the timeout passes)."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                   MessageAttributeNames=["All"],
                                   MessageSystemAttributeNames=["All"])
        for m in resp.get("Messages", []):
            got.append(m)
            if delete:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


def queue_arn(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]


def count(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                      "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"])
