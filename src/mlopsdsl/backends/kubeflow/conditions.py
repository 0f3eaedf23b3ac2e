"""`when:` -> KFP's `triggerPolicy.condition`, a CEL expression over the condition task's inputs.

KFP evaluates the condition in its driver with every operand read from
`inputs.parameter_values['NAME']`, where NAME is an input of the task that
carries the condition. We follow kfp 2.17's own rendering
(`pipeline_spec_builder._resolve_condition_operands`) so our conditions behave
exactly like `dsl.If(...)`: integer channels are wrapped in `int(...)`, and
when the two sides of a comparison have different types the narrower side is
promoted (string > bool > double > int), an int literal beside a double becoming
`double(3)`. Unlike kfp we also render `and`/`or`/`not` and arithmetic in one
condition instead of nesting condition groups: CEL has them, and one group per
step keeps the DAG small.
"""

from __future__ import annotations

from typing import Callable

from mlopsdsl.ir import Arith, Compare, Expr, ItemRef, Lit, Logic, Neg, Not, ParamRef, StepOutputRef, render

from .types import parameter_type

# resolve(channel_node) -> (input name on the condition task, KFP parameterType)
Resolver = Callable[[Expr], "tuple[str, str]"]

_RANK = {"NUMBER_INTEGER": 0, "NUMBER_DOUBLE": 1, "BOOLEAN": 2, "STRING": 3}
_CEL_OPS = {"and": " && ", "or": " || "}


class ConditionError(Exception):
    """A `when` the target cannot evaluate; the message names the construct."""


def to_cel(expr: Expr, resolve: Resolver) -> str:
    text, kind = _render(expr, resolve)
    if kind != "BOOLEAN":
        # a bare boolean channel or literal is still a valid condition; anything else is not
        raise ConditionError(f"a `when` that is not a boolean ({render(expr)})")
    return text


def _render(expr: Expr, resolve: Resolver) -> tuple[str, str]:
    if isinstance(expr, Compare):
        return _compare(expr, resolve), "BOOLEAN"
    if isinstance(expr, Logic):
        parts = [_wrap(_render(o, resolve)[0], o) for o in expr.operands]
        return _CEL_OPS[expr.op].join(parts), "BOOLEAN"
    if isinstance(expr, Not):
        return f"!({_render(expr.operand, resolve)[0]})", "BOOLEAN"
    if isinstance(expr, Arith):
        (left, lt), (right, rt) = _render(expr.left, resolve), _render(expr.right, resolve)
        kind = max(lt, rt, key=_RANK.__getitem__)
        return f"({_promote(left, lt, kind)} {expr.op} {_promote(right, rt, kind)})", kind
    if isinstance(expr, Neg):
        text, kind = _render(expr.operand, resolve)
        return f"-({text})", kind
    if isinstance(expr, Lit):
        return _literal(expr)
    if isinstance(expr, (ParamRef, StepOutputRef, ItemRef)):
        name, kind = resolve(expr)
        operand = f"inputs.parameter_values['{name}']"
        return (f"int({operand})" if kind == "NUMBER_INTEGER" else operand), kind
    raise ConditionError(f"`{render(expr)}` in a pipeline condition")


def _compare(expr: Compare, resolve: Resolver) -> str:
    (left, lt), (right, rt) = _render(expr.left, resolve), _render(expr.right, resolve)
    for kind in (lt, rt):
        if kind not in _RANK:
            raise ConditionError(f"comparing a {kind} value in a condition ({render(expr)})")
    kind = max(lt, rt, key=_RANK.__getitem__)
    return f"{_promote(left, lt, kind)} {expr.op} {_promote(right, rt, kind)}"


def _promote(text: str, kind: str, to: str) -> str:
    """kfp's casts, so CEL never compares values of different types."""
    if kind == to:
        return text
    if to == "STRING":
        return f"string({text})"
    if to == "NUMBER_DOUBLE":
        return f"double({text})"
    if to == "BOOLEAN":
        raise ConditionError("comparing a number with a boolean")
    return text


def _literal(expr: Lit) -> tuple[str, str]:
    value = expr.value
    if isinstance(value, bool):
        return ("true" if value else "false"), "BOOLEAN"
    if isinstance(value, (int, float)):
        # the declared type decides (a float literal may hold 1); durations/percents are doubles
        if isinstance(value, int) and parameter_type(expr.type) == "NUMBER_INTEGER":
            return str(value), "NUMBER_INTEGER"
        return repr(float(value)), "NUMBER_DOUBLE"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'", "STRING"
    raise ConditionError(f"the literal {render(expr)} in a condition")


def _wrap(text: str, expr: Expr) -> str:
    return f"({text})" if isinstance(expr, (Compare, Logic)) else text
