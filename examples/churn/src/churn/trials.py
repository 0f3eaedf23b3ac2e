"""The fan-in after tuning: every trial of the search in one report, best first.

Reads the tuned step's `trials` output (a JSON list, one object per trial: `number`, `params`,
`value` (the objective), `state`, `metrics`) and writes a Markdown table, so a reviewer sees how
flat or sharp the objective was around the chosen values. Optuna's trials finish as `COMPLETE` with
a number; Katib's as `Succeeded` with the collector's text ("0.91").
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path


FINISHED = ("COMPLETE", "Succeeded")  # Optuna's TrialState, Katib's Trial condition


def score(trial: dict) -> float | None:
    try:
        value = float(trial["value"])
    except (TypeError, ValueError):
        return None
    return value if trial["state"] in FINISHED and not math.isnan(value) else None


def rows(trials: list[dict], goal: str) -> list[dict]:
    """Finished trials by objective (best first), then the others by number."""
    finished = [t for t in trials if score(t) is not None]
    finished.sort(key=lambda t: (-score(t) if goal == "maximize" else score(t), t["number"]))
    return finished + sorted((t for t in trials if score(t) is None), key=lambda t: t["number"])


def report(trials: list[dict], objective: str, goal: str) -> str:
    ordered = rows(trials, goal)
    names = sorted({name for t in trials for name in t["params"]})
    lines = [f"# Tuning: {len(trials)} trials, {objective} ({goal})", "",
             "| trial | " + " | ".join(names) + f" | {objective} | state |",
             "| --- " * (len(names) + 3) + "|"]
    for t in ordered:
        value = "" if score(t) is None else f"{score(t):.4f}"
        cells = [str(t["number"]), *(str(t["params"].get(n, "")) for n in names), value, t["state"]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trials", required=True, help="the tuned step's `trials` output (JSON)")
    ap.add_argument("--objective", default="auc")
    ap.add_argument("--goal", choices=("maximize", "minimize"), default="maximize")
    ap.add_argument("--report", required=True)
    args = ap.parse_args()
    trials = json.loads(args.trials)
    complete = sum(score(t) is not None for t in trials)
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(report(trials, args.objective, args.goal), encoding="utf-8")
    print(f"trials: {len(trials)}, complete: {complete}")


if __name__ == "__main__":
    main()
