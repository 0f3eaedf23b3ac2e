"""Score the trained model on the held-out rows and write the Metrics artifact (one JSON object)."""

import argparse
import json
import os

import joblib
import numpy as np

from house_prices import table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True, help="the model directory train wrote")
    ap.add_argument("--data", required=True)
    ap.add_argument("--metrics", required=True)
    args = ap.parse_args()
    model = joblib.load(os.path.join(args.model, "model.joblib"))
    x, y, _ = table.load(args.data)
    _, test_rows = table.split(len(y))
    predicted = model.predict(x[test_rows])
    residual = y[test_rows] - predicted
    metrics = {"r2": float(1 - (residual ** 2).sum() / ((y[test_rows] - y[test_rows].mean()) ** 2).sum()),
               "rmse": float(np.sqrt((residual ** 2).mean())),
               "mae": float(np.abs(residual).mean()),
               "rows": int(len(test_rows))}
    os.makedirs(os.path.dirname(os.path.abspath(args.metrics)), exist_ok=True)
    with open(args.metrics, "w") as fh:
        json.dump(metrics, fh, sort_keys=True)
    print("evaluate:", json.dumps(metrics, sort_keys=True))


if __name__ == "__main__":
    main()
