"""Where a character of a YAML string value sits in the file.

An expression's offsets are indexes into the *decoded* string value; a caret
must land in the *file*. The two differ wherever YAML decodes: the opening
quote, `''` in single quotes, escapes in double quotes (`\\"`, `\\u00e9`), the
header and indentation of block scalars, and line folding. `SourceMap` walks
the raw text of the scalar from its offset alongside the decoded value and
records, for each value index, the file offset it came from.

The walk reads the raw text as units (one decoded character and where it came
from) and aligns them with the value greedily: equal characters match; raw
whitespace the value lacks was folded or stripped away; value whitespace the
raw text lacks came from folding a line break. Where the two disagree in a way
this cannot explain, the rest of the value maps to the scalar's start: a caret
at the value is better than a caret in the wrong place.

Built lazily, only when a diagnostic needs a span: valid specs never pay.
"""

from __future__ import annotations

from mlopsdsl.source import NodeInfo, Span

_SIMPLE_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v",
                   "f": "\f", "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\",
                   "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029"}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}
_WS = " \t\r\n"


def _double_quoted(text: str, i: int) -> list[tuple[str, int]]:
    units: list[tuple[str, int]] = []
    i += 1  # the opening quote
    while i < len(text) and text[i] != '"':
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            code = text[i + 1]
            if code in _HEX_ESCAPES:
                width = _HEX_ESCAPES[code]
                try:
                    units.append((chr(int(text[i + 2:i + 2 + width], 16)), i))
                except ValueError:
                    break
                i += 2 + width
                continue
            if code in "\r\n":  # an escaped line break joins the lines: no character
                i += 2
                while i < len(text) and text[i] in " \t\r\n":
                    i += 1
                continue
            units.append((_SIMPLE_ESCAPES.get(code, code), i))
            i += 2
            continue
        units.append((ch, i))
        i += 1
    return units


def _single_quoted(text: str, i: int) -> list[tuple[str, int]]:
    units: list[tuple[str, int]] = []
    i += 1
    while i < len(text):
        if text[i] == "'":
            if text[i + 1:i + 2] != "'":
                break
            units.append(("'", i))
            i += 2
            continue
        units.append((text[i], i))
        i += 1
    return units


def _block(text: str, i: int, length: int) -> list[tuple[str, int]]:
    """Content of a `|` or `>` scalar with its indentation removed."""
    header_end = text.find("\n", i)
    if header_end < 0:
        return []
    header = text[i:header_end].split("#", 1)[0]
    explicit = next((int(c) for c in header if c.isdigit()), None)
    units: list[tuple[str, int]] = []
    indent = None
    pos = header_end + 1
    while pos < len(text) and len(units) <= length + 1:
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[pos:end]
        if indent is None and line.strip():
            parent = _line_indent(text, i)
            indent = parent + explicit if explicit else len(line) - len(line.lstrip(" "))
        skip = min(indent or 0, len(line) - len(line.lstrip(" ")))
        units.extend((ch, pos + k) for k, ch in enumerate(line[skip:], start=skip))
        units.append(("\n", end))
        pos = end + 1
    return units


def _line_indent(text: str, i: int) -> int:
    start = text.rfind("\n", 0, i) + 1
    line = text[start:i]
    return len(line) - len(line.lstrip(" "))


def _align(value: str, units: list[tuple[str, int]], fallback: int) -> list[int]:
    offsets: list[int] = []
    k = 0
    for ch in value:
        while k < len(units) and units[k][0] != ch and units[k][0] in _WS:
            k += 1  # folded or stripped raw whitespace
        if k < len(units) and units[k][0] == ch:
            offsets.append(units[k][1])
            k += 1
        elif ch in _WS and k < len(units):
            offsets.append(units[k][1])  # whitespace made by folding a line break
        else:
            break
    offsets.extend([fallback] * (len(value) - len(offsets)))
    return offsets


class SourceMap:
    """Value index -> file `Span`, for one string scalar."""

    __slots__ = ("value", "info", "text", "_offsets")

    def __init__(self, value: str, info: NodeInfo, text: str) -> None:
        self.value = value
        self.info = info
        self.text = text
        self._offsets: list[int] | None = None

    def _build(self) -> list[int]:
        start, style, text = self.info.offset, self.info.style, self.text
        if style == '"':
            units = _double_quoted(text, start)
        elif style == "'":
            units = _single_quoted(text, start)
        elif style in ("|", ">"):
            units = _block(text, start, len(self.value))
        else:  # plain (or a collection: no scalar text to read)
            units = [(ch, start + k) for k, ch in enumerate(text[start:start + 4 * len(self.value) + 64])]
        return _align(self.value, units, start)

    def offset(self, index: int) -> int:
        """File offset of value character `index` (the end of the value maps past its last character)."""
        if self._offsets is None:
            self._offsets = self._build()
        if not self._offsets:
            return self.info.offset
        if index >= len(self._offsets):
            return self._offsets[-1] + 1
        return self._offsets[max(0, index)]

    def _line_col(self, offset: int) -> tuple[int, int]:
        # Count from the scalar's own start, whose line and column the loader
        # recorded, so the cost is the scalar's length, not the file's.
        base, span = self.info.offset, self.info.span
        if offset < base:
            return span.line, span.col
        newlines = self.text.count("\n", base, offset)
        if not newlines:
            return span.line, span.col + offset - base
        return span.line + newlines, offset - self.text.rfind("\n", base, offset)

    def span(self, start: int, end: int) -> Span:
        """The file span of value characters [start, end)."""
        first = self.offset(start)
        last = self.offset(end - 1) + 1 if end > start else first + 1
        line, col = self._line_col(first)
        end_line, end_col = self._line_col(max(last, first + 1))
        return Span(self.info.span.file, line, col, end_line, end_col)
