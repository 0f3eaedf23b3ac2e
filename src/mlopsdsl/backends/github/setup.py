"""What the repository must provide before the workflows run: a checklist, and `SETUP.md`.

A workflow can name secrets, variables and environments but cannot create
them, and it cannot give an environment required reviewers. `checklist` says
exactly which ones this spec's workflows use, so the compiler can print it
and the output directory carries it.
"""

from __future__ import annotations

from mlopsdsl.backends import events
from mlopsdsl.backends.base import Artifact, setup_note
from mlopsdsl.backends.github import deploy, jobs, retrain, train
from mlopsdsl.backends.github.deploy import KUBECONFIG, PROMETHEUS_TOKEN
from mlopsdsl.ir import Project

__all__ = ["checklist", "note"]


def checklist(project: Project) -> list[str]:
    ci = project.ci
    if ci is None:
        return []
    items = ["Settings > Actions > General > Workflow permissions: 'Read repository contents' "
             "(every generated job asks for `contents: read` and nothing more).",
             f"Copy `workflows/{project.name}-*.yml` to `.github/workflows/`; the spec path they run "
             f"mlopsdsl on, `{project.spec_path}`, is relative to the repository root."]
    if ci.mlopsdsl is not None:
        where = f"from the index {ci.mlopsdsl.index}" if ci.mlopsdsl.index else "from the URL in the spec"
        items.append(f"The jobs install `{ci.mlopsdsl.requirement}` {where} on Python {ci.mlopsdsl.python}: "
                     "it must stay reachable from the runners.")
    by_name = {e.name: e for e in project.environments}
    kfp_envs = []
    if train.wanted(project):
        kfp_envs.append(ci.train_environment or (project.environments[0].name if project.environments else "?"))
    if retrain.wanted(project):
        kfp_envs.append(ci.retrain_environment or ci.train_environment
                        or (project.environments[0].name if project.environments else "?"))
        if retrain.drift_retrains(project):
            kfp_envs += [e.name for e in project.environments if e.kfp_host]
    for name in dict.fromkeys(kfp_envs):
        env = by_name.get(name)
        host = env.kfp_host if env else None
        training = train.training_environment(env) if env else f"{name}-training"
        items.append(f"Environment '{training}' (training in '{name}'): secret `{train.KFP_TOKEN}`, a bearer token "
                     f"for the KFP API at {host or '(no kfp_host)'} allowed to create runs in namespace "
                     f"'{env.namespace if env else '?'}' (leave empty only if that API needs no auth). Give it no "
                     "required reviewers (a scheduled or drift-started retrain would wait for one) and limit its "
                     "deployment branches to the branches that train.")
    if deploy.wanted(project):
        for name in ci.deploy_environments:
            env = by_name.get(name)
            if env is None:
                continue
            items.append(f"Environment '{name}': secret `{KUBECONFIG}`, the full kubeconfig text of a service "
                         f"account that may get, apply, patch and annotate InferenceServices (and apply the "
                         f"other generated kserve objects) in namespace '{env.namespace}'.")
            if env.approval:
                items.append(f"Environment '{name}' (approval: true): add required reviewers under Settings > "
                             f"Environments > {name} > Deployment protection rules; the workflow cannot.")
        items.append(f"The deploy serves the model its dispatch names (`workflow_dispatch` input `model`, or "
                     f"`client_payload.model` of a `repository_dispatch` of type `{events.deploy_event(project)}`): "
                     "a storage URI KServe loads. Whatever sends that dispatch after a model passed the pipeline's "
                     "gate (a register step) needs a fine-grained token for this repository with 'Contents: read "
                     "and write' (GitHub's requirement for repository_dispatch) and nothing more, in the Secret "
                     "it reads by name.")
        rollout = project.serving.rollout if project.serving else None
        if rollout and rollout.analysis is not None:
            items.append("Variable `PROMETHEUS_URL` (repository or per environment): the Prometheus HTTP API "
                         "base URL, reachable from the runner; the rollout analysis queries it. Optional secret "
                         f"`{PROMETHEUS_TOKEN}` for a bearer token.")
    if retrain.drift_retrains(project):
        items.append(f"The drift job sends a `repository_dispatch` of type `{events.retrain_event(project)}` "
                     f"naming its environment (`client_payload.{events.RETRAIN_ENVIRONMENT_KEY}`): give it a "
                     "fine-grained token for this repository with 'Contents: read and write' (GitHub's "
                     "requirement for repository_dispatch), stored where the monitoring output expects it.")
    if project.ci.install or project.ci.test:
        items.append("CI runs the spec's install and test commands as written, from the repository root.")
        for var in project.ci.env:
            if var.secret:
                items.append(f"Repository secret `{jobs.github_secret(var.secret)}`: the install and test commands "
                             f"read it as `{var.name}` (`ci.github.env`). GitHub gives it to pushes and pull "
                             "requests from this repository, never to a pull request from a fork.")
    return items


def note(project: Project, items: list[str]) -> Artifact:
    return setup_note("github/SETUP.md", f"GitHub setup for {project.name}",
                      f"Generated by mlopsdsl from {project.spec_path}. The workflows in `workflows/` go to "
                      "`.github/workflows/` of the repository; before they can run:", items,
                      "See docs/targets/github.md of mlopsdsl for what each workflow does.")
