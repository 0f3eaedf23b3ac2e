"""Train the gradient-boosted churn classifier (XGBoost) and save it for KServe's xgboost server.

The model artifact is a directory holding `model.json` (one of the file names the KServe
xgboost runtime loads) and `features.json` (the column order the transformer must send).
`--val-metrics` gets 5-fold cross-validated AUC and log loss on the train split (the tuning
objective); each is also printed as `name=value` for Katib's StdOut metrics collector.
When MLFLOW_TRACKING_URI is set the run's parameters, metrics and model files are logged.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import xgboost as xgb

from churn import table
from churn.ingest import local_path


def flag(text: str) -> bool:
    """KFP renders booleans as `true`/`false` (the launcher) or `True`/`False` (kfp.local)."""
    if text.lower() not in ("true", "false", "1", "0"):
        raise argparse.ArgumentTypeError(f"not a boolean: {text!r}")
    return text.lower() in ("true", "1")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--train", required=True)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--balanced", type=flag, default=True)
    ap.add_argument("--rounds", type=int, default=150)
    ap.add_argument("--model", required=True)
    ap.add_argument("--val-metrics", help="where to write the cross-validation metrics (JSON)")
    args = ap.parse_args()
    data = table.read(local_path(args.train))
    x, names = table.matrix(data)
    y = data[table.LABEL]
    positives = max(float(y.sum()), 1.0)
    params = {"objective": "binary:logistic", "eval_metric": "logloss", "eta": args.lr, "max_depth": args.depth,
              "device": args.device, "tree_method": "hist", "seed": 0, "nthread": 1,
              "scale_pos_weight": (len(y) - positives) / positives if args.balanced else 1.0}
    history: dict = {}
    dtrain = xgb.DMatrix(x, label=y, feature_names=names)
    folds = xgb.cv({**params, "eval_metric": ["logloss", "auc"]}, dtrain, num_boost_round=args.rounds, nfold=5,
                   stratified=True, seed=0)
    validation = {"auc": float(folds["test-auc-mean"].iloc[-1]), "logloss": float(folds["test-logloss-mean"].iloc[-1])}
    for name, value in validation.items():
        print(f"{name}={value:.6f}")
    if args.val_metrics:
        Path(args.val_metrics).parent.mkdir(parents=True, exist_ok=True)
        Path(args.val_metrics).write_text(json.dumps(validation, sort_keys=True))
    booster = xgb.train(params, dtrain, num_boost_round=args.rounds, evals=[(dtrain, "train")],
                        evals_result=history, verbose_eval=False)
    out = Path(args.model)
    out.mkdir(parents=True, exist_ok=True)
    booster.save_model(out / "model.json")
    (out / "features.json").write_text(json.dumps(names))
    loss = float(history["train"]["logloss"][-1])
    print(f"train: {len(y)} rows, {args.rounds} rounds, final train logloss {loss:.4f}; saved {out}")
    log_to_mlflow(params, {"train_logloss": loss, **{f"cv_{k}": v for k, v in validation.items()}}, out)


def log_to_mlflow(params: dict, metrics: dict, model_dir: Path) -> None:
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        print("train: MLFLOW_TRACKING_URI is not set; not tracking")
        return
    import mlflow

    with mlflow.start_run(run_name="train") as run:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        mlflow.log_artifacts(str(model_dir), artifact_path="model")
    print(f"train: MLflow run {run.info.run_id}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
