"""One analysis of one buffer: what `validate` says about it, and the names it defines.

`analyze` runs the driver `validate` runs (`check_file`, which checks a
component file on its own as far as it can be known without the spec that uses
it), with the editor's open buffers standing in for the disk. Nothing here checks anything
itself: the diagnostics are `validate`'s, the names are the checker's symbol
table. What navigation needs beyond that (the names of a spec with schema
errors, the place under the cursor) is built on first use, from the same
modules, and only for the buffer being edited.
"""

from __future__ import annotations

import os
import re
import traceback
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.driver import Result, check_file
from mlopsdsl.loader import Document
from mlopsdsl.lsp.text import LineIndex
from mlopsdsl.source import Span

# A buffer is ours when it says so; yaml-language-server keeps every other YAML file.
_SPEC = re.compile(r"^apiVersion:[ \t]*['\"]?mlopsdsl/", re.M)
_COMPONENT = re.compile(r"^kind:[ \t]*['\"]?Component\b", re.M)


def is_spec_text(text: str) -> bool:
    return _SPEC.search(text) is not None


def is_component_text(text: str) -> bool:
    return _COMPONENT.search(text) is not None


@dataclass
class Analysis:
    path: str  # absolute
    version: int | None
    text: str
    result: Result
    is_component: bool
    encoding: str
    # the last analysis of this buffer whose YAML loaded: names while the text does not parse
    previous: "Analysis | None" = field(default=None, repr=False)
    # what the other files it read held then (their text, or their mtime on disk): see `still_valid`
    inputs: tuple = field(default=(), repr=False)
    _other_lines: dict[str, LineIndex] = field(default_factory=dict, repr=False)

    @cached_property
    def lines(self) -> LineIndex:
        return LineIndex(self.text, self.encoding)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.result.diagnostics

    @property
    def document(self) -> Document | None:
        return self.result.document

    @property
    def files(self) -> set[str]:
        """Every file this analysis read (the spec and the components it uses)."""
        return {os.path.abspath(p) for p in self.result.sources} | {self.path}

    def lines_of(self, file: str) -> LineIndex | None:
        """The LineIndex of a file this analysis read (the buffer's own text for an open file)."""
        file = os.path.abspath(file)
        if file == self.path:
            return self.lines
        found = self._other_lines.get(file)
        if found is None:
            source = next((s for p, s in self.result.sources.items() if os.path.abspath(p) == file), None)
            if source is None:
                return None
            found = self._other_lines[file] = LineIndex(source.text, self.encoding)
        return found

    def by_file(self) -> dict[str, list[Diagnostic]]:
        """The diagnostics, by the absolute path of the file they point into."""
        grouped: dict[str, list[Diagnostic]] = {self.path: []}
        for d in self.diagnostics:
            grouped.setdefault(os.path.abspath(d.span.file), []).append(d)
        return grouped

    def still_valid(self, text: str, buffers: Mapping[str, str]) -> bool:
        """Would checking `text` again give this analysis? (Undo, redo, a revert: the same text comes back.)"""
        return text == self.text and self.inputs == _inputs(self.files - {self.path}, buffers)

    @property
    def last_loaded(self) -> "Analysis | None":
        """This analysis if its YAML loaded, else the last one of the same buffer that did."""
        return self if self.document is not None else self.previous

    @cached_property
    def model(self) -> Any:
        """The names the spec defines (`names.SpecModel`), or None before its YAML ever loaded."""
        from mlopsdsl.lsp.names import SpecModel

        loaded = self.last_loaded
        if loaded is None:
            return None
        if loaded is not self:
            return loaded.model
        return SpecModel.of(self)


def analyze(path: str, text: str, version: int | None, buffers: Mapping[str, str], *, encoding: str,
            previous: Analysis | None = None) -> Analysis:
    """What `validate` reports for the buffer of `path`, never raising.

    A failure of mlopsdsl itself is reported as MLD901 on the first line, with the
    traceback in the message, so the editor shows it and the server keeps serving.
    """
    is_component = is_component_text(text)
    buffers = {**buffers, path: text}
    try:
        result = check_file(path, buffers=buffers)
    except Exception as exc:  # noqa: BLE001 - a bug must not take the editor's server down
        result = Result(path)
        result.diagnostics.append(Diagnostic(
            codes.INTERNAL, f"mlopsdsl failed on this buffer: {type(exc).__name__}: {exc}", Span.point(path),
            hint="this is a bug in mlopsdsl; please report it with the spec. "
                 + traceback.format_exc(limit=-3).strip().replace("\n", " | ")))
    # Only a buffer that does not load keeps its predecessor (one, never a chain).
    last = previous.last_loaded if previous is not None and result.document is None else None
    analysis = Analysis(path, version, text, result, is_component, encoding, previous=last)
    analysis.inputs = _inputs(analysis.files - {path}, buffers)
    return analysis


def _inputs(files: set[str], buffers: Mapping[str, str]) -> tuple:
    found = []
    for file in sorted(files):
        if file in buffers:
            found.append((file, buffers[file]))
            continue
        try:
            found.append((file, os.stat(file).st_mtime_ns))
        except OSError:
            found.append((file, None))
    return tuple(found)


_WARM_UP = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: warm-up, version: 0.1.0}
model: {name: m, task: classification, framework: xgboost}
params: {lr: {type: float, default: 0.1}}
pipeline:
  steps:
    train:
      image: ghcr.io/acme/warm:1
      run: [python, "${{ params.lr }}", "${{ outputs.model.path }}"]
      outputs: {model: Model}
      when: "${{ params.lr > 0.01 and not (params.lr == 1) }}"
      retires: 1
"""


def warm_up() -> None:
    """Run once what the first real check would pay for: imports, the grammar, both schema validators."""
    path = os.path.abspath(".mlopsdsl-lsp-warm-up.yaml")
    analyze(path, _WARM_UP, None, {path: _WARM_UP}, encoding="utf-16")
