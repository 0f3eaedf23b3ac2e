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


def _task(name: str) -> str:
    return name.lower().replace("_", "-")


def _draw(pipeline: Pipeline, syntax: dict[str, str]) -> str:
    """One walk over steps and edges; `syntax` says how the format writes each part."""
    lines = [line.format(name=_quote(pipeline.name)) for line in syntax["head"]]
    for step in pipeline.steps:
        kind = "loop" if step.for_each else "when" if step.when else "step"
        lines.append(syntax[kind].format(id=step.id, label=_quote(_label(step))))
    for upstream, step, ordering in _edges(pipeline):
        lines.append(syntax["after" if ordering else "data"].format(a=_task(upstream), b=_task(step)))
    if pipeline.on_exit is not None:
        lines.append(syntax["exit"].format(label=_quote(pipeline.on_exit.name)))
    lines += syntax["tail"]
    return "\n".join(lines) + "\n"


MERMAID = {
    "head": ["flowchart TD"], "tail": [],
    "step": '    {id}["{label}"]', "when": '    {id}{{"{label}"}}', "loop": '    {id}{{{{"{label}"}}}}',
    "data": "    {a} --> {b}", "after": "    {a} -.-> {b}",
    "exit": '    on-exit(["{label} (on exit, always)"])',
}
DOT = {
    "head": ['digraph "{name}" {{', "    rankdir=TB;", "    node [shape=box];"], "tail": ["}"],
    "step": '    "{id}" [label="{label}", shape=box];', "when": '    "{id}" [label="{label}", shape=diamond];',
    "loop": '    "{id}" [label="{label}", shape=hexagon];',
    "data": '    "{a}" -> "{b}";', "after": '    "{a}" -> "{b}" [style=dashed];',
    "exit": '    "on-exit" [label="{label} (on exit, always)", shape=ellipse];',
}


def mermaid(pipeline: Pipeline) -> str:
    return _draw(pipeline, MERMAID)


def dot(pipeline: Pipeline) -> str:
    return _draw(pipeline, DOT)
