"""`validate`'s diagnostics as the editor shows them, and their quick fixes as code actions."""

from __future__ import annotations

from typing import Callable

from lsprotocol import types

from mlopsdsl.diagnostics import Diagnostic, Severity, codes
from mlopsdsl.lsp.fixes import fixes
from mlopsdsl.lsp.text import LineIndex

SOURCE = "mlopsdsl"
_SEVERITY = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning,
             Severity.NOTE: types.DiagnosticSeverity.Information}
# Editors fade code that does nothing: an output nobody reads, a step that can never run.
_UNNECESSARY = frozenset({codes.UNUSED_OUTPUT.code, codes.UNREACHABLE_STEP.code})

LinesOf = Callable[[str], "LineIndex | None"]
UriOf = Callable[[str], str]


def to_lsp(d: Diagnostic, lines: LineIndex, lines_of: LinesOf, uri_of: UriOf) -> types.Diagnostic:
    """One diagnostic; the hint follows the message on its own line, as `validate` prints it."""
    related = []
    for r in d.related:
        other = lines_of(r.span.file)
        if other is not None:
            related.append(types.DiagnosticRelatedInformation(
                types.Location(uri_of(r.span.file), other.span_range(r.span)), r.message))
    return types.Diagnostic(
        range=lines.span_range(d.span),
        message=d.message + (f"\nhint: {d.hint}" if d.hint else ""),
        severity=_SEVERITY[d.severity],
        code=d.code.code,
        source=SOURCE,
        related_information=related or None,
        tags=[types.DiagnosticTag.Unnecessary] if d.code.code in _UNNECESSARY else None,
        data={"name": d.code.name},
    )


def code_actions(uri: str, found: list[tuple[Diagnostic, types.Diagnostic, LineIndex]],
                 wanted: types.Range) -> list[types.CodeAction]:
    """Quick fixes for the diagnostics of one file that touch the range the editor asks about."""
    actions = []
    for d, shown, lines in found:
        if not _touches(shown.range, wanted):
            continue
        start = lines.span_offset(d.span.line, d.span.col)
        end = max(start, lines.span_offset(d.span.end_line, d.span.end_col))
        for fix in fixes(d, lines.text, start, end):
            edit = types.TextEdit(lines.range(fix.start, fix.end), fix.text)
            actions.append(types.CodeAction(
                title=fix.title, kind=types.CodeActionKind.QuickFix, diagnostics=[shown],
                is_preferred=fix.preferred, edit=types.WorkspaceEdit(changes={uri: [edit]})))
    return actions


def _touches(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)
