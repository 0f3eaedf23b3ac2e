"""The run record: one directory per `mlopsdsl run`, and `mlopsdsl runs` to list them.

    .mlopsdsl/runs/<UTC time>-<random>/     created 0700, under the working directory
      run.json          spec, environment, arguments, status, timings, and per step: status,
                        attempts, cached, seconds, inputs, outputs, log file
      logs/<task>.log   everything the step's process printed (loop iterations: <task>-<n>.log)
      artifacts/        the pipeline root: every output artifact, by task

Records live beside the project, never in a shared temporary directory: the path holds a
random part, and the directories are private to the user (a step's log can hold data).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_ROOT = Path(".mlopsdsl") / "runs"


def _private_dir(path: Path) -> None:
    """PATH and the parents it creates, private to the user (mkdir's mode passes the umask, and
    parents=True gives new parents the default mode: each one is made here)."""
    if not path.is_dir():
        if path.parent != path:
            _private_dir(path.parent)
        path.mkdir(mode=0o700)
        os.chmod(path, 0o700)


@dataclass
class StepRecord:
    task: str
    status: str = "running"
    attempts: int = 0
    cached: bool = False
    started: float = 0.0
    seconds: float = 0.0
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    log: str = ""


@dataclass
class RunRecord:
    directory: Path
    spec: str
    env: str | None
    arguments: dict[str, Any]
    status: str = "running"
    started: float = field(default_factory=time.time)
    seconds: float = 0.0
    steps: dict[str, StepRecord] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def create(cls, root: Path, spec: str, env: str | None, arguments: dict[str, Any]) -> "RunRecord":
        _private_dir(root)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        directory = root / f"{stamp}-{secrets.token_hex(3)}"
        directory.mkdir(mode=0o700)  # fails if it exists: never reuse another run's record
        os.chmod(directory, 0o700)
        for sub in ("logs", "artifacts"):
            _private_dir(directory / sub)
        record = cls(directory, spec, env, arguments)
        record.save()
        return record

    @property
    def id(self) -> str:
        return self.directory.name

    @property
    def artifacts(self) -> Path:
        return self.directory / "artifacts"

    def log_path(self, task: str) -> Path:
        with self._lock:
            n, name = 1, task
            while (self.directory / "logs" / f"{name}.log").exists():
                n += 1
                name = f"{task}-{n}"
            path = self.directory / "logs" / f"{name}.log"
            path.touch(mode=0o600)
            return path

    def step(self, task: str) -> StepRecord:
        with self._lock:
            return self.steps.setdefault(task, StepRecord(task))

    def finish(self, status: str) -> None:
        self.status = status
        self.seconds = round(time.time() - self.started, 3)
        self.save()

    def save(self) -> None:
        # Loop iterations finish on worker threads: one writer at a time, or two share the temporary
        # file and the second rename finds it gone (seen in CI as a failed iteration).
        with self._lock:
            data = {"id": self.id, "spec": self.spec, "env": self.env, "arguments": self.arguments,
                    "status": self.status, "started": self.started, "seconds": self.seconds,
                    "steps": {name: dict(vars(step)) for name, step in sorted(self.steps.items())}}
            target = self.directory / "run.json"
            temporary = target.with_suffix(".json.tmp")
            temporary.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
            os.chmod(temporary, 0o600)
            temporary.replace(target)


def list_runs(root: Path) -> list[dict[str, Any]]:
    """Every readable run record under ROOT, newest first."""
    runs = []
    for path in sorted(root.glob("*/run.json"), reverse=True) if root.is_dir() else ():
        try:
            runs.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a record being written, or damaged: listed by no one
    return runs


def table(runs: list[dict[str, Any]]) -> str:
    lines = [f"{'RUN':<24} {'STATUS':<10} {'STEPS':>9} {'SECONDS':>8}  SPEC"]
    for run in runs:
        steps = run.get("steps") or {}
        done = sum(1 for s in steps.values() if s.get("status") in ("succeeded", "cached"))
        lines.append(f"{run.get('id', '?'):<24} {run.get('status', '?'):<10} {done:>4}/{len(steps):<4} "
                     f"{run.get('seconds', 0):>8.1f}  {run.get('spec', '')}" + (f" --env {run['env']}" if run.get("env") else ""))
    return "\n".join(lines) + "\n"
