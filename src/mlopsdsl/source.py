"""Where things are: source files, spans, and document paths.

Every later stage talks about the spec through a `Path` (a tuple of mapping keys
and list indexes, e.g. ``("pipeline", "steps", "train", "inputs", "data")``) and
asks the `SourceIndex` built by the loader where that path lies in the file.
Lines and columns are 1-based and count characters (code points), as editors do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, NamedTuple, Union

PathPart = Union[str, int]
Path = tuple[PathPart, ...]


def format_path(path: Iterable[PathPart]) -> str:
    """``("steps", "train", "run", 2)`` -> ``steps.train.run[2]``."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            out.append(f".{part}" if out else part)
    return "".join(out) or "<root>"


class Span(NamedTuple):
    """A range in a file. A named tuple, not a dataclass: the loader makes one per
    YAML node (tens of thousands for a large spec), and tuples are built ~4x faster."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    @classmethod
    def point(cls, file: str, line: int = 1, col: int = 1) -> "Span":
        return cls(file, line, col, line, col + 1)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class NodeInfo:
    """Where one value sits, and where its key sits when it is a mapping value.

    `style` is the YAML scalar style (``""`` plain, ``"'"``, ``'"'``, ``"|"``,
    ``">"``) or ``None`` for collections; `offset` is the character offset of
    the value's first character in the file text. Together they let the
    expression parser map a column inside ``${{ }}`` back into the file.

    The loader records one per YAML node (tens of thousands in a large spec) and
    checks look at few, so `from_marks` keeps the parser's marks and the spans
    are made on first use; that was a third of loading a 1,000-step spec.
    """

    __slots__ = ("_span", "_key_span", "_marks", "style", "offset")

    def __init__(self, span: Span, key_span: Span | None = None, style: str | None = None, offset: int = 0) -> None:
        self._span, self._key_span, self._marks = span, key_span, None
        self.style, self.offset = style, offset

    @classmethod
    def from_marks(cls, file: str, start: Any, end: Any, key: Any, style: str | None) -> "NodeInfo":
        """From a YAML parser's 0-based marks (`line`, `column`, `index`); `key` is the key's node or None."""
        info = cls.__new__(cls)
        info._marks, info.style, info.offset = (file, start, end, key), style, start.index
        return info

    @property
    def span(self) -> Span:
        if self._marks is not None:
            self._resolve()
        return self._span

    @property
    def key_span(self) -> Span | None:
        if self._marks is not None:
            self._resolve()
        return self._key_span

    def _resolve(self) -> None:
        file, start, end, key = self._marks
        self._span = _span_of(file, start, end)
        self._key_span = _span_of(file, key.start_mark, key.end_mark) if key is not None else None
        self._marks = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NodeInfo) and (self.span, self.key_span, self.style, self.offset) == (
            other.span, other.key_span, other.style, other.offset)

    def __hash__(self) -> int:
        return hash((self.span, self.style, self.offset))

    def __repr__(self) -> str:
        return f"NodeInfo(span={self.span!r}, key_span={self.key_span!r}, style={self.style!r}, offset={self.offset})"


def _span_of(file: str, start: Any, end: Any) -> Span:
    return Span(file, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


@dataclass
class SourceFile:
    """The text of one spec or component file, kept for snippets in diagnostics."""

    path: str
    text: str
    _lines: list[str] | None = field(default=None, repr=False)

    def line(self, number: int) -> str:
        if self._lines is None:
            self._lines = self.text.splitlines()
        if 1 <= number <= len(self._lines):
            return self._lines[number - 1]
        return ""


class SourceIndex:
    """Maps document paths to `NodeInfo`; built once by the loader."""

    __slots__ = ("file", "_nodes")

    def __init__(self, file: str, nodes: dict[Path, NodeInfo] | None = None) -> None:
        self.file = file
        self._nodes: dict[Path, NodeInfo] = {} if nodes is None else nodes

    def add(self, path: Path, info: NodeInfo) -> None:
        self._nodes[path] = info

    def get(self, path: Path) -> NodeInfo | None:
        return self._nodes.get(tuple(path))

    def __contains__(self, path: object) -> bool:
        return path in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def items(self) -> Iterable[tuple[Path, NodeInfo]]:
        """Every path with its NodeInfo, parents before children, in file order (positions -> paths)."""
        return self._nodes.items()

    def span(self, path: Iterable[PathPart], *, key: bool = False) -> Span:
        """The span of `path`, or of its nearest ancestor that exists.

        With ``key=True`` the key's span is preferred (to point at a misspelled
        key rather than its value). A path the file does not contain (a missing
        required field) resolves to its parent, which is where the user must
        add it.
        """
        path = tuple(path)
        while True:
            info = self._nodes.get(path)
            if info is not None:
                if key and info.key_span is not None:
                    return info.key_span
                return info.span
            if not path:
                return Span.point(self.file)
            path = path[:-1]
