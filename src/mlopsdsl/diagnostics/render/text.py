"""The default format: a header, the source line and a caret under the span (as rustc and ruff).

```
error[MLD201]: unknown key 'framwork' in model
  --> examples/churn.yaml:14:3
   |
14 |   framwork: xgboost
   |   ^^^^^^^^
   = hint: did you mean 'framework'?
```

Spans count characters; the caret line is laid out in *display* columns, so a
tab (expanded to the next multiple of four) or a wide CJK character before the
span still leaves the caret under the right character.
"""

from __future__ import annotations

import re
import unicodedata

from mlopsdsl.charset import CONTROL_CLASS
from mlopsdsl.diagnostics import Diagnostic, Severity
from mlopsdsl.source import SourceFile, Span

TAB_WIDTH = 4
MAX_LINE = 160  # characters of a source line shown; longer lines are cropped around the span
CONTEXT = 60  # characters kept before (and at least after) the span when cropping


_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_CYAN = "\x1b[36m"
_SEVERITY_STYLE = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.NOTE: "\x1b[1;32m",
}


class _Painter:
    """Wraps text in ANSI codes only when colour was asked for."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if self.color and text else text


# What must not reach the terminal (charset.py), and a tab: it would misalign the caret under a snippet.
# A newline is unsafe too, but messages keep theirs.
_UNSAFE = re.compile(f"[\t{CONTROL_CLASS}]")


def _is_unsafe(char: str) -> bool:
    return char == "\n" or _UNSAFE.match(char) is not None


def _clean(text: str) -> str:
    """A message may quote the user's text (a key with an ESC in it): escape what is unsafe (not newlines)."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _layout(line: str) -> tuple[str, list[int]]:
    """The line as displayed (tabs expanded) and the display column where each character starts.

    The list has one more entry than the line has characters: the column just
    past its end, where a caret for an end-of-line span goes.
    """
    if line.isascii() and line.isprintable():  # most lines: one column per character
        return line, list(range(len(line) + 1))
    shown: list[str] = []
    starts: list[int] = []
    column = 0
    for char in line:
        starts.append(column)
        if char == "\t":
            width = TAB_WIDTH - column % TAB_WIDTH
            shown.append(" " * width)
        elif _is_unsafe(char):
            width = 1
            shown.append("\ufffd")
        else:
            width = _char_width(char)
            shown.append(char)
        column += width
    starts.append(column)
    return "".join(shown), starts


def _window(line: str, first: int, end: int) -> tuple[str, int, int]:
    """Crops a long line (minified JSON, a 100k-bracket bomb) to the part around the span."""
    if len(line) <= MAX_LINE:
        return line, first, end
    lo = max(0, first - CONTEXT)
    hi = min(len(line), max(end, first + 1) + CONTEXT, lo + MAX_LINE)
    prefix = "..." if lo else ""
    suffix = "..." if hi < len(line) else ""
    shift = len(prefix) - lo
    return prefix + line[lo:hi] + suffix, first + shift, min(end, hi) + shift


def _carets(line: str, span: Span) -> tuple[str, tuple[int, int]]:
    """The displayed line, and the (indent, width) of its underline, in display columns."""
    first = max(span.col - 1, 0)
    # a multi-line span is underlined to the end of its first line
    end = max(span.end_col - 1, first + 1) if span.end_line == span.line else len(line)
    line, first, end = _window(line, first, end)
    shown, starts = _layout(line)
    last = len(starts) - 1  # index of the past-the-end position
    first, end = min(first, last), min(end, last)
    width = starts[end] - starts[first] if end > first else 1
    return shown, (starts[first], max(width, 1))


class _Renderer:
    def __init__(self, sources: dict[str, SourceFile], color: bool) -> None:
        self.sources: dict[str, SourceFile | None] = dict(sources)
        self.paint = _Painter(color)
        self._line_counts: dict[str, int] = {}

    def _source(self, file: str) -> SourceFile | None:
        """The caller's copy of `file`: the text the loader read, even of a file it refused.

        Never the file read again from disk: that could be a FIFO, `/dev/zero`, or
        a file changed since it was checked.
        """
        return self.sources.get(file)

    def _line(self, span: Span) -> str | None:
        source = self._source(span.file)
        if source is None:
            return None
        if span.file not in self._line_counts:
            self._line_counts[span.file] = len(source.text.splitlines())
        return source.line(span.line) if 1 <= span.line <= self._line_counts[span.file] else None

    def _snippet(self, span: Span, gutter: int, style: str) -> list[str]:
        """`--> file:line:col`, then the source line and its carets when the file is known."""
        bar = self.paint(_CYAN, "|")
        out = [f"{' ' * gutter}{self.paint(_CYAN, '-->')} {span}"]
        line = self._line(span)
        if line is None:
            return out
        shown, (indent, width) = _carets(line, span)
        number = self.paint(_CYAN, str(span.line).rjust(gutter))
        out += [
            f"{' ' * gutter} {bar}",
            f"{number} {bar} {shown}".rstrip(),
            f"{' ' * gutter} {bar} {' ' * indent}{self.paint(style, '^' * width)}",
        ]
        return out

    def diagnostic(self, d: Diagnostic) -> list[str]:
        style = _SEVERITY_STYLE[d.severity]
        gutter = len(str(max([d.span.line] + [r.span.line for r in d.related])))
        header = self.paint(style, f"{d.severity.value}[{d.code.code}]")
        out = [f"{header}{self.paint(_BOLD, ': ' + _clean(d.message))}"]
        out += self._snippet(d.span, gutter, style)
        if d.hint:
            out.append(f"{' ' * gutter} {self.paint(_CYAN, '=')} hint: {_clean(d.hint)}")
        note_style = _SEVERITY_STYLE[Severity.NOTE]
        for related in d.related:
            out.append(f"{self.paint(note_style, 'note')}: {_clean(related.message)}")
            out += self._snippet(related.span, gutter, note_style)
        return out


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(diagnostics: list[Diagnostic]) -> tuple[Severity, str]:
    """The worst severity present, and `3 errors, 1 warning in 2 files`."""
    counts = {severity: 0 for severity in Severity}
    for d in diagnostics:
        counts[d.severity] += 1
    parts = [_plural(counts[s], s.value) for s in Severity if counts[s]]
    worst = next(s for s in Severity if counts[s])  # Severity lists the worst first
    files = len({d.span.file for d in diagnostics})
    return worst, f"{', '.join(parts)} in {_plural(files, 'file')}"


def render(diagnostics: list[Diagnostic], sources: dict[str, SourceFile], *, color: bool = False) -> str:
    if not diagnostics:
        return ""
    renderer = _Renderer(sources, color)
    blocks = ["\n".join(renderer.diagnostic(d)) for d in diagnostics]
    worst, counts = summary(diagnostics)
    blocks.append(renderer.paint(_SEVERITY_STYLE[worst], worst.value) + renderer.paint(_BOLD, ": " + counts))
    return "\n\n".join(blocks) + "\n"
