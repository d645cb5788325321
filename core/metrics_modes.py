"""Metrics per label mode: multi-label (P/R/F1, mAP, tuned thresholds), distributions (KL, top-1,
per-class CCC), named targets (CCC, MAE, RMSE, Pearson, 1 - MAE) and the combined score over heads.

Pure functions on numpy arrays (scikit-learn where it has the metric); missing labels are NaN rows
(multi-label sets, distributions) or NaN values (dominance, targets). Results are JSON-safe.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn import metrics as skm

from core.metrics import ccc, evaluate_predictions, mae, pearson, rmse

THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)  # candidates tune_thresholds tries
EPS = 1e-7


def _num(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _rows(y_true: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The labelled rows (no NaN) of (N, K) truth and predictions."""
    y, p = np.asarray(y_true, np.float64), np.asarray(pred, np.float64)
    if y.shape != p.shape or y.ndim != 2:
        raise ValueError(f"y_true {y.shape} and predictions {p.shape} must be the same (N, K)")
    keep = np.isfinite(y).all(axis=1)
    return y[keep], p[keep]


def tune_thresholds(y_true: np.ndarray, scores: np.ndarray, *,
                    grid: Sequence[float] = THRESHOLD_GRID) -> np.ndarray:
    """(K,) per-class thresholds maximising that class's F1 on these rows (ties: the one nearest
    0.5); 0.5 for a class without positives."""
    y, s = _rows(y_true, scores)
    grid = np.asarray(grid, np.float64)
    grid = grid[np.argsort(np.abs(grid - 0.5), kind="stable")]  # nearest 0.5 first wins ties
    truth = (y > 0.5)[:, :, None]  # (N, K, 1)
    pred = s[:, :, None] >= grid  # (N, K, G)
    tp, fp = (pred & truth).sum(0), (pred & ~truth).sum(0)
    fn = (~pred & truth).sum(0)
    f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)  # (K, G); F1 as scikit-learn's, 0 when undefined
    return np.where(truth.any(axis=0)[:, 0], grid[f1.argmax(axis=1)], 0.5)


def multilabel_metrics(y_true: np.ndarray, scores: np.ndarray, *, classes: Sequence[str],
                       thresholds: Sequence[float] | None = None) -> dict | None:
    """Per-category precision, recall, F1, support and average precision at the thresholds
    (0.5 each by default); macro F1 over the categories that occur in the truth or the
    predictions, micro F1 over all decisions, mAP = mean AP over categories with a positive.
    None when no row is labelled."""
    y, s = _rows(y_true, scores)
    if not len(y):
        return None
    t = np.full(len(classes), 0.5) if thresholds is None else np.asarray(thresholds, np.float64)
    truth, pred = (y > 0.5).astype(int), (s >= t).astype(int)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        truth, pred, average=None, zero_division=0)
    present = (truth.sum(0) > 0) | (pred.sum(0) > 0)
    ap = [skm.average_precision_score(truth[:, k], s[:, k]) if truth[:, k].any() else None
          for k in range(len(classes))]
    known_ap = [a for a in ap if a is not None]
    per = {c: {"precision": float(precision[k]), "recall": float(recall[k]), "f1": float(f1[k]),
               "support": int(support[k]), "ap": _num(ap[k]), "threshold": float(t[k])}
           for k, c in enumerate(classes)}
    return {"per_class": per, "classes": list(classes),
            "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
            "micro_f1": float(skm.f1_score(truth, pred, average="micro", zero_division=0)),
            "map": float(np.mean(known_ap)) if known_ap else None,
            "thresholds": {c: float(t[k]) for k, c in enumerate(classes)}, "n": int(len(y))}


