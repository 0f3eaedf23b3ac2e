"""MLflow tracking where the spec's `tracking.mlflow` set MLFLOW_TRACKING_URI for the step (the
`local` environment: a SQLite store beside the spec); nothing at all without it. mlflow is
imported only then."""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator


def enabled() -> bool:
    return bool(os.environ.get("MLFLOW_TRACKING_URI"))


@contextlib.contextmanager
def tracked(name: str, params: dict[str, Any] | None = None, here: bool = True) -> Iterator[Any]:
    """An MLflow run named NAME with PARAMS logged (the mlflow module), or None: no store, or not
    HERE (a DDP rank other than 0: one run per training, not one per process)."""
    if not (here and enabled()):
        yield None
        return
    import mlflow

    with mlflow.start_run(run_name=name):
        if params:
            mlflow.log_params(params)
        yield mlflow


def register(folder: str, name: str) -> int:
    """FOLDER's files as a new version of the registered model NAME; its version number."""
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    with mlflow.start_run(run_name="publish") as run:
        mlflow.log_artifacts(folder, artifact_path="model")
    if not client.search_registered_models(filter_string=f"name = '{name}'"):
        client.create_registered_model(name)
    return int(client.create_model_version(name, source=f"{run.info.artifact_uri}/model",
                                           run_id=run.info.run_id).version)
