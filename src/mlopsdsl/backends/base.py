"""What a backend is: a small module that reads the IR and returns artifacts.

A backend never writes files and never sees the spec text. It returns
`Artifact`s holding *documents as data* (dicts and lists) or, for text
artifacts such as a model card, rendered text; one serializer turns them into
bytes and one writer writes them, after `patches` are applied. A construct the
target cannot express is reported through `unsupported(...)`, never dropped.

This module and `mlopsdsl.ir` are the whole plugin API (see docs/plugins.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from mlopsdsl import __version__ as MLOPSDSL_VERSION
from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.ir import Project, Span

# `codes` (the diagnostic registry, for `warn`) and the compiler's version (for provenance
# fields such as KFP's sdkVersion) are part of the plugin API too.
__all__ = ["Artifact", "Backend", "Commented", "Diagnostic", "MLOPSDSL_VERSION", "codes", "decide", "setup_note"]

Format = Literal["yaml", "json", "text"]

# What a one-line YAML comment may hold: printable characters only (no line breaks).
_NOT_PRINTABLE = re.compile("[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


class Commented(str):
    """A string value written with a trailing comment: `uses: actions/checkout@<sha> # v4.1.7`.

    It is still a `str` (equal to its text, kept by deep copies and patches), so
    documents stay plain data; JSON output drops the comment.
    """

    comment: str

    def __new__(cls, value: str, comment: str) -> "Commented":
        if "\n" in value or _NOT_PRINTABLE.search(comment) or not comment.strip():
            raise ValueError(f"a comment needs a one-line value and one line of printable text: {comment!r}")
        self = super().__new__(cls, value)
        self.comment = comment
        return self

    def __reduce__(self):  # deepcopy and pickle keep the comment
        return (Commented, (str(self), self.comment))


@dataclass(frozen=True)
class Artifact:
    """One output file, relative to the output directory (POSIX separators).

    `documents` holds the YAML documents of a file (several become a `---`
    stream) or the one JSON document; `text` holds a text artifact. `header`
    is a comment written at the top of YAML files.
    """

    path: str
    format: Format = "yaml"
    documents: tuple[Any, ...] = ()
    text: str | None = None
    header: str = ""

    def __post_init__(self) -> None:
        if self.path.startswith("/") or ".." in self.path.split("/") or "\\" in self.path:
            raise ValueError(f"artifact path must be relative and inside the output: {self.path!r}")
        if (self.format == "text") != (self.text is not None):
            raise ValueError("text artifacts carry `text`; yaml/json artifacts carry `documents`")


def setup_note(path: str, title: str, intro: str, items: list[str], footer: str) -> Artifact:
    """A target's SETUP.md: its `next_steps` as a Markdown checklist, beside the files they are about."""
    lines = [f"# {title}", "", intro, ""] + [f"- [ ] {item}" for item in items] + ["", footer, ""]
    return Artifact(path, format="text", text="\n".join(lines))


DECISIONS = ("emit", "unsupported", "approximated")


def decide(kind: str, model: str, fields: str) -> dict[str, str]:
    """`decide("emit", "Step", "image command")` -> {"Step.image": "emit", "Step.command": "emit"}."""
    assert kind in DECISIONS or kind.startswith("n/a: "), kind
    return {f"{model}.{name}": kind for name in fields.split()}


@dataclass
class Backend:
    """Base class of every target. Subclasses set `name`/`description`, implement `compile`, and
    put what the target cannot express in `check`."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    # The IR major version this backend reads; the registry refuses a mismatch.
    ir_major: ClassVar[int] = 1
    # What the target does with each field of the IR: "emit" (written), "unsupported" or
    # "approximated" (its `check` reports the field when set: MLD701, MLD708; the table itself
    # reports nothing, it is what tests hold the target to), or "n/a: why" (it means nothing to this
    # target); a model's name alone ("Step": "n/a: ...") decides all its fields. Every built-in
    # target decides every field of `Step` and `Serving` (tests/test_field_decisions.py), so a new
    # field is an error until each target says what it does with it.
    decisions: ClassVar[dict[str, str]] = {}
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # The spec being compiled: where a report without a span of its own points.
    spec_path: str = ""

    def check(self, project: Project) -> None:
        """Report what this target cannot express (`unsupported`), writes approximately
        (`approximated`) or refuses (`warn` with the rule's code), before anything is built.

        Runs for the targets a `compile` names, and in `validate` for every built-in target,
        so `validate` never passes a spec a built-in target refuses. `compile` runs only when
        the check reported no error. Point at the value the rule is about:
        `project.locate("serving", "protocol")`.
        """

    def compile(self, project: Project) -> list[Artifact]:
        raise NotImplementedError

    def run_check(self, project: Project) -> list[Diagnostic]:
        """`check` for the driver: its diagnostics, spans filled in."""
        self.spec_path = project.spec_path
        start = len(self.diagnostics)
        self.check(project)
        return self.diagnostics[start:]

    def run_compile(self, project: Project) -> list[Artifact]:
        self.spec_path = project.spec_path
        return list(self.compile(project))

    def next_steps(self, project: Project) -> list[str]:
        """What a person must set up before the output works (secrets, environments...).

        `compile` prints these after writing; a backend may also write them into a file.
        """
        return []

    # -- reporting -------------------------------------------------------------------
    def unsupported(self, feature: str, span: Span | None, hint: str | None = None) -> None:
        """The one way to say "this target cannot express that"."""
        self.diagnostics.append(Diagnostic(
            codes.UNSUPPORTED, f"target '{self.name}' does not support {feature}", self._at(span), hint=hint))

    def approximated(self, message: str, span: Span | None, hint: str | None = None) -> None:
        """The target has a near form for a construct and writes it; `message` says what differs (MLD708)."""
        self.diagnostics.append(Diagnostic(codes.APPROXIMATED, f"target '{self.name}': {message}",
                                           self._at(span), hint=hint))

    def warn(self, code: codes.Code, message: str, span: Span | None, hint: str | None = None) -> None:
        """Any other registered code: a target's own rule (`codes.TARGET_LIMIT`, a serving rule...)."""
        self.diagnostics.append(Diagnostic(code, message, self._at(span), hint=hint))

    def _at(self, span: Span | None) -> Span:
        return span or Span.point(self.spec_path)

    def header(self, project: Project) -> str:
        """The comment every generated YAML file starts with: provenance, no timestamps."""
        return (f"Generated by mlopsdsl from {project.spec_path} ({project.name} {project.version}); "
                f"do not edit: change the spec and recompile.")
