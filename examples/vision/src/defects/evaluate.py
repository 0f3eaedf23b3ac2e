"""Evaluate the ONNX export on the test split: recall, precision and F1 on defects (the metrics
the publish gate reads) and the confusion matrix, as KFP's ClassificationMetrics."""

from __future__ import annotations

import argparse
import json


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="defects.evaluate", description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="the export's folder")
    ap.add_argument("--test", required=True)
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--confusion", required=True)
    return ap


def main(argv: list[str] | None = None) -> None:
    from defects import data, scoring, storage, tracking

    args = parser().parse_args(argv)
    test = data.load(args.test)
    result = scoring.metrics(test["labels"], scoring.predict(args.model, test["images"]))
    confusion = {"confusionMatrix": {"annotationSpecs": [{"displayName": "ok"}, {"displayName": "defect"}],
                                     "rows": [{"row": row} for row in result.pop("confusion")]}}
    with storage.open_uri(args.metrics, "w") as fh:
        json.dump(result, fh, sort_keys=True)
    with storage.open_uri(args.confusion, "w") as fh:
        json.dump(confusion, fh)
    with tracking.tracked("evaluate", {"test_images": len(test["labels"])}) as mlflow:
        if mlflow:
            mlflow.log_metrics({f"test_{name}": value for name, value in result.items()})
    print(f"evaluate: {json.dumps(result, sort_keys=True)} on {len(test['labels'])} test images")


if __name__ == "__main__":
    main()
