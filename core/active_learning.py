"""Active learning: which unlabelled samples are most useful to label next (pure functions on arrays).

Uncertainty of the current model (margin or entropy of its class probabilities), then a
diversity step so near-duplicates (one video's frames) do not fill the queue: at most
`per_group` samples per group (source video/media), then k-center greedy over feature vectors
within a pool of the most uncertain candidates (Sener & Savarese 2018's core-set step, restricted
to uncertain points as in "uncertainty + diversity" batch selection).
"""
from __future__ import annotations

import numpy as np

METHODS = ("margin", "entropy")


def _probs(pred_probs: np.ndarray) -> np.ndarray:
    p = np.asarray(pred_probs, dtype=float)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"pred_probs must be (N, K) with K >= 2 classes, got shape {p.shape}")
    return p / np.clip(p.sum(1, keepdims=True), 1e-12, None)


def margin_uncertainty(pred_probs: np.ndarray) -> np.ndarray:
    """1 - (top probability - second probability): 1 = a tie between two classes, 0 = certain."""
    p = np.sort(_probs(pred_probs), axis=1)
    return 1.0 - (p[:, -1] - p[:, -2])


def entropy_uncertainty(pred_probs: np.ndarray) -> np.ndarray:
    """Shannon entropy of the probabilities divided by log K: 1 = uniform, 0 = certain."""
    p = _probs(pred_probs)
    h = -(p * np.log(np.clip(p, 1e-12, None))).sum(1)
    return h / np.log(p.shape[1])


def multilabel_uncertainty(sigmoids: np.ndarray, thresholds: np.ndarray | None = None, *,
                           method: str = "margin") -> np.ndarray:
    """Per sample, the mean over categories of how undecided each independent yes/no is.
    margin: 1 - |p - t| / max(t, 1 - t) (1 = exactly at the category's threshold t, 0 = as far
    from it as possible); entropy: binary entropy of p in bits. Rows are (N, K) sigmoid outputs."""
    p = np.clip(np.asarray(sigmoids, dtype=float), 0.0, 1.0)
    if p.ndim != 2 or p.shape[1] < 1:
        raise ValueError(f"sigmoids must be (N, K), got shape {p.shape}")
    if method == "margin":
        t = np.full(p.shape[1], 0.5) if thresholds is None else np.asarray(thresholds, dtype=float)
        return (1.0 - np.abs(p - t) / np.maximum(t, 1.0 - t)).mean(1)
    if method == "entropy":
        q = np.clip(p, 1e-12, 1 - 1e-12)
        return (-(q * np.log2(q) + (1 - q) * np.log2(1 - q))).mean(1)
    raise ValueError(f"unknown uncertainty {method!r}; one of {', '.join(METHODS)}")


def uncertainty(pred_probs: np.ndarray, *, method: str = "margin") -> np.ndarray:
    if method == "margin":
        return margin_uncertainty(pred_probs)
    if method == "entropy":
        return entropy_uncertainty(pred_probs)
    raise ValueError(f"unknown uncertainty {method!r}; one of {', '.join(METHODS)}")


def cap_per_group(order: np.ndarray, groups: np.ndarray | None, per_group: int | None) -> np.ndarray:
    """`order` (row indices, best first) keeping at most per_group rows of each group."""
    if groups is None or per_group is None:
        return np.asarray(order)
    if per_group < 1:
        raise ValueError("per_group must be at least 1")
    taken: dict[object, int] = {}
    keep = []
    for i in order:
        g = groups[i]
        if taken.get(g, 0) < per_group:
            taken[g] = taken.get(g, 0) + 1
            keep.append(i)
    return np.asarray(keep, dtype=int)


def k_center_greedy(features: np.ndarray, k: int, *, labelled: np.ndarray | None = None,
                    first: int = 0) -> np.ndarray:
    """k row indices of `features`, each the row farthest from every row chosen before it (and
    from the `labelled` rows, when given); starts at row `first` when nothing is labelled."""
    x = np.asarray(features, dtype=float)
    k = min(k, len(x))
    if k <= 0:
        return np.zeros(0, dtype=int)
    if labelled is not None and len(labelled):
        lab = np.asarray(labelled, dtype=float)
        dist = np.full(len(x), np.inf)
        sq = (x ** 2).sum(1)
        for i in range(0, len(lab), 1024):  # bounded memory on a big labelled set
            part = lab[i:i + 1024]
            d = sq[:, None] + (part ** 2).sum(1)[None, :] - 2 * x @ part.T
            dist = np.minimum(dist, np.clip(d, 0, None).min(1))
        chosen: list[int] = []
    else:
        chosen = [first]
        dist = ((x - x[first]) ** 2).sum(1)
    while len(chosen) < k:
        dist[chosen] = -1.0
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, ((x - x[nxt]) ** 2).sum(1))
    return np.asarray(chosen, dtype=int)


def select_batch(pred_probs: np.ndarray, k: int, *, method: str = "margin",
                 features: np.ndarray | None = None, groups: np.ndarray | None = None,
                 per_group: int | None = None, pool: float = 4.0,
                 labelled_features: np.ndarray | None = None, scores: np.ndarray | None = None) -> np.ndarray:
    """Row indices of the k unlabelled samples to label next, in queue order.

    1. rank by uncertainty (most uncertain first, ties by row order);
    2. keep at most `per_group` per group (e.g. per source video);
    3. with features: the `pool` x k most uncertain left, then k-center greedy over their
       (standardised) features, starting from the most uncertain one or away from the
       `labelled_features` (given in the same space as `features`). Without features the
       capped uncertainty order is the queue. `scores`: uncertainties computed elsewhere (e.g.
       multilabel_uncertainty) instead of those of pred_probs."""
    u = uncertainty(pred_probs, method=method) if scores is None else np.asarray(scores, dtype=float)
    order = np.lexsort((np.arange(len(u)), -u))
    order = cap_per_group(order, groups, per_group)
    if features is None or len(order) <= k:
        return order[:k]
    cand = order[:max(k, int(np.ceil(pool * k)))]
    x = np.asarray(features, dtype=float)
    mean, std = x[cand].mean(0), x[cand].std(0)
    std[std < 1e-8] = 1.0
    lab = None if labelled_features is None else (np.asarray(labelled_features, dtype=float) - mean) / std
    picked = k_center_greedy((x[cand] - mean) / std, k, labelled=lab, first=0)
    return cand[picked]


def labels_to_reach(curve: list[tuple[int, float]], target: float) -> int | None:
    """The first label count of a learning curve [(labels, score), ...] whose score >= target."""
    return next((n for n, s in curve if s >= target), None)
