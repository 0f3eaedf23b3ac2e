"""Shared builders: the workflow and job skeletons and the steps every workflow repeats.

Everything secure-by-default lives here once: `permissions: {}` at the top
(each job asks for what it needs, `contents: read` by default), a timeout on
every job, checkout without persisted credentials, and mlopsdsl installed from
the requirement the spec names (`ci.github.mlopsdsl`), on its own Python.

`ci_jobs` is the project's CI (its tests, and mlopsdsl validating the spec):
the CI workflow is exactly these jobs, and the train and retrain workflows run
them again on their own commit before a training job may start (`needs:`).
"""

from __future__ import annotations

import shlex
from typing import Any, Callable

from mlopsdsl.backends.github.pins import uses
from mlopsdsl.backends.github.shell import Context, Env, Ref, Script, Secret, run_step, spec_text, user_command
from mlopsdsl.ir import Environment, GitHubCI, Project, ToolInstall

__all__ = ["CI_JOBS", "checkout", "ci_jobs", "compile_command", "compile_step", "install_mlopsdsl", "job",
           "setup_python", "workflow", "workflow_path"]

Report = Callable[[str, str], None]
READ_ONLY = {"contents": "read"}
CI_JOBS = ("test", "validate")  # job ids of `ci_jobs`, which other workflows wait for
_REQUIREMENT_FLAGS = ("-r", "--requirement", "-c", "--constraint")


def workflow_path(project: Project, kind: str) -> str:
    """`github/workflows/<project>-<kind>.yml`: two projects in one repository never share a file."""
    return f"github/workflows/{project.name}-{kind}.yml"


