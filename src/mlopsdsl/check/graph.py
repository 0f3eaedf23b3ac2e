"""The pipeline DAG: data edges (references to `steps.S...`) plus `after`.

Built as a `dag.Dag`. Reported here: unknown steps in `after`, self-dependency,
cycles (with their path), consuming a conditionally run step's output without
the same condition, unreachable steps, and data outputs nobody consumes.
"""

from __future__ import annotations

import difflib
import operator
from typing import Any

from mlopsdsl.check.context import CheckContext, did_you_mean, known
from mlopsdsl.check.dag import Dag
from mlopsdsl.check.exprs import ExprTable
from mlopsdsl.check.symbols import Symbols
from mlopsdsl.diagnostics import codes
from mlopsdsl.expr import ast
from mlopsdsl.expr import types as t
from mlopsdsl.source import Path

# Outputs meant for people (reports, metrics, plots) are not "unused" when no step reads them.
_VIEWED = frozenset({"Metrics", "ClassificationMetrics", "HTML", "Markdown"})


def build_graph(ctx: CheckContext, symbols: Symbols, exprs: ExprTable) -> Dag:
    graph = Dag(symbols.steps)
    for step, upstreams in exprs.edges.items():
        if step not in symbols.steps:
            continue  # on_exit runs after everything; it has no place in the DAG
        for upstream, paths in upstreams.items():
            if upstream == step:
                ctx.error(codes.SELF_DEPENDENCY, f"step '{step}' depends on itself", paths[0],
                          hint="a step cannot consume its own output or run after itself")
            elif upstream in symbols.steps:
                graph.add_edge(upstream, step, paths=paths)
            elif paths[0][-1] == "after" and not ctx.unknown("pipeline", "steps", upstream):
                where = paths[0] + (_after_index(ctx, paths[0], upstream),)
                ctx.error(codes.UNKNOWN_STEP, f"`after` names unknown step '{upstream}'", where,
                          hint=did_you_mean(upstream, symbols.steps) or f"steps: {known(symbols.steps)}")
    return graph


def _after_index(ctx: CheckContext, path: Path, name: str) -> int:
    node = ctx.data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else {}
    return node.index(name) if isinstance(node, list) and name in node else 0


def check_graph(ctx: CheckContext, symbols: Symbols, exprs: ExprTable, graph: Dag) -> list[str] | None:
    """Run the graph checks; return the steps in topological order, or None if there is a cycle."""
    topo = graph.topological_order()
    if topo is None:
        cycle = graph.find_cycle() or []
        first = graph.edge(cycle[-1], cycle[0])["paths"][0]
        ctx.error(codes.CYCLE, "steps depend on each other in a cycle: " + " -> ".join(cycle + cycle[:1]), first,
                  hint="remove one of these dependencies; a pipeline is a directed acyclic graph")
        return None
    _check_conditions(ctx, symbols, exprs, graph)
    _check_unreachable(ctx, symbols, exprs, graph, topo)
    _check_unused(ctx, symbols, exprs, graph)
    return topo


def _condition(symbols: Symbols, exprs: ExprTable, name: str):
    """The checked `when` of a step (its text and tree), or None."""
    checked = exprs.get(symbols.steps[name].path + ("when",))
    whole = checked.parsed.whole if checked else None
    return whole if whole is not None and whole.node is not None else None


def _conjuncts(condition) -> set[tuple]:
    """The conditions a step's `when` requires, compared as trees (spacing and parentheses aside)."""
    return {ast.shape(part) for part in ast.conjuncts(condition.node)} if condition is not None else set()


def _check_conditions(ctx: CheckContext, symbols: Symbols, exprs: ExprTable, graph: Dag) -> None:
    """A step that reads a conditional step's output must run under (at least) the same condition.

    KFP rejects such a pipeline only when the run is created; here it is a
    compile-time error. Ordering alone (`after`) is allowed: a skipped upstream
    does not leave a missing input behind.
    """
    for upstream, step, data in graph.edges():
        condition = _condition(symbols, exprs, upstream)
        if condition is None:
            continue
        data_paths = [p for p in data["paths"] if p[-1] != "after"]
        if not data_paths:
            continue
        mine = _conjuncts(_condition(symbols, exprs, step))
        if not _conjuncts(condition) <= mine:
            text = condition.text.strip()
            ctx.error(codes.CONDITIONAL_DEPENDENCY,
                      f"step '{step}' uses an output of '{upstream}', which runs only when "
                      f"`{text}`", data_paths[0],
                      hint=f"give '{step}' the same condition: when: \"${{{{ {text} }}}}\"")


