"""A drift retrains the environment where it happened, and only there.

The churn example is compiled for staging and for production. Each environment's drift CronJob
(its ConfigMap, as the pod gets it) runs the real drift job on shifted data written where KServe's
logger writes that namespace's requests; the repository_dispatch it sends is then delivered to the
compiled retrain workflow under nektos/act, which evaluates every job's `if:` as GitHub does. A
staging drift must run the staging retrain alone (before, it retrained production), a production
drift the production one, and the weekly schedule the retrain environment (production).

act runs each retrain job with the compiled `name`, `runs-on` and `if:` only: the steps (install,
submit to KFP) are the deploy helpers' to run (tests of the workflows under act); here they would
only decide whether the routing is reached.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.test_drift_job import Recorder, churn_rows, server, write_reference, write_request_log  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
ACT = Path(os.environ.get("CONFORMANCE_EXEC_VENV", Path.home() / ".cache/mlopsdsl-conformance/exec-venv")) / "bin/act"
needs_act = pytest.mark.skipif(not ACT.exists(), reason="act not installed (shared/conformance/exec/install-exec.sh)")
ENVIRONMENTS = {"staging": "ml-staging", "production": "ml-prod"}


def compile_churn(env: str, out: Path) -> Path:
    result = subprocess.run([sys.executable, "-m", "mlopsdsl", "compile", str(REPO / "examples/churn/churn.yaml"),
                             "--out", str(out), "--env", env, "--target", "monitoring,github"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def drift_dispatch(out: Path, work: Path, url: str, calls: list) -> dict:
    """Run the drift job as the compiled CronJob would, on shifted data; the dispatch it sends."""
    configmap, cronjob = yaml.safe_load_all((out / "monitoring/drift-cronjob.yaml").read_text())
    env = dict(configmap["data"])
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    secrets = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}
    assert set(secrets) == {"GITHUB_TOKEN", "GITHUB_REPOSITORY"}
    # What this machine cannot reach, replaced: the DVC reference, the bucket, the Pushgateway, GitHub.
    for key in ("REFERENCE_DVC_REPO", "REFERENCE_DVC_PATH", "REFERENCE_DVC_REV"):
        env.pop(key)
    work.mkdir(parents=True)
    write_reference(work / "reference.parquet", churn_rows(1500, 1))
    bucket = "s3://acme-ml/request-logs"
    assert env["REQUEST_LOG_URI"].startswith(bucket + "/" + env["NAMESPACE"] + "/")
    logs = write_request_log(work, churn_rows(600, 4, shifted=True), namespace=env["NAMESPACE"])
    env.update(REFERENCE_URI=str(work / "reference.parquet"), REQUEST_LOG_WINDOW=str(10 ** 9),
               REQUEST_LOG_URI=str(logs) + env["REQUEST_LOG_URI"][len(bucket):],
               PUSHGATEWAY_URL=url, GITHUB_API_URL=url, GITHUB_TOKEN="t0ken", GITHUB_REPOSITORY="acme/churn",
               PATH=os.environ["PATH"])
    calls.clear()
    result = subprocess.run([sys.executable, "-m", "mlopsdsl.drift"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "drift"
    (dispatch,) = [json.loads(body) for method, path, _, body in calls if path == "/repos/acme/churn/dispatches"]
    return dispatch


def routing_workflow(out: Path, repo: Path) -> list[str]:
    """The compiled retrain workflow's trigger and retrain jobs (name, runner, `if:`), steps reduced to a mark."""
    (compiled,) = (out / "github/workflows").glob("*-retrain.yml")
    workflow = yaml.safe_load(compiled.read_text())
    trigger = workflow.get("on", workflow.get(True))
    jobs = {name: {"name": job["name"], "runs-on": job["runs-on"], "if": job["if"],
                   "steps": [{"run": f"echo RAN {name}"}]}
            for name, job in workflow["jobs"].items() if name.startswith("retrain-")}
    (repo / ".github/workflows").mkdir(parents=True, exist_ok=True)
    (repo / ".github/workflows/retrain.yml").write_text(yaml.safe_dump({"name": "retrain", "on": trigger,
                                                                        "jobs": jobs}, sort_keys=False))
    return sorted(jobs)


def jobs_run(repo: Path, event: str, payload: dict) -> list[str]:
    (repo / "event.json").write_text(json.dumps(payload))
    result = subprocess.run([str(ACT), event, "-e", str(repo / "event.json"), "-P", "ubuntu-latest=-self-hosted",
                             "-W", str(repo / ".github/workflows/retrain.yml")],
                            cwd=repo, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return sorted({line.rsplit("RAN ", 1)[1].strip() for line in result.stdout.splitlines()
                   if "| RAN retrain-" in line})


@needs_act
def test_a_drift_retrains_only_the_environment_that_drifted(tmp_path, server):  # noqa: F811
    url, calls = server
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    for env, namespace in ENVIRONMENTS.items():
        out = compile_churn(env, tmp_path / env)
        dispatch = drift_dispatch(out, tmp_path / f"{env}-data", url, calls)
        assert dispatch["client_payload"]["environment"] == env
        assert routing_workflow(out, tmp_path / "repo") == ["retrain-production", "retrain-staging"]
        ran = jobs_run(tmp_path / "repo", "repository_dispatch",
                       {"action": dispatch["event_type"], "client_payload": dispatch["client_payload"]})
        assert ran == [f"retrain-{env}"], f"a drift in {env} ({namespace}) ran {ran}"
    # the weekly schedule retrains where `ci.github.retrain.environment` says: production
    assert jobs_run(tmp_path / "repo", "schedule", {"schedule": "0 3 * * 1"}) == ["retrain-production"]
