"""The pipeline's DAGs: tasks, wiring, condition and loop groups, the exit handler, data tasks.

KFP passes every value a nested DAG needs through that DAG's inputs: a task in
a condition group that reads `params.lr` reads `pipelinechannel--lr`, which the
group's task in the parent DAG passes down. `Scope` does this once for every
kind of value ("channel": a pipeline parameter, a step output, a data source, a
loop item): a task asks its scope for a channel; the scope answers with a local
reference, or declares an input and asks its parent at the end. Names follow
kfp's (`pipelinechannel--<task>-<output>`), so the output reads like kfp's own.

Grouping: each `when` step is wrapped in its own `condition-<step>` group and
each `for_each` step in its own `for-loop-<step>` group (a loop inside the
condition, or the condition inside the loop when the condition reads `item`).
With an `on_exit` step, everything else runs in `exit-handler-1`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from mlopsdsl.ir import Project, Step
from mlopsdsl.ir import DataRef, Expr, ItemRef, ListExpr, Lit, ParamRef, StepOutputRef, walk

from . import types
from .components import Binding, field_output
from .conditions import ConditionError, to_cel

Key = tuple  # ("param", name) | ("out", step, key) | ("data", name) | ("item", step)


@dataclass
class Channel:
    name: str  # pipelinechannel--... when passed into a nested DAG
    artifact: bool
    type: dict[str, Any]  # {"artifactType": ...} or {"parameterType": ...}


@dataclass
class Scope:
    name: Optional[str]  # the group's task name; None for root
    parent: Optional["Scope"]
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    local: dict[Key, dict[str, Any]] = field(default_factory=dict)
    inputs: dict[Key, Channel] = field(default_factory=dict)
    own_inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # e.g. the loop item
    collected: dict[str, dict[str, Any]] = field(default_factory=dict)  # loop outputs (dsl.Collected)
    depth: int = 0

    def child(self, name: str, task: dict[str, Any]) -> "Scope":
        self.tasks[name] = task
        return Scope(name, self, depth=self.depth + 1)


class Dag:
    """Builds `root` and the group components; `channel(key)` describes a value."""

    def __init__(self, project: Project, channel: Callable[[Key], Channel]) -> None:
        self.project = project
        self.channel = channel
        self.root = Scope(None, None)
        self.scopes: list[Scope] = []
        self.group_components: dict[str, dict[str, Any]] = {}
        for param in project.params:
            self.root.local[("param", param.name)] = {"componentInputParameter": param.name}
        self.top = self.root
        self.top_task: dict[str, str] = {}  # step name -> its task (or outermost group) in top
        self.items: dict[Key, Channel] = {}  # loop items, known once their loop is opened

    def describe(self, key: Key) -> Channel:
        return self.items[key] if key[0] == "item" else self.channel(key)

    def open_exit_handler(self) -> None:
        task = {"componentRef": {"name": "comp-exit-handler-1"}, "taskInfo": {"name": "exit-handler-1"}}
        self.top = self.root.child("exit-handler-1", task)
        self.scopes.append(self.top)

    # -- references ---------------------------------------------------------------------
    def resolve(self, scope: Scope, key: Key) -> dict[str, Any]:
        if key in scope.local:
            return scope.local[key]
        if scope.parent is None:
            raise KeyError(f"channel {key} is not available")  # the front end guarantees it is
        channel = scope.inputs.setdefault(key, self.describe(key))
        return {("componentInputArtifact" if channel.artifact else "componentInputParameter"): channel.name}

    def bind(self, scope: Scope, task: dict[str, Any], binding: Binding, step: str) -> None:
        section = "artifacts" if binding.artifact else "parameters"
        if binding.source is None:
            ref: dict[str, Any] = {"runtimeValue": {"constant": binding.constant}}
        else:
            ref = dict(self.resolve(scope, key_of(binding.source, step)))
            if isinstance(binding.source, ItemRef) and binding.source.field:
                ref["parameterExpressionSelector"] = f'parseJson(string_value)["{binding.source.field}"]'
            _depend(task, ref)
        task.setdefault("inputs", {}).setdefault(section, {})[binding.name] = ref

    # -- placing a step -----------------------------------------------------------------
    def place(self, step: Step, task_name: str, task: dict[str, Any], bindings: list[Binding],
              names: Callable[[str], str]) -> None:
        """Put a step's task in the DAG, inside its condition/loop groups, and wire it."""
        scope = self.top
        order: list[str] = []
        if step.when is not None:
            order.append("condition")
        if step.for_each is not None:
            item_in_when = step.when is not None and any(isinstance(n, ItemRef) for n in walk(step.when))
            order.insert(0 if item_in_when else len(order), "loop")
        outermost: Optional[dict[str, Any]] = None
        head_name = task_name
        for kind in order:
            group = names(f"{'condition' if kind == 'condition' else 'for-loop'}-{task_name}")
            group_task: dict[str, Any] = {"componentRef": {"name": f"comp-{group}"}, "taskInfo": {"name": group}}
            parent = scope
            scope = parent.child(group, group_task)
            self.scopes.append(scope)
            if kind == "condition":
                assert step.when is not None
                group_task["triggerPolicy"] = {"condition": to_cel(
                    step.when, lambda node, s=scope: self._condition_input(s, node, step.name))}
            else:
                self._loop(scope, group_task, step)
            if outermost is None:
                outermost, head_name = group_task, group
        scope.tasks[task_name] = task
        for binding in bindings:
            self.bind(scope, task, binding, step.name)
        head = outermost or task
        for name in step.depends_on:
            if name in self.top_task:
                head.setdefault("dependentTasks", []).append(self.top_task[name])
        self.top_task[step.name] = head_name

    def _condition_input(self, scope: Scope, node: Expr, step: str) -> tuple[str, str]:
        if isinstance(node, ItemRef) and node.field:
            raise ConditionError("a field of a loop item in a condition")
        key = key_of(node, step)
        channel = scope.inputs.setdefault(key, self.describe(key))
        return channel.name, channel.type["parameterType"]

    def _loop(self, scope: Scope, group_task: dict[str, Any], step: Step) -> None:
        assert step.for_each is not None
        items = step.for_each.items
        key = ("item", step.name)
        iterator: dict[str, Any]
        literal = _literal_items(items)
        if literal is not None:
            item_name = f"pipelinechannel--{scope.name}-loop-item"
            iterator = {"itemInput": item_name, "items": {"raw": types.raw_items(literal)}}
        else:
            source = self.channel(key_of(items, step.name))
            ref = self.resolve(scope, key_of(items, step.name))
            item_name = f"{source.name}-loop-item"
            iterator = {"itemInput": item_name, "items": {"inputParameter": ref["componentInputParameter"]}}
        # the item type the checker decided for the list (`[1, 2.5]` holds floats)
        item_type = types.parameter_type(items.type[5:-1] if items.type.startswith("list[") else "str")
        scope.local[key] = {"componentInputParameter": item_name}
        self.items[key] = Channel(item_name, False, {"parameterType": item_type})
        scope.own_inputs[item_name] = {"parameterType": item_type}
        group_task["parameterIterator"] = iterator
        if step.for_each.parallelism:
            group_task["iteratorPolicy"] = {"parallelismLimit": step.for_each.parallelism}

    def collect(self, step: Step, task_name: str, key: str) -> None:
        """Pass output parameter `key` of every item of a looped step out of its loop, as kfp 2.17
        compiles `dsl.Collected`: the loop's DAG output `pipelinechannel--<task>-<key>` selects the
        task's output, the loop component declares it a LIST, and readers take it from the loop task."""
        loop = self.top_task[step.name]
        (scope,) = [s for s in self.scopes if s.name == loop and s.parent is self.top]
        channel = f"pipelinechannel--{task_name}-{key}"
        scope.collected[channel] = {"valueFromParameter": {"outputParameterKey": key, "producerSubtask": task_name}}
        self.top.local[("out", step.name, key)] = {"taskOutputParameter": {"outputParameterKey": channel,
                                                                          "producerTask": loop}}

    # -- closing the groups -------------------------------------------------------------
    def finish(self) -> None:
        """Wire every group's inputs from its parent, innermost first, and emit the group components."""
        for scope in sorted(self.scopes, key=lambda s: -s.depth):
            assert scope.parent is not None and scope.name is not None
            group_task = scope.parent.tasks[scope.name]
            for key, channel in scope.inputs.items():
                ref = self.resolve(scope.parent, key)
                section = "artifacts" if channel.artifact else "parameters"
                group_task.setdefault("inputs", {}).setdefault(section, {})[channel.name] = ref
                _depend(group_task, ref)
            definitions: dict[str, Any] = {}
            for channel in scope.inputs.values():
                definitions.setdefault("artifacts" if channel.artifact else "parameters", {})[channel.name] = \
                    channel.type
            if scope.own_inputs:
                definitions.setdefault("parameters", {}).update(scope.own_inputs)
            component: dict[str, Any] = {"dag": {"tasks": scope.tasks}}
            if definitions:
                component["inputDefinitions"] = definitions
            if scope.collected:
                component["dag"]["outputs"] = {"parameters": scope.collected}
                component["outputDefinitions"] = {"parameters": {name: {"parameterType": "LIST"}
                                                                 for name in scope.collected}}
            self.group_components[f"comp-{scope.name}"] = component
        for scope in [self.root, *self.scopes]:
            for task in scope.tasks.values():
                if "dependentTasks" in task:
                    task["dependentTasks"] = sorted(set(task["dependentTasks"]))


def _depend(task: dict[str, Any], ref: dict[str, Any]) -> None:
    for kind in ("taskOutputParameter", "taskOutputArtifact"):
        if kind in ref:
            task.setdefault("dependentTasks", []).append(ref[kind]["producerTask"])


def _literal_items(items: Expr) -> Optional[list[Any]]:
    if isinstance(items, Lit) and isinstance(items.value, list):
        return list(items.value)
    if isinstance(items, ListExpr) and all(isinstance(i, Lit) for i in items.items):
        return [i.value for i in items.items]  # type: ignore[union-attr]
    return None


def key_of(node: Expr, step: str) -> Key:
    """The channel a run-time value travels on; `step` owns the loop an `item` belongs to."""
    if isinstance(node, ParamRef):
        return ("param", node.name)
    if isinstance(node, StepOutputRef):
        return ("out", node.step, node.output if node.field is None else field_output(node.output, node.field))
    if isinstance(node, DataRef):
        return ("data", node.name)
    if isinstance(node, ItemRef):
        return ("item", step)
    raise ValueError(f"not a run-time value: {node!r}")
