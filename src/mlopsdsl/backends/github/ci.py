"""`<project>-ci.yml`: the project's tests and the spec's validation, on the spec's own triggers."""

from __future__ import annotations

import fnmatch
from typing import Any, Callable

from mlopsdsl.backends.github import jobs
from mlopsdsl.backends.github.shell import Context, expression_text
from mlopsdsl.ir import GitHubCI, Project

__all__ = ["build_ci", "publishes", "triggers"]

# Triggers whose workflows run with the repository's code and a read-only token.
# `pull_request_target` and `workflow_run` run fork-controlled input with write
# tokens and secrets (zizmor's dangerous-triggers); they are refused, not emitted.
SAFE_EVENTS = ("push", "pull_request", "workflow_dispatch", "merge_group", "schedule")

Report = Callable[[str, str], None]


def _no_expressions(value: Any) -> bool:
    if isinstance(value, str):
        return "${{" not in value
    if isinstance(value, dict):
        return all(_no_expressions(k) and _no_expressions(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_no_expressions(v) for v in value)
    return True


def triggers(on: dict[str, Any], report: Report) -> dict[str, Any]:
    """The spec's `ci.github.on`, restricted to safe events; GitHub never evaluates `on:`."""
    out: dict[str, Any] = {}
    for event, config in on.items():
        if event not in SAFE_EVENTS:
            report(f"the `{event}` trigger in ci.github.on",
                   f"generated workflows run only on {', '.join(SAFE_EVENTS)}: `{event}` would hand "
                   "untrusted input a privileged token")
            continue
        if not _no_expressions(config):
            report(f"`${{{{` inside ci.github.on.{event}", "triggers are plain branch, tag and path globs")
            continue
        # `pull_request:` with nothing after it is null in YAML; GitHub's schema wants a mapping.
        out[event] = {} if config is None else config
    if not out:
        out = {"push": {}, "pull_request": {}}
    return out


def publishes(on: dict[str, Any]) -> bool:
    """Could a run of these triggers build something released? Then it must not restore a cache a
    pull request could have written (zizmor's cache-poisoning): a tag push (an unfiltered `push`
    includes tags; zizmor counts `tags-ignore` too) or a push to a release branch."""
    if "push" not in on:
        return False
    push = on.get("push")
    if not isinstance(push, dict):
        return True
    if "tags" in push or "tags-ignore" in push or not ({"branches", "branches-ignore"} & set(push)):
        return True
    branches = [str(b) for b in push.get("branches") or ()]
    return any(fnmatch.fnmatch(b.lower(), "*release*") for b in branches)


def build_ci(project: Project, ci: GitHubCI, report: Report) -> dict[str, Any]:
    on = triggers(ci.on, report)
    # One run per ref: a new push to a pull request cancels the stale run of the same ref; the
    # project's name keeps two projects of one repository apart.
    concurrency = {"group": expression_text(f"{project.name}-ci-", Context("github.ref")), "cancel-in-progress": True}
    return jobs.workflow(f"{project.name} CI", on, jobs.ci_jobs(project, report, cache=not publishes(on)),
                         concurrency=concurrency)
