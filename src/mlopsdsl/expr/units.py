"""Literals with units: parsing and normalising to base units.

Backends never reparse unit text: a `Duration` carries `.seconds`, a `Percent`
`.fraction`, a `Cpu` `.cores` and a `Memory` `.bytes`, and every value keeps the
text the user wrote (`.text`) for messages and generated comments.

The same parsers serve expression literals (`250ms`, `1%`, `8Gi`) and the
plain YAML fields that hold units (`timeout: 2h`, `resources: {cpu: 500m}`), so
a duration means the same thing wherever it is written. Where the letter `m` is
ambiguous (5 minutes or 5 milli-cores) the caller decides by asking for a
duration or for a cpu quantity; expressions always ask for a duration.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

DURATION_UNITS: dict[str, float] = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# Kubernetes resource.Quantity suffixes: binary (Ki...) and decimal (k, M...).
MEMORY_UNITS: dict[str, int] = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "": 1,
}

# The largest value any target holds: Kubernetes quantities, protobuf/JSON integers and Go's
# time.Duration (int64 nanoseconds, ~292 years: what Kubernetes, Prometheus and Knative parse a
# duration into) are all 64-bit. A parser below returns None beyond it, as for a malformed text.
MAX_INT = 2**63 - 1
MAX_DURATION_SECONDS = MAX_INT / 1e9

# The syntax of each kind of value, as regular expressions without anchors. The JSON Schema's
# formats (`mlopsdsl.language.formats`), the expression grammar's literal tokens
# (`grammar_terminals`) and the parsers below are all built from these, so `1.5h` and `1h30m`
# are durations in a `timeout:` and inside `${{ }}` alike.
NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_DURATION_UNIT = "(?:" + "|".join(sorted(DURATION_UNITS, key=len, reverse=True)) + ")"
_MEMORY_SUFFIX = "(?:" + "|".join(u for u in MEMORY_UNITS if u) + ")"
# A duration may chain units (`1h30m`), as Go's time.ParseDuration (and so Kubernetes) reads them.
DURATION_SYNTAX = f"(?:{NUMBER}{_DURATION_UNIT})+"
PERCENT_SYNTAX = f"{NUMBER}%"
# A field's percentage is a share of something: 0% to 100%.
PERCENT_0_100_SYNTAX = r"(?:100(?:\.0+)?|[0-9]{1,2}(?:\.[0-9]+)?)%"
# Millicores are whole (Kubernetes has no precision below 1m); cores may have a fraction.
CPU_SYNTAX = r"[0-9]+m|" + NUMBER
MEMORY_SYNTAX = f"{NUMBER}{_MEMORY_SUFFIX}?"

_NUMBER = r"([0-9]+(?:\.[0-9]+)?)"
_DURATION_RE = re.compile(_NUMBER + r"(ms|s|m|h|d)")
_CHAINED_DURATION_RE = re.compile(DURATION_SYNTAX)
_PERCENT_RE = re.compile(_NUMBER + r"%")
_CPU_RE = re.compile(r"([0-9]+)(m)|" + _NUMBER + "()")
_MEMORY_RE = re.compile(_NUMBER + r"(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|)")


def grammar_terminals() -> str:
    """The expression grammar's literal tokens, in lark syntax (appended to grammar/expressions.lark).

    A number with a unit is one token that outranks plain numbers and must not run into a name.
    In an expression `m` is minutes: `5m` is a duration, never 5 milli-cores (no built-in name
    has a cpu type). `E` before a signed exponent is a float's exponent (`2.5E-1`), not exabytes,
    and memory needs its suffix (a bare number is an INT).
    """
    end = "(?![A-Za-z0-9_])"
    memory = _MEMORY_SUFFIX.replace("|E)", "|E(?![+-][0-9]))")
    return (f"DURATION.3: /{DURATION_SYNTAX}{end}/\n"
            f"PERCENT.3: /{PERCENT_SYNTAX}/\n"
            f"QUANTITY.3: /{NUMBER}{memory}{end}/\n")


@dataclass(frozen=True, slots=True)
class Duration:
    seconds: float
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Percent:
    fraction: float  # 1% -> 0.01
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Cpu:
    cores: float  # 500m -> 0.5
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Memory:
    bytes: int
    text: str

    def __str__(self) -> str:
        return self.text


def parse_duration(text: str) -> Duration | None:
    """`250ms`, `30s`, `5m`, `2h`, `1d`, and chains such as `1h30m`; None if not a duration."""
    text = text.strip()
    if not _CHAINED_DURATION_RE.fullmatch(text):
        return None
    seconds = sum(float(n) * DURATION_UNITS[u] for n, u in _DURATION_RE.findall(text))
    return Duration(seconds, text) if seconds <= MAX_DURATION_SECONDS else None


def duration_too_long(text: str) -> bool:
    """A duration's shape, but longer than any target can hold (`parse_duration` says None)."""
    return bool(_CHAINED_DURATION_RE.fullmatch(text.strip())) and parse_duration(text) is None


def in_range(number: float) -> bool:
    """Finite and within a 64-bit integer's magnitude: what every target can hold."""
    return math.isfinite(number) and abs(number) <= MAX_INT


def parse_percent(text: str) -> Percent | None:
    """`1%`, `12.5%` -> the fraction (0.01, 0.125); None if not a percentage."""
    text = text.strip()
    match = _PERCENT_RE.fullmatch(text)
    if not match or not in_range(float(match.group(1))):
        return None
    return Percent(float(match.group(1)) / 100.0, text)


def parse_cpu(text: str | int | float) -> Cpu | None:
    """K8s cpu quantity: `500m` (milli-cores), `2`, `0.5`; None if not one."""
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return Cpu(float(text), str(text)) if 0 <= text <= MAX_INT else None  # NaN and inf fail too
    text = text.strip()
    match = _CPU_RE.fullmatch(text)
    if not match or not in_range(float(match.group(1) or match.group(3))):
        return None
    if match.group(2):
        return Cpu(int(match.group(1)) / 1000.0, text)
    return Cpu(float(match.group(3)), text)


def parse_memory(text: str | int) -> Memory | None:
    """K8s memory quantity: `8Gi`, `512Mi`, `1G`, `1024`; None if not one."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return Memory(text, str(text)) if 0 <= text <= MAX_INT else None
    text = text.strip()
    match = _MEMORY_RE.fullmatch(text)
    if not match:
        return None
    amount = float(match.group(1)) * MEMORY_UNITS[match.group(2)]
    return Memory(round(amount), text) if in_range(amount) else None


def format_number(value: float) -> str:
    """`250.0` -> `250`, `0.5` -> `0.5`: how a suggested literal should read."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# Cron's shorthands, as Kubernetes CronJobs read them (robfig/cron); GitHub Actions' `schedule`
# knows only the 5 fields, so the lowering writes every schedule in its 5-field form.
CRON_MACROS: dict[str, str] = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@hourly": "0 * * * *",
}
CRON_SYNTAX = ("(?:" + "|".join(CRON_MACROS) + r")|\s*[0-9*,/?A-Za-z-]+(?:\s+[0-9*,/?A-Za-z-]+){4}\s*")


def cron_fields(text: str) -> str:
    """A schedule in its 5-field form (`@daily` -> `0 0 * * *`); other text as written, trimmed."""
    text = text.strip()
    return CRON_MACROS.get(text, text)
