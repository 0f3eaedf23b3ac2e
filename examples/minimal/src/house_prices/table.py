"""Reading the CSV table the prepare step writes, and the split every step agrees on."""

import numpy as np

TARGET = "price_k"


def load(path: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    with open(path) as fh:
        header = fh.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    target = header.index(TARGET)
    features = [c for c in header if c != TARGET]
    return np.delete(data, target, axis=1), data[:, target], features


def split(n: int, test_fraction: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Row indexes of the train and test parts (fixed seed: train and evaluate agree)."""
    order = np.random.default_rng(seed).permutation(n)
    cut = int(n * (1 - test_fraction))
    return order[:cut], order[cut:]
