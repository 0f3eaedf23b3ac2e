"""`mlopsdsl graph`: the pipeline DAG as Mermaid or Graphviz dot, from the IR.

Conditions label the step, fan-outs show their items, `after`-only edges are
dashed, and the exit handler hangs off the whole graph.
"""

from __future__ import annotations

from mlopsdsl.ir import Pipeline, Step, render


def _label(step: Step) -> str:
    label = step.name
    if step.for_each is not None:
        label += f" (for each {render(step.for_each.items)})"
    if step.when is not None:
        label += f" [when {render(step.when)}]"
    return label


def _edges(pipeline: Pipeline) -> list[tuple[str, str, bool]]:
    """(upstream, step, ordering only?) in a stable order."""
    edges = []
    for step in pipeline.steps:
        data = {getattr(i.source, "step", None) for i in step.inputs}
        if step.when is not None:
            from mlopsdsl.ir import walk

            data |= {getattr(n, "step", None) for n in walk(step.when)}
        for upstream in step.depends_on:
            edges.append((upstream, step.name, upstream not in data))
    return edges


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "'")


def mermaid(pipeline: Pipeline) -> str:
    lines = ["flowchart TD"]
    for step in pipeline.steps:
        shape = ("{{", "}}") if step.for_each else ("{", "}") if step.when else ("[", "]")
        lines.append(f'    {step.id}{shape[0]}"{_quote(_label(step))}"{shape[1]}')
    for upstream, step, ordering in _edges(pipeline):
        arrow = "-.->" if ordering else "-->"
        lines.append(f"    {upstream.lower().replace('_', '-')} {arrow} {step.lower().replace('_', '-')}")
    if pipeline.on_exit is not None:
        lines.append(f'    on-exit(["{_quote(pipeline.on_exit.name)} (on exit, always)"])')
    return "\n".join(lines) + "\n"


def dot(pipeline: Pipeline) -> str:
    lines = [f'digraph "{_quote(pipeline.name)}" {{', "    rankdir=TB;", "    node [shape=box];"]
    for step in pipeline.steps:
        shape = "hexagon" if step.for_each else "diamond" if step.when else "box"
        lines.append(f'    "{step.id}" [label="{_quote(_label(step))}", shape={shape}];')
    for upstream, step, ordering in _edges(pipeline):
        style = " [style=dashed]" if ordering else ""
        lines.append(f'    "{upstream.lower().replace("_", "-")}" -> "{step.lower().replace("_", "-")}"{style};')
    if pipeline.on_exit is not None:
        lines.append(f'    "on-exit" [label="{_quote(pipeline.on_exit.name)} (on exit, always)", shape=ellipse];')
    lines.append("}")
    return "\n".join(lines) + "\n"
