"""Train the gradient-boosted churn classifier (XGBoost) and save it for KServe's xgboost server.

The model artifact is a directory holding `model.json` (one of the file names the KServe
xgboost runtime loads) and `features.json` (the column order the transformer must send).
When MLFLOW_TRACKING_URI is set the run's parameters, training loss and model files are logged.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import xgboost as xgb

from churn import table


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
    args = ap.parse_args()
    data = table.read(args.train)
    x, names = table.matrix(data)
    y = data[table.LABEL]
    positives = max(float(y.sum()), 1.0)
    params = {"objective": "binary:logistic", "eval_metric": "logloss", "eta": args.lr, "max_depth": args.depth,
              "device": args.device, "tree_method": "hist", "seed": 0, "nthread": 1,
              "scale_pos_weight": (len(y) - positives) / positives if args.balanced else 1.0}
    history: dict = {}
    dtrain = xgb.DMatrix(x, label=y, feature_names=names)
    booster = xgb.train(params, dtrain, num_boost_round=args.rounds, evals=[(dtrain, "train")],
                        evals_result=history, verbose_eval=False)
    out = Path(args.model)
    out.mkdir(parents=True, exist_ok=True)
    booster.save_model(out / "model.json")
    (out / "features.json").write_text(json.dumps(names))
    loss = float(history["train"]["logloss"][-1])
    print(f"train: {len(y)} rows, {args.rounds} rounds, final train logloss {loss:.4f}; saved {out}")
    log_to_mlflow(params, loss, out)


def log_to_mlflow(params: dict, loss: float, model_dir: Path) -> None:
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        print("train: MLFLOW_TRACKING_URI is not set; not tracking")
        return
    import mlflow

    with mlflow.start_run(run_name="train") as run:
        mlflow.log_params(params)
        mlflow.log_metric("train_logloss", loss)
        mlflow.log_artifacts(str(model_dir), artifact_path="model")
    print(f"train: MLflow run {run.info.run_id}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
