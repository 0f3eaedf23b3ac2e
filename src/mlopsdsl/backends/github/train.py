"""`<project>-train.yml`: run CI, then compile the Kubeflow pipeline and submit a run to the
environment's KFP.

Triggered by a push to `ci.github.train.on_branch` and by `workflow_dispatch`,
whose inputs are the spec's `params` (typed, with the training environment's
defaults). The training job `needs:` the CI jobs of the same commit: no
training on a push whose tests fail. The submission is a constant Python script
(`shell: python`) that reads everything from env: host, token, parameter values
and their types. A push has no inputs, so every parameter arrives empty and the
pipeline's own defaults apply; a dispatch overrides only what it sets. Also used
by `retrain.py` (the same flow, other triggers).

Training jobs are bound to the GitHub environment `<env>-training`, which holds
the KFP token: not to `<env>` itself, whose protection rules (required reviewers
for `approval: true`) guard deploys and would hold every scheduled or
drift-started retrain until someone approves it.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Optional

from mlopsdsl.backends.github import jobs
from mlopsdsl.backends.github.pins import KFP_REQUIREMENT
from mlopsdsl.backends.github.shell import Clause, Env, Input, Script, Secret, condition, run_step, spec_text
from mlopsdsl.ir import Environment, Param, Project

__all__ = ["KFP_TOKEN", "build_train", "dispatch_inputs", "pick_environment", "train_job", "training_environment",
           "wanted"]

Report = Callable[[str, str], None]
KFP_TOKEN = "KFP_TOKEN"  # environment secret: bearer token for the KFP API
PARAM_PREFIX = "MLOPSDSL_PARAM_"
_PARAM_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_INPUT_TYPES = {"int": "number", "float": "number", "bool": "boolean", "str": "string"}

SUBMIT = '''\
import json
import os

import kfp

PREFIX = "MLOPSDSL_PARAM_"


def convert(kind, raw):
    if kind == "bool":
        return raw.strip().lower() == "true"
    if kind == "int":
        number = float(raw)
        if not number.is_integer():
            raise SystemExit("parameter value is not an integer: " + raw)
        return int(number)
    if kind == "float":
        return float(raw)
    return raw


types = json.loads(os.environ["MLOPSDSL_PARAM_TYPES"])
arguments = {}
for name, kind in sorted(types.items()):
    raw = os.environ.get(PREFIX + name.upper(), "")
    if raw != "":
        arguments[name] = convert(kind, raw)

client = kfp.Client(host=os.environ["KFP_HOST"], existing_token=os.environ.get("KFP_TOKEN") or None)
run_name = "-".join([os.environ["MLOPSDSL_PROJECT"], os.environ["MLOPSDSL_TRIGGER"], os.environ["MLOPSDSL_RUN_ID"]])
result = client.create_run_from_pipeline_package(
    os.environ["MLOPSDSL_PACKAGE"],
    arguments=arguments,
    run_name=run_name,
    experiment_name=os.environ["MLOPSDSL_PROJECT"],
    namespace=os.environ["MLOPSDSL_NAMESPACE"],
)
with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
    summary.write("Submitted KFP run " + str(result.run_id) + " with " + json.dumps(arguments, sort_keys=True) + "\\n")
print("KFP run", result.run_id)
'''


def training_environment(environment: Environment) -> str:
    """The GitHub environment a training job binds: the KFP token's home, without deploy approvals."""
    return f"{environment.name}-training"


def wanted(project: Project) -> bool:
    return bool(project.ci and project.ci.train_on_branch and project.pipeline)


def pick_environment(project: Project, name: Optional[str], what: str, report: Report) -> Optional[Environment]:
    """The named environment, else the first declared; reported when there is none or it has no KFP."""
    chosen = next((e for e in project.environments if e.name == name), None) if name else None
    if chosen is None and not name and project.environments:
        chosen = project.environments[0]
    if chosen is None:
        report(f"{what} without an environment", "declare `environments:` with a kfp_host")
        return None
    if not chosen.kfp_host:
        report(f"{what} in environment '{chosen.name}' without a kfp_host",
               f"set environments.{chosen.name}.kfp_host to the KFP API URL")
        return None
    return chosen


def usable_params(project: Project, report: Report) -> list[Param]:
    params = []
    for param in project.params:
        if not _PARAM_NAME.fullmatch(param.name):
            report(f"the parameter name {param.name!r} as a workflow input", "use `[a-z_][a-z0-9_]*`")
            continue
        params.append(param)
    return params


