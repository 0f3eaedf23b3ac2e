"""SARIF 2.1.0, for GitHub code scanning and other static-analysis viewers.

Deterministic: no timestamps or invocation details, rules sorted by code, keys
sorted. Columns count Unicode code points, as our spans do, which SARIF must be
told (`columnKind`; its default is UTF-16 code units).
"""

from __future__ import annotations

import json
import os
from pathlib import PurePath
from urllib.parse import quote

from mlopsdsl import __version__
from mlopsdsl.diagnostics import Code, Diagnostic
from mlopsdsl.diagnostics.render import relative_path
from mlopsdsl.source import SourceFile, Span, format_path

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/mlopsdsl/mlopsdsl"
DOCS_URI = f"{INFORMATION_URI}/blob/main/docs/diagnostics.md"


def help_uri(code: Code) -> str:
    return f"{DOCS_URI}#{code.code.lower()}"


def _rule(code: Code) -> dict:
    return {
        "id": code.code,
        "name": code.name,
        "shortDescription": {"text": code.summary},
        "helpUri": help_uri(code),
        "defaultConfiguration": {"level": code.severity.value},
    }


def artifact_uri(file: str) -> str:
    """A relative URI for files below the current directory, a `file://` URI for the rest."""
    path = relative_path(file)
    return PurePath(path).as_uri() if os.path.isabs(path) else quote(path)


def _physical(span: Span) -> dict:
    return {
        "artifactLocation": {"uri": artifact_uri(span.file)},
        "region": {
            "startLine": span.line, "startColumn": span.col,
            "endLine": span.end_line, "endColumn": span.end_col,
        },
    }


def _result(d: Diagnostic, rule_index: int) -> dict:
    location: dict = {"physicalLocation": _physical(d.span)}
    if d.path:
        location["logicalLocations"] = [{"fullyQualifiedName": format_path(d.path), "kind": "member"}]
    text = d.message + (f" (hint: {d.hint})" if d.hint else "")
    result = {
        "ruleId": d.code.code,
        "ruleIndex": rule_index,
        "level": d.severity.value,
        "message": {"text": text},
        "locations": [location],
    }
    if d.related:
        result["relatedLocations"] = [
            {"id": i, "physicalLocation": _physical(r.span), "message": {"text": r.message}}
            for i, r in enumerate(d.related)
        ]
    return result


def render(diagnostics: list[Diagnostic], sources: dict[str, SourceFile], *, color: bool = False) -> str:
    used = sorted({d.code.code: d.code for d in diagnostics}.values(), key=lambda c: c.code)
    index = {code.code: i for i, code in enumerate(used)}
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mlopsdsl",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(code) for code in used],
            }},
            "columnKind": "unicodeCodePoints",
            "results": [_result(d, index[d.code.code]) for d in diagnostics],
        }],
    }
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
