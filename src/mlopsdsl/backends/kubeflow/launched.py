"""A step that runs as a custom resource: its KFP container becomes `mlopsdsl.launch`.

The step's command, with KFP's placeholders still in it, goes into the job manifest, and the
manifest (JSON) is an argument of the launcher container. KFP resolves placeholders anywhere
inside an argument, so the job receives real URIs and parameter values. The launcher's source
is passed with `python3 -c` to a plain Python image, as KFP's lightweight components carry
their function's source: nothing is installed in the cluster, and the code that runs is the
tested module `mlopsdsl.launch`, byte for byte.

What stays on the KFP side: the task, its retries and timeout (the launcher's pod). What moves
into the job: image, env (secrets by reference), resources, node selector, tolerations, and
volumes, which are each worker's.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from mlopsdsl.backends import k8s
from mlopsdsl.ir import EnvVar, PathRef, Project, Step

from . import jobs
from .platform import node_labels, pod_volumes

LAUNCHER_IMAGE = "python:3.12-slim"  # the launcher needs the standard library only
POLL_SECONDS = 15
MANIFEST_FLAG = "--manifest"  # the launcher argument that carries the job, as JSON
PYTHON = re.compile(r"(.*/)?python(3(\.\d+)?)?")


def bare_python(step: Step) -> bool:
    """A `framework: pytorch` step whose `run` is `python ...`, not torchrun (nor its module
    `python -m torch.distributed.run`): the torch-distributed runtime sets only torchrun's `PET_*`
    variables (pkg/runtime/framework/plugins/torch of Trainer v2.3), so each node would train alone."""
    command = step.command
    if step.distributed is None or step.distributed.framework != "pytorch" or not command \
            or not isinstance(command[0], str):
        return False
    return bool(PYTHON.fullmatch(command[0])) and list(command[1:3]) != ["-m", "torch.distributed.run"]


@cache
def module_source(name: str) -> str:
    """A stdlib-only module of the package, run in a pipeline pod with `python3 -c`."""
    return resources.files("mlopsdsl").joinpath(name).read_text(encoding="utf-8")


def launcher_source() -> str:
    return module_source("launch.py")


def refusal(step: Step) -> tuple[str, str] | None:
    """What a launched step cannot do, as (feature, hint); None when it can run."""
    artifacts = {i.name for i in step.inputs if i.is_artifact}
    for arg in step.command:
        for part in getattr(arg, "parts", ()):
            local = isinstance(part, PathRef) and (part.attr in ("path", "value") if part.direction == "output"
                                                   else part.attr == "path" and part.name in artifacts)
            if local:
                where = "inputs" if part.direction == "input" else "outputs"
                return (f"`${{{{ {where}.{part.name}.path }}}}` in a distributed step (its workers run in pods of "
                        "their own, where the pipeline's local paths do not exist)",
                        f"pass `${{{{ {where}.{part.name}.uri }}}}` and read or write object storage, or mount a "
                        "`volumes:` PVC")
    if any(o.fields for o in step.outputs):
        return ("metrics `fields` on a distributed step's output (the launcher cannot read the workers' files)",
                "write the metrics to a URI and read them in a following step that declares the fields")
    return None


def worker_env(env: dict[str, str], secrets: list[EnvVar]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in sorted(env.items())]
    out += [k8s.secret_env(var) for var in sorted(secrets, key=lambda v: v.name)]
    return out


def worker_pod(step: Step) -> dict[str, Any]:
    """Pod-level scheduling of the workers: the same rules as a plain step's platform spec."""
    pod: dict[str, Any] = {}
    labels = node_labels(step)
    if labels:
        pod["nodeSelector"] = labels
    tolerations = [{k: t[k] for k in sorted(t) if t[k] is not None} for t in step.tolerations]
    tolerations += k8s.gpu_toleration(step.resources, tolerations)
    if tolerations:
        pod["tolerations"] = tolerations
    volumes, _ = pod_volumes(step)
    if volumes:
        pod["volumes"] = volumes
    return pod


def manifest(project: Project, step: Step, command: list[str], env: dict[str, str],
             secrets: list[EnvVar]) -> dict[str, Any]:
    assert step.distributed is not None
    build = jobs.rayjob if step.distributed.framework == "ray" else jobs.trainjob
    return build(project.name, step, command, worker_env(env, secrets), worker_pod(step), pod_volumes(step)[1])


def container(job: dict[str, Any], results: dict[str, str] | None = None, trials: str | None = None) -> dict[str, Any]:
    """The KFP container that runs the launcher on `job`; `results` maps a name to an output file,
    `trials` is the file every trial of an Experiment goes to."""
    command = ["python3", "-c", launcher_source(), MANIFEST_FLAG, json.dumps(job, sort_keys=True, separators=(",", ":")),
               "--poll", str(POLL_SECONDS)]
    for name, path in sorted((results or {}).items()):
        command += ["--result", f"{name}={path}"]
    if trials:
        command += ["--trials-file", trials]
    return {"command": command, "image": LAUNCHER_IMAGE}


def rbac(project: Project, kinds: set[str]) -> list[dict[str, Any]]:
    """A Role allowing exactly what the launcher does, bound to the service accounts KFP runs
    pipelines as: `default-editor` in a Kubeflow profile namespace (multi-user), and
    `pipeline-runner` (standalone KFP)."""
    plural = {"TrainJob": ("trainer.kubeflow.org", "trainjobs"), "RayJob": ("ray.io", "rayjobs"),
              "Experiment": ("kubeflow.org", "experiments")}
    rules = [{"apiGroups": [plural[k][0]], "resources": [plural[k][1]],
              "verbs": ["create", "delete", "get"]} for k in sorted(kinds)]
    if "Experiment" in kinds:  # the launcher lists an Experiment's trials when it is done
        rules.append({"apiGroups": ["kubeflow.org"], "resources": ["trials"], "verbs": ["list"]})
    name = f"{project.name}-launcher"
    meta = {"name": name, "namespace": project.namespace,
            "labels": {**project.labels, **k8s.MANAGED_BY}}
    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta, "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": project.namespace}
                      for account in ("default-editor", "pipeline-runner")]},
    ]
