"""boto3 as a second, independent client of the EKS emulator."""

import datetime
import http.server
import json
import threading
import uuid

import pytest

from conftest import admin, make_client, raw

BLOCKING = (
    "Upgrade readiness issues detected. Call the EKS ListInsights API to view upgrade blocking issues "
    "detected by EKS. Pass the force flag to override upgrade readiness errors and proceed with upgrade."
)


def finish():
    status, body = admin("POST", "/_emulator/updates/finish")
    assert status == 200
    return body["finished"]


def test_every_operation_parses(eks):
    c = eks.create_cluster(
        name="c2",
        version="1.31",
        roleArn="arn:aws:iam::123456789012:role/r",
        resourcesVpcConfig={"subnetIds": ["subnet-1"]},
        tags={"team": "a"},
    )["cluster"]
    assert c["status"] == "CREATING"
    assert isinstance(c["createdAt"], datetime.datetime)
    eks.get_waiter("cluster_active").wait(name="c2", WaiterConfig={"Delay": 1, "MaxAttempts": 3})

    d = eks.describe_cluster(name="demo")["cluster"]
    assert (d["status"], d["version"], d["platformVersion"]) == ("ACTIVE", "1.30", "eks.32")
    assert d["arn"] == "arn:aws:eks:us-east-1:123456789012:cluster/demo"
    assert eks.list_clusters()["clusters"] == ["c2", "demo"]

    ng = eks.create_nodegroup(clusterName="c2", nodegroupName="a", subnets=["s"], nodeRole="r")["nodegroup"]
    assert ng["status"] == "CREATING" and ng["version"] == "1.31"
    ng = eks.describe_nodegroup(clusterName="demo", nodegroupName="ng-1")["nodegroup"]
    assert (ng["version"], ng["releaseVersion"], ng["status"]) == ("1.30", "1.30.14-20261015", "ACTIVE")
    assert isinstance(ng["modifiedAt"], datetime.datetime)
    assert eks.list_nodegroups(clusterName="demo")["nodegroups"] == ["ng-1"]

    a = eks.create_addon(clusterName="c2", addonName="vpc-cni")["addon"]
    assert a["status"] == "CREATING"
    a = eks.describe_addon(clusterName="demo", addonName="coredns")["addon"]
    assert a["addonVersion"] == "v1.11.1-eksbuild.13"
    assert eks.list_addons(clusterName="demo")["addons"] == ["coredns", "kube-proxy", "vpc-cni"]

    av = eks.describe_addon_versions(addonName="coredns", kubernetesVersion="1.31")["addons"][0]
    versions = [v["addonVersion"] for v in av["addonVersions"]]
    assert versions == ["v1.11.4-eksbuild.14", "v1.11.3-eksbuild.2", "v1.11.1-eksbuild.13"]
    assert av["addonVersions"][1]["compatibilities"] == [
        {"clusterVersion": "1.31", "platformVersions": ["*"], "defaultVersion": True}
    ]

    insights = eks.list_insights(clusterName="demo")["insights"]
    assert insights and all(i["category"] == "UPGRADE_READINESS" for i in insights)
    assert isinstance(insights[0]["lastRefreshTime"], datetime.datetime)

    cv = eks.describe_cluster_versions()["clusterVersions"]
    assert [v["clusterVersion"] for v in cv] == ["1.36", "1.35", "1.34", "1.33", "1.32", "1.31", "1.30", "1.29", "1.28"]
    assert {v["clusterVersion"] for v in cv if v["versionStatus"] == "STANDARD_SUPPORT"} == {"1.34", "1.35", "1.36"}
    assert sum(1 for v in cv if v["defaultVersion"]) == 1
    assert isinstance(cv[0]["releaseDate"], datetime.datetime)

    u = eks.update_cluster_version(name="demo", version="1.31")["update"]
    assert u["status"] == "InProgress" and u["type"] == "VersionUpdate"
    assert u["params"] == [{"type": "Version", "value": "1.31"}, {"type": "PlatformVersion", "value": "eks.1"}]
    assert u["errors"] == []
    assert isinstance(u["createdAt"], datetime.datetime)
    assert eks.describe_update(name="demo", updateId=u["id"])["update"]["id"] == u["id"]
    assert eks.list_updates(name="demo")["updateIds"] == [u["id"]]
    finish()
    ngu = eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng-1")["update"]
    assert ngu["params"][0] == {"type": "Version", "value": "1.31"}
    au = eks.update_addon(clusterName="demo", addonName="kube-proxy", addonVersion="v1.31.13-eksbuild.2", resolveConflicts="OVERWRITE")["update"]
    assert au["type"] == "AddonUpdate"
    with pytest.raises(eks.exceptions.InvalidRequestException):
        eks.cancel_update(name="demo", updateId=u["id"])
    with pytest.raises(eks.exceptions.ResourceInUseException):
        eks.delete_cluster(name="c2")
    eks.create_cluster(name="c3", roleArn="r", resourcesVpcConfig={})
    assert eks.delete_cluster(name="c3")["cluster"]["status"] == "DELETING"
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_cluster(name="c3")


