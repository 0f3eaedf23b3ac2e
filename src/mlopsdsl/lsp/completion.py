"""Completion where the schema cannot help: names inside `${{ }}`, paths under `set:`, steps in `after:`.

Inside `${{ }}` the items are exactly the names the checker would accept at that
place: the patterns of the place's context (`expr/contexts.py`) walked one part at a
time against the names in scope (`names.py`), each with its type. Everything else
is yaml-language-server's (keys, enums, snippets from the JSON Schema); where this
module has nothing to say it answers nothing, so the two never offer the same item.
"""

from __future__ import annotations

import re
from typing import Any

from lsprotocol import types

from mlopsdsl.check.context import value_at
from mlopsdsl.check.envs import FIXED, SETTABLE
from mlopsdsl.expr import contexts
from mlopsdsl.lsp import schema_paths
from mlopsdsl.lsp.locate import document_at, enclosing_keys, expression_context, place_at
from mlopsdsl.lsp.names import NameTable, SpecModel, describe, show_type
from mlopsdsl.source import Path

# The dotted name being typed at the end of an expression's text (`steps.train.out`, `params.`).
_TYPED = re.compile(r"(?<![\w.\]'\"-])([A-Za-z_][\w-]*(?:\.[\w-]*)*)?$")
_WORD_BEFORE = re.compile(r"[\w-]*$")
SET_LIMIT = 500  # paths offered at once under `set:`; more are found by typing (the list is incomplete)

_KIND = types.CompletionItemKind


def complete(analysis: Any, offset: int) -> types.CompletionList | None:
    text = analysis.text
    line_start = text.rfind("\n", 0, offset) + 1
    head = text[line_start:offset]
    located = document_at(analysis.document, analysis.lines, offset, analysis.path)
    if located is not None:
        document, lines = located
        model = analysis.model if document is analysis.document else SpecModel.of_document(
            analysis.path, document, buffers=analysis.result.buffers, is_component=analysis.is_component)
        place = place_at(document, lines, offset)
    else:
        model, place = analysis.model, None
    if model is None:
        return None
    opened = _open_expression(head)
    if opened is not None:
        if place is None:
            return None
        context, scope_path = expression_context(place.path, component=model.is_component)
        return _expression_items(model, context, scope_path, head[opened:], analysis, offset)
    keys = enclosing_keys(text, offset)
    on_set_key = place is not None and place.on_key and len(place.path) == 4 and place.path[0] == "environments" \
        and place.path[2] == "set"
    if on_set_key or (len(keys) == 3 and keys[0] == "environments" and keys[2] == "set" and ":" not in head):
        env = place.path[1] if on_set_key else keys[1]
        return _set_items(model, str(env), head, analysis, offset)
    if place is not None and not place.on_key:
        return _name_list_items(model, place.path, analysis, offset)
    return None


def _open_expression(head: str) -> int | None:
    """Where the text of a `${{` still open at the cursor starts, or None."""
    opened = head.rfind("${{")
    if opened < 0 or "}}" in head[opened:] or head[opened - 1:opened] == "$":
        return None
    return opened + 3


def _edit_range(analysis: Any, start: int, end: int) -> types.Range:
    return analysis.lines.range(start, end)


# --- inside ${{ }} --------------------------------------------------------------------------

def _expression_items(model: SpecModel, context_key: str, scope_path: Path, expression: str, analysis: Any,
                      offset: int) -> types.CompletionList | None:
    typed = _TYPED.search(expression)
    if typed is None or (typed.group(1) or "")[:1].isdigit():
        return None
    parts = (typed.group(1) or "").split(".")
    prefix, partial = tuple(parts[:-1]), parts[-1]
    context = contexts.get(context_key)
    table = model.scope_at(scope_path)
    replace = _edit_range(analysis, offset - len(partial), offset)
    items: list[types.CompletionItem] = []
    for name, kind, detail, documentation in _candidates(model, table, context, prefix):
        items.append(types.CompletionItem(
            label=name, kind=kind, detail=detail, sort_text=f"{len(items):05d}",
            label_details=types.CompletionItemLabelDetails(description=detail) if detail else None,
            documentation=types.MarkupContent(types.MarkupKind.Markdown, documentation) if documentation else None,
            text_edit=types.TextEdit(replace, name)))
    return types.CompletionList(is_incomplete=False, items=items)


def _candidates(model: SpecModel, table: NameTable, context: contexts.Context, prefix: tuple[str, ...]):
    """(name, kind, detail, documentation) of each next part the context admits after `prefix`."""
    depth = len(prefix)
    seen: dict[str, None] = {}
    for pattern in (tuple(p.split(".")) for p in context.patterns):
        if len(pattern) <= depth or not all(p in ("*", x) for p, x in zip(pattern, prefix)):
            continue
        following = pattern[depth]
        if following != "*":
            names = [following] if _exists(model, table, prefix + (following,)) else []
        elif prefix == ("secrets",):
            names = model.secret_names()
        else:
            names = table.below(prefix)
            kind = table.type_of(prefix)
            names += [name for name, _ in (kind.fields if kind is not None else ())]
        seen.update(dict.fromkeys(n for n in names if n not in seen))
    for name in seen:
        parts = prefix + (name,)
        yield (name, *_describe(model, table, parts))


def _exists(model: SpecModel, table: NameTable, parts: tuple[str, ...]) -> bool:
    return parts == ("secrets",) or table.type_of(parts) is not None or bool(table.below(parts))


