"""Running the examples for real: compile one, copy its project, run it under KFP's own local
orchestrator (shared/conformance/exec/kfp-local-run.py) with the step programs of `src/`.

Steps run as host processes. `python` (and `torchrun`) on their PATH are two-line shims that
exec this test run's interpreter, so the examples' dependencies (the `examples` extra) are the
ones installed by README's test command.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mlopsdsl import driver
from mlopsdsl.backends.kubeflow import KubeflowBackend
from mlopsdsl.serialize import to_bytes

from conftest import EXAMPLES, SHARED

EXEC_VENV = Path(os.environ.get("CONFORMANCE_EXEC_VENV", Path.home() / ".cache/mlopsdsl-conformance/exec-venv"))
CEL_DECISION = re.compile(r"^\s*\[cel\] (?P<task>[\w-]+): (?P<value>True|False)\b", re.M)
QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1", "PYTHONUNBUFFERED": "1"}


def judge_script() -> Path:
    script = SHARED / "conformance/exec/kfp-local-run.py" if SHARED else None
    if script is None or not script.is_file() or not (EXEC_VENV / "bin/python").is_file():
        pytest.skip("the execution judge is not installed (shared/conformance/exec/install-exec.sh)")
    return script


def compile_pipeline(spec: Path, out: Path, env: str | None = "local") -> Path:
    result = driver.build_ir(str(spec), env=env)
    assert result.ir is not None, [d.message for d in result.diagnostics]
    backend = KubeflowBackend()
    artifacts = backend.compile(result.ir)
    assert [d for d in backend.diagnostics if d.code.severity.value == "error"] == []
    target = out / artifacts[0].path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(to_bytes(artifacts[0]))
    return target


def project_copy(name: str, tmp: Path) -> Path:
    """The example's folder copied to TMP/<name> (runs write mlflow.db and data beside the spec)."""
    target = tmp / name
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns("__pycache__", "mlflow.db", "mlruns"))
    return target


def python_shim(tmp: Path) -> Path:
    """A folder with `python` (this interpreter) and `torchrun` (its torch's launcher) to put on PATH."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, run in (("python", ""), ("torchrun", " -m torch.distributed.run")):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}"{run} "$@"\n')
        shim.chmod(0o755)
    return bin_dir


def run_module(project: Path, module: str, *args: str) -> str:
    """A program of the example's src/ run directly (to make its input data, say)."""
    env = {**os.environ, **QUIET, "PYTHONPATH": str(project / "src")}
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=project, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@dataclass
class LocalRun:
    returncode: int
    output: str
    root: Path  # this run's own directory under the pipeline root
    decisions: dict[str, bool] = field(default_factory=dict)

    def executed(self, task: str) -> int:
        """How many times kfp.local started TASK (retries and loop iterations count)."""
        return len(re.findall(rf"Executing task .{{0,12}}'{re.escape(task)}'", self.output))

    def outputs(self, task: str, name: str) -> list[Path]:
        """TASK's output NAME (one per loop iteration: `for-loop-S-iteration-N/S/NAME`)."""
        return sorted(self.root.glob(f"{task}/{name}")) + sorted(self.root.glob(f"*/{task}/{name}"))


def kfp_local_run(pipeline: Path, project: Path, *arguments: str, cache: bool = False,
                  root: Path | None = None, timeout: float = 600) -> LocalRun:
    script = judge_script()
    root = root or project / "kfp-root"
    # name=value arguments right after the pipeline: argparse reads positionals only before options
    command = [str(EXEC_VENV / "bin/python"), str(script), str(pipeline), *arguments, "--path", str(project / "src"),
               "--path", str(python_shim(project.parent)), "--cwd", str(project), "--root", str(root)]
    if cache:
        command.append("--cache")
    env = {**os.environ, **QUIET, "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)
    before = set(root.iterdir()) if root.is_dir() else set()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    runs = [p for p in root.iterdir() if p.is_dir() and p not in before and not p.name.startswith(".")]
    output = proc.stdout + proc.stderr
    output = re.sub(r"\x1b\[[0-9;]*m", "", output)
    decisions = {m["task"]: m["value"] == "True" for m in CEL_DECISION.finditer(output)}
    return LocalRun(proc.returncode, output, runs[0] if len(runs) == 1 else root, decisions)


def registered_versions(project: Path, name: str) -> list[int]:
    """Model versions in the example's MLflow store (read with sqlite3: no mlflow import here)."""
    db = project / "mlflow.db"
    if not db.is_file():
        return []
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT version FROM model_versions WHERE name = ? ORDER BY version", (name,))
        return [int(v) for (v,) in rows]


def tracked_runs(project: Path) -> int:
    with sqlite3.connect(project / "mlflow.db") as connection:
        return connection.execute("SELECT count(*) FROM runs WHERE status = 'FINISHED'").fetchone()[0]


def tracked_metrics(project: Path, run_name: str | None = None) -> dict[str, list[float]]:
    """Each metric key logged by a finished MLflow run (named RUN_NAME, if given), its values
    in logging order: what the MLflow UI would show for the runs the steps tracked."""
    query = ("SELECT m.key, m.value FROM metrics m JOIN runs r ON r.run_uuid = m.run_uuid "
             "WHERE r.status = 'FINISHED'" + (" AND r.name = ?" if run_name else "") + " ORDER BY m.timestamp")
    found: dict[str, list[float]] = {}
    with sqlite3.connect(project / "mlflow.db") as connection:
        for key, value in connection.execute(query, (run_name,) if run_name else ()):
            found.setdefault(key, []).append(value)
    return found


def registry_alias(project: Path, name: str, alias: str) -> int | None:
    """The model version ALIAS (`models:/NAME@ALIAS`) points at in the example's MLflow registry."""
    with sqlite3.connect(project / "mlflow.db") as connection:
        row = connection.execute("SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?",
                                 (name, alias)).fetchone()
    return int(row[0]) if row else None
