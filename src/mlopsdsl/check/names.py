"""Names that become Kubernetes or pipeline names must be DNS labels, and stay one
after mlopsdsl adds its prefixes and suffixes.

Limits: DNS-1123 label 63; a CronJob name 52 (the controller appends 11
characters to its Jobs); an InferenceService name is a DNS-1035 label and
KServe derives `<name>-predictor-<revision>` style names from it, so we keep
its longest derived name within 63 as well.
"""

from __future__ import annotations

import re

from mlopsdsl.check.context import CheckContext
from mlopsdsl.check.symbols import Symbols
from mlopsdsl.diagnostics import codes

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
LABEL_MAX = 63
CRONJOB_MAX = 52
# KServe names the predictor's Knative service `<isvc>-predictor` and revisions
# `<isvc>-predictor-00001`; the transformer likewise.
KSERVE_SUFFIX = len("-transformer-00001")


def step_id(name: str) -> str:
    """The DNS-1123 form of a step name: lower case, `_` -> `-`."""
    return name.lower().replace("_", "-")


def check_names(ctx: CheckContext, symbols: Symbols) -> None:
    project = ctx.section("metadata").get("name")
    if isinstance(project, str):
        _label(ctx, project, ("metadata", "name"), "the project name", DNS1123_LABEL)
        if ctx.section("monitoring").get("drift") is not None:
            cronjob = f"{project}-drift"
            if len(cronjob) > CRONJOB_MAX:
                ctx.error(codes.NAME_TOO_LONG,
                          f"the drift CronJob would be named '{cronjob}' ({len(cronjob)} characters); "
                          f"Kubernetes allows {CRONJOB_MAX}", ("metadata", "name"),
                          hint=f"shorten metadata.name to at most {CRONJOB_MAX - len('-drift')} characters")
    seen: dict[str, str] = {}
    for step in symbols.steps.values():
        ident = step_id(step.name)
        if ident in seen:
            ctx.error(codes.INVALID_NAME,
                      f"steps '{seen[ident]}' and '{step.name}' both become the task name '{ident}'",
                      step.path, key=True, hint="rename one of them; `_` and `-` are the same in task names")
        seen[ident] = step.name
        _label(ctx, ident, step.path, f"step '{step.name}' (as task '{ident}')", DNS1123_LABEL, key=True)
    serving = ctx.section("serving")
    name = serving.get("name")
    if isinstance(name, str):
        _label(ctx, name, ("serving", "name"), "the serving name", DNS1035_LABEL,
               max_len=LABEL_MAX - KSERVE_SUFFIX)
        for i, variant in enumerate(serving.get("variants") or []):
            if isinstance(variant, dict) and isinstance(variant.get("name"), str):
                full = f"{name}-{variant['name']}"
                _label(ctx, full, ("serving", "variants", i, "name"), f"variant service '{full}'",
                       DNS1035_LABEL, max_len=LABEL_MAX - KSERVE_SUFFIX)
    for env_name, env in symbols.environments.items():
        namespace = env.get("namespace")
        if isinstance(namespace, str):
            _label(ctx, namespace, ("environments", env_name, "namespace"), "a namespace", DNS1123_LABEL)


def _label(ctx: CheckContext, value: str, path, what: str, pattern: re.Pattern, *, key: bool = False,
           max_len: int = LABEL_MAX) -> None:
    if not pattern.fullmatch(value):
        first = "a lower-case letter" if pattern is DNS1035_LABEL else "a lower-case letter or digit"
        ctx.error(codes.INVALID_NAME, f"{what} '{value}' is not a valid Kubernetes name", path, key=key,
                  hint=f"use lower-case letters, digits and '-', starting with {first} and ending with "
                       f"a letter or digit")
    elif len(value) > max_len:
        ctx.error(codes.NAME_TOO_LONG, f"{what} '{value}' is {len(value)} characters; at most {max_len} fit "
                  f"once generated suffixes are added", path, key=key, hint=f"shorten it to {max_len} characters")
