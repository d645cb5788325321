"""Affect metrics on numpy arrays: scikit-learn for classification/regression, CCC ours, combined.

scikit-learn (and SciPy, which it ships with, for Pearson) computes the standard metrics;
Lin's concordance correlation (CCC), which neither provides, is written here.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import pearsonr
from sklearn import metrics as skm

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
    """Pearson correlation (scipy.stats.pearsonr); NaN when either side is constant."""
    t, p = _pair(y_true, y_pred)
    if t.size < 2 or np.ptp(t) == 0 or np.ptp(p) == 0:
        return math.nan
    return float(pearsonr(t, p).statistic)


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    t, p = _pair(y_true, y_pred)
    return float(skm.root_mean_squared_error(t, p)) if t.size else math.nan


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    t, p = _pair(y_true, y_pred)
    return float(skm.mean_absolute_error(t, p)) if t.size else math.nan


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    t, p = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    return float(skm.accuracy_score(t, p)) if t.size else math.nan


def _codes(y_true: ArrayLike, y_pred: ArrayLike, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=np.int64).ravel()
    p = np.asarray(y_pred, dtype=np.int64).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} values, y_pred {p.size}")
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= n_classes):
        raise ValueError(f"class codes must be in 0..{n_classes - 1}")
    return t, p


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, *, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts; rows = true class, columns = predicted class."""
    t, p = _codes(y_true, y_pred, n_classes)
    if not t.size:
        return np.zeros((n_classes, n_classes), dtype=np.int64)
    return skm.confusion_matrix(t, p, labels=np.arange(n_classes)).astype(np.int64)


def precision_recall_f1(y_true: ArrayLike, y_pred: ArrayLike, *, n_classes: int) -> dict:
    """Per-class precision, recall, F1 and support (0 where undefined), and their macro means
    over the classes that occur in y_true or y_pred (scikit-learn's default label set)."""
    t, p = _codes(y_true, y_pred, n_classes)
    labels = np.arange(n_classes)
    if t.size:
        precision, recall, f1, support = skm.precision_recall_fscore_support(
            t, p, labels=labels, average=None, zero_division=0)
        macro = skm.precision_recall_fscore_support(t, p, average="macro", zero_division=0)[:3]
    else:
        precision = recall = f1 = np.zeros(n_classes)
        support, macro = np.zeros(n_classes, dtype=np.int64), (math.nan,) * 3
    return {"precision": np.asarray(precision, np.float64), "recall": np.asarray(recall, np.float64),
            "f1": np.asarray(f1, np.float64), "support": np.asarray(support, np.int64),
            "macro_precision": float(macro[0]), "macro_recall": float(macro[1]),
            "macro_f1": float(macro[2])}


def auroc(y_true: ArrayLike, score: ArrayLike) -> float:
    """Area under the ROC curve (ties count one half); NaN unless both classes occur."""
    t, s = _pair(y_true, score)
    pos = t > 0.5
    if pos.all() or not pos.any():
        return math.nan
    return float(skm.roc_auc_score(pos, s))


def binary_f1(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """F1 of the positive class for 0/1 arrays; 0 when there are no positives at all."""
    t, p = _pair(y_true, y_pred)
    return float(skm.f1_score(t > 0.5, p > 0.5, zero_division=0)) if t.size else 0.0


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