def test_errors_are_modeled_exceptions(eks, eks_no_retry):
    with pytest.raises(eks.exceptions.ResourceNotFoundException) as e:
        eks.describe_cluster(name="nope")
    err = e.value.response
    assert err["Error"]["Message"] == "No cluster found for name: nope."
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    uuid.UUID(err["ResponseMetadata"]["RequestId"])

    with pytest.raises(eks.exceptions.InvalidParameterException) as e:
        eks.update_cluster_version(name="demo", version="1.32")
    assert e.value.response["Error"]["Message"] == "Unsupported Kubernetes minor version update from 1.30 to 1.32"
    assert e.value.response["clusterName"] == "demo"
    with pytest.raises(eks.exceptions.InvalidParameterException) as e:
        eks.update_cluster_version(name="demo", version="1.30")
    assert e.value.response["Error"]["Message"] == "Unsupported Kubernetes minor version update from 1.30 to 1.30"
    with pytest.raises(eks.exceptions.InvalidParameterException) as e:
        eks.update_cluster_version(name="demo", version="2.0")
    assert e.value.response["Error"]["Message"] == "unsupported Kubernetes version"

    admin("POST", "/_emulator/faults/blocking-insights", {"cluster": "demo"})
    with pytest.raises(eks.exceptions.InvalidStateException) as e:
        eks.update_cluster_version(name="demo", version="1.31")
    assert e.value.response["Error"]["Message"] == BLOCKING
    errors = eks.list_insights(clusterName="demo", filter={"statuses": ["ERROR"]})["insights"]
    assert [(i["kubernetesVersion"], i["category"]) for i in errors] == [("1.31", "UPGRADE_READINESS")]
    u = eks.update_cluster_version(name="demo", version="1.31", force=True)["update"]

    with pytest.raises(eks.exceptions.ResourceInUseException) as e:
        eks.update_cluster_version(name="demo", version="1.31")
    assert e.value.response["Error"]["Message"] == f"Cannot VersionUpdate because cluster demo currently has update {u['id']} in progress"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    finish()

    with pytest.raises(eks.exceptions.InvalidParameterException) as e:
        eks.update_cluster_version(name="demo", version="1.32")
    assert e.value.response["Error"]["Message"] == "Nodegroups ng-1 must be updated to match cluster version 1.31 before updating cluster version."
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng-1", version="1.32")
    with pytest.raises(eks.exceptions.InvalidParameterException) as e:
        eks.update_addon(clusterName="demo", addonName="kube-proxy", addonVersion="v1.30.14-eksbuild.6")
    assert e.value.response["Error"]["Message"] == "Addon version specified is not supported"
    with pytest.raises(eks.exceptions.ResourceNotFoundException) as e:
        eks.describe_update(name="demo", updateId="nope")
    assert e.value.response["Error"]["Message"] == "No update found for ID: nope"

    admin("POST", "/_emulator/faults", {"throttleRate": 1})
    with pytest.raises(eks_no_retry.exceptions.ThrottlingException) as e:
        eks_no_retry.update_cluster_version(name="demo", version="1.32")
    assert e.value.response["Error"]["Message"] == "Rate exceeded"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    admin("POST", "/_emulator/faults", {"throttleRate": 0, "errorRate": 1})
    codes = set()
    for _ in range(12):
        with pytest.raises((eks_no_retry.exceptions.ServerException, eks_no_retry.exceptions.ServiceUnavailableException)) as e:
            eks_no_retry.describe_cluster(name="demo")
        codes.add(e.value.response["Error"]["Code"])
    assert codes == {"ServerException", "ServiceUnavailableException"}


