"""Environments: the `set:` overlay, and every place that names an environment.

`--env NAME` compiles the spec with `environments.NAME.set` applied: each key
is a dotted path into the spec (`serving.replicas.min`, `pipeline.steps.train.
resources.memory`, `serving.variants.0.weight`) and its value replaces what is
there; `null` removes the field (`pipeline.steps.train.tune: null`). The overlaid spec then goes through the schema and every check again,
with an `OverlayIndex` that reports an overridden value at its `set` entry.
"""

from __future__ import annotations

import copy
from typing import Any

from mlopsdsl.check.context import CheckContext, did_you_mean, known
from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.source import Path, SourceIndex

# Sections an environment may override: everything but identity and environments themselves.
SETTABLE = ("metadata", "model", "tracking", "params", "data", "defaults", "pipeline", "serving", "monitoring",
            "ci")
FIXED = ("metadata.name",)


def apply_overlay(data: dict[str, Any], index: SourceIndex, env_name: str
                  ) -> tuple[dict[str, Any], dict[Path, Path], list[Diagnostic]]:
    """The spec with one environment's `set:` applied, and where each override came from."""
    # Copy on write: only the containers along an override's path are copied, so the base
    # spec stays as it is and a 1,000-step spec is not deep-copied for a one-line override.
    result = dict(data)
    copied = {id(result)}
    overrides: dict[Path, Path] = {}
    problems: list[Diagnostic] = []
    env = (data.get("environments") or {}).get(env_name) or {}
    settings = env.get("set") if isinstance(env, dict) else None
    if not isinstance(settings, dict):
        return result, overrides, problems
    for dotted, value in settings.items():
        origin = ("environments", env_name, "set", dotted)

        def fail(message: str, hint: str | None = None) -> None:
            problems.append(Diagnostic(codes.SET_PATH_INVALID, message, index.span(origin, key=True), origin,
                                       hint=hint))

        parts = dotted.split(".")
        if parts[0] not in SETTABLE or dotted in FIXED or any(not p for p in parts):
            fail(f"'{dotted}' cannot be set by an environment",
                 did_you_mean(parts[0], SETTABLE) or f"settable sections: {', '.join(SETTABLE)}")
            continue
        target = _place(result, parts, fail, copied)
        if target is None:
            continue
        container, path = target
        if value is None and isinstance(container, dict):
            container.pop(path[-1], None)  # `null` removes the field: back to its default
            continue
        container[path[-1]] = copy.deepcopy(value)
        overrides[path] = origin
    return result, overrides, problems


def _place(root: dict[str, Any], parts: list[str], fail, copied: set[int]) -> tuple[Any, Path] | None:
    """The container that holds the last part, and the document path of the value (list indexes as ints)."""
    node: Any = root
    path: list[Any] = []
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                fail(f"'{'.'.join(parts[:depth + 1])}' is not an element of a list of {len(node)}",
                     "index lists from 0")
                return None
            key: Any = int(part)
        elif isinstance(node, dict):
            key = part
            if not last and node.get(part) is None:
                node[part] = {}
        else:
            fail(f"'{'.'.join(parts[:depth])}' is a single value; '{'.'.join(parts)}' cannot go inside it")
            return None
        path.append(key)
        if last:
            return node, tuple(path)
        child = node[key]
        if isinstance(child, (dict, list)) and id(child) not in copied:
            child = node[key] = dict(child) if isinstance(child, dict) else list(child)
            copied.add(id(child))
        node = child
    return None


def check_environment_names(ctx: CheckContext) -> None:
    """Every environment named in `ci.github` exists."""
    environments = ctx.section("environments")
    github = (ctx.section("ci").get("github") or {}) if isinstance(ctx.section("ci").get("github"), dict) else {}
    places: list[tuple[Any, Path]] = []
    deploy = github.get("deploy") if isinstance(github.get("deploy"), dict) else {}
    for i, name in enumerate(deploy.get("environments") or []):
        places.append((name, ("ci", "github", "deploy", "environments", i)))
    for section in ("train", "retrain"):
        block = github.get(section)
        if isinstance(block, dict) and "environment" in block:
            places.append((block["environment"], ("ci", "github", section, "environment")))
    for name, path in places:
        if isinstance(name, str) and name not in environments and not ctx.unknown("environments", name):
            ctx.error(codes.UNKNOWN_ENVIRONMENT, f"unknown environment '{name}'", path,
                      hint=did_you_mean(name, environments) or f"defined environments: {known(environments)}")