def _describe(model: SpecModel, table: NameTable, parts: tuple[str, ...]) -> tuple[Any, str, str]:
    """The item kind, the type shown beside the name, and a few words on what the name is."""
    kind = table.type_of(parts) or (contexts.builtin(parts) if parts[0] == "secrets" else None)
    if kind is None:  # a name with names below it
        shape = parts[:1] + ("*",) * (len(parts) - 1)
        return _KIND.Module, _NAMESPACE.get(shape, ""), ""
    return (_KIND.Variable if parts[0] in ("params", "item", "secrets") else _KIND.Field,
            show_type(kind), describe(model, parts))


# What the names with names below them hold (`steps.train.` -> its outputs), beside the item.
_NAMESPACE = {("params",): "parameters", ("data",): "data sources", ("steps",): "pipeline steps",
              ("steps", "*"): "step", ("steps", "*", "*"): "its outputs", ("inputs",): "this step's inputs",
              ("outputs",): "this step's outputs", ("serving",): "serving metrics", ("drift",): "drift",
              ("secrets",): "secrets by name", ("metadata",): "metadata", ("model",): "model", ("env",): "environment",
              ("serving", "*"): "latency quantiles", ("inputs", "*"): "input", ("outputs", "*"): "output",
              ("data", "*"): "data source", ("drift", "*"): "drift scores"}


# --- environments.E.set ---------------------------------------------------------------------

def _set_items(model: SpecModel, env: str, head: str, analysis: Any, offset: int) -> types.CompletionList:
    typed = head.lstrip(" \t").lstrip("'\"")
    start = offset - len(typed)
    parent = typed[:typed.rfind(".") + 1]
    depth = parent.count(".")
    already = value_at(model.data, ("environments", env, "set"))
    already = set(already) if isinstance(already, dict) else set()
    near: list[tuple[str, Path]] = []
    far: list[tuple[str, Path]] = []
    for path, _ in model.document.index.items():
        if not path or path[0] not in SETTABLE or len(path) - depth not in (1, 2):
            continue
        dotted = ".".join(str(p) for p in path)
        if dotted.startswith(parent) and dotted not in FIXED and dotted not in already:
            (near if len(path) == depth + 1 else far).append((dotted, path))
    for dotted, path in list(near):  # fields the schema allows that the spec leaves unset
        if isinstance(value_at(model.data, path), dict):
            for name in schema_paths.properties(schema_paths.at(path) or {}):
                if name not in value_at(model.data, path) and f"{dotted}.{name}" not in already:
                    far.append((f"{dotted}.{name}", path + (name,)))
    if depth == 0:
        near += [(section, (section,)) for section in SETTABLE if section not in model.data]
    chosen = near + far
    incomplete = len(chosen) > SET_LIMIT
    replace = _edit_range(analysis, start, offset)
    items = []
    for dotted, path in chosen[:SET_LIMIT]:
        node = schema_paths.at(path)
        current = value_at(model.data, path)
        detail = schema_paths.label(node)
        notes = [schema_paths.description(node)]
        notes.append("not set in the spec" if current is None and path not in model.document.index
                     else f"now: `{_short(current)}`")
        items.append(types.CompletionItem(
            label=dotted, kind=_KIND.Property, detail=detail or None, sort_text=f"{len(items):05d}",
            documentation=types.MarkupContent(types.MarkupKind.Markdown, "\n\n".join(n for n in notes if n)),
            text_edit=types.TextEdit(replace, dotted)))
    return types.CompletionList(is_incomplete=incomplete, items=items)


def _short(value: Any) -> str:
    shown = repr(value) if not isinstance(value, str) else value
    if isinstance(value, dict):
        shown = "{" + ", ".join(str(k) for k in value) + "}"
    return shown if len(shown) <= 60 else shown[:57] + "..."


# --- after:, and environment names ------------------------------------------------------------

def _name_list_items(model: SpecModel, path: Path, analysis: Any, offset: int) -> types.CompletionList | None:
    """Steps in a step's `after:`; environments where CI names one."""
    list_path = path[:-1] if path and isinstance(path[-1], int) else path
    if list_path[-1:] == ("after",) and (step := model.step_at(list_path)) is not None:
        listed = value_at(model.data, list_path)
        listed = set(listed) if isinstance(listed, list) else set()
        current = value_at(model.data, path)
        names = [(s.name, _step_summary(s)) for s in model.symbols.steps.values()
                 if s.name != step.name and (s.name not in listed or s.name == current)]
        kind = _KIND.Class
    elif list_path[:3] == ("ci", "github", "deploy") and list_path[-1:] == ("environments",) or \
            list_path[:2] == ("ci", "github") and list_path[-1:] == ("environment",):
        names = [(name, "environment") for name in model.symbols.environments]
        kind = _KIND.EnumMember
    else:
        return None
    word = _WORD_BEFORE.search(analysis.text, 0, offset)
    start = word.start() if word else offset
    replace = _edit_range(analysis, start, offset)
    return types.CompletionList(is_incomplete=False, items=[
        types.CompletionItem(label=name, kind=kind, detail=detail, sort_text=f"{i:05d}",
                             text_edit=types.TextEdit(replace, name))
        for i, (name, detail) in enumerate(names)])


def _step_summary(step: Any) -> str:
    outputs = ", ".join(f"{o.name}: {o.type}" for o in step.outputs.values())
    return f"step -> {outputs}" if outputs else "step"
