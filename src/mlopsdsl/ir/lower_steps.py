"""One pipeline step -> `ir.Step`: merged with defaults and its component, every value resolved."""

from __future__ import annotations

from typing import Any

from mlopsdsl.check.symbols import StepDecl
from mlopsdsl.ir import models as m
from mlopsdsl.ir.expr import ListExpr, Lit, SecretRef, Template
from mlopsdsl.ir.lower_values import seconds
from mlopsdsl.ir.lower_expr import constant_text, lit_text, literal, type_name
from mlopsdsl.ir.lower_training import lower_distributed, lower_tune, lower_volumes
from mlopsdsl.language import setting


def step_id(name: str) -> str:
    """A step's task name: its name as a DNS label (lower case, `_` written `-`)."""
    return name.lower().replace("_", "-")


def lower_step(low, step: StepDecl) -> m.Step:
    data, base = step.data, step.path
    graph = low.checked.graph
    depends = sorted(graph.predecessors(step.name)) if step.name in graph else []
    low.folded_data = set()
    command, inputs = tuple(_command(low, step)), tuple(_inputs(low, step))
    env = tuple(lower_env(low, base + ("env",), data.get("env") or {}))
    return m.Step(
        name=step.name, id=step_id(step.name), description=str(data.get("description") or ""),
        image=low.plain(base + ("image",), data.get("image", "")),
        command=command, inputs=inputs, data_uris=tuple(sorted(low.folded_data)),
        outputs=tuple(m.Output(name=o.name, type=o.type, fields=dict(o.fields), description=o.description)
                      for o in step.outputs.values()),
        when=low.expr(base + ("when",)) if "when" in data else None,
        after=tuple(a for a in data.get("after") or () if isinstance(a, str)), depends_on=tuple(depends),
        for_each=_for_each(low, step), retry=_retry(data.get("retries")),
        timeout=seconds(data.get("timeout")), cache=bool(setting(data, "pipeline.steps.*.cache")),
        env=env, resources=lower_resources(data.get("resources")),
        node_selector={str(k): str(v) for k, v in (data.get("node_selector") or {}).items()},
        pod_labels={str(k): str(v) for k, v in (data.get("pod_labels") or {}).items()},
        tolerations=tuple(data.get("tolerations") or ()),
        component=data.get("uses") if isinstance(data.get("uses"), str) else None,
        distributed=lower_distributed(data.get("distributed"), _span_of(low, base, "distributed", data)),
        tune=lower_tune(data.get("tune"), _span_of(low, base, "tune", data)),
        volumes=lower_volumes(data.get("volumes"), lambda path: low.span(base + ("volumes", path))),
        span=low.span(base))


def _span_of(low, base, key: str, data: dict[str, Any]):
    return low.span(base + (key,)) if key in data else None


def _command(low, step: StepDecl) -> list[Any]:
    run = step.data.get("run")
    out = []
    for i, arg in enumerate(run if isinstance(run, list) else []):
        lowered = low.text(step.path + ("run", i), arg)
        if isinstance(lowered, (str, Template)):
            out.append(lowered)
        elif hasattr(lowered, "kind") and constant_text(lowered) is not None:  # `${{ [1, 2] }}` alone
            out.append(constant_text(lowered))
        elif hasattr(lowered, "kind"):  # `${{ params.lr }}` alone: a run-time value, one part of text
            out.append(Template(parts=(lowered,)))
        else:
            out.append(lit_text(literal(lowered)))
    return out


def _inputs(low, step: StepDecl) -> list[m.Input]:
    raw_inputs = dict(step.data.get("inputs") or {})
    raw_params = dict(step.data.get("params") or {})
    types = low.checked.exprs.input_types.get(step.name, {})
    out = []
    names = list(step.component.inputs) if step.component is not None else list(raw_inputs)
    for name in names:
        if name in raw_inputs:
            path, raw = step.path + ("inputs", name), raw_inputs[name]
        elif name in raw_params:
            path, raw = step.path + ("params", name), raw_params[name]
        else:
            decl = step.component.inputs[name]
            if decl.default is None:
                continue  # optional and not given: the component runs without it
            path, raw = None, decl.default
        lowered = low.value(path, raw) if path is not None else raw
        if isinstance(lowered, Template):
            lowered = Lit(value=low.plain(path, raw), type="str")
        elif isinstance(lowered, str) or not hasattr(lowered, "kind"):
            lowered = literal(lowered)
        elif isinstance(lowered, ListExpr) and all(isinstance(i, Lit) for i in lowered.items):
            lowered = Lit(value=[i.value for i in lowered.items], type=lowered.type)  # a constant: one literal
        out.append(m.Input(name=name, type=type_name(types[name]) if name in types else lowered.type,
                           source=lowered))
    return out


def _for_each(low, step: StepDecl) -> m.ForEach | None:
    raw = step.data.get("for_each")
    if raw is None:
        return None
    if isinstance(raw, list):
        # the type the checker gave the list (`[1, 2.5]` is list[float]), never one read off an item
        kind = low.checked.exprs.loop_types.get(step.name)
        items = ListExpr(items=tuple(literal(v) for v in raw), type=type_name(kind) if kind else "list[unknown]")
    else:
        items = low.expr(step.path + ("for_each",))
    parallelism = step.data.get("parallelism")
    return m.ForEach(items=items, parallelism=parallelism if isinstance(parallelism, int) else None)


def _retry(raw: Any) -> m.Retry | None:
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return m.Retry(count=raw) if raw > 0 else None
    if isinstance(raw, dict) and raw.get("count", 0) > 0:
        return m.Retry(count=raw["count"], backoff=seconds(raw.get("backoff")),
                       max_backoff=seconds(raw.get("max_backoff")),
                       factor=float(raw["factor"]) if raw.get("factor") is not None else None)
    return None


def lower_env(low, base, env: dict[str, Any]) -> list[m.EnvVar]:
    out = []
    for name, raw in env.items():
        lowered = low.value(base + (name,), raw)
        if isinstance(lowered, SecretRef):
            out.append(m.EnvVar(name=name, secret=lowered.name, secret_key=lowered.key))
        elif isinstance(lowered, (str, Template)):
            out.append(m.EnvVar(name=name, value=lowered))
        elif constant_text(lowered) is not None:  # `${{ 2.5 }}`, `${{ [1, 2] }}`: known now, plain text
            out.append(m.EnvVar(name=name, value=constant_text(lowered)))
        elif hasattr(lowered, "kind"):  # a whole-value expression: spliced as text
            out.append(m.EnvVar(name=name, value=Template(parts=(lowered,))))
        else:
            out.append(m.EnvVar(name=name, value=lit_text(literal(lowered))))
    return out


def lower_resources(raw: Any) -> m.Resources:
    if not isinstance(raw, dict):
        return m.Resources()
    limits = raw.get("limits") if isinstance(raw.get("limits"), dict) else {}
    gpu = raw.get("gpu")
    count, kind = (gpu.get("count", 1), gpu.get("type")) if isinstance(gpu, dict) else (gpu or 0, None)
    return m.Resources(cpu=_quantity(raw.get("cpu")), memory=_quantity(raw.get("memory")),
                       cpu_limit=_quantity(limits.get("cpu")), memory_limit=_quantity(limits.get("memory")),
                       gpu=int(count), gpu_type=kind)


def _quantity(value: Any) -> str | None:
    return None if value is None else str(value)
