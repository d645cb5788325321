"""Affect metrics as pure functions on numpy arrays: classification, regression, stress, combined."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

ArrayLike = np.ndarray | Sequence[float]


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(y_true, dtype=np.float64).ravel()
    b = np.asarray(y_pred, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"y_true has {a.size} values, y_pred {b.size}")
    return a, b


def ccc(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Lin's concordance correlation 2 cov / (var_t + var_p + (mean_t - mean_p)^2), population
    moments; NaN for fewer than 2 values or when both are constant and equal."""
    t, p = _pair(y_true, y_pred)
    if t.size < 2:
        return math.nan
    mt, mp = t.mean(), p.mean()
    cov = ((t - mt) * (p - mp)).mean()
    denom = t.var() + p.var() + (mt - mp) ** 2
    return float(2 * cov / denom) if denom > 0 else math.nan


def pearson(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Pearson correlation; NaN when either side is constant."""
    t, p = _pair(y_true, y_pred)
    if t.size < 2:
        return math.nan
    dt, dp = t - t.mean(), p - p.mean()
    denom = math.sqrt(float((dt**2).sum() * (dp**2).sum()))
    return float((dt * dp).sum() / denom) if denom > 0 else math.nan


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    t, p = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((t - p) ** 2))) if t.size else math.nan


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    t, p = _pair(y_true, y_pred)
    return float(np.mean(np.abs(t - p))) if t.size else math.nan


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    t, p = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    return float(np.mean(t == p)) if t.size else math.nan


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, *, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts; rows = true class, columns = predicted class."""
    t = np.asarray(y_true, dtype=np.int64).ravel()
    p = np.asarray(y_pred, dtype=np.int64).ravel()
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= n_classes):
        raise ValueError(f"class codes must be in 0..{n_classes - 1}")
    return np.bincount(t * n_classes + p, minlength=n_classes**2).reshape(n_classes, n_classes)


