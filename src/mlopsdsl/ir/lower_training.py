"""`distributed:` and `tune:` of a step -> `ir.Distributed` and `ir.Tune` (values the checks accepted)."""

from __future__ import annotations

from typing import Any

from mlopsdsl.check.training import space_kind
from mlopsdsl.ir import training as t
from mlopsdsl.ir.lower import seconds


def lower_distributed(raw: Any, span) -> t.Distributed | None:
    if not isinstance(raw, dict):
        return None
    ray = raw.get("ray") if isinstance(raw.get("ray"), dict) else {}
    options: dict[str, Any] = {}
    if "ttl" in ray:
        options["ttl"] = seconds(ray["ttl"])
    if "submission" in ray:
        options["submission_mode"] = ray["submission"]
    return t.Distributed(framework=raw["framework"], workers=raw["workers"],
                         procs_per_worker=raw.get("procs_per_worker"), ray_version=ray.get("version"),
                         span=span, **options)


def lower_tune(raw: Any, span) -> t.Tune | None:
    if not isinstance(raw, dict):
        return None
    params = []
    for name, space in (raw.get("params") or {}).items():
        kind = space_kind(space)
        if kind == "choice":
            params.append(t.SearchParam(name=name, kind=kind, values=tuple(space[kind])))
        else:
            low, high = space[kind]
            params.append(t.SearchParam(name=name, kind=kind, low=low, high=high, step=space.get("step")))
    objective = raw["objective"]
    output, _, field = objective["metric"].partition(".")
    stopping = raw.get("early_stopping")
    early = t.EarlyStopping(**stopping) if isinstance(stopping, dict) else (t.EarlyStopping() if stopping else None)
    return t.Tune(params=tuple(params), output=output, field=field, goal=objective.get("goal", "maximize"),
                  algorithm=raw.get("algorithm", "tpe"), trials=raw["trials"], parallel=raw.get("parallel", 1),
                  max_failed=raw.get("max_failed"), early_stopping=early, span=span)