def dispatch_inputs(params: list[Param], report: Report) -> dict[str, Any]:
    """`workflow_dispatch.inputs` from typed params. GitHub does not evaluate `on:`, so a
    `${{` in a default, choice or description is refused rather than escaped."""
    inputs: dict[str, Any] = {}
    for param in params:
        spec: dict[str, Any] = {"description": param.description or f"{param.type} parameter {param.name}",
                                "required": False}
        if param.type == "str" and param.choices:
            spec["type"] = "choice"
            spec["options"] = [str(c) for c in param.choices]
        else:
            spec["type"] = _INPUT_TYPES[param.type]
        if param.default is not None:
            spec["default"] = param.default if param.type != "str" else str(param.default)
        texts = [spec["description"], *spec.get("options", []), str(spec.get("default", ""))]
        if any("${{" in t for t in texts):
            report(f"`${{{{` in parameter '{param.name}' (default, choices or description)",
                   "workflow_dispatch inputs are plain text")
            spec.pop("default", None)
            spec["description"] = f"{param.type} parameter {param.name}"
            spec.pop("options", None)
            spec["type"] = _INPUT_TYPES[param.type]
        inputs[param.name] = spec
    return inputs


def submit_step(project: Project, environment: Environment, params: list[Param], with_inputs: bool) -> dict[str, Any]:
    env = Env()
    env.bind("KFP_HOST", environment.kfp_host or "")
    env.bind("KFP_TOKEN", Secret(KFP_TOKEN))
    env.bind("MLOPSDSL_NAMESPACE", environment.namespace)
    env.bind("MLOPSDSL_PACKAGE", "build/kubeflow/pipeline.yaml")
    env.bind("MLOPSDSL_PARAM_TYPES", json.dumps({p.name: p.type for p in params}, sort_keys=True))
    jobs.run_name_env(env, project)
    if with_inputs:
        for param in params:
            env.bind(PARAM_PREFIX + param.name.upper(), Input(param.name))
    return run_step(f"Submit the pipeline to {environment.name}", Script().text(SUBMIT), env, shell="python")


def train_job(project: Project, environment: Environment, params: list[Param], with_inputs: bool,
              title: str = "Train", needs: list[str] | None = None, when: Clause | None = None) -> dict[str, Any]:
    """Compile and submit, with `project` resolved for `environment` (its namespace, defaults, overlay)."""
    ci = project.ci
    assert ci is not None and ci.mlopsdsl is not None
    env = Env()
    kfp = env.bind("MLOPSDSL_KFP", KFP_REQUIREMENT)
    steps = [
        jobs.checkout(),
        jobs.setup_python(ci.mlopsdsl.python),
        jobs.install_mlopsdsl(ci.mlopsdsl),
        run_step("Install the KFP SDK", Script().line("python -m pip install", kfp), env),
        jobs.compile_step(project, environment, "kubeflow"),
        submit_step(project, environment, params, with_inputs),
    ]
    # One submission per project and environment at a time (train and retrain share the group):
    # the newer waits, none is cancelled half-submitted.
    concurrency = {"group": spec_text(f"{project.name}-train-{environment.name}"), "cancel-in-progress": False}
    return jobs.job(f"{title} in {environment.name}", ci.runs_on, steps, timeout=30,
                    environment=training_environment(environment), concurrency=concurrency, needs=needs,
                    condition=condition(when) if when is not None else None)


def build_train(project: Project, report: Report) -> Optional[dict[str, Any]]:
    ci = project.ci
    assert ci is not None and ci.train_on_branch
    environment = pick_environment(project, ci.train_environment, "ci.github.train", report)
    if environment is None:
        return None
    if "${{" in ci.train_on_branch:
        report("`${{` in ci.github.train.on_branch", "a branch name or glob")
        return None
    # The dispatch form shows the training environment's own defaults, whatever `--env` compiled.
    resolved = project.for_environment(environment.name)
    params = usable_params(resolved, report)
    on: dict[str, Any] = {"push": {"branches": [ci.train_on_branch]}}
    on["workflow_dispatch"] = {"inputs": dispatch_inputs(params, report)} if params else {}
    ci_jobs = jobs.ci_jobs(project.for_environment(None), report)
    job = train_job(resolved, environment, params, with_inputs=True, needs=list(ci_jobs))
    return jobs.workflow(f"{project.name} train", on, {**ci_jobs, "train": job})
