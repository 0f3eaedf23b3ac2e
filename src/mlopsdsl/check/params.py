"""Parameter declarations: defaults, bounds and choices must fit the declared type."""

from __future__ import annotations

from typing import Any

from mlopsdsl.check.context import CheckContext
from mlopsdsl.check.symbols import Symbols
from mlopsdsl.diagnostics import codes

_PYTHON = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}


def fits(type_name: str, value: Any) -> bool:
    if isinstance(value, bool) and type_name != "bool":
        return False
    return isinstance(value, _PYTHON.get(type_name, ()))


def check_params(ctx: CheckContext, symbols: Symbols) -> None:
    for name, param in symbols.params.items():
        kind = param.get("type")
        if kind not in _PYTHON:
            continue  # the schema reported it
        path = ("params", name)
        for key in ("default", "min", "max"):
            value = param.get(key)
            if value is None:
                continue
            wanted = kind if key == "default" else ("int" if kind == "int" else "float")
            if key != "default" and kind in ("bool", "str"):
                ctx.error(codes.PARAM_DEFAULT_TYPE, f"`{key}` does not apply to a {kind} parameter",
                          path + (key,), key=True, hint="remove it, or use `choices` to restrict the values")
            elif not fits(wanted, value):
                ctx.error(codes.PARAM_DEFAULT_TYPE,
                          f"{key} of parameter '{name}' is {_show(value)}, which is not a {kind}",
                          path + (key,), hint=_type_hint(kind, value))
        choices = param.get("choices")
        if isinstance(choices, list):
            for i, choice in enumerate(choices):
                if not fits(kind, choice):
                    ctx.error(codes.PARAM_DEFAULT_TYPE, f"choice {_show(choice)} is not a {kind}",
                              path + ("choices", i), hint=_type_hint(kind, choice))
        _check_range(ctx, name, param, kind)
    _check_unattended(ctx, symbols)


def unattended_triggers(ctx: CheckContext) -> list[str]:
    """What starts the pipeline with no one to type a parameter value (push, schedule, drift)."""
    triggers = []
    github = ctx.section("ci").get("github")
    github = github if isinstance(github, dict) else {}
    if isinstance(github.get("train"), dict):
        triggers.append("`ci.github.train` (a push)")
    if isinstance(github.get("retrain"), dict):
        triggers.append("`ci.github.retrain` (a schedule)")
    if ctx.section("pipeline").get("schedule") is not None:
        triggers.append("`pipeline.schedule`")
    drift = ctx.section("monitoring").get("drift")
    if isinstance(drift, dict) and drift.get("on_drift") == "retrain":
        triggers.append("`monitoring.drift.on_drift: retrain`")
    return triggers


def _check_unattended(ctx: CheckContext, symbols: Symbols) -> None:
    """A run cannot start with a required pipeline input left empty, and an automatic trigger
    supplies no values: such runs would never start."""
    missing = [n for n, p in symbols.params.items() if isinstance(p, dict) and p.get("default") is None]
    triggers = unattended_triggers(ctx) if missing else []
    for name in missing if triggers else ():
        ctx.error(codes.PARAM_NEEDS_DEFAULT,
                  f"parameter '{name}' has no default, but runs started by {' and '.join(triggers)} pass no "
                  f"value for it, and a run cannot start without its required inputs",
                  ("params", name), key=True, hint="give it a `default:` (a manual run can still override it)")


def _check_range(ctx: CheckContext, name: str, param: dict[str, Any], kind: str) -> None:
    path = ("params", name)
    low, high, default = param.get("min"), param.get("max"), param.get("default")
    numeric = kind in ("int", "float")
    if numeric and fits("float", low) and fits("float", high) and low > high:
        ctx.error(codes.PARAM_DEFAULT_RANGE, f"min ({low}) is greater than max ({high})", path + ("min",),
                  hint="swap them")
        return
    if not fits(kind, default):
        return
    if numeric and fits("float", low) and default < low:
        ctx.error(codes.PARAM_DEFAULT_RANGE, f"default {default} of '{name}' is below its min {low}",
                  path + ("default",), hint=f"use a default of at least {low}")
    if numeric and fits("float", high) and default > high:
        ctx.error(codes.PARAM_DEFAULT_RANGE, f"default {default} of '{name}' is above its max {high}",
                  path + ("default",), hint=f"use a default of at most {high}")
    choices = param.get("choices")
    if isinstance(choices, list) and choices and default not in choices:
        ctx.error(codes.PARAM_DEFAULT_RANGE, f"default {_show(default)} of '{name}' is not one of its choices",
                  path + ("default",), hint="choices: " + ", ".join(_show(c) for c in choices))


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"'{value}'" if isinstance(value, str) else str(value)


def _type_hint(kind: str, value: Any) -> str:
    if kind in ("int", "float") and isinstance(value, str):
        return "write the number without quotes"
    if kind == "int" and isinstance(value, float):
        return "an int parameter takes whole numbers; or declare `type: float`"
    if kind == "str" and not isinstance(value, str):
        return f"quote it: '{_show(value)}'"
    if kind == "bool":
        return "use true or false (YAML 1.2: yes/no/on/off are strings)"
    return f"use a {kind}"
