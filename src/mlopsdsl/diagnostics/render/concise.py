"""``file:line:col: error[MLD201] message`` -- one line per diagnostic, for grep and editors."""

from __future__ import annotations

from mlopsdsl.diagnostics import Diagnostic
from mlopsdsl.source import SourceFile


def render(diagnostics: list[Diagnostic], sources: dict[str, SourceFile], *, color: bool = False) -> str:
    lines = []
    for d in diagnostics:
        line = f"{d.span}: {d.severity.value}[{d.code.code}] {d.message}"
        if d.hint:
            line += f" (hint: {d.hint})"
        lines.append(line)
    return "".join(f"{line}\n" for line in lines)
