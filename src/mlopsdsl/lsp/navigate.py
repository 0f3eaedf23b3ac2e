"""Hover, go to definition and find references, over one notion of a symbol.

A symbol is a canonical name path: `("params", "lr")`, `("data", "raw")`,
`("steps", "train")`, `("steps", "train", "outputs", "model")` (also what
`outputs.model` means inside `train`), `("steps", "train", "outputs", "metrics",
"accuracy")`, `("steps", "register", "inputs", "model")` (what `inputs.model` means
inside `register`), `("environments", "prod")`, `("drift", "score", "age")`. The
cursor may be on a reference (a name inside `${{ }}`, a step in `after:`, an
environment named by CI, a `set:` key) or on the declaration itself (a step's
key): both lead to the same symbol, so definition and references agree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterator

from mlopsdsl.check.context import value_at
from mlopsdsl.expr import ast
from mlopsdsl.expr.template import parse_value
from mlopsdsl.lsp import schema_paths
from mlopsdsl.lsp.locate import Place, expression_context, name_at, place_at, set_target
from mlopsdsl.lsp.names import Site, SpecModel, describe, show_type
from mlopsdsl.lsp.text import LineIndex
from mlopsdsl.source import Path, Span

Parts = tuple[str, ...]


@dataclass(frozen=True)
class Target:
    symbol: Parts | None  # the canonical symbol, or None for names that are not declared (serving.*)
    written: Parts  # as written at the cursor (`inputs.model`), for types and hover
    place: Place
    span: Span | None  # the reference under the cursor
    set_path: Path | None = None  # on a `set:` key: the document path it replaces


def canonical(parts: Parts, at: Path, model: SpecModel) -> Parts | None:
    """The symbol a name written at document path `at` stands for."""
    root = parts[0]
    if root in ("params", "data") and len(parts) >= 2:
        return parts[:2]
    if root == "steps" and len(parts) >= 2:
        return parts[:5]
    if root in ("inputs", "outputs") and len(parts) >= 2:
        step = model.step_at(at)
        if step is None:
            return (root, parts[1]) if model.is_component else None
        return ("steps", step.name, root, parts[1]) + (parts[2:3] if root == "outputs" and _is_field(model, step, parts)
                                                       else ())
    if parts[:2] == ("drift", "score") and len(parts) == 3:
        return parts
    return None


def _is_field(model: SpecModel, step: Any, parts: Parts) -> bool:
    out = step.outputs.get(parts[1])
    return out is not None and len(parts) > 2 and parts[2] in out.fields


def target_at(model: SpecModel, lines: LineIndex, offset: int) -> Target | None:
    document = model.document
    place = place_at(document, lines, offset)
    if place is None:
        return None
    path = place.path
    found = name_at(document, lines, place, offset)
    if found is not None:
        written = found.node.parts[:found.part + 1]
        span = found.parsed.node_span(found.expression, found.node, found.node.prefix_end(found.part + 1))
        return Target(canonical(written, path, model), written, place, span)
    value = value_at(document.data, path)
    if place.on_key:
        return _declaration(model, place)
    if isinstance(path[-1], int) and path[-2:-1] == ("after",) and isinstance(value, str):
        return Target(("steps", value), ("steps", value), place, place.info.span)
    if path[:3] == ("monitoring", "drift", "features") and isinstance(value, str):
        return Target(("drift", "score", value), ("drift", "score", value), place, place.info.span)
    if isinstance(value, str) and _names_environment(path):
        return Target(("environments", value), ("environments", value), place, place.info.span)
    return None


def _names_environment(path: Path) -> bool:
    return path[:2] == ("ci", "github") and (path[-1] == "environment" or path[-2:-1] == ("environments",))


def _declaration(model: SpecModel, place: Place) -> Target | None:
    """The cursor on a key: the symbol it declares, or the path a `set:` key replaces."""
    path, span = place.path, place.info.key_span
    symbol: Parts | None = None
    if len(path) == 2 and path[0] in ("params", "data", "environments"):
        symbol = path  # type: ignore[assignment]
    elif path[:2] == ("pipeline", "steps") and len(path) >= 3:
        step = path[2]
        if len(path) == 3:
            symbol = ("steps", step)
        elif len(path) == 5 and path[3] in ("outputs", "inputs"):
            symbol = ("steps", step, path[3], path[4])
        elif len(path) == 7 and path[3] == "outputs" and path[5] == "fields":
            symbol = ("steps", step, "outputs", path[4], path[6])
    elif len(path) == 4 and path[0] == "environments" and path[2] == "set" and isinstance(path[3], str):
        return Target(None, (), place, span, set_path=set_target(path[3]))
    if symbol is None:
        return None
    return Target(tuple(str(p) for p in symbol), (), place, span)


# --- definition --------------------------------------------------------------------------------

def definition(model: SpecModel, target: Target) -> Site | None:
    if target.set_path is not None:
        return model.site(target.set_path)
    if target.symbol is None:  # `item`: its loop's `for_each`
        return model.definition(target.written, target.place.path) if target.written[:1] == ("item",) else None
    return symbol_site(model, target.symbol)


def symbol_site(model: SpecModel, symbol: Parts) -> Site | None:
    """Where a symbol is declared."""
    if symbol[0] == "environments":
        return model.site(symbol)
    if symbol[0] == "steps" and len(symbol) == 4 and symbol[2] == "inputs":
        step = model.symbols.steps.get(symbol[1])
        if step is None:
            return None
        return model.site(step.path + ("inputs", symbol[3])) or (
            model.site(("inputs", symbol[3]), step.component.document) if step.component else None)
    return model.definition(symbol)


# --- references --------------------------------------------------------------------------------

def references(model: SpecModel, symbol: Parts, *, declaration: bool) -> list[Site]:
    found: list[Site] = []
    if declaration:
        site = symbol_site(model, symbol)
        if site is not None:
            found.append(site)
    for parsed, expression, node, at in _names(model):
        canon = canonical(node.parts, at, model)
        if canon is None or canon[:len(symbol)] != symbol:
            continue
        # `inputs.X`/`outputs.X` in a step write two parts fewer than their symbol (`steps.S.` is implied)
        written = len(symbol) - (2 if node.parts[0] in ("inputs", "outputs") and canon[0] == "steps" else 0)
        if written < 1:
            continue
        span = parsed.node_span(expression, node, node.prefix_end(written))
        found.append(Site(os.path.abspath(span.file), span))
    if symbol[0] == "steps" and len(symbol) == 2:
        for step in model.symbols.all_steps():
            after = value_at(model.data, step.path + ("after",))
            for i, name in enumerate(after if isinstance(after, list) else []):
                if name == symbol[1]:
                    found.append(model.site(step.path + ("after", i), key=False))  # type: ignore[arg-type]
    declared = _declared_path(model, symbol)
    if declared is not None:
        for env, settings in model.symbols.environments.items():
            for key in (settings.get("set") or {}) if isinstance(settings.get("set"), dict) else {}:
                if set_target(str(key))[:len(declared)] == declared:
                    found.append(model.site(("environments", env, "set", key)))  # type: ignore[arg-type]
    if symbol[0] == "environments":
        for path, _ in model.document.index.items():
            if _names_environment(path) and value_at(model.data, path) == symbol[1]:
                found.append(model.site(path, key=False))  # type: ignore[arg-type]
    return _unique(s for s in found if s is not None)


def _declared_path(model: SpecModel, symbol: Parts) -> Path | None:
    if symbol[0] in ("params", "data"):
        return symbol
    if symbol[0] == "steps":
        step = model.symbols.steps.get(symbol[1])
        return step.path + symbol[2:] if step is not None else None
    return None


def _names(model: SpecModel) -> Iterator[tuple[Any, Any, ast.Name, Path]]:
    """Every name in every expression of the spec: (parsed value, expression, name, its path)."""
    checked = model.checked
    if checked is not None:
        values = ((path, c.parsed) for path, c in checked.exprs.by_path.items())
    else:
        values = _parse_all(model)
    seen: set[int] = set()
    for path, parsed in values:
        # A value steps take from `defaults:` is one text, kept under each step's path too: once is enough.
        if id(parsed) in seen:
            continue
        seen.add(id(parsed))
        for expression in parsed.expressions:
            if expression.node is not None:
                for node in ast.names(expression.node):
                    yield parsed, expression, node, path


def _parse_all(model: SpecModel):
    for path, value, _ in (model.ctx.strings() if model.ctx is not None else []):
        info = model.document.index.get(path)
        if "${{" in value and info is not None:
            yield path, parse_value(value, info, model.document.source.text, path)[0]


def _unique(sites: Any) -> list[Site]:
    return list(dict.fromkeys(sites))


# --- hover -------------------------------------------------------------------------------------

def hover(model: SpecModel, target: Target) -> str | None:
    """Markdown: the name, its type, what it is, where it is defined."""
    if target.set_path is not None:
        node = schema_paths.at(target.set_path)
        current = value_at(model.data, target.set_path)
        lines = [f"`{'.'.join(str(p) for p in target.set_path)}`" + (f": {schema_paths.label(node)}" if node else "")]
        if node:
            lines.append(schema_paths.description(node))
        lines.append(f"replaces `{current}`" if current is not None else "not set in the spec: this adds it")
        return "\n\n".join(x for x in lines if x)
    written = target.written or _as_written(target.symbol)
    context_path = expression_context(target.place.path, component=model.is_component)[1]
    kind = model.scope_at(context_path).type_of(written) if written else None
    head = "`" + ".".join(written) + "`" + (f": {show_type(kind)}" if kind is not None else "")
    lines = [head]
    about = describe(model, written) if written and kind is not None else _about(model, target.symbol)
    if about:
        lines.append(about)
    site = definition(model, target)
    if site is not None:
        where = os.path.basename(site.file)
        lines.append(f"defined at {where}:{site.span.line}:{site.span.col}")
    return "\n\n".join(lines)


def _as_written(symbol: Parts | None) -> Parts:
    if symbol is None or symbol[0] == "environments" or (symbol[0] == "steps" and symbol[2:3] == ("inputs",)):
        return ()
    return symbol


def _about(model: SpecModel, symbol: Parts | None) -> str:
    if symbol is None:
        return ""
    if symbol[0] == "steps" and len(symbol) == 2:
        step = model.symbols.steps.get(symbol[1])
        if step is None:
            return ""
        outputs = ", ".join(f"`{o.name}`: {o.type}" for o in step.outputs.values()) or "none"
        lines = [f"step `{step.name}`", f"outputs: {outputs}"]
        if step.component is not None:
            lines.append(f"uses `{step.data.get('uses')}`")
        elif step.data.get("image"):
            lines.append(f"image `{step.data['image']}`")
        return "\n\n".join(lines)
    if symbol[0] == "steps" and symbol[2:3] == ("inputs",):
        return f"input `{symbol[3]}` of step `{symbol[1]}`"
    if symbol[0] == "environments":
        env = model.symbols.environments.get(symbol[1]) or {}
        facts = [f"{k} `{env[k]}`" for k in ("namespace", "kfp_host", "url") if env.get(k)]
        return f"environment `{symbol[1]}`" + (": " + ", ".join(facts) if facts else "")
    return ""
