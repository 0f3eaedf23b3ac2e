"""GitHub Actions workflow commands: each diagnostic becomes an annotation on the pull request.

``::error file=spec.yaml,line=14,col=3,endLine=14,endColumn=11,title=MLD201::message``

GitHub's own escaping (actions/toolkit, command.ts): `%`, CR and LF in the
message; additionally `:` and `,` in property values, which would otherwise end
the property list or the value.
"""

from __future__ import annotations

from mlopsdsl.diagnostics import Diagnostic, Severity
from mlopsdsl.diagnostics.render import relative_path
from mlopsdsl.source import SourceFile

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(d: Diagnostic) -> str:
    s = d.span
    properties = {
        "file": relative_path(s.file), "line": s.line, "col": s.col,
        "endLine": s.end_line, "endColumn": s.end_col, "title": d.code.code,
    }
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items())
    message = d.message + (f" (hint: {d.hint})" if d.hint else "")
    return f"::{COMMAND[d.severity]} {props}::{escape_data(message)}"


def render(diagnostics: list[Diagnostic], sources: dict[str, SourceFile], *, color: bool = False) -> str:
    return "".join(annotation(d) + "\n" for d in diagnostics)
