"""Benchmark `mlopsdsl validate` against the floor (python + yaml.compose of the same file).

    python bench/bench_validate.py                       # N = 10,100,1000,5000, 5 rounds
    python bench/bench_validate.py --sizes 10,1000 --repeat 3 --json /tmp/validate.json

The ratio column is what to watch: validate's cost over what any Python tool must pay
to read the spec. See bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Command, main  # noqa: E402

VALIDATE = Command("validate", ["{python}", "-m", "mlopsdsl", "validate", "{spec}"])

if __name__ == "__main__":
    raise SystemExit(main([VALIDATE], __doc__.splitlines()[0]))
