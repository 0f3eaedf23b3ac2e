"""`tune:` -> a Katib v0.19.0 Experiment run by a launcher task, then the step once more with the best values.

A tuned step S becomes two tasks. `S-search` launches an Experiment whose trials run S's command
(as a batch Job, or as S's TrainJob when S is distributed) with Katib's `${trialParameters.P}` in
place of each tuned parameter, and writes the best trial's values to its outputs `best_P` (and the
objective `best_F`). S itself then runs as an ordinary task whose tuned parameters read those
outputs: the refit, as scikit-learn's search estimators refit on the best values, so the Model and
Metrics that downstream steps read are the best trial's, produced where KFP stores artifacts.

Trials report the objective to Katib's StdOut collector as `field=value` lines, printed from the
metrics JSON the step writes (the same contract as `when` on metrics fields, docs/targets/kubeflow.md).
Algorithm names: `katib-config.yaml` of v0.19.0 (tpe/random: hyperopt, grid/multivariate-tpe:
optuna, bayesianoptimization: scikit-optimize, cmaes/sobol: goptuna, hyperband).
"""

from __future__ import annotations

import json
from typing import Any

from mlopsdsl.backends import k8s
from mlopsdsl.ir import Output, ParamRef, PathRef, Pipeline, Project, Step, StepOutputRef, Template
from mlopsdsl.ir import SearchParam, Tune

from . import jobs
from .platform import pod_volumes

EXPERIMENT = "kubeflow.org/v1beta1"
ALGORITHM = {"tpe": "tpe", "random": "random", "grid": "grid", "bayesian": "bayesianoptimization",
             "cmaes": "cmaes", "sobol": "sobol", "multivariate_tpe": "multivariate-tpe", "hyperband": "hyperband"}
KATIB_NAME_ROOM = 40 - 5  # the webhook's 40 characters, less generateName's suffix
TRIAL_CONTAINER = "training"
TRIAL_OUTPUTS = "/tmp/mlopsdsl/outputs"  # trials write their outputs here; Katib reads stdout
SEARCH_SUFFIX = "-search"
TRIALS = "trials"  # the Optuna search task's output: every trial, as JSON

# After the command, print each metrics field as `name=value` for Katib's StdOut collector.
REPORT = """\
"$@"
python3 - "$MLOPSDSL_METRICS" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
if isinstance(data.get("metrics"), list):
    data = {m.get("name"): m.get("numberValue", m.get("value")) for m in data["metrics"]}
for name, value in sorted(data.items()):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        print(f"{name}={value}")
EOF
"""


def best(name: str) -> str:
    return f"best_{name}"


def search_name(step: Step) -> str:
    return step.name + SEARCH_SUFFIX


def expand(project: Project) -> Pipeline:
    """The pipeline with each tuned step split into its search and its refit."""
    pipeline = project.pipeline
    assert pipeline is not None
    types = {p.name: p.type for p in project.params}
    searches = {s.name: search_name(s) for s in pipeline.steps if s.tune is not None}
    steps: list[Step] = []
    for step in pipeline.steps:
        step = _read_trials_from_search(step, searches)
        if step.tune is None:
            steps.append(step)
            continue
        tuned = {p.name for p in step.tune.params}
        objective = next(o for o in step.outputs if o.name == step.tune.output)
        search = step.model_copy(update={
            "name": search_name(step), "id": step.id + SEARCH_SUFFIX, "cache": False,
            "command": tuple(_trial_arg(arg, tuned) for arg in step.command),
            "outputs": tuple(Output(name=best(p), type=types[p]) for p in sorted(tuned))
            + (Output(name=best(step.tune.field), type=objective.fields[step.tune.field]),)
            + (Output(name=TRIALS, type="str", description="every trial: parameters, metrics, state (JSON)"),),
        })
        refit = step.model_copy(update={
            "tune": None, "depends_on": tuple(sorted({*step.depends_on, search.name})),
            "outputs": tuple(o for o in step.outputs if o.name != TRIALS),
            "command": tuple(_refit_arg(arg, tuned, search.name, types) for arg in step.command),
        })
        steps += [search, refit]
    return pipeline.model_copy(update={"steps": tuple(steps)})