def test_token_idempotency_and_stats(eks):
    token = str(uuid.uuid4())
    a = eks.update_cluster_version(name="demo", version="1.31", clientRequestToken=token)["update"]
    b = eks.update_cluster_version(name="demo", version="1.31", clientRequestToken=token)["update"]
    assert a["id"] == b["id"]
    finish()
    c = eks.update_cluster_version(name="demo", version="1.31", clientRequestToken=token)["update"]
    assert (c["id"], c["status"]) == (a["id"], "Successful")
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.update_cluster_version(name="demo", version="1.32", clientRequestToken=token)
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.update_cluster_version(name="demo", version="1.32", clientRequestToken="x" * 32)
    _, stats = admin("GET", "/_emulator/stats")
    demo = stats["clusters"]["demo"]
    assert demo["updatesCreated"] == 1
    assert demo["updateClusterVersionCalls"] == 5
    entry = [t for t in demo["clientRequestTokens"] if t["token"] == token][0]
    assert (entry["updateId"], entry["calls"], entry["operation"]) == (a["id"], 4, "UpdateClusterVersion")


def test_lifecycle_and_node_group_and_addon_updates(eks):
    u = eks.update_cluster_version(name="demo", version="1.31")["update"]
    d = eks.describe_cluster(name="demo")["cluster"]
    assert (d["status"], d["version"]) == ("UPDATING", "1.30")
    assert finish() == [u["id"]]
    d = eks.describe_cluster(name="demo")["cluster"]
    assert (d["status"], d["version"], d["platformVersion"]) == ("ACTIVE", "1.31", "eks.1")

    ngu = eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng-1")["update"]
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_update(name="demo", updateId=ngu["id"])
    assert eks.describe_update(name="demo", updateId=ngu["id"], nodegroupName="ng-1")["update"]["status"] == "InProgress"
    assert eks.describe_nodegroup(clusterName="demo", nodegroupName="ng-1")["nodegroup"]["status"] == "UPDATING"
    assert eks.list_updates(name="demo", nodegroupName="ng-1")["updateIds"] == [ngu["id"]]

    au = eks.update_addon(clusterName="demo", addonName="kube-proxy", addonVersion="v1.31.13-eksbuild.2")["update"]
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_update(name="demo", updateId=au["id"])
    assert eks.describe_update(name="demo", updateId=au["id"], addonName="kube-proxy")["update"]["type"] == "AddonUpdate"
    finish()
    assert eks.describe_nodegroup(clusterName="demo", nodegroupName="ng-1")["nodegroup"]["version"] == "1.31"
    assert eks.describe_addon(clusterName="demo", addonName="kube-proxy")["addon"]["addonVersion"] == "v1.31.13-eksbuild.2"
    eks.update_cluster_version(name="demo", version="1.32")


def test_injected_failure(eks):
    admin("POST", "/_emulator/faults/fail-next-update", {"cluster": "demo", "kind": "cluster", "errorCodes": ["ClusterUnreachable"]})
    u = eks.update_cluster_version(name="demo", version="1.31")["update"]
    finish()
    f = eks.describe_update(name="demo", updateId=u["id"])["update"]
    assert f["status"] == "Failed"
    assert f["errors"][0]["errorCode"] == "ClusterUnreachable"
    assert f["errors"][0]["resourceIds"] == ["demo"]
    assert eks.describe_cluster(name="demo")["cluster"]["version"] == "1.30"


def test_injected_cancellation(eks):
    """An update EKS cancels (as a rollback past its timeoutMinutes) reads Cancelled."""
    status, _ = admin("POST", "/_emulator/faults/fail-next-update",
                      {"cluster": "demo", "kind": "cluster", "errorCodes": ["Unknown"], "cancelled": True})
    assert status == 200
    u = eks.update_cluster_version(name="demo", version="1.31")["update"]
    finish()
    f = eks.describe_update(name="demo", updateId=u["id"])["update"]
    assert f["status"] == "Cancelled"
    assert f["errors"][0]["errorCode"] == "Unknown"
    assert eks.describe_cluster(name="demo")["cluster"]["version"] == "1.30"


def test_paginators(eks):
    admin("POST", "/_emulator/seed", {"clusters": [{"name": f"p{i}", "version": "1.31"} for i in range(5)]})
    pages = list(eks.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 2}))
    assert [p["clusters"] for p in pages] == [["demo", "p0"], ["p1", "p2"], ["p3", "p4"]]
    versions = [v for p in eks.get_paginator("describe_cluster_versions").paginate(PaginationConfig={"PageSize": 4}) for v in p["clusterVersions"]]
    assert len(versions) == 9
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.list_clusters(maxResults=101)


