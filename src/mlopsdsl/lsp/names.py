"""The names a spec defines, where each is defined, and which are in scope at a place.

Everything comes from the checker: the symbol table (`check.symbols.build`), the
global names with their types (`check.exprs.global_names`), a step's own names
(`check.exprs.step_locals`) and the built-in ones (`expr.contexts.BUILTINS`). When
the spec passed its schema the checked run's table is reused as it is; when it
did not (a step half written), the same functions run on the data as it stands,
so completion keeps working while the spec is still wrong.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from typing import Any

from mlopsdsl.check.context import CheckContext, value_at
from mlopsdsl.check.exprs import global_names, literal_type, step_locals
from mlopsdsl.check.symbols import StepDecl, Symbols, input_decls, output_decls
from mlopsdsl.expr import ast
from mlopsdsl.expr import contexts
from mlopsdsl.expr import types as t
from mlopsdsl.expr.parser import parse_expression
from mlopsdsl.expr.template import split
from mlopsdsl.loader import Document
from mlopsdsl.source import Path, Span

log = logging.getLogger(__name__)
_SECRET = re.compile(r"\bsecrets\.([A-Za-z_][\w-]*)")

Parts = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Site:
    """Where a name is defined: a file and the span of its key (or value)."""

    file: str
    span: Span


class NameTable:
    """Names with their types, and the names one level below each prefix."""

    def __init__(self, names: dict[Parts, t.Type]) -> None:
        self.names = names
        self._below: dict[Parts, dict[str, None]] = {}
        for parts in names:
            for k in range(len(parts)):
                self._below.setdefault(parts[:k], {})[parts[k]] = None

    def below(self, prefix: Parts) -> list[str]:
        return list(self._below.get(prefix, ()))

    def type_of(self, parts: Parts) -> t.Type | None:
        found = self.names.get(parts)
        if found is None and len(parts) > 1:  # a metrics field lives in its output's type
            owner = self.names.get(parts[:-1])
            found = owner.field(parts[-1]) if owner is not None else None
        return found


def show_type(kind: t.Type | None) -> str:
    if kind is None:
        return ""
    if kind.fields:
        return f"{kind} {{{', '.join(f'{n}: {f}' for n, f in kind.fields)}}}"
    return str(kind)


@dataclass
class SpecModel:
    """What one spec (or component) buffer defines."""

    path: str
    document: Document
    symbols: Symbols
    globals: dict[Parts, t.Type]
    checked: Any = None  # the CheckedSpec, when the spec passed its schema
    is_component: bool = False
    ctx: CheckContext | None = None
    _tables: dict[Any, NameTable] = field(default_factory=dict, repr=False)
    _secrets: list[str] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, analysis: Any) -> "SpecModel":
        return cls.of_document(analysis.path, analysis.document, checked=analysis.result.checked,
                               buffers=analysis.result.buffers, is_component=analysis.is_component)

    @classmethod
    def of_document(cls, path: str, document: Document, *, checked: Any = None,
                    buffers: Any = None, is_component: bool = False) -> "SpecModel":
        if is_component:
            return cls(path, document, Symbols(), {}, None, True)
        if checked is not None:
            return cls(path, document, checked.symbols, global_names(checked.ctx, checked.symbols), checked,
                       ctx=checked.ctx)
        ctx = CheckContext(document.data, document.index, document.source, buffers=buffers)
        ctx.spec_dir = os.path.dirname(path) or "."
        try:
            from mlopsdsl.check.components import load_components
            from mlopsdsl.check.symbols import build

            symbols = build(ctx, load_components(ctx))
            names = global_names(ctx, symbols)
        except Exception:  # noqa: BLE001 - data the schema has not vetted: fewer names, never a failure
            log.exception("names of a spec that does not pass its schema")
            symbols, names = Symbols(), {}
        return cls(path, document, symbols, names, ctx=ctx)

    @property
    def data(self) -> dict[str, Any]:
        return self.document.data

    # --- scopes --------------------------------------------------------------------------
    def step_at(self, path: Path) -> StepDecl | None:
        if path[:2] == ("pipeline", "steps") and len(path) >= 3:
            return self.symbols.steps.get(path[2])  # type: ignore[arg-type]
        if path[:2] == ("pipeline", "on_exit"):
            return self.symbols.exit_step
        return None

    def scope_at(self, path: Path) -> NameTable:
        """Every name an expression at `path` could mean, global, local and built in."""
        step = self.step_at(path)
        key = step.name if step is not None else None
        table = self._tables.get(key)
        if table is None:
            names = dict(self.globals)
            names.update(contexts.BUILTINS)
            if self.is_component:
                names.update(self._component_names())
            elif step is not None:
                names.update(self.local_names(step))
            table = self._tables[key] = NameTable(names)
        return table

    def local_names(self, step: StepDecl) -> dict[Parts, t.Type]:
        """What a step's own `when` and `run` see besides the spec's names (the checker's `step_locals`)."""
        names = step_locals(self._input_types(step), step.outputs)
        if "for_each" in step.data:  # `item` exists only in a step that fans out
            names[("item",)] = self._item_type(step)
        return names

    def _input_types(self, step: StepDecl) -> dict[str, t.Type]:
        if self.checked is not None and step.name in self.checked.exprs.input_types:
            return self.checked.exprs.input_types[step.name]
        if step.component is not None:
            return {n: t.from_name(d.type) or t.UNKNOWN for n, d in step.component.inputs.items()}
        raw = step.data.get("inputs")
        return {n: self.type_of_value(v) for n, v in raw.items()} if isinstance(raw, dict) else {}

    def _item_type(self, step: StepDecl) -> t.Type:
        record = self.checked.exprs.steps.get(step.name) if self.checked is not None else None
        for path in record.paths if record is not None else ():  # the checker's, where it checked the step
            local = self.checked.exprs.by_path[path].scope.local
            found = local.resolve(("item",)) if local is not None else None
            if isinstance(found, t.Type):
                return found
        each = step.data.get("for_each")
        if isinstance(each, list) and each:
            return literal_type(each[0])
        kind = self.type_of_value(each)
        return (kind.elem or t.UNKNOWN) if kind.name == "list" else t.UNKNOWN

    def type_of_value(self, value: Any) -> t.Type:
        """The type of a written value: a literal's, or a lone `${{ name }}`'s (others: unknown)."""
        if not isinstance(value, str) or "${{" not in value:
            return literal_type(value)
        parts, _ = split(value)
        if len(parts) != 1 or isinstance(parts[0], str):
            return t.UNKNOWN
        _, base, close = parts[0]
        node = parse_expression(value[base:close - 2])
        if isinstance(node, ast.Name):
            return self.globals.get(node.parts) or t.UNKNOWN
        return t.UNKNOWN

    def _component_names(self) -> dict[Parts, t.Type]:
        """A component file's own `inputs.X` and `outputs.X.path|uri` (params and metadata are the caller's)."""
        data = self.data
        inputs = {n: t.from_name(d.type) or t.UNKNOWN for n, d in input_decls(data.get("inputs")).items()}
        return step_locals(inputs, output_decls(data.get("outputs"), ("outputs",)))

    def secret_names(self) -> list[str]:
        """The secrets the spec already names (`secrets.*` is free: any name the cluster holds)."""
        if self._secrets is None:
            found: dict[str, None] = {}
            for _, value, _ in (self.ctx.strings() if self.ctx is not None else []):
                if "secrets." in value:
                    found.update(dict.fromkeys(_SECRET.findall(value)))
            self._secrets = list(found)
        return self._secrets

    # --- definitions ---------------------------------------------------------------------
    def site(self, path: Path, document: Document | None = None, *, key: bool = True) -> Site | None:
        document = document or self.document
        info = document.index.get(path)
        if info is None:
            return None
        span = info.key_span if key and info.key_span is not None else info.span
        return Site(os.path.abspath(document.source.path), span)

    def definition(self, parts: Parts, at: Path = ()) -> Site | None:
        """Where the name `parts`, written at document path `at`, is defined."""
        root = parts[0]
        if root in ("params", "data", "metadata", "model") and len(parts) >= 2:
            return self.site((root, parts[1]))
        if root == "steps" and len(parts) >= 2:
            step = self.symbols.steps.get(parts[1])
            if step is None:
                return None
            if len(parts) >= 4 and parts[2] == "outputs":
                return self._output_site(step, parts[3], parts[4] if len(parts) > 4 else None)
            return self.site(step.path)
        if root in ("inputs", "outputs") and len(parts) >= 2:
            if self.is_component:
                return self.site((root, parts[1]))
            step = self.step_at(at)
            if step is None:
                return None
            if root == "outputs":
                return self._output_site(step, parts[1], None)
            return self.site(step.path + ("inputs", parts[1])) or (
                self.site(("inputs", parts[1]), step.component.document) if step.component else None)
        if root == "item":
            step = self.step_at(at)
            return self.site(step.path + ("for_each",)) if step is not None else None
        if parts[:2] == ("drift", "score") and len(parts) == 3:
            features = value_at(self.data, ("monitoring", "drift", "features"))
            if isinstance(features, list) and parts[2] in features:
                return self.site(("monitoring", "drift", "features", features.index(parts[2])), key=False)
        return None

    def _output_site(self, step: StepDecl, name: str, field_name: str | None) -> Site | None:
        out = step.outputs.get(name)
        if out is None:
            return None
        in_spec = isinstance(step.data.get("outputs"), dict) and name in step.data["outputs"]
        document = self.document if in_spec or step.component is None else step.component.document
        if field_name is not None:
            found = self.site(out.path + ("fields", field_name), document)
            if found is not None:
                return found
        return self.site(out.path, document)


def describe(model: SpecModel, parts: Parts) -> str:
    """Markdown: what a name is, from the spec (a param's description and default, an output's) or the
    language (what a built-in measures)."""
    root = parts[0]
    lines: list[str] = []
    if root == "params" and len(parts) == 2:
        param = model.symbols.params.get(parts[1]) or {}
        facts = [f"default `{param['default']}`"] if "default" in param else []
        facts += [f"{k} `{param[k]}`" for k in ("min", "max") if k in param]
        if param.get("choices"):
            facts.append("choices " + ", ".join(f"`{c}`" for c in param["choices"]))
        lines += [str(param["description"])] if param.get("description") else []
        lines += ["; ".join(facts)] if facts else []
    elif root == "data" and len(parts) >= 2:
        source = model.symbols.data.get(parts[1]) or {}
        lines += [f"`{source['uri']}`"] if source.get("uri") else []
        lines += [str(source["description"])] if source.get("description") else []
    elif root == "steps" and len(parts) >= 4:
        step = model.symbols.steps.get(parts[1])
        out = step.outputs.get(parts[3]) if step is not None else None
        if out is not None:
            lines.append(f"output `{out.name}` of step `{step.name}`" + (f": {out.description}" if out.description
                                                                            else ""))
    else:
        meaning = contexts.MEANINGS.get(parts) or contexts.MEANINGS.get(parts[:-1] + ("*",))
        lines += [meaning] if meaning else []
    return "\n\n".join(lines)
