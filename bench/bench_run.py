"""`mlopsdsl run` overhead per step, against kfp.local's own and `dvc repro`'s, in one run.

    python bench/bench_run.py [--steps 50] [--wide 8] [--repeat 3] [--json OUT]

Three engines run the same DAG of N no-op steps in a chain (step i writes a small file that step
i+1 reads), interleaved round by round so a slow period of a shared machine hits all of them:
- `mlopsdsl run` (steps as host processes, no cache: `--no-cache`),
- kfp.local itself on the pipeline `mlopsdsl compile` writes, through the execution judge
  `shared/conformance/exec/kfp-local-run.py` (kfp.local plus the three patches container
  components need; its own venv),
- `dvc repro --force` on a dvc.yaml with the same N stages, commands and files.
The floor is the same N commands run one after another by a plain Python loop; each engine's
overhead per step is (its wall time - the floor) / N.

Parallelism: a wide DAG of W independent steps that each sleep 1 s, run by `mlopsdsl run --jobs 1`
(one after another), by `mlopsdsl run --jobs W`, and by kfp.local itself (kfp-local-run: one task
at a time), interleaved round by round; and the same work as one `for_each` of W items with
`parallelism: W`. Speed-ups are ratios of wall times taken in the same run.
Without dvc on PATH its row is left out (pip install dvc to measure it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = next((p for p in (REPO.parent / "shared", Path("/work/shared")) if p.is_dir()), None)
EXEC_PYTHON = Path(os.environ.get("CONFORMANCE_EXEC_VENV", Path.home() / ".cache/mlopsdsl-conformance/exec-venv")) \
    / "bin/python"
NOOP = 'mkdir -p "$(dirname "$0")"; echo x > "$0"'  # the step's whole work: write its output file


def chain_spec(n: int) -> str:
    lines = ["apiVersion: mlopsdsl/v1", "kind: Project", "metadata: {name: bench, version: 0.1.0}",
             "defaults: {image: alpine:3, cache: false}", "pipeline:", "  steps:"]
    for i in range(n):
        lines.append(f"    s{i}:")
        if i == 0:
            lines.append(f"      run: [sh, -c, '{NOOP}', \"${{{{ outputs.o.path }}}}\"]")
        else:
            lines.append(f"      run: [sh, -c, 'cat \"$1\" >/dev/null; {NOOP}', \"${{{{ outputs.o.path }}}}\", "
                         f"\"${{{{ inputs.i.path }}}}\"]")
            lines.append(f"      inputs: {{i: \"${{{{ steps.s{i - 1}.outputs.o }}}}\"}}")
        lines.append("      outputs: {o: Artifact}")
    return "\n".join(lines) + "\n"


def dvc_yaml(n: int) -> str:
    lines = ["stages:"]
    for i in range(n):
        deps = f"    deps: [o{i - 1}]\n" if i else ""
        read = f'cat o{i - 1} >/dev/null; ' if i else ""
        lines.append(f"  s{i}:\n    cmd: sh -c '{read}mkdir -p .; echo x > o{i}'\n{deps}    outs: [o{i}]")
    return "\n".join(lines) + "\n"


def wide_spec(w: int, loop: bool) -> str:
    head = ["apiVersion: mlopsdsl/v1", "kind: Project", "metadata: {name: wide, version: 0.1.0}",
            "defaults: {image: alpine:3, cache: false}", "pipeline:", "  steps:"]
    if loop:
        return "\n".join(head + ["    work:", f"      for_each: {list(range(w))}", f"      parallelism: {w}",
                                 "      run: [sleep, '1']"]) + "\n"
    return "\n".join(head + [f"    w{i}: {{run: [sleep, '1']}}" for i in range(w)]) + "\n"


def timed(command: list[str], cwd: Path, env: dict | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bench_run: {command[:4]} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def floor(n: int, work: Path) -> float:
    start = time.perf_counter()
    for i in range(n):
        read = f'cat "{work}/f{i - 1}" >/dev/null; ' if i else ""
        subprocess.run(["sh", "-c", read + NOOP, str(work / f"f{i}")], check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--wide", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", metavar="OUT")
    args = ap.parse_args(argv)
    if not EXEC_PYTHON.is_file() or SHARED is None:
        sys.exit("bench_run: needs the execution judge (shared/conformance/exec/install-exec.sh)")
    dvc = shutil.which("dvc")
    work = Path(tempfile.mkdtemp(prefix="bench-run-"))
    n, mlopsdsl = args.steps, [sys.executable, "-m", "mlopsdsl"]
    (work / "chain.yaml").write_text(chain_spec(n))
    timed([*mlopsdsl, "compile", "chain.yaml", "--out", "out", "--target", "kubeflow"], work)
    repo = work / "dvc"
    repo.mkdir()
    (repo / "dvc.yaml").write_text(dvc_yaml(n))
    for setup in (["git", "init", "-q"], ["dvc", "init", "-q"]) if dvc else ():
        subprocess.run(setup, cwd=repo, check=True, capture_output=True)
    judge = [str(EXEC_PYTHON), str(SHARED / "conformance/exec/kfp-local-run.py")]
    engines = {
        "floor (a loop of subprocesses)": lambda: floor(n, work),
        "mlopsdsl run": lambda: timed([*mlopsdsl, "run", "chain.yaml", "--no-cache", "--plain"], work),
        "kfp.local (kfp-local-run)": lambda: timed(
            [*judge, "out/kubeflow/pipeline.yaml", "--root", str(work / "kfp-root")], work),
        "dvc repro --force": lambda: timed(["dvc", "repro", "--force", "-q"], repo),
    }
    if not dvc:
        del engines["dvc repro --force"]
        print("(dvc is not on PATH: its row is left out)\n")
    samples: dict[str, list[float]] = {name: [] for name in engines}
    for round_ in range(args.repeat + 1):  # round 0 warms caches and byte-compiles
        order = list(engines) if round_ % 2 else list(reversed(engines))
        for name in order:
            seconds = engines[name]()
            if round_:
                samples[name].append(seconds)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["floor (a loop of subprocesses)"]
    print(f"chain of {n} no-op steps, median of {args.repeat} interleaved rounds ({os.cpu_count()} CPUs)\n")
    print(f"| engine | wall | overhead per step |\n| --- | --- | --- |")
    for name, value in medians.items():
        print(f"| {name} | {value:.2f} s | {'' if value is base else f'{(value - base) / n * 1000:.0f} ms'} |")

    w = args.wide
    for shape in ("independent", "for_each"):
        (work / f"{shape}.yaml").write_text(wide_spec(w, loop=shape == "for_each"))
    (work / "one.yaml").write_text(wide_spec(1, loop=False))
    timed([*mlopsdsl, "compile", "independent.yaml", "--out", "wide-out", "--target", "kubeflow"], work)
    run = [*mlopsdsl, "run", "--no-cache", "--plain"]
    wide_engines = {
        "one step (startup)": lambda: timed([*run, "one.yaml"], work),
        "independent, mlopsdsl run --jobs 1": lambda: timed([*run, "independent.yaml", "--jobs", "1"], work),
        f"independent, mlopsdsl run --jobs {w}": lambda: timed([*run, "independent.yaml", "--jobs", str(w)], work),
        "independent, kfp.local (kfp-local-run)": lambda: timed(
            [*judge, "wide-out/kubeflow/pipeline.yaml", "--root", str(work / "kfp-root")], work),
        f"for_each, mlopsdsl run --jobs {w}": lambda: timed([*run, "for_each.yaml", "--jobs", str(w)], work),
    }
    wide_samples: dict[str, list[float]] = {name: [] for name in wide_engines}
    for round_ in range(args.repeat):
        for name in (list(wide_engines) if round_ % 2 else list(reversed(wide_engines))):
            wide_samples[name].append(wide_engines[name]())
    wide = {name: statistics.median(values) for name, values in wide_samples.items()}
    sequential = wide["independent, mlopsdsl run --jobs 1"]
    kfp_local = wide["independent, kfp.local (kfp-local-run)"]
    print(f"\n{w} steps of `sleep 1`, median of {args.repeat} interleaved rounds:\n")
    print("| engine | wall | speed-up over `--jobs 1` | speed-up over kfp.local |\n| --- | --- | --- | --- |")
    for name, value in wide.items():
        print(f"| {name} | {value:.2f} s | {sequential / value:.1f}x | {kfp_local / value:.1f}x |")
    if args.json:
        Path(args.json).write_text(json.dumps({"steps": n, "samples": samples, "medians": medians,
                                               "wide": wide, "wide_samples": wide_samples}, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