def _read_trials_from_search(step: Step, searches: dict[str, str]) -> Step:
    """`steps.S.outputs.trials` is written by S's search task, not by the refit."""
    refs = [*(i.source for i in step.inputs), *(p for a in step.command if not isinstance(a, str) for p in a.parts)]
    readers = {searches[n.step] for n in refs
               if isinstance(n, StepOutputRef) and n.step in searches and n.output == TRIALS}
    if not readers:
        return step

    def moved(node):
        if isinstance(node, StepOutputRef) and node.step in searches and node.output == TRIALS:
            return node.model_copy(update={"step": searches[node.step]})
        return node

    return step.model_copy(update={
        "inputs": tuple(i.model_copy(update={"source": moved(i.source)}) for i in step.inputs),
        "command": tuple(a if isinstance(a, str) else Template(parts=tuple(map(moved, a.parts)))
                         for a in step.command),
        "depends_on": tuple(sorted({*step.depends_on, *readers}))})


def _trial_arg(arg, tuned: set[str]):
    if isinstance(arg, str):
        return arg
    parts = []
    for part in arg.parts:
        if isinstance(part, ParamRef) and part.name in tuned:
            part = "${trialParameters.%s}" % part.name
        elif isinstance(part, PathRef) and part.direction == "output":
            part = f"{TRIAL_OUTPUTS}/{part.name}"
        parts.append(part)
    return Template(parts=tuple(parts)) if any(not isinstance(p, str) for p in parts) else "".join(parts)


def _refit_arg(arg, tuned: set[str], search: str, types: dict[str, str]):
    if isinstance(arg, str):
        return arg
    return Template(parts=tuple(
        StepOutputRef(step=search, output=best(p.name), type=types[p.name])
        if isinstance(p, ParamRef) and p.name in tuned else p for p in arg.parts))


def refusal(step: Step) -> tuple[str, str] | None:
    assert step.tune is not None
    if step.tune.engine == "optuna":  # trials are subprocesses of the search task: its paths are theirs
        if step.distributed is not None:
            return ("`engine: optuna` on a distributed step (its trials would be multi-pod jobs)",
                    "use `engine: katib`, whose trials can be TrainJobs")
        return None
    artifacts = {i.name for i in step.inputs if i.is_artifact}
    for arg in step.command:
        for part in getattr(arg, "parts", ()):
            if isinstance(part, PathRef) and part.direction == "input" and part.attr == "path" \
                    and part.name in artifacts:
                return (f"`${{{{ inputs.{part.name}.path }}}}` in a tuned step (trials run in pods of their own)",
                        f"pass `${{{{ inputs.{part.name}.uri }}}}` and read object storage")
    if step.when is not None or step.for_each is not None:
        return ("`tune` on a step with `when` or `for_each`", "tune a step of its own and gate what follows it")
    return None


def parameter(param: SearchParam) -> dict[str, Any]:
    if param.kind == "choice":
        return {"name": param.name, "parameterType": "categorical",
                "feasibleSpace": {"list": [_text(v) for v in param.values]}}
    number = (lambda v: str(int(v))) if param.kind == "int" else _text
    space: dict[str, Any] = {"min": number(param.low), "max": number(param.high)}
    if param.step is not None:
        space["step"] = number(param.step)
    if param.kind == "loguniform":
        space["distribution"] = "logUniform"
    elif param.kind == "uniform":
        space["distribution"] = "uniform"
    return {"name": param.name, "parameterType": "int" if param.kind == "int" else "double", "feasibleSpace": space}