def kl_rows(y_true: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """KL(true || probs) per row (natural log; probs clipped at 1e-7)."""
    y, p = np.asarray(y_true, np.float64), np.clip(np.asarray(probs, np.float64), EPS, 1.0)
    terms = np.where(y > 0, y * (np.log(np.where(y > 0, y, 1.0)) - np.log(p)), 0.0)
    return terms.sum(axis=1)


def distribution_metrics(y_true: np.ndarray, probs: np.ndarray, *, classes: Sequence[str]
                         ) -> dict | None:
    """Mean KL(true || predicted), the same for the uniform distribution (the baseline) and
    kl_skill = 1 - KL / KL_uniform (> 0: better than uniform); top-1 agreement of the most
    probable class with the dominant true emotion; CCC of each class's intensity."""
    y, p = _rows(y_true, probs)
    keep = y.sum(axis=1) > 0  # an all-zero row ("no emotion") has nothing to match
    y, p = y[keep], p[keep]
    if not len(y):
        return None
    y = y / y.sum(axis=1, keepdims=True)
    kl = float(kl_rows(y, p).mean())
    kl_uniform = float(kl_rows(y, np.full_like(y, 1.0 / y.shape[1])).mean())
    per_class = {c: _num(ccc(y[:, k], p[:, k])) for k, c in enumerate(classes)}
    known = [v for v in per_class.values() if v is not None]
    return {"kl": kl, "kl_uniform": kl_uniform,
            "kl_skill": 1.0 - kl / kl_uniform if kl_uniform > 0 else None,
            "top1_agreement": float((y.argmax(1) == p.argmax(1)).mean()),
            "ccc_per_class": per_class, "ccc_mean": float(np.mean(known)) if known else None,
            "classes": list(classes), "n": int(len(y))}


def target_metrics(y_true: np.ndarray, y_pred: np.ndarray, *, low: float = 0.0,
                   high: float = 1.0) -> dict | None:
    """CCC, Pearson, RMSE, MAE and "1 - MAE" (FIV2's accuracy: MAE on the range scaled to
    [0, 1]) over the labelled values; None when none is."""
    t, p = np.asarray(y_true, np.float64).ravel(), np.asarray(y_pred, np.float64).ravel()
    keep = np.isfinite(t)
    if not keep.any():
        return None
    t, p = t[keep], p[keep]
    err = mae(t, p)
    return {"ccc": _num(ccc(t, p)), "pearson": _num(pearson(t, p)), "rmse": _num(rmse(t, p)),
            "mae": _num(err), "one_minus_mae": _num(1.0 - err / (high - low)), "n": int(keep.sum())}


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


def evaluate_heads(*, mode: str, classes: Sequence[str], emotion_true: np.ndarray,
                   emotion_pred: np.ndarray, va_true: np.ndarray, va_pred: np.ndarray,
                   stress_true: np.ndarray, stress_pred: np.ndarray,
                   dominance_true: np.ndarray | None = None, dominance_pred: np.ndarray | None = None,
                   targets_true: np.ndarray | None = None, targets_pred: np.ndarray | None = None,
                   target_ranges: dict[str, Sequence[float]] | None = None,
                   thresholds: Sequence[float] | None = None) -> dict:
    """Every head's metrics for a model whose emotion head is read per mode.

    emotion_true: the mode's own truth: class codes (single), multi-hot rows (multi) or
    probability rows (distribution; its dominant class also gives accuracy, per-class F1 and a
    confusion matrix). emotion_pred: (N, K) probabilities. targets_*: (N, T) in target_ranges'
    order. thresholds: multi-label decision thresholds in class order (0.5 each by default).

    combined = the sum of one score per head group that exists: macro_f1 (single), mAP
    (multi) or kl_skill (distribution); ccc_va (V, A and dominance when present); the mean
    CCC of the named targets. combined_name spells the sum, e.g. "map+ccc_vad".
    """
    single_true = emotion_true if mode == "single" else None
    if mode == "distribution":  # the dominant class, for accuracy / confusion / per-class F1
        y = np.asarray(emotion_true, np.float64)
        known = np.isfinite(y).all(axis=1) & (np.nan_to_num(y).sum(axis=1) > 0)
        single_true = np.where(known, np.nan_to_num(y).argmax(axis=1), -1)
    out = evaluate_predictions(
        emotion_true=single_true, emotion_pred=emotion_pred, classes=classes,
        valence_true=va_true[:, 0], valence_pred=va_pred[:, 0],
        arousal_true=va_true[:, 1], arousal_pred=va_pred[:, 1],
        stress_true=stress_true, stress_pred=stress_pred)
    parts: dict[str, float | None] = {}
    if mode == "multi":
        ml = multilabel_metrics(emotion_true, emotion_pred, classes=classes, thresholds=thresholds)
        out["emotions"] = ml
        out["macro_f1"] = ml["macro_f1"] if ml else None
        out["micro_f1"], out["map"] = (ml["micro_f1"], ml["map"]) if ml else (None, None)
        parts["map"] = out["map"]
    elif mode == "distribution":
        dm = distribution_metrics(emotion_true, emotion_pred, classes=classes)
        out["distribution"] = dm
        out["kl"], out["top1_agreement"] = (dm["kl"], dm["top1_agreement"]) if dm else (None, None)
        parts["kl_skill"] = dm["kl_skill"] if dm else None
    else:
        parts["macro_f1"] = out["macro_f1"]
    cccs = [out["ccc_valence"], out["ccc_arousal"]]
    if dominance_true is not None and dominance_pred is not None:
        d = target_metrics(dominance_true, dominance_pred, low=-1.0, high=1.0)
        out["dominance"] = d
        out["ccc_dominance"] = d["ccc"] if d else None
        cccs.append(out["ccc_dominance"])
        parts["ccc_vad"] = _mean(cccs)
    else:
        parts["ccc_va"] = out["ccc_va"]
    if targets_true is not None and target_ranges:
        per = {name: target_metrics(targets_true[:, j], targets_pred[:, j], low=lo, high=hi)
               for j, (name, (lo, hi)) in enumerate(target_ranges.items())}
        out["targets"] = per
        out["ccc_targets"] = _mean([m["ccc"] for m in per.values() if m])
        out["mae_targets"] = _mean([m["mae"] for m in per.values() if m])
        out["one_minus_mae"] = _mean([m["one_minus_mae"] for m in per.values() if m])
        parts["ccc_targets"] = out["ccc_targets"]
    used = {k: v for k, v in parts.items() if v is not None}
    out["combined"] = float(sum(used.values())) if used else None
    out["combined_name"] = "+".join(used) if used else None
    return out
