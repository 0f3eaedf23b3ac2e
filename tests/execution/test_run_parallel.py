"""`mlopsdsl run --jobs N`: independent steps of a DAG at the same time, never more than N.

Every step appends `start NAME` and `end NAME` to one events file (O_APPEND: whole lines, in the
order they happened), so concurrency is read from the order of events, never from a clock: a
sweep over the file gives how many steps were between their start and end at once. A step can
wait until K steps have started (`meet K`), so the first K are running at once: under a
one-at-a-time engine that never happens, and the strict form fails the step.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli
from .kit import QUIET, python_shim

pytest.importorskip("kfp.local", reason="mlopsdsl[run] (kfp) is not installed")

STEP = '''\
import glob, json, os, sys, time
name, mode = sys.argv[1], sys.argv[2]
events = os.path.join(os.environ["WIDE_DIR"], "events.log")

def write(event):
    with open(events, "a") as fh:
        fh.write(f"{event} {name}\\n")

def started():
    return open(events).read().split()[0::2].count("start")

def wait(until, seconds):
    deadline = time.monotonic() + seconds
    while not until() and time.monotonic() < deadline:
        time.sleep(0.02)
    return until()

write("start")
if mode == "fail":
    sys.exit(f"{name}: asked to fail")
if mode == "meet":  # until K steps have started (the first K then run at once); strict: or fail
    need, strict = int(sys.argv[3]), sys.argv[4] == "strict"
    if not wait(lambda: started() >= need, 60 if strict else 4) and strict:
        sys.exit(f"{name}: {need} steps never ran at once")
if mode == "after-failure":  # until the run record says the failing step failed
    def failed():
        for path in glob.glob(".mlopsdsl/runs/*/run.json"):
            try:
                steps = json.load(open(path))["steps"]
            except ValueError:
                continue
            if any(s["status"] == "failed" for s in steps.values()):
                return True
        return False
    wait(failed, 60)
if mode == "hang":
    time.sleep(120)
write("end")
'''


def spec(steps: dict[str, list[str]], loop: tuple[int, int, list[str]] | None = None, on_exit: bool = False) -> str:
    lines = ["apiVersion: mlopsdsl/v1", "kind: Project", "metadata: {name: wide, version: 0.1.0}",
             "defaults: {image: python:3.12-slim, cache: false}", "pipeline:", "  steps:"]
    for name, args in steps.items():
        lines.append(f"    {name}: {{run: {json.dumps(['python', '-m', 'wide.step', name, *args])}}}")
    if loop:
        items, parallelism, args = loop
        lines += ["    each:", f"      for_each: {list(range(items))}", f"      parallelism: {parallelism}",
                  f"      run: {json.dumps(['python', '-m', 'wide.step', 'each-${{ item }}', *args])}"]
    if on_exit:
        lines += ["  on_exit:", "    run: [python, -m, wide.step, notify, done]"]
    return "\n".join(lines) + "\n"


def project(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "wide"
    (root / "src/wide").mkdir(parents=True)
    (root / "src/wide/__init__.py").write_text("")
    (root / "src/wide/step.py").write_text(STEP)
    (root / "wide.yaml").write_text(text)
    (root / "events.log").write_text("")
    return root


def environment(root: Path) -> dict[str, str]:
    return {**QUIET, "PYTHONPATH": str(root / "src"), "WIDE_DIR": str(root),
            "PATH": f"{python_shim(root.parent)}{os.pathsep}{os.environ['PATH']}"}


def run(root: Path, *args: str) -> tuple[int, str, str]:
    return run_cli("run", "wide.yaml", "--plain", *args, cwd=root, env=environment(root), timeout=600)


def events(root: Path) -> list[tuple[str, str]]:
    words = (root / "events.log").read_text().split()
    return list(zip(words[0::2], words[1::2]))


def most_at_once(found: list[tuple[str, str]]) -> int:
    now = peak = 0
    for event, _ in found:
        now += 1 if event == "start" else -1
        peak = max(peak, now)
    return peak


def record(root: Path) -> dict:
    [path] = (root / ".mlopsdsl/runs").glob("*/run.json")
    return json.loads(path.read_text())


def test_independent_steps_run_at_the_same_time(tmp_path) -> None:
    root = project(tmp_path, spec({f"w{i}": ["meet", "4", "strict"] for i in range(4)}))
    code, out, err = run(root, "--jobs", "4")
    assert code == 0, out + err
    found = events(root)
    assert [e for e, _ in found[:4]] == ["start"] * 4 and most_at_once(found) == 4  # all four began before any ended
    steps = record(root)["steps"]
    assert {s["status"] for s in steps.values()} == {"succeeded"} and len(steps) == 4
    assert max(s["started"] for s in steps.values()) < min(s["started"] + s["seconds"] for s in steps.values())


@pytest.mark.parametrize("shape, jobs, peak", [
    ("wide", 1, 1),  # one after another, ready steps by name
    ("wide", 2, 2),
    ("loop", 4, 3),  # a for_each runs `parallelism` items at once (kfp.local alone: at most 2)
    ("loop", 2, 2),  # ... and within the run's bound
])
def test_never_more_than_n_steps_at_once(tmp_path, shape, jobs, peak) -> None:
    meet = ["meet", str(peak), "lenient"]  # each step waits (a little) for company, so the bound is reached
    text = spec({f"w{i}": meet for i in range(5)}) if shape == "wide" else spec({}, loop=(6, 3, meet))
    root = project(tmp_path, text)
    code, out, err = run(root, "--jobs", str(jobs))
    assert code == 0, out + err
    found = events(root)
    assert len(found) == (10 if shape == "wide" else 12)
    assert most_at_once(found) == peak, found
    if jobs == 1:
        assert [name for event, name in found if event == "start"] == ["w0", "w1", "w2", "w3", "w4"]


def test_a_failure_stops_new_steps_lets_the_running_one_finish_then_the_exit_handler_runs(tmp_path) -> None:
    steps = {"a": ["fail"], "b": ["after-failure"], **{f"c{i}": ["done"] for i in range(3)}}
    root = project(tmp_path, spec(steps, on_exit=True))
    code, out, err = run(root, "--jobs", "2")
    assert code == 1 and "error[MLD803]: step 'a' failed" in out, out + err
    # a and b started together; b ran on after a failed, to its end; no c started; then on_exit
    found = events(root)
    assert sorted(found[:2]) == [("start", "a"), ("start", "b")]  # which process got going first is the OS's
    assert found[2:] == [("end", "b"), ("start", "notify"), ("end", "notify")]
    kept = record(root)
    assert kept["status"] == "failed"
    assert {name: s["status"] for name, s in kept["steps"].items()} == {
        "a": "failed", "b": "succeeded", "on-exit": "succeeded"}


def test_ctrl_c_terminates_the_running_steps_and_records_the_run_as_interrupted(tmp_path) -> None:
    root = project(tmp_path, spec({"h0": ["hang"], "h1": ["hang"], "later": ["done"]}, on_exit=True))
    env = {**os.environ, **environment(root), "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "mlopsdsl", "run", "wide.yaml", "--plain", "--jobs", "2"],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(events(root)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert sorted(events(root)) == [("start", "h0"), ("start", "h1")]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)  # well before the steps' 120 s: they were terminated
    assert proc.returncode == 130, out + err
    assert sorted(events(root)) == [("start", "h0"), ("start", "h1")]  # neither ended, nothing else started
    found = record(root)
    assert found["status"] == "interrupted" and "on-exit" not in found["steps"]
    assert {found["steps"][name]["status"] for name in ("h0", "h1")} == {"failed"}


def test_the_kfp_internals_the_scheduler_relies_on_are_there() -> None:
    """kfp is pinned to 2.17.x; this fails first if a kfp release moves what schedule.py calls."""
    from mlopsdsl.run import engine, schedule

    assert schedule.drift() is None and engine.available() is None
    from kfp.local.orchestrator import enhanced_dag_orchestrator

    executor = enhanced_dag_orchestrator.ParallelExecutor(max_workers=8)
    assert executor.conservative_max == 2  # the cap Scheduler.loops lifts
    saved = schedule.KFP_CONTRACT.copy()
    try:
        schedule.KFP_CONTRACT["kfp.local.orchestrator.enhanced_dag_orchestrator.execute_task"] += ("renamed",)
        assert "execute_task does not take" in schedule.drift()
        schedule.KFP_CONTRACT["kfp.local.orchestrator.enhanced_dag_orchestrator.gone"] = ()
        del schedule.KFP_CONTRACT["kfp.local.orchestrator.enhanced_dag_orchestrator.execute_task"]
        assert schedule.drift() == "kfp.local has no kfp.local.orchestrator.enhanced_dag_orchestrator.gone"
    finally:
        schedule.KFP_CONTRACT.clear()
        schedule.KFP_CONTRACT.update(saved)
