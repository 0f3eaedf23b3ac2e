"""Serving rules: the support matrix (`mlopsdsl.support`) and what `serving.model` points at."""

from __future__ import annotations

from dataclasses import replace

from mlopsdsl.check.context import CheckContext
from mlopsdsl.check.exprs import ExprTable
from mlopsdsl.diagnostics import codes
from mlopsdsl.expr.units import parse_percent
from mlopsdsl.support import check_serving


def _percents(values) -> list[float]:
    out = []
    for value in values or []:
        parsed = parse_percent(value) if isinstance(value, str) else None
        out.append(parsed.fraction * 100 if parsed else float(value) if isinstance(value, (int, float)) else 0.0)
    return out


def check_serving_rules(ctx: CheckContext, exprs: ExprTable) -> None:
    serving = ctx.section("serving")
    if not serving:
        return
    framework = ctx.section("model").get("framework") or "custom"
    rollout = serving.get("rollout") if isinstance(serving.get("rollout"), dict) else {}
    autoscaling = serving.get("autoscaling") if isinstance(serving.get("autoscaling"), dict) else {}
    variants = [v for v in serving.get("variants") or [] if isinstance(v, dict)]
    target = autoscaling.get("target")
    problems = check_serving(
        framework, serving.get("protocol") or "v1", serving.get("runtime"),
        serving.get("deployment_mode") or "serverless", rollout.get("strategy") or "direct",
        canary_steps=_percents(rollout.get("steps")),
        variant_weights=_percents([v.get("weight") for v in variants]),
        variant_frameworks=[v.get("framework") for v in variants],
        autoscale_metric=autoscaling.get("metric"),
        autoscale_target=float(target) if isinstance(target, (int, float)) and not isinstance(target, bool) else None)
    for problem in problems:
        ctx.error(problem.code, problem.message, problem.path, hint=problem.hint)
    model = exprs.get(("serving", "model"))
    if model is None:
        return
    # The expression checker reports a wrong type as MLD505; here it has its own code.
    for i, diagnostic in enumerate(ctx.diagnostics):
        if diagnostic.code is codes.EXPR_TYPE_MISMATCH and diagnostic.path == ("serving", "model"):
            ctx.diagnostics[i] = replace(diagnostic, code=codes.SERVING_MODEL_NOT_MODEL,
                                         hint="point it at a step output declared as `Model`")
            return
    if model.type.name not in ("Model", "unknown"):
        ctx.error(codes.SERVING_MODEL_NOT_MODEL, f"`serving.model` must be a Model, not a {model.type}",
                  ("serving", "model"), hint="point it at a step output declared as `Model`")
