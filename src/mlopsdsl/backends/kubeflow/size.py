"""How big the Argo Workflow that KFP makes of this pipeline will be, against etcd's 1.5 MiB.

KFP's Argo compiler (backend/src/v2/compiler/argocompiler) hands each task its
component, task and container specs, and its kfp-kubernetes config, as JSON
string arguments of the driver and executor templates, so the static workflow
is about our own IR re-encoded as JSON inside JSON (quotes escaped: SPEC_FACTOR)
plus a fixed cost per task. At run time Argo records each node (a DAG node, a
driver pod, an executor pod per task and per loop iteration) in the status of
the same object, unless the cluster offloads node status. A `for_each` over a
literal list multiplies its step by the list's length; over a run-time list we
cannot know, so we count LOOP_GUESS iterations. The constants are estimates from
that structure, not measurements in a cluster; we warn at WARN_BYTES, well under
the limit, because an object over it fails to be created or updated mid-run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mlopsdsl.ir import Pipeline
from mlopsdsl.ir import ListExpr, Lit

LIMIT_BYTES = 1_572_864  # etcd's default request limit, which bounds any Kubernetes object
WARN_BYTES = 1_048_576  # two thirds of the limit
SPEC_FACTOR = 1.25  # JSON-in-JSON: each quote of the spec is escaped once
TASK_BYTES = 1_200  # DAG task entries, template arguments and names per task
NODE_BYTES = 700  # one status node (name, phase, times, outputs, children)
NODES_PER_TASK = 3  # the task's DAG node, its driver pod and its executor pod
LOOP_GUESS = 10


@dataclass
class Estimate:
    bytes: int
    spec_bytes: int
    tasks: int

    def message(self) -> str:
        return (f"the Argo Workflow for this pipeline is estimated at {self.bytes / 1_048_576:.2f} MiB "
                f"({self.tasks} task runs; spec {self.spec_bytes / 1024:.0f} KiB), near Kubernetes' 1.5 MiB "
                f"object limit: the run may fail to start or stop updating mid-run")


def estimate(documents: list[Any], pipeline: Pipeline) -> Estimate:
    spec_bytes = sum(len(json.dumps(doc, separators=(",", ":"))) for doc in documents)
    runs = 0
    for step in (*pipeline.steps, *((pipeline.on_exit,) if pipeline.on_exit else ())):
        runs += fan_out(step.for_each.items) if step.for_each else 1
    total = int(spec_bytes * SPEC_FACTOR + runs * (TASK_BYTES + NODE_BYTES * NODES_PER_TASK))
    return Estimate(total, spec_bytes, runs)


def fan_out(items: Any) -> int:
    if isinstance(items, Lit) and isinstance(items.value, list):
        return max(len(items.value), 1)
    if isinstance(items, ListExpr):
        return max(len(items.items), 1)
    return LOOP_GUESS
