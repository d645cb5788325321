"""Reviewing predictions on the richer label schemas: aligned label/prediction arrays (multi-label
sets, distributions, dominance, named targets), per-mode metrics (core.metrics_modes), the
co-occurrence matrices (label x label, label x prediction) whose cells list their samples, and
best / worst / most confident wrong / random orderings for each mode."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.label_schema import LabelSchema
from core.metrics_modes import distribution_metrics, multilabel_metrics, target_metrics
from core.store.datasets import dataset_schema
from core.store.models import Dataset, Prediction, Sample
from core.store.review import ReviewSource, _latest

MODE_ORDERS = ("worst", "best", "most confident wrong", "random")
COOCCURRENCE = ("label x label", "label x prediction")


@dataclass
class ModeArrays:
    """Current labels and one source's newest predictions, aligned by sample (NaN = no label)."""
    schema: LabelSchema
    ids: np.ndarray  # (N,)
    loss: np.ndarray  # (N,) the stored per-sample loss, NaN without one
    truth: np.ndarray | None  # (N, K) multi-hot rows (multi) or probabilities (distribution)
    scores: np.ndarray | None  # (N, K) sigmoid probabilities (multi) or the predicted distribution
    thresholds: np.ndarray | None  # (K,) multi-label decision thresholds
    dominance: tuple[np.ndarray, np.ndarray] | None  # (true, predicted)
    targets: dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (true, predicted)


def _row(values: dict[str, Any] | None, classes: tuple[str, ...]) -> list[float]:
    return [float((values or {}).get(c, 0.0)) for c in classes]


def mode_arrays(session: Session, source: ReviewSource, *, split: str | None = None) -> ModeArrays:
    """The arrays of this source (and split) for its dataset's schema."""
    schema = dataset_schema(session.get(Dataset, source.dataset_id))
    latest = _latest(source, split).subquery()
    rows = session.execute(
        select(Sample.id, Sample.cur_emotions, Sample.cur_distribution, Sample.cur_dominance, Sample.cur_targets,
               Prediction.probs, Prediction.outputs, Prediction.loss)
        .join(Prediction, Prediction.sample_id == Sample.id).join(latest, latest.c.pid == Prediction.id)
        .order_by(Sample.id)).all()
    k, nan = len(schema.classes), np.nan
    truth = scores = thresholds = dominance = None
    outs = [r.outputs or {} for r in rows]
    if schema.emotion_mode == "multi":
        truth = np.array([[float(c in r.cur_emotions) for c in schema.classes] if r.cur_emotions is not None
                          else [nan] * k for r in rows]).reshape(len(rows), k)
        scores = np.array([_row(o.get("emotions") or r.probs, schema.classes) for r, o in zip(rows, outs)]
                          ).reshape(len(rows), k)
        first = next((o["thresholds"] for o in outs if o.get("thresholds")), {})
        thresholds = np.array([float(first.get(c, 0.5)) for c in schema.classes])
    elif schema.emotion_mode == "distribution":
        truth = np.array([_row(r.cur_distribution, schema.classes) if r.cur_distribution is not None
                          else [nan] * k for r in rows]).reshape(len(rows), k)
        scores = np.array([_row(o.get("distribution") or r.probs, schema.classes) for r, o in zip(rows, outs)]
                          ).reshape(len(rows), k)
    if schema.dominance:
        dominance = (np.array([nan if r.cur_dominance is None else r.cur_dominance for r in rows], float),
                     np.array([o.get("dominance", nan) for o in outs], float))
    targets = {t.name: (np.array([(r.cur_targets or {}).get(t.name, nan) for r in rows], float),
                        np.array([(o.get("targets") or {}).get(t.name, nan) for o in outs], float))
               for t in schema.targets}
    return ModeArrays(schema, np.array([r.id for r in rows], int),
                      np.array([nan if r.loss is None else r.loss for r in rows], float),
                      truth, scores, thresholds, dominance, targets)


def mode_metrics(a: ModeArrays) -> dict[str, Any]:
    """core.metrics_modes per head: "emotions" (multi), "distribution", "dominance", "targets"
    (name -> metrics); each None when nothing labelled has a prediction."""
    out: dict[str, Any] = {}
    classes = list(a.schema.classes)
    if a.schema.emotion_mode == "multi":
        out["emotions"] = multilabel_metrics(a.truth, a.scores, classes=classes, thresholds=a.thresholds)
    elif a.schema.emotion_mode == "distribution":
        out["distribution"] = distribution_metrics(a.truth, a.scores, classes=classes)
    if a.dominance is not None:
        ok = np.isfinite(a.dominance[1])
        out["dominance"] = target_metrics(a.dominance[0][ok], a.dominance[1][ok], low=-1.0, high=1.0)
    out["targets"] = {}
    for t in a.schema.targets:
        true, pred = a.targets[t.name]
        ok = np.isfinite(pred)
        out["targets"][t.name] = target_metrics(true[ok], pred[ok], low=t.low, high=t.high)
    return out


