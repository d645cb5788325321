"""Inter-annotator agreement on arrays: Krippendorff's alpha, ICC, pairwise matrix, per-unit disagreement.

Ratings are a (raters, units) float array with NaN where a rater did not rate a unit (the
layout of the `krippendorff` package); nominal values are class codes. Options keyword-only.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

Level = Literal["nominal", "interval"]


def _pairable(data: np.ndarray) -> np.ndarray:
    """Units rated by at least two raters (the only ones alpha can use)."""
    return (~np.isnan(data)).sum(axis=0) >= 2


def alpha(data: np.ndarray, *, level: Level) -> float:
    """Krippendorff's alpha (the maintained `krippendorff` package); NaN when undefined: fewer
    than two pairable ratings or a single value in all of them (no variation to agree on)."""
    import krippendorff

    data = np.asarray(data, dtype=float)
    usable = data[:, _pairable(data)] if data.ndim == 2 else data[:, :0]
    values = usable[~np.isnan(usable)]
    if values.size < 2 or np.unique(values).size < 2:
        return float("nan")
    return float(krippendorff.alpha(reliability_data=usable, level_of_measurement=level))


def encode(labels: Sequence[Sequence[str | None]], classes: Sequence[str]) -> np.ndarray:
    """(raters, units) class names (None = not rated) as codes in `classes` order, NaN missing."""
    index = {c: i for i, c in enumerate(classes)}
    out = np.full((len(labels), len(labels[0]) if labels else 0), np.nan)
    for r, row in enumerate(labels):
        for u, value in enumerate(row):
            if value is not None:
                out[r, u] = index[value]
    return out


def category_matrix(sets: Sequence[Sequence[Sequence[str] | None]], category: str) -> np.ndarray:
    """Multi-label ratings (a list of classes per rater and unit, None = not rated) as a 0/1
    (raters, units) array for one category: the input of its nominal alpha."""
    out = np.full((len(sets), len(sets[0]) if sets else 0), np.nan)
    for r, row in enumerate(sets):
        for u, chosen in enumerate(row):
            if chosen is not None:
                out[r, u] = float(category in chosen)
    return out


def icc(ratings: np.ndarray) -> dict[str, float]:
    """Shrout & Fleiss (1979) intraclass correlations of a complete (units, raters) array.

    ICC1 one-way random, ICC2 two-way random (absolute agreement), ICC3 two-way mixed
    (consistency); the `k` forms are the reliability of the raters' mean.
    """
    x = np.asarray(ratings, dtype=float)
    n, k = x.shape
    if n < 2 or k < 2 or np.isnan(x).any():
        raise ValueError(f"ICC needs a complete array of >= 2 units x >= 2 raters, got {n} x {k}"
                         + (" with missing ratings" if np.isnan(x).any() else ""))
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_err = ((x - grand) ** 2).sum() - ss_rows - ss_cols
    msr, msc = ss_rows / (n - 1), ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    msw = (ss_cols + ss_err) / (n * (k - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "ICC1": float((msr - msw) / (msr + (k - 1) * msw)),
            "ICC2": float((msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)),
            "ICC3": float((msr - mse) / (msr + (k - 1) * mse)),
            "ICC1k": float((msr - msw) / msr),
            "ICC2k": float((msr - mse) / (msr + (msc - mse) / n)),
            "ICC3k": float((msr - mse) / msr),
        }


def pairwise(data: np.ndarray, *, level: Level) -> tuple[np.ndarray, np.ndarray]:
    """(raters, raters) alpha of every pair over the units both rated, and how many units that was.

    The diagonal is 1 with the rater's own count; a pair with nothing to compare is NaN.
    """
    data = np.asarray(data, dtype=float)
    m = data.shape[0]
    scores, shared = np.full((m, m), np.nan), np.zeros((m, m), dtype=int)
    rated = ~np.isnan(data)
    for i in range(m):
        scores[i, i], shared[i, i] = 1.0, int(rated[i].sum())
        for j in range(i + 1, m):
            both = rated[i] & rated[j]
            shared[i, j] = shared[j, i] = int(both.sum())
            scores[i, j] = scores[j, i] = alpha(data[[i, j]][:, both], level=level)
    return scores, shared


def disagreement(data: np.ndarray, *, level: Level) -> np.ndarray:
    """Per unit: nominal, the share of ratings that differ from the most frequent value;
    interval, the standard deviation of the ratings. NaN for a unit with fewer than 2 ratings."""
    data = np.asarray(data, dtype=float)
    out = np.full(data.shape[1], np.nan)
    for u in np.flatnonzero(_pairable(data)):
        values = data[:, u][~np.isnan(data[:, u])]
        if level == "nominal":
            out[u] = 1.0 - np.unique(values, return_counts=True)[1].max() / values.size
        else:
            out[u] = float(values.std())
    return out


def versus_reference(data: np.ndarray, reference: np.ndarray, *, level: Level) -> np.ndarray:
    """Per rater: agreement with a reference value per unit (e.g. the consensus): nominal, the
    share of units rated equal to it; interval, the mean absolute difference. NaN: none shared."""
    data, reference = np.asarray(data, dtype=float), np.asarray(reference, dtype=float)
    out = np.full(data.shape[0], np.nan)
    for r in range(data.shape[0]):
        both = ~np.isnan(data[r]) & ~np.isnan(reference)
        if both.any():
            diff = data[r, both] - reference[both]
            out[r] = float((diff == 0).mean()) if level == "nominal" else float(np.abs(diff).mean())
    return out
