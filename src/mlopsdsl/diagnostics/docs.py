"""Generates `docs/diagnostics.md` from the code registry, so the two cannot drift.

    python -m mlopsdsl.diagnostics.docs            # write the file
    python -m mlopsdsl.diagnostics.docs --check    # exit 1 if the file is stale

SARIF `helpUri`s point at the anchors written here (`#mld201`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlopsdsl.diagnostics.codes import RANGES, REGISTRY, Code

# src/mlopsdsl/diagnostics/docs.py -> the repository root, in a source checkout.
_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_OUT = (_ROOT if (_ROOT / "pyproject.toml").is_file() else Path.cwd()) / "docs" / "diagnostics.md"

HEADER = """\
# Diagnostic codes

<!-- Generated from src/mlopsdsl/diagnostics/codes.py by `python -m mlopsdsl.diagnostics.docs`; do not edit. -->

Every problem mlopsdsl reports carries a code (`MLD201`) and a stable name (`unknown-key`).
A code keeps its meaning once published; a retired code is never reused. Exit status: 0 when a
spec has no errors (warnings and notes allowed), 1 when it has errors, 2 for usage, I/O and
internal errors.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(code: Code) -> str:
    anchor = f'<a id="{code.code.lower()}"></a>'
    return f"| {anchor}{code.code} | `{code.name}` | {code.severity.value} | {_cell(code.summary)} |"


def generate() -> str:
    by_range: dict[str, list[Code]] = {digit: [] for digit in RANGES}
    for code in sorted(REGISTRY.values(), key=lambda c: c.code):
        by_range[code.code[3]].append(code)
    parts = [HEADER]
    for digit, title in RANGES.items():
        parts.append(f"\n## {digit}xx: {title}\n\n")
        if not by_range[digit]:
            parts.append("No codes in this range yet.\n")
            continue
        parts.append("| code | name | severity | summary |\n| --- | --- | --- | --- |\n")
        parts.extend(_row(code) + "\n" for code in by_range[digit])
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlopsdsl.diagnostics.docs", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file is out of date")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    args = parser.parse_args(argv)
    text = generate()
    current = args.out.read_text(encoding="utf-8") if args.out.is_file() else None
    if args.check:
        if current != text:
            print(f"{args.out} is out of date; run `python -m mlopsdsl.diagnostics.docs`", file=sys.stderr)
            return 1
        return 0
    if current != text:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
