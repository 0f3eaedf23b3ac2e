"""Evaluate the model on the hold-out set at the decision threshold that maximizes F1.

Writes the Metrics artifact as one JSON object (`accuracy`, `f1`, `auc`: what the register
gate reads), the threshold as an output parameter, and the ROC curve and confusion matrix as
a ClassificationMetrics artifact in KFP's JSON shape.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import xgboost as xgb
from sklearn import metrics as skm

from churn import table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--threshold-out", required=True)
    ap.add_argument("--curves", required=True)
    args = ap.parse_args()
    booster = xgb.Booster(model_file=str(Path(args.model) / "model.json"))
    data = table.read(args.test)
    x, names = table.matrix(data)
    y = data[table.LABEL]
    scores = booster.predict(xgb.DMatrix(x, feature_names=names))
    candidates = np.linspace(0.05, 0.95, 91)
    f1s = [skm.f1_score(y, scores >= t) for t in candidates]
    threshold = float(candidates[int(np.argmax(f1s))])
    predicted = scores >= threshold
    result = {"accuracy": float(skm.accuracy_score(y, predicted)), "f1": float(skm.f1_score(y, predicted)),
              "auc": float(skm.roc_auc_score(y, scores))}
    fpr, tpr, thresholds = skm.roc_curve(y, scores)
    keep = np.linspace(0, len(fpr) - 1, min(len(fpr), 50)).astype(int)
    curves = {"confidenceMetrics": [{"confidenceThreshold": float(min(thresholds[i], 1.0)),
                                     "falsePositiveRate": float(fpr[i]), "recall": float(tpr[i])} for i in keep],
              "confusionMatrix": {"annotationSpecs": [{"displayName": "stays"}, {"displayName": "churns"}],
                                  "rows": [{"row": [int(v) for v in r]}
                                           for r in skm.confusion_matrix(y, predicted)]}}
    for path, text in ((args.metrics, json.dumps(result, sort_keys=True)), (args.threshold_out, str(threshold)),
                       (args.curves, json.dumps(curves))):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
    print(f"evaluate: {json.dumps(result, sort_keys=True)} at threshold {threshold:.2f}")


if __name__ == "__main__":
    main()
