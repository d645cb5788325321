"""Label issues from out-of-sample predictions: cross-validated probabilities and cleanlab rankings.

Pure functions on arrays (cleanlab `rank.py` / `filter.py` style, options keyword-only):
- `cross_val_*`: out-of-sample predictions of a cheap model (standardised features -> logistic
  regression, or ridge for V/A) by k-fold cross-validation; folds are grouped (by source video
  or subject) when groups are given, so a frame is never judged by a model that saw its
  neighbouring frames carrying the same (possibly wrong) label.
- `single_label_issues` / `multilabel_issues`: cleanlab label quality (low = likely wrong) and
  cleanlab's confident-learning flag for single-label and multi-label emotions.
- `va_issues`: the regression counterpart for valence/arousal: the residual of the label against
  an out-of-sample prediction, in units of the expected disagreement (annotator spread combined
  with the model's typical error); large = likely wrong.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

CV_MODEL = "standardised features -> logistic regression (C=1)"
CV_REGRESSOR = "standardised features -> ridge regression (alpha=1)"


@dataclass
class Issues:
    """Per-row label quality, aligned with the inputs."""
    scores: np.ndarray  # (N,) in [0, 1]; low = likely wrong (cleanlab convention)
    flagged: np.ndarray  # (N,) bool: cleanlab's confident-learning verdict (or z above the cut)
    order: np.ndarray  # (N,) row indices, most likely wrong first

    def top(self, n: int) -> np.ndarray:
        return self.order[:n]


def _folds(labels: np.ndarray | None, groups: np.ndarray | None, n: int, folds: int,
           seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs: stratified when labels are given, grouped when groups are."""
    from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold

    if groups is not None:
        folds = min(folds, len(np.unique(groups)))
    folds = max(2, min(folds, n))
    x = np.zeros((n, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a class rarer than the number of folds
        if groups is not None and labels is not None:
            return list(StratifiedGroupKFold(folds, shuffle=True, random_state=seed).split(x, labels, groups))
        if groups is not None:
            return list(GroupKFold(folds).split(x, groups=groups))
        if labels is not None:
            return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, labels))
        return list(KFold(folds, shuffle=True, random_state=seed).split(x))