def test_sdk_retries_get_through_faults():
    admin("POST", "/_emulator/faults", {"throttleRate": 0.3, "errorRate": 0.3})
    c = make_client("eks", attempts=20)
    for _ in range(40):
        assert c.describe_cluster(name="demo")["cluster"]["name"] == "demo"
        _, stats = admin("GET", "/_emulator/stats")
        if stats["requests"]["throttled"] > 0 and stats["requests"]["serverErrors"] > 0:
            break
    assert stats["requests"]["throttled"] > 0 and stats["requests"]["serverErrors"] > 0
    u = c.update_cluster_version(name="demo", version="1.31")["update"]
    _, stats = admin("GET", "/_emulator/stats")
    assert stats["clusters"]["demo"]["updatesCreated"] == 1
    assert stats["clusters"]["demo"]["clientRequestTokens"][0]["updateId"] == u["id"]


def test_unknown_route_and_malformed_json():
    status, headers, body = raw("GET", "/definitely/not/eks")
    assert status == 404
    assert headers["x-amzn-ErrorType"] == "UnknownOperationException"
    uuid.UUID(headers["x-amzn-RequestId"])
    status, headers, body = raw("POST", "/clusters/demo/updates", b"{oops")
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "SerializationException"
    assert "message" in json.loads(body)


class _Target(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        _Target.received.append((self.path, self.headers.get("x-amz-invocation-type"), body))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok":true}')

    def log_message(self, *args):
        pass


def test_lambda_relay_with_boto3():
    lam = make_client("lambda", attempts=1)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="f", InvocationType="Event", Payload=b"{}")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _Target.received.clear()
        admin("POST", "/_emulator/relay", {"forwardUrl": f"http://127.0.0.1:{server.server_address[1]}"})
        for i in range(5):
            out = lam.invoke(FunctionName="orchestrator", InvocationType="Event", Payload=json.dumps({"seq": i}).encode())
            assert out["StatusCode"] == 202
        status, idle = admin("POST", "/_emulator/relay/wait-idle", {"timeoutMs": 10000})
        assert status == 200 and idle["relay"]["delivered"] == 5
        assert [json.loads(b)["seq"] for _, _, b in _Target.received] == list(range(5))
        assert all(p == "/2015-03-31/functions/orchestrator/invocations" for p, _, _ in _Target.received)
        out = lam.invoke(FunctionName="orchestrator", Payload=b'{"sync":1}')
        assert out["StatusCode"] == 200
        assert json.loads(out["Payload"].read()) == {"ok": True}
    finally:
        server.shutdown()


# ------------------------------------------------------------------ production shapes

SHAPES = {
    "clusters": [
        {
            "name": "prod",
            "version": "1.32",
            "health": [{"code": "Ec2SubnetNotFound", "message": "subnet-1 was deleted", "resourceIds": ["subnet-1"]}],
            "nodegroups": [
                {
                    "name": "custom",
                    "version": "1.31",
                    "amiType": "CUSTOM",
                    "launchTemplate": {"name": "web", "version": "4"},
                    "launchTemplateVersions": {"4": "1.31", "5": "1.32"},
                },
                {"name": "managed", "version": "1.31", "launchTemplate": {"id": "lt-0123456789abcdef0", "version": "2"}},
                {
                    "name": "broken",
                    "status": "CREATE_FAILED",
                    "health": [{"code": "NodeCreationFailure", "message": "Instances failed to join the kubernetes cluster", "resourceIds": ["i-0abc"]}],
                },
            ],
            "addons": [{"name": "coredns", "status": "DEGRADED", "health": [{"code": "InsufficientNumberOfReplicas", "message": "not enough replicas"}]}],
        }
    ]
}
CUSTOM_AMI = "You cannot specify the field kubernetesVersion when using custom AMIs"


@pytest.fixture
def shapes():
    status, body = admin("POST", "/_emulator/seed", SHAPES)
    assert status == 200, body


