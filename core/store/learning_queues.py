"""The "likely wrong" (label issues) and "uncertain" (active learning) queues over the store.

Where the out-of-sample predictions come from is chosen by `source` and recorded in the
returned Queue (`source`, `detail`):
- "held-out": stored predictions of a model on samples it did not train on (see core.store.queues);
- "cross-val": k-fold cross-validated predictions of a cheap model (logistic regression, ridge
  for V/A) over the samples' stored feature vectors, folds grouped by source video/subject;
- "auto": held-out when any such prediction exists for the field, else cross-val.
The "uncertain" queue scores unlabelled samples with the newest prediction of the current model
(or, with no stored prediction, a logistic regression fitted on the labelled samples' features).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import active_learning as al
from core import label_issues as li
from core.label_schema import LabelSchema
from core.store import queue_inputs as qi
from core.store.held_out import SURE, label_quality, out_of_sample_predictions
from core.store.models import Dataset, Prediction, Sample
from core.taxonomy import concept

SOURCES = ("auto", "held-out", "cross-val")
FIELDS = ("emotion", "emotions", "va")
VA_CUT = 2.5  # a V/A label this many expected disagreements from the prediction is queued


@dataclass
class Queue:
    """Sample ids in queue order with their scores and where the predictions came from."""
    kind: str  # likely-wrong | uncertain
    field: str  # emotion | emotions | va
    ids: list[int]
    scores: list[float]  # likely-wrong: label quality (low = worse); uncertain: uncertainty (high first)
    source: str  # held-out | cross-val | current model | cheap model | none
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _schema(ds: Dataset) -> LabelSchema:
    return LabelSchema.from_dict(getattr(ds, "label_schema", None), classes=ds.taxonomy["classes"])


def _multi_column() -> Any:
    col = getattr(Sample, "cur_emotions", None)
    if col is None:
        raise ValueError("this store keeps no multi-label emotions (samples.cur_emotions)")
    return col


def _labelled(session: Session, dataset_id: int, cond: Any, split: str | None, *cols: Any,
              limit: int | None = None) -> list[tuple]:
    stmt = select(Sample.id, *cols).where(Sample.dataset_id == dataset_id, cond).order_by(Sample.id)
    return list(session.execute((stmt.where(Sample.split == split) if split else stmt).limit(limit)))


def _no_features(session: Session, dataset_id: int, feature_kind: str | None) -> bool:
    """Cross-validation is impossible: the dataset has no usable stored features (checked before
    any label is loaded, so a big store without features answers at once)."""
    kinds = qi.feature_kinds(session, dataset_id)
    return not (kinds.get(feature_kind) if feature_kind else set(kinds) - set(qi.SKIP_KINDS))


def _cv_inputs(session: Session, dataset_id: int, ids: list[int], feature_kind: str | None
               ) -> tuple[str | None, np.ndarray, np.ndarray, np.ndarray]:
    kind, have, x = qi.features(session, dataset_id, ids, kind=feature_kind)
    return kind, have, x, qi.groups(session, have)


def _pick(source: str, held_out_rows: int) -> str:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")
    return ("held-out" if held_out_rows else "cross-val") if source == "auto" else source


def likely_wrong_queue(session: Session, dataset_id: int, *, field: str | None = None, source: str = "auto",
                       limit: int = 200, split: str | None = None, folds: int = 5,
                       feature_kind: str | None = None, seed: int = 0) -> Queue:
    """Labels likely wrong, worst first (field None: the dataset's emotion mode)."""
    ds = session.get(Dataset, dataset_id)
    schema = _schema(ds)
    field = field or ("emotions" if schema.emotion_mode == "multi" else "emotion")
    if field not in FIELDS:
        raise ValueError(f"unknown field {field!r}; one of {', '.join(FIELDS)}")
    run = {"emotion": _emotion, "emotions": _emotions, "va": _va}[field]
    q = run(session, ds, list(schema.classes), source, split, folds, feature_kind, seed)
    q.ids, q.scores = q.ids[:limit], q.scores[:limit]
    return q


def _cv_detail(kind: str | None, n: int, folds: int, model: str) -> dict[str, Any]:
    return {"features": kind, "model": model, "folds": folds, "grouped_by": "source media, else subject",
            "rows": n}


def _emotion(session, ds, classes, source, split, folds, feature_kind, seed) -> Queue:
    rows = out_of_sample_predictions(session, ds.id, split=split)
    if _pick(source, len(rows)) == "held-out":
        q = label_quality(rows, classes)
        keep = (q.scores < SURE) | (q.pred_probs.argmax(1) != q.labels)
        versions = Counter(r[4] for r in rows)
        return Queue("likely-wrong", "emotion", [int(i) for i in q.ids[keep]], q.scores[keep].tolist(),
                     "held-out", {"model_versions": dict(versions), "rows": len(q.ids)})
    if _no_features(session, ds.id, feature_kind):
        return Queue("likely-wrong", "emotion", [], [], "cross-val", _cv_detail(None, 0, folds, li.CV_MODEL))
    index = {concept(c): k for k, c in enumerate(classes)}
    labelled = {sid: index.get(concept(e)) for sid, e in
                _labelled(session, ds.id, Sample.cur_emotion.is_not(None), split, Sample.cur_emotion)}
    kind, ids, x, groups = _cv_inputs(session, ds.id, [s for s, k in labelled.items() if k is not None],
                                      feature_kind)
    detail = _cv_detail(kind, len(ids), folds, li.CV_MODEL)
    y = np.asarray([labelled[s] for s in ids], dtype=int)
    if len(ids) < 2 * folds or len(np.unique(y)) < 2:
        return Queue("likely-wrong", "emotion", [], [], "cross-val", {**detail, "note": "too few samples with features"})
    probs = li.cross_val_pred_probs(x, y, n_classes=len(classes), folds=folds, groups=groups, seed=seed)
    issues = li.single_label_issues(y, probs)
    keep = [i for i in issues.order if issues.scores[i] < SURE or probs[i].argmax() != y[i]]
    return Queue("likely-wrong", "emotion", [int(ids[i]) for i in keep],
                 [float(issues.scores[i]) for i in keep], "cross-val", detail)


def _emotions(session, ds, classes, source, split, folds, feature_kind, seed) -> Queue:
    col = _multi_column()
    index = {concept(c): k for k, c in enumerate(classes)}
    labelled = {}
    for sid, names in _labelled(session, ds.id, col.is_not(None), split, col):
        row = np.zeros(len(classes), dtype=int)
        for name in names or []:
            if (k := index.get(concept(name))) is not None:
                row[k] = 1
        labelled[sid] = row
    held = {}
    if hasattr(Prediction, "outputs") and source != "cross-val":
        newest = qi.newest_predictions(session, ds.id, (Prediction.outputs,), where=(col.is_not(None),), split=split)
        held = {sid: (v, out["emotions"]) for sid, (v, out) in newest.items()
                if sid in labelled and isinstance(out, dict) and out.get("emotions")}
    if _pick(source, len(held)) == "held-out":
        ids = np.asarray(sorted(held))
        probs = np.vstack([qi.prob_row(held[s][1], index, len(classes)) for s in ids]) if len(ids) else None
        detail = {"model_versions": dict(Counter(v for v, _ in held.values())), "rows": len(ids)}
        src = "held-out"
    else:
        kind, ids, x, groups = _cv_inputs(session, ds.id, sorted(labelled), feature_kind)
        detail, src = _cv_detail(kind, len(ids), folds, li.CV_MODEL + ", one per class"), "cross-val"
        probs = (li.cross_val_multilabel_probs(x, np.vstack([labelled[s] for s in ids]), folds=folds,
                                               groups=groups, seed=seed) if len(ids) >= 2 * folds else None)
    if probs is None:
        return Queue("likely-wrong", "emotions", [], [], src, {**detail, "note": "too few samples"})
    given = np.vstack([labelled[s] for s in ids])
    issues = li.multilabel_issues(given, probs)
    keep = [i for i in issues.order if issues.flagged[i] or ((probs[i] >= 0.5) != given[i]).any()]
    return Queue("likely-wrong", "emotions", [int(ids[i]) for i in keep],
                 [float(issues.scores[i]) for i in keep], src, detail)


def _va(session, ds, classes, source, split, folds, feature_kind, seed) -> Queue:
    has_va = (Sample.cur_valence.is_not(None)) & (Sample.cur_arousal.is_not(None))
    labelled = {sid: (v, a) for sid, v, a in _labelled(session, ds.id, has_va, split,
                                                       Sample.cur_valence, Sample.cur_arousal)}
    newest = qi.newest_predictions(session, ds.id, (Prediction.valence, Prediction.arousal, Prediction.flags),
                                   where=(has_va, Prediction.valence.is_not(None),
                                          Prediction.arousal.is_not(None)), split=split)
    held = {sid: (ver, v, a) for sid, (ver, v, a, flags) in newest.items()
            if (flags or {}).get("va") != "prior"}  # V/A derived from the emotion is no V/A model
    if _pick(source, len(held)) == "held-out":
        ids = np.asarray(sorted(held))
        pred = np.asarray([held[s][1:] for s in ids], dtype=float).reshape(len(ids), 2)
        detail, src = {"model_versions": dict(Counter(h[0] for h in held.values())), "rows": len(ids)}, "held-out"
    else:
        kind, ids, x, groups = _cv_inputs(session, ds.id, sorted(labelled), feature_kind)
        detail, src = _cv_detail(kind, len(ids), folds, li.CV_REGRESSOR), "cross-val"
        y = np.asarray([labelled[s] for s in ids], dtype=float).reshape(len(ids), 2)
        pred = li.cross_val_regression(x, y, folds=folds, groups=groups, seed=seed) if len(ids) >= 2 * folds else None
    if pred is None or not len(ids):
        return Queue("likely-wrong", "va", [], [], src, {**detail, "note": "too few samples"})
    y = np.asarray([labelled[s] for s in ids], dtype=float)
    spread = qi.va_spread(session, list(ids))
    issues = li.va_issues(y, pred, spread=spread, cut=VA_CUT)
    keep = [i for i in issues.order if issues.flagged[i]]
    detail["annotator_spread_rows"] = int(np.isfinite(spread).all(1).sum())
    return Queue("likely-wrong", "va", [int(ids[i]) for i in keep], [float(issues.scores[i]) for i in keep],
                 src, detail)


def _unlabelled(ds: Dataset, schema: LabelSchema) -> Any:
    col = {"multi": "cur_emotions", "distribution": "cur_distribution"}.get(schema.emotion_mode, "cur_emotion")
    return getattr(Sample, col, Sample.cur_emotion).is_(None)


def _cheap_model(session: Session, ds: Dataset, index: dict[str, int], k: int, ids: list[int],
                 kind: str | None) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(ids, probs) of unlabelled samples from a logistic regression fitted on the labelled
    samples' features: the current model when no model has predicted them yet."""
    if _no_features(session, ds.id, kind):
        return np.zeros(0, int), np.zeros((0, k)), {"model": li.CV_MODEL, "features": None, "trained_on": 0,
                                                    "note": "no stored predictions and no features"}
    from sklearn.linear_model import LogisticRegression

    labelled = {sid: index.get(concept(e)) for sid, e in
                _labelled(session, ds.id, Sample.cur_emotion.is_not(None), None, Sample.cur_emotion)}
    kind, lab_ids, x_lab = qi.features(session, ds.id, [s for s, c in labelled.items() if c is not None], kind=kind)
    _, unl_ids, x_unl = qi.features(session, ds.id, ids, kind=kind) if kind else (None, np.zeros(0, int), None)
    y = np.asarray([labelled[s] for s in lab_ids], dtype=int)
    detail = {"model": li.CV_MODEL, "features": kind, "trained_on": len(lab_ids)}
    if len(unl_ids) == 0 or len(np.unique(y)) < 2:
        return np.zeros(0, int), np.zeros((0, k)), {**detail, "note": "no stored predictions and too few labels"}
    xtr, xte = li.scaled_like_train(x_lab, x_unl)
    model = LogisticRegression(max_iter=2000).fit(xtr, y)
    probs = np.zeros((len(unl_ids), k))
    probs[:, model.classes_] = model.predict_proba(xte)
    return unl_ids, probs, detail


def uncertain_queue(session: Session, dataset_id: int, *, limit: int = 200, method: str = "margin",
                    per_group: int | None = 3, feature_kind: str | None = None, split: str | None = None,
                    pool: float = 4.0) -> Queue:
    """Unlabelled samples most useful to label next: the current model's uncertainty (newest
    stored class probabilities), at most per_group per source video, k-center greedy over the
    feature vectors (or, without features, the probabilities) within the pool x limit most uncertain."""
    ds = session.get(Dataset, dataset_id)
    schema = _schema(ds)
    classes = list(schema.classes)
    index = {concept(c): k for k, c in enumerate(classes)}
    cond = _unlabelled(ds, schema)
    if schema.emotion_mode == "multi":
        return _uncertain_multi(session, ds, index, len(classes), cond, limit=limit, method=method,
                                per_group=per_group, feature_kind=feature_kind, split=split, pool=pool)
    newest = qi.newest_predictions(session, ds.id, (Prediction.probs,), where=(cond,), split=split,
                                   out_of_sample=False)  # a sample without a label was never fitted
    rows = {sid: qi.prob_row(p, index, len(classes)) for sid, (_, p) in newest.items()}
    ids = np.asarray([s for s in sorted(rows) if rows[s].sum() > 0], dtype=int)
    if len(ids):
        probs = np.vstack([rows[s] for s in ids])
        source, detail = "current model", {"model_versions": dict(Counter(newest[s][0] for s in ids))}
    else:
        unl = [] if _no_features(session, ds.id, feature_kind) else [s for (s,) in _labelled(session, ds.id, cond, split)]
        ids, probs, detail = _cheap_model(session, ds, index, len(classes), unl, feature_kind)
        source = "cheap model"
    if not len(ids):
        return Queue("uncertain", "emotion", [], [], source, detail)
    return _diverse_queue(session, ds, ids, probs, None, source, detail, limit=limit, method=method,
                          per_group=per_group, feature_kind=feature_kind, pool=pool, cond=cond)


def _uncertain_multi(session: Session, ds: Dataset, index: dict[str, int], k: int, cond: Any, *, limit: int,
                     method: str, per_group: int | None, feature_kind: str | None, split: str | None,
                     pool: float) -> Queue:
    """The "uncertain" queue of a multi-label dataset: each category is its own yes/no, so a
    sample is uncertain when its sigmoids sit near their thresholds (core.active_learning.
    multilabel_uncertainty), read from the newest predictions' outputs."""
    newest = qi.newest_predictions(session, ds.id, (Prediction.outputs,), where=(cond,), split=split,
                                   out_of_sample=False)
    ids, rows, scores = [], [], []
    for sid in sorted(newest):
        out = newest[sid][1] or {}
        if not out.get("emotions"):
            continue
        p, t = qi.prob_row(out["emotions"], index, k), np.full(k, 0.5)
        for c, v in (out.get("thresholds") or {}).items():
            if (j := index.get(concept(c))) is not None and v is not None:
                t[j] = float(v)
        ids.append(sid)
        rows.append(p)
        scores.append(float(al.multilabel_uncertainty(p[None, :], t, method=method)[0]))
    versions = dict(Counter(newest[s][0] for s in ids))
    if not ids:
        return Queue("uncertain", "emotions", [], [], "current model",
                     {"note": "no stored multi-label predictions of the unlabelled samples; predict them "
                              "with a multi-label model first"})
    return _diverse_queue(session, ds, np.asarray(ids, dtype=int), np.vstack(rows), np.asarray(scores),
                          "current model", {"model_versions": versions, "multi_label": True}, limit=limit,
                          method=method, per_group=per_group, feature_kind=feature_kind, pool=pool, cond=cond,
                          field="emotions")


def _diverse_queue(session: Session, ds: Dataset, ids: np.ndarray, probs: np.ndarray, scores: np.ndarray | None,
                   source: str, detail: dict[str, Any], *, limit: int, method: str, per_group: int | None,
                   feature_kind: str | None, pool: float, cond: Any, field: str = "emotion") -> Queue:
    """Uncertainty order capped per source video, then k-center greedy diversity (select_batch)."""
    kind, have, x = qi.features(session, ds.id, list(ids), kind=feature_kind)
    feats, lab_x = None, None
    if len(have) == len(ids):
        feats = x
        lab = [s for (s,) in _labelled(session, ds.id, ~cond, None, limit=2000)]
        _, _, lab_x = qi.features(session, ds.id, lab, kind=kind)
        lab_x = lab_x if len(lab_x) else None
    groups = qi.groups(session, list(ids))
    order = al.select_batch(probs, limit, method=method, features=feats if feats is not None else probs,
                            groups=groups, per_group=per_group, pool=pool, labelled_features=lab_x, scores=scores)
    u = al.uncertainty(probs, method=method) if scores is None else scores
    detail.update(uncertainty=method, per_group=per_group, diversity="k-center greedy over "
                  + (f"{kind} features" if feats is not None else "the predicted probabilities"),
                  candidates=len(ids))
    return Queue("uncertain", field, [int(ids[i]) for i in order], [float(u[i]) for i in order], source, detail)
