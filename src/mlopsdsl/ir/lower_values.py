"""Plain YAML values with units -> the IR's numbers (durations in seconds, percents as percent
numbers), read with the language's own parsers (`expr.units`). Every lowering module reads them
from here, so none of them imports another to get at them."""

from __future__ import annotations

from typing import Any

from mlopsdsl.expr.units import parse_duration, parse_percent


def seconds(value: Any) -> float | None:
    parsed = parse_duration(value) if isinstance(value, str) else None
    return parsed.seconds if parsed else None


def percent_number(value: Any) -> float:
    parsed = parse_percent(value) if isinstance(value, str) else None
    return round(parsed.fraction * 100, 6) if parsed else float(value)