def _sets(a: ModeArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labelled rows, label sets, predicted sets) as booleans: a multi-label set, or for a
    distribution its dominant class (label) and most probable class (prediction)."""
    labelled = np.isfinite(a.truth).all(axis=1)
    if a.schema.emotion_mode == "distribution":
        labelled &= np.nan_to_num(a.truth).sum(axis=1) > 0
        k = a.truth.shape[1]
        true = np.eye(k, dtype=bool)[np.nan_to_num(a.truth).argmax(axis=1)] if k else a.truth > 0
        pred = np.eye(k, dtype=bool)[a.scores.argmax(axis=1)] if len(a.scores) else a.scores > 0
        return labelled, true, pred
    return labelled, np.nan_to_num(a.truth) > 0.5, a.scores >= a.thresholds


def cooccurrence(a: ModeArrays, kind: str) -> np.ndarray:
    """(K, K) counts over labelled samples: label x label (both categories in the label; the
    diagonal = how often each occurs) or label x prediction (row in the label, column predicted)."""
    if a.truth is None:
        raise ValueError("co-occurrence needs a multi-label or distribution schema")
    labelled, true, pred = _sets(a)
    t = true[labelled].astype(np.int64)
    other = t if kind == "label x label" else pred[labelled].astype(np.int64)
    if kind not in COOCCURRENCE:
        raise ValueError(f"unknown co-occurrence {kind!r}; one of {', '.join(COOCCURRENCE)}")
    return t.T @ other


def cell_ids(a: ModeArrays, kind: str, row: str, col: str) -> list[int]:
    """The samples counted in one co-occurrence cell (row class in the label, column class in
    the label or the prediction)."""
    labelled, true, pred = _sets(a)
    i, j = a.schema.classes.index(row), a.schema.classes.index(col)
    other = true if kind == "label x label" else pred
    return a.ids[labelled & true[:, i] & other[:, j]].tolist()


def has_emotion_labels(a: ModeArrays) -> bool:
    """Whether any reviewed sample has a multi-label set or a distribution (FIV2 has neither)."""
    return a.truth is not None and bool(np.isfinite(a.truth).all(axis=1).any())


def _target_error(a: ModeArrays) -> np.ndarray:
    """Mean absolute error over a sample's labelled targets (and dominance), on unit-scaled ranges."""
    pairs = [(*a.targets[t.name], t.high - t.low) for t in a.schema.targets]
    if a.dominance is not None:
        pairs.append((*a.dominance, 2.0))
    if not pairs:
        return np.full(len(a.ids), np.nan)
    stack = np.vstack([np.abs(true - pred) / span for true, pred, span in pairs])  # (T, N)
    count = np.isfinite(stack).sum(axis=0)
    return np.where(count > 0, np.nansum(stack, axis=0) / np.maximum(count, 1), np.nan)


def _error(a: ModeArrays) -> tuple[np.ndarray, np.ndarray]:
    """(per-sample error, wrong-and-confident score), NaN where it does not apply.

    multi: mean |score - truth| and the most confident wrong decision (score of a false positive,
    1 - score of a false negative); distribution: KL(true || predicted) and the predicted top
    probability when the top class is not the dominant one; a dataset without emotion labels:
    the mean absolute target error for both."""
    if not has_emotion_labels(a):
        err = _target_error(a)
        return err, err
    labelled, true, pred = _sets(a)
    if a.schema.emotion_mode == "multi":
        err = np.abs(a.scores - np.nan_to_num(a.truth)).mean(axis=1)
        conf = np.where(pred, a.scores, 1.0 - a.scores)
        wrong = np.where(pred != true, conf, -1.0).max(axis=1, initial=-1.0)
    else:
        y = np.nan_to_num(a.truth)
        y = y / np.maximum(y.sum(axis=1, keepdims=True), 1e-12)
        p = np.clip(a.scores, 1e-7, 1.0)
        err = np.where(y > 0, y * (np.log(np.where(y > 0, y, 1.0)) - np.log(p)), 0.0).sum(axis=1)
        wrong = np.where((true != pred).any(axis=1), a.scores.max(axis=1, initial=0.0), -1.0)
    return np.where(labelled, err, np.nan), np.where(labelled & (wrong >= 0), wrong, np.nan)


def order_ids(a: ModeArrays, order: str, *, ids: list[int] | None = None, seed: int = 0) -> list[int]:
    """Sample ids for review: "worst"/"best" by the stored loss (else the mode's own error),
    "most confident wrong" (labelled samples the model gets wrong, most confident first),
    "random" (seeded); `ids` keeps only those (a co-occurrence cell)."""
    if order not in MODE_ORDERS:
        raise ValueError(f"unknown order {order!r}; one of {', '.join(MODE_ORDERS)}")
    keep = np.ones(len(a.ids), bool) if ids is None else np.isin(a.ids, ids)
    if order == "random":
        chosen = a.ids[keep]
        return chosen[np.random.default_rng(seed).permutation(len(chosen))].tolist()
    err, wrong = _error(a)
    key = wrong if order == "most confident wrong" else np.where(np.isfinite(a.loss), a.loss, err)
    keep &= np.isfinite(key)
    idx = np.flatnonzero(keep)
    ranked = idx[np.lexsort((a.ids[idx], -key[idx] if order != "best" else key[idx]))]
    return a.ids[ranked].tolist()
