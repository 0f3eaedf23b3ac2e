"""What starts a deploy: churn's register step, inside the pipeline's gate, asks the deploy workflow
to serve exactly the version it registered and published; a model below the gate sends nothing
(issues 15/16). A loopback stand-in for GitHub's REST API records each dispatch as GitHub would
receive it; the deploy workflow's side (that payload served, under act) is in
tests/backends/test_github_act_model.py."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import EXAMPLES
from .kit import QUIET, compile_pipeline, kfp_local_run, project_copy, registered_versions, run_module

TOKEN = "github-deploy-token-value"
LOCAL_OFF = re.compile(r'^ +pipeline\.steps\.register\.params\.deploy_repository: "".*\n', re.M)


@contextlib.contextmanager
def fake_github():
    """GitHub's `POST /repos/OWNER/REPO/dispatches` on loopback: 204, and the request recorded."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "authorization": self.headers.get("Authorization"),
                             "body": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()


def register(project: Path, api: str, *extra: str, token: str | None = TOKEN) -> subprocess.CompletedProcess:
    """The register step's program, as the pipeline runs it (its argv from components/register.yaml)."""
    model = project / "model"
    model.mkdir(exist_ok=True)
    (model / "model.json").write_text('{"trees": []}')
    env = {**os.environ, **QUIET, "PYTHONPATH": str(project / "src"), "GITHUB_API_URL": api,
           "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}"}
    env.pop("GITHUB_TOKEN", None)
    if token is not None:
        env["GITHUB_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "mlops_tools.register", "--model", str(model),
                           "--name", "churn-classifier", "--publish-to", str(project / "models"),
                           "--version-out", str(project / "version"), *extra],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)


def test_the_register_step_dispatches_the_version_it_published(tmp_path):
    project = project_copy("churn", tmp_path)
    with fake_github() as (api, received):
        done = register(project, api, "--deploy-repository", "acme/churn", "--deploy-event", "mlopsdsl-deploy-churn")
    assert done.returncode == 0, done.stdout + done.stderr
    assert registered_versions(project, "churn-classifier") == [1]
    [request] = received
    assert request["path"] == "/repos/acme/churn/dispatches"
    assert request["authorization"] == f"Bearer {TOKEN}"
    published = (project / "models" / "v1").resolve()
    assert (published / "model.json").is_file()
    assert request["body"] == {"event_type": "mlopsdsl-deploy-churn",
                               "client_payload": {"model": str(published), "registered_model": "churn-classifier",
                                                  "version": "1"}}


def test_an_object_store_publish_is_dispatched_as_its_versioned_uri(tmp_path):
    # what serving loads in a cluster: the version's own prefix under publish_to, as a URI
    sys.path.insert(0, str(EXAMPLES / "churn" / "src"))
    try:
        from mlops_tools.register import published_uri
    finally:
        sys.path.pop(0)
    assert published_uri("s3://acme-ml/models/churn/1.4.0/", "7", "unused") == "s3://acme-ml/models/churn/1.4.0/v7/"
    assert published_uri("models/", "7", "/abs/models/v7") == "/abs/models/v7"


def test_a_deploy_without_its_token_is_refused_before_anything_is_registered(tmp_path):
    project = project_copy("churn", tmp_path)
    with fake_github() as (api, received):
        done = register(project, api, "--deploy-repository", "acme/churn", "--deploy-event", "mlopsdsl-deploy-churn",
                        token=None)
    assert done.returncode != 0 and "needs GITHUB_TOKEN" in done.stderr
    assert received == [] and registered_versions(project, "churn-classifier") == []
    assert not (project / "models").exists()


@pytest.mark.slow
def test_only_a_model_that_passed_the_gate_is_sent_to_the_deploy(tmp_path, monkeypatch):
    """churn under KFP's local orchestrator, with its register step dispatching (the `local`
    environment turns that off; this copy keeps it): below the bar nothing is sent, above it
    exactly the version registered, at its published prefix."""
    project = project_copy("churn", tmp_path)
    spec = project / "churn.yaml"
    text, turned_off = re.subn(LOCAL_OFF, "", spec.read_text())
    assert turned_off == 1
    spec.write_text(text)
    run_module(project, "churn.export", "data/raw", "--days", "3")
    pipeline = compile_pipeline(spec, tmp_path / "out")
    with fake_github() as (api, received):
        monkeypatch.setenv("GITHUB_API_URL", api)
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        held = kfp_local_run(pipeline, project, "min_accuracy=0.99", root=project / "runs")
        assert held.returncode == 0, held.output[-4000:]
        assert held.decisions == {"condition-register": False}
        assert received == []  # a model below the bar is never offered to the deploy
        passed = kfp_local_run(pipeline, project, "min_accuracy=0.5", root=project / "runs")
        assert passed.returncode == 0, passed.output[-4000:]
    assert passed.decisions == {"condition-register": True}
    [version] = registered_versions(project, "churn-classifier")
    [request] = received
    assert request["path"] == "/repos/acme/churn/dispatches" and request["authorization"] == f"Bearer {TOKEN}"
    assert request["body"]["event_type"] == "mlopsdsl-deploy-churn"
    model = Path(request["body"]["client_payload"]["model"])
    assert request["body"]["client_payload"]["version"] == str(version)
    assert model == (project / "models" / f"v{version}").resolve() and (model / "model.json").is_file()
