"""Semantic checks: everything the JSON Schema cannot say.

`check_spec` runs every check over one (already schema-valid) spec and returns
what the lowering needs: the symbol table, the checked expressions and the
topological order. Checks only report; none of them changes the spec.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from mlopsdsl.check.ci import check_tool_install
from mlopsdsl import language
from mlopsdsl.check.components import load_components
from mlopsdsl.check.context import CheckContext
from mlopsdsl.check.credentials import check_credentials
from mlopsdsl.check.envs import check_environment_names
from mlopsdsl.check.exprs import ExprTable, check_component_expressions, check_expressions
from mlopsdsl.check.graph import build_graph, check_graph
from mlopsdsl.check.monitoring import check_drift, check_drift_job, check_no_traffic, check_unique_names
from mlopsdsl.check.params import check_params
from mlopsdsl.check.secrets import check_component_secrets, check_literal_secrets
from mlopsdsl.check.serving import check_serving_rules
from mlopsdsl.check.steps import check_steps
from mlopsdsl.check.symbols import Symbols, build
from mlopsdsl.check.training import check_training
from mlopsdsl.check.values import check_values


@dataclass
class CheckedSpec:
    ctx: CheckContext
    symbols: Symbols
    exprs: ExprTable
    order: list[str] | None  # topological step order; None when the graph has a cycle
    graph: Any
    components: dict[str, Any] = field(default_factory=dict)  # `uses:` value -> its Component (None: failed)

    @property
    def data(self) -> dict[str, Any]:
        return self.ctx.data


def check_spec(ctx: CheckContext) -> CheckedSpec:
    ctx.spec_dir = os.path.dirname(ctx.source.path) or "."
    if ctx.data.get("kind") == "Component":
        return _check_component_file(ctx)
    components = load_components(ctx)
    check_component_secrets(ctx, components)
    symbols = build(ctx, components)
    check_params(ctx, symbols)
    check_values(ctx, components)
    check_literal_secrets(ctx)
    check_environment_names(ctx)
    check_tool_install(ctx)
    check_credentials(ctx)
    exprs = check_expressions(ctx, symbols)
    check_steps(ctx, symbols, exprs)
    check_training(ctx, symbols, exprs)
    check_serving_rules(ctx, exprs)
    check_drift(ctx)
    check_drift_job(ctx)
    check_no_traffic(ctx)
    check_unique_names(ctx)
    if ctx.base is not None and _same_steps(symbols, exprs, ctx.base) and exprs.same_as(ctx.base.exprs):
        # The DAG and what its checks read (conditions, outputs and who consumes them) are made of
        # the steps as written and the expressions only: the base run's graph is this one.
        graph, order = ctx.base.graph, ctx.base.order
    else:
        graph = build_graph(ctx, symbols, exprs)
        order = check_graph(ctx, symbols, exprs, graph)
    return CheckedSpec(ctx, symbols, exprs, order, graph, components)


def _same_steps(symbols: Symbols, exprs: ExprTable, base: CheckedSpec) -> bool:
    """The same steps, each the base's as far as the DAG's checks read it: as written in the base spec
    (its record in the expression table is the base's own, which the table shares only for such a
    step), or with the same edges, outputs and condition (an override of its resources or image)."""
    if list(symbols.steps) != list(base.symbols.steps):
        return False
    for name, step in symbols.steps.items():
        if exprs.steps.get(name) is base.exprs.steps.get(name):
            continue
        when, theirs = exprs.get(step.path + ("when",)), base.exprs.get(step.path + ("when",))
        if (exprs.edges.get(name) != base.exprs.edges.get(name) or step.outputs != base.symbols.steps[name].outputs
                or (when is None) != (theirs is None) or (when is not None and not when.same_check(theirs))):
            return False
    return True


def _check_component_file(ctx: CheckContext) -> CheckedSpec:
    """`validate` of a `kind: Component` file on its own: what can be known without the project using it."""
    from mlopsdsl.check.symbols import StepDecl, input_decls, output_decls
    from mlopsdsl.expr import types as t

    inputs = input_decls(ctx.data.get("inputs"))
    outputs = output_decls(ctx.data.get("outputs"), ("outputs",))
    itself = StepDecl(str(ctx.section("metadata").get("name", "component")), (), ctx.data, outputs)
    symbols = Symbols(steps={itself.name: itself})
    check_values(ctx, {}, language.COMPONENT)
    check_literal_secrets(ctx)
    check_component_expressions(ctx, {n: t.from_name(d.type) or t.UNKNOWN for n, d in inputs.items()}, outputs)
    return CheckedSpec(ctx, symbols, ExprTable(), None, None)
