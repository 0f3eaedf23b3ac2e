"""`ci.yml`: validate the spec and run the project's tests on the spec's own triggers."""

from __future__ import annotations

from typing import Any, Callable

from mlopsdsl.backends.github import jobs
from mlopsdsl.backends.github.shell import Context, Env, Script, expression_text, run_step, spec_text, user_command
from mlopsdsl.ir import GitHubCI, Project

__all__ = ["build_ci", "triggers"]

# Triggers whose workflows run with the repository's code and a read-only token.
# `pull_request_target` and `workflow_run` run fork-controlled input with write
# tokens and secrets (zizmor's dangerous-triggers); they are refused, not emitted.
SAFE_EVENTS = ("push", "pull_request", "workflow_dispatch", "merge_group", "schedule")

Report = Callable[[str, str], None]  # (feature, hint)


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


def runs_on_tags(on: dict[str, Any]) -> bool:
    """Does a tag push start this workflow? A release build must not restore a cache a
    pull request could have written (zizmor's cache-poisoning); an unfiltered `push` includes tags."""
    push = on.get("push")
    if "push" not in on:
        return False
    if not isinstance(push, dict):
        return True
    return "tags" in push or "tags-ignore" in push or not ({"branches", "branches-ignore"} & set(push))


def build_ci(project: Project, ci: GitHubCI, report: Report) -> dict[str, Any]:
    on = triggers(ci.on, report)
    steps = [jobs.checkout(), jobs.setup_python(ci.python, cache=not runs_on_tags(on))]
    steps += _commands("Install", ci.install, report)
    steps.append(jobs.install_mlopsdsl())

    env = Env()
    spec = env.bind("MLOPSDSL_SPEC", project.spec_path)
    validate = Script().line("mlopsdsl validate", spec, "--format github")
    steps.append(run_step("Validate the spec", validate, env))
    steps += _commands("Test", ci.test, report)

    job = jobs.job("Validate and test", ci.runs_on, steps, timeout=30)
    # One run per ref: a new push to a pull request cancels the stale run of the same ref.
    concurrency = {"group": expression_text("ci-", Context("github.ref")), "cancel-in-progress": True}
    return jobs.workflow(f"{project.name} CI", on, {"ci": job}, concurrency=concurrency)


def _commands(kind: str, commands: tuple[str, ...], report: Report) -> list[dict[str, Any]]:
    steps = []
    for i, command in enumerate(commands, 1):
        text = user_command(command)
        if text is None:
            report(f"`${{{{` in ci.github.{kind.lower()} command {i}",
                   "GitHub would expand it into the shell before the command runs; read the value from "
                   "an environment variable the runner sets (e.g. \"$GITHUB_REF_NAME\") instead")
            continue
        first = text.strip().splitlines()[0] if text.strip() else text
        name = first if len(first) <= 60 else first[:57] + "..."
        steps.append({"name": spec_text(f"{kind}: {name}"), "run": text})
    return steps