def _check_unreachable(ctx: CheckContext, symbols: Symbols, exprs: ExprTable, graph: Dag,
                       topo: list[str]) -> None:
    """A step whose `when` is false whatever the run (`${{ false }}`, `${{ 1 > 2 }}`) never runs, and
    neither does a step that consumes one of its outputs. Ordering alone (`after`) does not
    propagate: a skipped upstream lets the steps after it run."""
    never: dict[str, str] = {}  # step -> why
    for name in topo:
        step = symbols.steps[name]
        checked = exprs.get(step.path + ("when",))
        whole = checked.parsed.whole if checked is not None else None
        if checked is not None and checked.type == t.BOOL and whole is not None and whole.node is not None \
                and constant_value(whole.node) is False:
            never[name] = "its condition is always false"
            ctx.warning(codes.UNREACHABLE_STEP, f"step '{name}' can never run: `{whole.text.strip()}` is always false",
                        step.path + ("when",), hint="remove the step, or fix its condition")
            continue
        for upstream in graph.predecessors(name):
            data_paths = [p for p in graph.edge(upstream, name)["paths"] if p[-1] != "after"]
            if upstream in never and data_paths:
                never[name] = upstream
                ctx.warning(codes.UNREACHABLE_STEP,
                            f"step '{name}' can never run: it consumes an output of '{upstream}', which never runs",
                            step.path, key=True, hint=f"remove it, or fix the condition of '{upstream}'")
                break


def constant_value(node: ast.Expr) -> Any:
    """The value of an expression that does not depend on the run, or None when it does.

    Only values of one kind meet (numbers with numbers, durations with durations...);
    anything else is a type error reported elsewhere, and stays None here.
    """
    if isinstance(node, ast.Lit):
        value = node.value
        for attr in ("seconds", "fraction", "bytes", "cores"):
            if hasattr(value, attr):
                return (type(value).__name__, getattr(value, attr))
        return value
    if isinstance(node, ast.Not):
        operand = constant_value(node.operand)
        return (not operand) if isinstance(operand, bool) else None
    if isinstance(node, ast.Logic):
        left, right = constant_value(node.left), constant_value(node.right)
        if isinstance(left, bool) and isinstance(right, bool):
            return (left and right) if node.op == "and" else (left or right)
        absorbing = node.op == "or"  # `x or true` is true, `x and false` is false, whatever x is
        return absorbing if left is absorbing or right is absorbing else None
    if isinstance(node, ast.Neg):
        operand = constant_value(node.operand)
        return -operand if _kind(operand) == "number" else None
    if isinstance(node, (ast.Compare, ast.Arith)):
        left, right = constant_value(node.left), constant_value(node.right)
        kind = _kind(left)
        if kind is None or kind != _kind(right) or (isinstance(node, ast.Arith) and kind != "number"):
            return None
        if isinstance(left, tuple):
            left, right = left[1], right[1]
        try:
            return _OPERATORS[node.op](left, right)
        except (TypeError, ArithmeticError):
            return None
    return None


def _kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "str"
    return value[0] if isinstance(value, tuple) else None


_OPERATORS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
              ">=": operator.ge, "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


def _meant(symbols: Symbols, step: str, output: str) -> tuple[str, str]:
    """The output a reference means: itself, or for a misspelled one (already an error) the
    output its did-you-mean names, so a typo is not also reported as an unused output."""
    if step not in symbols.steps:
        close = difflib.get_close_matches(step, list(symbols.steps), n=1, cutoff=0.6)
        step = close[0] if close else step
    outputs = symbols.steps[step].outputs if step in symbols.steps else {}
    if output not in outputs:
        close = difflib.get_close_matches(output, list(outputs), n=1, cutoff=0.6)
        output = close[0] if close else output
    return step, output


def _check_unused(ctx: CheckContext, symbols: Symbols, exprs: ExprTable, graph: Dag) -> None:
    if ctx.holes:
        return  # a part cut out of the spec (a step, `serving.model`) may read any output
    consumed: set[tuple[str, str]] = set()
    seen: set[int] = set()  # trees already read: equal expression texts share one tree
    for checked in exprs.by_path.values():
        for expression in checked.parsed.expressions:
            if expression.node is None or id(expression.node) in seen:
                continue
            seen.add(id(expression.node))
            for name in ast.names(expression.node):
                if name.parts[0] == "steps" and len(name.parts) >= 4:
                    consumed.add(_meant(symbols, name.parts[1], name.parts[3]))
    for step in symbols.steps.values():
        for out in step.outputs.values():
            declared_here = out.path[: len(step.path)] == step.path
            if not declared_here or out.implicit or out.type in _VIEWED or (step.name, out.name) in consumed:
                continue
            ctx.warning(codes.UNUSED_OUTPUT, f"output '{out.name}' of step '{step.name}' is never used",
                        out.path, key=True,
                        hint="remove it, or consume it in a later step or in `serving.model`")
