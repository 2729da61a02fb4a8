"""boto3 against several accounts and regions: STS AssumeRole of a member's role that trusts
the caller gives credentials whose EKS calls see that account's clusters in the region they
are signed for, and CloudWatch calls that account's alarms there; STS's refusals with its codes
and messages."""

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import _url, admin

SEED = {
    "clusters": [
        {"name": "web", "version": "1.30", "account": "210987654321", "region": "us-east-1"},
        {"name": "api", "version": "1.31", "account": "210987654321", "region": "eu-west-1"},
    ],
    "alarms": [
        {"name": "acct-5xx", "state": "ALARM", "account": "210987654321", "region": "us-east-1"},
    ],
    "accounts": [
        {"id": "210987654321", "roles": [{"name": "eks-upgrade-spoke", "trusts": ["123456789012"]}],
         "disabledRegions": ["ap-east-1"]},
        {"id": "333333333333", "roles": [{"name": "eks-upgrade-spoke", "trusts": ["999999999999"]}]},
    ],
}


def client(service, region="us-east-1", **credentials):
    keys = credentials or {"aws_access_key_id": "hubkey", "aws_secret_access_key": "secret"}
    return boto3.client(service, endpoint_url=_url(), region_name=region,
                        config=Config(retries={"total_max_attempts": 1}), **keys)


@pytest.fixture
def member():
    status, _ = admin("POST", "/_emulator/seed", SEED)
    assert status == 200
    out = client("sts").assume_role(RoleArn="arn:aws:iam::210987654321:role/eks-upgrade-spoke",
                                    RoleSessionName="eks-upgrade-web")
    c = out["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA")
    assert out["AssumedRoleUser"]["Arn"] == "arn:aws:sts::210987654321:assumed-role/eks-upgrade-spoke/eks-upgrade-web"
    return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"]}


def test_a_members_clusters_by_account_and_region(member):
    there = client("eks", **member)
    web = there.describe_cluster(name="web")["cluster"]
    assert web["arn"] == "arn:aws:eks:us-east-1:210987654321:cluster/web"
    assert client("eks", "eu-west-1", **member).list_clusters()["clusters"] == ["api"]
    # The hub's own clusters are the demo seed's, not the member's.
    assert "api" not in client("eks").list_clusters()["clusters"]


def test_sts_refusals(member):
    role = "arn:aws:iam::333333333333:role/eks-upgrade-spoke"
    with pytest.raises(ClientError) as e:
        client("sts").assume_role(RoleArn=role, RoleSessionName="eks-upgrade-web")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["Error"]["Message"] == (
        "User: arn:aws:iam::123456789012:user/hubkey is not authorized to perform: sts:AssumeRole on resource: " + role)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as e:
        client("sts").assume_role(RoleArn="arn:aws:iam::210987654321:role/eks-upgrade-spoke",
                                  RoleSessionName="has space")
    assert e.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as e:
        client("eks", "ap-east-1", **member).list_clusters()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_a_members_alarms_in_its_account_and_region(member):
    def states(region="us-east-1", **keys):
        out = client("cloudwatch", region, **keys).describe_alarms(AlarmNames=["acct-5xx"])
        return [a["StateValue"] for a in out["MetricAlarms"]]

    assert states(**member) == ["ALARM"]
    assert states() == [], "not the hub's"
    assert states("eu-west-1", **member) == [], "another region"
    with pytest.raises(ClientError) as e:
        states("ap-east-1", **member)
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"
