"""A Rust function on the official runtime client (the `lambda_runtime` crate of awslabs'
aws-lambda-rust-runtime) running on Ponte as `provided.al2023`: sync results, a handler `Err`
as an `Unhandled` function error, its output in CloudWatch Logs, and an async invoke reaching
an on-success destination.

The function (``functions/rust_echo``, a standalone Cargo project with a committed lock file)
is built once per session into ``<repo>/target/compat-rust-fn``, so repeated runs reuse it and
nothing lands in the work tree. Without ``cargo`` on PATH the tests are skipped; a failing build
fails them."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import time
import zipfile

import pytest

from conftest import REPO_ROOT, make_client
from lambda_helpers import (ACCOUNT, FUNCTIONS_DIR, LAMBDA_CONFIG, REGION, FunctionFactory,
                            drain, invoke_json, unique)

PROJECT = FUNCTIONS_DIR / "rust_echo"
TARGET_DIR = REPO_ROOT / "target" / "compat-rust-fn"
BUILD_TIMEOUT = 900

# The first test also pays for a cold build of the function (about a minute on 2 cores).
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT + 240)


@pytest.fixture(scope="session")
def rust_zip() -> bytes:
    """Builds the function (dev profile, see its Cargo.toml) and zips it as ``bootstrap``."""
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo is not on PATH: cannot build the Rust test function")
    env = dict(os.environ, CARGO_TARGET_DIR=str(TARGET_DIR))
    cmd = [cargo, "build", "--locked", "--manifest-path", str(PROJECT / "Cargo.toml")]
    try:
        done = subprocess.run(cmd, env=env, cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(cmd)}` did not finish in {BUILD_TIMEOUT}s", pytrace=False)
    if done.returncode != 0:
        pytest.fail(f"`{' '.join(cmd)}` failed ({done.returncode}):\n{done.stderr[-6000:]}",
                    pytrace=False)
    binary = TARGET_DIR / "debug" / "bootstrap"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = (0o100000 | 0o755) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, binary.read_bytes())
    return buf.getvalue()


@pytest.fixture(scope="module")
def lam(endpoint):
    return make_client(endpoint, service="lambda", config=LAMBDA_CONFIG)


@pytest.fixture(scope="module")
def logs(endpoint):
    return make_client(endpoint, service="logs")


@pytest.fixture()
def rust_function(lam, rust_zip):
    """Creates ``provided.al2023`` functions running the Rust binary; deleted afterwards."""
    factory = FunctionFactory(lam)

    def create(**kwargs) -> str:
        name = unique("rust")
        factory(name, runtime="provided.al2023", handler="bootstrap", zip_bytes=rust_zip,
                **kwargs)
        return name

    yield create
    factory.cleanup()


def log_messages(logs, name: str, needles: list[str], timeout: float = 30.0) -> list[str]:
    """Polls ``/aws/lambda/<name>`` until every needle appears in some event (or the timeout
    passes); returns all messages seen."""
    deadline = time.monotonic() + timeout
    messages: list[str] = []
    while True:
        try:
            events = []
            kwargs = {"logGroupName": f"/aws/lambda/{name}"}
            while True:
                page = logs.filter_log_events(**kwargs)
                events += page.get("events", [])
                if not page.get("nextToken"):
                    break
                kwargs["nextToken"] = page["nextToken"]
            messages = [e["message"] for e in events]
        except logs.exceptions.ResourceNotFoundException:
            messages = []
        if all(any(n in m for m in messages) for n in needles) or time.monotonic() > deadline:
            return messages
        time.sleep(0.5)


def test_rust_runtime_result_function_error_and_logs(lam, logs, rust_function):
    name = rust_function()
    resp, out = invoke_json(lam, name, {"hello": "rust", "n": [1, 2]})
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp, out
    ok_id = resp["ResponseMetadata"]["RequestId"]
    assert out["event"] == {"hello": "rust", "n": [1, 2]}
    # What the runtime client read from Ponte: headers of /next and the environment.
    assert out["requestId"] == ok_id
    assert out["functionName"] == name
    assert out["memory"] == 128
    assert out["version"] == "$LATEST"
    # Exact value: see test_rust_runtime_invoked_function_arn_is_the_arn_used_to_invoke.
    assert out["invokedFunctionArn"].startswith(
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")
    assert abs(out["deadlineMs"] - (time.time() + 3) * 1000) < 3000  # Default timeout 3 s.

    # The handler returns Err: the runtime client posts it to /invocation/<id>/error.
    resp, out = invoke_json(lam, name, {"action": "error", "message": "bad input"},
                            LogType="Tail")
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    assert resp["ResponseMetadata"]["HTTPHeaders"]["x-amz-function-error"] == "Unhandled"
    assert out["errorType"] == "EchoError"
    assert out["errorMessage"] == "bad input"
    err_id = resp["ResponseMetadata"]["RequestId"]
    tail = base64.b64decode(resp["LogResult"]).decode()
    assert f"RUST-ECHO-STDOUT {err_id}" in tail
    assert f"REPORT RequestId: {err_id}" in tail

    # An error does not kill the process: the same instance serves the next call.
    resp, out = invoke_json(lam, name, {"again": True})
    assert "FunctionError" not in resp and out["event"] == {"again": True}

    # stdout and stderr of the process reach CloudWatch Logs with the platform lines.
    needles = [f"RUST-ECHO-STDOUT {ok_id}", f"RUST-ECHO-STDERR {ok_id}",
               f"RUST-ECHO-STDOUT {err_id}", f"START RequestId: {ok_id}",
               f"REPORT RequestId: {ok_id}"]
    messages = log_messages(logs, name, needles)
    missing = [n for n in needles if not any(n in m for m in messages)]
    assert not missing, (missing, messages)
    [line] = [m for m in messages if f"RUST-ECHO-STDOUT {ok_id}" in m]
    assert json.loads(line.split(ok_id, 1)[1]) == {"hello": "rust", "n": [1, 2]}
    # filterPattern works on the function's own lines too.
    found = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}",
                                   filterPattern="RUST-ECHO-STDERR")["events"]
    assert {e["message"].strip() for e in found} >= {f"RUST-ECHO-STDERR {ok_id}"}


def test_rust_runtime_invoked_function_arn_is_the_arn_used_to_invoke(lam, rust_function):
    name = rust_function()
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    seen = {}
    for qualifier in (None, "live", version):
        kwargs = {"Qualifier": qualifier} if qualifier else {}
        resp, out = invoke_json(lam, name, {}, **kwargs)
        assert "FunctionError" not in resp, out
        seen[qualifier] = out["invokedFunctionArn"]
    assert seen == {None: arn, "live": f"{arn}:live", version: f"{arn}:{version}"}


def test_rust_runtime_async_invoke_on_success_destination(lam, rust_function, sqs, queue):
    ok = queue()
    name = rust_function()
    lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=0,
        DestinationConfig={"OnSuccess": {"Destination": queue.arn(ok)}})
    resp = lam.invoke(FunctionName=name, InvocationType="Event",
                      Payload=json.dumps({"async": "rust"}).encode())
    assert resp["StatusCode"] == 202
    request_id = resp["ResponseMetadata"]["RequestId"]
    records = [json.loads(m["Body"]) for m in drain(sqs, ok, 1, timeout=60)]
    assert len(records) == 1
    [record] = records
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["functionArn"].endswith(f":function:{name}:$LATEST")
    assert record["requestPayload"] == {"async": "rust"}
    assert record["responseContext"]["statusCode"] == 200
    assert record["responsePayload"]["event"] == {"async": "rust"}
    assert record["responsePayload"]["requestId"] == request_id
