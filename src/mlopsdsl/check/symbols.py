"""The names a spec defines: params, data, steps with their typed outputs, environments.

Built once per checked spec; every reference check and the lowering look names
up here. A step that `uses` a component is merged with it first, so a step is
a step wherever it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlopsdsl.check.context import CheckContext
from mlopsdsl.language import INHERITED, STEP_FIELDS
from mlopsdsl.source import Path

# `defaults:` and a component merge into these key by key (a step's own `gpu:` keeps the default cpu).
MERGED_BY_KEY = tuple(key for key in INHERITED if STEP_FIELDS[key].merge)


TRIALS = "trials"  # the output every tuned step has: the search's trials


@dataclass
class OutputDecl:
    name: str
    type: str
    fields: dict[str, str]
    description: str
    path: Path  # where it is declared (in the spec, or the component file)
    implicit: bool = False  # made by the language (a tuned step's `trials`), not declared by the author


@dataclass
class InputDecl:
    """A component's declared input: its type, and whether the call site must bind it."""

    name: str
    type: str
    default: Any = None
    optional: bool = False
    description: str = ""


@dataclass
class StepDecl:
    name: str
    path: Path  # ("pipeline", "steps", NAME) or ("pipeline", "on_exit")
    data: dict[str, Any]  # the step as written, merged with defaults and its component
    outputs: dict[str, OutputDecl]
    component: Any = None  # a `components.Component` when the step `uses` one
    is_exit: bool = False
    # Where each inherited value of `data` is written: ("env", "TOKEN") -> "defaults" | "component" | "step"
    # (`(key,)` for a field taken whole). An expression is checked, and its result found, where it is written.
    origins: dict[tuple[str, ...], str] = field(default_factory=dict)

    @property
    def when(self) -> Any:
        return self.data.get("when")

    @property
    def conditional(self) -> bool:
        return self.data.get("when") is not None


@dataclass
class Symbols:
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: dict[str, StepDecl] = field(default_factory=dict)  # spec order
    exit_step: StepDecl | None = None
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)

    def all_steps(self) -> list[StepDecl]:
        return list(self.steps.values()) + ([self.exit_step] if self.exit_step else [])


def output_decls(outputs: Any, base: Path) -> dict[str, OutputDecl]:
    """`outputs:` in either form: ``{model: Model}`` or ``{metrics: {type: Metrics, fields: {...}}}``."""
    decls: dict[str, OutputDecl] = {}
    if not isinstance(outputs, dict):
        return decls
    for name, spec in outputs.items():
        if isinstance(spec, str):
            decls[name] = OutputDecl(name, spec, {}, "", base + (name,))
        elif isinstance(spec, dict) and isinstance(spec.get("type"), str):
            fields = spec.get("fields") if isinstance(spec.get("fields"), dict) else {}
            decls[name] = OutputDecl(name, spec["type"], dict(fields), str(spec.get("description") or ""),
                                     base + (name,))
    return decls


def input_decls(inputs: Any) -> dict[str, InputDecl]:
    """A component's `inputs:` declarations (``{model: Model}`` or ``{lr: {type: float, default: 0.1}}``)."""
    decls: dict[str, InputDecl] = {}
    if not isinstance(inputs, dict):
        return decls
    for name, spec in inputs.items():
        if isinstance(spec, str):
            decls[name] = InputDecl(name, spec)
        elif isinstance(spec, dict) and isinstance(spec.get("type"), str):
            decls[name] = InputDecl(name, spec["type"], spec.get("default"),
                                    bool(spec.get("optional")) or "default" in spec,
                                    str(spec.get("description") or ""))
    return decls


def merge_defaults(step: dict[str, Any], defaults: dict[str, Any],
                   component: dict[str, Any] | None) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """Step fields win over the component's, which win over `defaults:`: the merged step, and where
    each inherited value came from (see `StepDecl.origins`).

    `env` merges by variable name at each level, since a default LOG_LEVEL and a
    step's own API key are both wanted; `resources` merges by key, so a step that
    adds `gpu: 1` keeps the defaults' cpu and memory requests instead of none.
    """
    merged = dict(step)
    origins: dict[tuple[str, ...], str] = {}
    named = (("defaults", defaults), ("component", component or {}), ("step", step))
    for key in INHERITED + (("run",) if component else ()):
        layers = [(origin, layer[key]) for origin, layer in named if key in layer]
        if not layers:
            continue
        if key in MERGED_BY_KEY and all(isinstance(layer, dict) for _, layer in layers):
            merged[key] = {name: value for _, layer in layers for name, value in layer.items()}
            origins.update({(key, name): origin for origin, layer in layers for name in layer})
        else:
            origins[(key,)], merged[key] = layers[-1]
    return merged, origins


def build(ctx: CheckContext, components: dict[str, Any]) -> Symbols:
    """`components` maps a step's `uses` value to its loaded Component (or None when it failed)."""
    symbols = Symbols(
        params={k: v for k, v in ctx.section("params").items() if isinstance(v, dict)},
        data={k: v for k, v in ctx.section("data").items() if isinstance(v, dict)},
        environments={k: (v if isinstance(v, dict) else {}) for k, v in ctx.section("environments").items()},
    )
    defaults = ctx.section("defaults")
    pipeline = ctx.section("pipeline")
    steps = pipeline.get("steps") if isinstance(pipeline.get("steps"), dict) else {}
    previous = _reusable(ctx)
    for name, raw in steps.items():
        if not isinstance(raw, dict):
            continue
        old = previous.get(name)
        if old is not None and old[0] is raw and old[1].component is _component(raw, components):
            symbols.steps[name] = old[1]  # as written in the base spec, with its defaults and component
        else:
            symbols.steps[name] = _declare(name, ("pipeline", "steps", name), raw, defaults, components)
    on_exit = pipeline.get("on_exit")
    if isinstance(on_exit, dict):
        symbols.exit_step = _declare("on-exit", ("pipeline", "on_exit"), on_exit, defaults, components)
        symbols.exit_step.is_exit = True
    return symbols


def _reusable(ctx: CheckContext) -> dict[str, tuple[Any, StepDecl]]:
    """A variant checked after its base, with the base's `defaults:`: step name -> (the step as the
    base spec wrote it, its declaration), which this variant shares where it shares the step."""
    base = ctx.base
    if base is None or ctx.data.get("defaults") is not base.data.get("defaults"):
        return {}
    steps = (base.data.get("pipeline") or {}).get("steps")
    return {name: (steps.get(name), decl) for name, decl in base.symbols.steps.items()} if isinstance(steps, dict) \
        else {}


def _component(raw: dict[str, Any], components: dict[str, Any]) -> Any:
    return components.get(raw["uses"]) if isinstance(raw.get("uses"), str) else None


def _declare(name: str, path: Path, raw: dict[str, Any], defaults: dict[str, Any],
             components: dict[str, Any]) -> StepDecl:
    component = _component(raw, components)
    merged, origins = merge_defaults(raw, defaults, component.data if component else None)
    outputs = dict(component.outputs) if component else {}
    outputs.update(output_decls(raw.get("outputs"), path + ("outputs",)))
    if isinstance(merged.get("tune"), dict) and TRIALS not in outputs:
        outputs[TRIALS] = OutputDecl(TRIALS, "str", {}, "Every trial of the search: parameters, metrics and state, "
                                     "as a JSON list.", path + ("tune",), implicit=True)
    return StepDecl(name, path, merged, outputs, component, origins=origins)
