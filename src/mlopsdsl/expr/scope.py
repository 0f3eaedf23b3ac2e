"""How a checked expression learns what spec-dependent names mean.

The semantic checker supplies a `Scope` per value it checks: `resolve` gets
the parts of a name that the context allows (`('params', 'lr')`) and returns
its `Type`, or an `Unresolved` saying what is wrong. `TableScope` is a ready
implementation over a table of known names; it finds the first part that
does not exist and suggests close names among its siblings.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Mapping, Protocol

from mlopsdsl.diagnostics import Code, codes
from mlopsdsl.expr import types as t


@dataclass(frozen=True, slots=True)
class Unresolved:
    message: str
    hint: str | None = None
    known: int = 0  # leading parts that exist: the caret covers parts[:known + 1]
    code: Code = codes.EXPR_UNKNOWN_NAME  # a checker may report under its own code (3xx)


class Scope(Protocol):
    def resolve(self, parts: tuple[str, ...]) -> t.Type | Unresolved: ...


def did_you_mean(word: str, candidates: list[str] | tuple[str, ...], *, listed: int = 8) -> str | None:
    """`did you mean 'x'?`, else the candidates themselves when few, else None."""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if candidates and len(candidates) <= listed:
        return "known here: " + ", ".join(sorted(candidates))
    return None


class TableScope:
    """A Scope over a table `{('params', 'lr'): FLOAT, ('steps', 'train', 'outputs', 'model'): MODEL}`.

    Metrics fields come from the artifact type (`t.metrics({'accuracy': FLOAT})`),
    so `steps.S.outputs.O.F` needs only the output in the table.
    """

    __slots__ = ("_names", "_children")

    def __init__(self, names: Mapping[tuple[str, ...], t.Type]) -> None:
        self._names = dict(names)
        # prefix -> the names one level below it, in declaration order (a dict: a list's `in` made
        # this quadratic in the number of steps)
        self._children: dict[tuple[str, ...], dict[str, None]] = {}
        for path in self._names:
            for k in range(len(path)):
                self._children.setdefault(path[:k], {})[path[k]] = None

    def resolve(self, parts: tuple[str, ...]) -> t.Type | Unresolved:
        found = self._names.get(parts)
        if found is not None:
            return found
        # Descend while the next prefix exists; stop at a leaf (a name with no
        # names below it, e.g. a Metrics output whose fields live in its type).
        known = 0
        while known < len(parts) and (parts[:known + 1] in self._children or parts[:known + 1] in self._names):
            known += 1
            if parts[:known] not in self._children:
                break
        prefix, dotted = parts[:known], ".".join(parts[:known])
        if known == len(parts):  # an intermediate node such as `steps.train.outputs`
            options = [f"{dotted}.{c}" for c in self._children.get(prefix, ())]
            return Unresolved(f"`{dotted}` is not a value by itself", did_you_mean("", options) or None,
                              known=known - 1)
        leaf = self._names.get(prefix)
        bad = parts[known]
        if leaf == t.UNKNOWN:  # nothing is known of it, so nothing below it is wrong
            return t.UNKNOWN
        if leaf is not None:
            if leaf.fields and known == len(parts) - 1:
                field = leaf.field(bad)
                if field is not None:
                    return field
                return Unresolved(f"`{dotted}` declares no field '{bad}'",
                                  did_you_mean(bad, [f for f, _ in leaf.fields]), known=known)
            return Unresolved(f"`{dotted}` is a {leaf} and has no part '{bad}'", known=known)
        hint = did_you_mean(bad, list(self._children.get(prefix, ())))
        if "-" in bad:
            hint = (hint + "; " if hint else "") + "to subtract, put spaces around '-'"
        where = f"`{dotted}` has no" if dotted else "no name"
        return Unresolved(f"unknown name `{'.'.join(parts[:known + 1])}`: {where} '{bad}'", hint, known=known)