def precision_recall_f1(y_true: ArrayLike, y_pred: ArrayLike, *, n_classes: int) -> dict:
    """Per-class precision, recall, F1 and support (0 where undefined), and their macro means
    over the classes that occur in y_true or y_pred (scikit-learn's default label set)."""
    cm = confusion_matrix(y_true, y_pred, n_classes=n_classes).astype(np.float64)
    tp = np.diag(cm)
    predicted, support = cm.sum(0), cm.sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    present = (support + predicted) > 0
    macro = {k: float(v[present].mean()) if present.any() else math.nan
             for k, v in (("precision", precision), ("recall", recall), ("f1", f1))}
    return {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64),
            "macro_precision": macro["precision"], "macro_recall": macro["recall"],
            "macro_f1": macro["f1"]}


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, ties sharing their mean rank."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    starts = np.r_[0, np.flatnonzero(np.diff(xs)) + 1]
    ends = np.r_[starts[1:], xs.size]
    ranks = np.empty(xs.size, dtype=np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return ranks


def auroc(y_true: ArrayLike, score: ArrayLike) -> float:
    """Area under the ROC curve by the Mann-Whitney rank statistic (ties count one half);
    NaN unless both classes occur."""
    t, s = _pair(y_true, score)
    pos = t > 0.5
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = _average_ranks(s)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def binary_f1(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """F1 of the positive class for 0/1 arrays; 0 when there are no positives at all."""
    t, p = _pair(y_true, y_pred)
    t, p = t > 0.5, p > 0.5
    tp = float(np.sum(t & p))
    denom = float(t.sum() + p.sum())
    return 2 * tp / denom if denom > 0 else 0.0


def _num(x: float) -> float | None:
    """JSON-safe: NaN/inf -> None."""
    return float(x) if x is not None and math.isfinite(x) else None


def _known_float(y: ArrayLike | None) -> np.ndarray | None:
    return None if y is None else np.asarray(y, dtype=np.float64).ravel()


def _regression(t: np.ndarray | None, p: ArrayLike | None) -> dict | None:
    if t is None or p is None:
        return None
    p = np.asarray(p, dtype=np.float64).ravel()
    keep = np.isfinite(t)
    if not keep.any():
        return None
    t, p = t[keep], p[keep]
    return {"ccc": _num(ccc(t, p)), "pearson": _num(pearson(t, p)), "rmse": _num(rmse(t, p)),
            "mae": _num(mae(t, p)), "n": int(keep.sum())}


def _emotion(y: ArrayLike | None, pred: ArrayLike | None, n_classes: int,
             classes: Sequence[str] | None) -> dict | None:
    if y is None or pred is None:
        return None
    y = np.asarray(y, dtype=np.float64).ravel()
    pred = np.asarray(pred)
    if pred.ndim == 2:  # probabilities / logits -> class
        pred = pred.argmax(1)
    keep = np.isfinite(y) & (y >= 0)
    if not keep.any():
        return None
    t, p = y[keep].astype(np.int64), pred.ravel()[keep].astype(np.int64)
    prf = precision_recall_f1(t, p, n_classes=n_classes)
    names = list(classes) if classes is not None else [str(i) for i in range(n_classes)]
    per_class = {names[k]: {"precision": float(prf["precision"][k]), "recall": float(prf["recall"][k]),
                            "f1": float(prf["f1"][k]), "support": int(prf["support"][k])}
                 for k in range(n_classes)}
    return {"accuracy": accuracy(t, p), "macro_f1": _num(prf["macro_f1"]),
            "macro_precision": _num(prf["macro_precision"]), "macro_recall": _num(prf["macro_recall"]),
            "per_class": per_class, "confusion": confusion_matrix(t, p, n_classes=n_classes).tolist(),
            "classes": names, "n": int(keep.sum())}


def _stress(t: np.ndarray | None, s: ArrayLike | None, threshold: float) -> dict | None:
    if t is None or s is None:
        return None
    s = np.asarray(s, dtype=np.float64).ravel()
    keep = np.isfinite(t) & (t >= 0)
    if not keep.any():
        return None
    truth = (t[keep] >= threshold).astype(np.float64)  # soft stress labels binarised
    score = s[keep]
    return {"auroc": _num(auroc(truth, score)),
            "f1": binary_f1(truth, (score >= threshold).astype(np.float64)),
            "mae": _num(mae(t[keep], score)), "positives": int(truth.sum()), "n": int(keep.sum())}


def evaluate_predictions(*, emotion_true: ArrayLike | None = None,
                         emotion_pred: ArrayLike | None = None, n_classes: int | None = None,
                         classes: Sequence[str] | None = None,
                         valence_true: ArrayLike | None = None, valence_pred: ArrayLike | None = None,
                         arousal_true: ArrayLike | None = None, arousal_pred: ArrayLike | None = None,
                         stress_true: ArrayLike | None = None, stress_pred: ArrayLike | None = None,
                         stress_threshold: float = 0.5) -> dict:
    """Every task's metrics, each over the samples labelled for that task (missing: emotion -1
    or NaN; valence/arousal NaN, since -1 is a valid value; stress NaN or negative); a task
    without labels (or predictions) gives None. Stress labels are binarised at stress_threshold
    for AUROC/F1 (soft labels allowed).

    emotion_pred: class codes (N,) or scores (N, K). combined = macro_f1 + mean(CCC_v, CCC_a)
    over the parts that exist (None when neither does). Plain floats/lists only (JSON-safe).
    """
    if n_classes is None:
        n_classes = len(classes) if classes is not None else None
    if n_classes is None and emotion_pred is not None and np.ndim(emotion_pred) == 2:
        n_classes = int(np.shape(emotion_pred)[1])
    if n_classes is None and emotion_true is not None:
        raise ValueError("evaluate_predictions needs n_classes or classes for the emotion task")
    emo = _emotion(emotion_true, emotion_pred, n_classes or 0, classes)
    val = _regression(_known_float(valence_true), valence_pred)
    aro = _regression(_known_float(arousal_true), arousal_pred)
    stress = _stress(_known_float(stress_true), stress_pred, stress_threshold)
    cccs = [r["ccc"] for r in (val, aro) if r is not None and r["ccc"] is not None]
    ccc_va = float(np.mean(cccs)) if cccs else None
    macro_f1 = emo["macro_f1"] if emo is not None else None
    parts = [v for v in (macro_f1, ccc_va) if v is not None]
    return {
        "accuracy": emo["accuracy"] if emo else None, "macro_f1": macro_f1,
        "ccc_valence": val["ccc"] if val else None, "ccc_arousal": aro["ccc"] if aro else None,
        "ccc_va": ccc_va,
        "stress_auroc": stress["auroc"] if stress else None,
        "stress_f1": stress["f1"] if stress else None,
        "combined": float(sum(parts)) if parts else None,
        "emotion": emo, "valence": val, "arousal": aro, "stress": stress,
    }
