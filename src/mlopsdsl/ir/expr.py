"""Resolved, typed expressions as backends see them.

The front end parses `${{ ... }}` text, checks it and lowers it to these nodes:
every name is resolved to what it denotes (a pipeline parameter, a step output,
a serving metric...), names known at compile time (`metadata.*`, `model.*`,
`env.*`, `data.X.uri`) are folded into literals, and literals carry values in
base units. Backends pattern-match on these classes and never parse strings.

Units of `Lit.value` by `Lit.type`: duration -> seconds (float); percent ->
fraction (``1%`` -> 0.01); cpu -> cores; memory -> bytes; others as written.
`Lit.text` keeps the literal as the user wrote it, for messages and docs.
"""

from __future__ import annotations

import json

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str  # "int" "float" "bool" "str" "duration" "percent" "cpu" "memory" "list[T]" or an artifact type


class Lit(_Node):
    kind: Literal["lit"] = "lit"
    value: Union[bool, int, float, str, list, dict]  # a dict: a mapping item of a literal `for_each`
    text: str = ""


class ParamRef(_Node):
    """A pipeline parameter: a run-time value (KFP pipeline input)."""

    kind: Literal["param"] = "param"
    name: str


class StepOutputRef(_Node):
    """`steps.S.outputs.O` (an artifact or output parameter) or `.F` (a metrics field)."""

    kind: Literal["step_output"] = "step_output"
    step: str
    output: str
    field: str | None = None


class DataRef(_Node):
    """`data.X`: a named data source, as an artifact."""

    kind: Literal["data"] = "data"
    name: str


class PathRef(_Node):
    """`inputs.X.path` / `outputs.X.uri`, inside a step's `run`."""

    kind: Literal["path"] = "path"
    direction: Literal["input", "output"]
    name: str
    attr: Literal["path", "uri", "value"] = "path"


class ItemRef(_Node):
    """`item` or `item.field` inside a `for_each` step."""

    kind: Literal["item"] = "item"
    field: str | None = None


class SecretRef(_Node):
    """`secrets.NAME` or `secrets.NAME.KEY`: delivered by name by the target, never written out.

    A Kubernetes target reads key KEY of the Secret NAME (written as a DNS name), the key
    defaulting to NAME; a GitHub secret is one value and has no keys."""

    kind: Literal["secret"] = "secret"
    name: str
    key: str | None = None


class ServingMetric(_Node):
    """`serving.latency.p95` (quantile 0.95), `serving.error_rate`, `serving.rps`, `serving.replicas`."""

    kind: Literal["serving"] = "serving"
    metric: Literal["latency", "error_rate", "rps", "replicas"]
    quantile: float | None = None


class DriftScore(_Node):
    """`drift.score` (the maximum over features) or `drift.score.FEATURE`."""

    kind: Literal["drift"] = "drift"
    feature: str | None = None


class Compare(_Node):
    kind: Literal["compare"] = "compare"
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    left: "Expr"
    right: "Expr"


class Logic(_Node):
    kind: Literal["logic"] = "logic"
    op: Literal["and", "or"]
    operands: tuple["Expr", ...]


class Not(_Node):
    kind: Literal["not"] = "not"
    operand: "Expr"


class Arith(_Node):
    kind: Literal["arith"] = "arith"
    op: Literal["+", "-", "*", "/"]
    left: "Expr"
    right: "Expr"


class Neg(_Node):
    kind: Literal["neg"] = "neg"
    operand: "Expr"


class ListExpr(_Node):
    kind: Literal["list"] = "list"
    items: tuple["Expr", ...]


Expr = Annotated[
    Union[Lit, ParamRef, StepOutputRef, DataRef, PathRef, ItemRef, SecretRef, ServingMetric, DriftScore,
          Compare, Logic, Not, Arith, Neg, ListExpr],
    Field(discriminator="kind"),
]


class Template(BaseModel):
    """A string with interpolated expressions: literal text and scalar expressions, in order.

    A string with nothing left to interpolate at run time is lowered to a plain
    `str`, not a Template, so backends meet Templates only where a run-time value
    (a parameter, a path, an item) really is spliced in.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["template"] = "template"
    parts: tuple[Union[str, Expr], ...]


# A value in the IR where the spec allows text with `${{ }}` in it.
Text = Union[str, Template]

for _model in (Compare, Logic, Not, Arith, Neg, ListExpr, Template):
    _model.model_rebuild()


def walk(expr: Expr):
    """Yield `expr` and every node below it, depth first, left to right."""
    yield expr
    if isinstance(expr, (Compare, Arith)):
        yield from walk(expr.left)
        yield from walk(expr.right)
    elif isinstance(expr, Logic):
        for operand in expr.operands:
            yield from walk(operand)
    elif isinstance(expr, (Not, Neg)):
        yield from walk(expr.operand)
    elif isinstance(expr, ListExpr):
        for item in expr.items:
            yield from walk(item)


def render(expr: Expr) -> str:
    """Canonical source text of an expression (for comments, docs and messages)."""
    if isinstance(expr, Lit):
        if expr.text:
            return expr.text
        if isinstance(expr.value, bool):
            return "true" if expr.value else "false"
        return repr(expr.value) if isinstance(expr.value, str) else str(expr.value)
    if isinstance(expr, ParamRef):
        return f"params.{expr.name}"
    if isinstance(expr, StepOutputRef):
        return ".".join(p for p in ("steps", expr.step, "outputs", expr.output, expr.field) if p)
    if isinstance(expr, DataRef):
        return f"data.{expr.name}"
    if isinstance(expr, PathRef):
        root = "inputs" if expr.direction == "input" else "outputs"
        return f"{root}.{expr.name}" + ("" if expr.attr == "value" else f".{expr.attr}")
    if isinstance(expr, ItemRef):
        return "item" + (f".{expr.field}" if expr.field else "")
    if isinstance(expr, SecretRef):
        if expr.key is None:
            return f"secrets.{expr.name}"
        return f"secrets.{expr.name}" + (f".{expr.key}" if expr.key.isidentifier() else f"[{json.dumps(expr.key)}]")
    if isinstance(expr, ServingMetric):
        if expr.metric == "latency":
            return f"serving.latency.p{round((expr.quantile or 0) * 100)}"
        return f"serving.{expr.metric}"
    if isinstance(expr, DriftScore):
        return "drift.score" + (f".{expr.feature}" if expr.feature else "")
    if isinstance(expr, (Compare, Arith)):
        return f"{_group(expr.left)} {expr.op} {_group(expr.right)}"
    if isinstance(expr, Logic):
        return f" {expr.op} ".join(_group(o) for o in expr.operands)
    if isinstance(expr, Not):
        return f"not {_group(expr.operand)}"
    if isinstance(expr, Neg):
        return f"-{_group(expr.operand)}"
    if isinstance(expr, ListExpr):
        return "[" + ", ".join(render(i) for i in expr.items) + "]"
    raise TypeError(f"not an expression: {expr!r}")


def _group(expr: Expr) -> str:
    text = render(expr)
    return f"({text})" if isinstance(expr, (Compare, Logic, Arith)) else text
