"""Fixtures for the boto3 conformance tests.

The emulator must already run; EKS_EMULATOR_URL names it (scripts/boto3-conformance.sh
builds, starts and stops one). Every test starts from the demo seed.
"""

import json
import os
import pathlib
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config

SEED = pathlib.Path(__file__).resolve().parents[2] / "seeds" / "demo.json"


def _url():
    url = os.environ.get("EKS_EMULATOR_URL")
    if not url:
        pytest.exit("EKS_EMULATOR_URL is not set; run scripts/boto3-conformance.sh", returncode=2)
    return url.rstrip("/")


def admin(method, path, body=None):
    """Calls the emulator's admin API; returns (status, parsed JSON)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(_url() + path, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def raw(method, path, body=b"", headers=None):
    """A raw HTTP request; returns (status, headers, body bytes)."""
    req = urllib.request.Request(_url() + path, data=body if method != "GET" else None, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def make_client(service, attempts=3):
    return boto3.client(
        service,
        endpoint_url=_url(),
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


@pytest.fixture(autouse=True)
def fresh_demo():
    status, _ = admin("POST", "/_emulator/reset", {"applyStartupSeed": False})
    assert status == 200
    status, body = admin("POST", "/_emulator/seed", json.loads(SEED.read_text()))
    assert status == 200, body
    admin("POST", "/_emulator/durations", {"updateMs": 60000, "createMs": 0, "deleteMs": 0})
    admin("POST", "/_emulator/faults", {"throttleRate": 0, "errorRate": 0, "lostResponseRate": 0, "latencyMs": 0, "staleStatusMs": 0, "operations": [], "failNextUpdates": []})
    admin("POST", "/_emulator/relay", {"forwardUrl": "", "maxRetries": 3, "backoffMs": 1, "dropNextEvents": 0})
    yield


@pytest.fixture
def eks():
    return make_client("eks")


@pytest.fixture
def eks_no_retry():
    return make_client("eks", attempts=1)
