"""Hand-built IR projects and helpers for the GitHub backend tests (until the spec -> IR lowering lands).

No tests here: `test_github.py` and `test_github_injection.py` import from it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from mlopsdsl.backends.github import GitHubBackend
from mlopsdsl.serialize import to_bytes

from mlopsdsl.ir import (Compare, Drift, Environment, GitHubCI, Lit, Logic, Monitoring, Param, Pipeline,
                         Project, Rollout, Serving, ServingMetric, Step, ToolInstall)

STAGING = Environment(name="staging", namespace="ml-staging", kfp_host="https://kfp.staging.acme.example",
                      url="https://churn-api.staging.acme.example")
PRODUCTION = Environment(name="production", namespace="ml-prod", kfp_host="https://kfp.acme.example",
                         url="https://churn-api.acme.example", approval=True)

# A hash-pinned wheel (any 64 hex digits: these tests never install it).
TOOL = ToolInstall(requirement="mlopsdsl @ https://files.acme.example/mlopsdsl-0.1.0-py3-none-any.whl#sha256="
                               + "ab" * 32)

ANALYSIS = Logic(type="bool", op="and", operands=(
    Compare(type="bool", op="<", left=ServingMetric(type="percent", metric="error_rate"),
            right=Lit(type="percent", value=0.01, text="1%")),
    Compare(type="bool", op="<", left=ServingMetric(type="duration", metric="latency", quantile=0.95),
            right=Lit(type="duration", value=0.25, text="250ms")),
))


def churn(**changes) -> Project:
    """The churn example's CI, environments, params, serving and drift, as IR."""
    ci = GitHubCI(on={"push": {"branches": ["main"], "paths": ["src/**", "churn.yaml"]},
                      "pull_request": {"branches": ["main"]}, "workflow_dispatch": {}},
                  python="3.11", mlopsdsl=TOOL, install=("pip install -r requirements.txt", "pip install -e ."),
                  test=("pytest -q",), train_on_branch="main", train_environment="staging",
                  deploy_environments=("staging", "production"), retrain_schedule="0 3 * * 1",
                  retrain_environment="production")
    serving = Serving(name="churn-api", namespace="ml-staging", storage_uri="s3://acme-ml/models/churn/1.4.0/",
                      framework="xgboost", protocol="v2", min_replicas=2, max_replicas=4,
                      rollout=Rollout(strategy="canary", steps=(10.0, 50.0, 100.0), interval=600.0,
                                      analysis=ANALYSIS))
    fields = dict(
        name="churn", version="1.4.0", spec_path="examples/churn/churn.yaml", environment=STAGING,
        environments=(STAGING, PRODUCTION),
        params=(Param(name="learning_rate", type="float", default=0.05),
                Param(name="max_depth", type="int", default=6),
                Param(name="use_gpu", type="bool", default=False),
                Param(name="objective", type="str", default="binary", choices=("binary", "hinge")),
                Param(name="note", type="str", default="nightly run")),
        pipeline=Pipeline(name="churn", steps=(Step(name="train", id="train", image="ghcr.io/acme/churn:1.4.0",
                                                     command=("python", "-m", "churn.train")),)),
        serving=serving,
        monitoring=Monitoring(namespace="monitoring", drift=Drift(
            reference="reference", method="psi", threshold=0.2, features=("tenure",), schedule="0 * * * *",
            on_drift="retrain")),
        ci=ci,
    )
    fields.update(changes)
    return Project(**fields)


def with_rollout(project: Project, **rollout) -> Project:
    assert project.serving is not None
    serving = project.serving.model_copy(update={"rollout": Rollout(**rollout)})
    return project.model_copy(update={"serving": serving})


REPO = Path(__file__).resolve().parents[2]
SHARED = next((p for p in (REPO.parent / "shared", Path("/work/shared")) if p.is_dir()), Path("/work/shared"))
CHECK_OUTPUT = SHARED / "conformance" / "check-output"


def compile_project(project: Project, out: Path) -> tuple[GitHubBackend, dict[str, str]]:
    """Compile to `out` the way the writer would; returns the backend and {path: text}."""
    backend = GitHubBackend()
    files = {}
    for artifact in backend.compile(project):
        path = out / artifact.path
        path.parent.mkdir(parents=True, exist_ok=True)
        data = to_bytes(artifact)
        path.write_bytes(data)
        files[artifact.path] = data.decode()
    return backend, files


def workflows(files: dict[str, str]) -> dict[str, dict]:
    """{kind: workflow} for `github/workflows/<project>-<kind>.yml`."""
    return {Path(p).stem.rsplit("-", 1)[1]: yaml.safe_load(t) for p, t in files.items()
            if p.startswith("github/workflows/")}


def judge(out: Path) -> str:
    """The conformance kit on an output directory: zero findings, or skip when the judges are missing."""
    if not CHECK_OUTPUT.exists():
        pytest.skip(f"conformance kit not found at {CHECK_OUTPUT}")
    r = subprocess.run([str(CHECK_OUTPUT), str(out)], capture_output=True, text=True)
    if r.returncode == 2:
        pytest.skip(r.stderr.strip())
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def runs(document: dict):
    """(job id, step) for every `run:` step of a workflow."""
    for job_id, job in document["jobs"].items():
        for step in job["steps"]:
            if "run" in step:
                yield job_id, step
