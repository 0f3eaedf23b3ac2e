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

_NUMBER = r"([0-9]+(?:\.[0-9]+)?)"
_DURATION_RE = re.compile(_NUMBER + r"(ms|s|m|h|d)")
# A K8s duration field may chain units (`1h30m`), as Go's time.ParseDuration does.
_CHAINED_DURATION_RE = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d))+")
_PERCENT_RE = re.compile(_NUMBER + r"%")
_CPU_RE = re.compile(_NUMBER + r"(m?)")
_MEMORY_RE = re.compile(_NUMBER + r"(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|)")


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
    if not match or not in_range(float(match.group(1))):
        return None
    value = float(match.group(1))
    return Cpu(value / 1000.0 if match.group(2) else value, text)


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
