"""GitHub Actions target: `github/workflows/{ci,train,deploy,retrain}.yml` and `github/SETUP.md`.

Workflows are built as data (dicts) by one module each, checked by
`shell.check_workflow` (no `${{` in any `run:`, no expression the backend did
not write), and returned as YAML documents for the one serializer.

Each pinned `uses:` carries its tag as a trailing comment through
`Commented` strings, so workflows stay data that `patches:` can edit.
"""

from __future__ import annotations

from typing import Any

from mlopsdsl.backends.base import Artifact, Backend
from mlopsdsl.backends.github import ci, deploy, retrain, setup, train
from mlopsdsl.backends.github.pins import check_pinned
from mlopsdsl.backends.github.shell import UnsafeWorkflow, check_workflow
from mlopsdsl.ir import Project

__all__ = ["GitHubBackend"]


class GitHubBackend(Backend):
    name = "github"
    description = "GitHub Actions workflows: CI, training, gated deploys and retraining"

    def compile(self, project: Project) -> list[Artifact]:
        if project.ci is None:
            return []
        def report(feature: str, hint: str) -> None:
            self.unsupported(feature, None, hint)

        documents: dict[str, dict[str, Any] | None] = {"ci": ci.build_ci(project, project.ci, report)}
        if train.wanted(project):
            documents["train"] = train.build_train(project, report)
        if deploy.wanted(project):
            documents["deploy"] = deploy.build_deploy(project, report)
        if retrain.wanted(project):
            documents["retrain"] = retrain.build_retrain(project, report)

        artifacts = [self._workflow(project, name, doc) for name, doc in documents.items() if doc is not None]
        artifacts.append(Artifact("github/SETUP.md", format="text", text=setup.render(project, self.checklist(project))))
        return artifacts

    def next_steps(self, project: Project) -> list[str]:
        return self.checklist(project)

    def checklist(self, project: Project) -> list[str]:
        """What a repository admin must set up before the workflows can run (printed after compile)."""
        return setup.checklist(project)

    def _workflow(self, project: Project, name: str, document: dict[str, Any]) -> Artifact:
        try:
            check_workflow(document)
            check_pinned(document)
        except (UnsafeWorkflow, ValueError) as exc:  # a backend bug: refuse to emit rather than emit an injection
            raise RuntimeError(f"github/workflows/{name}.yml: {exc}") from exc
        return Artifact(f"github/workflows/{name}.yml", documents=(document,), header=self.header(project))
