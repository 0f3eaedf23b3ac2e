"""The `repository_dispatch` events the generated pieces send each other, named once.

A pipeline step (or a person) starts a deploy, the drift job starts a retrain. The
event type carries the project's name, so two projects that share a repository never
start each other's workflows; the deploy payload names the model to serve
(`client_payload.model`, a storage URI), the retrain payload names the environment the drift was
seen in (`client_payload.environment`), and the retrain workflow trains there.
"""

from __future__ import annotations

from mlopsdsl.ir import Project

__all__ = ["DEPLOY_MODEL_KEY", "RETRAIN_ENVIRONMENT_KEY", "deploy_event", "retrain_event"]

DEPLOY_MODEL_KEY = "model"  # in client_payload: the storage URI of the model to deploy
RETRAIN_ENVIRONMENT_KEY = "environment"  # in client_payload: which environment drifted


def deploy_event(project: Project) -> str:
    return f"mlopsdsl-deploy-{project.name}"


def retrain_event(project: Project) -> str:
    return f"mlopsdsl-retrain-{project.name}"
