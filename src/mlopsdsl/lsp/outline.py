"""The outline of a spec: params, data sources, steps with their outputs, serving, alerts, environments."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from mlopsdsl.check.context import value_at
from mlopsdsl.lsp.names import SpecModel
from mlopsdsl.lsp.text import LineIndex
from mlopsdsl.source import Path

_KIND = types.SymbolKind


def outline(model: SpecModel, lines: LineIndex) -> list[types.DocumentSymbol]:
    data = model.data

    def symbol(path: Path, name: str, kind: Any, detail: str = "",
               children: list[types.DocumentSymbol] | None = None) -> types.DocumentSymbol | None:
        info = model.document.index.get(path)
        if info is None:
            return None
        whole = lines.span_range(info.span)
        chosen = lines.span_range(info.key_span) if info.key_span is not None else whole
        if info.key_span is not None:  # the range runs from the key to the end of the value
            whole = types.Range(chosen.start, whole.end)
        return types.DocumentSymbol(name=name or "?", kind=kind, range=whole, selection_range=chosen,
                                    detail=detail or None, children=[c for c in children or [] if c] or None)

    def section(key: str, kind: Any, children: list) -> types.DocumentSymbol | None:
        return symbol((key,), key, kind, children=children) if key in data else None

    params = [symbol(("params", name), name, _KIND.Variable, _param_detail(param))
              for name, param in _mapping(data, ("params",)).items()]
    sources = [symbol(("data", name), name, _KIND.File, str(source.get("uri") or "") if isinstance(source, dict)
                      else "") for name, source in _mapping(data, ("data",)).items()]
    steps = []
    for step in model.symbols.all_steps():
        outputs = [symbol(out.path, out.name, _KIND.Field, out.type) for out in step.outputs.values()
                   if out.path[:len(step.path)] == step.path]
        steps.append(symbol(step.path, step.name, _KIND.Function, _step_detail(step), outputs))
    pipeline = symbol(("pipeline",), "pipeline", _KIND.Module, children=steps) if "pipeline" in data else None
    alerts = []
    for i, alert in enumerate(value_at(data, ("monitoring", "alerts")) or []):
        if isinstance(alert, dict):
            alerts.append(symbol(("monitoring", "alerts", i), str(alert.get("name") or f"alert {i + 1}"),
                                 _KIND.Event, str(alert.get("severity") or "")))
    monitoring = section("monitoring", _KIND.Module, alerts)
    environments = [symbol(("environments", name), name, _KIND.Namespace, str(env.get("namespace") or "")
                           if isinstance(env, dict) else "")
                    for name, env in _mapping(data, ("environments",)).items()]
    if model.is_component:  # a component file: what a step that uses it binds and reads
        inputs = [symbol(("inputs", name), name, _KIND.Variable, _io_detail(decl))
                  for name, decl in _mapping(data, ("inputs",)).items()]
        outputs = [symbol(("outputs", name), name, _KIND.Field, _io_detail(decl))
                   for name, decl in _mapping(data, ("outputs",)).items()]
        found = [section("inputs", _KIND.Namespace, inputs), section("outputs", _KIND.Namespace, outputs)]
        return [s for s in found if s is not None]
    found = [section("params", _KIND.Namespace, params), section("data", _KIND.Namespace, sources), pipeline,
             section("serving", _KIND.Module, []), monitoring,
             section("environments", _KIND.Namespace, environments)]
    return [s for s in found if s is not None]


def _mapping(data: Any, path: Path) -> dict:
    found = value_at(data, path)
    return found if isinstance(found, dict) else {}


def _param_detail(param: Any) -> str:
    if not isinstance(param, dict):
        return ""
    detail = str(param.get("type") or "")
    return f"{detail} = {param['default']}" if "default" in param else detail


def _step_detail(step: Any) -> str:
    if step.is_exit:
        return "on exit"
    uses = step.data.get("uses")
    return f"uses {uses}" if isinstance(uses, str) else str(step.data.get("image") or "")


def _io_detail(decl: Any) -> str:
    return decl if isinstance(decl, str) else str(decl.get("type") or "") if isinstance(decl, dict) else ""
