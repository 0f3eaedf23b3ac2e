"""Benchmark `mlopsdsl compile` of every built-in target against the floor, for linearity in N.

    python bench/bench_compile.py                        # N = 10,100,1000,5000, 3 rounds
    python bench/bench_compile.py --sizes 100,1000 --repeat 5 --json /tmp/compile.json

Whole processes, interleaved with the floor by bench/harness.py. Watch the ms/step column:
it should stay flat as N grows (compile is linear in the number of steps).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Command, main  # noqa: E402

COMPILE = Command("compile", ["{python}", "-m", "mlopsdsl", "compile", "{spec}", "--out", "{tmp}/out",
                              "--env", "production"])

if __name__ == "__main__":
    raise SystemExit(main([COMPILE], __doc__.splitlines()[0]))