def _text(value: Any) -> str:
    """Katib's feasible space is text; its suggestion services parse it with float() / int()."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def trial_spec(project: Project, search: Step, command: list[str], env: list[dict[str, Any]],
               pod: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The trial resource (Katib substitutes `${trialParameters.P}`) and its primary container."""
    tune = search.tune
    assert tune is not None
    metrics = f"{TRIAL_OUTPUTS}/{tune.output}"
    wrapped = ["sh", "-ec", f"mkdir -p {TRIAL_OUTPUTS}\n" + REPORT, "mlopsdsl-trial", *command]
    env = [*env, {"name": "MLOPSDSL_METRICS", "value": metrics}]
    if search.distributed is not None:
        job = jobs.trainjob(project.name, search, wrapped, env, pod, pod_volumes(search)[1])
        job["metadata"].pop("generateName")  # Katib names each trial's job
        return job, "node"
    container: dict[str, Any] = {"name": TRIAL_CONTAINER, "image": search.image, "command": wrapped, "env": env}
    resources = k8s.container_resources(search.resources)
    if resources:
        container["resources"] = resources
    if search.volumes:
        container["volumeMounts"] = pod_volumes(search)[1]
    spec: dict[str, Any] = {"template": {"spec": {**pod, "containers": [container], "restartPolicy": "Never"}},
                            "backoffLimit": 0}
    if search.timeout:
        spec["activeDeadlineSeconds"] = int(search.timeout)
    trial_job: dict[str, Any] = {"apiVersion": "batch/v1", "kind": "Job", "spec": spec}
    if search.pod_labels:  # on the Job (a Kueue queue admits it by them) and on its pod
        trial_job["metadata"] = {"labels": dict(sorted(search.pod_labels.items()))}
        spec["template"]["metadata"] = {"labels": dict(sorted(search.pod_labels.items()))}
    return trial_job, TRIAL_CONTAINER


def experiment(project: Project, search: Step, trial: dict[str, Any], primary: str,
               objective_fields: list[str]) -> dict[str, Any]:
    tune: Tune | None = search.tune
    assert tune is not None
    base = f"{project.name}-{search.id}"[: KATIB_NAME_ROOM - 1].rstrip("-") + "-"
    spec: dict[str, Any] = {
        "objective": {"type": tune.goal, "objectiveMetricName": tune.field},
        "algorithm": {"algorithmName": ALGORITHM[tune.algorithm]},
        "parallelTrialCount": tune.parallel,
        "maxTrialCount": tune.trials,
        "parameters": [parameter(p) for p in tune.params],
        "metricsCollectorSpec": {"collector": {"kind": "StdOut"}},
        "trialTemplate": {
            "primaryContainerName": primary,
            "trialParameters": [{"name": p.name, "reference": p.name} for p in tune.params],
            "trialSpec": trial,
            "successCondition": 'status.conditions.#(type=="Complete")#|#(status=="True")#',
            "failureCondition": 'status.conditions.#(type=="Failed")#|#(status=="True")#',
        },
    }
    others = [f for f in objective_fields if f != tune.field]
    if others:
        spec["objective"]["additionalMetricNames"] = others
    if tune.max_failed is not None:
        spec["maxFailedTrialCount"] = tune.max_failed
    if tune.early_stopping is not None:
        spec["earlyStopping"] = {"algorithmName": "medianstop", "algorithmSettings": [
            {"name": "min_trials_required", "value": str(tune.early_stopping.min_trials)},
            {"name": "start_step", "value": str(tune.early_stopping.start_step)}]}
    return {"apiVersion": EXPERIMENT, "kind": "Experiment",
            "metadata": {"generateName": base,
                         "labels": {**k8s.MANAGED_BY, "mlopsdsl/step": search.id}},
            "spec": spec}



def optuna_command(search: Step, trial_command: list[str], results: dict[str, str], trials_file: str,
                   source: str) -> list[str]:
    """The search task's command with `engine: optuna`: mlopsdsl.search around the trial command."""
    tune = search.tune
    assert tune is not None
    space = {p.name: {k: v for k, v in (("kind", p.kind), ("low", p.low), ("high", p.high), ("step", p.step),
                                         ("values", list(p.values) if p.values else None)) if v is not None}
             for p in tune.params}
    # `python`, the step's own interpreter (the one its trials' `python -m ...` use, with optuna):
    # kfp.local swaps `python3` for its own interpreter, which is not the step's environment.
    command = ["python", "-c", source, "--space", json.dumps(space, sort_keys=True), "--objective", tune.field,
               "--metrics", tune.output, "--goal", tune.goal, "--algorithm", tune.algorithm,
               "--trials", str(tune.trials), "--parallel", str(tune.parallel), "--outputs", TRIAL_OUTPUTS,
               "--trials-file", trials_file]
    if tune.max_failed is not None:
        command += ["--max-failed", str(tune.max_failed)]
    for name, path in sorted(results.items()):
        command += ["--result", f"{name}={path}"]
    return [*command, "--", *trial_command]
