"""What is under the cursor: the document path of the value or key there, and the name in `${{ }}`.

A buffer being typed into often does not parse (`when: "${{ steps.` has no closing
quote yet). `document_at` then tries the text with the cursor's line closed where
the cursor stands (the open `${{`, quote and brackets closed; a key given its
colon): the characters before the cursor are unchanged, so the node found there
is the one the person is typing in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mlopsdsl.expr import ast
from mlopsdsl.expr.template import Expression, ParsedValue, parse_value
from mlopsdsl.loader import Document, load_text
from mlopsdsl.lsp.text import LineIndex
from mlopsdsl.source import NodeInfo, Path


@dataclass(frozen=True)
class Place:
    path: Path
    on_key: bool  # the cursor is on the key of `path`, not on its value
    info: NodeInfo


@dataclass(frozen=True)
class NameAt:
    """A dotted name in an expression, and which of its parts the cursor is on."""

    parsed: ParsedValue
    expression: Expression
    node: ast.Name
    part: int  # index into node.parts


def place_at(document: Document, lines: LineIndex, offset: int) -> Place | None:
    """The innermost node whose key or value holds `offset` (its end included: the cursor after a word)."""
    children: dict[Path, list[Path]] = _children(document)
    found: Place | None = None
    parent: Path = ()
    while True:
        step_in = None
        for path in children.get(parent, ()):
            info = document.index.get(path)
            if info is None:
                continue
            if info.key_span is not None and _holds(lines, info.key_span, offset):
                return Place(path, True, info)
            if _holds(lines, info.span, offset):
                step_in = Place(path, False, info)
                break
        if step_in is None:
            return found
        found, parent = step_in, step_in.path


# The children of each path for the last few documents looked into (a buffer is asked about many
# times between two edits; a 1,000-step spec has ~20,000 paths).
_RECENT: list[tuple[Document, dict[Path, list[Path]]]] = []


def _children(document: Document) -> dict[Path, list[Path]]:
    for known, children in _RECENT:
        if known is document:
            return children
    children = {}
    for path, _ in document.index.items():
        if path:
            children.setdefault(path[:-1], []).append(path)
    _RECENT.insert(0, (document, children))
    del _RECENT[4:]
    return children


def _holds(lines: LineIndex, span: Any, offset: int) -> bool:
    return lines.span_offset(span.line, span.col) <= offset <= lines.span_offset(span.end_line, span.end_col)


def name_at(document: Document, lines: LineIndex, place: Place, offset: int) -> NameAt | None:
    """The name under the cursor in the string value at `place`, if the value holds one."""
    from mlopsdsl.check.context import value_at

    value = value_at(document.data, place.path)
    if place.on_key or not isinstance(value, str) or "${{" not in value:
        return None
    parsed, _ = parse_value(value, place.info, document.source.text, place.path)
    for expression in parsed.expressions:
        if expression.node is None:
            continue
        for node in ast.names(expression.node):
            span = parsed.node_span(expression, node)
            if not lines.span_offset(span.line, span.col) <= offset <= lines.span_offset(span.end_line, span.end_col):
                continue
            for part in range(len(node.parts)):
                end = parsed.node_span(expression, node, node.prefix_end(part + 1))
                if offset <= lines.span_offset(end.end_line, end.end_col):
                    return NameAt(parsed, expression, node, part)
            return NameAt(parsed, expression, node, len(node.parts) - 1)
    return None


# --- a buffer that does not parse ------------------------------------------------------------

def document_at(document: Document | None, lines: LineIndex, offset: int, name: str
                ) -> tuple[Document, LineIndex] | None:
    """A document to find the cursor's place in: the buffer's own, or the buffer closed at the cursor."""
    if document is not None:
        return document, lines
    for text in repairs(lines.text, offset):
        repaired, problems = load_text(text, name)
        if repaired is not None:
            return repaired, LineIndex(text, lines.encoding)
    return None


def repairs(text: str, offset: int) -> list[str]:
    """The text with the cursor's line ended at the cursor and closed, then also given a key's colon."""
    line_start = text.rfind("\n", 0, offset) + 1
    newline = re.compile(r"\r\n|\r|\n").search(text, offset)
    line_end = newline.start() if newline else len(text)
    head = text[line_start:offset]
    closed = text[:offset] + closers(head)
    candidates = [closed + text[line_end:]]
    if ":" not in head and not head.lstrip().startswith(("-", "#")) and head.strip():
        candidates.append(closed + ":" + text[line_end:])  # a key being typed under a mapping
    return candidates


def closers(head: str) -> str:
    """What closes what `head` (a line up to the cursor) left open: `${{`, a quote, flow brackets."""
    stack: list[str] = []
    quote = ""
    i = 0
    while i < len(head):
        char = head[i]
        if quote == "'":
            if char == "'":
                if head[i + 1:i + 2] == "'":
                    i += 1
                else:
                    quote = ""
        elif quote == '"':
            if char == "\\":
                i += 1
            elif char == '"':
                quote = ""
        elif char in "'\"" and (i == 0 or head[i - 1] in " \t[{,:"):
            quote = char
        elif char == "#" and (i == 0 or head[i - 1] in " \t"):
            break  # a comment: nothing after it is open
        elif char in "[{" and not _in_expression(head, i):
            stack.append(char)
        elif char in "]}" and stack and not _in_expression(head, i):
            stack.pop()
        i += 1
    opened = head.rfind("${{")
    expression = " }}" if opened >= 0 and "}}" not in head[opened:] else ""
    return expression + quote + "".join("]" if b == "[" else "}" for b in reversed(stack))


def _in_expression(head: str, i: int) -> bool:
    """True when position i lies inside a `${{ ... }}` (whose braces are not YAML's)."""
    opened = head.rfind("${{", 0, i + 3)  # the last `${{` that starts at or before i
    if opened < 0:
        return False
    closed = head.find("}}", opened)
    return closed < 0 or i <= closed + 1


# --- what a place means ------------------------------------------------------------------------

def set_target(dotted: str) -> Path:
    """`serving.variants.0.weight` (a key of `environments.E.set`) as the document path it replaces."""
    return tuple(int(p) if p.isdigit() else p for p in dotted.split("."))


def expression_context(path: Path, *, component: bool = False) -> tuple[str, Path]:
    """The expression context of the value at `path`, and the path whose scope it sees.

    An environment's `set:` value is checked where it lands, so it takes the context and
    the scope of the place its key names.
    """
    from mlopsdsl import language

    if component:
        return language.context_at(path, language.COMPONENT) or "text", path
    if len(path) >= 4 and path[0] == "environments" and path[2] == "set" and isinstance(path[3], str):
        path = set_target(path[3]) + path[4:]
    return language.context_at(path) or "text", path


def enclosing_keys(text: str, offset: int) -> tuple[str, ...]:
    """The block-mapping keys around the cursor, read from indentation alone.

    For a line being started (`set:` then a blank line indented under it), where no
    YAML node exists yet. Flow collections and list items stop the walk.
    """
    line_start = text.rfind("\n", 0, offset) + 1
    head = text[line_start:offset]
    indent = len(head) - len(head.lstrip(" "))
    keys: list[str] = []
    end = line_start - 1
    while end > 0 and indent > 0:
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end].rstrip("\r")
        end = start - 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        width = len(line) - len(line.lstrip(" "))
        if width >= indent:
            continue
        found = _BLOCK_KEY.match(line)
        if found is None:
            return ()
        keys.insert(0, found.group(1).strip("'\""))
        indent = width
    return tuple(keys) if indent == 0 else ()


_BLOCK_KEY = re.compile(r"\s*((?:'[^']*'|\"[^\"]*\"|[^\s:#'\"][^:#]*?)):(?:\s+#.*|\s*)$")
