"""The one way through: load -> schema -> check -> IR.

Each stage returns its result and its diagnostics; a stage runs only when the
previous one produced something it can trust (a file that is not YAML has no
schema errors worth showing). The CLI and the tests call these functions; no
stage reaches back into an earlier one's input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlopsdsl.diagnostics import Diagnostic, has_errors, sort_key
from mlopsdsl.loader import Document, Limits, load_file
from mlopsdsl.source import SourceFile


@dataclass
class Result:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    document: Document | None = None
    ir: Any = None

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def add(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics.extend(diagnostics)


def front_end(path: str, *, limits: Limits | None = None) -> Result:
    """Load and schema-validate one spec file."""
    from mlopsdsl import schema

    result = Result(path)
    document, diagnostics = load_file(path, limits)
    result.add(diagnostics)
    if document is None:
        return _done(result)
    result.document = document
    result.sources[path] = document.source
    result.add(schema.validate(document))
    return _done(result)


def _done(result: Result) -> Result:
    result.diagnostics.sort(key=sort_key)
    return result
