"""Reviewing stored predictions against current labels: sources, ordering, metrics, V/A pairs.

A source is either a training run's evaluation (predictions with run_id) or a model's stored
predictions without a run (model_version, run_id NULL: `prelabel`, e.g. the pretrained
default on the demo), so a model can be reviewed before anything was trained.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, Select, and_, cast, func, select
from sqlalchemy.orm import Session

from core.metrics import evaluate_predictions
from core.model.prior import prior_note
from core.store.models import Dataset, Prediction, Run, Sample
from core.taxonomy import concept

ORDERS = ("worst", "best", "most confident wrong", "largest V/A error", "random")


@dataclass(frozen=True)
class ReviewSource:
    """Whose predictions, over which dataset; splits = those the predictions were stored for."""
    dataset_id: int
    run_id: int | None
    model_version: str
    splits: tuple[str, ...]
    label: str


def _where(source: ReviewSource, split: str | None) -> list[Any]:
    conds = [Sample.dataset_id == source.dataset_id]
    if source.run_id is not None:
        conds.append(Prediction.run_id == source.run_id)
    else:
        conds += [Prediction.run_id.is_(None), Prediction.model_version == source.model_version]
    if split:
        conds.append(Prediction.split == split)
    return conds


def _latest(source: ReviewSource, split: str | None) -> Select:
    """Newest prediction id per sample of this source (and split)."""
    return (select(func.max(Prediction.id).label("pid"))
            .join(Sample, Sample.id == Prediction.sample_id)
            .where(*_where(source, split)).group_by(Prediction.sample_id))


def review_sources(session: Session) -> list[ReviewSource]:
    """Every run with stored predictions (newest first), then every model's run-less predictions."""
    rows = session.execute(
        select(Sample.dataset_id, Prediction.run_id, Prediction.model_version, Prediction.split)
        .join(Sample, Sample.id == Prediction.sample_id)
        .group_by(Sample.dataset_id, Prediction.run_id, Prediction.model_version, Prediction.split)).all()
    names = dict(session.execute(select(Dataset.id, Dataset.name)).all())
    runs = {r.id: r for r in session.scalars(select(Run).where(
        Run.id.in_({r[1] for r in rows if r[1] is not None})))}
    found: dict[tuple, list[str]] = {}
    for ds, run_id, version, split in rows:
        key = (ds, run_id, None if run_id is not None else version)
        found.setdefault(key, []).append(split or "none")
    out = []
    for (ds, run_id, version), splits in found.items():
        if run_id is not None:
            run = runs.get(run_id)
            label = f"run {run_id}" + (f" · {run.name}" if run and run.name else "")
            version = f"run-{run_id}"
        else:
            label = f"{version} · stored predictions (no training run)"
        out.append(ReviewSource(ds, run_id, version, tuple(sorted(splits)),
                                f"{label} · {names.get(ds, ds)}"))
    return sorted(out, key=lambda s: (s.run_id is None, -(s.run_id or 0), s.label))


def runs_with_predictions(session: Session) -> list[tuple[int, list[str]]]:
    """(run id, splits) of runs that have stored predictions."""
    return [(s.run_id, list(s.splits)) for s in review_sources(session) if s.run_id is not None]


def p_label(probs: dict[str, float] | None, label: str) -> float:
    """The probability a prediction gives a label, matched by concept (a FER model's 'Angry'
    is the dataset's 'Anger')."""
    want = concept(label)
    return float(sum(v or 0.0 for c, v in (probs or {}).items() if concept(c) == want))


