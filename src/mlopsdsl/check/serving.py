"""Serving rules of the language: rollout steps and A/B weights are whole percents that add up,
and `serving.model` is a Model. What a serving target can run is that target's `check`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Optional

from mlopsdsl.check.context import CheckContext
from mlopsdsl.check.exprs import ExprTable
from mlopsdsl.diagnostics import codes
from mlopsdsl.expr.units import parse_percent


@dataclass(frozen=True)
class Problem:
    """One broken rule, at a document path from the root (``("serving", "variants", 1, "weight")``)."""

    code: codes.Code
    message: str
    hint: Optional[str]
    path: tuple[str | int, ...]


def _percents(values: Iterable[float]) -> list[float]:
    # Percent numbers often arrive as fraction * 100, where 29% is 28.999999999999996: rounding
    # keeps such float noise from reading as "not a whole percent" or from tipping a sum.
    return [round(float(value), 6) for value in values]


def _percent(value: float) -> str:
    return f"{value:g}%"


def check_canary_steps(steps: Iterable[float]) -> list[Problem]:
    """Canary traffic steps: whole percents in (0, 100], strictly increasing, ending at 100."""
    steps = _percents(steps)
    if not steps:
        return [Problem(codes.CANARY_STEPS, "a canary rollout needs `steps`", "for example [10%, 50%, 100%]",
                        ("serving", "rollout", "steps"))]
    for i, step in enumerate(steps):
        if not 0 < step <= 100:
            return [Problem(codes.CANARY_STEPS, f"canary step {_percent(step)} is outside (0%, 100%]", None,
                            ("serving", "rollout", "steps", i))]
        if step != int(step):
            # canaryTrafficPercent is an integer field of the InferenceService.
            return [Problem(codes.CANARY_STEPS, f"canary step {_percent(step)} is not a whole percent",
                            f"use {round(step)}%", ("serving", "rollout", "steps", i))]
        if i and step <= steps[i - 1]:
            return [Problem(codes.CANARY_STEPS, f"canary steps must strictly increase: {_percent(steps[i - 1])} "
                            f"then {_percent(step)}", None, ("serving", "rollout", "steps", i))]
    if steps[-1] != 100:
        return [Problem(codes.CANARY_STEPS, f"canary steps end at {_percent(steps[-1])}, not 100%",
                        "add 100% as the last step: it is the promotion",
                        ("serving", "rollout", "steps", len(steps) - 1))]
    return []


def check_variant_weights(weights: Iterable[float]) -> list[Problem]:
    """A/B weights: each a whole percent above 0, together below 100 (the primary takes the rest)."""
    weights = _percents(weights)
    problems = []
    for i, weight in enumerate(weights):
        if weight <= 0 or weight != int(weight):
            problems.append(Problem(codes.VARIANT_WEIGHTS,
                                    f"variant weight {_percent(weight)} must be a whole percent above 0%",
                                    None, ("serving", "variants", i, "weight")))
    total = sum(weights)
    if weights and total >= 100:
        problems.append(Problem(codes.VARIANT_WEIGHTS,
                                f"variant weights add up to {_percent(total)}, leaving nothing for the primary model",
                                "the primary model gets 100% minus the variants' weights; keep their sum below 100%",
                                ("serving", "variants")))
    return problems



def _percent_values(values) -> list[float]:
    out = []
    for value in values or []:
        parsed = parse_percent(value) if isinstance(value, str) else None
        out.append(parsed.fraction * 100 if parsed else float(value) if isinstance(value, (int, float)) else 0.0)
    return out


def check_serving_rules(ctx: CheckContext, exprs: ExprTable) -> None:
    serving = ctx.section("serving")
    if not serving:
        return
    rollout = serving.get("rollout") if isinstance(serving.get("rollout"), dict) else {}
    variants = [v for v in serving.get("variants") or [] if isinstance(v, dict)]
    problems = check_canary_steps(_percent_values(rollout.get("steps"))) if rollout.get("strategy") == "canary" else []
    problems += check_variant_weights(_percent_values([v.get("weight") for v in variants]))
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
