"""Drift scores between a reference sample and a current one, per feature.

psi: the population stability index over the reference's deciles (categories as their own
bins); ks: the two-sample Kolmogorov-Smirnov statistic D (scipy). The same numbers the
monitoring drift job compares against `monitoring.drift.threshold`.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

EPSILON = 1e-4  # an empty bin would make PSI infinite


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    if reference.dtype.kind in "US":
        categories = np.unique(np.concatenate([reference, current]))
        expected = np.array([(reference == c).mean() for c in categories])
        actual = np.array([(current == c).mean() for c in categories])
    else:
        reference, current = reference[~np.isnan(reference)], current[~np.isnan(current)]
        edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
        edges[0], edges[-1] = -np.inf, np.inf
        expected = np.histogram(reference, edges)[0] / len(reference)
        actual = np.histogram(current, edges)[0] / len(current)
    expected, actual = np.maximum(expected, EPSILON), np.maximum(actual, EPSILON)
    return float(((actual - expected) * np.log(actual / expected)).sum())


def ks(reference: np.ndarray, current: np.ndarray) -> float:
    return float(stats.ks_2samp(reference[~np.isnan(reference)], current[~np.isnan(current)]).statistic)


METHODS = {"psi": psi, "ks": ks}


def scores(reference: dict, current: dict, features: list[str], method: str = "psi") -> dict[str, float]:
    score = METHODS[method]
    return {f: round(score(reference[f], current[f]), 4) for f in features}
