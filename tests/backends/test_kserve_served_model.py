"""The model handed to serving: `compile --model URI` puts the model `serving.model` names, as one
finished run trained it, into the InferenceService's storageUri (a run's artifact URI, or
`models:/NAME/VERSION` resolved through the MLflow registry). A retrain deployed this way is a new
storageUri, hence a new revision: before issue 15 every deploy re-applied `serving.storage_uri`,
pinned to `metadata.version`, so a retrained model was never served."""

from __future__ import annotations

import shutil

import pytest
import yaml

from conftest import EXAMPLES, run_cli

from .test_kserve import judge

ISVC = "kserve/house-prices-api.yaml"
RUN_A = "s3://acme-ml/pipelines/house-prices/4f1c-run-a/train/model"
RUN_B = "s3://acme-ml/pipelines/house-prices/9d2e-run-b/train/model"


@pytest.fixture
def minimal(tmp_path):
    project = tmp_path / "minimal"
    shutil.copytree(EXAMPLES / "minimal", project, ignore=shutil.ignore_patterns("__pycache__", "mlflow.db"))
    return project


def compile_kserve(project, out: str, *args: str) -> tuple[int, str, dict]:
    code, stdout, stderr = run_cli("compile", "minimal.yaml", "--target", "kserve", "--out", out, *args,
                                   cwd=project, env={"MLFLOW_DISABLE_TELEMETRY": "true"})
    isvc = project / out / ISVC
    return code, stdout + stderr, yaml.safe_load(isvc.read_text()) if isvc.is_file() else {}


def storage(isvc: dict) -> str:
    return isvc["spec"]["predictor"]["model"]["storageUri"]


def test_the_served_model_is_exactly_the_runs_artifact_and_a_retrain_is_a_new_inference_service(minimal) -> None:
    code, out, by_hand = compile_kserve(minimal, "plain")
    assert code == 0, out
    assert storage(by_hand) == "s3://acme-ml/house-prices/0.1.0/"  # no --model: serving.storage_uri
    code, out, first = compile_kserve(minimal, "a", "--model", RUN_A)
    assert code == 0, out
    code, out, retrained = compile_kserve(minimal, "b", "--model", RUN_B)
    assert code == 0, out
    assert (storage(first), storage(retrained)) == (RUN_A, RUN_B)
    # the retrain changes what KServe loads, and nothing else: a new revision of the same service
    first["spec"]["predictor"]["model"].pop("storageUri")
    retrained["spec"]["predictor"]["model"].pop("storageUri")
    assert first == retrained
    judge({ISVC: (minimal / "b" / ISVC).read_bytes()}, minimal / "judged")


def registry(project, *sources: str) -> None:
    """An MLflow registry beside the spec (`--env local` tracks to sqlite:///mlflow.db) whose
    versions' files live in an object store, as a cluster's MLflow keeps them."""
    mlflow = pytest.importorskip("mlflow", reason="mlflow-skinny is in the test extra")
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    client.create_registered_model("house-prices")
    for source in sources:
        client.create_model_version("house-prices", source=source)


def test_a_registry_version_is_served_from_where_its_files_are(minimal) -> None:
    registry(minimal, RUN_A + "/mlflow", RUN_B + "/mlflow")
    code, out, isvc = compile_kserve(minimal, "out", "--env", "local", "--model", "models:/house-prices/2")
    assert code == 0, out
    assert storage(isvc) == RUN_B + "/mlflow" and "INFO" not in out


@pytest.mark.parametrize("model, code, expected", [
    ("file:///srv/models/house-prices", "MLD672", "KServe cannot load a model from `file:///srv/models/house-prices`"),
    ("/srv/models/house-prices", "MLD672", "KServe cannot load"),
    ("models:/house-prices@staging", "MLD673", "does not name one version"),
    ("models:/house-prices/latest", "MLD673", "does not name one version"),
    ("models:/churn-classifier/1", "MLD673", "is not this project's model `house-prices`"),
    ("models:/house-prices/7", "MLD673", "has no `house-prices` version 7"),
])
def test_a_model_kserve_cannot_load_or_the_registry_cannot_name_is_refused(minimal, model, code, expected) -> None:
    registry(minimal, RUN_A)
    status, out, _ = compile_kserve(minimal, "out", "--env", "local", "--model", model)
    assert status == 2 and f"error[{code}]" in out and expected in out, out
    assert "Traceback" not in out and not (minimal / "out").exists()


def test_a_registry_resolved_to_local_files_is_refused(minimal) -> None:
    registry(minimal, str(minimal / "mlruns/1/abc/artifacts/model"))  # MLflow's default local artifact store
    status, out, _ = compile_kserve(minimal, "out", "--env", "local", "--model", "models:/house-prices/1")
    assert status == 2 and "error[MLD672]" in out and "mlruns/1/abc" in out, out


def test_no_store_is_refused_without_creating_one(minimal) -> None:
    status, out, _ = compile_kserve(minimal, "out", "--env", "local", "--model", "models:/house-prices/1")
    assert status == 2 and "error[MLD673]" in out and "no MLflow store" in out, out
    assert not (minimal / "mlflow.db").exists()


def test_model_without_serving_model_is_a_usage_error(minimal) -> None:
    spec = minimal / "minimal.yaml"
    spec.write_text("\n".join(line for line in spec.read_text().splitlines()
                              if not line.startswith("  model: ")) + "\n")
    status, out, _ = compile_kserve(minimal, "out", "--model", RUN_A)
    assert status == 2 and "error[MLD671]" in out, out
