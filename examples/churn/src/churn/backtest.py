"""Score the model on one quarter of (simulated) history and write an HTML report.

A real project would load the quarter's accounts from the warehouse; the example simulates
each quarter with the export generator, later quarters drifting a little further.
"""

from __future__ import annotations

import argparse
import html
from pathlib import Path

import xgboost as xgb
from sklearn import metrics as skm

from churn import export, table

QUARTERS = ("2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quarter", required=True, choices=QUARTERS)
    ap.add_argument("--model", required=True)
    ap.add_argument("--report", required=True)
    args = ap.parse_args()
    index = QUARTERS.index(args.quarter)
    data = export.customers(600, seed=100 + index, shift=0.15 * index)
    booster = xgb.Booster(model_file=str(Path(args.model) / "model.json"))
    x, names = table.matrix(data)
    scores = booster.predict(xgb.DMatrix(x, feature_names=names))
    auc = skm.roc_auc_score(data[table.LABEL], scores)
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(
        f"<html><body><h1>Backtest {html.escape(args.quarter)}</h1>"
        f"<p>{len(scores)} accounts, AUC {auc:.3f}, churn rate {data[table.LABEL].mean():.1%}</p></body></html>\n")
    print(f"backtest {args.quarter}: AUC {auc:.3f}")


if __name__ == "__main__":
    main()
