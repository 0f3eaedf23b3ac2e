"""Run the exported ONNX model on a split with onnxruntime (what ships is what is measured) and
count what matters for inspection: recall on defects first."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from defects import data

BATCH = 64


def predict(model_dir: str, images: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(os.path.join(model_dir, "model.onnx"), providers=["CPUExecutionProvider"])
    out = [session.run(["logits"], {"image": data.normalized(images[i:i + BATCH])})[0]
           for i in range(0, len(images), BATCH)]
    return np.concatenate(out).argmax(axis=1)


def metrics(labels: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    tp = int(((predicted == 1) & (labels == 1)).sum())
    fp = int(((predicted == 1) & (labels == 0)).sum())
    fn = int(((predicted == 0) & (labels == 1)).sum())
    tn = int(((predicted == 0) & (labels == 0)).sum())
    recall = tp / (tp + fn) if tp + fn else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"recall": recall, "precision": precision, "f1": f1, "confusion": [[tn, fp], [fn, tp]]}
