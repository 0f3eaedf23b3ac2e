"""Values the schema can only shape-check: quantities, durations and cron schedules.

Units are parsed by `mlopsdsl.expr.units`, the one definition for the whole
front end; this module says where in a spec each kind of value lives and what
is wrong with a bad one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from mlopsdsl.check.context import CheckContext
from mlopsdsl.check.symbols import Symbols
from mlopsdsl.diagnostics import codes
from mlopsdsl.expr.units import cron_fields, duration_too_long, parse_cpu, parse_duration, parse_memory
from mlopsdsl.source import Path


def cron_problem(expression: str) -> str | None:
    """Why a 5-field cron expression is invalid, or None (parsed by cronsim, as cron reads it)."""
    from cronsim import CronSim, CronSimError

    fields = cron_fields(expression).split()
    if len(fields) != 5:
        return f"a cron schedule has 5 fields (minute hour day-of-month month day-of-week), not {len(fields)}"
    try:
        CronSim(expression, datetime(2026, 1, 1))
    except CronSimError as exc:
        return str(exc).rstrip(".")
    return None


def _resource_blocks(ctx: CheckContext, symbols: Symbols) -> Iterator[tuple[Path, Any]]:
    yield ("defaults", "resources"), ctx.section("defaults").get("resources")
    for step in symbols.all_steps():
        yield step.path + ("resources",), step.data.get("resources")
    serving = ctx.section("serving")
    yield ("serving", "resources"), serving.get("resources")
    transformer = serving.get("transformer")
    if isinstance(transformer, dict):
        yield ("serving", "transformer", "resources"), transformer.get("resources")
    for i, variant in enumerate(serving.get("variants") or []):
        if isinstance(variant, dict):
            yield ("serving", "variants", i, "resources"), variant.get("resources")


def check_resources(ctx: CheckContext, symbols: Symbols) -> None:
    seen: set[Path] = set()
    for path, block in _resource_blocks(ctx, symbols):
        if not isinstance(block, dict) or path in seen:
            continue
        seen.add(path)
        requests = {k: block.get(k) for k in ("cpu", "memory")}
        limits = block.get("limits") if isinstance(block.get("limits"), dict) else {}
        for where, values in ((path, requests), (path + ("limits",), limits)):
            for kind, value in values.items():
                if value is None:
                    continue
                parse = parse_cpu if kind == "cpu" else parse_memory
                if parse(value) is None:
                    example = "500m, 1 or 2.5" if kind == "cpu" else "512Mi, 8Gi or 1G"
                    ctx.error(codes.BAD_QUANTITY, f"'{value}' is not a {kind} quantity", where + (kind,),
                              hint=f"write a Kubernetes quantity such as {example}")
        for kind, parse in (("cpu", parse_cpu), ("memory", parse_memory)):
            request, limit = requests.get(kind), limits.get(kind)
            if request is None or limit is None:
                continue
            low, high = parse(request), parse(limit)
            if low and high and _amount(high) < _amount(low):
                ctx.error(codes.BAD_QUANTITY, f"the {kind} limit {limit} is below the request {request}",
                          path + ("limits", kind), hint="Kubernetes refuses a limit below the request")


def _amount(quantity: Any) -> float:
    return getattr(quantity, "cores", None) or getattr(quantity, "bytes", 0)


def check_durations(ctx: CheckContext, symbols: Symbols) -> None:
    places: list[tuple[Path, Any]] = []
    for step in symbols.all_steps():
        places.append((step.path + ("timeout",), step.data.get("timeout")))
        retries = step.data.get("retries")
        if isinstance(retries, dict):
            places += [(step.path + ("retries", k), retries.get(k)) for k in ("backoff", "max_backoff")]
            low, high = (parse_duration(str(retries.get(k) or "")) for k in ("backoff", "max_backoff"))
            if low and high and high.seconds < low.seconds:
                ctx.error(codes.BAD_DURATION, f"max_backoff {high.text} is shorter than backoff {low.text}",
                          step.path + ("retries", "max_backoff"), hint="max_backoff caps the growing backoff")
    rollout = ctx.section("serving").get("rollout")
    if isinstance(rollout, dict):
        places.append((("serving", "rollout", "interval"), rollout.get("interval")))
    for i, alert in enumerate(ctx.section("monitoring").get("alerts") or []):
        if isinstance(alert, dict):
            places.append((("monitoring", "alerts", i, "for"), alert.get("for")))
    for path, value in places:
        if not isinstance(value, str):
            continue
        parsed = parse_duration(value)
        shown = value if len(value) <= 40 else f"{value[:16]}...{value[-16:]}"
        if parsed is None and duration_too_long(value):
            ctx.error(codes.BAD_DURATION, f"'{shown}' is longer than any target can hold", path,
                      hint="durations stop at Go's time.Duration, about 292 years")
        elif parsed is None:
            ctx.error(codes.BAD_DURATION, f"'{shown}' is not a duration", path,
                      hint="write a number and a unit: 250ms, 30s, 5m, 2h, 1d (or 1h30m)")
        elif parsed.seconds <= 0 and path[-1] != "for":
            ctx.error(codes.BAD_DURATION, f"a {path[-1]} of {value} would never let anything run", path,
                      hint="use a positive duration, or remove the field")


def check_schedules(ctx: CheckContext) -> None:
    drift = ctx.section("monitoring").get("drift")
    github = ctx.section("ci").get("github")
    places = []
    if isinstance(drift, dict):
        places.append((("monitoring", "drift", "schedule"), drift.get("schedule")))
    if isinstance(github, dict) and isinstance(github.get("retrain"), dict):
        places.append((("ci", "github", "retrain", "schedule"), github["retrain"].get("schedule")))
    for path, value in places:
        if isinstance(value, str):
            problem = cron_problem(value)
            if problem:
                ctx.error(codes.BAD_CRON, f"invalid cron schedule '{value}': {problem}", path,
                          hint="e.g. '0 * * * *' hourly, '0 3 * * 1' Mondays at 03:00 UTC")
