"""`data:` sources a step reads -> one task each at the top of the pipeline.

A `uri:` source read as an artifact becomes a KFP importer (`dsl.importer` in kfp
terms): no pod, the URI is registered as a Dataset artifact (anew each run: the
data at a URI changes) and handed to the steps that read it; one read only by
`.uri` is passed as a string and needs no task. A `dvc:` source becomes a generated fetch step that runs
`dvc get --rev REV REPO PATH -o <artifact path>` in DVC_IMAGE: the revision is
pinned by the spec, so the step is cacheable and its output is a Dataset like
any other. The tasks sit in the top DAG (inside the exit handler when there is
one), so a failed fetch still triggers `on_exit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlopsdsl.ir import DataRef, DataSource, PathRef, Project, Step, Template, walk

from .platform import secrets_as_env
from .topology import step_refs
from .types import DVC_IMAGE, artifact_type, dns_name


@dataclass
class DataTask:
    component: dict[str, Any]
    executor: dict[str, Any]
    task: dict[str, Any]
    output: str  # the output artifact key
    config: dict[str, Any] = field(default_factory=dict)  # its KubernetesExecutorConfig (the remote's secrets)


def referenced(project: Project, uri_only: dict[str, dict[str, str]]) -> list[DataSource]:
    """The data sources some step reads as an artifact, in declared order (unread ones, and ones
    read only by URI, need no task)."""
    assert project.pipeline is not None
    names = {inp.source.name for step in project.pipeline.steps for inp in step.inputs
             if isinstance(inp.source, DataRef) and inp.name not in uri_only.get(step.name, {})}
    names |= {node.name for step in project.pipeline.steps for node in _non_input_refs(step)
              if isinstance(node, DataRef)}
    return [source for source in project.data if source.name in names]


def _non_input_refs(step: Step):
    inputs = {id(node) for inp in step.inputs for node in walk(inp.source)}
    return (node for node in step_refs(step) if id(node) not in inputs)


def uri_only_inputs(step: Step, sources: dict[str, DataSource]) -> dict[str, str]:
    """Inputs bound to a `uri:` source that `run` reads only as `.uri`: input name -> the URI.

    An input artifact is downloaded into the pod by the KFP launcher before the command starts;
    for a data-lake prefix that is a copy of the lake. Read by URI only, the step gets the URI
    as a plain string parameter instead, and nothing is copied.
    """
    attrs: dict[str, set[str]] = {}
    for arg in step.command:
        for part in arg.parts if isinstance(arg, Template) else ():
            for node in () if isinstance(part, str) else walk(part):
                if isinstance(node, PathRef) and node.direction == "input":
                    attrs.setdefault(node.name, set()).add(node.attr)
    out = {}
    for inp in step.inputs:
        source = sources.get(inp.source.name) if isinstance(inp.source, DataRef) else None
        if source is not None and source.uri is not None and attrs.get(inp.name, set()) <= {"uri"}:
            out[inp.name] = source.uri
    return out


def reads_mutable(step: Step, sources: dict[str, DataSource]) -> bool:
    """Does the step read a `uri:` source (by artifact or by URI)? What lies at a URI can change
    between runs while the task's cache key stays the same, so such a step is never cached; a
    `dvc:` source is pinned to a revision and may be."""
    names = set(step.data_uris) | {n.name for n in step_refs(step) if isinstance(n, DataRef)}
    return any(sources[n].uri is not None for n in names if n in sources)


def task_base(source: DataSource) -> str:
    return f"{'importer' if source.dvc is None else 'fetch'}-{dns_name(source.name)}"


def build(source: DataSource, task: str) -> DataTask:
    dataset = artifact_type("Dataset")
    if source.dvc is None:
        uri = source.uri or ""
        return DataTask(
            component={"executorLabel": f"exec-{task}",
                       "inputDefinitions": {"parameters": {"uri": {"parameterType": "STRING"}}},
                       "outputDefinitions": {"artifacts": {"artifact": {"artifactType": dataset}}}},
            # reimport: a new artifact each run, so the readers' cache keys change with each import
            executor={"importer": {"artifactUri": {"constant": uri}, "reimport": True, "typeSchema": dataset}},
            task={"cachingOptions": {}, "componentRef": {"name": f"comp-{task}"},
                  "inputs": {"parameters": {"uri": {"runtimeValue": {"constant": uri}}}},
                  "taskInfo": {"name": task}},
            output="artifact")
    dvc = source.dvc
    command = ["dvc", "get", "--rev", dvc.rev, dvc.repo, dvc.path, "-o", "{{$.outputs.artifacts['data'].path}}"]
    container: dict[str, Any] = {"command": command, "image": DVC_IMAGE}
    # The remote's credentials: `dvc.env`, its secrets read from Kubernetes Secrets as a step's are.
    plain = sorted((var.name, var.value) for var in dvc.env if var.secret is None)
    if plain:
        container["env"] = [{"name": name, "value": value or ""} for name, value in plain]
    secrets = secrets_as_env([var for var in dvc.env if var.secret is not None])
    return DataTask(
        component={"executorLabel": f"exec-{task}",
                   "outputDefinitions": {"artifacts": {"data": {"artifactType": dataset}}}},
        executor={"container": container},
        task={"cachingOptions": {"enableCache": True}, "componentRef": {"name": f"comp-{task}"},
              "taskInfo": {"name": task}},
        output="data", config={"secretAsEnv": secrets} if secrets else {})
