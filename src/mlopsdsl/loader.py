"""Safe YAML loading with a position for every node.

libyaml (through PyYAML's C composer) builds the node tree; we walk it once to
produce plain Python data (dict/list/str/int/float/bool/None) and a
`SourceIndex` from document paths to spans. Nothing in a spec is ever executed:
no constructor other than our own scalar resolution runs.

Hostile input is refused before it can cost much:

* size is checked on the bytes, before decoding or parsing;
* nesting depth is bounded *before* composing when the text could be deep,
  because libyaml's recursive composer overflows the C stack somewhere between
  20,000 and 40,000 levels (it crashes the interpreter, it does not raise);
* aliases are counted as they are expanded, so a billion-laughs file fails
  after `max_alias_nodes` nodes instead of after all the memory;
* explicit tags are detected by having the resolver mark every *implicit*
  node with our own tag prefix: a node whose tag lacks it was tagged in the
  text (`!!python/object`, `!custom`, `!!str`).

Scalars resolve by the YAML 1.2 core schema, not PyYAML's YAML 1.1 rules, so
`on`, `yes`, `off`, `y` stay strings, `010` is ten, and `2024-01-01` is text.
"""

from __future__ import annotations

import codecs
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import yaml

from mlopsdsl.charset import first_unsafe
from mlopsdsl.diagnostics import Diagnostic, Related, codes
from mlopsdsl.expr.units import MAX_INT
from mlopsdsl.source import NodeInfo, Path, SourceFile, SourceIndex, Span

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
def _safe_compose_depth() -> int:
    """How deep libyaml's recursive composer may nest on this process's stack, with margin.

    Measured: 20,000 levels compose on the default 8 MiB stack, 40,000 overflow it.
    We allow 15,000 per 8 MiB of stack, so ordinary specs (a 1,000-step spec has
    ~13,000 flow brackets) skip the event pre-scan that hostile files need.
    """
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_STACK)
    except (ImportError, ValueError, OSError):
        return 5_000
    if soft == resource.RLIM_INFINITY:
        return 15_000
    return max(1_000, min(15_000, 15_000 * soft // (8 * 1024 * 1024)))


SAFE_COMPOSE_DEPTH = _safe_compose_depth()

_TAG = "mld:"
_NULL, _BOOL, _INT, _FLOAT, _STR, _SEQ, _MAP = (
    _TAG + k for k in ("null", "bool", "int", "float", "str", "seq", "map")
)

# YAML 1.2.2, section 10.3.2 (core schema), tag resolution of plain scalars.
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT_RE = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT_RE = re.compile(
    r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_MAYBE_NUMBER = frozenset("0123456789+-.")


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = 64
    max_alias_nodes: int = 10_000  # nodes produced by expanding aliases, in all
    # text produced by expanding aliases, in all: a few nodes can carry a large string to every place
    # that names it, and each place is written out (one 1 MB string aliased 400 times: 400 MB of output)
    max_alias_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def from_env(cls) -> "Limits":
        raw = os.environ.get("MLOPSDSL_MAX_BYTES")
        return cls(max_bytes=int(raw), max_alias_bytes=int(raw)) if raw and raw.isdigit() else cls()


@dataclass
class Document:
    source: SourceFile
    data: dict[str, Any]
    index: SourceIndex
    # Numbers YAML reads but no target can hold (`.inf`, `.nan`, `1e400`, beyond a 64-bit integer):
    # JSON, protobuf, Go and Prometheus cannot carry them. `schema.validate` reports them (MLD115).
    out_of_range: tuple[Path, ...] = ()
    # Values (or, for a path ending in a key, keys) holding a character of `charset.UNSAFE` (MLD116).
    unsafe_text: tuple[Path, ...] = ()


class _Blocker(Exception):
    """Stops the walk: the rest of the file cannot be trusted or is too costly."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


class _Resolver(yaml.CSafeLoader):
    """Tags every implicitly typed node with our prefix, by the YAML 1.2 core schema."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:  # noqa: D102
        if kind is yaml.ScalarNode:
            if not implicit[0]:  # quoted or block scalar: always a string
                return _STR
            if value in _NULLS:
                return _NULL
            if value in _BOOLS:
                return _BOOL
            if value and value[0] in _MAYBE_NUMBER:
                if _INT_RE.fullmatch(value):
                    return _INT
                if _FLOAT_RE.fullmatch(value):
                    return _FLOAT
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP


_MAX_INT_TEXT = 4_000


class _OutOfRange(Exception):
    """An integer too long to convert at all, or a float written finite that reads as infinity."""


def _scalar_value(node: yaml.ScalarNode) -> Any:
    tag, text = node.tag, node.value
    if tag == _STR:
        return text
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return _BOOLS[text]
    if tag == _INT:
        if len(text) > _MAX_INT_TEXT:  # Python refuses to convert 4,300 digits (quadratic time)
            raise _OutOfRange
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    if lowered == ".nan":
        return float("nan")
    value = float(text)
    if math.isinf(value):  # `1e400`: written as a finite number, read as infinity
        raise _OutOfRange
    return value


def load_file(path: str, limits: Limits | None = None, *, buffers: Mapping[str, str] | None = None
              ) -> tuple[Document | None, list[Diagnostic]]:
    """Read and load one file; a missing or unreadable file is MLD101 (`buffers`: see `read_input`)."""
    limits = limits or Limits.from_env()
    raw, problem = read_input(path, limits, buffers)
    if problem is not None:
        return None, [problem]
    return load_bytes(raw, path, limits)


def read_input(path: str, limits: Limits, buffers: Mapping[str, str] | None = None
               ) -> tuple[bytes, Diagnostic | None]:
    """The bytes of an input file (a regular file, within the size limit), or why they cannot be had.

    `buffers` maps absolute paths to the text an editor holds for them (the language server's
    open documents, saved or not); a file found there is not read from disk.
    """
    from mlopsdsl.files import NotRegularFile, TooLarge, read_regular

    text = buffers.get(os.path.abspath(path)) if buffers else None
    if text is not None:
        raw = text.encode("utf-8", "surrogatepass")
        return (raw, None) if len(raw) <= limits.max_bytes else (b"", _size_error(path, len(raw), limits))

    try:
        return read_regular(path, limits.max_bytes), None
    except TooLarge as exc:
        return b"", _size_error(path, exc.size, limits)
    except NotRegularFile as exc:
        return b"", Diagnostic(codes.FILE_NOT_FOUND, f"cannot read '{path}': it is {exc.kind}, not a regular file",
                               Span.point(path), hint="name a spec file; mlopsdsl reads only regular files")
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        reason = getattr(exc, "strerror", None) or str(exc)
        return b"", Diagnostic(codes.FILE_NOT_FOUND, f"cannot read '{path}': {reason}", Span.point(path),
                               hint="check the path; it is relative to the current directory")


def display_source(path: str, raw: bytes) -> SourceFile | None:
    """The text of a file for diagnostic snippets, even one the loader refused (undecodable bytes as U+FFFD)."""
    if raw.startswith(_FOREIGN_BOMS):  # UTF-16/32 decoded as UTF-8 would be noise
        return None
    return SourceFile(path, raw.decode("utf-8", "replace").removeprefix("\ufeff"))


_FOREIGN_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _size_error(path: str, size: int, limits: Limits) -> Diagnostic:
    return Diagnostic(
        codes.FILE_TOO_LARGE,
        f"file is {size:,} bytes or more, over the limit of {limits.max_bytes:,} bytes",
        Span.point(path),
        hint="split the spec into components (`uses:`), or raise the limit with MLOPSDSL_MAX_BYTES",
    )


def load_bytes(raw: bytes, name: str, limits: Limits | None = None) -> tuple[Document | None, list[Diagnostic]]:
    limits = limits or Limits.from_env()
    if len(raw) > limits.max_bytes:
        return None, [_size_error(name, len(raw), limits)]
    text, problem = _decode(raw, name)
    if problem is not None:
        return None, [problem]
    return load_text(text, name, limits)


def _decode(raw: bytes, name: str) -> tuple[str, Diagnostic | None]:
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "UTF-32LE"), (codecs.BOM_UTF32_BE, "UTF-32BE"),
        (codecs.BOM_UTF16_LE, "UTF-16LE"), (codecs.BOM_UTF16_BE, "UTF-16BE"),
    ):
        if raw.startswith(bom):
            return "", Diagnostic(codes.FOREIGN_BOM, f"file starts with a {encoding} byte order mark",
                                  Span.point(name), hint="save the file as UTF-8 (without a BOM)")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        return "", Diagnostic(
            codes.NOT_UTF8,
            f"byte 0x{raw[exc.start]:02x} at byte offset {exc.start} is not valid UTF-8",
            Span(name, line, col, line, col + 1),
            hint="save the file as UTF-8; specs are text, not binary",
        )


def load_text(text: str, name: str, limits: Limits | None = None) -> tuple[Document | None, list[Diagnostic]]:
    limits = limits or Limits.from_env()
    source = SourceFile(name, text)
    if not text.strip():
        return None, [Diagnostic(codes.EMPTY_FILE, "file is empty", Span.point(name),
                                 hint="a spec starts with `apiVersion: mlopsdsl/v1` and `kind: Project`")]
    try:
        if _depth_bound(text) >= SAFE_COMPOSE_DEPTH:
            _prescan_depth(text, name, limits)
        root = _compose(text, name, limits)
        # Raw control characters are refused by libyaml (MLD114); escapes need a backslash in the text.
        walker = _Walker(name, limits, anchors="&" in text, unsafe="\\" in text or first_unsafe(text) is not None)
        data = walker.walk_root(root)
    except _Blocker as blocker:
        return None, [blocker.diagnostic]
    if walker.diagnostics:
        return None, walker.diagnostics
    return Document(source, data, walker.index, tuple(walker.out_of_range), tuple(walker.unsafe_text)), []


def _depth_bound(text: str) -> int:
    """A cheap upper bound of the nesting depth: flow openers plus the longest line.

    Block nesting costs at least one column per level on one line; flow nesting
    at least one bracket per level.
    """
    longest = max(map(len, text.splitlines()), default=0)
    openers = text.count("[") + text.count("{")
    # A bracket right after `$` never opens a collection: in flow context `a$[`, `${` are syntax
    # errors (a plain scalar cannot hold a flow indicator, and libyaml stops at the first), and
    # anywhere else they sit inside a scalar or a comment. So every `${{ expr }}` adds nothing:
    # counting its two braces put a 1,000-step spec within 10% of the pre-scan threshold.
    not_openers = text.count("$[") + text.count("${") + text.count("${{")
    return openers - not_openers + longest


def _prescan_depth(text: str, name: str, limits: Limits, parser: type = yaml.CSafeLoader) -> None:
    depth = 0
    starts = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    try:
        for event in yaml.parse(text, Loader=parser):
            if isinstance(event, starts):
                depth += 1
                if depth > limits.max_depth:
                    raise _Blocker(_too_deep(name, event.start_mark, limits))
            elif isinstance(event, ends):
                depth -= 1
    except yaml.YAMLError as exc:
        _refuse_libyaml_depth(exc, text, name, limits)
        raise _Blocker(_syntax_error(name, exc, text)) from None


def _refuse_libyaml_depth(exc: yaml.YAMLError, text: str, name: str, limits: Limits) -> None:
    """libyaml 0.2.6 (PyYAML 6.0.4's wheels) refuses 1,000 levels itself, while its scanner reads ahead.

    Its limit is far above ours, so the file is too deep by our rule too; the
    pure-Python parser (no such limit, an iterative scanner) finds where our limit
    is crossed, so the diagnostic is the same whichever libyaml is installed.
    """
    if "maximum nesting depth" not in str(getattr(exc, "problem", "") or exc):
        return
    _prescan_depth(text, name, limits, parser=yaml.SafeLoader)


def _too_deep(name: str, mark: Any, limits: Limits) -> Diagnostic:
    return Diagnostic(codes.TOO_DEEP, f"collections are nested more than {limits.max_depth} levels deep",
                      Span(name, mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2),
                      hint="a spec never needs this depth; is the file generated by mistake?")


def _compose(text: str, name: str, limits: Limits) -> yaml.Node:
    loader = _Resolver(text)
    try:
        root = loader.get_single_node()
    except yaml.composer.ComposerError as exc:
        if "expected a single document" in str(exc):
            mark = exc.problem_mark
            raise _Blocker(Diagnostic(
                codes.MULTIPLE_DOCUMENTS, "file holds more than one YAML document",
                Span(name, mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 4),
                hint="a spec is one document: remove the `---` separator, or split it into files",
            )) from None
        raise _Blocker(_syntax_error(name, exc, text)) from None
    except yaml.YAMLError as exc:
        _refuse_libyaml_depth(exc, text, name, limits)
        raise _Blocker(_syntax_error(name, exc, text)) from None
    finally:
        loader.dispose()
    if root is None:
        raise _Blocker(Diagnostic(codes.EMPTY_FILE, "file holds no YAML content, only comments",
                                  Span.point(name),
                                  hint="a spec starts with `apiVersion: mlopsdsl/v1` and `kind: Project`"))
    return root


_SYNTAX_HINTS = (
    ("mapping values are not allowed", "a value that contains ': ' must be quoted"),
    ("found character '@'", "a value that starts with '@' or '`' must be quoted"),
    ("found undefined alias", "define the anchor (`&name`) before its alias (`*name`)"),
    ("could not find expected ':'", "check the indentation and that every key ends with ':'"),
)


def _syntax_error(name: str, exc: yaml.YAMLError, text: str) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        offset, line, col = mark.index, mark.line + 1, mark.column + 1
    else:  # a ReaderError knows only the character offset
        offset = getattr(exc, "position", 0) or 0
        line = text.count("\n", 0, offset) + 1
        col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    span = Span(name, line, col, line, col + 1)
    if "control characters are not allowed" in message:
        char = text[offset] if offset < len(text) else "\0"
        return Diagnostic(codes.CONTROL_CHARACTER, f"control character U+{ord(char):04X} is not allowed in YAML",
                          span, hint="remove it; of the control characters only tab, LF and CR are allowed")
    if offset < len(text) and text[offset] == "\t":
        return Diagnostic(codes.YAML_SYNTAX, "invalid YAML: a tab character where indentation is expected",
                          span, hint="YAML indents with spaces; replace the tab characters")
    hint = next((h for needle, h in _SYNTAX_HINTS if needle in message), None)
    return Diagnostic(codes.YAML_SYNTAX, message, span, hint=hint)


def _span(name: str, node: yaml.Node) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(name, s.line + 1, s.column + 1, e.line + 1, e.column + 1)


@dataclass
class _Walker:
    name: str
    limits: Limits
    index: SourceIndex = field(init=False)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _seen: set[int] = field(default_factory=set)
    out_of_range: list[Path] = field(default_factory=list)
    _alias_nodes: int = 0
    _alias_bytes: int = 0
    _in_alias: int = 0

    anchors: bool = True  # False when the text has no '&': no anchor, so no alias can occur
    unsafe: bool = True  # False when no scalar can hold an unsafe character: nothing to look for
    unsafe_text: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._nodes: dict[Path, NodeInfo] = {}  # filled directly, one store per node; the index wraps it
        self.index = SourceIndex(self.name, self._nodes)
        if not self.anchors:
            # Without anchors every node is visited once; skip the alias bookkeeping.
            self._walk = self._walk_node  # type: ignore[method-assign]

    def walk_root(self, root: yaml.Node) -> dict[str, Any]:
        if not root.tag.startswith(_TAG):
            self._tag_error(root)
            raise _Blocker(self.diagnostics[0])
        if not isinstance(root, yaml.MappingNode):
            kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
            raise _Blocker(Diagnostic(
                codes.TOP_NOT_MAPPING, f"the top level is {kind}, not a mapping", _span(self.name, root),
                hint="a spec is a mapping: `apiVersion: mlopsdsl/v1`, `kind: Project`, `metadata: ...`"))
        return self._walk(root, (), None, 0)

    def _walk(self, node: yaml.Node, path: Path, key_node: yaml.Node | None, depth: int) -> Any:
        node_id = id(node)
        aliased = node_id in self._seen
        if aliased:
            self._in_alias += 1
        else:
            self._seen.add(node_id)
        try:
            return self._walk_node(node, path, key_node, depth)
        finally:
            if aliased:
                self._in_alias -= 1

    def _walk_node(self, node: yaml.Node, path: Path, key_node: yaml.Node | None, depth: int) -> Any:
        # The hottest loop of `validate` (one call per YAML node): the index is filled directly,
        # and spans are left to NodeInfo to make if anyone asks.
        if self._in_alias:
            self._alias_nodes += 1
            if self._alias_nodes > self.limits.max_alias_nodes:
                raise _Blocker(Diagnostic(
                    codes.ALIAS_BUDGET,
                    f"aliases expand to more than {self.limits.max_alias_nodes:,} nodes",
                    _span(self.name, node), path,
                    hint="this looks like a 'billion laughs' file; write the values out, or use `defaults:`"))
        tag = node.tag
        ours = tag.startswith(_TAG)
        if not ours:
            self._tag_error(node, path)
        if isinstance(node, yaml.ScalarNode):
            if self._in_alias:
                self._alias_bytes += len(node.value)
                if self._alias_bytes > self.limits.max_alias_bytes:
                    raise _Blocker(Diagnostic(
                        codes.ALIAS_BUDGET,
                        f"aliases expand to more than {self.limits.max_alias_bytes:,} characters of text",
                        _span(self.name, node), path,
                        hint="each alias copies its anchor's text into the output; write the value once "
                             "(`defaults:`, a component) or raise MLOPSDSL_MAX_BYTES"))
            self._nodes[path] = NodeInfo.from_marks(self.name, node.start_mark, node.end_mark, key_node,
                                                    node.style or "")
            if self.unsafe and first_unsafe(node.value) is not None:
                self.unsafe_text.append(path)
            if tag == _STR or not ours:
                return node.value
            try:
                value = _scalar_value(node)
            except _OutOfRange:
                self._out_of_range(node, path)
                return node.value
            if (tag == _FLOAT and not math.isfinite(value)) or (tag == _INT and not -MAX_INT - 1 <= value <= MAX_INT):
                self.out_of_range.append(path)
            return value
        if depth >= self.limits.max_depth:
            raise _Blocker(_too_deep(self.name, node.start_mark, self.limits))
        self._nodes[path] = NodeInfo.from_marks(self.name, node.start_mark, node.end_mark, key_node, None)
        walk = self._walk
        if isinstance(node, yaml.SequenceNode):
            return [walk(item, path + (i,), None, depth + 1) for i, item in enumerate(node.value)]
        result: dict[str, Any] = {}
        key_nodes: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.diagnostics.append(Diagnostic(
                    codes.COMPLEX_KEY, "a mapping key must be a plain name, not a list or mapping",
                    _span(self.name, key_node), path, hint="write the key as text"))
                continue
            if not key_node.tag.startswith(_TAG):
                self._tag_error(key_node, path)
            key = key_node.value
            if self.unsafe and first_unsafe(key) is not None:
                self.unsafe_text.append(path + (key,))
            if key in key_nodes:
                first = _span(self.name, key_nodes[key])
                self.diagnostics.append(Diagnostic(
                    codes.DUPLICATE_KEY, f"duplicate key '{key}' (first defined at line {first.line})",
                    _span(self.name, key_node), path + (key,),
                    hint="remove one of them; YAML parsers disagree on which one wins",
                    related=(Related(first, f"'{key}' first defined here"),)))
                continue
            key_nodes[key] = key_node
            result[key] = walk(value_node, path + (key,), key_node, depth + 1)
        return result

    def _out_of_range(self, node: yaml.ScalarNode, path: Path) -> None:
        text = node.value if len(node.value) <= 24 else \
            f"{node.value[:10]}...{node.value[-10:]} ({len(node.value):,} characters)"
        self.diagnostics.append(Diagnostic(
            codes.NUMBER_TOO_LARGE, f"the number {text} is too large",
            _span(self.name, node), path,
            hint=f"numbers must fit a 64-bit integer (up to {MAX_INT}) and be finite; quote it if it is text"))

    def _tag_error(self, node: yaml.Node, path: Path = ()) -> None:
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        self.diagnostics.append(Diagnostic(
            codes.EXPLICIT_TAG, f"explicit YAML tag '{tag}' is not allowed",
            _span(self.name, node), path,
            hint="specs are plain data; remove the tag (values are typed by the language, not by YAML tags)"))
