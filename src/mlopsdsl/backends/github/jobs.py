"""Shared builders: the workflow and job skeletons and the steps every workflow repeats.

Everything secure-by-default lives here once: `permissions: {}` at the top
(each job asks for what it needs, `contents: read` by default), a timeout on
every job, checkout without persisted credentials, and mlopsdsl installed at
the version that generated the workflow (so CI validates with the same
checker the author compiled with).
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from mlopsdsl.backends.github.pins import uses
from mlopsdsl.backends.github.shell import Context, Env, Script, run_step, spec_text
from mlopsdsl.ir import Environment, Project

__all__ = ["checkout", "compile_step", "install_mlopsdsl", "job", "mlopsdsl_requirement", "setup_python",
           "workflow"]

READ_ONLY = {"contents": "read"}


def mlopsdsl_requirement() -> str:
    try:
        return f"mlopsdsl=={metadata.version('mlopsdsl')}"
    except metadata.PackageNotFoundError:  # running from a source tree without metadata
        return "mlopsdsl"


def workflow(name: str, on: dict[str, Any], jobs: dict[str, Any],
             concurrency: dict[str, Any] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": spec_text(name), "on": on, "permissions": {}}
    if concurrency:
        doc["concurrency"] = concurrency
    doc["jobs"] = jobs
    return doc


def job(name: str, runs_on: str, steps: list[dict[str, Any]], *, timeout: int,
        permissions: dict[str, str] | None = None, environment: Environment | None = None,
        concurrency: dict[str, Any] | None = None, needs: list[str] | None = None,
        show_url: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"name": spec_text(name), "runs-on": spec_text(runs_on), "timeout-minutes": timeout,
                           "permissions": dict(permissions or READ_ONLY)}
    if needs:
        out["needs"] = needs
    if environment is not None:
        bound: dict[str, Any] = {"name": spec_text(environment.name)}
        if environment.url and show_url:  # the URL of what a deploy job serves; train jobs serve nothing
            bound["url"] = spec_text(environment.url)
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


def setup_python(version: str, cache: bool) -> dict[str, Any]:
    options: dict[str, Any] = {"python-version": spec_text(version)}
    if cache:
        # Only CI off tags caches: a cache restored into a job that deploys, submits
        # training or builds a tag could have been written by a pull request.
        options["cache"] = "pip"
    return {"name": "Set up Python", "uses": uses("setup-python"), "with": options}


def install_mlopsdsl() -> dict[str, Any]:
    env = Env()
    requirement = env.bind("MLOPSDSL_REQUIREMENT", mlopsdsl_requirement())
    script = Script().line("python -m pip install", requirement)
    return run_step("Install mlopsdsl", script, env)


def compile_step(project: Project, environment: Environment, target: str, out: str = "build") -> dict[str, Any]:
    env = Env()
    spec = env.bind("MLOPSDSL_SPEC", project.spec_path)
    env_name = env.bind("MLOPSDSL_ENV", environment.name)
    target_ref = env.bind("MLOPSDSL_TARGET", target)
    out_ref = env.bind("MLOPSDSL_OUT", out)
    script = Script().line("mlopsdsl compile", spec, "--env", env_name, "--target", target_ref, "--out", out_ref)
    return run_step(f"Compile {target} for {environment.name}", script, env)


def run_name_env(env: Env, project: Project) -> None:
    """Run metadata every submission carries: which workflow run, which trigger."""
    env.bind("MLOPSDSL_PROJECT", project.name)
    env.bind("MLOPSDSL_TRIGGER", Context("github.event_name"))
    env.bind("MLOPSDSL_RUN_ID", Context("github.run_id"))
    env.bind("MLOPSDSL_COMMIT", Context("github.sha"))