def test_custom_ami_refuses_version_and_rolls_by_launch_template(eks, shapes):
    ng = eks.describe_nodegroup(clusterName="prod", nodegroupName="custom")["nodegroup"]
    assert ng["amiType"] == "CUSTOM"
    lt = ng["launchTemplate"]
    assert (lt["name"], lt["version"]) == ("web", "4") and lt["id"].startswith("lt-0")
    assert ng["releaseVersion"].startswith("ami-0")

    for extra in ({"version": "1.32"}, {"releaseVersion": "1.32.9-20261101"}):
        with pytest.raises(eks.exceptions.InvalidParameterException) as e:
            eks.update_nodegroup_version(clusterName="prod", nodegroupName="custom", launchTemplate={"name": "web", "version": "5"}, **extra)
        assert e.value.response["Error"]["Message"] == CUSTOM_AMI
        assert (e.value.response["clusterName"], e.value.response["nodegroupName"]) == ("prod", "custom")
    with pytest.raises(eks.exceptions.InvalidParameterException) as e:
        eks.update_nodegroup_version(clusterName="prod", nodegroupName="custom", launchTemplate={"name": "other", "version": "5"})
    assert "same launch template" in e.value.response["Error"]["Message"]
    with pytest.raises(eks.exceptions.InvalidParameterException) as e:
        eks.update_nodegroup_version(clusterName="prod", nodegroupName="custom", launchTemplate={"name": "web", "id": lt["id"], "version": "5"})
    assert e.value.response["Error"]["Message"] == "Either provide launch template ID or launch template name in the request."

    token = str(uuid.uuid4())
    u = eks.update_nodegroup_version(clusterName="prod", nodegroupName="custom", launchTemplate={"id": lt["id"], "version": "5"}, clientRequestToken=token)["update"]
    assert u["type"] == "VersionUpdate"
    assert u["params"] == [{"type": "LaunchTemplateName", "value": "web"}, {"type": "LaunchTemplateVersion", "value": "5"}]
    again = eks.update_nodegroup_version(clusterName="prod", nodegroupName="custom", launchTemplate={"id": lt["id"], "version": "5"}, clientRequestToken=token)["update"]
    assert again["id"] == u["id"]
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.update_nodegroup_version(clusterName="prod", nodegroupName="custom", launchTemplate={"id": lt["id"], "version": "6"}, clientRequestToken=token)
    finish()
    ng = eks.describe_nodegroup(clusterName="prod", nodegroupName="custom")["nodegroup"]
    assert (ng["version"], ng["launchTemplate"]["version"], ng["status"]) == ("1.32", "5", "ACTIVE")
    assert eks.describe_update(name="prod", updateId=u["id"], nodegroupName="custom")["update"]["status"] == "Successful"

    # A launch-template node group on an EKS AMI: version and template version together.
    u = eks.update_nodegroup_version(clusterName="prod", nodegroupName="managed", version="1.32", launchTemplate={"id": "lt-0123456789abcdef0", "version": "3"})["update"]
    assert [p["type"] for p in u["params"]] == ["Version", "ReleaseVersion", "LaunchTemplateVersion"]
    finish()
    ng = eks.describe_nodegroup(clusterName="prod", nodegroupName="managed")["nodegroup"]
    assert (ng["version"], ng["launchTemplate"]) == ("1.32", {"version": "3", "id": "lt-0123456789abcdef0"})


def test_degraded_node_groups_and_addons_refuse_updates(eks, shapes):
    with pytest.raises(eks.exceptions.InvalidRequestException) as e:
        eks.update_nodegroup_version(clusterName="prod", nodegroupName="broken")
    err = e.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["Error"]["Message"] == "Nodegroup broken is in CREATE_FAILED state. Update is invalid given the state of the cluster."
    assert (err["clusterName"], err["nodegroupName"]) == ("prod", "broken")

    status, body = admin("POST", "/_emulator/health", {"cluster": "demo", "nodegroup": "ng-1", "status": "DEGRADED"})
    assert (status, body["status"]) == (200, "DEGRADED"), body
    with pytest.raises(eks.exceptions.InvalidRequestException) as e:
        eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng-1")
    assert e.value.response["Error"]["Message"] == "Nodegroup ng-1 is in DEGRADED state. Update is invalid given the state of the cluster."
    with pytest.raises(eks.exceptions.InvalidRequestException) as e:
        eks.update_addon(clusterName="prod", addonName="coredns")
    assert "invalid given the state of the cluster" in e.value.response["Error"]["Message"]
    assert e.value.response["addonName"] == "coredns"

    admin("POST", "/_emulator/health", {"cluster": "demo", "nodegroup": "ng-1", "status": "ACTIVE"})
    assert eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng-1")["update"]["status"] == "InProgress"


