"""The value of an expression made of literals only, computed once for the checker and the lowering.

`constant(node)` evaluates a subtree with no names (`5m + 30s`, `not (1 > 2)`,
`2 * 10%`) to a literal value, or says why it has none: a division by zero, a
result no target can hold. The checker reports those where they are written; the
lowering turns every constant subtree into one literal, so a target meets `330s`
and never `5m + 30s` (a `run` argument, a PromQL threshold, a CEL condition).
Only checked trees are evaluated, so the operand types fit the operator
(`expr/arith.py` decides which combinations mean something).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from mlopsdsl.expr import ast
from mlopsdsl.expr.units import MAX_DURATION_SECONDS, Duration, Memory, Percent, format_number, in_range

Value = Union[bool, int, float, str, Duration, Percent, Memory, list]


@dataclass(frozen=True)
class NoValue:
    """Why a constant subtree has no value, and the node to point at."""

    node: ast.Node
    message: str
    division: bool = False  # a division by zero (else: a result out of range)


def is_constant(node: ast.Expr) -> bool:
    return not any(isinstance(n, ast.Name) for n in ast.walk(node))


def constant(node: ast.Expr) -> Value | NoValue | None:
    """The value of `node`, a NoValue, or None when it names something (not a constant)."""
    if not is_constant(node):
        return None
    return _eval(node)


def is_zero(value: Value) -> bool:
    base = _base(value)
    return isinstance(base, (int, float)) and not isinstance(base, bool) and base == 0


def _base(value: Value) -> float | int | bool | str | list:
    """A unit value in its base unit (seconds, fraction, bytes); anything else as it is."""
    if isinstance(value, Duration):
        return value.seconds
    if isinstance(value, Percent):
        return value.fraction
    if isinstance(value, Memory):
        return value.bytes
    return value


def _eval(node: ast.Expr) -> Value | NoValue:
    if isinstance(node, ast.Lit):
        return node.value
    if isinstance(node, ast.ListLit):
        items = []
        for item in node.items:
            found = _eval(item)
            if isinstance(found, NoValue):
                return found
            items.append(found)
        return items
    if isinstance(node, ast.Not):
        found = _eval(node.operand)
        return found if isinstance(found, NoValue) else not found
    if isinstance(node, ast.Neg):
        found = _eval(node.operand)
        return found if isinstance(found, NoValue) else _scaled(found, -1, node)
    left, right = _eval(node.left), _eval(node.right)  # type: ignore[union-attr]
    for side in (left, right):
        if isinstance(side, NoValue):
            return side
    if isinstance(node, ast.Logic):
        return (left and right) if node.op == "and" else (left or right)
    a, b = _base(left), _base(right)  # type: ignore[arg-type]
    if isinstance(node, ast.Compare):
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[node.op]
    assert isinstance(node, ast.Arith)
    if node.op == "/" and b == 0:
        return NoValue(node.right, f"`{_show(right)}` is zero: the division has no value", division=True)
    number = a + b if node.op == "+" else a - b if node.op == "-" else a * b if node.op == "*" else a / b  # type: ignore
    unit = left if isinstance(left, (Duration, Percent, Memory)) else right
    if isinstance(unit, (Duration, Percent, Memory)) and not (node.op == "/" and type(left) is type(right)):
        return _as_unit(unit, number, node)
    if not in_range(float(number)) or (isinstance(number, int) and abs(number) > 2**63 - 1):
        return NoValue(node, "the result is too large for any target")
    return number


def _scaled(value: Value, factor: int, node: ast.Node) -> Value | NoValue:
    if isinstance(value, (Duration, Percent, Memory)):
        return _as_unit(value, _base(value) * factor, node)  # type: ignore[operator]
    return value * factor  # type: ignore[operator]


def _as_unit(unit: Duration | Percent | Memory, number: float, node: ast.Node) -> Value | NoValue:
    if not in_range(float(number)):
        return NoValue(node, "the result is too large for any target")
    if isinstance(unit, Duration):
        if abs(number) > MAX_DURATION_SECONDS:
            return NoValue(node, "the duration is longer than any target can hold")
        return Duration(number, f"{format_number(number)}s")
    if isinstance(unit, Percent):
        return Percent(number, f"{format_number(number * 100)}%")
    return Memory(round(number), str(round(number)))


def _show(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(getattr(value, "text", value))