def scaled_like_train(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both standardised with the training part's column means and deviations."""
    mean, std = x_train.mean(0), x_train.std(0)
    std[std < 1e-8] = 1.0
    return (x_train - mean) / std, (x_test - mean) / std


def _check(features: np.ndarray, n: int) -> np.ndarray:
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) != n:
        raise ValueError(f"features must be (N, D) with N = {n} rows, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"features have {int((~np.isfinite(x)).any(1).sum())} rows with NaN or inf")
    return x


def cross_val_pred_probs(features: np.ndarray, labels: np.ndarray, *, n_classes: int, folds: int = 5,
                         groups: np.ndarray | None = None, seed: int = 0, c: float = 1.0) -> np.ndarray:
    """(N, n_classes) out-of-sample class probabilities: each row predicted by a logistic
    regression trained on the other folds. A class missing from a fold's training part gets 0."""
    labels = np.asarray(labels, dtype=int)
    x = _check(features, len(labels))
    from sklearn.linear_model import LogisticRegression

    out = np.zeros((len(labels), n_classes))
    for train, test in _folds(labels, groups, len(labels), folds, seed):
        present = np.unique(labels[train])
        if len(present) == 1:
            out[np.ix_(test, present)] = 1.0
            continue
        xtr, xte = scaled_like_train(x[train], x[test])
        model = LogisticRegression(C=c, max_iter=2000).fit(xtr, labels[train])
        out[np.ix_(test, model.classes_)] = model.predict_proba(xte)
    return out


def cross_val_multilabel_probs(features: np.ndarray, labels: np.ndarray, *, folds: int = 5,
                               groups: np.ndarray | None = None, seed: int = 0, c: float = 1.0) -> np.ndarray:
    """(N, K) out-of-sample per-class probabilities for a binary (N, K) multi-label matrix: one
    logistic regression per class (one-vs-rest); a class constant in a training part predicts its rate."""
    y = np.asarray(labels, dtype=int)
    x = _check(features, len(y))
    from sklearn.linear_model import LogisticRegression

    out = np.zeros(y.shape, dtype=float)
    for train, test in _folds(None, groups, len(y), folds, seed):
        xtr, xte = scaled_like_train(x[train], x[test])
        for k in range(y.shape[1]):
            col = y[train, k]
            if col.min() == col.max():
                out[test, k] = float(col[0])
                continue
            out[test, k] = LogisticRegression(C=c, max_iter=2000).fit(xtr, col).predict_proba(xte)[:, 1]
    return out


def cross_val_regression(features: np.ndarray, targets: np.ndarray, *, folds: int = 5,
                         groups: np.ndarray | None = None, seed: int = 0, alpha: float = 1.0) -> np.ndarray:
    """(N, D) out-of-sample predictions of (N, D) continuous targets (e.g. V, A) by ridge regression."""
    y = np.asarray(targets, dtype=float).reshape(len(targets), -1)
    x = _check(features, len(y))
    from sklearn.linear_model import Ridge

    out = np.zeros_like(y)
    for train, test in _folds(None, groups, len(y), folds, seed):
        xtr, xte = scaled_like_train(x[train], x[test])
        out[test] = Ridge(alpha=alpha).fit(xtr, y[train]).predict(xte).reshape(len(test), -1)
    return out


def _ordered(scores: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """Lowest score first; ties: the most confident model first, then row order."""
    return np.lexsort((np.arange(len(scores)), -tiebreak, scores))


def single_label_issues(labels: np.ndarray, pred_probs: np.ndarray, *,
                        method: str = "self_confidence") -> Issues:
    """cleanlab label quality of single-label class codes under out-of-sample (N, K) probabilities
    (`cleanlab.rank.get_label_quality_scores`) and confident learning's flag (`filter.find_label_issues`)."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    labels = np.asarray(labels, dtype=int)
    probs = np.asarray(pred_probs, dtype=float)
    if len(labels) == 0:
        return Issues(np.zeros(0), np.zeros(0, bool), np.zeros(0, int))
    scores = np.asarray(get_label_quality_scores(labels, probs, method=method))
    flagged = _confident_learning(lambda: find_label_issues(labels, probs, n_jobs=1), len(labels))
    return Issues(scores, flagged, _ordered(scores, probs.max(1)))


def _confident_learning(call, n: int) -> np.ndarray:
    """cleanlab's flag; all False when it cannot estimate the noise (e.g. a class never labelled)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(call(), dtype=bool)
    except (ValueError, IndexError, ZeroDivisionError):
        return np.zeros(n, dtype=bool)


def as_label_lists(binary: np.ndarray) -> list[list[int]]:
    """A binary (N, K) multi-label matrix as cleanlab's list of class-index lists."""
    return [list(np.flatnonzero(row)) for row in np.asarray(binary)]


def multilabel_issues(labels: np.ndarray | list[list[int]], pred_probs: np.ndarray, *,
                      method: str = "self_confidence") -> Issues:
    """cleanlab multi-label quality (`multilabel_classification.rank.get_label_quality_scores`)
    and flag (`multilabel_classification.filter.find_label_issues`); labels: a binary (N, K)
    matrix or a list of class-index lists; pred_probs: per-class (sigmoid) probabilities."""
    from cleanlab.multilabel_classification.filter import find_label_issues
    from cleanlab.multilabel_classification.rank import get_label_quality_scores

    probs = np.asarray(pred_probs, dtype=float)
    lists = as_label_lists(labels) if isinstance(labels, np.ndarray) else [list(x) for x in labels]
    if not lists:
        return Issues(np.zeros(0), np.zeros(0, bool), np.zeros(0, int))
    probs = np.clip(probs, 1e-6, 1 - 1e-6)
    scores = np.asarray(get_label_quality_scores(lists, probs, method=method))
    flagged = _confident_learning(lambda: find_label_issues(lists, probs, n_jobs=1), len(lists))
    sure = np.abs(probs - 0.5).mean(1)
    return Issues(scores, flagged, _ordered(scores, sure))


def robust_scale(x: np.ndarray) -> float:
    """1.4826 x median absolute deviation: a standard deviation that outliers do not inflate."""
    x = np.asarray(x, dtype=float)
    return float(1.4826 * np.median(np.abs(x - np.median(x)))) if len(x) else 0.0


def va_issues(labels: np.ndarray, predictions: np.ndarray, *, spread: np.ndarray | None = None,
              cut: float = 3.0) -> Issues:
    """Continuous labels (N, D), e.g. valence and arousal, against out-of-sample predictions.

    Each residual is divided by the disagreement expected for that row: sqrt(spread_i^2 +
    model^2), spread_i the annotators' standard deviation on that row ((N,) or (N, D); NaN where
    one person labelled it: the median of the known spreads is used), model the robust scale of
    the residuals per dimension. z = root mean square over the dimensions; flagged when z > cut.
    Score = exp(-z / cut) in (0, 1], low = likely wrong (cleanlab's convention)."""
    y = np.asarray(labels, dtype=float).reshape(len(labels), -1)
    p = np.asarray(predictions, dtype=float).reshape(len(predictions), -1)
    if y.shape != p.shape:
        raise ValueError(f"labels {y.shape} and predictions {p.shape} differ in shape")
    if len(y) == 0:
        return Issues(np.zeros(0), np.zeros(0, bool), np.zeros(0, int))
    resid = y - p
    model = np.array([max(robust_scale(resid[:, d]), 1e-3) for d in range(y.shape[1])])
    if spread is None:
        ann = np.zeros_like(y)
    else:
        ann = np.broadcast_to(np.asarray(spread, dtype=float).reshape(len(y), -1), y.shape).copy()
        known = ann[np.isfinite(ann)]
        ann[~np.isfinite(ann)] = np.median(known) if len(known) else 0.0
    z = np.sqrt(((resid / np.sqrt(ann ** 2 + model ** 2)) ** 2).mean(1))
    scores = np.exp(-z / cut)
    return Issues(scores, z > cut, _ordered(scores, np.zeros(len(y))))