def test_health_issues_rendered_and_injected(eks, shapes):
    c = eks.describe_cluster(name="prod")["cluster"]
    assert c["health"]["issues"] == [{"code": "Ec2SubnetNotFound", "message": "subnet-1 was deleted", "resourceIds": ["subnet-1"]}]
    ng = eks.describe_nodegroup(clusterName="prod", nodegroupName="broken")["nodegroup"]
    assert ng["health"]["issues"][0]["code"] == "NodeCreationFailure"
    assert ng["health"]["issues"][0]["resourceIds"] == ["i-0abc"]
    a = eks.describe_addon(clusterName="prod", addonName="coredns")["addon"]
    assert (a["status"], a["health"]["issues"][0]["code"]) == ("DEGRADED", "InsufficientNumberOfReplicas")
    assert eks.describe_nodegroup(clusterName="demo", nodegroupName="ng-1")["nodegroup"]["health"] == {"issues": []}

    issue = {"code": "AsgInstanceLaunchFailures", "message": "Could not launch On-Demand Instances.", "resourceIds": ["eks-ng-1"]}
    status, body = admin("POST", "/_emulator/health", {"cluster": "demo", "nodegroup": "ng-1", "issues": [issue], "status": "DEGRADED"})
    assert status == 200 and body["health"]["issues"] == [issue], body
    ng = eks.describe_nodegroup(clusterName="demo", nodegroupName="ng-1")["nodegroup"]
    assert (ng["status"], ng["health"]["issues"]) == ("DEGRADED", [issue])
    admin("POST", "/_emulator/health", {"cluster": "prod", "issues": []})
    assert eks.describe_cluster(name="prod")["cluster"]["health"]["issues"] == []

    status, body = admin("POST", "/_emulator/health", {"cluster": "prod", "addon": "coredns", "issues": [{"code": "NodeCreationFailure"}]})
    assert status == 400 and "AddonIssueCode" in body["message"], body
    status, body = admin("POST", "/_emulator/health", {"cluster": "prod", "nodegroup": "nope", "issues": []})
    assert status == 404, body


def test_denied_operations_answer_access_denied(eks, shapes):
    status, faults = admin("POST", "/_emulator/faults/deny", {"operation": "UpdateClusterVersion", "cluster": "demo"})
    assert status == 200 and faults["deniedOperations"] == [{"operation": "UpdateClusterVersion", "cluster": "demo"}]
    with pytest.raises(eks.exceptions.AccessDeniedException) as e:
        eks.update_cluster_version(name="demo", version="1.31")
    err = e.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err["Error"]["Code"] == "AccessDeniedException"
    assert err["Error"]["Message"] == (
        "User: arn:aws:sts::123456789012:assumed-role/eks-upgrade-orchestrator/session is not authorized to perform: "
        "eks:UpdateClusterVersion on resource: arn:aws:eks:us-east-1:123456789012:cluster/demo"
    )
    assert eks.describe_cluster(name="demo")["cluster"]["status"] == "ACTIVE"

    admin("POST", "/_emulator/faults/deny", {"operation": "DescribeNodegroup"})
    _, state = admin("GET", "/_emulator/state")
    prod = [c for c in state["clusters"] if c["name"] == "prod"][0]
    arn = [n for n in prod["nodegroups"] if n["nodegroupName"] == "custom"][0]["nodegroupArn"]
    with pytest.raises(eks.exceptions.AccessDeniedException) as e:
        eks.describe_nodegroup(clusterName="prod", nodegroupName="custom")
    assert e.value.response["Error"]["Message"].endswith(f"eks:DescribeNodegroup on resource: {arn}")

    status, body = admin("POST", "/_emulator/faults/deny", {"operation": "Nope"})
    assert status == 400, body
    _, stats = admin("GET", "/_emulator/stats")
    assert stats["requests"]["denied"] == 2
    status, faults = admin("DELETE", "/_emulator/faults/deny")
    assert status == 200 and faults["deniedOperations"] == []
    assert eks.update_cluster_version(name="demo", version="1.31")["update"]["status"] == "InProgress"


# ---------------------------------------------------------------- version rollback

ROLLBACK_BLOCKING = (
    "Rollback readiness issues detected. Call the EKS ListInsights API to view rollback blocking issues "
    "detected by EKS. Pass the force flag to override rollback readiness errors and proceed with rollback."
)
DAY = 86400


