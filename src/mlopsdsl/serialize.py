"""Documents as data -> bytes, in one place, deterministically.

A small YAML emitter for plain data (dict, list, tuple, str, int, float, bool,
None) instead of `yaml.dump`: PyYAML's C dumper spends ~0.7 s on a 2 MB KFP IR
because it runs the full event/representer machinery for every scalar, while
plain data needs only "is this string safe to write bare?" per string.

Layout is PyYAML's (and so kfp's): block style, 2-space indent, sequences under
a key not indented further ("indentless"), keys in the order the backend built
them, multi-line strings as `|` literal blocks, no line folding.

Quoting is conservative on purpose: Kubernetes and Argo read YAML 1.1, GitHub
reads YAML 1.2, and older readers (go-yaml v2) resolve `y`/`n` and anything
`strconv.ParseFloat` accepts. So a string is written bare only when no such
reader could take it for anything but a string: every string that begins like
a number (`010`, `1e3`, `.5`, `2024-01-01`, `12:30`, `10Gi`) is quoted, as are
the YAML 1.1 words (`on`, `yes`, `No`, `y`, `~`, `null`, ...) in any casing.
Quoted strings are JSON strings (double quotes), with the characters YAML
treats as line breaks or non-printable escaped.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Callable

from mlopsdsl.backends.base import Artifact, Commented  # noqa: F401 - Commented is re-exported

__all__ = ["Commented", "dump_yaml", "to_bytes", "yaml_scalar"]

# The common case, decided by one regex: starts with a letter, `_` or `/`, holds
# no indicator that could start a comment, key or flow, and does not end in a space.
_SIMPLE = re.compile(r"[A-Za-z_/][A-Za-z0-9_./=@()+ -]*[A-Za-z0-9_./=@()+-]|[A-Za-z_/]")
# Words some YAML 1.1 or 1.2 reader resolves to a bool, null, merge key or value key.
_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "<<", "=",
                    ".inf", "+.inf", "-.inf", ".nan"})
# Anything a reader might try to parse as a number, date or time (see module doc).
_NUMBERISH = re.compile(r"[-+]?(?:[0-9]|\.[0-9_])")
# Characters that may not appear bare: YAML non-printables, tab, the YAML 1.1 line
# breaks NEL/LS/PS, and the byte-order mark.
_NOT_PLAIN = re.compile("[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
# What json.dumps leaves unescaped but a YAML reader would misread.
_JSON_FIXUP = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
# A literal block may hold anything printable but CR and the YAML 1.1 line breaks.
_NOT_LITERAL = re.compile("[^\n\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
# libyaml and PyYAML refuse implicit keys longer than 1024 characters.
_MAX_KEY = 1024


def _escape(match: re.Match[str]) -> str:
    return "\\u%04x" % ord(match.group())


def _quoted(text: str) -> str:
    return _JSON_FIXUP.sub(_escape, json.dumps(text, ensure_ascii=False))


def _plain_ok(text: str) -> bool:
    if not text or text.lower() in _WORDS or _NUMBERISH.match(text) or _NOT_PLAIN.search(text):
        return False
    first = text[0]
    if first in _INDICATORS and not (first == "-" and text[1:2] not in ("", " ")):
        return False
    if first == " " or text[-1] in " :" or ": " in text or " #" in text:
        return False
    return not text.startswith(("---", "..."))


def _string(text: str) -> str:
    if _SIMPLE.fullmatch(text) and (len(text) > 5 or text.lower() not in _WORDS):
        return text
    return text if _plain_ok(text) else _quoted(text)


def _float(value: float) -> str:
    if value != value:
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    # YAML 1.1 (PyYAML) needs a dot in a float: `1e-05` would read as a string.
    if "e" in text and "." not in text:
        text = text.replace("e", ".0e", 1)
    return text


def yaml_scalar(value: Any) -> str:
    """One scalar as YAML text (a multi-line string is double-quoted here)."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return _float(value)
    if isinstance(value, str):
        text = _string(str(value))
        comment = getattr(value, "comment", None)
        return f"{text} # {comment}" if comment else text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _float(float(value))
    raise TypeError(f"cannot serialize {kind.__name__} to YAML: backends emit plain data only")


