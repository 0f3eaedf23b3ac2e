"""Reusable machinery for whole-process benchmarks: floor vs tool, interleaved, medians.

A benchmark script names its tool commands and calls `main`; the harness generates the
specs (bench/gen_spec.py), times each command as a separate process, and prints the
table. Why whole processes: users pay interpreter start, imports and teardown, and
in-process timings hide exactly those (see /work/shared/docs/performance.md).

Why interleaved: on these machines run-to-run noise is up to ~15%, and it drifts. Each
round runs every command once on the same file (alternating the order round by round)
so slow periods hit floor and tool alike; the report is per-command medians and the
tool/floor ratio taken within one run.

Adding a command: `Command("compile", ["{python}", "-m", "mlopsdsl", "compile", "{spec}",
"--out", "{tmp}", "--target", "kubeflow"])`. Placeholders: {python} this interpreter,
{spec} the generated file, {tmp} a fresh empty directory per run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_spec  # noqa: E402  (a sibling script, not a package)

# What any Python tool pays to read the spec with positions: start, import yaml, compose.
FLOOR_CODE = "import yaml,sys; yaml.compose(open(sys.argv[1]).read(), Loader=yaml.CSafeLoader)"


@dataclass(frozen=True)
class Command:
    name: str
    argv: tuple[str, ...]
    expect_exit: int | None = 0  # None: any exit status is fine (e.g. a peer that warns)

    def __post_init__(self) -> None:
        object.__setattr__(self, "argv", tuple(self.argv))  # callers may pass a list

    def render(self, spec: str, tmp: str) -> list[str]:
        return [a.format(python=sys.executable, spec=spec, tmp=tmp) for a in self.argv]


FLOOR = Command("floor", ["{python}", "-c", FLOOR_CODE, "{spec}"])


class CommandFailed(RuntimeError):
    pass


@dataclass
class Sample:
    wall_ms: float
    peak_mib: float


def run_once(command: Command, spec: str) -> Sample:
    """Time one process from spawn to reap; its peak RSS comes from wait4 on that pid alone.

    getrusage(RUSAGE_CHILDREN) would report the maximum over all children so far, so a
    small run after a big one would inherit the big one's peak; wait4 gives each
    process its own figure without a wrapper process inflating the wall time.
    """
    with tempfile.TemporaryDirectory(prefix="mlopsdsl-bench-") as tmp, \
            tempfile.TemporaryFile() as output:
        argv = command.render(spec, tmp)
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)  # so Popen never waits again
        if command.expect_exit is not None and code != command.expect_exit:
            output.seek(0)
            text = output.read().decode("utf-8", "replace")[-4000:]
            raise CommandFailed(f"{command.name} exited {code} (expected {command.expect_exit}) on {spec}\n"
                                f"  command: {' '.join(argv)}\n{text}")
    return Sample(elapsed * 1000.0, usage.ru_maxrss / 1024.0)  # Linux reports KiB


@dataclass
class Row:
    steps: int
    shape: str
    spec_kib: float
    environments: int = gen_spec.BASE_ENVIRONMENTS
    wall_ms: dict[str, float] = field(default_factory=dict)  # median per command
    peak_mib: dict[str, float] = field(default_factory=dict)  # median per command
    samples_ms: dict[str, list[float]] = field(default_factory=dict)


def measure(commands: list[Command], spec: str, repeat: int, warmup: int = 1) -> dict[str, list[Sample]]:
    """Interleaved rounds; warm-up rounds fill the page cache and are not counted."""
    samples: dict[str, list[Sample]] = {c.name: [] for c in commands}
    for round_no in range(warmup + repeat):
        order = commands if round_no % 2 == 0 else list(reversed(commands))
        for command in order:
            sample = run_once(command, spec)
            if round_no >= warmup:
                samples[command.name].append(sample)
    return samples


def run_suite(commands: list[Command], sizes: list[tuple[int, int]], shape: str, repeat: int,
              workdir: str, progress=None) -> list[Row]:
    """`sizes`: (steps, environments) pairs."""
    rows = []
    for n, envs in sizes:
        spec = os.path.join(workdir, f"{shape}-{n}x{envs}.yaml")
        with open(spec, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(gen_spec.generate(n, shape, envs))
        samples = measure(commands, spec, repeat)
        row = Row(n, shape, os.path.getsize(spec) / 1024.0, envs)
        for name, runs in samples.items():
            row.wall_ms[name] = statistics.median(s.wall_ms for s in runs)
            row.peak_mib[name] = statistics.median(s.peak_mib for s in runs)
            row.samples_ms[name] = [round(s.wall_ms, 2) for s in runs]
        rows.append(row)
        if progress:
            progress(row)
    return rows


def format_table(rows: list[Row], floor: str, tools: list[str]) -> str:
    """Markdown table: per tool its median ms, ratio to the floor, peak MiB and ms/step.

    ms/step is the slope between this size and the previous one: roughly constant when
    the tool is linear, growing when it is superlinear (the first row has none, nor a row
    whose number of environments differs from the previous row's).
    """
    head = ["N", "envs", "spec KiB", f"{floor} ms", f"{floor} MiB"]
    for t in tools:
        head += [f"{t} ms", f"{t}/{floor}", f"{t} MiB", f"{t} ms/step"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    previous: Row | None = None
    for row in rows:
        cells = [f"{row.steps:,}", f"{row.environments:,}", f"{row.spec_kib:,.0f}", f"{row.wall_ms[floor]:,.0f}",
                 f"{row.peak_mib[floor]:,.0f}"]
        for t in tools:
            cells += [f"{row.wall_ms[t]:,.0f}", f"{row.wall_ms[t] / row.wall_ms[floor]:.2f}",
                      f"{row.peak_mib[t]:,.0f}", _slope(previous, row, t)]
        lines.append("| " + " | ".join(cells) + " |")
        previous = row
    return "\n".join(lines)


def _slope(previous: Row | None, row: Row, name: str) -> str:
    if previous is None or row.steps == previous.steps or row.environments != previous.environments:
        return "-"
    return f"{(row.wall_ms[name] - previous.wall_ms[name]) / (row.steps - previous.steps):.3f}"


def parse_args(description: str, argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sizes", default="10,100,1000,5000",
                        help="comma-separated step counts, each optionally xENVIRONMENTS (1000x50: 1,000 steps "
                             f"and 50 environments; default {gen_spec.BASE_ENVIRONMENTS})")
    parser.add_argument("--shape", choices=gen_spec.SHAPES, default="mixed")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds per size (after 1 warm-up)")
    parser.add_argument("--json", metavar="OUT", help="also write the results as JSON")
    parser.add_argument("--workdir", help="keep the generated specs here (default: a temp dir)")
    args = parser.parse_args(argv)
    try:
        args.sizes = [_size(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be STEPS or STEPSxENVIRONMENTS separated by commas, not {args.sizes!r}")
    if not args.sizes or args.repeat < 1:
        parser.error("need at least one size and --repeat >= 1")
    return args


def _size(text: str) -> tuple[int, int]:
    steps, _, envs = text.strip().partition("x")
    return int(steps), int(envs) if envs else gen_spec.BASE_ENVIRONMENTS


def byte_compile_tool() -> None:
    """Compile mlopsdsl's modules to .pyc first, as `pip install` of the wheel does.

    An editable install under PYTHONDONTWRITEBYTECODE (set on some CI images and
    these machines) would otherwise recompile every module in every timed run,
    ~25 ms that no installed user pays, while the floor's yaml has its .pyc.
    """
    import compileall

    import mlopsdsl

    compileall.compile_dir(str(Path(mlopsdsl.__file__).parent), quiet=1)


def main(tools: list[Command], description: str, argv: list[str] | None = None) -> int:
    """The whole CLI of a benchmark script: measure the floor and `tools` at each size."""
    args = parse_args(description, argv)
    byte_compile_tool()
    commands = [FLOOR, *tools]

    def progress(row: Row) -> None:
        done = ", ".join(f"{k} {v:,.0f} ms" for k, v in row.wall_ms.items())
        print(f"  N={row.steps:,} x {row.environments} envs ({row.spec_kib:,.0f} KiB): {done}", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="mlopsdsl-specs-") as tmp:
        workdir = args.workdir or tmp
        os.makedirs(workdir, exist_ok=True)
        try:
            rows = run_suite(commands, args.sizes, args.shape, args.repeat, workdir, progress)
        except CommandFailed as exc:
            print(f"benchmark FAILED: {exc}", file=sys.stderr)
            return 1
    print(f"shape={args.shape} repeat={args.repeat} (medians, interleaved) python={sys.version.split()[0]}")
    print(format_table(rows, FLOOR.name, [t.name for t in tools]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"shape": args.shape, "repeat": args.repeat, "python": sys.version,
                       "commands": {c.name: list(c.argv) for c in commands},
                       "rows": [asdict(r) for r in rows]}, handle, indent=2)
    return 0