def test_rollback_prerequisites_and_messages(eks):
    with pytest.raises(eks.exceptions.InvalidRequestException) as e:
        eks.update_cluster_version(name="demo", version="1.29")
    assert e.value.response["Error"]["Message"] == (
        "Cluster demo cannot be rolled back to Kubernetes version 1.29: it was not upgraded to 1.30 in place. "
        "A cluster created at its current version cannot be rolled back."
    )
    assert e.value.response["clusterName"] == "demo"
    eks.update_cluster_version(name="demo", version="1.31")
    finish()
    with pytest.raises(eks.exceptions.InvalidParameterException) as e:
        eks.update_cluster_version(name="demo", version="1.29")
    assert e.value.response["Error"]["Message"] == "Unsupported Kubernetes minor version update from 1.31 to 1.29"

    # Node groups at N are rolled back first, with UpdateNodegroupVersion.
    eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng-1", version="1.31")
    finish()
    with pytest.raises(eks.exceptions.InvalidParameterException) as e:
        eks.update_cluster_version(name="demo", version="1.30")
    assert e.value.response["Error"]["Message"] == (
        "Nodegroups ng-1 must be rolled back to version 1.30 before rolling back cluster version."
    )
    ngu = eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng-1", version="1.30")["update"]
    assert (ngu["type"], ngu["params"][0]) == ("VersionUpdate", {"type": "Version", "value": "1.30"})
    finish()
    with pytest.raises(eks.exceptions.InvalidParameterException) as e:
        eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng-1", version="1.29")
    assert e.value.response["Error"]["Message"] == "Nodegroup ng-1 cannot be downgraded from version 1.30 to 1.29."

    # Add-ons move back by UpdateAddon to an older compatible version.
    eks.update_addon(clusterName="demo", addonName="coredns", addonVersion="v1.11.4-eksbuild.14")
    finish()
    eks.update_addon(clusterName="demo", addonName="coredns", addonVersion="v1.11.1-eksbuild.13")
    finish()

    status, body = admin("POST", "/_emulator/insights/rollback-blocking", {"cluster": "demo", "blocking": True})
    assert (status, body["kubernetesVersion"]) == (200, "1.30")
    errors = eks.list_insights(clusterName="demo", filter={"categories": ["ROLLBACK_READINESS"], "statuses": ["ERROR"]})
    assert [(i["kubernetesVersion"], i["category"]) for i in errors["insights"]] == [("1.30", "ROLLBACK_READINESS")]
    generated = eks.list_insights(clusterName="demo", filter={"categories": ["ROLLBACK_READINESS"]})["insights"]
    assert len(generated) >= 4
    with pytest.raises(eks.exceptions.InvalidStateException) as e:
        eks.update_cluster_version(name="demo", version="1.30")
    assert e.value.response["Error"]["Message"] == ROLLBACK_BLOCKING
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.update_cluster_version(name="demo", version="1.30", force=True, rollbackConfig={"timeoutMinutes": 60})
    u = eks.update_cluster_version(name="demo", version="1.30", force=True, rollbackConfig={"timeoutMinutes": 720})["update"]
    assert u["type"] == "VersionRollback"
    assert u["params"] == [{"type": "Version", "value": "1.30"}, {"type": "PlatformVersion", "value": "eks.32"}]
    with pytest.raises(eks.exceptions.InvalidRequestException) as e:
        eks.cancel_update(name="demo", updateId=u["id"])
    assert e.value.response["Error"]["Message"] == (
        f"Update {u['id']} cannot be cancelled because the control plane rollback has already begun."
    )
    finish()
    d = eks.describe_cluster(name="demo")["cluster"]
    assert (d["status"], d["version"], d["platformVersion"]) == ("ACTIVE", "1.30", "eks.32")
    assert eks.describe_update(name="demo", updateId=u["id"])["update"]["status"] == "Successful"


def test_rollback_window_on_the_emulator_clock(eks):
    eks.update_cluster_version(name="demo", version="1.31")
    finish()
    status, clock = admin("POST", "/_emulator/clock", {"advanceSeconds": 7 * DAY + 1})
    assert (status, clock["offsetSeconds"]) == (200, 7 * DAY + 1)
    assert admin("GET", "/_emulator/clock")[1]["offsetSeconds"] == 7 * DAY + 1
    with pytest.raises(eks.exceptions.InvalidRequestException) as e:
        eks.update_cluster_version(name="demo", version="1.30")
    assert e.value.response["Error"]["Message"] == (
        "Cluster demo cannot be rolled back to Kubernetes version 1.30: the upgrade to 1.31 completed more than 7 days ago."
    )
    u = eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng-1")["update"]
    now = datetime.datetime.now(datetime.timezone.utc).timestamp()
    assert abs(u["createdAt"].timestamp() - now - (7 * DAY + 1)) < 60
    admin("POST", "/_emulator/clock", {"advanceSeconds": 61})
    assert eks.describe_update(name="demo", updateId=u["id"], nodegroupName="ng-1")["update"]["status"] == "Successful"


def test_rollback_needs_extended_policy_for_an_extended_version(eks):
    status, body = admin("POST", "/_emulator/seed", {"clusters": [
        {"name": "std", "version": "1.31", "supportType": "STANDARD", "lastUpgrade": {"fromVersion": "1.30"}},
        {"name": "ext", "version": "1.31", "supportType": "EXTENDED", "lastUpgrade": {"fromVersion": "1.30"}},
    ]})
    assert status == 200, body
    with pytest.raises(eks.exceptions.InvalidRequestException) as e:
        eks.update_cluster_version(name="std", version="1.30")
    assert e.value.response["Error"]["Message"] == (
        "Cluster std cannot be rolled back to Kubernetes version 1.30: 1.30 is in extended support and the cluster's "
        "upgrade policy supportType is STANDARD. Change the upgrade policy to EXTENDED first."
    )
    assert eks.update_cluster_version(name="ext", version="1.30")["update"]["type"] == "VersionRollback"


