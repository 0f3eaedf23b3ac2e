"""The generated workflows of the examples, RUN under nektos/act on this host (issue 16).

A fake repository holds the example spec (its `ci.github.mlopsdsl` pointed at a wheel of this tree,
served over loopback with its sha256), a tiny project for its install and test commands, and the
workflows compiled from it. act runs them; the stand-ins (act_harness, act_kit) answer for KFP,
Kubernetes/KServe and Prometheus, and every assertion reads what they logged or hold.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from mlopsdsl.backends.github.pins import KFP_REQUIREMENT

from . import act_harness as h

TOOL_PYTHON, PROJECT_PYTHON = "3.12", "3.11"
PROJECT_FILES = {
    "requirements.txt": "pytest\n",
    "pyproject.toml": '[project]\nname = "fixture"\nversion = "0.0.1"\n[build-system]\n'
                      'requires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
                      '[tool.setuptools]\npy-modules = []\n',
    "tests/test_fixture.py": "def test_ok():\n    assert True\n",
}


@pytest.fixture(scope="module")
def served_wheel():
    h.require_act(TOOL_PYTHON, PROJECT_PYTHON)
    wheel = h.mlopsdsl_wheel()
    with h.serve_directory(wheel.parent) as url:
        yield h.wheel_requirement(url, wheel)


def make_repository(tmp_path: Path, example: str, requirement: str, edit=lambda text: text,
                    files: dict[str, str] | None = None) -> h.Repository:
    """The example under examples/<name>/ of a fake repository, compiled for GitHub into .github/workflows."""
    root, state = tmp_path / "repo", tmp_path / "state"
    state.mkdir(exist_ok=True)
    source = REPO / "examples" / example
    shutil.copytree(source, root / "examples" / example)
    spec = next(p for p in (root / "examples" / example).glob("*.yaml"))
    text = spec.read_text()
    lines = [line for line in text.splitlines() if not line.strip().startswith("mlopsdsl: ")]
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("python:") and lines[i - 1].strip() != "")
    lines.insert(at + 1, f"    mlopsdsl: {requirement}")
    spec.write_text(edit("\n".join(lines) + "\n"))
    for name, content in {**PROJECT_FILES, **(files or {})}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    (root / ".git").mkdir()  # the repository root for `compile` (git init replaces it below)
    out = tmp_path / "compiled"
    subprocess.run([sys.executable, "-m", "mlopsdsl", "compile", str(spec.relative_to(root)), "--target", "github",
                    "--out", str(out)], cwd=root, check=True, capture_output=True)
    shutil.copytree(out / "github" / "workflows", root / ".github" / "workflows")
    shutil.rmtree(root / ".git")
    repo = h.Repository(root, state)
    repo.env.update({"GHA_PRISTINE_VENVS": str(h.pristine_venvs(TOOL_PYTHON, PROJECT_PYTHON)),
                     "PIP_FIND_LINKS": str(h.wheelhouse(TOOL_PYTHON)), "PIP_NO_INDEX": "1",
                     "PIP_CONSTRAINT": "", "PIP_EXTRA_INDEX_URL": "", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    repo.commit()
    return repo


# --- CI: install from the spec's requirement, on the tool's own Python, then validate ---------------
def test_ci_installs_the_pinned_wheel_on_its_own_python_and_validates(tmp_path, served_wheel):
    repo = make_repository(tmp_path, "churn", served_wheel)
    run = repo.act("workflow_dispatch", "churn-ci.yml")
    assert run.code == 0, run.output[-3000:]
    assert "setup-python stand-in: Python 3.11" in run.output  # the project's tests
    assert "setup-python stand-in: Python 3.12" in run.output  # mlopsdsl's own steps
    assert "Successfully installed" in run.output and "mlopsdsl 0.1.0" in run.output
    assert "1 passed" in run.output  # the project's pytest, as the spec wrote it


def test_a_tampered_wheel_is_refused_by_its_hash(tmp_path, served_wheel):
    url, _ = served_wheel.split("#sha256=")
    repo = make_repository(tmp_path, "churn", f"{url}#sha256={'0' * 64}")
    run = repo.act("workflow_dispatch", "churn-ci.yml", job="validate")
    assert run.code != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in run.output or "hash" in run.output.lower()


def test_ci_commands_read_the_secrets_the_spec_names(tmp_path, served_wheel):
    # a `dvc pull` credential: the repository secret reaches the install and test commands as env
    env = ('    env: {DVC_PASSWORD: "${{ secrets.dvc_password }}", DVC_REMOTE: "s3://acme/${{ metadata.name }}"}\n')
    check = ("import os\n\ndef test_credentials():\n"
             "    assert os.environ['DVC_PASSWORD'] == 'dvc-s3cr3t'\n"
             "    assert os.environ['DVC_REMOTE'] == 's3://acme/churn'\n")
    repo = make_repository(tmp_path, "churn", served_wheel,
                           lambda text: text.replace("    runs_on: ubuntu-latest\n", env + "    runs_on: ubuntu-latest\n", 1),
                           files={"tests/test_fixture.py": check})
    repo.secrets["DVC_PASSWORD"] = "dvc-s3cr3t"
    run = repo.act("workflow_dispatch", "churn-ci.yml", job="test")
    assert run.code == 0, run.output[-3000:]
    assert "1 passed" in run.output


# --- train: CI first, then a KFP run with typed parameters ----------------------------------------
def test_train_submits_typed_parameters_after_ci_passes(tmp_path, served_wheel):
    assert h.KFP == KFP_REQUIREMENT  # the wheelhouse holds the SDK the job installs
    (tmp_path / "state").mkdir()
    with h.stand_in(h.MOCK_KFP, tmp_path / "state") as kfp:
        repo = make_repository(tmp_path, "churn", served_wheel,
                               lambda text: text.replace("kfp_host: https://kfp.staging.acme.example", f"kfp_host: {kfp}"))
        repo.secrets["KFP_TOKEN"] = "kfp-token-staging"
        inputs = {"learning_rate": "0.1", "max_depth": "8", "device": "cpu", "balance_classes": "false"}
        run = repo.act("workflow_dispatch", "churn-train.yml", payload={"inputs": inputs})
    assert run.code == 0, run.output[-4000:]
    (submitted,) = [r for r in run.lines("kfp-requests.jsonl") if r["method"] == "POST" and "/runs" in r["path"]]
    assert submitted["authorization"] == "Bearer kfp-token-staging"
    parameters = submitted["body"]["runtime_config"]["parameters"]
    # typed as the params declare (numbers, a choice, a bool); what the dispatch left out comes from the
    # form's defaults, which are the training environment's (staging: min_accuracy 0.85)
    assert parameters == {"learning_rate": 0.1, "max_depth": 8, "device": "cpu", "balance_classes": False,
                          "min_accuracy": 0.85}
    assert "1 passed" in run.output  # the CI jobs ran first


def test_no_training_when_the_tests_fail(tmp_path, served_wheel):
    (tmp_path / "state").mkdir()
    with h.stand_in(h.MOCK_KFP, tmp_path / "state") as kfp:
        repo = make_repository(tmp_path, "churn", served_wheel,
                               lambda text: text.replace("kfp_host: https://kfp.staging.acme.example", f"kfp_host: {kfp}"),
                               files={"tests/test_fixture.py": "def test_broken():\n    assert False\n"})
        run = repo.act("workflow_dispatch", "churn-train.yml")
    assert run.code != 0
    assert "1 failed" in run.output
    assert not [r for r in run.lines("kfp-requests.jsonl") if r["method"] == "POST"]  # nothing submitted


def test_a_drift_dispatch_retrains_in_the_environment_that_drifted(tmp_path, served_wheel):
    # the drift job of staging dispatches `environment: staging`: staging retrains, production does not
    # (its KFP host here is a closed port, so a production submission would fail the run)
    (tmp_path / "state").mkdir()
    with h.stand_in(h.MOCK_KFP, tmp_path / "state") as kfp:
        repo = make_repository(tmp_path, "churn", served_wheel, lambda text: text.replace(
            "kfp_host: https://kfp.staging.acme.example", f"kfp_host: {kfp}").replace(
            "kfp_host: https://kfp.acme.example", "kfp_host: http://127.0.0.1:9"))
        repo.secrets["KFP_TOKEN"] = "kfp-token"
        payload = {"action": "mlopsdsl-retrain-churn", "client_payload": {"environment": "staging"}}
        run = repo.act("repository_dispatch", "churn-retrain.yml", payload=payload)
    assert run.code == 0, run.output[-4000:]
    posts = [r for r in run.lines("kfp-requests.jsonl") if r["method"] == "POST" and "/runs" in r["path"]]
    assert len(posts) == 1
    jobs = {line[1:].split("]")[0].split("/", 1)[1].strip() for line in run.output.splitlines()
            if line.startswith("[churn retrain/") and line.rstrip().endswith("Job succeeded")}
    assert jobs == {"Test", "Validate the spec", "Retrain in staging"}  # production's job never ran
    assert posts[0]["authorization"] == "Bearer kfp-token"


# --- deploy: rollouts against the KServe stand-in ----------------------------------------------------
def new_version(text: str) -> str:
    """The same spec one version later: a new storage URI and version label, so a new revision."""
    return text.replace("version: 1.4.0", "version: 1.5.0").replace("version: 2.1.0", "version: 2.2.0")


class Deployed:
    """A repository whose service is already deployed at the example's version (its k8s state kept),
    with the next version committed: each test rolls that version out from a copy of the state."""

    def __init__(self, tmp_path: Path, example: str, requirement: str, edit=lambda text: text, files=None):
        self.repo = make_repository(tmp_path, example, requirement, edit, files)
        self.repo.secrets.update(KUBECONFIG="apiVersion: v1\nkind: Config\n", PROMETHEUS_TOKEN="prom-token")
        spec = next((self.repo.root / "examples" / example).glob("*.yaml"))
        self.workflow = f"{yaml.safe_load(spec.read_text())['metadata']['name']}-deploy.yml"
        first = self.deploy(self.repo.state, {})
        assert first.code == 0, first.output[-4000:]
        spec.write_text(new_version(spec.read_text()))
        self.repo.commit()

    def gate(self) -> dict[str, str]:
        """The gate queries the staging deploy job sends (its env), for the fake Prometheus to match."""
        workflow = yaml.safe_load((self.repo.root / ".github" / "workflows" / self.workflow).read_text())
        env = workflow["jobs"]["deploy-staging"]["steps"][-1]["env"]
        return {"healthy": env["GATE_HEALTHY"], "traffic": env["GATE_TRAFFIC"], "requests": env["GATE_REQUESTS"]}

    def deploy(self, state: Path, prom: dict, broken: tuple[str, ...] = (), event: str = "workflow_dispatch",
               payload: dict | None = None) -> h.Run:
        (state / "prom.json").write_text(json.dumps({"gate": self.gate(), **prom}))
        (state / "broken.json").write_text(json.dumps(list(broken)))
        with h.stand_in(h.FAKE_PROM, state) as url:
            repo = h.Repository(self.repo.root, state, dict(self.repo.secrets), {"PROMETHEUS_URL": url},
                                {**self.repo.env, "FAKE_TAG_URL": url})
            return repo.act(event, self.workflow, job="deploy-staging", payload=payload)

    def rollout(self, tmp_path: Path, prom: dict, broken: tuple[str, ...] = (), event: str = "workflow_dispatch",
                payload: dict | None = None) -> h.Run:
        state = tmp_path / "rollout"
        state.mkdir()
        shutil.copy(self.repo.state / "k8s.json", state / "k8s.json")
        return self.deploy(state, prom, broken, event, payload)


@pytest.fixture(scope="module")
def churn_deployed(served_wheel, tmp_path_factory):
    return Deployed(tmp_path_factory.mktemp("churn"), "churn", served_wheel)


@pytest.fixture(scope="module")
def vision_deployed(served_wheel, tmp_path_factory):
    return Deployed(tmp_path_factory.mktemp("vision"), "vision", served_wheel)


HEALTHY = {"default": {"healthy": True, "traffic": True, "requests": 500}}
# The service as a whole is fine (the stable revision carries 90% of it); the new revision is not.
FAILING = {"default": {"healthy": True, "traffic": True, "requests": 5000},
           "revisions": {"churn-api-predictor-00002": {"healthy": False, "traffic": True, "requests": 500}}}
IDLE = {"default": {"healthy": True, "traffic": False, "requests": 0}}


def patches(run: h.Run) -> list[dict]:
    return [json.loads(call[call.index("-p") + 1]) for call in run.kubectl() if call[0] == "patch"]


def component(isvc: dict, name: str) -> dict:
    return isvc["status"]["components"][name]


def test_canary_promotes_predictor_and_transformer_step_by_step(churn_deployed, tmp_path):
    run = churn_deployed.rollout(tmp_path, HEALTHY)
    assert run.code == 0, run.output[-4000:]
    percents = [p["spec"]["predictor"]["canaryTrafficPercent"] for p in patches(run)]
    assert percents == [10, 50, 100, None]  # the steps, then the promotion (the field removed)
    assert all(p["spec"]["transformer"] == p["spec"]["predictor"] for p in patches(run))  # the transformer too
    isvc = run.isvc("churn-api", "ml-staging")
    for name in ("predictor", "transformer"):
        c = component(isvc, name)
        assert c["latestRolledoutRevision"] == c["latestCreatedRevision"] == f"churn-api-{name}-00002"
        assert "canaryTrafficPercent" not in isvc["spec"][name]
    assert isvc["spec"]["predictor"]["model"]["storageUri"] == "s3://acme-ml/models/churn/1.5.0/"
    gates = [q for q in run.queries() if q["kind"] == "healthy"]
    assert len(gates) == 2  # the gate before 50% and before 100%...
    assert {q["revision"] for q in run.queries()} == {"churn-api-predictor-00002"}  # ...on the new revision only
    assert all(q["authorization"] == "Bearer prom-token" for q in run.queries())


def test_a_failing_analysis_rolls_back_to_the_previous_spec(churn_deployed, tmp_path):
    run = churn_deployed.rollout(tmp_path, FAILING)
    assert run.code != 0
    assert "revision churn-api-predictor-00002 fails the rollout analysis" in run.output
    assert "rolled back" in run.output
    assert [p["spec"]["predictor"]["canaryTrafficPercent"] for p in patches(run)] == [10, 0, None]
    isvc = run.isvc("churn-api", "ml-staging")
    # the live object holds the previous spec again, and a revision of it is the latest one and serves
    # everything: the failed revision is no longer latest, so no later apply can send it traffic
    assert isvc["spec"]["predictor"]["model"]["storageUri"] == "s3://acme-ml/models/churn/1.4.0/"
    for name in ("predictor", "transformer"):
        c = component(isvc, name)
        assert c["latestCreatedRevision"] == c["latestRolledoutRevision"] == f"churn-api-{name}-00003"
        assert [t["percent"] for t in c["traffic"]] == [100]
        assert "canaryTrafficPercent" not in isvc["spec"][name]
    revisions = isvc["_fake"]["revisions"]["predictor"]
    assert revisions[2]["template"] == revisions[0]["template"]  # 00003 is 00001's spec


def test_an_idle_revision_is_rolled_back_by_the_default_no_traffic_policy(churn_deployed, tmp_path):
    run = churn_deployed.rollout(tmp_path, IDLE)
    assert run.code != 0
    assert "got too few requests to judge (no_traffic: rollback)" in run.output and "rolled back" in run.output
    assert [q["kind"] for q in run.queries()] == ["requests", "traffic"]  # never judged on no data


@pytest.fixture(scope="module")
def churn_probing(served_wheel, tmp_path_factory):
    """churn with `no_traffic: {action: probe}`: an idle staging must not block the rollout."""
    policy = ("    analysis: \"${{ serving.error_rate < 1% and serving.latency.p95 < 250ms }}\"\n"
              "    no_traffic: {min_requests: 20, action: probe, probe: {body: tests/request.json, requests: 3}}\n")
    return Deployed(tmp_path_factory.mktemp("churn-probe"), "churn", served_wheel,
                    lambda text: text.replace(
                        '    analysis: "${{ serving.error_rate < 1% and serving.latency.p95 < 250ms }}"\n', policy, 1),
                    files={"tests/request.json": '{"inputs": []}\n'})


def test_an_idle_revision_is_probed_then_judged_by_the_probe_policy(churn_probing, tmp_path):
    prom = {"default": {"healthy": True, "traffic": False, "traffic_after_probe": True, "requests": 0}}
    run = churn_probing.rollout(tmp_path, prom)
    assert run.code == 0, run.output[-4000:]
    probes = [r for r in run.lines("prom-requests.jsonl") if r.get("kind") == "probe"]
    assert len(probes) == 3  # the policy's number, on the new revision's own tag URL and infer path
    assert all("latest-churn-api-transformer" in p["path"] and p["path"].endswith("/v2/models/churn-api/infer")
               for p in probes)
    c = component(run.isvc("churn-api", "ml-staging"), "predictor")
    assert c["latestRolledoutRevision"] == "churn-api-predictor-00002"


def test_a_readiness_timeout_rolls_back_instead_of_exiting(churn_deployed, tmp_path):
    run = churn_deployed.rollout(tmp_path, HEALTHY, broken=("s3://acme-ml/models/churn/1.5.0/",))
    assert run.code != 0
    assert "not ready after" in run.output and "rolled back" in run.output
    isvc = run.isvc("churn-api", "ml-staging")
    c = component(isvc, "predictor")
    assert c["latestCreatedRevision"] == c["latestRolledoutRevision"] == "churn-api-predictor-00003"
    assert isvc["spec"]["predictor"]["model"]["storageUri"] == "s3://acme-ml/models/churn/1.4.0/"
    assert run.queries() == []  # never judged a revision that never ran


def test_a_stale_ready_is_not_taken_for_the_new_revision(churn_deployed, tmp_path):
    # right after the apply the stand-in still reports the old, Ready status (as KServe does until it
    # reconciles): the job must wait for the new revision, not take that Ready for it
    run = churn_deployed.rollout(tmp_path, HEALTHY)
    calls = run.kubectl()
    applied = max(i for i, c in enumerate(calls) if c[0] == "apply")
    first_patch = next(i for i, c in enumerate(calls) if c[0] == "patch")
    reads = [c for c in calls[applied + 1:first_patch] if c[0] == "get"]
    assert len(reads) >= 3  # stale, created, ready


def test_the_same_manifest_again_rolls_out_nothing(churn_deployed, tmp_path):
    first = churn_deployed.rollout(tmp_path, HEALTHY)
    assert first.code == 0
    again = churn_deployed.deploy(first.state, HEALTHY)
    assert again.code == 0 and "nothing to roll out" in again.output
    assert component(again.isvc("churn-api", "ml-staging"), "predictor")["latestCreatedRevision"] == \
        "churn-api-predictor-00002"


def test_blue_green_tests_the_idle_revision_then_switches(vision_deployed, tmp_path):
    run = vision_deployed.rollout(tmp_path, HEALTHY)
    assert run.code == 0, run.output[-4000:]
    assert [p["spec"]["predictor"]["canaryTrafficPercent"] for p in patches(run)] == [100, None]
    smoke = [r for r in run.lines("prom-requests.jsonl") if r.get("kind") == "smoke"]
    assert smoke and smoke[0]["path"].endswith("/v2/health/ready")  # on the new revision's own tag URL
    assert "latest-defects-api" in smoke[0]["path"]
    c = component(run.isvc("defects-api", "vision-staging"), "predictor")
    assert c["latestRolledoutRevision"] == c["latestCreatedRevision"] == "defects-api-predictor-00002"


def test_blue_green_rolls_back_when_the_smoke_test_fails(vision_deployed, tmp_path):
    run = vision_deployed.rollout(tmp_path, {**HEALTHY, "smoke": "fail"})
    assert run.code != 0 and "smoke test" in run.output
    c = component(run.isvc("defects-api", "vision-staging"), "predictor")
    assert c["latestCreatedRevision"] == c["latestRolledoutRevision"] == "defects-api-predictor-00003"


def test_the_docs_name_every_reason_the_script_rolls_back_for():
    import re

    script = (REPO / "src/mlopsdsl/backends/github/rollout.sh").read_text()
    reasons = {r.replace("${percent}", "N") for r in re.findall(r'rollback "([^"]+)"', script)}
    docs = (REPO / "docs/targets/kserve.md").read_text()
    listed = set(re.findall(r"^- `([^`]+)`", docs.split("**Rollback, on any failure after the apply.**")[1], re.M))
    assert reasons == listed
