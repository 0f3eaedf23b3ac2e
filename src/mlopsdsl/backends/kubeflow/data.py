"""`data:` sources a step reads -> one task each at the top of the pipeline.

A `uri:` source becomes a KFP importer (`dsl.importer` in kfp terms): no pod,
the URI is registered as a Dataset artifact and handed to the steps that read
it. A `dvc:` source becomes a generated fetch step that runs
`dvc get --rev REV REPO PATH -o <artifact path>` in DVC_IMAGE: the revision is
pinned by the spec, so the step is cacheable and its output is a Dataset like
any other. The tasks sit in the top DAG (inside the exit handler when there is
one), so a failed fetch still triggers `on_exit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlopsdsl.ir import Project
from mlopsdsl.ir import DataRef
from mlopsdsl.ir import DataSource

from .topology import step_refs
from .types import DVC_IMAGE, artifact_type, dns_name


@dataclass
class DataTask:
    component: dict[str, Any]
    executor: dict[str, Any]
    task: dict[str, Any]
    output: str  # the output artifact key


def referenced(project: Project) -> list[DataSource]:
    """The data sources some step reads, in declared order (unread ones need no task)."""
    assert project.pipeline is not None
    names = {node.name for step in project.pipeline.steps for node in step_refs(step)
             if isinstance(node, DataRef)}
    return [source for source in project.data if source.name in names]


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
            executor={"importer": {"artifactUri": {"constant": uri}, "typeSchema": dataset}},
            task={"cachingOptions": {"enableCache": True}, "componentRef": {"name": f"comp-{task}"},
                  "inputs": {"parameters": {"uri": {"runtimeValue": {"constant": uri}}}},
                  "taskInfo": {"name": task}},
            output="artifact")
    dvc = source.dvc
    command = ["dvc", "get", "--rev", dvc.rev, dvc.repo, dvc.path, "-o", "{{$.outputs.artifacts['data'].path}}"]
    return DataTask(
        component={"executorLabel": f"exec-{task}",
                   "outputDefinitions": {"artifacts": {"data": {"artifactType": dataset}}}},
        executor={"container": {"command": command, "image": DVC_IMAGE}},
        task={"cachingOptions": {"enableCache": True}, "componentRef": {"name": f"comp-{task}"},
              "taskInfo": {"name": task}},
        output="data")
