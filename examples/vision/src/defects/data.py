"""The splits prepare writes and the other steps read: one .npz per split with `images` (uint8,
N x 3 x S x S), `labels` (1 = defect) and `lines` (the product line of each image)."""

from __future__ import annotations

from typing import Any

import numpy as np

from defects.storage import open_uri


def save(uri: str, images: np.ndarray, labels: np.ndarray, lines: np.ndarray) -> None:
    with open_uri(uri, "wb") as fh:  # a file object: np.savez would append ".npz" to a name
        np.savez_compressed(fh, images=images, labels=labels, lines=lines)


def load(uri: str) -> dict[str, Any]:
    with open_uri(uri, "rb") as fh:
        with np.load(fh, allow_pickle=False) as split:
            return {name: split[name] for name in ("images", "labels", "lines")}


def normalized(images: np.ndarray) -> np.ndarray:
    """uint8 pixels to the float32 the model takes (the export's input, too)."""
    return (images.astype(np.float32) / 255.0 - 0.5) / 0.25
