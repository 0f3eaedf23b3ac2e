"""GitHub Actions target: `github/workflows/{ci,train,deploy,retrain}.yml` and `github/SETUP.md`.

Workflows are built as data (dicts) by one module each, checked by
`shell.check_workflow` (no `${{` in any `run:`, no expression the backend did
not write), serialized once with the project serializer, and then get their
pin comments (`# v7.0.1` after each `uses:`) from `pins.annotate`.

Why the workflows are `text` artifacts: the serializer writes no comments
inside documents, and the version comment beside each SHA is what keeps a
commit pin reviewable. The text is re-read and compared with the document
before it is returned, so the post-processing cannot change a value. The
cost: `patches:` cannot target these files until the serializer can carry
trailing comments (requested from its owner); see docs/targets/github.md.
"""

from __future__ import annotations

from typing import Any

import yaml

from mlopsdsl.backends.base import Artifact, Backend
from mlopsdsl.backends.github import ci, deploy, retrain, setup, train
from mlopsdsl.backends.github.pins import annotate
from mlopsdsl.backends.github.shell import UnsafeWorkflow, check_workflow
from mlopsdsl.ir import Project
from mlopsdsl.serialize import dump_yaml

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

    def checklist(self, project: Project) -> list[str]:
        """What a repository admin must set up before the workflows can run (printed after compile)."""
        return setup.checklist(project)

    def _workflow(self, project: Project, name: str, document: dict[str, Any]) -> Artifact:
        try:
            check_workflow(document)
        except UnsafeWorkflow as exc:  # a backend bug: refuse to emit rather than emit an injection
            raise RuntimeError(f"github/workflows/{name}.yml: {exc}") from exc
        plain = dump_yaml(document)
        text = annotate(plain)
        if yaml.safe_load(text) != yaml.safe_load(plain):
            raise RuntimeError(f"github/workflows/{name}.yml: pin comments changed the document")
        head = "".join(f"# {line}\n" for line in self.header(project).splitlines())
        return Artifact(f"github/workflows/{name}.yml", format="text", text=head + text)
