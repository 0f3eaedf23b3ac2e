"""Benchmark what the expression parser's private cache saves at start-up (issue 13).

    python bench/bench_startup.py --sizes 10 --repeat 10

`validate` with the cache in `~/.cache/mlopsdsl` (made on the warm-up round) against
`validate` with `MLOPSDSL_NO_CACHE=1` (lark analyses the grammar in every process), both
against the floor. Both run through `env` so they pay the same extra exec.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Command, main  # noqa: E402

CACHED = Command("validate", ["env", "MLOPSDSL_NO_CACHE=", "{python}", "-m", "mlopsdsl", "validate", "{spec}"])
UNCACHED = Command("no-cache", ["env", "MLOPSDSL_NO_CACHE=1", "{python}", "-m", "mlopsdsl", "validate", "{spec}"])

if __name__ == "__main__":
    raise SystemExit(main([CACHED, UNCACHED], __doc__.splitlines()[0]))
