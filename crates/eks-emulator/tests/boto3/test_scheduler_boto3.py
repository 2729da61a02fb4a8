"""boto3 against the EventBridge Scheduler stand-in served beside EKS: one-time schedules
created, read, refused and deleted with Scheduler's errors, and fired at their time into the
Lambda relay."""

import datetime
import http.server
import json
import threading
import time

import pytest
from botocore.exceptions import ClientError

from conftest import admin, make_client

GROUP = "orchestrator-wakes"
TARGET = {
    "Arn": "arn:aws:lambda:us-east-1:123456789012:function:orchestrator",
    "RoleArn": "arn:aws:iam::123456789012:role/wake",
}


def at(seconds_from_now):
    _, clock = admin("GET", "/_emulator/clock")
    when = datetime.datetime.fromtimestamp(int(clock["now"]) + 1 + seconds_from_now, datetime.timezone.utc)
    return "at(" + when.strftime("%Y-%m-%dT%H:%M:%S") + ")"


def create(scheduler, name, expression, payload):
    return scheduler.create_schedule(
        Name=name, GroupName=GROUP, ScheduleExpression=expression, ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"}, ActionAfterCompletion="DELETE",
        Target=dict(TARGET, Input=json.dumps(payload)),
    )


@pytest.fixture
def scheduler():
    return make_client("scheduler", attempts=1)


def test_schedules_are_created_read_refused_and_deleted(scheduler):
    expression = at(3600)
    out = create(scheduler, "wake-1", expression, {"continuation": {}})
    assert out["ScheduleArn"] == "arn:aws:scheduler:us-east-1:123456789012:schedule/orchestrator-wakes/wake-1"
    got = scheduler.get_schedule(Name="wake-1", GroupName=GROUP)
    assert got["ScheduleExpression"] == expression
    assert got["ActionAfterCompletion"] == "DELETE"
    assert json.loads(got["Target"]["Input"]) == {"continuation": {}}
    assert isinstance(got["CreationDate"], datetime.datetime)

    with pytest.raises(ClientError) as e:
        create(scheduler, "wake-1", expression, {})
    assert e.value.response["Error"]["Code"] == "ConflictException"
    assert e.value.response["Error"]["Message"] == "Schedule wake-1 already exists."
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    scheduler.delete_schedule(Name="wake-1", GroupName=GROUP)
    with pytest.raises(ClientError) as e:
        scheduler.get_schedule(Name="wake-1", GroupName=GROUP)
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert e.value.response["Error"]["Message"] == "Schedule wake-1 does not exist."
    with pytest.raises(ClientError) as e:
        create(scheduler, "wake-2", "at(tomorrow)", {})
    assert e.value.response["Error"]["Code"] == "ValidationException"


def test_a_schedule_fires_once_at_its_time_into_the_relay(scheduler):
    received = []

    class Function(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"] or 0))
            received.append((self.path, json.loads(body)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Function)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        admin("POST", "/_emulator/relay", {"forwardUrl": f"http://127.0.0.1:{server.server_port}"})
        create(scheduler, "soon", at(0), {"n": 1})
        create(scheduler, "in-an-hour", at(3600), {"n": 2})
        deadline = time.time() + 5
        while not received and time.time() < deadline:
            time.sleep(0.05)
        assert received == [("/2015-03-31/functions/orchestrator/invocations", {"n": 1})]
        admin("POST", "/_emulator/clock", {"advanceSeconds": 3600})
        deadline = time.time() + 5
        while len(received) < 2 and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        assert [body for _, body in received] == [{"n": 1}, {"n": 2}]
        _, stats = admin("GET", "/_emulator/stats")
        assert stats["schedules"] == {"waiting": 0, "fired": 2}
    finally:
        server.shutdown()
