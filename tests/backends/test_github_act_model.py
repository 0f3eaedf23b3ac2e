"""The model a deploy is asked for is the model the InferenceService loads, run under act (issues 15/16).

The deploy workflow takes the model to serve from `workflow_dispatch`'s input `model` or from
`client_payload.model` of its `repository_dispatch` (what the pipeline's gated register step
sends); the job refuses anything but a storage URI before it compiles or calls kubectl. Each
assertion reads what the kubectl stand-in logged: the documents the job applied, and its calls.
"""

from __future__ import annotations

import subprocess

import pytest
import yaml

from mlopsdsl.backends.github.deploy_model import MODEL_PATTERN

from .test_github_act import HEALTHY, Deployed, make_repository, served_wheel  # noqa: F401 - a fixture

MODEL = "s3://acme-ml/models/churn/1.4.0/v7/"  # what the register step publishes for version 7


@pytest.fixture(scope="module")
def churn_deployed(served_wheel, tmp_path_factory):  # noqa: F811 - served_wheel is the imported fixture
    return Deployed(tmp_path_factory.mktemp("churn-model"), "churn", served_wheel)


def served(run, name: str = "churn-api") -> list[str]:
    """The storageUri of each InferenceService NAME the job applied, in order."""
    return [doc["spec"]["predictor"]["model"]["storageUri"] for doc in run.applied("InferenceService")
            if doc["metadata"]["name"] == name]


def test_a_dispatched_model_input_is_the_storage_uri_applied_and_rolled_out(churn_deployed, tmp_path):
    run = churn_deployed.rollout(tmp_path, HEALTHY, payload={"inputs": {"model": MODEL}})
    assert run.code == 0, run.output[-4000:]
    assert served(run) and set(served(run)) == {MODEL}  # never the spec's storage_uri (1.5.0)
    isvc = run.isvc("churn-api", "ml-staging")
    assert isvc["spec"]["predictor"]["model"]["storageUri"] == MODEL
    assert isvc["status"]["components"]["predictor"]["latestRolledoutRevision"] == "churn-api-predictor-00002"


def test_the_deploy_event_serves_the_model_its_payload_names(churn_deployed, tmp_path):
    model = "gs://acme-ml/models/churn/1.4.0/v8/"
    payload = {"action": "mlopsdsl-deploy-churn", "client_payload": {"model": model, "version": "8"}}
    run = churn_deployed.rollout(tmp_path, HEALTHY, event="repository_dispatch", payload=payload)
    assert run.code == 0, run.output[-4000:]
    assert served(run) and set(served(run)) == {model}
    assert run.isvc("churn-api", "ml-staging")["spec"]["predictor"]["model"]["storageUri"] == model


def test_a_deploy_event_without_a_model_deploys_nothing(churn_deployed, tmp_path):
    payload = {"action": "mlopsdsl-deploy-churn", "client_payload": {}}
    run = churn_deployed.rollout(tmp_path, HEALTHY, event="repository_dispatch", payload=payload)
    assert run.code != 0
    assert "the deploy dispatch names no model" in run.output
    assert run.kubectl() == []


@pytest.mark.parametrize("model", [
    "s3://acme-ml/models/churn/v7/$(touch {marker})",
    's3://acme-ml/x/"; touch {marker}; echo "',
    "s3://acme-ml/models/churn/v7/\n::error::spoofed `touch {marker}`",
    "models:/churn-classifier/7",  # the runner cannot reach the registry: the sender resolves it
    "--model=s3://acme-ml/models/churn/v7/",
], ids=["command-substitution", "quote-break", "newline-workflow-command", "registry", "option"])
def test_a_model_that_is_not_a_storage_uri_fails_before_any_kubectl_call(churn_deployed, tmp_path, model):
    marker = tmp_path / "pwned"
    run = churn_deployed.rollout(tmp_path, HEALTHY, payload={"inputs": {"model": model.format(marker=marker)}})
    assert run.code != 0
    assert "the model to deploy must be a storage URI KServe loads" in run.output
    assert run.kubectl() == [] and not marker.exists()
    # the value is printed quoted on the refusal's own line: no line of it is a workflow command
    assert all("must be a storage URI" in line for line in run.output.splitlines() if "::error::spoofed" in line)


# --- the same checks without act: the workflow's shape, and the pattern in bash itself ----------------
def test_the_model_reaches_the_script_through_env_only(tmp_path):
    from mlopsdsl.backends.github import GitHubBackend
    from mlopsdsl import driver
    from conftest import EXAMPLES

    project = driver.build_ir(str(EXAMPLES / "churn/churn.yaml")).ir
    (deploy,) = [a for a in GitHubBackend().compile(project) if a.path.endswith("churn-deploy.yml")]
    workflow = deploy.documents[0]
    assert workflow["on"]["workflow_dispatch"]["inputs"]["model"]["type"] == "string"
    assert workflow["on"]["repository_dispatch"] == {"types": ["mlopsdsl-deploy-churn"]}
    for job in workflow["jobs"].values():
        (step,) = [s for s in job["steps"] if s["name"].startswith("Compile kserve")]
        assert step["env"]["MLOPSDSL_MODEL_INPUT"] == "${{ inputs.model }}"
        assert step["env"]["MLOPSDSL_MODEL_PAYLOAD"] == "${{ github.event.client_payload.model }}"
        assert "${{" not in step["run"] and '--model "$model"' in step["run"]
        kubectl = [i for i, s in enumerate(job["steps"]) if "kubectl" in s["name"]]
        assert job["steps"].index(step) < min(kubectl)  # refused before kubectl exists


@pytest.mark.parametrize("value, accepted", [
    ("s3://acme-ml/models/churn/1.4.0/v7/", True),
    ("gs://bucket/path/model.onnx", True),
    ("https://models.acme.example/churn/v7/model.json", True),
    ("pvc://models-pvc/churn/v7", True),
    ("oci://ghcr.io/acme/churn-model:v7", True),
    ("file:///tmp/model", False),
    ("models:/churn-classifier/7", False),
    ("s3://a b", False),
    ("s3://a/$(id)", False),
    ("s3://a/`id`", False),
    ("s3://a/;id", False),
    ("s3://a/\nid", False),
    ("s3://a/?x=1&y=2", False),
    ("-rf s3://a", False),
    ("s3://" + "a" * 1025, False),
    ("", False),
])
def test_the_model_pattern_as_bash_reads_it(value, accepted):
    check = subprocess.run(["bash", "-c", '[[ "$1" =~ $2 ]]', "bash", value, MODEL_PATTERN])
    assert (check.returncode == 0) is accepted


def test_the_setup_checklist_names_the_deploy_dispatch_and_its_token():
    from mlopsdsl.backends.github import GitHubBackend
    from mlopsdsl import driver
    from conftest import EXAMPLES

    items = GitHubBackend().checklist(driver.build_ir(str(EXAMPLES / "churn/churn.yaml")).ir)
    [item] = [i for i in items if "client_payload.model" in i]
    assert "mlopsdsl-deploy-churn" in item and "'Contents: read and write'" in item
