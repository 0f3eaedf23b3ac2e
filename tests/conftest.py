"""Shared test helpers: where the repository is, running the CLI, writing a spec to a temp file.

Kept small and generic on purpose; feature test modules import from here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
CASES = REPO / "tests" / "cases"
# The shared conformance kit sits beside the checkout (../shared) on the project's machines.
SHARED = next((p for p in (REPO.parent / "shared", Path("/work/shared")) if p.is_dir()), None)

MINIMAL_SPEC = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata:
  name: churn
"""


def run_cli(*args: str, cwd: str | Path | None = None, env: dict[str, str] | None = None,
            no_color: bool = True, timeout: float = 120) -> tuple[int, str, str]:
    """Run `python -m mlopsdsl ARGS` in a subprocess; returns (exit code, stdout, stderr).

    NO_COLOR is set unless `no_color=False`, and `env` entries override the
    inherited environment (a value of None removes a variable).
    """
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    if no_color:
        full_env["NO_COLOR"] = "1"
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    proc = subprocess.run([sys.executable, "-m", "mlopsdsl", *map(str, args)], cwd=cwd or REPO, env=full_env,
                          capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def write_spec(tmp_path: Path):
    """`write_spec(text_or_bytes, name="spec.yaml") -> Path` writes a file under the test's tmp dir."""

    def write(content: str | bytes = MINIMAL_SPEC, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="\n")
        return path

    return write


def example_with(tmp_path: Path, *replacements: tuple[str, str], example: str = "minimal/minimal.yaml") -> str:
    """A shipped example with each (old, new) replaced once (each `old` must occur), written to tmp_path."""
    text = (EXAMPLES / example).read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def check_file(path: str | Path):
    """Checks one spec file with the fullest front end the driver offers; returns its Result.

    What `validate` runs: load, schema and the semantic checks.
    """
    from mlopsdsl.driver import check_file as check

    return check(str(path))


def validate_sarif(log: dict) -> None:
    """Validates a SARIF log against the official 2.1.0 schema; skips when the conformance kit is absent."""
    path = SHARED / "conformance/schemas/sarif-2.1.0.json" if SHARED else None
    if path is None or not path.is_file():
        pytest.skip("shared/conformance/schemas/sarif-2.1.0.json is not present")
    import jsonschema

    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(log)