def test_auto_mode_rollback_cancel(eks):
    status, body = admin("POST", "/_emulator/seed", {"clusters": [
        {"name": "auto", "version": "1.31", "autoMode": True, "lastUpgrade": {"fromVersion": "1.30"},
         "insights": [{"name": "Kubernetes API compatibility", "category": "ROLLBACK_READINESS", "status": "WARNING"}]},
    ]})
    assert status == 200, body
    d = eks.describe_cluster(name="auto")["cluster"]
    assert d["computeConfig"]["enabled"] is True and d["computeConfig"]["nodePools"]
    assert d["storageConfig"] == {"blockStorage": {"enabled": True}}
    assert d["kubernetesNetworkConfig"]["elasticLoadBalancing"] == {"enabled": True}
    assert "computeConfig" not in eks.describe_cluster(name="demo")["cluster"]
    seeded = [i for i in eks.list_insights(clusterName="auto", filter={"categories": ["ROLLBACK_READINESS"]})["insights"]
              if i["insightStatus"]["status"] == "WARNING"]
    assert [(i["name"], i["kubernetesVersion"]) for i in seeded] == [("Kubernetes API compatibility", "1.30")]

    u = eks.update_cluster_version(name="auto", version="1.30")["update"]
    assert eks.describe_cluster(name="auto")["cluster"]["status"] == "ACTIVE"
    c = eks.cancel_update(name="auto", updateId=u["id"])["update"]
    assert c["status"] == "Cancelled" and c["cancellation"]["status"] == "Successful"
    assert eks.describe_cluster(name="auto")["cluster"]["version"] == "1.31"
    u = eks.update_cluster_version(name="auto", version="1.30")["update"]
    admin("POST", "/_emulator/clock", {"advanceSeconds": 31})
    assert eks.describe_cluster(name="auto")["cluster"]["status"] == "UPDATING"
    with pytest.raises(eks.exceptions.InvalidRequestException):
        eks.cancel_update(name="auto", updateId=u["id"])


def test_list_updates_assumes_no_order(eks):
    """EKS documents no order for ListUpdates: the emulator lists by id, not by time."""
    created = []
    for version in ["1.31", "1.32", "1.33"]:
        created.append(eks.update_cluster_version(name="demo", version=version)["update"]["id"])
        finish()
        eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng-1", version=version)
        finish()
    listed = [i for page in eks.get_paginator("list_updates").paginate(name="demo") for i in page["updateIds"]]
    assert listed == sorted(created)
    for update_id in listed:
        u = eks.describe_update(name="demo", updateId=update_id)["update"]
        assert u["status"] == "Successful" and isinstance(u["createdAt"], datetime.datetime)


def test_support_status_follows_its_dates_on_the_emulator_clock(eks):
    now = int(admin("GET", "/_emulator/clock")[1]["now"])
    status, body = admin("POST", "/_emulator/seed", {
        "kubernetesVersions": [
            {"version": "1.33", "endOfStandardSupportDate": now + 10 * DAY, "endOfExtendedSupportDate": now + 20 * DAY},
            {"version": "1.34", "endOfStandardSupportDate": now + 100 * DAY, "defaultVersion": True},
        ],
        "clusters": [{"name": "std", "version": "1.33", "supportType": "STANDARD"}],
    })
    assert status == 200, body

    def version(v, **kw):
        out = eks.describe_cluster_versions(**kw)["clusterVersions"]
        return next((i for i in out if i["clusterVersion"] == v), None)

    v133 = version("1.33")
    assert v133["versionStatus"] == "STANDARD_SUPPORT"
    assert int(v133["endOfStandardSupportDate"].timestamp()) == now + 10 * DAY
    admin("POST", "/_emulator/clock", {"advanceSeconds": 11 * DAY})
    assert version("1.33")["versionStatus"] == "EXTENDED_SUPPORT"
    admin("POST", "/_emulator/clock", {"advanceSeconds": 10 * DAY})
    assert version("1.33") is None
    assert version("1.33", includeAll=True)["versionStatus"] == "UNSUPPORTED"
    assert eks.describe_cluster(name="std")["cluster"]["upgradePolicy"] == {"supportType": "STANDARD"}