def _literal(text: str, indent: str) -> str | None:
    """`text` as a `|` block whose lines sit at `indent`, or None when a block cannot carry it."""
    if text[0] in " \t" or _NOT_LITERAL.search(text) or not text.strip():
        return None
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
        chomp = "+" if text.endswith("\n\n") else ""
    else:
        chomp = "-"
    for line in lines:
        if line:
            # Indentation is detected from the first non-empty line; a leading
            # space there, or a space-only line before it, would change it.
            if line[0] in " \t":
                return None
            break
    if any(line[-1:] in (" ", "\t") and not line.strip() for line in lines):
        return None
    return "|" + chomp + "\n" + "".join(indent + line + "\n" if line else "\n" for line in lines)


def _key(key: Any) -> str:
    if type(key) is not str and not isinstance(key, str):
        raise TypeError(f"mapping keys must be strings, not {type(key).__name__}: {key!r}")
    text = _string(key)
    if len(text) > _MAX_KEY:
        raise ValueError(f"mapping key longer than {_MAX_KEY} characters: {key[:40]!r}...")
    return text


def _value(value: Any, prefix: str, child: str, w: Callable[[str], Any]) -> bool:
    """Write a scalar, empty container or literal after `prefix`; False if `value` needs a block."""
    kind = type(value)
    if kind is str:
        if "\n" in value:
            block = _literal(value, child)
            w(prefix + (block if block is not None else _quoted(value) + "\n"))
        else:
            w(prefix + _string(value) + "\n")
        return True
    if kind is dict or kind is list or kind is tuple or isinstance(value, (dict, list, tuple)):
        if value:
            return False
        w(prefix + ("{}\n" if isinstance(value, dict) else "[]\n"))
        return True
    w(prefix + yaml_scalar(value) + "\n")
    return True


def _mapping(mapping: dict, indent: str, lead: str, w: Callable[[str], Any]) -> None:
    child = indent + "  "
    prefix = lead
    for key, value in mapping.items():
        head = prefix + _key(key) + ":"
        prefix = indent
        if _value(value, head + " ", child, w):
            continue
        w(head + "\n")
        if isinstance(value, dict):
            _mapping(value, child, child, w)
        else:
            _sequence(value, indent, indent, w)


def _sequence(items: list | tuple, indent: str, lead: str, w: Callable[[str], Any]) -> None:
    child = indent + "  "
    prefix = lead + "- "
    for item in items:
        if not _value(item, prefix, child, w):
            if isinstance(item, dict):
                _mapping(item, child, prefix, w)
            else:
                _sequence(item, child, prefix, w)
        prefix = indent + "- "


def dump_yaml(document: Any) -> str:
    """One YAML document (without `---`), ending in a newline."""
    out: list[str] = []
    w = out.append
    if isinstance(document, dict) and document:
        _mapping(document, "", "", w)
    elif isinstance(document, (list, tuple)) and document:
        _sequence(document, "", "", w)
    elif isinstance(document, str):
        w(_string(document) if "\n" not in document else _quoted(document))
        w("\n")
    else:
        _value(document, "", "  ", w)
    return "".join(out)


def dump_json(document: Any) -> str:
    # NaN and infinities are not JSON; a backend that produces one has a bug.
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def to_bytes(artifact: Artifact) -> bytes:
    if artifact.format == "text":
        text = artifact.text or ""
    elif artifact.format == "json":
        (document,) = artifact.documents
        text = dump_json(document)
    else:
        head = "".join(f"# {line}\n" if line else "#\n" for line in artifact.header.splitlines())
        text = head + "---\n".join(dump_yaml(doc) for doc in artifact.documents)
    if not text.endswith("\n"):
        text += "\n"
    return text.replace("\r\n", "\n").encode("utf-8")
