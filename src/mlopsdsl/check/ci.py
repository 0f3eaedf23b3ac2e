"""CI rules the schema cannot say: where the workflows install mlopsdsl from, and on which Python.

The generated workflows hold deploy credentials (a kubeconfig, a KFP token) in the
same job that installs mlopsdsl, so the requirement is the spec's, pinned where pip
can pin it, and never a bare name on the public index (where `mlopsdsl` is not ours).
"""

from __future__ import annotations

import re

from mlopsdsl.check.context import CheckContext
from mlopsdsl.diagnostics import codes

# The Python mlopsdsl itself needs (`requires-python` in pyproject.toml; a test holds them equal).
TOOL_MIN_PYTHON = (3, 11)
_COMMIT = re.compile(r"@[0-9a-f]{40}$")


def check_tool_install(ctx: CheckContext) -> None:
    github = ctx.section("ci").get("github")
    raw = github.get("mlopsdsl") if isinstance(github, dict) else None
    if raw is None:
        return
    spec = raw if isinstance(raw, dict) else {"install": raw}
    base = ("ci", "github", "mlopsdsl") if isinstance(raw, dict) else ("ci", "github")
    where = base + ("install",) if isinstance(raw, dict) else ("ci", "github", "mlopsdsl")
    install = str(spec.get("install", ""))
    if install.startswith("git+"):
        if not _COMMIT.search(install):
            ctx.warning(codes.TOOL_INSTALL_UNPINNED, "the git ref after `@` is not a commit: a branch or tag can move",
                        where, hint="pin the 40-character commit SHA")
    elif "://" in install:
        if "#sha256=" not in install:
            ctx.warning(codes.TOOL_INSTALL_UNPINNED, "the wheel URL carries no `#sha256=`: pip installs whatever "
                        "the URL serves", where, hint="append `#sha256=<the wheel's SHA-256>`; pip checks it")
    elif install and not (isinstance(raw, dict) and raw.get("index")):
        ctx.error(codes.TOOL_INDEX_REQUIRED, f"version {install} alone would be installed from the public index, "
                  "where the name `mlopsdsl` is not this project's", where,
                  hint="give `{install: VERSION, index: URL}` for your own index, or a wheel URL with #sha256=")
    python = spec.get("python") if isinstance(raw, dict) else None
    if isinstance(python, str) and re.fullmatch(r"[0-9]+\.[0-9]+", python):
        version = tuple(int(p) for p in python.split("."))
        if version < TOOL_MIN_PYTHON:
            ctx.error(codes.TOOL_PYTHON_TOO_OLD, f"mlopsdsl needs Python {'.'.join(map(str, TOOL_MIN_PYTHON))} or "
                      f"newer; its steps cannot run on {python}", ("ci", "github", "mlopsdsl", "python"),
                      hint="leave it out (3.12) or name 3.11 or newer; `ci.github.python` (the project's own "
                           "commands) may stay older")
