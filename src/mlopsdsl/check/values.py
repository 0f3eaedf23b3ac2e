"""Values with units, beyond their syntax: found through the language table, wherever they are.

The schema's formats and the parsers are built from one value syntax
(`mlopsdsl.expr.units`), so a value that reaches here has the syntax; it may
still be too large for a 64-bit target (the parsers say None). What the schema
cannot say is checked here, for every field of the format in the spec and in
its component files (the table says which fields those are, so a new field of a
format is checked without an edit here): a duration must be positive where zero
would mean "never", a cron schedule must be one cron can run, a limit must not
be below its request, and `max_backoff` must not be below `backoff`. A field whose
table entry says it applies only beside some values of a neighbour (`only_with`:
`fields` only on a `Metrics` output) is refused elsewhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable

from mlopsdsl import language
from mlopsdsl.check.context import CheckContext, value_at
from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.expr.units import cron_fields, parse_cpu, parse_duration, parse_memory
from mlopsdsl.language import steps
from mlopsdsl.language.table import only_with_words
from mlopsdsl.source import Path

Report = Callable[..., None]  # (code, message, path, hint, key=False)


def cron_problem(expression: str) -> str | None:
    """Why a cron expression is invalid, or None (parsed by cronsim, as cron reads it)."""
    from cronsim import CronSim, CronSimError

    fields = cron_fields(expression).split()
    if len(fields) != 5:
        return f"a cron schedule has 5 fields (minute hour day-of-month month day-of-week), not {len(fields)}"
    try:
        CronSim(" ".join(fields), datetime(2026, 1, 1))
    except CronSimError as exc:
        return str(exc).rstrip(".")
    return None


def check_values(ctx: CheckContext, components: dict[str, Any], root: language.Section = language.PROJECT) -> None:
    """The values of the document (a Project, or a Component file on its own) and of its components.

    A variant checked after its base (`ctx.base`) walks only what its overlay copied, and skips the
    components the base checked: each check reads a field and the mapping holding it, so the rest
    would report what the base reported."""
    def spec_report(code: codes.Code, message: str, path: Path, hint: str, key: bool = False) -> None:
        ctx.error(code, message, path, hint=hint, key=key)

    base = ctx.base
    _check(ctx.data, language.walk_changed(ctx.data, base.data, root) if base is not None else
           language.walk(ctx.data, root), spec_report)
    for ref, component in components.items():
        if component is None or (base is not None and base.components.get(ref) is component):
            continue

        def component_report(code: codes.Code, message: str, path: Path, hint: str, key: bool = False,
                             _c=component) -> None:
            ctx.diagnostics.append(Diagnostic(code, message, _c.document.index.span(path, key=key), path,
                                              hint=hint))

        _check(component.data, language.walk(component.data, language.COMPONENT), component_report)


def _check(data: Any, fields: Iterable[tuple[Path, language.Field, Any]], report: Report) -> None:
    for path, entry, value in fields:
        if entry.only_with:
            _applies(value_at(data, path[:-1]), path, entry, report)
        units = entry.units
        if units == "duration" and isinstance(value, str):
            _duration(path, entry, value, report)
        elif units in _QUANTITIES and _QUANTITIES[units](value) is None:  # the schema held the syntax: too large
            report(codes.BAD_QUANTITY, f"'{_shown(value)}' is larger than any target can hold", path,
                   "quantities stop at a 64-bit integer")
        elif units == "cron" and isinstance(value, str):
            problem = cron_problem(value)
            if problem:
                report(codes.BAD_CRON, f"invalid cron schedule '{value}': {problem}", path,
                       "e.g. '0 * * * *' hourly, '0 3 * * 1' Mondays at 03:00 UTC, or @daily")
        if entry.shape is steps.LIMITS and isinstance(value, dict):
            _limits(value_at(data, path[:-1]), path, report)
        elif entry.shape is steps.RETRIES and isinstance(value, dict):
            _backoff(value, path, report)


def _applies(block: Any, path: Path, entry: language.Field, report: Report) -> None:
    """A field set beside a neighbour value it means nothing with (the table's `only_with`): a target
    would drop it, or emit it where its own loader refuses it (`fields` on a `bool` output once reached
    the Kubeflow DAG as a channel no task produces)."""
    for key, allowed in entry.only_with.items():
        sibling = block.get(key)  # absent: its default, which the table holds to be allowed
        if isinstance(sibling, str) and sibling not in allowed:
            report(codes.FIELD_NOT_APPLICABLE,
                   f"`{path[-1]}` applies only with {entry.only_with_text}, and this {key} is `{sibling}`",
                   path, f"remove `{path[-1]}`, or set " + (only_with_words(key, allowed) if len(allowed) == 1
                                                              else f"`{key}` to one of {', '.join(allowed)}"),
                   key=True)
            return


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else f"{text[:16]}...{text[-16:]}"


_QUANTITIES = {"cpu": parse_cpu, "memory": parse_memory}


def _duration(path: Path, entry: language.Field, value: str, report: Report) -> None:
    parsed = parse_duration(value)
    if parsed is None:  # the schema held the syntax: it is too long
        report(codes.BAD_DURATION, f"'{_shown(value)}' is longer than any target can hold", path,
               "durations stop at Go's time.Duration, about 292 years")
    elif parsed.seconds <= 0 and not entry.zero_ok:
        report(codes.BAD_DURATION, f"a {path[-1]} of {value} would never let anything run", path,
               "use a positive duration, or remove the field")


def _limits(block: Any, path: Path, report: Report) -> None:
    limits = block.get("limits") if isinstance(block, dict) else None
    if not isinstance(limits, dict):
        return
    for kind, parse in (("cpu", parse_cpu), ("memory", parse_memory)):
        request, limit = block.get(kind), limits.get(kind)
        if request is None or limit is None:
            continue
        low, high = parse(request), parse(limit)
        if low and high and _amount(high) < _amount(low):
            report(codes.BAD_QUANTITY, f"the {kind} limit {limit} is below the request {request}",
                   path + (kind,), "Kubernetes refuses a limit below the request")


def _amount(quantity: Any) -> float:
    return getattr(quantity, "cores", None) or getattr(quantity, "bytes", 0)


def _backoff(retries: dict[str, Any], path: Path, report: Report) -> None:
    low, high = (parse_duration(str(retries.get(k) or "")) for k in ("backoff", "max_backoff"))
    if low and high and high.seconds < low.seconds:
        report(codes.BAD_DURATION, f"max_backoff {high.text} is shorter than backoff {low.text}",
               path + ("max_backoff",), "max_backoff caps the growing backoff")