def workflow(name: str, on: dict[str, Any], jobs: dict[str, Any],
             concurrency: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": spec_text(name), "on": on, "permissions": {}}
    if concurrency:
        doc["concurrency"] = concurrency
    doc["jobs"] = jobs
    return doc


def job(name: str, runs_on: str, steps: list[dict[str, Any]], *, timeout: int,
        permissions: dict[str, str] | None = None, environment: str | None = None, url: str | None = None,
        concurrency: dict[str, Any] | None = None, needs: list[str] | None = None,
        condition: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": spec_text(name), "runs-on": spec_text(runs_on), "timeout-minutes": timeout,
                           "permissions": dict(permissions or READ_ONLY)}
    if needs:
        out["needs"] = needs
    if condition:
        out["if"] = condition
    if environment is not None:
        bound: dict[str, Any] = {"name": spec_text(environment)}
        if url:
            bound["url"] = spec_text(url)
        out["environment"] = bound
    if concurrency:
        out["concurrency"] = concurrency
    out["steps"] = steps
    return out


def checkout() -> dict[str, Any]:
    # persist-credentials: false, so no later step (a test, a pip install) can read
    # the job token out of .git/config.
    return {"name": "Check out the repository", "uses": uses("checkout"),
            "with": {"persist-credentials": False}}


def setup_python(version: str, cache_files: tuple[str, ...] = ()) -> dict[str, Any]:
    """setup-python; with `cache_files` (the dependency files the cache key hashes) a pip cache."""
    options: dict[str, Any] = {"python-version": spec_text(version)}
    if cache_files:
        options["cache"] = "pip"
        options["cache-dependency-path"] = spec_text("\n".join(cache_files))
    return {"name": spec_text(f"Set up Python {version}"), "uses": uses("setup-python"), "with": options}


def install_mlopsdsl(tool: ToolInstall) -> dict[str, Any]:
    """pip install of the spec's requirement: a URL (hash-pinned where given) or a version from its index."""
    env = Env()
    requirement = env.bind("MLOPSDSL_REQUIREMENT", tool.requirement)
    script = Script()
    if tool.index:
        script.line("python -m pip install --index-url", env.bind("MLOPSDSL_INDEX", tool.index), requirement)
    else:
        script.line("python -m pip install", requirement)
    script.line("mlopsdsl --version")
    return run_step("Install mlopsdsl", script, env)


def compile_step(project: Project, environment: Environment, target: str, out: str = "build") -> dict[str, Any]:
    env = Env()
    script = Script().line(*compile_command(env, project, environment, target, out))
    return run_step(f"Compile {target} for {environment.name}", script, env)


def compile_command(env: Env, project: Project, environment: Environment, target: str,
                    out: str = "build") -> tuple[str | Ref, ...]:
    """`mlopsdsl compile SPEC --env ENV --target TARGET --out OUT`, its values bound to `env`."""
    return ("mlopsdsl compile", env.bind("MLOPSDSL_SPEC", project.spec_path),
            "--env", env.bind("MLOPSDSL_ENV", environment.name), "--target", env.bind("MLOPSDSL_TARGET", target),
            "--out", env.bind("MLOPSDSL_OUT", out))


def run_name_env(env: Env, project: Project) -> None:
    """Run metadata every submission carries: which workflow run, which trigger."""
    env.bind("MLOPSDSL_PROJECT", project.name)
    env.bind("MLOPSDSL_TRIGGER", Context("github.event_name"))
    env.bind("MLOPSDSL_RUN_ID", Context("github.run_id"))
    env.bind("MLOPSDSL_COMMIT", Context("github.sha"))


def cache_files(ci: GitHubCI) -> tuple[str, ...]:
    """The requirement files the install commands name (`-r FILE`): what a pip cache key can hash.

    setup-python's pip cache fails the job when no dependency file matches, and a command
    like `pip install -e .` names none, so without one there is no cache."""
    found = []
    for command in ci.install:
        try:
            words = shlex.split(command)
        except ValueError:
            continue
        for flag, value in zip(words, words[1:]):
            if flag in _REQUIREMENT_FLAGS and value not in found and "${{" not in value:
                found.append(value)
    return tuple(found)


def ci_jobs(project: Project, report: Report, *, cache: bool = False) -> dict[str, dict[str, Any]]:
    """The project's tests on `ci.github.python` (when it has install/test commands) and mlopsdsl
    validating the spec on its own Python."""
    ci = project.ci
    assert ci is not None and ci.mlopsdsl is not None
    out: dict[str, dict[str, Any]] = {}
    env = command_env(ci, report)
    commands = _commands("Install", ci.install, report, env) + _commands("Test", ci.test, report, env)
    if commands:
        steps = [checkout(), setup_python(ci.python, cache_files(ci) if cache else ()), *commands]
        out["test"] = job("Test", ci.runs_on, steps, timeout=30)
    env = Env()
    spec = env.bind("MLOPSDSL_SPEC", project.spec_path)
    validate = Script().line("mlopsdsl validate", spec, "--format github")
    steps = [checkout(), setup_python(ci.mlopsdsl.python), install_mlopsdsl(ci.mlopsdsl),
             run_step("Validate the spec", validate, env)]
    out["validate"] = job("Validate the spec", ci.runs_on, steps, timeout=15)
    return out


def github_secret(name: str) -> str:
    """The repository secret a spec's `secrets.name` reads: GitHub keeps secret names in upper case."""
    return name.upper()


def command_env(ci: GitHubCI, report: Report) -> dict[str, str]:
    """`ci.github.env` as the `env:` of the install and test steps: text, or a secret by name."""
    env = Env()
    for var in ci.env:
        try:
            if var.secret:
                env.bind(var.name, Secret(github_secret(var.secret)))
            elif isinstance(var.value, str):
                env.bind(var.name, var.value)
            else:
                report(f"a run-time value in ci.github.env.{var.name}", "CI has no pipeline run: use text, "
                       "metadata or a secret")
        except ValueError:
            report(f"the variable name ci.github.env.{var.name}", "GitHub steps take upper-case names "
                   "([A-Z][A-Z0-9_]*) and reserve GITHUB_* and RUNNER_*")
    return env.as_dict()


def _commands(kind: str, commands: tuple[str, ...], report: Report, env: dict[str, str]) -> list[dict[str, Any]]:
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
        step: dict[str, Any] = {"name": spec_text(f"{kind}: {name}")}
        if env:
            step["env"] = dict(env)
        steps.append({**step, "run": text})
    return steps
