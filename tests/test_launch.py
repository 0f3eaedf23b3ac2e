"""The launcher's control flow against a stand-in Kubernetes API server.

The stand-in speaks the few REST calls the launcher makes (create with generateName, get,
delete) and plays a scripted sequence of statuses. The launcher runs as the compiled
pipeline runs it: its source through `python3 -c`, in a subprocess, so SIGTERM (how Argo
cancels a step) is real.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import mlopsdsl.launch as launch

SOURCE = Path(launch.__file__).read_text(encoding="utf-8")
TRAINJOB = {"apiVersion": "trainer.kubeflow.org/v1alpha1", "kind": "TrainJob",
            "metadata": {"generateName": "churn-train-"}, "spec": {"runtimeRef": {"name": "torch-distributed"}}}


def conditions(*true: str) -> dict:
    return {"conditions": [{"type": t, "status": "True"} for t in true]}


class StandIn(ThreadingHTTPServer):
    """Statuses are served in order, one per GET; the last one repeats."""

    def __init__(self, statuses: list[dict]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.statuses, self.calls, self.objects, self.trials = list(statuses), [], {}, []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: StandIn

    def _reply(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_POST(self):  # noqa: N802
        obj = self._body()
        obj["metadata"]["name"] = obj["metadata"].pop("generateName") + "x7k2p"
        self.server.objects[self.path + "/" + obj["metadata"]["name"]] = obj
        self.server.calls.append(("POST", self.path))
        self._reply(201, obj)

    def do_GET(self):  # noqa: N802
        self.server.calls.append(("GET", self.path))
        if "/trials?" in self.path:
            return self._reply(200, {"items": self.server.trials})
        obj = self.server.objects.get(self.path)
        if obj is None:
            return self._reply(404, {"kind": "Status", "code": 404})
        status = self.server.statuses.pop(0) if len(self.server.statuses) > 1 else self.server.statuses[0]
        self._reply(200, {**obj, "status": status})

    def do_DELETE(self):  # noqa: N802
        self.server.calls.append(("DELETE", self.path, self._body()))
        self.server.objects.pop(self.path, None)
        self._reply(200, {"kind": "Status", "status": "Success"})

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def api_server():
    servers = []

    def start(statuses: list[dict]) -> StandIn:
        server = StandIn(statuses)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()


def run(server: StandIn, manifest: dict, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SOURCE, "--manifest", json.dumps(manifest), "--namespace", "ml",
                           "--poll", "0.01", "--server", server.url, *extra],
                          capture_output=True, text=True, timeout=60)


def test_trainjob_succeeds_after_streaming_each_status_change(api_server):
    server = api_server([{}, conditions("Created"), conditions("Created"), conditions("Created", "Complete")])
    done = run(server, TRAINJOB)
    assert done.returncode == 0, done.stderr
    assert server.calls[0] == ("POST", "/apis/trainer.kubeflow.org/v1alpha1/namespaces/ml/trainjobs")
    lines = [line for line in done.stdout.splitlines() if "churn-train-x7k2p:" in line]
    assert [line.rsplit(": ", 1)[1] for line in lines] == ["Pending", "Created", "Created, Complete"]
    assert not any(call[0] == "DELETE" for call in server.calls)


def test_trainjob_failure_fails_the_step(api_server):
    server = api_server([conditions("Created"), conditions("Failed")])
    done = run(server, TRAINJOB)
    assert done.returncode == 1
    assert "TrainJob failed" in done.stderr


def test_rayjob_complete_is_success_only_when_the_job_succeeded(api_server):
    manifest = {"apiVersion": "ray.io/v1", "kind": "RayJob", "metadata": {"generateName": "ray-"}, "spec": {}}
    ok = api_server([{"jobDeploymentStatus": "Running", "jobStatus": "RUNNING"},
                     {"jobDeploymentStatus": "Complete", "jobStatus": "SUCCEEDED"}])
    assert run(ok, manifest).returncode == 0
    failed = api_server([{"jobDeploymentStatus": "Complete", "jobStatus": "FAILED"}])
    assert run(failed, manifest).returncode == 1


def test_experiment_writes_the_best_trial_as_outputs(api_server, tmp_path):
    manifest = {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"generateName": "e-"},
                "spec": {"objective": {"type": "maximize", "objectiveMetricName": "auc"}}}
    best = {"parameterAssignments": [{"name": "learning_rate", "value": "0.031"}],
            "observation": {"metrics": [{"name": "auc", "min": "0.7", "max": "0.93", "latest": "0.9"}]}}
    server = api_server([conditions("Running"), {**conditions("Succeeded"), "currentOptimalTrial": best}])
    server.trials = [{"metadata": {"name": f"e-x7k2p-{n}", "creationTimestamp": f"2026-01-01T00:00:0{n}Z"},
                      "spec": {"parameterAssignments": [{"name": "learning_rate", "value": value}]},
                      "status": {"conditions": [{"type": "Created", "status": "True"}, {"type": state, "status": "True"}],
                                 "observation": {"metrics": [{"name": "auc", "latest": auc_value}]}}}
                     for n, value, state, auc_value in ((1, "0.2", "Failed", None), (0, "0.031", "Succeeded", "0.93"))]
    lr, auc, trials = tmp_path / "out" / "lr", tmp_path / "auc", tmp_path / "trials.json"
    done = run(server, manifest, "--result", f"learning_rate={lr}", "--result", f"auc={auc}", "--trials-file", str(trials))
    assert done.returncode == 0, done.stderr
    assert lr.read_text() == "0.031" and auc.read_text() == "0.93"
    assert ("GET", "/apis/kubeflow.org/v1beta1/namespaces/ml/trials?labelSelector=katib.kubeflow.org%2Fexperiment%3De-x7k2p") \
        in server.calls
    assert [(t["name"], t["state"], t["params"], t["value"]) for t in json.loads(trials.read_text())] == [
        ("e-x7k2p-0", "Succeeded", {"learning_rate": "0.031"}, "0.93"),
        ("e-x7k2p-1", "Failed", {"learning_rate": "0.2"}, None)]


def test_cancel_deletes_the_job(api_server):
    server = api_server([conditions("Created")])  # runs until cancelled
    proc = subprocess.Popen([sys.executable, "-c", SOURCE, "--manifest", json.dumps(TRAINJOB), "--namespace", "ml",
                             "--poll", "0.01", "--server", server.url], stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not any(call[0] == "GET" for call in server.calls) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 143
    deletes = [call for call in server.calls if call[0] == "DELETE"]
    assert deletes == [("DELETE", "/apis/trainer.kubeflow.org/v1alpha1/namespaces/ml/trainjobs/churn-train-x7k2p",
                        {"propagationPolicy": "Background"})]


def test_a_job_deleted_by_someone_else_fails_the_step(api_server):
    server = api_server([conditions("Created")])
    server.objects.clear()

    class Vanishing(launch.Api):
        def call(self, method, path, body=None):
            result = super().call(method, path, body)
            if method == "POST":
                server.objects.clear()
            return result

    ok, _ = launch.follow(Vanishing(server.url, "", None), TRAINJOB, "ml", 0.0, log=lambda m: None)
    assert ok is False


def test_unknown_kind_is_a_usage_error():
    with pytest.raises(SystemExit) as exit_info:
        launch.main(["--manifest", json.dumps({"apiVersion": "v1", "kind": "Pod"}), "--namespace", "x",
                     "--server", "http://127.0.0.1:9"])
    assert exit_info.value.code == 2
