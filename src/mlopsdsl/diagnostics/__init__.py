"""One diagnostic type for every stage, and the helpers that make them."""

from __future__ import annotations

from dataclasses import dataclass, field

from mlopsdsl.diagnostics.codes import REGISTRY, Code, Severity
from mlopsdsl.source import Path, Span

__all__ = ["Code", "Diagnostic", "Related", "Severity", "REGISTRY", "has_errors", "sort_key"]


@dataclass(frozen=True, slots=True)
class Related:
    """Another place that explains a diagnostic (the first of two duplicate keys)."""

    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: Code
    message: str
    span: Span
    path: Path = ()
    hint: str | None = None
    related: tuple[Related, ...] = ()
    severity: Severity = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.severity is None:
            object.__setattr__(self, "severity", self.code.severity)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple:
    """Reading order: by file, then position, then code (stable across runs)."""
    s = d.span
    return (s.file, s.line, s.col, d.code.code, d.message)
