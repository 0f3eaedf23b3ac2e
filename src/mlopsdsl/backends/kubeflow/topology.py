"""Refuse, at compile time, the dependency shapes KFP refuses when the pipeline is compiled or run.

kfp's compiler raises `InvalidTopologyException` when a task outside a
`dsl.If` reads an output of (or runs `.after`) a task inside it, and when a
task outside a `dsl.ParallelFor` reads an output produced inside it (unless it
is collected with `dsl.Collected`). Every `when` step here is its own condition
group and every `for_each` step its own loop, so these rules become: nothing
may read an output of a conditional or looped step, nothing may run `after` a
conditional step, and the exit handler may read no step output (it runs outside
the group it guards). A value read from a looped step is collected as kfp's
`dsl.Collected` does (a LIST of every item's value); a list of artifacts is not.
"""

from __future__ import annotations

import re
from typing import Callable, Iterator

from mlopsdsl.backends.base import codes
from mlopsdsl.ir import Pipeline, Project, Step
from mlopsdsl.ir import DataRef, Expr, StepOutputRef, Template, walk

# report(step, message, hint)
Report = Callable[[Step, str, str], None]


def step_refs(step: Step) -> Iterator[Expr]:
    """Every expression node of a step that is read at run time."""
    for inp in step.inputs:
        yield from walk(inp.source)
    if step.when is not None:
        yield from walk(step.when)
    if step.for_each is not None:
        yield from walk(step.for_each.items)
    for arg in step.command:
        if isinstance(arg, Template):
            for part in arg.parts:
                if not isinstance(part, str):
                    yield from walk(part)


_READ_REFUSALS = {
    "when": ("step '{step}' reads an output of '{producer}', which runs only `when` its condition holds; "
             "Kubeflow refuses a task that depends on a task inside a condition it is not in",
             "give '{step}' no data edge to '{producer}', or drop the `when` of '{producer}' "
             "and let it decide at run time"),
    "for_each": ("step '{step}' reads the artifacts of '{producer}', which runs once per `for_each` item "
                 "(a fan-in of artifacts); this backend collects values (output parameters) out of a loop, "
                 "not lists of artifacts",
                 "have '{producer}' also write a value output (a score, a URI) and read that list in '{step}'"),
    "when+for_each": ("step '{step}' reads an output of '{producer}', which runs `for_each` item and only "
                      "`when` its condition holds; Kubeflow refuses a task that depends on a task inside a "
                      "condition it is not in",
                      "drop the `when` of '{producer}' and let each item decide at run time"),
}


def collected(pipeline: Pipeline) -> dict[str, set[str]]:
    """Looped step -> the output parameter keys other steps read (KFP's dsl.Collected)."""
    looped = {s.name for s in pipeline.steps if s.for_each is not None}
    out: dict[str, set[str]] = {}
    for step in pipeline.steps:
        for node in step_refs(step):
            if isinstance(node, StepOutputRef) and node.step in looped and node.step != step.name:
                out.setdefault(node.step, set()).add(
                    node.output if node.field is None else f"{node.output}__{node.field}")
    return out


def _reads_artifact(step: Step, producer: Step) -> bool:
    artifacts = {o.name for o in producer.outputs if o.is_artifact}
    return any(isinstance(n, StepOutputRef) and n.step == producer.name and n.output in artifacts
               and n.field is None for n in step_refs(step))


def _group_kind(step: Step) -> str | None:
    return "when" if step.when is not None else "for_each" if step.for_each is not None else None


def check(pipeline: Pipeline, report: Report) -> bool:
    """Report every refused shape; True when the pipeline can be compiled."""
    by_name = {s.name: s for s in pipeline.steps}
    ok = all([check_step(step, by_name, report) for step in pipeline.steps])
    return check_exit(pipeline, report) and ok


def check_step(step: Step, by_name: dict[str, Step], report: Report) -> bool:
    """The refused shapes of one step: they depend on it and on the steps it names (`depends_on`)."""
    ok = True
    read = sorted({n.step for n in step_refs(step) if isinstance(n, StepOutputRef)})
    for name in read:
        producer = by_name.get(name)
        kind = None if producer is None else _group_kind(producer)
        if kind == "for_each":  # a fan-in: values are collected, artifacts cannot be
            kind = None if producer.when is None and not _reads_artifact(step, producer) else (
                "when+for_each" if producer.when is not None else "for_each")
        if kind is not None:
            ok = False
            message, hint = _READ_REFUSALS[kind]
            report(step, message.format(step=step.name, producer=name), hint.format(step=step.name, producer=name))
    for name in step.after:
        producer = by_name.get(name)
        if producer is not None and producer.when is not None and name not in read:
            ok = False
            report(step, f"step '{step.name}' runs `after` '{name}', which is conditional; "
                         f"Kubeflow refuses a dependency on a task inside a condition",
                   f"repeat the `when` of '{name}' on '{step.name}' instead of the `after`")
    return ok


def check_exit(pipeline: Pipeline, report: Report) -> bool:
    """The refused shapes of the exit handler."""
    ok = True
    exit_step = pipeline.on_exit
    if exit_step is not None:
        if exit_step.when is not None or exit_step.for_each is not None:
            ok = False
            report(exit_step, "`on_exit` with `when` or `for_each`",
                   "the exit handler always runs; move the condition into its command")
        for node in step_refs(exit_step):
            if isinstance(node, (StepOutputRef, DataRef)):
                ok = False
                report(exit_step, "`on_exit` reading a step output or data source: the exit task "
                                  "runs outside the group it guards and cannot see its outputs",
                       "have the step write what the exit task needs to a known URI")
                break
    return ok


# A task name is a DNS-1123 label (KFP names pods and Argo nodes after it).
_TASK_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def check_task_names(project: Project, report: Callable[..., None]) -> None:
    """Each step's task name (`Step.id`, `_` written `-`) is a DNS label of its own.

    `report(code, message, span, hint)` as `Backend.warn` takes it.
    """
    seen: dict[str, str] = {}
    for step in project.pipeline.steps:
        if step.id in seen:
            report(codes.INVALID_NAME, f"steps '{seen[step.id]}' and '{step.name}' both become the task name "
                   f"'{step.id}'", _at(project, step), "rename one of them; `_` and `-` are the same in task names")
        seen[step.id] = step.name
        if not _TASK_NAME.fullmatch(step.id):  # step names are at most 40 characters: only the ends can fail
            report(codes.INVALID_NAME, f"step '{step.name}' (as task '{step.id}') is not a valid Kubernetes name",
                   _at(project, step), "use lower-case letters, digits and '-', starting with a lower-case letter "
                                       "or digit and ending with a letter or digit")


def _at(project: Project, step: Step):
    return project.locate("pipeline", "steps", step.name, key=True)
