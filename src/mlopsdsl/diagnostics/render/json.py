"""A JSON array, one object per diagnostic, for tools: keys sorted, every field always present."""

from __future__ import annotations

import json

from mlopsdsl.diagnostics import Diagnostic
from mlopsdsl.source import SourceFile, Span, format_path


def _position(span: Span) -> dict:
    return {"file": span.file, "line": span.line, "col": span.col, "end_line": span.end_line, "end_col": span.end_col}


def as_dict(d: Diagnostic) -> dict:
    return {
        "code": d.code.code,
        "name": d.code.name,
        "severity": d.severity.value,
        "message": d.message,
        **_position(d.span),
        "path": format_path(d.path),
        "hint": d.hint,
        "related": [{**_position(r.span), "message": r.message} for r in d.related],
    }


def render(diagnostics: list[Diagnostic], sources: dict[str, SourceFile], *, color: bool = False) -> str:
    # Always an array, even an empty one, so that `mlopsdsl validate --format json | jq` never sees nothing.
    return json.dumps([as_dict(d) for d in diagnostics], indent=2, sort_keys=True, ensure_ascii=False) + "\n"
