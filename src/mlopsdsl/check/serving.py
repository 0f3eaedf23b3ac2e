"""Serving rules: the support matrix (`mlopsdsl.support`) and what `serving.model` points at."""

from __future__ import annotations

from dataclasses import replace

from mlopsdsl.check.context import CheckContext
from mlopsdsl.check.exprs import ExprTable
from mlopsdsl.diagnostics import codes
from mlopsdsl.expr.units import parse_percent
from mlopsdsl.support import check_deployment, check_serving


def _percents(values) -> list[float]:
    out = []
    for value in values or []:
        parsed = parse_percent(value) if isinstance(value, str) else None
        out.append(parsed.fraction * 100 if parsed else float(value) if isinstance(value, (int, float)) else 0.0)
    return out


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _int(value, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _gpu_type_path(serving: dict, variants: list[dict]):
    """Where a GPU type (which becomes a nodeSelector) is written, if anywhere."""
    owners = [(("serving",), serving)] + [(("serving", "variants", i), v) for i, v in enumerate(variants)]
    for base, owner in owners:
        gpu = _mapping(_mapping(owner.get("resources")).get("gpu"))
        if gpu.get("type"):
            return base + ("resources", "gpu", "type")
    return None


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
    problems += check_deployment(
        framework, serving.get("protocol") or "v1", serving.get("runtime"),
        serving.get("deployment_mode") or "serverless",
        min_replicas=_int(_mapping(serving.get("replicas")).get("min"), 1),
        max_replicas=_int(_mapping(serving.get("replicas")).get("max"),
                          max(_int(_mapping(serving.get("replicas")).get("min"), 1), 1)),
        node_selector_at=_gpu_type_path(serving, variants),
        knative_features=serving.get("knative_features") or (), declared_grpc_port=serving.get("grpc_port"),
        variant_frameworks=[v.get("framework") for v in variants])
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
