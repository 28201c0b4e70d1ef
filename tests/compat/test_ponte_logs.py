"""`ponte logs <function> [--follow]`: a function's CloudWatch Logs output read back through the
command line, as `aws logs tail` would show it."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from conftest import make_client, ponte_binary
from lambda_helpers import LAMBDA_CONFIG, FunctionFactory, invoke_json, unique


@pytest.fixture()
def functions(endpoint):
    f = FunctionFactory(make_client(endpoint, service="lambda", config=LAMBDA_CONFIG))
    yield f
    f.cleanup()


def ponte_logs(endpoint: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_REGION": "us-east-1"}
    return subprocess.run([str(ponte_binary()), "logs", *args, "--endpoint", endpoint],
                          capture_output=True, text=True, timeout=timeout, env=env)


def test_ponte_logs_prints_the_function_output_with_lambda_lines(endpoint, functions):
    name = unique("logs")
    functions(name)
    lam = functions.client
    resp, _ = invoke_json(lam, name, {"action": "print", "message": "hello from the function"})
    request_id = resp["ResponseMetadata"]["RequestId"]
    out = ponte_logs(endpoint, name)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(f"START RequestId: {request_id} Version: $LATEST" in l for l in lines)
    assert any("hello from the function" in l for l in lines)
    report = [l for l in lines if l.split(" ", 2)[-1].startswith(f"REPORT RequestId: {request_id}")]
    assert report and "Billed Duration:" in report[0] and "Memory Size: 128 MB" in report[0]
    # Each line: ISO timestamp, log stream, message.
    ts, stream, _ = lines[0].split(" ", 2)
    assert ts.endswith("Z") and "[$LATEST]" in stream
    # A filter pattern narrows the output.
    only = ponte_logs(endpoint, name, "--filter-pattern", '"hello from"')
    assert only.returncode == 0 and only.stdout.strip().count("\n") == 0
    assert "hello from the function" in only.stdout


def test_ponte_logs_follow_prints_new_events(endpoint, functions):
    name = unique("follow")
    functions(name)
    lam = functions.client
    invoke_json(lam, name, {"action": "print", "message": "first line"})
    proc = subprocess.Popen([str(ponte_binary()), "logs", name, "--follow", "--endpoint", endpoint],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        invoke_json(lam, name, {"action": "print", "message": "second line"})
        seen = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any("second line" in l for l in seen):
            seen.append(proc.stdout.readline())
        assert any("first line" in l for l in seen)
        assert any("second line" in l for l in seen)
        assert sum("first line" in l for l in seen) == 1  # nothing printed twice
    finally:
        proc.kill()
        proc.wait()


def test_ponte_logs_of_a_function_that_never_ran(endpoint):
    out = ponte_logs(endpoint, unique("never"))
    assert out.returncode != 0
    assert "does not exist" in out.stderr
