#!/usr/bin/env python3
"""A minimal Lambda service on loopback, for the benchmarks (scripts/bench).

It serves the Lambda Runtime API that a function binary polls (AWS_LAMBDA_RUNTIME_API) and the
Invoke API (POST /2015-03-31/functions/NAME/invocations), whose payloads join the same queue of
events: a function that invokes itself is served by the same process, as a warm Lambda
instance would be. Standard library only.

  bench_lambda.py cold-start BIN RUNS EVENT_JSON [refused]  -> JSON: cold-start times and RSS
     ("refused": the event is one the function must answer with an error)
  bench_lambda.py instructions BIN EVENT_JSON [refused]      -> JSON: instructions to the first answer
     (under valgrind's callgrind: a count that does not depend on the machine's load)
  bench_lambda.py once BIN EVENT_JSON              -> JSON: one event's answer time, to a fresh process
  bench_lambda.py run BIN EVENT_JSON UNTIL_CMD     -> JSON: invocations, billed time, peak RSS
     (serves events until UNTIL_CMD, run every second, exits 0)
  bench_lambda.py fleet BIN INSTANCES EVENTS_FILE UNTIL_CMD   -> the same, for one event per line
     of EVENTS_FILE served by INSTANCES copies of the function at once (peak RSS: the largest;
     peak busy instances: the most invocations being handled at one moment); with
     BENCH_SWEEP_SECONDS=N, a {"sweep": {}} event every N seconds, as the template's schedule

Timing: from just before the process is started to the moment its first response reaches the
Runtime API. Peak RSS: VmHWM of the function's process, read before it is stopped.
"""

import http.server
import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid


class Service:
    def __init__(self):
        self.events = queue.Queue()
        self.lock = threading.Lock()
        self.responses = []  # (request_id, time, is_error, body)
        self.started = {}  # request_id -> time handed to the function
        self.busy_seconds = 0.0
        self.invocations = 0
        self.responded = threading.Event()
        self.handling = []  # seconds from each event handed out to its answer
        self.busy = 0  # invocations handed out and not answered yet: busy instances
        self.peak_busy = 0

    def handler(self):
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, code, body=b"", headers=None):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def do_GET(self):
                if self.path.endswith("/runtime/invocation/next"):
                    payload = service.events.get()
                    request_id = str(uuid.uuid4())
                    with service.lock:
                        service.started[request_id] = time.perf_counter()
                        service.invocations += 1
                        service.busy += 1
                        service.peak_busy = max(service.peak_busy, service.busy)
                    deadline = int(time.time() * 1000) + 900_000
                    self.reply(200, payload, {
                        "Lambda-Runtime-Aws-Request-Id": request_id,
                        "Lambda-Runtime-Deadline-Ms": str(deadline),
                        "Lambda-Runtime-Invoked-Function-Arn":
                            "arn:aws:lambda:us-east-1:123456789012:function:eks-upgrade-orchestrator",
                        "Content-Type": "application/json",
                    })
                else:
                    self.reply(404)

            def do_POST(self):
                body = self.body()
                parts = self.path.strip("/").split("/")
                if "runtime" in parts and "invocation" in parts:
                    request_id = parts[parts.index("invocation") + 1]
                    now = time.perf_counter()
                    with service.lock:
                        if request_id in service.started:
                            service.busy -= 1
                        started = service.started.pop(request_id, now)
                        service.busy_seconds += now - started
                        service.responses.append((request_id, now, parts[-1] == "error", body))
                        service.handling.append(now - started)
                    service.responded.set()
                    self.reply(202, b"{}")
                elif parts[-1] == "invocations" and "functions" in parts:
                    service.events.put(body)
                    self.reply(202, b"", {"x-amzn-RequestId": str(uuid.uuid4())})
                elif "init" in parts:
                    service.responses.append(("init", time.perf_counter(), True, body))
                    service.responded.set()
                    self.reply(202, b"{}")
                else:
                    self.reply(404)

        return Handler


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a function stopped mid-poll resets its connection: expected here


def serve():
    """On BENCH_LAMBDA_PORT if set (the emulator's relay, which fires EventBridge Scheduler
    wake-ups, delivers there), else on any free port."""
    service = Service()
    server = QuietServer(("127.0.0.1", int(os.environ.get("BENCH_LAMBDA_PORT", "0"))), service.handler())
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return service, server


