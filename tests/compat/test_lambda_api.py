"""Lambda control plane through boto3: functions, versions, aliases, concurrency, event invoke
configs, recursion configs, permissions, tags, account settings, waiters, and AWS's errors.

Expected error codes and messages follow AWS (LocalStack's AWS-validated snapshots of
tests/aws/services/lambda_/test_lambda_api.py where they exist).
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from botocore.exceptions import ClientError

from conftest import make_client
from lambda_helpers import (ACCOUNT, LAMBDA_CONFIG, PYTHON_ZIP, REGION, ROLE, FunctionFactory,
                            unique, zip_files)


@pytest.fixture(scope="module")
def lam(endpoint):
    return make_client(endpoint, service="lambda", config=LAMBDA_CONFIG)


@pytest.fixture()
def functions(lam):
    f = FunctionFactory(lam)
    yield f
    f.cleanup()


def arn(name: str, qualifier: str | None = None) -> str:
    base = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def error(excinfo) -> tuple[str, str, int]:
    e = excinfo.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def test_create_get_list_update_delete(lam, functions):
    name = unique()
    created = functions(name, Description="first", Timeout=10, MemorySize=256,
                        Environment={"Variables": {"MY_VAR": "hello"}},
                        Tags={"team": "core"})
    sha = base64.b64encode(hashlib.sha256(PYTHON_ZIP).digest()).decode()
    assert created["FunctionName"] == name
    assert created["FunctionArn"] == arn(name)
    assert created["CodeSha256"] == sha
    assert created["CodeSize"] == len(PYTHON_ZIP)
    assert created["State"] == "Pending"
    assert created["Version"] == "$LATEST"
    assert (created["Timeout"], created["MemorySize"]) == (10, 256)
    assert created["PackageType"] == "Zip"
    assert created["Architectures"] == ["x86_64"]
    assert created["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert created["TracingConfig"] == {"Mode": "PassThrough"}
    assert created["EphemeralStorage"] == {"Size": 512}
    # Lambda's own timestamp format, e.g. 2024-01-01T00:00:00.000+0000.
    assert created["LastModified"].endswith("+0000") and "T" in created["LastModified"]

    got = lam.get_function(FunctionName=name)
    assert got["Configuration"]["State"] == "Active"
    assert got["Configuration"]["LastUpdateStatus"] == "Successful"
    assert got["Configuration"]["Environment"] == {"Variables": {"MY_VAR": "hello"}}
    assert got["Code"]["RepositoryType"] == "S3" and got["Code"]["Location"].startswith("http")
    assert got["Tags"] == {"team": "core"}
    # The same function by partial and full ARN.
    for ref in (f"{ACCOUNT}:function:{name}", arn(name)):
        assert lam.get_function_configuration(FunctionName=ref)["FunctionName"] == name

    listed = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert name in listed
    first = lam.list_functions(MaxItems=1)
    assert len(first["Functions"]) == 1
    if len(listed) > 1:
        assert "NextMarker" in first
        second = lam.list_functions(MaxItems=1, Marker=first["NextMarker"])
        assert second["Functions"][0]["FunctionName"] != first["Functions"][0]["FunctionName"]

    updated = lam.update_function_configuration(FunctionName=name, Timeout=20,
                                                Description="second")
    assert updated["Timeout"] == 20 and updated["RevisionId"] != created["RevisionId"]
    lam.get_waiter("function_updated_v2").wait(FunctionName=name,
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    new_zip = zip_files({"app.py": "def handler(e, c):\n    return 'v2'\n"})
    code = lam.update_function_code(FunctionName=name, ZipFile=new_zip)
    assert code["CodeSha256"] == base64.b64encode(hashlib.sha256(new_zip).digest()).decode()
    assert lam.get_function_configuration(FunctionName=name)["Description"] == "second"

    lam.delete_function(FunctionName=name)
    functions.names.remove(name)
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=name)
    assert error(e) == ("ResourceNotFoundException", f"Function not found: {arn(name)}", 404)


def test_create_errors(lam, functions):
    name = unique()
    functions(name)
    with pytest.raises(ClientError) as e:
        functions(name)
    assert error(e) == ("ResourceConflictException", f"Function already exist: {name}", 409)

    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName=unique(), Runtime="python3.7", Handler="app.handler",
                            Role=ROLE, Code={"ZipFile": PYTHON_ZIP})
    code, msg, status = error(e)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert msg.startswith("The runtime parameter of python3.7 is no longer supported")

    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName=unique(), Runtime="python3.12", Handler="app.handler",
                            Role="not-a-role", Code={"ZipFile": PYTHON_ZIP})
    code, msg, _ = error(e)
    assert code == "ValidationException" and "at 'role' failed to satisfy constraint" in msg

    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName=unique(), Runtime="python3.12", Handler="app.handler",
                            Role=ROLE, Code={"ZipFile": PYTHON_ZIP}, Timeout=901)
    assert error(e)[:2] == ("ValidationException",
                            "1 validation error detected: Value '901' at 'timeout' failed to "
                            "satisfy constraint: Member must have value less than or equal to 900")

    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName=unique(), Runtime="python3.12", Handler="app.handler",
                            Role=ROLE, Code={"ZipFile": PYTHON_ZIP},
                            Environment={"Variables": {"AWS_REGION": "eu-west-1"}})
    code, msg, _ = error(e)
    assert code == "InvalidParameterValueException"
    assert msg.endswith("Reserved keys used in this request: AWS_REGION")

    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName=unique(), Runtime="python3.12", Handler="app.handler",
                            Role=ROLE, Code={"ZipFile": PYTHON_ZIP},
                            Environment={"Variables": {"BIG": "x" * 5000}})
    assert "exceeded the 4KB limit" in error(e)[1]

    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName=unique(), Runtime="python3.12", Handler="app.handler",
                            Role=ROLE, Code={"S3Bucket": "my-bucket", "S3Key": "fn.zip"})
    code, msg, _ = error(e)
    assert code == "InvalidParameterValueException" and "S3" in msg

    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName=unique(), Runtime="python3.12", Handler="app.handler",
                            Role=ROLE, Code={"ZipFile": b"this is not a zip"})
    assert error(e)[:2] == ("InvalidParameterValueException",
                            "Could not unzip uploaded file. Please check your file, then try to "
                            "upload again.")

    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName="arn:aws:lambda:eu-west-1:000000000000:function:x")
    assert error(e)[:2] == ("ResourceNotFoundException",
                            "Functions from 'eu-west-1' are not reachable in this region "
                            "('us-east-1')")
    # Nothing was created by the failed calls.
    names = {f["FunctionName"] for f in lam.list_functions(MaxItems=1000)["Functions"]}
    assert name in names


def test_versions_and_aliases(lam, functions):
    name = unique()
    functions(name)
    v1 = lam.publish_version(FunctionName=name, Description="one")
    assert (v1["Version"], v1["FunctionArn"], v1["Description"]) == ("1", arn(name, "1"), "one")
    # Unchanged since the last publish: the same version again.
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    lam.get_waiter("published_version_active").wait(FunctionName=name, Qualifier="1",
                                                    WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    lam.update_function_configuration(FunctionName=name, Timeout=7)
    with pytest.raises(ClientError) as e:
        lam.publish_version(FunctionName=name, RevisionId="stale")
    assert error(e)[0] == "PreconditionFailedException"
    with pytest.raises(ClientError) as e:
        lam.publish_version(FunctionName=name, CodeSha256="nope")
    assert error(e)[0] == "InvalidParameterValueException"
    v2 = lam.publish_version(FunctionName=name)
    assert v2["Version"] == "2" and v2["Timeout"] == 7
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "1", "2"]
    assert lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]["Timeout"] == 3

    alias = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1",
                             RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}})
    assert alias["AliasArn"] == arn(name, "live")
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    assert error(e) == ("ResourceConflictException",
                        f"Alias already exists: {arn(name, 'live')}", 409)
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="two", FunctionVersion="1",
                         RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
    assert error(e)[0] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as e:
        lam.create_alias(FunctionName=name, Name="bad", FunctionVersion="9")
    assert error(e)[0] == "ResourceNotFoundException"
    # Qualified reads through the alias: the configuration of version 1, the alias's ARN.
    conf = lam.get_function_configuration(FunctionName=name, Qualifier="live")
    assert (conf["Version"], conf["FunctionArn"]) == ("1", arn(name, "live"))
    with pytest.raises(ClientError) as e:
        lam.get_function_configuration(FunctionName=f"{name}:live", Qualifier="1")
    assert error(e)[:2] == ("InvalidParameterValueException",
                            "The derived qualifier from the function name does not match the "
                            "specified qualifier.")
    upd = lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2",
                           RoutingConfig={"AdditionalVersionWeights": {}})
    assert upd["FunctionVersion"] == "2" and "RoutingConfig" not in upd
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["live"]
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=name, Qualifier="2")
    assert error(e)[0] == "ResourceConflictException"
    lam.delete_alias(FunctionName=name, Name="live")
    with pytest.raises(ClientError) as e:
        lam.get_alias(FunctionName=name, Name="live")
    assert error(e) == ("ResourceNotFoundException",
                        f"Cannot find alias arn: {arn(name, 'live')}", 404)
    lam.delete_function(FunctionName=name, Qualifier="1")
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]]
    assert versions == ["$LATEST", "2"]
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName=name, Qualifier="$LATEST")
    assert error(e)[0] == "InvalidParameterValueException"


def test_concurrency_recursion_and_account_settings(lam, functions):
    name = unique()
    functions(name)
    assert lam.get_function_concurrency(FunctionName=name).get(
        "ReservedConcurrentExecutions") is None
    assert lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=5)[
        "ReservedConcurrentExecutions"] == 5
    assert lam.get_function(FunctionName=name)["Concurrency"] == {
        "ReservedConcurrentExecutions": 5}
    settings = lam.get_account_settings()
    limit = settings["AccountLimit"]
    assert limit["ConcurrentExecutions"] >= limit["UnreservedConcurrentExecutions"] + 5
    assert settings["AccountUsage"]["FunctionCount"] >= 1
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=100000)
    assert "UnreservedConcurrentExecution below its minimum value" in error(e)[1]
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName=f"{name}:1", ReservedConcurrentExecutions=1)
    assert error(e)[0] == "InvalidParameterValueException"
    lam.delete_function_concurrency(FunctionName=name)
    assert "Concurrency" not in lam.get_function(FunctionName=name)

    assert lam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Terminate"
    assert lam.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")[
        "RecursiveLoop"] == "Allow"
    assert lam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Allow"


def test_event_invoke_configs(lam, functions, queue):
    name = unique()
    functions(name)
    other = unique()
    functions(other)
    q = queue()
    q_arn = queue.arn(q)
    cfg = lam.put_function_event_invoke_config(
        FunctionName=name, MaximumRetryAttempts=1, MaximumEventAgeInSeconds=120,
        DestinationConfig={"OnFailure": {"Destination": q_arn},
                           "OnSuccess": {"Destination": arn(other)}})
    assert cfg["FunctionArn"] == arn(name, "$LATEST")
    assert (cfg["MaximumRetryAttempts"], cfg["MaximumEventAgeInSeconds"]) == (1, 120)
    assert cfg["DestinationConfig"]["OnFailure"] == {"Destination": q_arn}
    got = lam.get_function_event_invoke_config(FunctionName=name)
    assert got["DestinationConfig"] == cfg["DestinationConfig"]
    upd = lam.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    assert upd["MaximumRetryAttempts"] == 0 and upd["MaximumEventAgeInSeconds"] == 120
    listed = lam.list_function_event_invoke_configs(FunctionName=name)
    assert [c["FunctionArn"] for c in listed["FunctionEventInvokeConfigs"]] == [
        arn(name, "$LATEST")]

    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=3)
    assert error(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(
            FunctionName=name, DestinationConfig={"OnFailure": {"Destination": arn(name)}})
    assert error(e)[:2] == ("InvalidParameterValueException",
                            "You can't specify the function as a destination for itself.")
    with pytest.raises(ClientError) as e:
        lam.put_function_event_invoke_config(FunctionName=name)
    assert error(e)[:2] == ("InvalidParameterValueException",
                            "You must specify at least one of error handling or destination "
                            "setting.")
    lam.delete_function_event_invoke_config(FunctionName=name)
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName=name)
    assert error(e) == ("ResourceNotFoundException",
                        f"The function {arn(name, '$LATEST')} doesn't have an EventInvokeConfig",
                        404)


def test_permissions_and_tags(lam, functions):
    name = unique()
    functions(name)
    st = lam.add_permission(FunctionName=name, StatementId="sns", Action="lambda:InvokeFunction",
                            Principal="sns.amazonaws.com",
                            SourceArn="arn:aws:sns:us-east-1:000000000000:topic")
    statement = json.loads(st["Statement"])
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Resource"] == arn(name)
    assert statement["Condition"] == {
        "ArnLike": {"AWS:SourceArn": "arn:aws:sns:us-east-1:000000000000:topic"}}
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName=name, StatementId="sns",
                           Action="lambda:InvokeFunction", Principal="sns.amazonaws.com")
    assert error(e) == ("ResourceConflictException",
                        "The statement id (sns) provided already exists. Please provide a new "
                        "statement id, or remove the existing statement.", 409)
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["sns"]
    lam.remove_permission(FunctionName=name, StatementId="sns")
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName=name)
    assert error(e)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        lam.remove_permission(FunctionName=name, StatementId="sns")
    assert error(e)[0] == "ResourceNotFoundException"

    lam.tag_resource(Resource=arn(name), Tags={"a": "1", "b": "2"})
    lam.untag_resource(Resource=arn(name), TagKeys=["a"])
    assert lam.list_tags(Resource=arn(name))["Tags"] == {"b": "2"}
    with pytest.raises(ClientError) as e:
        lam.tag_resource(Resource=arn(name, "1"), Tags={"a": "1"})
    assert error(e)[0] == "InvalidParameterValueException"


def test_waiters_and_unknown_functions(lam, functions):
    name = unique()
    with pytest.raises(ClientError) as e:
        lam.get_function_configuration(FunctionName=name)
    assert error(e)[:2] == ("ResourceNotFoundException", f"Function not found: {arn(name)}")
    functions(name)
    lam.get_waiter("function_exists").wait(FunctionName=name,
                                           WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    lam.get_waiter("function_active").wait(FunctionName=name,
                                           WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName=unique())
    assert error(e)[0] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName=name, Qualifier="nope")
    assert error(e)[:2] == ("ResourceNotFoundException",
                            f"Function not found: {arn(name, 'nope')}")
