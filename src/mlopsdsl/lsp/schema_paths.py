"""The published JSON Schema, read along a document path: what a field is and how it is described.

Used where the language server talks about a field rather than an expression name
(the paths offered under an environment's `set:`, and hovering one). The schema is
the one `mlopsdsl schema` prints and yaml-language-server reads: one source for both.
"""

from __future__ import annotations

import re
from typing import Any

from mlopsdsl.resources import schema
from mlopsdsl.source import Path

Node = dict[str, Any]


def _resolve(node: Any) -> Node:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 32:
        ref = node["$ref"]
        target = schema()
        for part in ref.removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        merged = {k: v for k, v in node.items() if k != "$ref"}
        node = {**target, **merged}  # the place's own description wins over the definition's
        seen += 1
    return node if isinstance(node, dict) else {}


def _alternatives(node: Node) -> list[Node]:
    found = [node]
    for key in ("oneOf", "anyOf", "allOf"):
        for alt in node.get(key) or []:
            found += _alternatives(_resolve(alt))
    return found


def _child(node: Node, part: str | int) -> Node | None:
    for alt in _alternatives(_resolve(node)):
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            if isinstance(alt.get("items"), dict):
                return _resolve(alt["items"])
            continue
        props = alt.get("properties") or {}
        if part in props:
            return _resolve(props[part])
        for pattern, sub in (alt.get("patternProperties") or {}).items():
            if re.search(pattern, part):
                return _resolve(sub)
        if isinstance(alt.get("additionalProperties"), dict):
            return _resolve(alt["additionalProperties"])
    return None


def at(path: Path) -> Node | None:
    """The schema of the value at `path` in a Project, or None where the schema says nothing."""
    node: Node | None = _resolve(schema().get("else", schema()))
    for part in path:
        if node is None:
            return None
        node = _child(node, part)
    return node


def properties(node: Node) -> dict[str, Node]:
    """The keys a mapping with this schema may have."""
    found: dict[str, Node] = {}
    for alt in _alternatives(_resolve(node)):
        for name, sub in (alt.get("properties") or {}).items():
            found.setdefault(name, _resolve(sub))
    return found


def label(node: Node | None) -> str:
    """A short type for people: `Duration`, `one of: canary, blue_green`, `integer`, `object`."""
    if not node:
        return ""
    if node.get("title"):
        return str(node["title"])
    if "enum" in node:
        return "one of: " + ", ".join(str(v) for v in node["enum"])
    kinds = node.get("type")
    if kinds:
        return " | ".join(kinds) if isinstance(kinds, list) else str(kinds)
    shown = [label(_resolve(alt)) for key in ("oneOf", "anyOf") for alt in node.get(key) or []]
    return " | ".join(dict.fromkeys(s for s in shown if s))


def description(node: Node | None) -> str:
    if not node:
        return ""
    return str(node.get("markdownDescription") or node.get("description") or "")
