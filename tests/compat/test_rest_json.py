"""restJson1 requests (Lambda's protocol) are routed and decoded on the one port: URI templates,
labels (a function ARN percent-encoded in the path), query parameters, headers and the restJson1
error envelope botocore reads, including modeled error members.
"""
from __future__ import annotations

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import make_client


def test_lambda_errors_come_back_in_the_rest_json_envelope(endpoint):
    lam = make_client(endpoint, service="lambda")
    arn = "arn:aws:lambda:us-east-1:000000000000:function:no-such-fn"
    for call, kwargs in [
        (lam.get_function, {"FunctionName": "no-such-fn", "Qualifier": "1"}),
        (lam.invoke, {"FunctionName": arn, "Payload": b'{"a":1}', "InvocationType": "Event"}),
    ]:
        with pytest.raises(ClientError) as e:
            call(**kwargs)
        err = e.value.response["Error"]
        assert err["Code"] == "ResourceNotFoundException"
        assert "no-such-fn" in err["Message"]
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert e.value.response["ResponseMetadata"]["RequestId"]
    assert "Functions" in lam.list_functions()


def test_malformed_rest_json_body_gets_lambdas_400(endpoint):
    resp = requests.post(f"{endpoint}/2015-03-31/functions", data=b"{not json",
                         headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.headers["x-amzn-errortype"] == "InvalidRequestContentException"
