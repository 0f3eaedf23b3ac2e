"""Finding `${{ ... }}` in a YAML string value, and where its parts are.

A value that is exactly one `${{ ... }}` (whitespace around it aside) is a
*whole-value* expression and keeps its type: `when: ${{ a > b }}` is a bool.
Any other value with `${{` in it is a *template*: literal text and
interpolated expressions, each of which must be a scalar. `$${{` is the
escape for a literal `${{` (only that sequence: a lone `$` is just a dollar).

The closing `}}` is the first one outside a quoted string, so
`${{ item == '}}' }}` works. A `${{` with no `}}` is an error (MLD502).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.expr import ast
from mlopsdsl.expr.parser import SyntaxProblem, parse_expression
from mlopsdsl.expr.positions import SourceMap
from mlopsdsl.source import NodeInfo, Path, Span

OPEN, CLOSE, ESCAPED_OPEN = "${{", "}}", "$${{"


@dataclass(frozen=True, slots=True)
class Expression:
    """One `${{ ... }}` in a value. `node` is None when its text does not parse."""

    node: ast.Expr | None
    text: str  # between the braces
    base: int  # value index of text[0]; node offsets + base = value indexes
    open: int  # value index of the `$` of `${{`
    close: int  # value index just after `}}`

    def source(self, node: ast.Node) -> str:
        """The text of `node` as written."""
        return self.text[node.start:node.end]


class ParsedValue:
    """A string value split into literal text and expressions, with its place in the file."""

    __slots__ = ("value", "parts", "info", "file_text", "path", "_map")

    def __init__(self, value: str, parts: tuple[str | Expression, ...], info: NodeInfo,
                 file_text: str, path: Path) -> None:
        self.value = value
        self.parts = parts
        self.info = info
        self.file_text = file_text
        self.path = path
        self._map: SourceMap | None = None

    @property
    def expressions(self) -> list[Expression]:
        return [p for p in self.parts if isinstance(p, Expression)]

    @property
    def whole(self) -> Expression | None:
        """The expression when the value is exactly one `${{ }}`, else None."""
        found = self.expressions
        if len(found) == 1 and all(isinstance(p, Expression) or not p.strip() for p in self.parts):
            return found[0]
        return None

    @property
    def has_expressions(self) -> bool:
        return any(isinstance(p, Expression) for p in self.parts)

    def span(self, start: int, end: int) -> Span:
        """File span of value characters [start, end)."""
        if self._map is None:
            self._map = SourceMap(self.value, self.info, self.file_text)
        return self._map.span(start, end)

    def node_span(self, expression: Expression, node: ast.Node, end: int | None = None) -> Span:
        return self.span(expression.base + node.start, expression.base + (node.end if end is None else end))


_CLOSE_OR_QUOTE = re.compile(r"\}\}|['\"]")
# The rest of a quoted string after its opening quote: escapes skip one character.
_QUOTED_REST = {q: re.compile(rf"(?:[^{q}\\]|\\.)*{q}", re.DOTALL) for q in "'\""}


def _find_close(value: str, start: int) -> int:
    """Index of the `}}` that ends an expression starting at `start`, or -1."""
    i = start
    while (found := _CLOSE_OR_QUOTE.search(value, i)) is not None:
        if found.group() == CLOSE:
            return found.start()
        rest = _QUOTED_REST[found.group()].match(value, found.end())
        if rest is None:
            break
        i = rest.end()
    # An unterminated string inside: let the parser say so, if a `}}` exists at all.
    return value.find(CLOSE, start)


def split(value: str) -> tuple[list[str | tuple[int, int, int]], int | None]:
    """Literal text and (open, text_start, close) triples; plus where an unclosed `${{` starts."""
    parts: list[str | tuple[int, int, int]] = []
    text: list[str] = []
    i = 0
    while True:
        j = value.find(OPEN, i)
        if j < 0:
            text.append(value[i:])
            break
        if j > 0 and value[j - 1] == "$":  # `$${{` -> a literal `${{`
            text.append(value[i:j - 1] + OPEN)
            i = j + len(OPEN)
            continue
        close = _find_close(value, j + len(OPEN))
        if close < 0:
            text.append(value[i:])
            _flush(parts, text)
            return parts, j
        text.append(value[i:j])
        _flush(parts, text)
        parts.append((j, j + len(OPEN), close + len(CLOSE)))
        i = close + len(CLOSE)
    _flush(parts, text)
    return parts, None


def _flush(parts: list, text: list[str]) -> None:
    joined = "".join(text)
    text.clear()
    if joined:
        parts.append(joined)


def parse_value(value: str, info: NodeInfo, file_text: str, path: Path = ()) -> tuple[ParsedValue, list[Diagnostic]]:
    """Split `value` (a YAML string at `path`, located by `info`) and parse each `${{ }}`.

    Syntax errors (MLD501) and an unclosed `${{` (MLD502) come back as
    diagnostics with file positions; the `Expression` of a syntax error has
    `node=None`, so checking skips it and reports nothing more about it.
    """
    raw_parts, unclosed = split(value)
    parts: list[str | Expression] = []
    diagnostics: list[Diagnostic] = []
    parsed = ParsedValue(value, (), info, file_text, path)
    for part in raw_parts:
        if isinstance(part, str):
            parts.append(part)
            continue
        opened, base, close = part
        text = value[base:close - len(CLOSE)]
        result = parse_expression(text)
        node = None if isinstance(result, SyntaxProblem) else result
        parts.append(Expression(node, text, base, opened, close))
        if isinstance(result, SyntaxProblem):
            diagnostics.append(Diagnostic(
                result.code, result.message, parsed.span(base + result.start, base + result.end),
                path, hint=result.hint))
    if unclosed is not None:
        diagnostics.append(Diagnostic(
            codes.EXPR_UNCLOSED, "`${{` is not closed by `}}`", parsed.span(unclosed, len(value.rstrip())), path,
            hint="close the expression with `}}`, or write `$${{` for a literal `${{`"))
    parsed.parts = tuple(parts)
    return parsed, diagnostics


def has_expression(value: object) -> bool:
    """Cheap test before parsing: does a value hold `${{` at all?"""
    return isinstance(value, str) and OPEN in value
