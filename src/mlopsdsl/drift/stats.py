"""The drift statistics: one score per feature, higher = further from the reference.

| method | numeric feature | categorical feature | score |
| --- | --- | --- | --- |
| `psi` | bins at the reference's deciles | one bin per category | sum (c - r) ln(c / r) over bins (proportions, empty bins at EPSILON) |
| `ks` | two-sample Kolmogorov-Smirnov statistic D = max abs(F_ref - F_cur) | refused | D in [0, 1] |
| `wasserstein` | 1-D earth mover's distance, in reference standard deviations | refused | >= 0 |
| `chi2` | bins at the reference's deciles | one bin per category | Cramer's V of the 2 x k contingency table (reference vs current): sqrt(chi2 / n), in [0, 1] |

KS and Wasserstein are computed here with numpy and held equal to `scipy.stats.ks_2samp`
and `scipy.stats.wasserstein_distance` by the tests; the chi-squared statistic is
`scipy.stats.chi2_contingency`'s (without Yates' correction).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

EPSILON = 1e-4  # the proportion an empty bin counts as in PSI (ln 0 is undefined)
BINS = 10


class StatsError(ValueError):
    """The data cannot give this score (no rows, a category where a number is needed...)."""


def _numeric(values: Sequence, name: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise StatsError(f"{name}: not numeric ({exc})") from None
    array = array[~np.isnan(array)]
    if array.size == 0:
        raise StatsError(f"{name}: no values")
    return array


def _edges(reference: np.ndarray) -> np.ndarray:
    """Inner bin edges at the reference's deciles (duplicates merged for discrete data)."""
    return np.unique(np.quantile(reference, np.linspace(0, 1, BINS + 1)[1:-1]))


def _counts(reference: Sequence, current: Sequence, categorical: bool) -> tuple[np.ndarray, np.ndarray]:
    """Counts per bin (numeric: reference deciles) or per category, reference and current."""
    if categorical:
        ref, cur = [str(v) for v in reference], [str(v) for v in current]
        if not ref or not cur:
            raise StatsError("no values")
        categories = sorted(set(ref) | set(cur))
        index = {c: i for i, c in enumerate(categories)}
        out = np.zeros((2, len(categories)))
        for row, values in ((0, ref), (1, cur)):
            np.add.at(out[row], [index[v] for v in values], 1)
        return out[0], out[1]
    ref, cur = _numeric(reference, "reference"), _numeric(current, "current")
    edges = _edges(ref)
    bins = len(edges) + 1
    return (np.bincount(np.searchsorted(edges, ref, side="right"), minlength=bins).astype(float),
            np.bincount(np.searchsorted(edges, cur, side="right"), minlength=bins).astype(float))


def psi(reference: Sequence, current: Sequence, categorical: bool = False) -> float:
    ref, cur = _counts(reference, current, categorical)
    p, q = np.maximum(ref / ref.sum(), EPSILON), np.maximum(cur / cur.sum(), EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def ks(reference: Sequence, current: Sequence, categorical: bool = False) -> float:
    if categorical:
        raise StatsError("ks needs numeric values: use psi or chi2 for a categorical feature")
    ref, cur = np.sort(_numeric(reference, "reference")), np.sort(_numeric(current, "current"))
    grid = np.concatenate([ref, cur])
    cdf_ref = np.searchsorted(ref, grid, side="right") / ref.size
    cdf_cur = np.searchsorted(cur, grid, side="right") / cur.size
    return float(np.max(np.abs(cdf_ref - cdf_cur)))


def wasserstein(reference: Sequence, current: Sequence, categorical: bool = False) -> float:
    if categorical:
        raise StatsError("wasserstein needs numeric values: use psi or chi2 for a categorical feature")
    ref, cur = _numeric(reference, "reference"), _numeric(current, "current")
    scale = float(np.std(ref)) or 1.0  # a constant reference: distances in its own units
    ref, cur = np.sort(ref / scale), np.sort(cur / scale)
    grid = np.sort(np.concatenate([ref, cur]))
    widths = np.diff(grid)
    cdf_ref = np.searchsorted(ref, grid[:-1], side="right") / ref.size
    cdf_cur = np.searchsorted(cur, grid[:-1], side="right") / cur.size
    return float(np.sum(np.abs(cdf_ref - cdf_cur) * widths))


def chi2(reference: Sequence, current: Sequence, categorical: bool = False) -> float:
    from scipy.stats import chi2_contingency

    ref, cur = _counts(reference, current, categorical)
    keep = (ref + cur) > 0
    table = np.vstack([ref[keep], cur[keep]])
    if table.shape[1] < 2:
        return 0.0  # one category (or bin) on both sides: nothing differs
    statistic = chi2_contingency(table, correction=False)[0]
    return float(np.sqrt(statistic / table.sum()))


METHODS: dict[str, Callable[..., float]] = {"psi": psi, "ks": ks, "wasserstein": wasserstein, "chi2": chi2}
CATEGORICAL_TYPES = frozenset({"str", "bool", "category"})
