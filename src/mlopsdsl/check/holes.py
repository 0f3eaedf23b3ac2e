"""Checking the well-formed parts of a spec the schema refused: holes where the refused parts were.

One run reports every error it can: a schema error in step `b` must not hide an undefined
`params.nope` in step `a`. The semantic checks assume the shape the schema promises, so they
cannot read a refused part; instead, the smallest named item that holds a schema error (a step,
`on_exit`, a param, a data source, an environment; elsewhere its top-level section) is cut out of
the data and becomes a hole. A hole's name still exists and its content is unknown:
`${{ steps.b.outputs.x }}` into a hole has the unknown type, which fits everywhere, `after: [b]`
is fine, and a check that would judge something by what a hole might hold (an output nobody
reads, a step's image that `defaults` might give) says nothing. So the second set of errors
has no false ones caused by the first.

An unknown top-level key may be a misspelled section (`param:`): every absent section is then a
hole. A missing required section (`metadata`) is a hole too. `apiVersion` or `kind` errors leave
nothing to check (the kind decides the language), and neither does a `kind: Component` file (its
own schema errors are reported; its semantic checks wait for them to be fixed).
"""

from __future__ import annotations

from typing import Any, Iterable

from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.diagnostics.codes import Severity
from mlopsdsl.expr import types as t
from mlopsdsl.language import PROJECT
from mlopsdsl.source import Path

# Sections that are maps of named items: an error inside one item makes only that item a hole.
_NAMED_ITEMS = ("params", "data", "environments")
_HEADER = ("apiVersion", "kind")


def holes_of(data: Any, diagnostics: Iterable[Diagnostic]) -> frozenset[Path] | None:
    """The holes the errors among `diagnostics` make in a Project's `data`; None when nothing can be
    checked (a header error, not a Project, an error with no place in the data)."""
    if not isinstance(data, dict) or data.get("kind") != "Project":
        return None
    holes: set[Path] = set()
    absent = [(key,) for key in PROJECT.fields if key not in data and key not in _HEADER]
    for diagnostic in diagnostics:
        if diagnostic.severity is not Severity.ERROR:
            continue
        path = diagnostic.path
        if diagnostic.code is codes.SCHEMA_API_VERSION or path[:1] in (("apiVersion",), ("kind",)):
            return None
        if not path and diagnostic.code is codes.SCHEMA_MISSING_KEY:  # a required section
            holes.update((key,) for key in PROJECT.required if key not in data)
        elif not path:
            return None  # the document as a whole is wrong
        elif path[0] not in PROJECT.fields:  # an unknown top-level key: maybe a section misspelled
            holes.update(absent)
        else:
            holes.add(_enclosing_item(path))
    return frozenset(holes)


def _enclosing_item(path: Path) -> Path:
    head = path[0]
    if head == "pipeline" and len(path) >= 3 and path[1] == "steps":
        return path[:3]
    if head == "pipeline" and len(path) >= 2 and path[1] == "on_exit":
        return path[:2]
    if head in _NAMED_ITEMS and len(path) >= 2:
        return path[:2]
    return path[:1]


def without_holes(data: dict[str, Any], holes: frozenset[Path]) -> dict[str, Any]:
    """`data` with every hole cut out, and unknown top-level keys with them; `data` is not changed
    (only the mappings on the way to a hole are copied)."""
    pruned = {key: value for key, value in data.items() if key in PROJECT.fields}
    for hole in sorted(holes, key=len):
        node = pruned
        for part in hole[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                break
            node[part] = node = dict(child)
        else:
            if hole:
                node.pop(hole[-1], None)
    return pruned


def unknown_names(holes: frozenset[Path]) -> dict[tuple[str, ...], t.Type]:
    """The expression names the holes stand for, each of the unknown type (whatever is read below
    one is unknown too: `steps.b.outputs.x.accuracy`)."""
    names: dict[tuple[str, ...], t.Type] = {}
    for hole in holes:
        if hole[:1] == ("pipeline",) and (len(hole) == 1 or hole[1] == "steps"):
            names[("steps",) + hole[2:3]] = t.UNKNOWN
        elif hole[:1] in (("params",), ("data",)):
            names[hole[:2]] = t.UNKNOWN
    return names
