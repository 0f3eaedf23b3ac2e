"""Fit a gradient-boosted regressor and save it where KServe's sklearn server loads it from.

The model artifact is a directory holding `model.joblib` (the file name the KServe sklearn
runtime looks for). When MLFLOW_TRACKING_URI is set, the run's parameters and training score
are logged and the model is registered under MLFLOW_REGISTERED_MODEL (default: house-prices).
"""

import argparse
import os

import joblib
from sklearn.ensemble import GradientBoostingRegressor

from house_prices import table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True, help="output directory for model.joblib")
    ap.add_argument("--n-estimators", type=int, default=200)
    ap.add_argument("--learning-rate", type=float, default=0.05)
    args = ap.parse_args()
    x, y, features = table.load(args.data)
    train_rows, _ = table.split(len(y))
    params = {"n_estimators": args.n_estimators, "learning_rate": args.learning_rate, "max_depth": 3,
              "random_state": 0}
    model = GradientBoostingRegressor(**params).fit(x[train_rows], y[train_rows])
    os.makedirs(args.model, exist_ok=True)
    path = os.path.join(args.model, "model.joblib")
    joblib.dump(model, path)
    score = model.score(x[train_rows], y[train_rows])
    print(f"train: R^2 on the training rows {score:.3f}; saved {path}")
    log_to_mlflow(params, {"train_r2": score}, model)


def log_to_mlflow(params: dict, metrics: dict, model) -> None:
    """Parameters, score and the model itself, registered as a new version (MLflow reads its
    experiment from MLFLOW_EXPERIMENT_NAME)."""
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        print("train: MLFLOW_TRACKING_URI is not set; not tracking")
        return
    import mlflow
    import mlflow.sklearn

    name = os.environ.get("MLFLOW_REGISTERED_MODEL", "house-prices")
    with mlflow.start_run():
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name=name,
                                        serialization_format="cloudpickle")
    print(f"train: MLflow model {name} version {info.registered_model_version}")


if __name__ == "__main__":
    main()
