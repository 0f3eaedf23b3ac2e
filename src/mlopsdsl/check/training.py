"""`distributed:` and `tune:` beyond the schema: what the search space, the objective and the
framework options must agree with elsewhere in the spec (the declared `params`, the step's outputs).

Each rule is one a Katib webhook or suggestion service, or a KubeRay/Trainer controller, would
otherwise refuse at run time, after the pipeline has started: said here with the span instead.
"""

from __future__ import annotations

import math
from typing import Any

from mlopsdsl.check.context import CheckContext, did_you_mean, known
from mlopsdsl.check.exprs import ExprTable
from mlopsdsl.check.symbols import StepDecl, Symbols
from mlopsdsl.diagnostics import codes
from mlopsdsl.expr import ast

SPACE_KINDS = ("uniform", "loguniform", "int", "choice")
# search kind -> the parameter types it can vary
KIND_TYPES = {"uniform": ("float",), "loguniform": ("float",), "int": ("int",), "choice": ("int", "float", "str", "bool")}
RAY_ONLY = ("ray",)


def check_training(ctx: CheckContext, symbols: Symbols, exprs: ExprTable) -> None:
    params = ctx.section("params")
    for step in symbols.all_steps():
        if isinstance(step.data.get("distributed"), dict):
            _distributed(ctx, step)
        if isinstance(step.data.get("tune"), dict):
            _tune(ctx, step, params, _params_in_run(step, exprs))


def _distributed(ctx: CheckContext, step: StepDecl) -> None:
    dist, path = step.data["distributed"], step.path + ("distributed",)
    framework = dist.get("framework")
    if "ray" in dist and framework != "ray":
        ctx.error(codes.DISTRIBUTED_OPTION, f"`ray:` options on a `{framework}` job", path + ("ray",), key=True,
                  hint="remove them, or set `framework: ray`")
    if "procs_per_worker" in dist and framework == "ray":
        ctx.error(codes.DISTRIBUTED_OPTION, "Ray schedules its own processes: `procs_per_worker` has no meaning "
                  "for `framework: ray`", path + ("procs_per_worker",), key=True,
                  hint="size the workers with the step's `resources`")


def space_kind(space: dict[str, Any]) -> str | None:
    kinds = [k for k in SPACE_KINDS if k in space]
    return kinds[0] if len(kinds) == 1 else None


def _tune(ctx: CheckContext, step: StepDecl, params: dict[str, Any], used: set[str]) -> None:
    tune, path = step.data["tune"], step.path + ("tune",)
    combinations = 1.0
    for name, space in (tune.get("params") or {}).items():
        where = path + ("params", name)
        declared = params.get(name)
        if not isinstance(declared, dict):
            if ctx.unknown("params", name):
                continue
            ctx.error(codes.TUNE_PARAM_UNKNOWN, f"`tune` varies '{name}', which `params` does not declare", where,
                      key=True, hint=did_you_mean(name, params) or f"declare it under `params:`; known: {known(params)}")
            continue
        kind = space_kind(space) if isinstance(space, dict) else None
        if kind is None:
            continue  # the schema reported it
        combinations *= _space(ctx, name, kind, space, declared.get("type"), where, tune.get("algorithm"))
        if name not in used:
            ctx.warning(codes.TUNE_PARAM_UNUSED, f"`tune` varies '{name}' but the step's `run` never reads "
                        f"`${{{{ params.{name} }}}}`, so every trial would run the same command", where, key=True,
                        hint=f"pass it in `run`, e.g. `--{name.replace('_', '-')}`, \"${{{{ params.{name} }}}}\"")
    _objective(ctx, step, tune, path)
    trials = tune.get("trials")
    if isinstance(trials, int):
        for key in ("parallel", "max_failed"):
            if isinstance(tune.get(key), int) and tune[key] > trials:
                ctx.error(codes.TUNE_COUNTS, f"`{key}: {tune[key]}` is more than `trials: {trials}`", path + (key,),
                          hint="Katib's webhook refuses it: lower it, or raise `trials`")
        if tune.get("algorithm") == "grid" and math.isfinite(combinations) and trials > combinations:
            ctx.error(codes.TUNE_GRID, f"grid search has {int(combinations)} combinations but `trials: {trials}`",
                      path + ("trials",), hint=f"set `trials: {int(combinations)}` or fewer (Katib's grid refuses more)")


def _space(ctx: CheckContext, name: str, kind: str, space: dict[str, Any], param_type: Any, where: tuple,
           algorithm: Any) -> float:
    """Report what does not fit; returns how many values the dimension has (inf when continuous)."""
    if param_type not in KIND_TYPES[kind]:
        ctx.error(codes.TUNE_SPACE, f"`{kind}` cannot vary '{name}', a `{param_type}` parameter", where + (kind,),
                  key=True, hint=f"for a {param_type} use " + " or ".join(
                      f"`{k}`" for k, types in KIND_TYPES.items() if param_type in types))
        return 1.0
    values = space[kind]
    if kind == "choice":
        return float(len(values))
    low, high = values
    if not low < high:
        ctx.error(codes.TUNE_SPACE, f"the range of '{name}' is empty: {low} is not below {high}", where + (kind,))
        return 1.0
    if kind == "loguniform" and low <= 0:
        ctx.error(codes.TUNE_SPACE, f"`loguniform` needs a lower bound above 0 ('{name}' starts at {low})",
                  where + (kind,), hint="use `uniform`, or start the range at a small positive number")
    step = space.get("step")
    if step is None and kind == "int":
        step = 1
    if step is None:
        if algorithm == "grid":
            ctx.error(codes.TUNE_GRID, f"grid search needs a `step` for the float parameter '{name}'", where,
                      key=True, hint="add e.g. `step: 0.1` (Katib's grid enumerates the range by it)")
        return math.inf
    return math.floor((high - low) / step + 1e-9) + 1.0


def _objective(ctx: CheckContext, step: StepDecl, tune: dict[str, Any], path: tuple) -> None:
    metric = (tune.get("objective") or {}).get("metric")
    if not isinstance(metric, str):
        return
    output, _, field = metric.partition(".")
    decl = step.outputs.get(output)
    where = path + ("objective", "metric")
    if decl is None or not field:
        ctx.error(codes.TUNE_OBJECTIVE, f"`{metric}` is not `OUTPUT.FIELD` of an output of step '{step.name}'", where,
                  hint=did_you_mean(output, step.outputs) or f"its outputs: {known(step.outputs)}")
    elif field not in decl.fields or decl.fields[field] not in ("int", "float"):
        ctx.error(codes.TUNE_OBJECTIVE, f"output '{output}' declares no numeric field '{field}'", where,
                  hint=did_you_mean(field, decl.fields) or "declare it: `fields: {" + field + ": float}`")


def _params_in_run(step: StepDecl, exprs: ExprTable) -> set[str]:
    """The `params.X` the step's `run` reads, from the checked expressions of its arguments."""
    run = step.path + ("run",)
    found = set()
    for path, checked in exprs.by_path.items():
        if path[: len(run)] != run:
            continue
        for expression in checked.parsed.expressions:
            if expression.node is not None:
                found.update(n.parts[1] for n in ast.names(expression.node)
                             if n.parts[0] == "params" and len(n.parts) > 1)
    return found
