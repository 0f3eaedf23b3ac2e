"""What every check receives: the spec as data, where each value is, and where to report.

Checks are small functions ``check_x(ctx)`` that read `ctx.data`, look things up
in `ctx.symbols`, and call `ctx.error(...)`/`ctx.warning(...)` with a document
path; the path is turned into file:line:col here, once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from mlopsdsl.diagnostics import Diagnostic, Related, codes
from mlopsdsl.source import Path, SourceFile, SourceIndex, Span


class OverlayIndex:
    """A `SourceIndex` view for a spec with an environment's `set:` overlay applied.

    A value that came from `environments.E.set."a.b"` is reported at that entry,
    so a type error in an override points at the override, not at the base
    value it replaced.
    """

    def __init__(self, base: SourceIndex, overrides: dict[Path, Path]) -> None:
        self.base = base
        self.file = base.file
        # overridden document path -> the path of the override's value in the file
        self.overrides = dict(sorted(overrides.items(), key=lambda kv: -len(kv[0])))

    def _redirect(self, path: Path) -> Path:
        for target, origin in self.overrides.items():
            if path[: len(target)] == target:
                return origin + path[len(target):]
        if path not in self.base:
            # a mapping the override created (`serving.replica.min` made `replica`)
            for target, origin in self.overrides.items():
                if target[: len(path)] == path:
                    return origin
        return path

    def get(self, path: Path):
        return self.base.get(self._redirect(tuple(path)))

    def span(self, path: Iterable, *, key: bool = False) -> Span:
        return self.base.span(self._redirect(tuple(path)), key=key)


@dataclass
class CheckContext:
    data: dict[str, Any]
    index: SourceIndex | OverlayIndex
    source: SourceFile
    spec_dir: str = "."
    env_name: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # extra source files (components) by path, for renderers
    sources: dict[str, SourceFile] = field(default_factory=dict)
    # for an environment variant: the document paths its `set:` replaced (None: the base spec)
    overridden: tuple[Path, ...] | None = None
    # the base spec's CheckedSpec when this variant is checked after it in the same run. What the
    # variant did not change was reported there, so checks may skip it (see `unchanged`).
    base: Any = None
    # text of files open in an editor (absolute path -> text), read before the disk (see `driver.front_end`)
    buffers: Mapping[str, str] | None = None
    # the document paths cut out of a spec the schema refused (`mlopsdsl.check.holes`): what lies there
    # exists, but is unknown; checks say nothing that depends on it
    holes: frozenset[Path] = frozenset()
    _strings: list[tuple[Path, str, Any]] | None = field(default=None, repr=False)

    def span(self, path: Path, *, key: bool = False) -> Span:
        return self.index.span(path, key=key)

    def strings(self, *, changed_only: bool = False) -> list[tuple[Path, str, Any]]:
        """(path, string, the mapping key it sits under or None) for every string of the spec.

        Computed once and shared by the checks that look at all text. With
        `changed_only`, a variant checked after its base lists only its overridden
        subtrees: a check of one string at a time found the rest in the base run.
        """
        if changed_only and self.base is not None:
            return self._changed_strings()
        if self._strings is None:
            self._strings = []
            collect_strings(self.data, (), self._strings)
        return self._strings

    def overrides(self, path: Path) -> bool:
        """True when `path` lies in a value this variant's `set:` replaced."""
        return _inside(path, self.overridden or ())

    def _changed_strings(self) -> list[tuple[Path, str, Any]]:
        out: list[tuple[Path, str, Any]] = []
        roots = self.overridden or ()
        for root in roots:
            if _inside(root, [other for other in roots if other != root]):
                continue  # inside another override, listed with it
            value = value_at(self.data, root)
            if isinstance(value, str):
                out.append((root, value, root[-1] if isinstance(root[-1], str) else None))
            elif isinstance(value, (dict, list)):
                collect_strings(value, root, out)
        return out

    def unchanged(self, *sections: str) -> bool:
        """True when this variant has a base run and left these top-level sections as they were.

        The overlay copies only what it changes, so an untouched section is the very
        object the base run checked: whatever reads only these sections would report
        what the base run reported already.
        """
        base = self.base.ctx.data if self.base is not None else None
        return base is not None and all(self.data.get(s) is base.get(s) for s in sections)

    def report(self, code: codes.Code, message: str, path: Path, *, hint: str | None = None, key: bool = False,
               span: Span | None = None, related: tuple[Related, ...] = ()) -> None:
        self.diagnostics.append(Diagnostic(code, message, span or self.span(path, key=key), tuple(path),
                                           hint=hint, related=related))

    error = warning = report  # the severity comes from the code

    def unknown(self, *path: Any) -> bool:
        """Whether the value at `path` lies in a hole: it may exist, and what it holds is unknown."""
        return bool(self.holes) and any(path[:len(hole)] == hole for hole in self.holes)

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        return value if isinstance(value, dict) else {}


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path[:len(root)] == root for root in roots)


def value_at(data: Any, path: Path) -> Any:
    """The value at a document path, or None when the path leads nowhere."""
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def collect_strings(value: Any, path: Path, out: list[tuple[Path, str, Any]]) -> None:
    """Appends (path, string, the key it sits under or None) for every string value below `value`."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                out.append((path + (key,), item, key))
            elif isinstance(item, (dict, list)):
                collect_strings(item, path + (key,), out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.append((path + (i,), item, None))
            elif isinstance(item, (dict, list)):
                collect_strings(item, path + (i,), out)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, or None when nothing is close."""
    match = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None


def known(candidates: Iterable[str], limit: int = 8) -> str:
    names = sorted(set(candidates))
    if not names:
        return "none are defined"
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
