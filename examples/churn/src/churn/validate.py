"""Check the ingested table before anything trains on it, and report drift between exports.

Fails (exit 1) on what would poison training: a column out of range, too many missing values,
an unknown contract type, a label that is not 0/1. Drift of the newest export against the
earlier ones (PSI per feature) is reported, not fatal: the monitoring drift job owns that call.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from churn import drift, table

MAX_MISSING = 0.02
RANGES = {"tenure": (0, 600), "monthly_charges": (0, 1000), "total_charges": (0, 1e6), "support_calls": (0, 100)}
DRIFT_FEATURES = ["tenure", "monthly_charges", "contract"]


def problems(data: dict[str, np.ndarray]) -> list[str]:
    found = []
    for column, (low, high) in RANGES.items():
        values = data[column]
        missing = float(np.isnan(values).mean())
        if missing > MAX_MISSING:
            found.append(f"`{column}`: {missing:.1%} missing (at most {MAX_MISSING:.0%})")
        present = values[~np.isnan(values)]
        if present.size and (present.min() < low or present.max() > high):
            found.append(f"`{column}`: values outside [{low}, {high}]")
    unknown = sorted(set(data["contract"]) - set(table.CONTRACTS))
    if unknown:
        found.append(f"`contract`: unknown values {unknown}")
    if not set(np.unique(data[table.LABEL])) <= {0.0, 1.0}:
        found.append(f"`{table.LABEL}`: not 0/1")
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--report", required=True)
    args = ap.parse_args()
    data = table.read(args.data)
    found = problems(data)
    lines = ["# Data validation", "", f"{len(data['customer_id'])} rows.", ""]
    lines += [f"- FAIL {p}" for p in found] or ["All checks passed."]
    days = np.unique(data.get(table.EXPORT_DATE, np.array([])))
    if len(days) > 1:
        newest = data[table.EXPORT_DATE] == days[-1]
        scores = drift.scores(table.take(data, ~newest), table.take(data, newest), DRIFT_FEATURES)
        lines += ["", f"## Drift of {days[-1]} against earlier exports (PSI)", "",
                  "| feature | PSI |", "| --- | --- |", *(f"| {f} | {s} |" for f, s in scores.items())]
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if found:
        raise SystemExit(f"validate: {len(found)} problem(s); not training on this data")


if __name__ == "__main__":
    main()
