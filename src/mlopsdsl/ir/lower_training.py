"""`distributed:` and `tune:` of a step -> `ir.Distributed` and `ir.Tune` (values the checks accepted)."""

from __future__ import annotations

from typing import Any

from mlopsdsl.check.training import space_kind
from mlopsdsl.ir import training as t
from mlopsdsl.ir.lower_values import seconds
from mlopsdsl.language import setting

_RAY = "pipeline.steps.*.distributed.ray."
_TUNE = "pipeline.steps.*.tune."


def lower_distributed(raw: Any, span) -> t.Distributed | None:
    if not isinstance(raw, dict):
        return None
    ray = raw.get("ray") if isinstance(raw.get("ray"), dict) else {}
    return t.Distributed(framework=raw["framework"], workers=raw["workers"],
                         procs_per_worker=raw.get("procs_per_worker"), ray_version=ray.get("version"),
                         ttl=seconds(setting(ray, _RAY + "ttl")),
                         submission_mode=setting(ray, _RAY + "submission"), span=span)


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
    early = None
    if stopping:
        stopping = stopping if isinstance(stopping, dict) else {}
        early = t.EarlyStopping(**{key: setting(stopping, _TUNE + "early_stopping." + key)
                                   for key in ("min_trials", "start_step")})
    return t.Tune(params=tuple(params), output=output, field=field, goal=setting(objective, _TUNE + "objective.goal"),
                  algorithm=setting(raw, _TUNE + "algorithm"), trials=raw["trials"],
                  parallel=setting(raw, _TUNE + "parallel"),
                  max_failed=raw.get("max_failed"), early_stopping=early,
                  engine=setting(raw, _TUNE + "engine"), span=span)


def lower_volumes(raw: Any, span_of) -> tuple[t.Volume, ...]:
    """`volumes:` (mount path -> source) in the order written; `span_of(path)` gives each entry's span."""
    if not isinstance(raw, dict):
        return ()
    out = []
    for path, source in raw.items():
        kind = next(k for k in ("pvc", "config_map", "secret", "empty_dir") if k in source)
        scratch = source.get("empty_dir") or {}
        out.append(t.Volume(name=volume_name(path), mount_path=path, kind=kind,
                            source=None if kind == "empty_dir" else str(source[kind]),
                            medium=scratch.get("medium"), size=None if scratch.get("size") is None
                            else str(scratch["size"]), span=span_of(path)))
    return tuple(out)


def volume_name(path: str) -> str:
    """The pod volume's name: the mount path as a DNS label (`/dev/shm` -> `dev-shm`)."""
    name = "".join(c if c.isalnum() else "-" for c in path.lower()).strip("-")
    while "--" in name:
        name = name.replace("--", "-")
    return (name or "root")[:63].rstrip("-")
