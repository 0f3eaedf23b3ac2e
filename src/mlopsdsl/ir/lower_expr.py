"""Checked expression ASTs -> resolved IR expressions.

Names become what they denote; names whose value is known at compile time
(`metadata.*`, `model.*`, `env.*`, `data.X.uri`) fold into literals, and a
template whose parts all folded becomes a plain string. Only checked values
reach here, so a name that does not resolve is a bug, not a user error.
"""

from __future__ import annotations

from typing import Any, Callable, Union

from mlopsdsl.check.exprs import Checked, literal_type
from mlopsdsl.expr import ast, fold
from mlopsdsl.expr import types as t
from mlopsdsl.expr.contexts import builtin
from mlopsdsl.expr.units import Duration, Memory, Percent
from mlopsdsl.ir import expr as ir

# Looks up a compile-time constant (`metadata.version`), or None when the name is a run-time value.
Constants = Callable[[tuple[str, ...]], Any]

_QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}


def lower_checked(checked: Checked, constants: Constants) -> Union[ir.Expr, ir.Text]:
    """A whole-value expression -> an Expr; a template -> str or Template."""
    whole = checked.parsed.whole
    if whole is not None and whole.node is not None:
        return lower(whole.node, checked, constants)
    parts: list[Any] = []
    for part in checked.parsed.parts:
        if isinstance(part, str):
            parts.append(part)
        elif part.node is not None:
            parts.append(lower(part.node, checked, constants))
    return fold_template(parts)


def fold_template(parts: list[Any]) -> ir.Text:
    merged: list[Any] = []
    for part in parts:
        if isinstance(part, ir.Lit):
            part = lit_text(part)
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        elif part != "":
            merged.append(part)
    if all(isinstance(p, str) for p in merged):
        return "".join(merged)
    return ir.Template(parts=tuple(merged))


def constant_text(expr: ir.Expr) -> str | None:
    """How a constant reads in text (a list of literals as JSON, as KFP passes a list); None if not constant."""
    if isinstance(expr, ir.Lit):
        return lit_text(expr)
    if isinstance(expr, ir.ListExpr) and all(isinstance(i, ir.Lit) for i in expr.items):
        import json

        return json.dumps([i.value for i in expr.items])  # type: ignore[union-attr]
    return None


def lit_text(lit: ir.Lit) -> str:
    """How a literal reads when spliced into text."""
    if lit.text:
        return lit.text
    if isinstance(lit.value, bool):
        return "true" if lit.value else "false"
    return str(lit.value)


_OPERATORS = (ast.Compare, ast.Logic, ast.Not, ast.Neg, ast.Arith)


def lower(node: ast.Expr, checked: Checked, constants: Constants) -> ir.Expr:
    if isinstance(node, ast.Lit):
        return _literal(node)
    if isinstance(node, _OPERATORS):  # literals only: one literal (`5m + 30s` -> 330s), as the checker computed
        value = fold.constant(node)
        if value is not None and not isinstance(value, fold.NoValue):
            return _literal(ast.Lit(value, "", start=node.start, end=node.end))
    if isinstance(node, ast.Name):
        return _name(node.parts, checked, constants)
    if isinstance(node, ast.ListLit):
        items = tuple(lower(i, checked, constants) for i in node.items)
        decided = checked.decided.get(id(node))  # the checker's type, never one read off an item
        return ir.ListExpr(items=items, type=type_name(decided) if decided else "list[unknown]")
    if isinstance(node, ast.Compare):
        return ir.Compare(op=node.op, left=lower(node.left, checked, constants),
                          right=lower(node.right, checked, constants), type="bool")
    if isinstance(node, ast.Logic):
        operands: list[ir.Expr] = []
        for side in (node.left, node.right):
            lowered = lower(side, checked, constants)
            # `a and b and c` parses as nested pairs; the IR keeps one flat operand list
            operands.extend(lowered.operands if isinstance(lowered, ir.Logic) and lowered.op == node.op else [lowered])
        return ir.Logic(op=node.op, operands=tuple(operands), type="bool")
    if isinstance(node, ast.Not):
        return ir.Not(operand=lower(node.operand, checked, constants), type="bool")
    if isinstance(node, ast.Neg):
        operand = lower(node.operand, checked, constants)
        return ir.Neg(operand=operand, type=operand.type)
    if isinstance(node, ast.Arith):
        left, right = lower(node.left, checked, constants), lower(node.right, checked, constants)
        return ir.Arith(op=node.op, left=left, right=right, type=_arith_type(node.op, left.type, right.type))
    raise TypeError(f"cannot lower {node!r}")


def _arith_type(op: str, left: str, right: str) -> str:
    units = {"duration", "percent", "cpu", "memory"}
    if left in units and right in units and op == "/":
        return "float"
    if left in units:
        return left
    if right in units:
        return right
    return "int" if left == right == "int" and op != "/" else "float"


def _literal(node: ast.Lit) -> ir.Lit:
    value = node.value
    if isinstance(value, Duration):
        return ir.Lit(value=value.seconds, type="duration", text=value.text)
    if isinstance(value, Percent):
        return ir.Lit(value=value.fraction, type="percent", text=value.text)
    if isinstance(value, Memory):
        return ir.Lit(value=value.bytes, type="memory", text=value.text)
    return literal(value)


def literal(value: Any) -> ir.Lit:
    """A plain scalar (from YAML or an expression) as an IR literal; anything else reads as text."""
    kind = literal_type(value)
    return ir.Lit(value=value, type="str" if kind == t.UNKNOWN else str(kind))


def type_name(found: t.Type) -> str:
    return str(found)


def _name(parts: tuple[str, ...], checked: Checked, constants: Constants) -> ir.Expr:
    root = parts[0]
    fixed = builtin(parts)
    if root == "secrets":
        return ir.SecretRef(name=parts[1], key=parts[2] if len(parts) > 2 else None, type="secret")
    if root == "serving":
        metric = parts[1]
        return ir.ServingMetric(metric=metric, quantile=_QUANTILES.get(parts[-1]) if metric == "latency" else None,
                                type=type_name(fixed or t.UNKNOWN))
    if root == "drift":
        return ir.DriftScore(feature=parts[2] if len(parts) > 2 else None, type="float")
    found = checked.scope.resolve(parts)
    kind = type_name(found) if isinstance(found, t.Type) else "unknown"
    constant = constants(parts)
    if constant is not None:
        return ir.Lit(value=constant, type=kind if kind != "unknown" else "str", text="")
    if root == "params":
        return ir.ParamRef(name=parts[1], type=kind)
    if root == "steps":
        return ir.StepOutputRef(step=parts[1], output=parts[3], field=parts[4] if len(parts) > 4 else None, type=kind)
    if root == "data":
        return ir.DataRef(name=parts[1], type="Dataset")
    if root in ("inputs", "outputs"):
        attr = parts[2] if len(parts) > 2 else "value"
        return ir.PathRef(direction="input" if root == "inputs" else "output", name=parts[1], attr=attr, type=kind)
    if root == "item":
        return ir.ItemRef(field=parts[1] if len(parts) > 1 else None, type=kind)
    raise ValueError(f"`{'.'.join(parts)}` has no value at compile time and no run-time meaning")
