"""GitHub Actions target: `github/workflows/<project>-{ci,train,deploy,retrain}.yml` and `github/SETUP.md`.

Workflows are built as data (dicts) by one module each, checked by
`shell.check_workflow` (no `${{` in any `run:`, no expression the backend did
not write), and returned as YAML documents for the one serializer.

Each pinned `uses:` carries its tag as a trailing comment through
`Commented` strings, so workflows stay data that `patches:` can edit.

The workflows serve every environment at once, so the output does not depend on
`--env`: workflow-wide values come from the spec without an environment, and each
environment's job from the spec resolved for it (`Project.for_environment`).
"""

from __future__ import annotations

from typing import Any

from mlopsdsl.backends.base import Artifact, Backend, codes, decide
from mlopsdsl.backends.github import ci, deploy, jobs, retrain, setup, train
from mlopsdsl.backends.github.pins import check_pinned
from mlopsdsl.backends.github.shell import UnsafeWorkflow, check_workflow
from mlopsdsl.ir import Project

__all__ = ["GitHubBackend"]


class GitHubBackend(Backend):
    name = "github"
    description = "GitHub Actions workflows: CI, training, gated deploys and retraining"
    decisions = {
        "Step": "n/a: the train workflow submits the pipeline the kubeflow target compiled",
        **decide("emit", "Serving", "name protocol rollout transformer"),
        **decide("n/a: the deploy workflow applies the manifests the kserve target wrote", "Serving",
                 "namespace model_step model_output storage_uri storage_secret framework deployment_mode metrics "
                 "runtime grpc_port knative_features min_replicas max_replicas autoscale_metric autoscale_target "
                 "resources variants"),
    }

    def check(self, project: Project) -> None:
        start = len(self.diagnostics)
        serving = project.serving
        if serving is not None and serving.protocol == "grpc-v2" and serving.rollout.no_traffic.action == "probe":
            self.warn(codes.NO_TRAFFIC_PROBE, "the deploy workflow's no-traffic probe posts JSON over REST, and "
                      "this service speaks gRPC", project.locate("serving", "rollout", "no_traffic", "action"),
                      "use `action: promote` or `rollback`")
        ci = project.ci
        if ci is None:
            return
        if ci.mlopsdsl is None:
            self.warn(codes.TOOL_INSTALL_REQUIRED, "the workflows install mlopsdsl, and `ci.github.mlopsdsl` does "
                      "not say from where", project.locate("ci", "github", key=True),
                      "add `mlopsdsl: git+https://<your mirror>@<commit>` (or a wheel URL with #sha256=, or "
                      "{install: VERSION, index: URL}): a bare `pip install mlopsdsl` would take whatever the "
                      "public index serves under that name, in a job that holds your kubeconfig")
        environments = {e.name: e for e in project.environments}
        train = environments.get(ci.train_environment) if ci.train_environment else None
        if train is not None and not train.kfp_host:
            self.warn(codes.CI_ENVIRONMENT_NEEDS_HOST, f"the train workflow submits to environment '{train.name}', "
                      "which has no kfp_host", project.locate("ci", "github", "train", "environment"),
                      f"add `kfp_host:` to environments.{train.name}")
        # What a workflow cannot express (`${{` in a dispatch input, a branch...) is found by building
        # them, as compile does (when it would: nothing refused above); the documents are dropped.
        if not any(d.is_error for d in self.diagnostics[start:]):
            self._documents(independent_of_env(project))

    def compile(self, project: Project) -> list[Artifact]:
        project = independent_of_env(project)
        if project.ci is None or project.ci.mlopsdsl is None:  # refused by `check`
            return []
        documents = self._documents(project)
        artifacts = [self._workflow(project, name, doc) for name, doc in documents.items() if doc is not None]
        artifacts.append(setup.note(project, self.checklist(project)))
        return artifacts

    def _documents(self, project: Project) -> dict[str, dict[str, Any] | None]:
        """The workflows as documents; what they cannot express is reported (`check` runs this too)."""
        reported: set[str] = set()

        def report(feature: str, hint: str) -> None:
            # The CI jobs are built into several workflows: one problem, one diagnostic.
            if feature not in reported:
                reported.add(feature)
                self.unsupported(feature, project.ci.span if project.ci else None, hint)

        documents: dict[str, dict[str, Any] | None] = {"ci": ci.build_ci(project, project.ci, report)}
        if train.wanted(project):
            documents["train"] = train.build_train(project, report)
        if deploy.wanted(project):
            documents["deploy"] = deploy.build_deploy(project, report)
        if retrain.wanted(project):
            documents["retrain"] = retrain.build_retrain(project, report)
        return documents

    def next_steps(self, project: Project) -> list[str]:
        return self.checklist(project)

    def checklist(self, project: Project) -> list[str]:
        """What a repository admin must set up before the workflows can run (printed after compile)."""
        return setup.checklist(independent_of_env(project))

    def _workflow(self, project: Project, name: str, document: dict[str, Any]) -> Artifact:
        path = jobs.workflow_path(project, name)
        try:
            check_workflow(document)
            check_pinned(document)
        except (UnsafeWorkflow, ValueError) as exc:  # a backend bug: refuse to emit rather than emit an injection
            raise RuntimeError(f"{path}: {exc}") from exc
        return Artifact(path, documents=(document,), header=self.header(project))


def independent_of_env(project: Project) -> Project:
    """The spec without an environment's overlay, still able to resolve each environment."""
    if project.base is None:
        return project
    return project.base.model_copy(update={"by_environment": project.by_environment})
