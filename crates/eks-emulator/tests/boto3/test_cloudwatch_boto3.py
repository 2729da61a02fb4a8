"""boto3 against the CloudWatch stand-in served beside EKS (DescribeAlarms), in each wire
protocol of the CloudWatch model: the installed botocore's choice (awsJson1_0 for 1.44),
Smithy RPC v2 CBOR and awsQuery (the model's protocol forced)."""

import copy
import datetime
import json

import boto3
import botocore.exceptions
import botocore.session
import pytest
from botocore.config import Config

from conftest import _url, admin, make_client


def forced(protocol, tmp_path):
    """A CloudWatch client whose service model speaks only `protocol`."""
    loader = botocore.session.get_session().get_component("data_loader")
    model = copy.deepcopy(loader.load_service_model("cloudwatch", "service-2"))
    model["metadata"]["protocols"] = [protocol]
    model["metadata"]["protocol"] = protocol
    folder = tmp_path / "cloudwatch" / model["metadata"]["apiVersion"]
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(tmp_path))
    client = boto3.session.Session(botocore_session=session).client(
        "cloudwatch", endpoint_url=_url(), region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    assert client.meta.service_model.resolved_protocol == protocol
    return client


@pytest.fixture(autouse=True)
def alarms():
    assert admin("POST", "/_emulator/alarms", {"name": "api-5xx", "state": "ALARM", "reason": "Threshold Crossed"})[0] == 200
    assert admin("POST", "/_emulator/alarms", {"name": "api-latency", "state": "OK"})[0] == 200
    status, _ = admin("POST", "/_emulator/seed", {"alarms": [{"name": "db-cpu", "state": "INSUFFICIENT_DATA"}]})
    assert status == 200


def check_describe_alarms(cw):
    out = cw.describe_alarms(AlarmNames=["api-5xx", "no-such-alarm"])
    assert out["CompositeAlarms"] == []
    [a] = out["MetricAlarms"]
    assert a["AlarmName"] == "api-5xx"
    assert a["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:api-5xx"
    assert (a["StateValue"], a["StateReason"]) == ("ALARM", "Threshold Crossed")
    assert isinstance(a["StateUpdatedTimestamp"], datetime.datetime)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((a["StateUpdatedTimestamp"] - now).total_seconds()) < 60
    assert a["Threshold"] == 1.0 and a["Period"] == 60
    names = [a["AlarmName"] for a in cw.describe_alarms(AlarmNamePrefix="api-")["MetricAlarms"]]
    assert names == ["api-5xx", "api-latency"]
    assert [a["AlarmName"] for a in cw.describe_alarms(StateValue="INSUFFICIENT_DATA")["MetricAlarms"]] == ["db-cpu"]
    pages = list(cw.get_paginator("describe_alarms").paginate(PaginationConfig={"PageSize": 1}))
    assert [p["MetricAlarms"][0]["AlarmName"] for p in pages] == ["api-5xx", "api-latency", "db-cpu"]
    with pytest.raises(cw.exceptions.InvalidNextToken) as e:
        cw.describe_alarms(NextToken="garbage")
    assert e.value.response["Error"]["Code"] == "InvalidNextToken"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.describe_alarms(MaxRecords=101)
    assert e.value.response["Error"]["Code"] == "ValidationError"


def test_describe_alarms_default_protocol():
    cw = make_client("cloudwatch", attempts=1)
    assert cw.meta.service_model.resolved_protocol == "json"
    check_describe_alarms(cw)


@pytest.mark.parametrize("protocol", ["smithy-rpc-v2-cbor", "query", "json"])
def test_describe_alarms_every_protocol(protocol, tmp_path):
    check_describe_alarms(forced(protocol, tmp_path))


def test_unknown_operations_and_endpoint_variable(tmp_path, monkeypatch):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        make_client("cloudwatch", attempts=1).list_dashboards()
    assert e.value.response["Error"]["Code"] == "UnknownOperationException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        forced("query", tmp_path).list_dashboards()
    assert e.value.response["Error"]["Code"] == "InvalidAction"
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", _url())
    cw = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    assert cw.describe_alarms(AlarmNames=["db-cpu"])["MetricAlarms"][0]["StateValue"] == "INSUFFICIENT_DATA"


def test_alarms_admin_api_and_reset():
    status, body = admin("POST", "/_emulator/alarms", {"name": "api-5xx", "state": "OK", "reason": "recovered"})
    assert (status, body["state"], body["reason"]) == (200, "OK", "recovered")
    assert admin("POST", "/_emulator/alarms", {"name": "x", "state": "RED"})[0] == 400
    assert sorted(a["name"] for a in admin("GET", "/_emulator/alarms")[1]["alarms"]) == ["api-5xx", "api-latency", "db-cpu"]
    admin("POST", "/_emulator/reset", {"applyStartupSeed": False})
    assert admin("GET", "/_emulator/alarms")[1]["alarms"] == []


@pytest.mark.parametrize("protocol", ["default", "smithy-rpc-v2-cbor", "query", "json"])
def test_composite_alarms_need_describe_alarms_on_every_alarm(protocol, tmp_path):
    cw = make_client("cloudwatch", attempts=1) if protocol == "default" else forced(protocol, tmp_path)
    rule = "ALARM(api-5xx) OR ALARM(api-latency)"
    status, body = admin("POST", "/_emulator/alarms", {"name": "eks-upgrade-health", "state": "ALARM", "rule": rule})
    assert (status, body["rule"]) == (200, rule)
    try:
        out = cw.describe_alarms(AlarmNames=["eks-upgrade-health"], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        assert out["MetricAlarms"] == []
        [c] = out["CompositeAlarms"]
        assert (c["AlarmName"], c["AlarmRule"], c["StateValue"]) == ("eks-upgrade-health", rule, "ALARM")
        # Without AlarmTypes: metric alarms only.
        out = cw.describe_alarms(AlarmNames=["eks-upgrade-health"])
        assert out["MetricAlarms"] == [] and out["CompositeAlarms"] == []
        # Scoped to a prefix (the template's grant): asking for composite alarms is denied.
        assert admin("POST", "/_emulator/alarms/read-scope", {"prefix": "eks-upgrade-"})[0] == 200
        with pytest.raises(botocore.exceptions.ClientError) as e:
            cw.describe_alarms(AlarmNames=["eks-upgrade-health"], AlarmTypes=["CompositeAlarm"])
        assert e.value.response["Error"]["Code"] == "AccessDenied"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        out = cw.describe_alarms(AlarmNames=["api-5xx", "eks-upgrade-health"], AlarmTypes=["MetricAlarm"])
        assert [a["AlarmName"] for a in out["MetricAlarms"]] == ["api-5xx"]
    finally:
        admin("POST", "/_emulator/alarms/read-scope", {"prefix": None})
