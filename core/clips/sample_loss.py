"""Per-clip losses for Review: each clip's training objective read per sample (one number per clip
and modality) and clips ordered best / worst by it.

Terms per trained task, weight 1 each as clip training weighs them: single-label cross-entropy,
multi-label mean binary cross-entropy over the categories, distribution KL(true || predicted),
V/A and dominance squared error (per sample, in place of the batch-level 1 - CCC), stress binary
cross-entropy, named targets squared error on their ranges scaled to [0, 1]. A clip without a label
for any trained task has no loss (NaN)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.inference.prediction import FacePrediction
from core.label_schema import LabelSchema
from core.metrics_modes import kl_rows

EPS = 1e-6  # probabilities are clamped to [EPS, 1 - EPS] inside a log
ORDERS = ("worst", "best")


def prediction_arrays(preds: Sequence[FacePrediction], schema: LabelSchema) -> dict[str, np.ndarray]:
    """FacePredictions as arrays: probs (M, K) in class order, va (M, 2), stress (M,), dominance
    (M,) (NaN without the head) and targets (M, T) in the schema's target order (NaN when absent)."""
    classes, names = list(schema.classes), [t.name for t in schema.targets]
    m = len(preds)
    return {
        "probs": np.array([[p.probs.get(c, 0.0) for c in classes] for p in preds], float).reshape(m, len(classes)),
        "va": np.array([[p.valence, p.arousal] for p in preds], float).reshape(m, 2),
        "stress": np.array([p.stress for p in preds], float),
        "dominance": np.array([np.nan if p.dominance is None else p.dominance for p in preds], float),
        "targets": np.array([[p.targets.get(n, np.nan) for n in names] for p in preds], float).reshape(m, len(names)),
    }


def _bce(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


def _emotion_term(probs: np.ndarray, y: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(per-clip term, labelled): y is class codes (-1 = none) for single, (M, K) rows (NaN = none)
    of 0/1 (multi) or probabilities (distribution)."""
    if mode == "single":
        labelled = y >= 0
        p = probs[np.arange(len(y)), np.where(labelled, y, 0)]
        return -np.log(np.clip(p, EPS, 1.0)), labelled
    labelled = np.isfinite(y).all(axis=1)
    y = np.nan_to_num(y)
    if mode == "distribution":
        total = y.sum(axis=1, keepdims=True)
        labelled &= total[:, 0] > 0
        return kl_rows(y / np.maximum(total, EPS), probs), labelled
    return _bce(probs, y).mean(axis=1), labelled


def _squared(pred: np.ndarray, y: np.ndarray, span: np.ndarray | float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(mean squared error over a clip's labelled columns / span, labelled) for (M, C) arrays."""
    known = np.isfinite(y) & np.isfinite(pred)
    sq = np.where(known, ((pred - np.nan_to_num(y)) / span) ** 2, 0.0)
    count = known.sum(axis=1)
    return sq.sum(axis=1) / np.maximum(count, 1), count > 0


def clip_sample_losses(pred: dict[str, np.ndarray], targets: dict[str, np.ndarray], schema: LabelSchema,
                       tasks: Sequence[str]) -> np.ndarray:
    """(M,) per-clip loss over the trained `tasks` (see the module docstring). pred: prediction_arrays;
    targets: per task as clip training builds them ("emotion", "va" (M, 2), "dominance" and
    "stress" (M, 1), "targets" (M, T); NaN or -1 = not labelled)."""
    m = len(pred["probs"])
    total, any_term = np.zeros(m), np.zeros(m, bool)
    for task in tasks:
        if task not in targets:
            continue
        y = np.asarray(targets[task])
        if task == "emotion":
            term, mask = _emotion_term(pred["probs"], y, schema.emotion_mode)
        elif task == "va":
            term, mask = _squared(pred["va"], y.astype(float))
        elif task == "dominance":
            term, mask = _squared(pred["dominance"][:, None], y.astype(float).reshape(m, 1))
        elif task == "stress":
            t = y.astype(float).reshape(m)
            mask = np.isfinite(t)
            term = _bce(pred["stress"], np.nan_to_num(t))
        elif task == "targets":
            span = np.array([t.high - t.low for t in schema.targets], float)
            term, mask = _squared(pred["targets"], y.astype(float), span)
        else:
            raise ValueError(f"unknown clip task {task!r}")
        total += np.where(mask, np.nan_to_num(term), 0.0)
        any_term |= mask
    return np.where(any_term, total, np.nan)


def order_by_loss(ids: Sequence[int], losses: Sequence[float | None], order: str = "worst") -> list[int]:
    """The ids with a loss, highest loss first ("worst") or lowest first ("best"); ties by id."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; one of {', '.join(ORDERS)}")
    ids_a = np.asarray(ids, np.int64)
    loss = np.array([np.nan if v is None else float(v) for v in losses], float)
    keep = np.flatnonzero(np.isfinite(loss))
    key = loss[keep] if order == "best" else -loss[keep]
    return ids_a[keep[np.lexsort((ids_a[keep], key))]].tolist()
