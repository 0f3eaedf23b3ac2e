"""Arithmetic on typed values, and the literal to suggest when units clash.

Kept apart from the checker's tree walk because it is a table: which operator
takes which operand types to which result. Units behave as in physics: a
duration plus a duration is a duration, a number times a duration is a
duration, a duration over a duration is a plain number.
"""

from __future__ import annotations

from mlopsdsl.expr import ast
from mlopsdsl.expr import types as t
from mlopsdsl.expr.units import format_number


def arith_type(op: str, left: t.Type, right: t.Type) -> t.Type | None:
    """The result type of `left op right`, or None when the operation means nothing."""
    if left.is_numeric and right.is_numeric:
        if op == "/" or t.FLOAT in (left, right):
            return t.FLOAT
        return t.INT
    if left.unit and left == right:
        if op in ("+", "-"):
            return left
        if op == "/":
            return t.FLOAT  # a ratio of like quantities has no unit
        return None  # duration * duration: no such unit here
    if op == "*" and left.unit and right.is_numeric:
        return left
    if op == "*" and right.unit and left.is_numeric:
        return right
    if op == "/" and left.unit and right.is_numeric:
        return left
    return None


# What to write after a bare number, by the unit the other side has.
_SUFFIX = {"duration": "s", "percent": "%", "memory": "Mi", "cpu": ""}
_ONE = {"duration": "1s", "percent": "1%", "memory": "1Mi", "cpu": "1"}


def _literal_value(node: ast.Expr) -> float | None:
    if isinstance(node, ast.Lit) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Neg):
        inner = _literal_value(node.operand)
        return -inner if inner is not None else None
    return None


def unit_hint(unit: t.Type, number: ast.Expr, number_text: str, unit_text: str) -> str:
    """`250` against `serving.latency.p95` -> "write `250ms`"."""
    value = _literal_value(number)
    # Latencies are thought of in milliseconds; other durations (intervals, `for`) in seconds.
    suffix = "ms" if unit == t.DURATION and unit_text.startswith("serving.latency") else _SUFFIX[unit.name]
    if value is None:
        return f"give the number a unit by multiplying: `{number_text} * {'1ms' if suffix == 'ms' else _ONE[unit.name]}`"
    written = format_number(value)
    if unit == t.PERCENT and 0 < abs(value) < 1:
        return f"write `{format_number(value * 100)}%` if {written} is a fraction, or `{written}%`"
    return f"write `{written}{suffix}`"
