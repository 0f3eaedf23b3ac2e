"""Positions: the loader's (line, column) and the editor's LSP positions.

The loader counts lines as YAML does (at \\r\\n, \\r and \\n, and also at NEL, LS and
PS) and columns in code points, both from 1. LSP counts lines at \\r\\n, \\r and \\n
only, from 0, and columns in UTF-16 code units unless the client agreed on UTF-32
or UTF-8. A `LineIndex` per text converts both to character offsets and back, so a
span lands on the characters it names whatever the text holds.
"""

from __future__ import annotations

import bisect
import re

from lsprotocol import types

from mlopsdsl.source import Span

_LSP_BREAK = re.compile(r"\r\n|\r|\n")
_YAML_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_EXOTIC_BREAK = re.compile(r"[\x85\u2028\u2029]")


def _starts(text: str, breaks: re.Pattern) -> list[int]:
    return [0] + [m.end() for m in breaks.finditer(text)]


class LineIndex:
    """Line starts of one text, for both ways of counting lines."""

    __slots__ = ("text", "encoding", "_starts", "_yaml_starts", "_ascii")

    def __init__(self, text: str, encoding: str = types.PositionEncodingKind.Utf16) -> None:
        self.text = text
        self.encoding = encoding
        self._starts = _starts(text, _LSP_BREAK)
        self._yaml_starts = _starts(text, _YAML_BREAK) if _EXOTIC_BREAK.search(text) else self._starts
        self._ascii = text.isascii()

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line(self, number: int) -> str:
        """The text of 0-based LSP line `number`, without its line break."""
        if not 0 <= number < len(self._starts):
            return ""
        start = self._starts[number]
        end = self._starts[number + 1] if number + 1 < len(self._starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    # --- the loader's spans --------------------------------------------------------------
    def span_offset(self, line: int, col: int) -> int:
        """Offset of a loader position (1-based line and code-point column)."""
        starts = self._yaml_starts
        if line < 1:
            return 0
        if line > len(starts):
            return len(self.text)
        return min(starts[line - 1] + max(col, 1) - 1, len(self.text))

    def span_range(self, span: Span) -> types.Range:
        start = self.span_offset(span.line, span.col)
        end = max(start, self.span_offset(span.end_line, span.end_col))
        return types.Range(self.position(start), self.position(end))

    def span_text(self, span: Span) -> str:
        start = self.span_offset(span.line, span.col)
        return self.text[start:max(start, self.span_offset(span.end_line, span.end_col))]

    def loader_position(self, offset: int) -> tuple[int, int]:
        """(line, col), 1-based code points as the loader counts them, of a character offset."""
        line = bisect.bisect_right(self._yaml_starts, offset) - 1
        return line + 1, offset - self._yaml_starts[line] + 1

    # --- LSP positions --------------------------------------------------------------------
    def position(self, offset: int) -> types.Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        return types.Position(line, self._units(self.text[start:offset]))

    def offset(self, position: types.Position) -> int:
        """The character offset of an LSP position (clamped into the text)."""
        if position.line >= len(self._starts):
            return len(self.text)
        start = self._starts[position.line]
        line = self.line(position.line)
        if self._ascii or self.encoding == types.PositionEncodingKind.Utf32:
            return start + min(position.character, len(line))
        units = 0
        for i, char in enumerate(line):
            if units >= position.character:
                return start + i
            units += self._char_units(char)
        return start + len(line)

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(self.position(start), self.position(end))

    def _units(self, chars: str) -> int:
        if self._ascii or self.encoding == types.PositionEncodingKind.Utf32:
            return len(chars)
        return sum(self._char_units(c) for c in chars)

    def _char_units(self, char: str) -> int:
        point = ord(char)
        if self.encoding == types.PositionEncodingKind.Utf8:
            return 1 if point < 0x80 else 2 if point < 0x800 else 3 if point < 0x10000 else 4
        if self.encoding == types.PositionEncodingKind.Utf32:
            return 1
        return 2 if point > 0xFFFF else 1