def review_rows(session: Session, source: ReviewSource, *, split: str | None = None,
                order: str = "worst", limit: int = 48, offset: int = 0,
                true_emotion: str | None = None, pred_emotion: str | None = None,
                seed: int = 0) -> list[dict[str, Any]]:
    """Samples with their prediction from this source, ordered for review. Stored predictions
    without a loss (prelabel) are ordered by p(current label) for "worst"/"best"."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; one of {', '.join(ORDERS)}")
    latest = _latest(source, split).subquery()
    stmt = (select(Sample, Prediction).join(Prediction, Prediction.sample_id == Sample.id)
            .join(latest, latest.c.pid == Prediction.id))
    if true_emotion is not None:
        stmt = stmt.where(Sample.cur_emotion == true_emotion)
    if pred_emotion is not None:  # any spelling of that class (a FER model says "Angry")
        names = session.scalars(select(Prediction.emotion).join(Sample, Sample.id == Prediction.sample_id)
                                .where(*_where(source, split)).distinct()).all()
        stmt = stmt.where(Prediction.emotion.in_(
            [n for n in names if n and concept(n) == concept(pred_emotion)] or [pred_emotion]))
    wrong = and_(Sample.cur_emotion.is_not(None), Prediction.emotion != Sample.cur_emotion)
    if order in ("worst", "best") and source.run_id is None:  # no loss stored: p(label) decides
        stmt = stmt.where(Sample.cur_emotion.is_not(None))
        cand = session.execute(stmt.with_only_columns(Sample.id, Sample.cur_emotion, Prediction.probs)).all()
        cand.sort(key=lambda r: (p_label(r[2], r[1]), r[0]), reverse=order == "best")
        ids = [r[0] for r in cand[offset:offset + limit]]
        rank = {sid: i for i, sid in enumerate(ids)}
        rows = sorted(session.execute(stmt.where(Sample.id.in_(ids))).all(), key=lambda r: rank[r[0].id])
    else:
        if order == "worst":
            stmt = stmt.where(Prediction.loss.is_not(None)).order_by(Prediction.loss.desc())
        elif order == "best":
            stmt = stmt.where(Prediction.loss.is_not(None)).order_by(Prediction.loss)
        elif order == "most confident wrong":
            stmt = stmt.where(wrong).order_by(Prediction.confidence.desc())
        elif order == "largest V/A error":
            err = ((Prediction.valence - Sample.cur_valence) * (Prediction.valence - Sample.cur_valence)
                   + (Prediction.arousal - Sample.cur_arousal) * (Prediction.arousal - Sample.cur_arousal))
            stmt = stmt.where(Sample.cur_valence.is_not(None)).order_by(err.desc())
        else:
            # a seeded shuffle; BIGINT so PostgreSQL does not overflow int4 in the product
            stmt = stmt.order_by((cast(Sample.id, BigInteger) * 2654435761 + seed) % 1000003)
        rows = session.execute(stmt.limit(limit).offset(offset)).all()
    return [{"id": s.id, "crop_path": s.crop_path, "emotion": s.cur_emotion, "valence": s.cur_valence,
             "arousal": s.cur_arousal, "stress": s.cur_stress, "pred_emotion": p.emotion,
             "confidence": p.confidence, "pred_valence": p.valence, "pred_arousal": p.arousal,
             "pred_stress": p.stress, "loss": p.loss, "flags": p.flags or {}} for s, p in rows]


def review_arrays(session: Session, source: ReviewSource, *, split: str | None = None
                  ) -> dict[str, np.ndarray]:
    """Current labels and this source's predictions as aligned arrays (for confusion, metrics, plots)."""
    latest = _latest(source, split).subquery()
    rows = session.execute(
        select(Sample.id, Sample.cur_emotion, Prediction.emotion, Sample.cur_valence, Sample.cur_arousal,
               Prediction.valence, Prediction.arousal, Sample.cur_stress, Prediction.stress)
        .join(Prediction, Prediction.sample_id == Sample.id).join(latest, latest.c.pid == Prediction.id)
        .order_by(Sample.id)).all()
    cols = list(zip(*rows)) if rows else [[]] * 9

    def f(c: Any) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in c], dtype=float)

    return {"id": np.array(cols[0], dtype=int), "true": np.array(cols[1], dtype=object),
            "pred": np.array(cols[2], dtype=object), "valence": f(cols[3]), "arousal": f(cols[4]),
            "pred_valence": f(cols[5]), "pred_arousal": f(cols[6]), "stress": f(cols[7]),
            "pred_stress": f(cols[8])}


def review_metrics(arrays: dict[str, np.ndarray], classes: list[str]) -> dict[str, Any]:
    """core.metrics.evaluate_predictions of review_arrays (the metrics the evaluate verb
    reports), each task over the samples labelled for it. Predicted names are matched to
    `classes` by concept (any spelling); a class only the model knows is appended to
    result["emotion"]["classes"] (a row of zeros in the confusion matrix)."""
    names = list(classes)
    code = {concept(c): i for i, c in enumerate(names)}
    for p in arrays["pred"]:
        if p is not None and concept(p) not in code:
            code[concept(p)] = len(names)
            names.append(p)
    true = np.array([code.get(concept(t), -1) if t else -1 for t in arrays["true"]], dtype=np.int64)
    pred = np.array([code.get(concept(p), 0) if p else 0 for p in arrays["pred"]], dtype=np.int64)
    return evaluate_predictions(
        emotion_true=true, emotion_pred=pred, classes=names,
        valence_true=arrays["valence"], valence_pred=np.nan_to_num(arrays["pred_valence"]),
        arousal_true=arrays["arousal"], arousal_pred=np.nan_to_num(arrays["pred_arousal"]),
        stress_true=arrays["stress"], stress_pred=np.nan_to_num(arrays["pred_stress"], nan=0.5))


def review_summary(session: Session, source: ReviewSource, *, split: str | None = None) -> dict[str, Any]:
    """What the Review page shows besides the sample grid: aligned arrays, review_metrics over
    the dataset's classes, the count, and the head flags with the prior note."""
    classes = list(session.get(Dataset, source.dataset_id).taxonomy["classes"])
    arrays = review_arrays(session, source, split=split)
    flags = session.scalar(select(Prediction.flags).join(Sample, Sample.id == Prediction.sample_id)
                           .where(*_where(source, split)).order_by(Prediction.id.desc()).limit(1)) or {}
    return {"arrays": arrays, "metrics": review_metrics(arrays, classes), "classes": classes,
            "n": len(arrays["id"]), "flags": flags, "prior_note": prior_note(flags)}