def peak_rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def start(binary, server, wrapper=()):
    env = dict(os.environ)
    env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{server.server_address[1]}"
    # Continuations come back to this service's Invoke API.
    env["AWS_ENDPOINT_URL_LAMBDA"] = f"http://127.0.0.1:{server.server_address[1]}"
    env.setdefault("AWS_LAMBDA_FUNCTION_NAME", "eks-upgrade-orchestrator")
    env.setdefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
    env.setdefault("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    # BENCH_FUNCTION_LOG: the functions' logs (RUST_LOG, warnings by default) appended there.
    log = os.environ.get("BENCH_FUNCTION_LOG")
    if log:
        env.setdefault("RUST_LOG", "warn")
    stderr = open(log, "ab") if log else subprocess.DEVNULL
    # The runtime's log subscriber writes to stdout.
    return subprocess.Popen([*wrapper, binary], env=env, stdout=stderr, stderr=stderr)


def first_answer(service, process, binary, refused):
    if not service.responded.wait(120):
        process.kill()
        raise SystemExit(f"{binary} did not answer within 120 s")
    request_id, t1, is_error, body = service.responses[0]
    if is_error != refused:
        process.kill()
        raise SystemExit(f"{binary} answered {'an error' if is_error else 'without an error'}: {body[:300]!r}")
    return t1


def once(binary, event):
    """Serves one event to a fresh process; how long its answer took (from the event handed out)
    and whether it was an error. For a long event (a fleet's dry run): up to 15 minutes."""
    service, server = serve()
    service.events.put(event.encode())
    process = start(binary, server)
    if not service.responded.wait(900):
        process.kill()
        raise SystemExit(f"{binary} did not answer within 900 s")
    process.kill()
    process.wait()
    server.shutdown()
    _, _, is_error, body = service.responses[0]
    return {"seconds": round(service.handling[0], 2), "error": is_error, "answer_bytes": len(body)}


def cold_start(binary, runs, event, refused=False):
    """Also serves the event a second time, warm, to tell the event's own work (its calls) from
    the start-up: `warm_median_ms` is from the second event handed out to its answer."""
    times, warm, rss = [], [], []
    for _ in range(runs):
        service, server = serve()
        service.events.put(event.encode())
        service.events.put(event.encode())
        t0 = time.perf_counter()
        process = start(binary, server)
        t1 = first_answer(service, process, binary, refused)
        times.append((t1 - t0) * 1000)
        rss.append(peak_rss_kib(process.pid))
        deadline = time.perf_counter() + 30
        while len(service.handling) < 2 and time.perf_counter() < deadline:
            time.sleep(0.001)
        if len(service.handling) < 2:
            raise SystemExit(f"{binary} did not answer a second event")
        warm.append(service.handling[1] * 1000)
        process.kill()
        process.wait()
        server.shutdown()
    times.sort()
    return {
        "runs": runs,
        "median_ms": round(statistics.median(times), 2),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))], 2),
        "min_ms": round(times[0], 2),
        "warm_median_ms": round(statistics.median(warm), 2),
        "peak_rss_kib_median": statistics.median([r for r in rss if r is not None]),
    }


def instructions(binary, event, refused=False):
    service, server = serve()
    service.events.put(event.encode())
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        process = start(binary, server, ("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"))
        first_answer(service, process, binary, refused)
        process.send_signal(signal.SIGTERM)  # callgrind writes its counts as the process ends
        process.wait()
        server.shutdown()
        with open(out) as counts:
            total = next(int(line.split()[1]) for line in counts if line.startswith(("summary:", "totals:")))
    return {"instructions": total}


def run(binary, events, until_cmd, instances=1):
    """Serves `events` to `instances` copies of the function (each a Lambda instance: one
    invocation at a time) until `until_cmd` exits 0."""
    service, server = serve()
    for event in events:
        service.events.put(event.encode())
    t0 = time.perf_counter()
    sweep_every = float(os.environ.get("BENCH_SWEEP_SECONDS", "0"))
    if sweep_every > 0:
        def sweep():
            while True:
                time.sleep(sweep_every)
                service.events.put(b'{"sweep": {}}')
        threading.Thread(target=sweep, daemon=True).start()
    processes = [start(binary, server) for _ in range(instances)]
    peak = 0
    give_up = t0 + float(os.environ.get("BENCH_TIMEOUT_SECONDS", "3600"))
    while subprocess.call(until_cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) != 0:
        for process in processes:
            peak = max(peak, peak_rss_kib(process.pid) or 0)
            if process.poll() is not None:
                raise SystemExit("the function exited")
        if time.perf_counter() > give_up:
            raise SystemExit(f"{until_cmd} did not succeed within BENCH_TIMEOUT_SECONDS")
        time.sleep(1)
    wall = time.perf_counter() - t0
    for process in processes:
        peak = max(peak, peak_rss_kib(process.pid) or 0)
        process.kill()
        process.wait()
    server.shutdown()
    return {
        "instances": instances,
        "invocations": service.invocations,
        "busy_seconds": round(service.busy_seconds, 2),
        "wall_seconds": round(wall, 2),
        "peak_rss_kib": peak,
        "peak_busy_instances": service.peak_busy,
        # Busy instance-seconds over the run's time: the instances busy on average.
        "mean_busy_instances": round(service.busy_seconds / wall, 2) if wall else 0,
        "errors": sum(1 for r in service.responses if r[2]),
        "error_samples": sorted({r[3][:160].decode("utf-8", "replace") for r in service.responses if r[2]})[:5],
    }


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "cold-start":
        print(json.dumps(cold_start(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:] == ["refused"])))
    elif mode == "instructions":
        print(json.dumps(instructions(sys.argv[2], sys.argv[3], sys.argv[4:] == ["refused"])))
    elif mode == "once":
        print(json.dumps(once(sys.argv[2], sys.argv[3])))
    elif mode == "run":
        print(json.dumps(run(sys.argv[2], [sys.argv[3]], sys.argv[4])))
    elif mode == "fleet":
        with open(sys.argv[4]) as lines:
            events = [line.strip() for line in lines if line.strip()]
        print(json.dumps(run(sys.argv[2], events, sys.argv[5], instances=int(sys.argv[3]))))
    else:
        raise SystemExit(__doc__)
