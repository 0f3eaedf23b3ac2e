"""`--from STEP` and `--only STEP`: which tasks rerun, and which must come from the cache.

Both edit the compiled PipelineSpec before it runs: the chosen steps get caching off (they
rerun), the steps before them must be cache hits (their outputs are this run's inputs; a miss
is MLD807, not a silent rerun), and with `--only` the steps after it are removed.
"""

from __future__ import annotations

import copy
from typing import Any, Optional

from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.ir import Project, Step
from mlopsdsl.source import Span


def step_of_task(project: Project, task: str) -> Optional[Step]:
    """The step a kfp task runs (a loop iteration's log is `<task>-<n>`)."""
    steps = list(project.pipeline.steps) + ([project.pipeline.on_exit] if project.pipeline.on_exit else [])
    for step in steps:
        if task == step.id or task.startswith(f"{step.id}-") and task[len(step.id) + 1:].isdigit():
            return step
    return None


def _descendants(project: Project, name: str) -> set[str]:
    found = {name}
    for step in project.pipeline.steps:  # topological order: one pass suffices
        if found.intersection(step.depends_on):
            found.add(step.name)
    return found


def narrow(project: Project, document: dict[str, Any], only: Optional[str], start: Optional[str]
           ) -> tuple[dict[str, Any], set[str], list[Diagnostic]]:
    chosen = only or start
    names = [s.name for s in project.pipeline.steps]
    if chosen not in names:
        import difflib

        close = difflib.get_close_matches(chosen, names, n=1)
        return document, set(), [Diagnostic(codes.RUN_UNKNOWN_STEP, f"no step '{chosen}' in the pipeline",
                                            Span.point(project.spec_path),
                                            hint=(f"did you mean '{close[0]}'? " if close else "")
                                            + "steps: " + ", ".join(names))]
    after = _descendants(project, chosen)
    rerun = {chosen} if only else after
    drop = after - {chosen} if only else set()
    ids = {s.id: s.name for s in project.pipeline.steps}
    document = copy.deepcopy(document)
    required: set[str] = set()
    for component in [document["root"], *document["components"].values()]:
        tasks = (component.get("dag") or {}).get("tasks") or {}
        for task_name in list(tasks):
            step = _task_step(task_name, ids)
            if step in drop:
                del tasks[task_name]
            elif step in rerun:
                tasks[task_name]["cachingOptions"] = {}
            elif step is not None or task_name.startswith(("importer-", "fetch-")):
                if "componentRef" in tasks[task_name] and not _is_group(task_name, ids):
                    tasks[task_name]["cachingOptions"] = {"enableCache": True}
                    required.add(task_name)
        for task in tasks.values():
            if "dependentTasks" in task:
                task["dependentTasks"] = [t for t in task["dependentTasks"] if _task_step(t, ids) not in drop]
    return document, required, []


def _task_step(task: str, ids: dict[str, str]) -> Optional[str]:
    for prefix in ("condition-", "for-loop-"):
        if task.startswith(prefix) and task[len(prefix):] in ids:
            return ids[task[len(prefix):]]
    return ids.get(task)


def _is_group(task: str, ids: dict[str, str]) -> bool:
    return any(task.startswith(p) and task[len(p):] in ids for p in ("condition-", "for-loop-"))
